package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/protocol"
	"github.com/stompest/stompest/internal/session"
)

// reconnectPeer is a peer whose first connection is cut when the test
// says so and whose second one holds its CONNECTED back until the test
// has done what it does while the client is reconnecting.
type reconnectPeer struct {
	uri        string
	cut        chan struct{} // closed by the test: the first connection ends
	connecting chan struct{} // closed by the peer: the second CONNECT arrived
	resume     chan struct{} // closed by the test: the peer answers CONNECTED
	replayed   chan *protocol.Frame
}

// startReconnectPeer starts a reconnectPeer. Its first connection
// confirms the SUBSCRIBE and delivers one MESSAGE to it.
func startReconnectPeer(t *testing.T) *reconnectPeer {
	t.Helper()
	p := &reconnectPeer{
		cut:        make(chan struct{}),
		connecting: make(chan struct{}),
		resume:     make(chan struct{}),
		replayed:   make(chan *protocol.Frame, 1),
	}
	_, uri := startPeer(t, func(n int, c *conn) {
		switch n {
		case 1:
			c.connected(t)
			sub := c.read(t)
			c.receipt(t, sub)
			c.send(t, protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m1",
				"subscription", sub.Header("id"), "ack", "a1"))
			<-p.cut
		case 2:
			f := c.read(t)
			close(p.connecting)
			<-p.resume
			if f == nil {
				return
			}
			c.send(t, protocol.NewFrame(protocol.CmdConnected, "version", "1.2"))
			c.r.SetVersion(protocol.V12)
			c.w.SetVersion(protocol.V12)
			p.replayed <- c.read(t)
			drainUntilClosed(t, c)
		}
	})
	p.uri = "failover:(" + uri + ")?initialReconnectDelay=0"
	return p
}

// linkLog records the link events of a client.
type linkLog struct {
	mu     sync.Mutex
	events []LinkEvent
	ch     chan LinkEvent
}

func newLinkLog() *linkLog { return &linkLog{ch: make(chan LinkEvent, 16)} }

func (l *linkLog) record(ev LinkEvent) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	l.ch <- ev
}

// await waits for an event of state s.
func (l *linkLog) await(t *testing.T, s LinkState) LinkEvent {
	t.Helper()
	for {
		select {
		case ev := <-l.ch:
			if ev.State == s {
				return ev
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no link event %v", s)
		}
	}
}

// TestSettleWhileReconnecting checks that an ACK or NACK of a message of a
// lost connection, asked for while the client is reconnecting (its
// session waiting for CONNECTED), sends nothing and is ErrStaleMessage,
// never a state error (#18, item 2).
func TestSettleWhileReconnecting(t *testing.T) {
	t.Parallel()
	p := startReconnectPeer(t)
	cl, links := dialReconnecting(t, p.uri)
	if _, err := cl.Subscribe(context.Background(), "/queue/a", protocol.Headers{{Name: "ack", Value: "client-individual"}}); err != nil {
		t.Fatal(err)
	}
	m := <-cl.Messages()
	close(p.cut)
	<-p.connecting
	if s, _ := cl.Link(); s != LinkReconnecting {
		t.Errorf("Link() = %v while the CONNECTED is awaited, want reconnecting", s)
	}
	if err := cl.Ack(m, ""); !errors.Is(err, ErrStaleMessage) {
		t.Errorf("Ack while reconnecting: %v, want ErrStaleMessage", err)
	}
	if err := cl.Nack(m, ""); !errors.Is(err, ErrStaleMessage) {
		t.Errorf("Nack while reconnecting: %v, want ErrStaleMessage", err)
	}
	close(p.resume)
	<-p.replayed
	links.await(t, LinkUp)
	if err := cl.Ack(m, ""); !errors.Is(err, ErrStaleMessage) {
		t.Errorf("Ack after the reconnect: %v, want ErrStaleMessage", err)
	}
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestWriteWhileReconnecting checks that what writes a frame while the
// client is reconnecting fails with a loss the caller can retry after
// WaitConnected (ErrConnectionLost), never with a state error (#18, item
// 4): send --receipt each sends again what a loss left unconfirmed.
func TestWriteWhileReconnecting(t *testing.T) {
	t.Parallel()
	p := startReconnectPeer(t)
	cl, err := dial(t, p.uri, Config{Reconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Subscribe(context.Background(), "/queue/a", protocol.Headers{{Name: "ack", Value: "client-individual"}}); err != nil {
		t.Fatal(err)
	}
	<-cl.Messages()
	close(p.cut)
	<-p.connecting
	_, serr := cl.Send("/queue/b", []byte("x"), SendOptions{Receipt: true})
	_, berr := cl.Begin("")
	for what, err := range map[string]error{"Send": serr, "Begin": berr, "Flush": cl.Flush()} {
		if !errors.Is(err, ErrConnectionLost) || errors.Is(err, session.ErrIllegalTransition) {
			t.Errorf("%s while reconnecting: %v, want a loss (ErrConnectionLost)", what, err)
		}
	}
	close(p.resume)
	<-p.replayed
	if err := cl.WaitConnected(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Send("/queue/b", []byte("x"), SendOptions{}); err != nil {
		t.Errorf("Send after the reconnect: %v", err)
	}
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSubscribeSurvivesLossBeforeReceipt checks that on a failover URI a
// loss while a SUBSCRIBE's receipt is awaited is not an error: the client
// reconnects, replays the SUBSCRIBE with a receipt, and Subscribe returns
// once that one came; the link events tell the caller what happened
// (#18, item 3).
func TestSubscribeSurvivesLossBeforeReceipt(t *testing.T) {
	t.Parallel()
	replayed := make(chan *protocol.Frame, 1)
	_, uri := startPeer(t, func(n int, c *conn) {
		c.connected(t)
		sub := c.read(t)
		if n == 1 {
			return // the link drops before the receipt
		}
		replayed <- sub
		c.receipt(t, sub)
		c.send(t, protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m2",
			"subscription", sub.Header("id")))
		drainUntilClosed(t, c)
	})
	cl, links := dialReconnecting(t, "failover:("+uri+")?initialReconnectDelay=0")
	id, err := cl.Subscribe(context.Background(), "/queue/a", nil)
	if err != nil {
		t.Fatalf("Subscribe across a loss: %v", err)
	}
	sub := <-replayed
	if sub.Header("id") != id || !sub.Headers.Has("receipt") {
		t.Errorf("replayed %v, want the subscription %s with a receipt", sub, id)
	}
	if m := <-cl.Messages(); m == nil || m.Header("message-id") != "m2" {
		t.Fatalf("message %v", m)
	}
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-cl.Done()
	links.mu.Lock()
	defer links.mu.Unlock()
	var states []LinkState
	for _, ev := range links.events {
		states = append(states, ev.State)
	}
	want := []LinkState{LinkUp, LinkReconnecting, LinkUp, LinkClosed}
	if len(states) != len(want) {
		t.Fatalf("link events %v, want %v", states, want)
	}
	for i, ev := range links.events {
		if ev.State != want[i] {
			t.Fatalf("link events %v, want %v", states, want)
		}
	}
	if ev := links.events[1]; !errors.Is(ev.Err, ErrConnectionLost) || ev.Conn != 1 || ev.Broker == "" {
		t.Errorf("reconnecting event %+v, want the loss of connection 1", ev)
	}
	if ev := links.events[2]; ev.Conn != 2 || ev.Err != nil {
		t.Errorf("up event %+v, want connection 2", ev)
	}
	if ev := links.events[3]; ev.Err != nil {
		t.Errorf("closed event %+v, want a clean end", ev)
	}
}
