package broker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/stompest/stompest/internal/protocol"
)

// flakyListener fails its first accepts with EMFILE, as a process out of
// file descriptors does.
type flakyListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	fail := l.fails > 0
	l.fails--
	l.mu.Unlock()
	if fail {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// TestAcceptErrorsRetried: failed accepts are logged and retried, and the
// broker serves once they stop.
func TestAcceptErrorsRetried(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var logged []string
	b := New(Config{Addr: "127.0.0.1:0", Logf: func(format string, args ...any) {
		mu.Lock()
		logged = append(logged, fmt.Sprintf(format, args...))
		mu.Unlock()
	}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.ln = &flakyListener{Listener: ln, fails: 5}
	b.wg.Add(2)
	go b.accept()
	go b.flow()
	t.Cleanup(func() { b.Close() })
	connect(t, b, protocol.V12)
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 5 || !strings.Contains(logged[0], "too many open files") || !strings.Contains(logged[0], "5ms") ||
		!strings.Contains(logged[4], "80ms") {
		t.Fatalf("logged %q, want five accept errors retried after 5ms doubling to 80ms", logged)
	}
}

// TestConnectTimeout: a connection that does not complete its CONNECT in
// time gets an ERROR and is closed; one that did is left alone.
func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	b := start(t, Config{ConnectTimeout: 100 * time.Millisecond})
	early := connect(t, b, protocol.V12)
	for _, sent := range []string{"", "CONNECT\naccept-version:1.2\n"} {
		p := dialRaw(t, b)
		p.nc.Write([]byte(sent))
		if f := p.read(); f.Command != protocol.CmdError || !strings.Contains(f.Header("message"), "no CONNECT frame within 100ms") {
			t.Fatalf("sent %q: got %v", sent, f)
		}
		p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, p.nc); err != nil {
			t.Fatalf("sent %q: %v, want the end of the stream", sent, err)
		}
	}
	early.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "t"), "still served")
}

func TestThrottleDelays(t *testing.T) {
	t.Parallel()
	th := newThrottle()
	now := time.Unix(1000, 0)
	var got []time.Duration
	for range 8 {
		got = append(got, th.fail("10.0.0.1", now))
		now = now.Add(got[len(got)-1]) // answered, tried again
	}
	want := []time.Duration{50, 100, 200, 400, 800, 1600, 2000, 2000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v, want %v ms", got, want)
		}
	}
	if d := th.fail("10.0.0.2", now); d != 50*time.Millisecond {
		t.Fatalf("another address waits %v", d)
	}
	// Failures in parallel are answered one after another, within
	// maxWait.
	var last time.Duration
	for range 10 {
		last = th.fail("10.0.0.1", now)
	}
	if last != th.maxWait {
		t.Fatalf("the tenth parallel failure waits %v, want %v", last, th.maxWait)
	}
	if d := th.fail("10.0.0.1", now.Add(th.maxWait+th.forget+time.Second)); d != 50*time.Millisecond {
		t.Fatalf("after a quiet while the delay is %v, want it forgotten", d)
	}
	for i := range maxAddrs + 10 {
		th.fail(fmt.Sprint("addr", i), now)
	}
	if len(th.addrs) > maxAddrs {
		t.Fatalf("%d addresses remembered", len(th.addrs))
	}
}

// TestLoginThrottled: repeated failed logins from one address are
// answered later and later; a correct login is not counted.
func TestLoginThrottled(t *testing.T) {
	t.Parallel()
	b := start(t, Config{User: "u", Password: "p"})
	b.logins.base = 10 * time.Millisecond
	for i, want := range []time.Duration{10, 20, 40} {
		p := dialRaw(t, b)
		begin := time.Now()
		p.send(protocol.NewFrame(protocol.CmdConnect, "accept-version", "1.2", "login", "u", "passcode", "wrong"))
		if f := p.read(); f.Command != protocol.CmdError {
			t.Fatalf("failure %d: %v", i, f)
		}
		if d := time.Since(begin); d < want*time.Millisecond {
			t.Fatalf("failure %d answered after %v, want %v at least", i+1, d, want*time.Millisecond)
		}
	}
	connect(t, b, protocol.V12, "login", "u", "passcode", "p")
	b.logins.mu.Lock()
	n := b.logins.addrs["127.0.0.1"].n
	b.logins.mu.Unlock()
	if n != 3 {
		t.Fatalf("%d failures counted, want 3", n)
	}
	if !b.authentic("u", "p") || b.authentic("u", "pp") || b.authentic("", "p") || b.authentic("u", "") {
		t.Fatal("authentic compares wrongly")
	}
}

// TestWebSocketOrigin: a browser page of another site is refused; the
// listen host's pages, clients without Origin and allowed patterns pass.
func TestWebSocketOrigin(t *testing.T) {
	t.Parallel()
	b := start(t, Config{WSAddr: "127.0.0.1:0", WSAllowOrigins: []string{"https://*.example.com"}})
	_, port, _ := net.SplitHostPort(b.WSAddr())
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:" + port, true},
		{"https://app.example.com", true},
		{"https://evil.test", false},
		{"http://127.0.0.2.evil.test", false},
		{"null", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		ws, resp, err := websocket.DefaultDialer.Dial("ws://"+b.WSAddr()+"/", h)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			ws.Close()
			continue
		}
		if err == nil {
			ws.Close()
		}
		if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", tc.origin, err)
		}
	}
	all := start(t, Config{WSAddr: "127.0.0.1:0", WSAllowOrigins: []string{"*"}})
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+all.WSAddr()+"/", http.Header{"Origin": {"https://evil.test"}})
	if err != nil {
		t.Fatalf("with *: %v", err)
	}
	ws.Close()
}
