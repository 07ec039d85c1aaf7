package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what bench makes of its argument and flags, without
// running it; --messages is still read, as --count.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"/queue/b", "--count", "500", "--size", "10", "--producers", "2", "--consumers", "3", "--receipt", "each", "--duration", "2s", "--embedded", "-o", "json"},
		{"/queue/b", "--messages", "500", "--size", "10", "--producers", "2", "--consumers", "3", "--receipt", "each", "--duration", "2s", "--embedded", "-o", "json"},
	} {
		f, _, errOut := cmdtest.Factory("")
		var got *Options
		cmd := NewCmd(f, func(_ context.Context, o *Options) error {
			got = o
			return nil
		})
		cmdtest.Parse(t, cmd, args...)
		if got.dest != "/queue/b" || got.messages != 500 || got.size != 10 || got.producers != 2 || got.consumers != 3 ||
			got.receipt != "each" || got.duration != 2*time.Second || !got.embedded || got.output != "json" {
			t.Errorf("%q: options %+v", args, got)
		}
		if deprecated := args[1] == "--messages"; deprecated != (errOut.Len() > 0) {
			t.Errorf("%q: stderr %q", args, errOut)
		}
	}
}
