//go:build unix

package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/protocol"
)

// TestInterrupted checks that SIGINT and SIGTERM end a subscribe cleanly
// with 130 and 143: what was written is acknowledged, the rest handed back.
// It signals the test process itself, so it does not run in parallel.
func TestInterrupted(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, cmdutil.ExitSIGINT}, {syscall.SIGTERM, cmdutil.ExitSIGTERM}} {
		acked := make(chan struct{}, 1)
		b := broker.New(broker.Config{Addr: "127.0.0.1:0", OnFrame: func(f *protocol.Frame) {
			if f.Command == protocol.CmdAck {
				select {
				case acked <- struct{}{}:
				default:
				}
			}
		}})
		serve(t, b, false)
		var out, errOut bytes.Buffer
		s := cmdutil.Streams{In: bytes.NewReader(nil), Out: &out, ErrOut: &errOut}
		if code := run([]string{"send", "/queue/sig", "one"}, s, nil); code != 0 {
			t.Fatalf("send: %d %s", code, errOut.String())
		}
		done := make(chan int, 1)
		go func() { done <- run([]string{"subscribe", "/queue/sig", "/queue/other"}, s, nil) }()
		select {
		case <-acked:
		case <-time.After(10 * time.Second):
			t.Fatal("the message was not acknowledged")
		}
		syscall.Kill(os.Getpid(), tc.sig)
		code := exitOf(t, done, fmt.Sprintf("%v: subscribe did not end", tc.sig))
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.sig, code, tc.code, errOut.String())
		}
		if out.String() != "one\n" {
			t.Errorf("%v: output %q", tc.sig, out.String())
		}
		if n := b.QueueDepth("/queue/sig"); n != 0 {
			t.Errorf("%v: %d messages left: the written one was not acknowledged", tc.sig, n)
		}
	}
}

// syncBuffer is a buffer that one goroutine writes while another waits for
// text to appear in it.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{written: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.written <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until s was written, or fails the test after a while.
func (b *syncBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for !strings.Contains(b.String(), s) {
		select {
		case <-b.written:
		case <-timeout:
			t.Fatalf("%q never came; got %q", s, b.String())
		}
	}
}

// TestInterruptedExecBatch sends SIGTERM to subscribe --exec while a
// handler is running: no new handler starts, the running one finishes and
// its message is acknowledged, the messages not handled stay on the queue,
// and the exit code is 143.
func TestInterruptedExecBatch(t *testing.T) {
	acks := make(chan string, 10)
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", OnFrame: func(f *protocol.Frame) {
		if f.Command == protocol.CmdAck {
			acks <- f.Header(protocol.HdrID)
		}
	}})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STOMPEST_SERVER", "tcp://"+b.Addr())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("FIFO", fifo)
	for _, body := range []string{"fast", "slow", "rest-1", "rest-2"} {
		var errOut bytes.Buffer
		s := cmdutil.Streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: &errOut}
		if code := run([]string{"send", "/queue/batch", body, "-H", "kind:" + body}, s, nil); code != 0 {
			t.Fatalf("send: %d %s", code, errOut.String())
		}
	}

	out, errOut := newSyncBuffer(), newSyncBuffer()
	s := cmdutil.Streams{In: bytes.NewReader(nil), Out: out, ErrOut: errOut}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-v", "subscribe", "/queue/batch", "--concurrency", "1",
			"--exec", `cat; [ "$STOMP_HEADER_KIND" != slow ] || read x < "$FIFO"`}, s, nil)
	}()
	// Opening the FIFO returns once the slow handler opened it: it is in
	// flight, and the fast one was handled before it.
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		opened <- f
	}()
	var release *os.File
	select {
	case release = <-opened:
	case <-time.After(10 * time.Second):
		t.Fatalf("the slow handler never started; stderr %q", errOut.String())
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	errOut.waitFor(t, "stopping after what is in flight")
	release.WriteString("go\n")
	release.Close()

	code := exitOf(t, done, "subscribe did not end")
	if code != cmdutil.ExitSIGTERM {
		t.Errorf("exit %d, want %d (%s)", code, cmdutil.ExitSIGTERM, errOut.String())
	}
	if out.String() != "fastslow" {
		t.Errorf("handlers wrote %q, want fastslow: only those two ran", out.String())
	}
	if len(acks) != 2 {
		t.Errorf("%d ACKs, want 2: the finished handlers' messages", len(acks))
	}
	var left, leftErr bytes.Buffer
	s = cmdutil.Streams{In: bytes.NewReader(nil), Out: &left, ErrOut: &leftErr}
	if code := run([]string{"subscribe", "/queue/batch", "--count", "2", "--timeout", "10s"}, s, nil); code != 0 || left.String() != "rest-1\nrest-2\n" {
		t.Errorf("left on the queue: %q (exit %d, %s), want the two not handled", left.String(), code, leftErr.String())
	}
}

