package client

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stompest/stompest/internal/protocol"
)

// TestRecycle consumes batches and recycles most of them: every message
// arrives intact, in order, and the batches kept (not recycled) stay
// intact while the reader reads on into the memory of recycled ones.
func TestRecycle(t *testing.T) {
	t.Parallel()
	const n = 30000
	body := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), 50+i%200) }
	_, uri := startPeer(t, func(_ int, c *conn) {
		c.connected(t)
		sub := c.read(t)
		c.receipt(t, sub)
		c.w.Flush()
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "MESSAGE\nsubscription:%s\ndestination:/queue/r\nmessage-id:m-%d\n", sub.Header("id"), i)
			if i%2 == 0 {
				fmt.Fprintf(&b, "content-length:%d\n", len(body(i)))
			}
			fmt.Fprintf(&b, "\n%s\x00", body(i))
			if b.Len() > 8000 || i == n-1 {
				if _, err := c.Write([]byte(b.String())); err != nil {
					return
				}
				b.Reset()
			}
		}
		drainUntilClosed(t, c)
	})
	cl, err := dial(t, uri, Config{Batches: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Subscribe(context.Background(), "/queue/r", protocol.Headers{{Name: "id", Value: "s"}}); err != nil {
		t.Fatal(err)
	}
	check := func(i int, m *Message) {
		t.Helper()
		if id := m.Header("message-id"); id != "m-"+strconv.Itoa(i) || string(m.Body) != body(i) {
			t.Fatalf("message %d: message-id %q, body of %d bytes", i, id, len(m.Body))
		}
	}
	type keptBatch struct {
		first int
		ms    []*Message
	}
	var kept []keptBatch
	batches := 0
	for got := 0; got < n; {
		ms, ok := <-cl.Batches()
		if !ok {
			t.Fatalf("after %d messages: %v", got, cl.Err())
		}
		for j, m := range ms {
			check(got+j, m)
		}
		if batches%10 == 3 {
			kept = append(kept, keptBatch{got, ms})
		} else {
			cl.Recycle(ms)
		}
		got += len(ms)
		batches++
	}
	for _, k := range kept {
		for j, m := range k.ms {
			check(k.first+j, m)
		}
	}
	if len(kept) == 0 {
		t.Fatal("no batch kept")
	}
}

// TestRecycleForeign: recycling a message the client did not deliver is a
// bug of the caller, which Recycle reports instead of reusing its memory.
func TestRecycleForeign(t *testing.T) {
	t.Parallel()
	c := newClient(Config{Batches: true})
	defer func() {
		if recover() == nil {
			t.Error("Recycle of a foreign message did not panic")
		}
	}()
	c.Recycle([]*Message{{Frame: &protocol.Frame{}}})
}
