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
