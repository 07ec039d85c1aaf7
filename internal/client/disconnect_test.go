package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
)

// startBroker starts an embedded broker on 127.0.0.1 for one test.
func startBroker(t *testing.T, cfg broker.Config) *broker.Broker {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	b := broker.New(cfg)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestDisconnectUnconfirmed checks that Disconnect returns nil only when
// the receipt of DISCONNECT came: a caller trusts that receipt to confirm
// what it sent before, so a DISCONNECT that the broker never answered is
// an error.
func TestDisconnectUnconfirmed(t *testing.T) {
	t.Parallel()
	t.Run("connection ends before the receipt", func(t *testing.T) {
		t.Parallel()
		b := startBroker(t, broker.Config{})
		cl, err := dial(t, "tcp://"+b.Addr(), Config{})
		if err != nil {
			t.Fatal(err)
		}
		b.DropAfter(1) // CONNECT passed; the broker closes at DISCONNECT, unanswered
		if err := cl.Disconnect(context.Background()); !errors.Is(err, ErrConnectionLost) {
			t.Errorf("Disconnect: %v, want a loss (ErrConnectionLost)", err)
		}
	})
	// A peer that takes DISCONNECT and never answers it.
	silent := func(t *testing.T) string {
		_, uri := startPeer(t, func(_ int, c *conn) {
			c.connected(t)
			for {
				if _, err := c.r.Read(); err != nil {
					return // the client closed the connection
				}
			}
		})
		return uri
	}
	t.Run("no receipt in time", func(t *testing.T) {
		t.Parallel()
		cl, err := dial(t, silent(t), Config{ReceiptTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Disconnect(context.Background()); !errors.Is(err, ErrReceiptTimeout) {
			t.Errorf("Disconnect: %v, want ErrReceiptTimeout", err)
		}
	})
	t.Run("the caller gives up", func(t *testing.T) {
		t.Parallel()
		cl, err := dial(t, silent(t), Config{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := cl.Disconnect(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Disconnect: %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("confirmed", func(t *testing.T) {
		t.Parallel()
		b := startBroker(t, broker.Config{})
		cl, err := dial(t, "tcp://"+b.Addr(), Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Disconnect(context.Background()); err != nil {
			t.Errorf("Disconnect: %v", err)
		}
	})
}

// TestDisconnectAfterReconnect checks what a caller needs to tell whether
// the receipt of DISCONNECT confirms a SEND: after a reconnect the
// DISCONNECT goes on the new connection, whose number Link reports, and a
// SEND the old connection lost is not in the broker.
func TestDisconnectAfterReconnect(t *testing.T) {
	t.Parallel()
	b := startBroker(t, broker.Config{})
	cl, links := dialReconnecting(t, "failover:(tcp://"+b.Addr()+")?initialReconnectDelay=0")
	links.await(t, LinkUp)
	_, sent := cl.Link()
	b.DropOnceAfter(1) // the SEND is not taken: the connection closes at it
	if _, err := cl.Send("/queue/lost", []byte("x"), SendOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cl.Flush(); err != nil {
		t.Fatal(err)
	}
	links.await(t, LinkReconnecting)
	links.await(t, LinkUp)
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatalf("Disconnect on the new connection: %v", err)
	}
	state, conn := cl.Link()
	if state != LinkClosed || conn != sent+1 {
		t.Errorf("Link() after Disconnect = %v, %d; want closed, %d (the connection after the one of the SEND)", state, conn, sent+1)
	}
	if n := b.QueueDepth("/queue/lost"); n != 0 {
		t.Errorf("the broker holds %d messages: the SEND was not lost", n)
	}
}

// TestCommitOutcome checks that Commit tells a COMMIT that left without
// its receipt (ErrCommitUnconfirmed: the outcome is unknown) from one that
// was never sent.
func TestCommitOutcome(t *testing.T) {
	t.Parallel()
	b := startBroker(t, broker.Config{})
	cl, err := dial(t, "tcp://"+b.Addr(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := cl.Begin("")
	if err != nil {
		t.Fatal(err)
	}
	b.DropAfter(2) // CONNECT and BEGIN pass; the connection closes at COMMIT
	if err := cl.Commit(context.Background(), tx); !errors.Is(err, ErrCommitUnconfirmed) || !errors.Is(err, ErrConnectionLost) {
		t.Errorf("Commit dropped by the broker: %v, want ErrCommitUnconfirmed and a loss", err)
	}
	endErr(t, cl, "the client did not end after the loss")
	if err := cl.Commit(context.Background(), "tx-9"); err == nil || errors.Is(err, ErrCommitUnconfirmed) {
		t.Errorf("Commit on a lost connection: %v, want an error that is not ErrCommitUnconfirmed", err)
	}
}

// TestTransactionLostWithConnection checks that a transaction does not
// outlive its connection: after a reconnect, a SEND, COMMIT or ABORT of a
// transaction begun on the lost connection sends nothing; SEND and COMMIT
// are ErrTransactionLost (never ErrCommitUnconfirmed: no COMMIT left),
// ABORT succeeds (the broker aborted it).
func TestTransactionLostWithConnection(t *testing.T) {
	t.Parallel()
	b := startBroker(t, broker.Config{Record: true})
	cl, links := dialReconnecting(t, "failover:(tcp://"+b.Addr()+")?initialReconnectDelay=0")
	links.await(t, LinkUp)
	tx, err := cl.Begin("")
	if err != nil {
		t.Fatal(err)
	}
	txA, err := cl.Begin("")
	if err != nil {
		t.Fatal(err)
	}
	b.DropOnceAfter(3) // CONNECT and the BEGINs pass; the connection closes at the SEND
	if _, err := cl.Send("/queue/txl", []byte("x"), SendOptions{Transaction: tx}); err != nil {
		t.Fatal(err)
	}
	cl.Flush()
	links.await(t, LinkReconnecting)
	links.await(t, LinkUp)
	if _, err := cl.Send("/queue/txl", []byte("y"), SendOptions{Transaction: tx}); !errors.Is(err, ErrTransactionLost) {
		t.Errorf("Send in the lost transaction: %v, want ErrTransactionLost", err)
	}
	if err := cl.Commit(context.Background(), tx); !errors.Is(err, ErrTransactionLost) || errors.Is(err, ErrCommitUnconfirmed) {
		t.Errorf("Commit of the lost transaction: %v, want ErrTransactionLost only", err)
	}
	if err := cl.Abort(txA); err != nil {
		t.Errorf("Abort of the lost transaction: %v, want nil (the broker aborted it)", err)
	}
	tx2, err := cl.Begin("")
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Commit(context.Background(), tx2); err != nil {
		t.Errorf("a transaction of the new connection: %v", err)
	}
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	var after []string
	conns := 0
	for _, f := range b.Frames() {
		if f.Command == "CONNECT" || f.Command == "STOMP" {
			conns++
		} else if conns == 2 {
			after = append(after, string(f.Command)+" "+f.Header("transaction"))
		}
	}
	want := []string{"BEGIN " + tx2, "COMMIT " + tx2, "DISCONNECT "}
	if strings.Join(after, ",") != strings.Join(want, ",") {
		t.Errorf("the new connection got %q, want %q", after, want)
	}
}
