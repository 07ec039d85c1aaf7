package broker_test

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// startForClients starts a broker for the tests' clients, stopped at the
// end of the test, and returns it with its URI.
func startForClients(t *testing.T) (*broker.Broker, *failover.URI) {
	t.Helper()
	b := broker.New(broker.Config{Addr: "127.0.0.1:0"})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	u, err := failover.Parse("tcp://" + b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	return b, u
}

// TestLoad: 200 concurrent connections, 100 producers each sending 1,000
// numbered messages to a queue of its own and 100 consumers acknowledging
// them one by one: every message arrives exactly once, in order.
func TestLoad(t *testing.T) {
	t.Parallel()
	const pairs, perPair = 100, 1000
	b, u := startForClients(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dial := func() (*client.Client, error) {
		return client.Dial(ctx, client.Config{URI: u, ConnectTimeout: 30 * time.Second, ReceiptTimeout: time.Minute})
	}

	// Every consumer subscribes before any producer sends.
	consumers := make([]*client.Client, pairs)
	for i := range consumers {
		c, err := dial()
		if err != nil {
			t.Fatalf("consumer %d: %v", i, err)
		}
		defer c.Close()
		var h protocol.Headers
		h.Add(protocol.HdrAck, protocol.AckClientIndividual)
		h.Add("prefetch-count", "100")
		if _, err := c.Subscribe(ctx, "/queue/load-"+strconv.Itoa(i), h); err != nil {
			t.Fatalf("consumer %d: %v", i, err)
		}
		consumers[i] = c
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*pairs)
	for i := range pairs {
		wg.Add(2)
		go func() { // producer i
			defer wg.Done()
			c, err := dial()
			if err != nil {
				errs <- fmt.Errorf("producer %d: %v", i, err)
				return
			}
			defer c.Close()
			dest := "/queue/load-" + strconv.Itoa(i)
			var last *client.Receipt
			for n := range perPair {
				r, err := c.Send(dest, []byte(strconv.Itoa(n)), client.SendOptions{Receipt: n == perPair-1})
				if err != nil {
					errs <- fmt.Errorf("producer %d, message %d: %v", i, n, err)
					return
				}
				if r != nil {
					last = r
				}
			}
			if err := c.Flush(); err != nil {
				errs <- fmt.Errorf("producer %d: %v", i, err)
				return
			}
			if err := c.WaitReceipt(ctx, last); err != nil {
				errs <- fmt.Errorf("producer %d: last receipt: %v", i, err)
				return
			}
			if err := c.Disconnect(ctx); err != nil {
				errs <- fmt.Errorf("producer %d: disconnect: %v", i, err)
			}
		}()
		go func(c *client.Client) { // consumer i
			defer wg.Done()
			for n := range perPair {
				var m *client.Message
				select {
				case m = <-c.Messages():
				case <-ctx.Done():
					errs <- fmt.Errorf("consumer %d: message %d never came", i, n)
					return
				}
				if m == nil {
					errs <- fmt.Errorf("consumer %d: connection ended at message %d: %v", i, n, c.Err())
					return
				}
				if got := string(m.Body); got != strconv.Itoa(n) {
					errs <- fmt.Errorf("consumer %d: message %d is %q: lost, duplicated or out of order", i, n, got)
					return
				}
				if err := c.Ack(m, ""); err != nil {
					errs <- fmt.Errorf("consumer %d: ack %d: %v", i, n, err)
					return
				}
				if len(c.Messages()) == 0 {
					c.Flush()
				}
			}
		}(consumers[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range pairs {
		if n := b.QueueDepth("/queue/load-" + strconv.Itoa(i)); n != 0 {
			t.Errorf("queue %d: %d messages left", i, n)
		}
	}
	// Nothing more arrives: no message was delivered twice.
	for i, c := range consumers {
		select {
		case m := <-c.Messages():
			t.Errorf("consumer %d: an extra message %q", i, m.Body)
		default:
		}
	}
}

var soak = flag.Duration("soak", 3*time.Second, "how long TestSoak runs (CI: the default; a release: -soak 10m)")

// TestSoak keeps a producer and a consumer busy through the broker for
// -soak, opening a new pair of connections every second, and checks that
// the heap and the goroutines stay flat: the second half of the run ends
// no bigger than the first half ended, give or take a margin. It does not
// run in parallel: other tests' goroutines would be counted.
func TestSoak(t *testing.T) {
	b, u := startForClients(t)
	ctx := context.Background()
	cfg := client.Config{URI: u, ConnectTimeout: 30 * time.Second, ReceiptTimeout: time.Minute}
	round := func(n int) {
		c, err := client.Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := client.Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var h protocol.Headers
		h.Add(protocol.HdrAck, protocol.AckClientIndividual)
		if _, err := c.Subscribe(ctx, "/queue/soak", h); err != nil {
			t.Fatal(err)
		}
		var last *client.Receipt
		for i := range n {
			if last, err = p.Send("/queue/soak", []byte("soak"), client.SendOptions{Receipt: i == n-1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitReceipt(ctx, last); err != nil {
			t.Fatal(err)
		}
		for range n {
			m := <-c.Messages()
			if m == nil {
				t.Fatalf("consumer ended: %v", c.Err())
			}
			if err := c.Ack(m, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	measure := func() (heap uint64, goroutines int) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, runtime.NumGoroutine()
	}
	half := time.Now().Add(*soak / 2)
	end := time.Now().Add(*soak)
	var heap1 uint64
	var g1 int
	rounds := 0
	for time.Now().Before(end) {
		round(2000)
		rounds++
		if heap1 == 0 && time.Now().After(half) {
			heap1, g1 = measure()
		}
	}
	heap2, g2 := measure()
	t.Logf("%d rounds of 2,000 messages; heap %d -> %d bytes, goroutines %d -> %d", rounds, heap1, heap2, g1, g2)
	if heap2 > heap1*3/2+4<<20 {
		t.Errorf("the heap grew from %d to %d bytes", heap1, heap2)
	}
	if g2 > g1+4 {
		t.Errorf("goroutines grew from %d to %d", g1, g2)
	}
	if n := b.QueueDepth("/queue/soak"); n != 0 {
		t.Errorf("%d messages left", n)
	}
}
