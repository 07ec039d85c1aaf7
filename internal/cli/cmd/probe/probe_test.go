package probe

import (
	"context"
	"testing"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what failover-probe makes of its argument and flags,
// without running it; a --schedule below 1 is refused before anything
// runs.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, nil, NewCmd, "failover:(tcp://a:1,tcp://b:2)", "--schedule", "6", "--seed", "7", "--reconnect", "-o", "json")
	if got.uri != "failover:(tcp://a:1,tcp://b:2)" || got.schedule != 6 || got.seed != 7 || !got.seeded || !got.reconnect || got.output != "json" {
		t.Errorf("options %+v", got)
	}

	f, _, _ := cmdtest.Factory("")
	ran := false
	cmd := NewCmd(f, func(context.Context, *Options) error { ran = true; return nil })
	cmd.SetArgs([]string{"--schedule", "0"})
	if err := cmd.Execute(); err == nil || ran {
		t.Errorf("--schedule 0: %v, ran %v; want a usage error before running", err, ran)
	}
}