// TestInterruptedTransaction sends SIGTERM to a transaction batch while it
// waits inside the transaction: it is aborted, nothing of it takes effect,
// and the exit code is 143.
func TestInterruptedTransaction(t *testing.T) {
	waiting := make(chan struct{}, 1)
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", Record: true, OnFrame: func(f *protocol.Frame) {
		if f.Command == protocol.CmdSubscribe {
			waiting <- struct{}{}
		}
	}})
	serve(t, b, false)
	batch := `{"destination":"/queue/tx-out","body":"held"}` + "\n" +
		`{"op":"ack","destination":"/queue/tx-empty","count":1}` + "\n"
	var out bytes.Buffer
	errOut := newSyncBuffer()
	s := cmdutil.Streams{In: strings.NewReader(batch), Out: &out, ErrOut: errOut}
	done := make(chan int, 1)
	go func() { done <- run([]string{"transaction", "-", "--wait", "1m"}, s, nil) }()
	select {
	case <-waiting:
	case <-time.After(10 * time.Second):
		t.Fatalf("the batch never reached its ack; stderr %q", errOut.String())
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	code := exitOf(t, done, "transaction did not end")
	if code != cmdutil.ExitSIGTERM {
		t.Errorf("exit %d, want %d (%s)", code, cmdutil.ExitSIGTERM, errOut.String())
	}
	got := txCommands(b, 0)
	if got != "BEGIN SEND ABORT" {
		t.Errorf("the broker got %s, want BEGIN SEND ABORT", got)
	}
	if n := b.QueueDepth("/queue/tx-out"); n != 0 {
		t.Errorf("%d messages on /queue/tx-out: the aborted send took effect", n)
	}
	if want := "interrupted by SIGTERM: transaction aborted: nothing of it was committed (1 of 2 operations done)"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q, want it to say %q", errOut.String(), want)
	}
}

// TestSignalWhileWaitingOnInput signals send while it waits for the next
// line of a pipe that stays open ('tail -f log | stompest send --lines'):
// the first signal stops the read at once, what was sent is confirmed and
// reported, an open transaction is aborted before exit, and the exit code
// is the signal's.
func TestSignalWhileWaitingOnInput(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		tx   bool
	}{
		{syscall.SIGINT, cmdutil.ExitSIGINT, false},
		{syscall.SIGTERM, cmdutil.ExitSIGTERM, false},
		{syscall.SIGHUP, cmdutil.ExitSIGHUP, false},
		{syscall.SIGTERM, cmdutil.ExitSIGTERM, true},
	} {
		sends := make(chan struct{}, 10)
		b := broker.New(broker.Config{Addr: "127.0.0.1:0", Record: true, OnFrame: func(f *protocol.Frame) {
			if f.Command == protocol.CmdSend {
				sends <- struct{}{}
			}
		}})
		serve(t, b, false)
		in, feed := io.Pipe()
		errOut := newSyncBuffer()
		s := cmdutil.Streams{In: in, Out: io.Discard, ErrOut: errOut}
		args := []string{"send", "/queue/tail", "--lines"}
		if tc.tx {
			args = append(args, "--transaction")
		}
		done := make(chan int, 1)
		go func() { done <- run(args, s, nil) }()
		go feed.Write([]byte("one\ntwo\n"))
		for range 2 {
			select {
			case <-sends:
			case <-time.After(10 * time.Second):
				t.Fatalf("%v: the lines never reached the broker; stderr %q", tc.sig, errOut.String())
			}
		}
		syscall.Kill(os.Getpid(), tc.sig)
		code := exitOf(t, done, fmt.Sprintf("%v (transaction %v): send still waits for input after the signal", tc.sig, tc.tx))
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.sig, code, tc.code, errOut.String())
		}
		feed.Close()
		name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"}[tc.sig]
		if tc.tx {
			got := txCommands(b, 0)
			if got != "BEGIN SEND SEND ABORT" {
				t.Errorf("%v: the broker got %s, want BEGIN SEND SEND ABORT", tc.sig, got)
			}
			if n := b.QueueDepth("/queue/tail"); n != 0 {
				t.Errorf("%v: %d messages delivered from an aborted transaction", tc.sig, n)
			}
			if want := "interrupted by " + name + ": transaction aborted"; !strings.Contains(errOut.String(), want) {
				t.Errorf("%v: stderr %q, want %q", tc.sig, errOut.String(), want)
			}
		} else {
			if n := b.QueueDepth("/queue/tail"); n != 2 {
				t.Errorf("%v: %d messages queued, want 2", tc.sig, n)
			}
			if want := "interrupted by " + name + ": 2 of 2 confirmed"; !strings.Contains(errOut.String(), want) {
				t.Errorf("%v: stderr %q, want %q", tc.sig, errOut.String(), want)
			}
		}
	}
}

