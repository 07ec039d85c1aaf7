package campaign

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// sink is a TCP server that keeps what each connection sent it; with out,
// it writes out to each connection once it read the first byte (so that
// the client's dial is complete before anything can reset it).
type sink struct {
	ln  net.Listener
	got chan []byte // what one connection sent, when it ended
}

func newSink(t *testing.T, out []byte) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln, got: make(chan []byte, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if len(out) > 0 {
					if _, err := c.Read(make([]byte, 1)); err != nil {
						s.got <- nil
						return
					}
					c.Write(out)
				}
				b, _ := io.ReadAll(c)
				s.got <- b
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func newTestProxy(t *testing.T, target string, faults ...ConnFault) *Proxy {
	t.Helper()
	p, err := NewProxy(target, func(n int) ConnFault {
		if n < len(faults) {
			return faults[n]
		}
		return ConnFault{}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestProxyResetAfterBytes: the broker side gets exactly the bytes before
// the fault, then the connection is reset on both sides.
func TestProxyResetAfterBytes(t *testing.T) {
	t.Parallel()
	s := newSink(t, nil)
	p := newTestProxy(t, s.ln.Addr().String(), ConnFault{Kind: Reset, Dir: Up, After: 300})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := bytes.Repeat([]byte("0123456789"), 100)
	c.Write(data) // may fail once the reset came
	got := <-s.got
	if !bytes.Equal(got, data[:300]) {
		t.Fatalf("the broker side got %d bytes, want the first 300", len(got))
	}
	if _, err := io.ReadAll(c); err == nil {
		t.Error("the client side read to a clean end; want a reset")
	}
	if st := p.Stats(); st.Resets != 1 || st.Conns != 1 {
		t.Errorf("stats %+v: want 1 connection, 1 reset", st)
	}
	// The next connection has no fault.
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c2.Write(data)
	c2.(*net.TCPConn).CloseWrite()
	if got := <-s.got; !bytes.Equal(got, data) {
		t.Errorf("the second connection carried %d bytes, want %d", len(got), len(data))
	}
	c2.Close()
}

// TestProxyResetDown: a reset in the direction to the client cuts what the
// broker wrote after the given bytes.
func TestProxyResetDown(t *testing.T) {
	t.Parallel()
	out := bytes.Repeat([]byte("abcdefghij"), 50)
	s := newSink(t, out)
	p := newTestProxy(t, s.ln.Addr().String(), ConnFault{Kind: Reset, Dir: Down, After: 123})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("?"))
	got, err := io.ReadAll(c)
	if err == nil {
		t.Error("a clean end; want a reset")
	}
	if !bytes.Equal(got, out[:123]) {
		t.Errorf("the client got %d bytes, want the first 123", len(got))
	}
}

// TestProxyStall: a stalled direction holds its bytes back for the stall,
// then carries all of them.
func TestProxyStall(t *testing.T) {
	t.Parallel()
	out := []byte("0123456789")
	s := newSink(t, out)
	const stall = 200 * time.Millisecond
	p := newTestProxy(t, s.ln.Addr().String(), ConnFault{Kind: Stall, Dir: Down, After: 4, For: stall})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("?"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rest := make([]byte, 6)
	if _, err := io.ReadFull(c, rest); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < stall/2 {
		t.Errorf("the rest came after %v; the stall is %v", waited, stall)
	}
	if !bytes.Equal(append(buf, rest...), out) {
		t.Errorf("got %q, want %q", append(buf, rest...), out)
	}
	if st := p.Stats(); st.Stalls != 1 {
		t.Errorf("stats %+v: want 1 stall", st)
	}
}

// TestProxyDown: going down resets the open connections; while down a new
// connection is reset before it reaches the broker; up again, it passes.
func TestProxyDown(t *testing.T) {
	t.Parallel()
	s := newSink(t, []byte("x"))
	p := newTestProxy(t, s.ln.Addr().String())
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("?"))
	one := make([]byte, 1)
	if _, err := io.ReadFull(c, one); err != nil {
		t.Fatal(err)
	}
	p.SetDown(true)
	if _, err := io.ReadAll(c); err == nil {
		t.Error("an open connection ended cleanly when the broker went down; want a reset")
	}
	<-s.got
	// While down, the reset may come before the dial has seen its answer.
	if c2, err := net.Dial("tcp", p.Addr()); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatal(err)
	} else if err == nil {
		defer c2.Close()
		if got, _ := io.ReadAll(c2); len(got) != 0 {
			t.Errorf("while down a new connection read %q; want nothing", got)
		}
	}
	p.SetDown(false)
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	c3.Write([]byte("?"))
	if _, err := io.ReadFull(c3, one); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if st := p.Stats(); st.Conns != 2 || st.Refused != 1 || st.Cut != 1 {
		t.Errorf("stats %+v: want 2 connections, 1 refused, 1 cut", st)
	}
}

// TestPipeReader: the reader reads in chunks and closes the pipe after its
// bytes, in the middle of a line; without a limit it reads to the end.
func TestPipeReader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		chunk      int
		closeAfter int64
		want       string
		closed     bool
	}{{3, 5, "0:a\n1", true}, {1, 4, "0:a\n", true}, {4096, 0, "0:a\n1:bb\n", false}} {
		p, err := newPipeReader(tc.chunk, tc.closeAfter)
		if err != nil {
			t.Fatal(err)
		}
		p.w.WriteString("0:a\n1:bb\n") // within the pipe's buffer: never blocks
		p.w.Close()
		got, closed := p.result()
		if string(got) != tc.want || closed != tc.closed {
			t.Errorf("chunk %d, close after %d: read %q (closed %v); want %q (%v)", tc.chunk, tc.closeAfter, got, closed, tc.want, tc.closed)
		}
	}
}
