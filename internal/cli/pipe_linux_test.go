package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// TestPipeReaderExitsEarly: subscribe writes into a pipe whose reader
// takes two messages' bytes and exits ('| head'). Only those two are
// acknowledged; what still sat in the pipe goes back to the queue.
func TestPipeReaderExitsEarly(t *testing.T) {
	b := broker.New(broker.Config{Addr: "127.0.0.1:0"})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Setenv("STOMPEST_SERVER", "tcp://"+b.Addr())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var lines bytes.Buffer
	for i := range 200 {
		fmt.Fprintf(&lines, "m%03d\n", i)
	}
	var errOut bytes.Buffer
	if code := run([]string{"send", "/queue/pipe", "--lines"}, cmdutil.Streams{In: &lines, Out: io.Discard, ErrOut: &errOut}, nil); code != 0 {
		t.Fatalf("send: %d %s", code, errOut.String())
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan string, 1)
	go func() {
		buf := make([]byte, 10) // two messages: "m000\nm001\n"
		io.ReadFull(r, buf)
		r.Close()
		read <- string(buf)
	}()
	code := run([]string{"subscribe", "/queue/pipe", "--idle", "300ms"}, cmdutil.Streams{In: bytes.NewReader(nil), Out: w, ErrOut: &errOut}, nil)
	w.Close()
	if code != 0 {
		t.Fatalf("subscribe: exit %d %s", code, errOut.String())
	}
	if got := <-read; got != "m000\nm001\n" {
		t.Fatalf("the reader read %q", got)
	}
	if n := b.QueueDepth("/queue/pipe"); n != 198 {
		t.Errorf("%d messages left, want 198: only the two the reader read may be acknowledged", n)
	}
}
