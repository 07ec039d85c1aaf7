package send

import (
	"slices"
	"testing"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what send makes of its arguments and flags, without
// running it.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, nil, NewCmd, "/queue/a", "--lines", "-H", "k:v", "-H", "k:w", "--receipt", "each", "--transaction",
		"--count", "3", "--rate", "10/s", "--persistent=false", "--id-header", "msg-id")
	if !slices.Equal(got.args, []string{"/queue/a"}) || !got.lines || !slices.Equal(got.headers, []string{"k:v", "k:w"}) ||
		got.receipt != "each" || !got.transaction || got.count != 3 || got.rate != "10/s" || got.persistent ||
		got.idHeader != "msg-id" {
		t.Errorf("options %+v", got)
	}
	got = cmdtest.Parse(t, nil, NewCmd, "--input", "jsonl", "--replay", "--speed", "2.5")
	if got.input != "jsonl" || !got.replay || got.speed != 2.5 || !got.speedSet {
		t.Errorf("--replay: options %+v", got)
	}
	got = cmdtest.Parse(t, nil, NewCmd, "/queue/a", "hello")
	if !slices.Equal(got.args, []string{"/queue/a", "hello"}) || got.receipt != "last" || got.count != 1 || !got.persistent || got.transaction ||
		got.replay || got.speed != 1 || got.speedSet {
		t.Errorf("defaults: options %+v", got)
	}
}
