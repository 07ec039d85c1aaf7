package broker

import (
	"strings"
	"testing"

	"github.com/stompest/stompest/internal/protocol"
)

// BenchmarkBrokerSend pumps pre-encoded 100-byte SEND frames into the
// broker over TCP as fast as the socket takes them and waits for the
// receipt of the last: the cost of taking in and storing a message. The
// queue keeps them all: without a memory budget, or flow control would
// hold the producer for good.
func BenchmarkBrokerSend(b *testing.B) {
	br := start(b, Config{MaxMemory: -1})
	p := connect(b, br, protocol.V12)
	frame := "SEND\ndestination:/queue/bench\npersistent:false\ncontent-length:100\n\n" + strings.Repeat("x", 100) + "\x00"
	block := []byte(strings.Repeat(frame, 256))
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for left := b.N; left > 0; left -= 256 {
		n := min(left, 256)
		if _, err := p.nc.Write(block[:n*len(frame)]); err != nil {
			b.Fatal(err)
		}
	}
	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "t"), "done")
	b.StopTimer()
	if d := br.QueueDepth("/queue/bench"); d != b.N {
		b.Fatalf("queue depth %d, want %d", d, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkBrokerDeliver fills a queue with b.N messages of 100 bytes,
// then subscribes with ack auto and reads them all: the cost of handing
// out a stored message.
func BenchmarkBrokerDeliver(b *testing.B) {
	_, p := storedQueue(b)
	p.send(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/bench", "id", "s"))
	var f protocol.Frame
	for i := range b.N {
		if err := p.readFrame(&f); err != nil {
			b.Fatal(err)
		}
		if f.Command != protocol.CmdMessage || len(f.Body) != 100 {
			b.Fatalf("message %d: %v", i, &f)
		}
		if i == 0 && !strings.HasPrefix(f.Header("message-id"), "ID:stompest-") {
			b.Fatalf("message-id %q", f.Header("message-id"))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkBrokerAck fills a queue with b.N messages of 100 bytes, then
// subscribes with client-individual acks and a window of 1000, and
// acknowledges each message as it arrives, 100 ACKs to a write: the cost of
// a delivery and its ACK.
func BenchmarkBrokerAck(b *testing.B) {
	br, p := storedQueue(b)
	p.send(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/bench", "id", "s",
		"ack", "client-individual", "prefetch-count", "1000"))
	var f protocol.Frame
	var acks []byte
	for i := range b.N {
		if err := p.readFrame(&f); err != nil {
			b.Fatal(err)
		}
		if f.Command != protocol.CmdMessage {
			b.Fatalf("message %d: %v", i, &f)
		}
		acks = append(acks, "ACK\nid:"...)
		acks = append(acks, f.Header("ack")...)
		acks = append(acks, "\n\n\x00"...)
		if (i+1)%100 == 0 || i == b.N-1 {
			if _, err := p.nc.Write(acks); err != nil {
				b.Fatal(err)
			}
			acks = acks[:0]
		}
	}
	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "t"), "done")
	b.StopTimer()
	if d := br.QueueDepth("/queue/bench"); d != 0 {
		b.Fatalf("queue depth %d after every ACK, want 0", d)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// storedQueue starts a broker whose /queue/bench holds b.N messages of 100
// bytes and connects a consumer to it; the timer starts then.
func storedQueue(b *testing.B) (*Broker, *peer) {
	br := start(b, Config{})
	body := []byte(strings.Repeat("x", 100))
	hs := protocol.Headers{{Name: "persistent", Value: "false"}}
	var err error
	br.mu.Lock()
	for i := 0; i < b.N && err == nil; i++ {
		err = br.publish("/queue/bench", hs, body)
	}
	br.mu.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	p := connect(b, br, protocol.V12)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	return br, p
}

// readFrame reads the next frame into f, skipping the EOL that follows
// each frame's NUL (and heart-beats), as a client does.
func (p *peer) readFrame(f *protocol.Frame) error {
	for {
		if err := p.r.ReadFrame(f); err != nil || !f.IsHeartBeat() {
			return err
		}
	}
}
