package client

import (
	"context"
	"strings"
	"testing"

	"github.com/stompest/stompest/internal/protocol"
)

// BenchmarkSendPipeline sends 100-byte messages to a peer that only reads
// them (it is not the bottleneck), with a receipt on the last one.
func BenchmarkSendPipeline(b *testing.B) {
	ready := make(chan struct{})
	_, uri := startPeer(b, func(_ int, c *conn) {
		c.connected(b)
		close(ready)
		var f protocol.Frame
		for {
			if err := c.r.ReadFrame(&f); err != nil {
				return
			}
			if id, ok := f.Lookup("receipt"); ok {
				c.w.WriteFrame(protocol.NewFrame(protocol.CmdReceipt, "receipt-id", id))
				c.w.Flush()
			}
		}
	})
	cl, err := Dial(context.Background(), Config{URI: mustURI(b, uri)})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	<-ready
	body := []byte(strings.Repeat("x", 100))
	headers := protocol.Headers{{Name: "persistent", Value: "true"}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r, err := cl.Send("/queue/bench", body, SendOptions{Headers: headers, Receipt: i == b.N-1})
		if err != nil {
			b.Fatal(err)
		}
		if r != nil {
			cl.Flush()
			if err := cl.WaitReceipt(context.Background(), r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkConsume receives 220-byte MESSAGE frames (100-byte bodies) from
// a peer that writes them as fast as the socket takes them, through
// Messages(), as a subscriber with ack auto does.
func BenchmarkConsume(b *testing.B) {
	frame := "MESSAGE\nsubscription:sub-0\nmessage-id:ID\\cbench-1\\c42\ndestination:/queue/bench\n" +
		"content-type:text/plain\ncontent-length:100\n\n" + strings.Repeat("x", 100) + "\x00"
	n := b.N
	_, uri := startPeer(b, func(_ int, c *conn) {
		c.connected(b)
		c.receipt(b, c.read(b)) // SUBSCRIBE
		c.w.Flush()
		block := []byte(strings.Repeat(frame, 256))
		for left := n; left > 0; left -= 256 {
			p := block
			if left < 256 {
				p = p[:left*len(frame)]
			}
			if _, err := c.Write(p); err != nil {
				return
			}
		}
		var f protocol.Frame
		c.r.ReadFrame(&f) // until the client goes
	})
	cl, err := Dial(context.Background(), Config{URI: mustURI(b, uri)})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Subscribe(context.Background(), "/queue/bench", protocol.Headers{{Name: "id", Value: "sub-0"}}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for range n {
		m, ok := <-cl.Messages()
		if !ok || len(m.Body) != 100 {
			b.Fatalf("message %v, %v", m, cl.Err())
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkConsumeBatches is BenchmarkConsume through Batches(), as
// subscribe takes messages when it writes them to a stream: keeping each
// batch (left to the collector) and recycling it, as subscribe does.
func BenchmarkConsumeBatches(b *testing.B) {
	b.Run("keep", func(b *testing.B) { consumeBatches(b, false) })
	b.Run("recycle", func(b *testing.B) { consumeBatches(b, true) })
}

func consumeBatches(b *testing.B, recycle bool) {
	frame := "MESSAGE\nsubscription:sub-0\nmessage-id:ID\\cbench-1\\c42\ndestination:/queue/bench\n" +
		"content-type:text/plain\ncontent-length:100\n\n" + strings.Repeat("x", 100) + "\x00"
	n := b.N
	_, uri := startPeer(b, func(_ int, c *conn) {
		c.connected(b)
		c.receipt(b, c.read(b)) // SUBSCRIBE
		c.w.Flush()
		block := []byte(strings.Repeat(frame, 256))
		for left := n; left > 0; left -= 256 {
			p := block
			if left < 256 {
				p = p[:left*len(frame)]
			}
			if _, err := c.Write(p); err != nil {
				return
			}
		}
		var f protocol.Frame
		c.r.ReadFrame(&f) // until the client goes
	})
	cl, err := Dial(context.Background(), Config{URI: mustURI(b, uri), Batches: true})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Subscribe(context.Background(), "/queue/bench", protocol.Headers{{Name: "id", Value: "sub-0"}}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for got := 0; got < n; {
		ms, ok := <-cl.Batches()
		if !ok {
			b.Fatalf("after %d messages: %v", got, cl.Err())
		}
		for _, m := range ms {
			if len(m.Body) != 100 {
				b.Fatalf("message %v", m)
			}
		}
		got += len(ms)
		if recycle {
			cl.Recycle(ms)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
