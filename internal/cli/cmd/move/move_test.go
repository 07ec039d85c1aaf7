package move

import (
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what move makes of its arguments and flags, without
// running it.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, nil, NewCmd, "/queue/DLQ", "/queue/orders", "--all", "--keep-headers", "--timeout", "1m")
	if got.src != "/queue/DLQ" || got.dest != "/queue/orders" || !got.sel.All || !got.keepHeaders ||
		got.stop.Timeout != time.Minute || got.stop.Idle != time.Second {
		t.Errorf("options %+v", got)
	}
}