// waitCount waits until s was written n times, or fails the test after a
// while.
func (b *syncBuffer) waitCount(t *testing.T, s string, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for strings.Count(b.String(), s) < n {
		select {
		case <-b.written:
		case <-timeout:
			t.Fatalf("%q never came %d times; got %q", s, n, b.String())
		}
	}
}

// TestSignalAfterReconnect signals send on a failover URI after the
// connection that carried a SEND was lost, before the SEND was sent
// again: the DISCONNECT then goes on the new connection, and its receipt
// confirms nothing sent on the old one. The message is reported as not
// confirmed, exit 75.
func TestSignalAfterReconnect(t *testing.T) {
	b := broker.New(broker.Config{Addr: "127.0.0.1:0"})
	serve(t, b, true)
	b.DropOnceAfter(1) // the first SEND is not taken: the connection closes at it
	errOut := newSyncBuffer()
	s := cmdutil.Streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: errOut}
	done := make(chan int, 1)
	// The second message waits for --rate: the signal comes then.
	go func() {
		done <- run([]string{"-v", "send", "/queue/lost", "x", "--count", "2", "--rate", "0.1/s", "--receipt", "each"}, s, nil)
	}()
	errOut.waitCount(t, "connected to ", 2) // the reconnect is done
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	code := exitOf(t, done, "send did not end")
	if code != cmdutil.ExitTempFail {
		t.Errorf("exit %d, want %d (%s)", code, cmdutil.ExitTempFail, errOut.String())
	}
	if n := b.QueueDepth("/queue/lost"); n != 0 {
		t.Fatalf("the broker holds %d messages: the SEND was not lost", n)
	}
	if want := "interrupted by SIGTERM: 0 of 1 confirmed"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q, want it to say %q", errOut.String(), want)
	}
}

// TestSignalWhileCommitting signals send --transaction, transaction and
// move after their COMMIT was sent, before its receipt came. A COMMIT in
// flight is waited for within --disconnect-timeout: when its receipt comes
// in that time the command reports what was committed and exits with the
// signal's code; when it does not, the broker may have committed, so the
// outcome is reported unknown (exit 75), never as aborted, and no ABORT
// follows the COMMIT.
func TestSignalWhileCommitting(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		queue     string
		committed string // what stderr says when the receipt comes in time
	}{
		{[]string{"send", "/queue/txc", "x", "--count", "2", "--transaction"}, "/queue/txc", "2 of 2 confirmed (committed)"},
		{[]string{"transaction", "-"}, "/queue/txc", "committed 2 operations"},
		{[]string{"move", "/queue/src", "/queue/txc", "--count", "1"}, "/queue/txc", "moved 1 message"},
	} {
		for _, late := range []bool{false, true} {
			name := fmt.Sprintf("%s/late=%v", tc.args[0], late)
			committing := make(chan struct{}, 1)
			release := make(chan struct{})
			b := broker.New(broker.Config{Addr: "127.0.0.1:0", Record: true, OnFrame: func(f *protocol.Frame) {
				if f.Command == protocol.CmdCommit {
					committing <- struct{}{}
					<-release
				}
			}})
			serve(t, b, false)
			if tc.args[0] == "move" {
				if code := run([]string{"send", "/queue/src", "x"}, cmdutil.Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, nil); code != cmdutil.ExitOK {
					t.Fatalf("send to /queue/src: exit %d", code)
				}
			}
			seeded := len(b.Frames())
			batch := `{"destination":"/queue/txc","body":"x"}` + "\n" + `{"destination":"/queue/txc","body":"x"}` + "\n"
			errOut := newSyncBuffer()
			out := newSyncBuffer()
			s := cmdutil.Streams{In: strings.NewReader(batch), Out: out, ErrOut: errOut}
			done := make(chan int, 1)
			args := append([]string{"-v", "--trace", "--disconnect-timeout", "2s"}, tc.args...)
			go func() { done <- run(args, s, nil) }()
			select {
			case <-committing:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no COMMIT came; stderr %q", name, errOut.String())
			}
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			errOut.waitFor(t, "stopping after what is in flight")
			if late {
				// The receipt waits until the client gave up on it.
				errOut.waitFor(t, ">>> DISCONNECT")
			}
			close(release)
			var code int
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s did not end", name)
			}
			all := errOut.String() + out.String()
			if late {
				if code != cmdutil.ExitTempFail {
					t.Errorf("%s: exit %d, want %d (%s)", name, code, cmdutil.ExitTempFail, all)
				}
				if !strings.Contains(all, "outcome unknown") && !strings.Contains(all, "may now be in both") {
					t.Errorf("%s: stderr %q, want it to say the outcome is unknown", name, all)
				}
			} else {
				if code != cmdutil.ExitSIGTERM {
					t.Errorf("%s: exit %d, want %d (%s)", name, code, cmdutil.ExitSIGTERM, all)
				}
				if !strings.Contains(all, tc.committed) {
					t.Errorf("%s: output %q, want it to say %q", name, all, tc.committed)
				}
			}
			if strings.Contains(all, "nothing of") {
				t.Errorf("%s: stderr %q says nothing was committed", name, all)
			}
			got := txCommands(b, seeded)
			want := "BEGIN SEND SEND COMMIT"
			if tc.args[0] == "move" {
				want = "BEGIN SEND COMMIT"
			}
			if got != want {
				t.Errorf("%s: the broker got %s, want %s", name, got, want)
			}
			if n, want := b.QueueDepth(tc.queue), strings.Count(want, "SEND"); n != want {
				t.Errorf("%s: %d messages queued, want the %d committed", name, n, want)
			}
			b.Close()
		}
	}
}

