package settle

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what ack and nack make of their arguments and flags,
// without running them.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	for _, nack := range []bool{false, true} {
		f, _, _ := cmdtest.Factory("")
		var got *Options
		cmd := NewCmd(f, nack, func(_ context.Context, o *Options) error {
			got = o
			return nil
		})
		cmdtest.Parse(t, cmd, "/queue/a", "--match", "k=v", "--message-id", "m1", "--message-id", "m2", "--idle", "3s", "-o", "jsonl")
		if want := map[bool]string{false: "ack", true: "nack"}[nack]; cmd.Name() != want {
			t.Errorf("nack=%v: the command is %s, want %s", nack, cmd.Name(), want)
		}
		if got.nack != nack || got.dest != "/queue/a" || !slices.Equal(got.sel.Match, []string{"k=v"}) ||
			!slices.Equal(got.sel.MessageIDs, []string{"m1", "m2"}) || got.stop.Idle != 3*time.Second || got.out.Format != "jsonl" {
			t.Errorf("nack=%v: options %+v", nack, got)
		}
		if got.Factory != f {
			t.Error("the options do not carry the factory")
		}
	}
}
