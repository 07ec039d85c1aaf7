package bench

import (
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what bench makes of its argument and flags, without
// running it; --messages is still read, as --count, with a warning.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	for _, count := range []string{"--count", "--messages"} {
		f, _, errOut := cmdtest.Factory("")
		args := []string{"/queue/b", count, "500", "--size", "10", "--producers", "2", "--consumers", "3", "--receipt", "each", "--duration", "2s",
			"--rate", "100/s", "--warmup", "500ms", "--histogram", "h.hlog", "--fail-if", "p99>20ms", "--embedded", "-o", "json"}
		got := cmdtest.Parse(t, f, NewCmd, args...)
		if got.dest != "/queue/b" || got.messages != 500 || got.size != 10 || got.producers != 2 || got.consumers != 3 ||
			got.receipt != "each" || got.duration != 2*time.Second || !got.embedded || got.output != "json" ||
			got.rate != "100/s" || got.warmup != 500*time.Millisecond || got.histogram != "h.hlog" || got.failIf != "p99>20ms" {
			t.Errorf("%s: options %+v", count, got)
		}
		if deprecated := count == "--messages"; deprecated != (errOut.Len() > 0) {
			t.Errorf("%s: stderr %q", count, errOut)
		}
	}
}