// TestTransactionLostOnReconnect cuts the connection of a send
// --transaction on a failover URI after its BEGIN: the client reconnects,
// but the transaction went with the old connection. Whether the next
// line or the end of input comes after the reconnect, send reports that
// nothing was committed and exits 75; nothing of the transaction goes on
// the new connection.
func TestTransactionLostOnReconnect(t *testing.T) {
	for _, next := range []string{"two\n", ""} {
		b := broker.New(broker.Config{Addr: "127.0.0.1:0", Record: true})
		serve(t, b, true)
		b.DropOnceAfter(2) // CONNECT and BEGIN pass; the connection closes at the first SEND
		in, feed := io.Pipe()
		errOut := newSyncBuffer()
		s := cmdutil.Streams{In: in, Out: io.Discard, ErrOut: errOut}
		done := make(chan int, 1)
		go func() {
			done <- run([]string{"-v", "send", "/queue/txl", "--lines", "--transaction", "--receipt", "each"}, s, nil)
		}()
		go feed.Write([]byte("one\n"))
		errOut.waitCount(t, "connected to ", 2) // the reconnect is done
		go func() {
			feed.Write([]byte(next))
			feed.Close()
		}()
		code := exitOf(t, done, fmt.Sprintf("next %q: send did not end", next))
		if code != cmdutil.ExitTempFail {
			t.Errorf("next %q: exit %d, want %d (%s)", next, code, cmdutil.ExitTempFail, errOut.String())
		}
		if want := "nothing of 1 committed"; !strings.Contains(errOut.String(), want) {
			t.Errorf("next %q: stderr %q, want it to say %q", next, errOut.String(), want)
		}
		var after []string // the frames of the second connection
		conns := 0
		for _, f := range b.Frames() {
			if f.Command == protocol.CmdConnect || f.Command == protocol.CmdStomp {
				conns++
			} else if conns == 2 {
				after = append(after, string(f.Command))
			}
		}
		if got := strings.Join(after, " "); got != "DISCONNECT" {
			t.Errorf("next %q: the new connection got %s, want DISCONNECT only", next, got)
		}
		if n := b.QueueDepth("/queue/txl"); n != 0 {
			t.Errorf("next %q: %d messages queued, want none", next, n)
		}
	}
}

// exitOf waits for the exit code of a run; after 10 s it fails t, saying
// what did not end.
func exitOf(t *testing.T, done <-chan int, what string) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(10 * time.Second):
		t.Fatal(what)
	}
	return 0
}

// txCommands lists the BEGIN, SEND, COMMIT and ABORT frames b got, from
// frame number from on.
func txCommands(b *broker.Broker, from int) string {
	var cmds []string
	for _, f := range b.Frames()[from:] {
		switch f.Command {
		case protocol.CmdBegin, protocol.CmdSend, protocol.CmdCommit, protocol.CmdAbort:
			cmds = append(cmds, string(f.Command))
		}
	}
	return strings.Join(cmds, " ")
}
