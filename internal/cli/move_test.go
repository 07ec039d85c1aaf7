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

// TestMoveBatches moves 2057 messages with --batch 100 and reads the frames
// the broker got: every transaction holds 1 to 100 messages, each sent to
// the destination and acknowledged from the source in it, and ends with
// one COMMIT; all 2057 are moved, none is left or doubled.
func TestMoveBatches(t *testing.T) {
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", Record: true})
	serve(t, b, false)
	var lines strings.Builder
	for i := range 2057 {
		fmt.Fprintf(&lines, "m%d %s\n", i, strings.Repeat("x", 100))
	}
	var errOut bytes.Buffer
	s := cmdutil.Streams{In: strings.NewReader(lines.String()), Out: &bytes.Buffer{}, ErrOut: &errOut}
	if code := run([]string{"send", "/queue/src", "--lines"}, s, nil); code != 0 {
		t.Fatalf("send: exit %d: %s", code, errOut.String())
	}
	from := len(b.Frames())
	if code := run([]string{"move", "/queue/src", "/queue/dst", "--all", "--batch", "100", "--idle", "300ms"}, s, nil); code != 0 {
		t.Fatalf("move: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "moved 2057 messages") {
		t.Errorf("stderr %q, want it to say 2057 moved", errOut.String())
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
		if tx == "" || n < 1 || n > 100 || acks[tx] != n || commits[tx] != 1 {
			t.Errorf("transaction %q: %d SENDs, %d ACKs, %d COMMITs; want 1-100 of each of the first two, the same number, and one COMMIT", tx, n, acks[tx], commits[tx])
		}
		total += n
	}
	// All were queued before move began: a batch is not cut short while
	// the reader parses frames the socket holds (21 transactions; a
	// scheduler's hiccup of over 5 ms may cut one or two).
	if total != 2057 || len(sends) > 23 || len(commits) != len(sends) {
		t.Errorf("%d messages sent in %d transactions with %d COMMITs, want 2057 in 21-23", total, len(sends), len(commits))
	}
	if src, dst := b.QueueDepth("/queue/src"), b.QueueDepth("/queue/dst"); src != 0 || dst != 2057 {
		t.Errorf("source holds %d, destination %d; want 0 and 2057", src, dst)
	}
}
