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
	got = cmdtest.Parse(t, nil, NewCmd, "/queue/DLQ", "--to-origin", "--max-moves", "3", "--filter", "body.x > 1")
	if got.src != "/queue/DLQ" || got.dest != "" || !got.toOrigin || got.maxMoves != 3 || got.sel.Filter != "body.x > 1" || got.batch != 100 {
		t.Errorf("--to-origin: options %+v", got)
	}
}
