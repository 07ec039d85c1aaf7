package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// peer is a scripted STOMP server on 127.0.0.1: each accepted connection
// is handed to handle in its own goroutine.
type peer struct {
	ln    net.Listener
	conns atomic.Int32
	done  chan struct{}
}

// conn is one connection of a peer, with the codec set up.
type conn struct {
	net.Conn
	r *protocol.Reader
	w *protocol.Writer
}

func (c *conn) read(t testing.TB) *protocol.Frame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		f, err := c.r.Read()
		if err != nil {
			t.Errorf("peer read: %v", err)
			return nil
		}
		if !f.IsHeartBeat() {
			return f
		}
	}
}

func (c *conn) send(t testing.TB, f *protocol.Frame) {
	t.Helper()
	if err := c.w.WriteFrame(f); err != nil {
		t.Errorf("peer write: %v", err)
	}
	if err := c.w.Flush(); err != nil {
		t.Logf("peer flush: %v", err)
	}
}

// connected answers the CONNECT with CONNECTED and the given headers.
func (c *conn) connected(t testing.TB, headers ...string) *protocol.Frame {
	t.Helper()
	f := c.read(t)
	if f == nil || (f.Command != protocol.CmdConnect && f.Command != protocol.CmdStomp) {
		t.Errorf("peer: want CONNECT, got %v", f)
		return f
	}
	c.send(t, protocol.NewFrame(protocol.CmdConnected, append([]string{"version", "1.2", "server", "peer/1"}, headers...)...))
	c.r.SetVersion(protocol.V12)
	c.w.SetVersion(protocol.V12)
	return f
}

// receipt answers f's receipt header.
func (c *conn) receipt(t testing.TB, f *protocol.Frame) {
	t.Helper()
	if id, ok := f.Lookup("receipt"); ok {
		c.send(t, protocol.NewFrame(protocol.CmdReceipt, "receipt-id", id))
	}
}

