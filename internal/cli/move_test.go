package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/protocol"
)

// TestMoveBatches moves 57 messages with --batch 10 and reads the frames
// the broker got: every transaction holds 1 to 10 messages, each sent to
// the destination and acknowledged from the source in it, and ends with
// one COMMIT; all 57 are moved, none is left or doubled.
func TestMoveBatches(t *testing.T) {
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", Record: true})
	serve(t, b, false)
	var lines strings.Builder
	for i := range 57 {
		fmt.Fprintf(&lines, "m%d\n", i)
	}
	var errOut bytes.Buffer
	s := cmdutil.Streams{In: strings.NewReader(lines.String()), Out: &bytes.Buffer{}, ErrOut: &errOut}
	if code := run([]string{"send", "/queue/src", "--lines"}, s, nil); code != 0 {
		t.Fatalf("send: exit %d: %s", code, errOut.String())
	}
	from := len(b.Frames())
	if code := run([]string{"move", "/queue/src", "/queue/dst", "--all", "--batch", "10", "--idle", "300ms"}, s, nil); code != 0 {
		t.Fatalf("move: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "moved 57 messages") {
		t.Errorf("stderr %q, want it to say 57 moved", errOut.String())
	}
	sends, acks, commits := map[string]int{}, map[string]int{}, map[string]int{}
	for _, f := range b.Frames()[from:] {
		tx := f.Header(protocol.HdrTransaction)
		switch f.Command {
		case protocol.CmdSend:
			sends[tx]++
		case protocol.CmdAck:
			acks[tx]++
		case protocol.CmdCommit:
			commits[tx]++
		case protocol.CmdAbort:
			t.Errorf("an ABORT of %s", tx)
		}
	}
	total := 0
	for tx, n := range sends {
		if tx == "" || n < 1 || n > 10 || acks[tx] != n || commits[tx] != 1 {
			t.Errorf("transaction %q: %d SENDs, %d ACKs, %d COMMITs; want 1-10 of each of the first two, the same number, and one COMMIT", tx, n, acks[tx], commits[tx])
		}
		total += n
	}
	if total != 57 || len(commits) != len(sends) {
		t.Errorf("%d messages sent in %d transactions with %d COMMITs, want 57", total, len(sends), len(commits))
	}
	if src, dst := b.QueueDepth("/queue/src"), b.QueueDepth("/queue/dst"); src != 0 || dst != 57 {
		t.Errorf("source holds %d, destination %d; want 0 and 57", src, dst)
	}
}
