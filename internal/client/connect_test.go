package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// TestConnectProtocolErrorsAreFinal checks that an answer to CONNECT that
// breaks the protocol is not retried until the connect timeout: the
// connect fails at once with an error matching the protocol's sentinel
// (the CLI's exit 76), and the broker was tried once (#18, item 10).
func TestConnectProtocolErrorsAreFinal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer string
		is     error
	}{
		{"version not offered", "CONNECTED\nversion:9.9\n\n\x00", protocol.ErrVersionMismatch},
		{"malformed heart-beat", "CONNECTED\nversion:1.2\nheart-beat:x\n\n\x00", protocol.ErrInvalidHeartBeat},
		{"not CONNECTED", "RECEIPT\nreceipt-id:1\n\n\x00", protocol.ErrUnexpectedCommand},
		{"malformed frame", "CONNECTED\nversion\n\n\x00", protocol.ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, uri := startPeer(t, func(_ int, c *conn) {
				c.read(t)
				c.Write([]byte(tt.answer))
				drainUntilClosed(t, c)
			})
			_, err := dial(t, uri+"?initialReconnectDelay=1", Config{})
			var ue *UnreachableError
			if !errors.Is(err, tt.is) || errors.As(err, &ue) || !strings.Contains(err.Error(), uri) {
				t.Errorf("got %v, want an error matching %v that names %s", err, tt.is, uri)
			}
			if n := p.conns.Load(); n != 1 {
				t.Errorf("%d connections, want 1", n)
			}
		})
	}
}

