package subscribe

import (
	"slices"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what subscribe makes of its arguments and flags,
// without running it: no --prefetch is -1 (chosen from --count), and an
// explicit empty --delimiter is told from none.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	o := cmdtest.Parse(t, nil, NewCmd, "/queue/a", "/queue/b", "--count", "5", "--idle", "2s", "--ack", "client", "--exec", "cat", "--on-error", "nack", "--dedupe", "msg-id")
	if !slices.Equal(o.dests, []string{"/queue/a", "/queue/b"}) || o.Count != 5 || o.Idle != 2*time.Second || o.ack != "client" ||
		o.exec != "cat" || o.onError != "nack" || o.dedupe != "msg-id" || o.prefetch != -1 || o.delimiterSet {
		t.Errorf("options %+v", o)
	}
	o = cmdtest.Parse(t, nil, NewCmd, "/queue/a", "--prefetch", "10", "-D", "")
	if o.prefetch != 10 || !o.delimiterSet || o.delimiter != "" || o.ack != "client-individual" {
		t.Errorf("--prefetch 10 -D '': options %+v", o)
	}
}
