package client

import (
	"context"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/protocol"
)

// TestReceiptWaitRunsFromProgress checks that a receipt wait is measured
// from the last receipt that came, not from its start: a broker that
// takes longer than the receipt timeout to work through a burst, but
// confirms as it goes, is not reported as failed (#18, item 14). The
// client shows its progress every progressEvery SENDs for that.
func TestReceiptWaitRunsFromProgress(t *testing.T) {
	t.Parallel()
	const (
		n       = 10 * progressEvery
		timeout = 300 * time.Millisecond
		pause   = 60 * time.Millisecond // per progressEvery frames: 600 ms in all
	)
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
		for i := 1; ; i++ {
			f := c.read(t)
			if f == nil {
				return
			}
			if f.Command == protocol.CmdDisconnect {
				c.receipt(t, f)
				return
			}
			c.receipt(t, f)
			if i%progressEvery == 0 {
				time.Sleep(pause) // a slow broker
			}
		}
	})
	cl, err := dial(t, uri, Config{ReceiptTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var last *Receipt
	for i := range n {
		r, err := cl.Send("/queue/a", []byte("x"), SendOptions{Receipt: i == n-1})
		if err != nil {
			t.Fatal(err)
		}
		last = r
	}
	if err := cl.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := cl.WaitReceipt(context.Background(), last); err != nil {
		t.Fatalf("a slow broker that confirms as it goes: %v", err)
	}
	if err := cl.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
}
