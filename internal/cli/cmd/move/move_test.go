package move

import (
	"context"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what move makes of its arguments and flags, without
// running it.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	f, _, _ := cmdtest.Factory("")
	var got *Options
	cmd := NewCmd(f, func(_ context.Context, o *Options) error {
		got = o
		return nil
	})
	cmdtest.Parse(t, cmd, "/queue/DLQ", "/queue/orders", "--all", "--keep-headers", "--timeout", "1m")
	if got.src != "/queue/DLQ" || got.dest != "/queue/orders" || !got.sel.All || !got.keepHeaders ||
		got.stop.Timeout != time.Minute || got.stop.Idle != time.Second {
		t.Errorf("options %+v", got)
	}
}