func startPeer(t testing.TB, handle func(n int, c *conn)) (*peer, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{ln: ln, done: make(chan struct{})}
	accepted := make(chan struct{}, 16)
	go func() {
		defer close(p.done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(p.conns.Add(1))
			accepted <- struct{}{}
			go func() {
				defer nc.Close()
				handle(n, &conn{Conn: nc, r: protocol.NewReader(nc), w: protocol.NewWriter(nc)})
				<-accepted
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-p.done
		for range cap(accepted) {
			select {
			case accepted <- struct{}{}:
			case <-time.After(5 * time.Second):
				t.Error("peer connection handler still running")
				return
			}
		}
	})
	return p, "tcp://" + ln.Addr().String()
}

func mustURI(t testing.TB, s string) *failover.URI {
	t.Helper()
	u, err := failover.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func dial(t *testing.T, uri string, cfg Config) (*Client, error) {
	t.Helper()
	cfg.URI = mustURI(t, uri)
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	return Dial(context.Background(), cfg)
}

// dialReconnecting dials uri with reconnects after a loss, closed when
// the test ends, and returns the client with the log of its link events.
func dialReconnecting(t *testing.T, uri string) (*Client, *linkLog) {
	t.Helper()
	links := newLinkLog()
	cl, err := dial(t, uri, Config{Reconnect: true, OnLink: links.record})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl, links
}

// endErr waits for cl to end and returns why; it fails the test with
// what when cl does not end within 10 seconds.
func endErr(t *testing.T, cl *Client, what string) error {
	t.Helper()
	select {
	case <-cl.Done():
		return cl.Err()
	case <-time.After(10 * time.Second):
		t.Fatal(what)
		return nil
	}
}

// drainUntilClosed reads what the client sends until it closes.
func drainUntilClosed(t testing.TB, c *conn) {
	for {
		f, err := c.r.Read()
		if err != nil {
			return
		}
		if f.Command == protocol.CmdDisconnect {
			c.receipt(t, f)
			return
		}
	}
}

func TestConnectAndDisconnect(t *testing.T) {
	t.Parallel()
	got := make(chan *protocol.Frame, 1)
	_, uri := startPeer(t, func(_ int, c *conn) {
		got <- c.connected(t, "session", "s-1", "heart-beat", "0,0")
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, uri, Config{Login: "u", Passcode: "p", Host: "/", HeartBeat: protocol.HeartBeatSpec{Send: time.Second, Receive: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	connect := <-got
	if connect.Header("accept-version") != "1.0,1.1,1.2" || connect.Header("login") != "u" || connect.Header("host") != "/" || connect.Header("heart-beat") != "1000,1000" {
		t.Errorf("CONNECT: %v", connect)
	}
	if cl.Version() != protocol.V12 {
		t.Errorf("version %v", cl.Version())
	}
	if server, sess := cl.Server(); server != "peer/1" || sess != "s-1" {
		t.Errorf("server %q session %q", server, sess)
	}
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if endErr(t, cl, "client not done after Disconnect") != nil {
		t.Errorf("Err after a clean disconnect: %v", cl.Err())
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	p, uri := startPeer(t, func(_ int, c *conn) {
		c.read(t)
		f := protocol.NewFrame(protocol.CmdError, "message", "Virtual host '/x' access refused")
		f.Body = []byte("no access\n")
		c.send(t, f)
	})
	_, err := dial(t, "failover:("+uri+")?initialReconnectDelay=1", Config{})
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("got %v, want a RefusedError", err)
	}
	if refused.VersionRefused() || refused.Hint() != "--vhost /" {
		t.Errorf("hint %q", refused.Hint())
	}
	if !strings.Contains(err.Error(), "Virtual host '/x' access refused: no access") {
		t.Errorf("message: %v", err)
	}
	if n := p.conns.Load(); n != 1 {
		t.Errorf("%d connections: a refusal must not be retried", n)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://" + ln.Addr().String()
	ln.Close()
	_, err = dial(t, dead+"?initialReconnectDelay=10&maxReconnectDelay=20", Config{ConnectTimeout: 300 * time.Millisecond})
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want an UnreachableError", err)
	}
	if len(ue.Attempts) < 2 || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("%d attempts: %v", len(ue.Attempts), err)
	}
	if !strings.Contains(err.Error(), "timeout after 300ms") {
		t.Errorf("reason missing: %v", err)
	}
}

func TestAttemptLimit(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://" + ln.Addr().String()
	ln.Close()
	_, err = dial(t, "failover:("+dead+")?startupMaxReconnectAttempts=2&initialReconnectDelay=1", Config{})
	var ue *UnreachableError
	if !errors.As(err, &ue) || len(ue.Attempts) != 3 || ue.Reason != "3 attempts" {
		t.Fatalf("got %v", err)
	}
}

func TestConnectedTimeout(t *testing.T) {
	t.Parallel()
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.read(t)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.r.Read() // silent until the client gives up
	})
	_, err := dial(t, uri+"?startupMaxReconnectAttempts=0", Config{ConnectedTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrConnectedTimeout) && !strings.Contains(err.Error(), ErrConnectedTimeout.Error()) {
		t.Fatalf("got %v", err)
	}
}

func TestHeartBeatLost(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t, "heart-beat", "50,0")
		<-release // silent: no heart-beats
	})
	defer close(release)
	cl, err := dial(t, uri, Config{HeartBeat: protocol.HeartBeatSpec{Receive: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if !errors.Is(endErr(t, cl, "silence not detected"), ErrHeartBeatLost) {
		t.Fatalf("got %v", cl.Err())
	}
}

func TestSendsHeartBeats(t *testing.T) {
	t.Parallel()
	beats := make(chan int, 1)
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t, "heart-beat", "0,40")
		n := 0
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for n < 3 {
			f, err := c.r.Read()
			if err != nil {
				break
			}
			if f.IsHeartBeat() {
				n++
			}
		}
		beats <- n
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, uri, Config{HeartBeat: protocol.HeartBeatSpec{Send: 40 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if n := <-beats; n < 3 {
		t.Errorf("%d heart-beats", n)
	}
	cl.Disconnect(context.Background())
}

func TestReceiptTimeout(t *testing.T) {
	t.Parallel()
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
		for {
			f, err := c.r.Read()
			if err != nil || f.Command == protocol.CmdDisconnect {
				return
			}
		}
	})
	cl, err := dial(t, uri, Config{ReceiptTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	r, err := cl.Send("/queue/a", []byte("x"), SendOptions{Receipt: true})
	if err != nil {
		t.Fatal(err)
	}
	cl.Flush()
	if err := cl.WaitReceipt(context.Background(), r); !errors.Is(err, ErrReceiptTimeout) {
		t.Fatalf("got %v", err)
	}
}

func TestSubscribeReceiveAck(t *testing.T) {
	t.Parallel()
	acked := make(chan *protocol.Frame, 1)
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
		sub := c.read(t)
		c.receipt(t, sub)
		m := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m1",
			"subscription", sub.Header("id"), "ack", "ack-1", "k", "a:b")
		m.Body = []byte("hello\x00world")
		c.send(t, m)
		acked <- c.read(t)
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, uri, Config{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.Subscribe(context.Background(), "/queue/a", protocol.Headers{{Name: "ack", Value: "client-individual"}})
	if err != nil {
		t.Fatal(err)
	}
	m := <-cl.Messages()
	if string(m.Body) != "hello\x00world" || m.Header("k") != "a:b" || m.Subscription.ID != id {
		t.Fatalf("message %v", m.Frame)
	}
	if err := cl.Ack(m, ""); err != nil {
		t.Fatal(err)
	}
	cl.Flush()
	if ack := <-acked; ack.Command != protocol.CmdAck || ack.Header("id") != "ack-1" {
		t.Fatalf("ack %v", ack)
	}
	cl.Disconnect(context.Background())
}

func TestBrokerErrorAfterConnected(t *testing.T) {
	t.Parallel()
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
		c.send(t, protocol.NewFrame(protocol.CmdError, "message", "User not authorized"))
	})
	cl, err := dial(t, uri, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	<-cl.Done()
	var be *BrokerError
	if !errors.As(cl.Err(), &be) || !strings.Contains(be.Error(), "User not authorized") {
		t.Fatalf("got %v", cl.Err())
	}
}

// TestReconnectReplays checks that a failover client reconnects after a
// loss and replays its subscription with the same id.
func TestReconnectReplays(t *testing.T) {
	t.Parallel()
	replayed := make(chan *protocol.Frame, 1)
	_, uri := startPeer(t, func(n int, c *conn) {
		c.connected(t)
		sub := c.read(t)
		if n == 1 {
			c.receipt(t, sub)
			return // drop the connection
		}
		replayed <- sub
		c.send(t, protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m2",
			"subscription", sub.Header("id"), "ack", "a2"))
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, "failover:("+uri+")?initialReconnectDelay=5", Config{Reconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := cl.Subscribe(context.Background(), "/queue/a", nil)
	if err != nil {
		t.Fatal(err)
	}
	sub := <-replayed
	if sub.Header("id") != id || sub.Header("destination") != "/queue/a" || sub.Headers.Has("receipt") {
		t.Fatalf("replayed %v", sub)
	}
	m := <-cl.Messages()
	if m.Header("message-id") != "m2" {
		t.Fatalf("message %v", m.Frame)
	}
	cl.Disconnect(context.Background())
}

func TestLossWithoutFailover(t *testing.T) {
	t.Parallel()
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
	})
	cl, err := dial(t, uri, Config{Reconnect: false})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	<-cl.Done()
	if !errors.Is(cl.Err(), ErrConnectionLost) {
		t.Fatalf("got %v", cl.Err())
	}
	if _, ok := <-cl.Messages(); ok {
		t.Fatal("Messages not closed")
	}
}

// TestDisconnectWhileMessagesPile checks that a consumer that stopped
// reading does not hold up the DISCONNECT receipt: messages that arrive
// meanwhile are left to the broker.
func TestDisconnectWhileMessagesPile(t *testing.T) {
	t.Parallel()
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
		sub := c.read(t)
		c.receipt(t, sub)
		for i := range 500 {
			c.w.WriteFrame(protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a",
				"message-id", "m"+strconv.Itoa(i), "subscription", sub.Header("id"), "ack", "a"+strconv.Itoa(i)))
		}
		c.w.Flush()
		drainUntilClosed(t, c)
	})
	logs := make(chan string, 1000)
	cl, err := dial(t, uri, Config{Buffer: 2, ReceiptTimeout: 3 * time.Second, Logf: func(f string, a ...any) {
		logs <- fmt.Sprintf(f, a...)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Subscribe(context.Background(), "/queue/a", protocol.Headers{{Name: "ack", Value: "client-individual"}}); err != nil {
		t.Fatal(err)
	}
	<-cl.Messages()
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(logs)
	for l := range logs {
		if strings.Contains(l, "disconnect:") {
			t.Errorf("the DISCONNECT receipt was held up: %s", l)
		}
	}
}

// TestVersionRefused: an ERROR answering CONNECT is the spec's failed
// version negotiation only when its version header shares no version with
// what was offered; RabbitMQ lists its versions on every such ERROR.
func TestVersionRefused(t *testing.T) {
	t.Parallel()
	all := []protocol.Version{protocol.V10, protocol.V11, protocol.V12}
	tests := []struct {
		header  []string // nil: no version header
		offered []protocol.Version
		want    bool
		hint    string
	}{
		{nil, all, false, ""},
		{[]string{"version", "1.0,1.1,1.2"}, all, false, ""}, // RabbitMQ, refused login
		{[]string{"version", "1.2"}, []protocol.Version{protocol.V10}, true, "--stomp-version 1.2"}, // no common version
		{[]string{"version", "1.0, 1.1"}, []protocol.Version{protocol.V11, protocol.V12}, false, ""},
		{[]string{"version", "2.0"}, all, true, "--stomp-version 2.0"},
	}
	for _, tt := range tests {
		f := protocol.NewFrame(protocol.CmdError, append([]string{"message", "Bad CONNECT"}, tt.header...)...)
		e := &RefusedError{Broker: "tcp://b:1", Frame: f, Offered: tt.offered}
		if got := e.VersionRefused(); got != tt.want || e.Hint() != tt.hint {
			t.Errorf("version %q, offered %v: VersionRefused %v, hint %q; want %v, %q", tt.header, tt.offered, got, e.Hint(), tt.want, tt.hint)
		}
	}
}

// TestBatches: with Config.Batches, messages arrive in order, those that
// arrived together in one batch, and a frame that has only half arrived
// never holds back the whole ones before it.
func TestBatches(t *testing.T) {
	t.Parallel()
	gotFirst := make(chan struct{})
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
		sub := c.read(t)
		c.receipt(t, sub)
		c.w.Flush()
		msg := func(n int) string {
			f := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a", "message-id", strconv.Itoa(n),
				"subscription", sub.Header("id"))
			f.Body = []byte("body " + strconv.Itoa(n))
			b, err := protocol.Encode(f, protocol.V12)
			if err != nil {
				t.Error(err)
			}
			return string(b)
		}
		// Three whole messages and half of a fourth in one write.
		var burst strings.Builder
		for n := 1; n <= 3; n++ {
			burst.WriteString(msg(n))
		}
		fourth := msg(4)
		burst.WriteString(fourth[:20])
		c.Write([]byte(burst.String()))
		<-gotFirst
		c.Write([]byte(fourth[20:] + msg(5)))
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, uri, Config{Batches: true})
	if err != nil {
		t.Fatal(err)
	}
	if cl.Messages() == nil || cl.Batches() == nil {
		t.Fatal("no channels")
	}
	if _, err := cl.Subscribe(context.Background(), "/queue/a", nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 5 {
		var batch []*Message
		select {
		case b, ok := <-cl.Batches():
			if !ok {
				t.Fatalf("batches closed after %v: %v", got, cl.Err())
			}
			batch = b
		case <-time.After(5 * time.Second):
			t.Fatalf("messages held back: got %q", got) // the peer waits for them
		}
		before := len(got)
		for _, m := range batch {
			got = append(got, string(m.Body))
		}
		if before < 3 && len(got) >= 3 {
			close(gotFirst) // the fourth is still half on its way
		}
	}
	if want := []string{"body 1", "body 2", "body 3", "body 4", "body 5"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if len(cl.Messages()) != 0 {
		t.Fatal("a message went to Messages() as well")
	}
	cl.Disconnect(context.Background())
	if _, ok := <-cl.Batches(); ok {
		t.Fatal("Batches() still open after Disconnect")
	}
}

// TestBatches10: in STOMP 1.0 the EOL after a frame is skipped, not
// returned; a batch must still leave before the reader waits for the next
// frame (ActiveMQ and RabbitMQ end 1.0 frames with NUL and LF).
func TestBatches10(t *testing.T) {
	t.Parallel()
	got := make(chan struct{})
	_, uri := startPeer(t, func(_ int, c *conn) {
		f := c.read(t)
		if f == nil {
			return
		}
		c.Write([]byte("CONNECTED\nsession:s\n\n\x00\n"))
		c.r.SetVersion(protocol.V10)
		c.w.SetVersion(protocol.V10)
		sub := c.read(t)
		c.receipt(t, sub)
		c.w.Flush()
		c.Write([]byte("MESSAGE\ndestination:/queue/a\nmessage-id:1\nsubscription:" + sub.Header("id") + "\n\nhello\x00\n"))
		select {
		case <-got:
		case <-time.After(5 * time.Second):
		}
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, uri, Config{Batches: true, Versions: []protocol.Version{protocol.V10}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Subscribe(context.Background(), "/queue/a", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-cl.Batches():
		if len(b) != 1 || string(b[0].Body) != "hello" {
			t.Fatalf("batch %v", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the message was held back behind the EOL")
	}
	close(got)
	cl.Disconnect(context.Background())
}

// TestRefusedFrameReportsBrokerError checks that a broker which refuses a
// large frame with ERROR and closes, while the client is still writing
// it, is reported by its ERROR and not by the failed write, whether the
// body is in memory or streamed.
func TestRefusedFrameReportsBrokerError(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			t.Parallel()
			_, uri := startPeer(t, func(_ int, c *conn) {
				c.connected(t, "heart-beat", "0,0")
				// Read a little of the SEND and refuse it, leaving the rest
				// unread: closing then resets the connection.
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadFull(c.Conn, make([]byte, 64)); err != nil {
					t.Errorf("peer read: %v", err)
				}
				c.send(t, protocol.NewFrame(protocol.CmdError, "message", "frame body too large"))
			})
			cl, err := dial(t, uri, Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			body := bytes.Repeat([]byte("x"), 8<<20)
			o := SendOptions{Receipt: true}
			if stream {
				_, err = cl.SendStream("/queue/big", bytes.NewReader(body), int64(len(body)), o)
			} else if _, err = cl.Send("/queue/big", body, o); err == nil {
				err = cl.Flush()
			}
			var be *BrokerError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), "frame body too large") {
				t.Fatalf("got %v, want the broker's ERROR", err)
			}
		})
	}
}

// TestMessagesBeforeReceipt checks that a broker which sends messages
// before the RECEIPT of a SUBSCRIBE (it may: the subscription is live once
// processed), more of them than the client buffers, does not keep
// Subscribe waiting for a RECEIPT stuck behind them; and that a consumer
// that waits for a SEND's receipt before it takes the next message is not
// stuck either. Messages keep their order throughout.
func TestMessagesBeforeReceipt(t *testing.T) {
	t.Parallel()
	const n = 2000
	for _, batches := range []bool{false, true} {
		t.Run(fmt.Sprintf("batches=%v", batches), func(t *testing.T) {
			t.Parallel()
			_, uri := startPeer(t, func(_ int, c *conn) {
				c.connected(t, "heart-beat", "0,0")
				sub := c.read(t)
				for i := 1; i <= n; i++ {
					m := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a",
						"message-id", strconv.Itoa(i), "subscription", sub.Header("id"))
					m.Body = []byte(strconv.Itoa(i))
					if err := c.w.WriteFrame(m); err != nil {
						t.Error(err)
						return
					}
				}
				c.receipt(t, sub) // after all of them
				for {
					f, err := c.r.Read()
					if err != nil {
						return
					}
					if f.Command == protocol.CmdDisconnect || f.Command == protocol.CmdSend {
						c.receipt(t, f)
					}
					if f.Command == protocol.CmdDisconnect {
						return
					}
				}
			})
			cl, err := dial(t, uri, Config{Batches: batches, Buffer: 4, ReceiptTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cl.Subscribe(context.Background(), "/queue/a", nil); err != nil {
				t.Fatal(err)
			}
			next := 1
			take := func(m *Message) {
				if string(m.Body) != strconv.Itoa(next) {
					t.Fatalf("got message %q, want %d", m.Body, next)
				}
				next++
				// Forward every hundredth and wait for its receipt before
				// taking the next.
				if next%100 == 0 {
					r, err := cl.Send("/queue/b", m.Body, SendOptions{Receipt: true})
					if err == nil {
						err = cl.Flush()
					}
					if err == nil {
						err = cl.WaitReceipt(context.Background(), r)
					}
					if err != nil {
						t.Fatalf("forwarding message %d: %v", next-1, err)
					}
				}
			}
			for next <= n {
				if batches {
					b, ok := <-cl.Batches()
					if !ok {
						t.Fatalf("ended after %d: %v", next-1, cl.Err())
					}
					for _, m := range b {
						take(m)
					}
				} else {
					m, ok := <-cl.Messages()
					if !ok {
						t.Fatalf("ended after %d: %v", next-1, cl.Err())
					}
					take(m)
				}
			}
			if err := cl.Disconnect(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHeartBeatLateAfterFrame checks that a broker whose first heart-beat
// comes more than two intervals after its last frame (brokers beat when a
// whole interval of their timer passed without a write: ActiveMQ's first
// beat after CONNECTED comes two intervals later) is not declared dead,
// also when the frame ends with an EOL that reads as a heart-beat (as
// ActiveMQ ends every frame), and that one silent for two intervals after
// a heart-beat is.
func TestHeartBeatLateAfterFrame(t *testing.T) {
	t.Parallel()
	for _, eol := range []bool{false, true} {
		t.Run(fmt.Sprintf("eol=%v", eol), func(t *testing.T) {
			t.Parallel()
			const interval = 800 * time.Millisecond
			release := make(chan struct{})
			_, uri := startPeer(t, func(_ int, c *conn) {
				c.connected(t, "heart-beat", "800,0")
				if eol {
					c.Write([]byte("\n")) // the frame's own end
				}
				select {
				case <-time.After(interval * 9 / 4):
				case <-release:
					return
				}
				c.Write([]byte("\n"))
				<-release // silent from now on
			})
			defer close(release)
			start := time.Now()
			cl, err := dial(t, uri, Config{HeartBeat: protocol.HeartBeatSpec{Receive: interval}})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if err := endErr(t, cl, "silence not detected"); !errors.Is(err, ErrHeartBeatLost) || !strings.Contains(err.Error(), "for 1.6s") {
				t.Fatalf("got %v, want heart-beat lost after two intervals", cl.Err())
			}
			// The late beat was taken: the loss came two intervals after it.
			if d := time.Since(start); d < interval*9/4+protocol.HeartBeatTolerance*interval {
				t.Fatalf("declared dead after %v, before the late beat counted", d)
			}
		})
	}
}
