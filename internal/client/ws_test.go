package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/protocol"
	"github.com/stompest/stompest/internal/wsconn"
)

// TestWebSocketTLS: wss:// verifies the broker's certificate like ssl://,
// and a message goes through once it is trusted.
func TestWebSocketTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", WSAddr: "127.0.0.1:0",
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	uri := "wss://" + b.WSAddr() + "/"

	c, err := dial(t, uri, Config{TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatalf("wss with the CA trusted: %v", err)
	}
	r, err := c.Send("/queue/wss", []byte("secure"), SendOptions{Receipt: true})
	if err == nil {
		err = c.Flush()
	}
	if err == nil {
		err = c.WaitReceipt(context.Background(), r)
	}
	if err != nil {
		t.Fatalf("send over wss: %v", err)
	}
	if err := c.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := b.QueueDepth("/queue/wss"); n != 1 {
		t.Errorf("the broker holds %d messages, want 1", n)
	}

	_, err = dial(t, uri, Config{}) // ends at the failure, well before the budget
	var ue *UnreachableError
	if !errors.As(err, &ue) || !ue.TLSVerifyFailed() {
		t.Errorf("wss to an untrusted certificate: %v, want a verification failure", err)
	}
}

// resetConn is a connection whose writes fail with ECONNRESET once broken
// is set, while its reads wait as on a link whose peer has gone silent.
type resetConn struct {
	net.Conn
	broken *bool
	mu     *sync.Mutex
}

func (c resetConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	broken := *c.broken
	c.mu.Unlock()
	if broken {
		return 0, &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return c.Conn.Write(p)
}

// startWSPeer serves STOMP over WebSocket on 127.0.0.1, answering the
// handshake with header; it passes each CONNECT to seen and answers
// CONNECTED.
func startWSPeer(t *testing.T, header http.Header, seen chan<- *protocol.Frame) string {
	t.Helper()
	up := websocket.Upgrader{Subprotocols: wsconn.Subprotocols(nil)}
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, header)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		nc := wsconn.New(ws)
		defer nc.Close()
		c := &conn{Conn: nc, r: protocol.NewReader(nc), w: protocol.NewWriter(nc)}
		f := c.connected(t)
		if seen != nil {
			seen <- f
		}
		drainUntilClosed(t, c)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return strings.Replace(srv.URL, "http://", "ws://", 1) + "/"
}

// TestWebSocketWriteLossIsConnectionLost checks that a WebSocket whose
// writes fail (the broker gone, the connection reset) is a lost
// connection, as on TCP, not an internal error (#18, item 12).
func TestWebSocketWriteLossIsConnectionLost(t *testing.T) {
	t.Parallel()
	uri := startWSPeer(t, nil, nil)
	var (
		mu     sync.Mutex
		broken bool
	)
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return resetConn{Conn: nc, broken: &broken, mu: &mu}, nil
	}
	cl, err := dial(t, uri, Config{Dial: dialer})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	mu.Lock()
	broken = true
	mu.Unlock()
	_, err = cl.Send("/queue/a", []byte("x"), SendOptions{})
	if err == nil {
		err = cl.Flush()
	}
	if !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("a write on a reset WebSocket: %v, want ErrConnectionLost", err)
	}
}

// TestWebSocketCowboyHeartBeats checks that the client offers no
// heart-beats of its own to RabbitMQ's Web-STOMP (its web server answers
// the handshake as Cowboy), whose monitor of them breaks busy connections,
// and offers them to other WebSocket servers (#18, item 13).
func TestWebSocketCowboyHeartBeats(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		server, want string
	}{
		{"Cowboy", "0,10000"},
		{"", "10000,10000"},
	} {
		seen := make(chan *protocol.Frame, 1)
		uri := startWSPeer(t, http.Header{"Server": {tt.server}}, seen)
		cl, err := dial(t, uri, Config{HeartBeat: protocol.HeartBeatSpec{Send: 10 * time.Second, Receive: 10 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		f := <-seen
		if got := f.Header("heart-beat"); got != tt.want {
			t.Errorf("server %q: CONNECT heart-beat %q, want %q", tt.server, got, tt.want)
		}
		if err := cl.Disconnect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