// TestConnectProtocolErrorFailover checks that on a failover URI a broker
// that breaks the protocol is given up and the others are still tried.
func TestConnectProtocolErrorFailover(t *testing.T) {
	t.Parallel()
	bad, badURI := startPeer(t, func(_ int, c *conn) {
		c.read(t)
		c.Write([]byte("CONNECTED\nversion:9.9\n\n\x00"))
		drainUntilClosed(t, c)
	})
	// The good broker refuses the first two connections by closing them.
	good, goodURI := startPeer(t, func(n int, c *conn) {
		if n <= 2 {
			return
		}
		c.connected(t)
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, "failover:("+badURI+","+goodURI+")?randomize=false&initialReconnectDelay=1", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cl.Broker(); got != goodURI {
		t.Errorf("connected to %s, want %s", got, goodURI)
	}
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := bad.conns.Load(); n != 1 {
		t.Errorf("the broker that broke the protocol was tried %d times, want 1", n)
	}
	if n := good.conns.Load(); n != 3 {
		t.Errorf("the good broker was tried %d times, want 3", n)
	}
}

// TestTLSVerifyFailsAtOnce checks that a certificate that fails
// verification ends the connect at once with an *UnreachableError naming
// the problem, instead of being tried again until the connect timeout.
func TestTLSVerifyFailsAtOnce(t *testing.T) {
	t.Parallel()
	cert, _ := selfSigned(t)
	uri := startTLSPeer(t, cert)
	_, err := dial(t, uri+"?initialReconnectDelay=1", Config{})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !ue.TLSVerifyFailed() || len(ue.Attempts) != 1 ||
		!strings.Contains(err.Error(), "certificate verification failed") || !strings.Contains(err.Error(), "x509") {
		t.Fatalf("got %v, want one attempt failing on the certificate", err)
	}
}

// TestCredentialsFromURI checks that a broker URI's user:password@ is the
// CONNECT login and passcode, below the configured ones, field by field,
// and that no error shows the password (#18, item 11).
func TestCredentialsFromURI(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen [][2]string
	)
	_, uri := startPeer(t, func(_ int, c *conn) {
		f := c.read(t)
		if f == nil {
			return
		}
		mu.Lock()
		seen = append(seen, [2]string{f.Header("login"), f.Header("passcode")})
		mu.Unlock()
		if f.Header("passcode") != "s3cr:t" {
			c.send(t, protocol.NewFrame(protocol.CmdError, "message", "bad login"))
			return
		}
		c.send(t, protocol.NewFrame(protocol.CmdConnected, "version", "1.2"))
		c.r.SetVersion(protocol.V12)
		drainUntilClosed(t, c)
	})
	withUser := strings.Replace(uri, "tcp://", "tcp://alice:s3cr%3At@", 1)
	for _, tt := range []struct {
		uri             string
		login, passcode string
		want            [2]string
	}{
		{withUser, "", "", [2]string{"alice", "s3cr:t"}},
		{"failover:(" + withUser + ")", "bob", "", [2]string{"bob", "s3cr:t"}},
		{withUser, "bob", "other", [2]string{"bob", "other"}},
	} {
		cl, err := dial(t, tt.uri, Config{Login: tt.login, Passcode: tt.passcode})
		if err == nil {
			err = cl.Disconnect(context.Background())
		}
		if err != nil && strings.Contains(err.Error(), "s3cr") {
			t.Errorf("the error shows the password: %v", err)
		}
		mu.Lock()
		got := seen[len(seen)-1]
		mu.Unlock()
		if got != tt.want {
			t.Errorf("%s with login %q, passcode %q: CONNECT sent %q, want %q", tt.uri, tt.login, tt.passcode, got, tt.want)
		}
	}
}

// TestMaxHeaderSize checks that Config.Limits.MaxLineSize bounds the
// header lines the client reads, and that the error says the limit so
// that the caller can name the setting that raises it (#18, item 15).
func TestMaxHeaderSize(t *testing.T) {
	t.Parallel()
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
		sub := c.read(t)
		c.receipt(t, sub)
		c.send(t, protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m1",
			"subscription", sub.Header("id"), "x-big", strings.Repeat("x", 100)))
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, uri, Config{Limits: protocol.Limits{MaxLineSize: 64}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Subscribe(context.Background(), "/queue/a", nil); err != nil {
		t.Fatal(err)
	}
	err = endErr(t, cl, "the client did not end at an over-long header")
	var fe *protocol.FrameError
	if !errors.As(err, &fe) || !errors.Is(err, protocol.ErrLineTooLong) || fe.Limit != 64 || !strings.Contains(err.Error(), "limit 64 bytes") {
		t.Fatalf("got %v, want a header line too long, limit 64 bytes", err)
	}
}

// TestProbe checks that a probe connects once, reports what CONNECTED
// said and disconnects cleanly.
func TestProbe(t *testing.T) {
	t.Parallel()
	bye := make(chan *protocol.Frame, 1)
	p, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t, "session", "s-1", "heart-beat", "0,5000")
		f := c.read(t)
		c.receipt(t, f)
		bye <- f
	})
	b, err := failover.ParseBroker(uri)
	if err != nil {
		t.Fatal(err)
	}
	res := Probe(context.Background(), Config{}, b)
	if res.Err != nil || res.Version != protocol.V12 || res.Server != "peer/1" || res.Session != "s-1" ||
		res.HeartBeat != (protocol.HeartBeatSpec{Receive: 5 * time.Second}) {
		t.Fatalf("Probe = %+v", res)
	}
	if f := <-bye; f == nil || f.Command != protocol.CmdDisconnect {
		t.Errorf("the probe ended with %v, want DISCONNECT", f)
	}
	if n := p.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestOnAttempt: every failed connect attempt is reported as it fails, so
// that a command can say what it is waiting for.
func TestOnAttempt(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: every attempt is refused
	u, err := failover.Parse("failover:(tcp://" + addr + ")?initialReconnectDelay=1&useExponentialBackOff=false&startupMaxReconnectAttempts=3")
	if err != nil {
		t.Fatal(err)
	}
	var got []Attempt
	_, err = Dial(context.Background(), Config{URI: u, ConnectTimeout: 10 * time.Second, OnAttempt: func(a Attempt) { got = append(got, a) }})
	if err == nil {
		t.Fatal("Dial succeeded with nothing listening")
	}
	if len(got) != 4 {
		t.Fatalf("%d attempts reported, want 4 (the first and 3 retries): %v", len(got), got)
	}
	for _, a := range got {
		if a.Broker != "tcp://"+addr || !errors.Is(a.Err, syscall.ECONNREFUSED) {
			t.Errorf("attempt %+v: want a refused connection to tcp://%s", a, addr)
		}
	}
}
