package bench

import (
	"strings"
	"testing"

	gostomp "github.com/go-stomp/stomp/v3/frame"

	"github.com/stompest/stompest/internal/protocol"
)

// message220 is the same 220-byte MESSAGE frame the protocol package's own
// benchmarks parse: six headers and a 100-byte body.
var message220 = "MESSAGE\n" +
	"subscription:sub-1\n" +
	"message-id:ID\\cbench-1\\c42\n" +
	"destination:/queue/stompest.bench\n" +
	"ack:ack-42\n" +
	"content-type:text/plain\n" +
	"content-length:100\n" +
	"\n" + strings.Repeat("x", 100) + "\x00"

var body64K = "MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:s\ncontent-length:65536\n\n" + strings.Repeat("y", 64<<10) + "\x00"

// endless yields data over and over, as much as the reader asks for: a
// source that is never the bottleneck.
type endless struct {
	data []byte
	pos  int
}

func (r *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.pos:])
		n += c
		r.pos = (r.pos + c) % len(r.data)
	}
	return n, nil
}

func benchGoStomp(b *testing.B, wire string) {
	r := gostomp.NewReader(&endless{data: []byte(wire)})
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Read(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRead(b *testing.B, wire string) {
	r := protocol.NewReader(&endless{data: []byte(wire)})
	r.SetVersion(protocol.V12)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Read(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchReadFrame(b *testing.B, wire string) {
	r := protocol.NewReader(&endless{data: []byte(wire)})
	r.SetVersion(protocol.V12)
	var f protocol.Frame
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.ReadFrame(&f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse parses identical frames with go-stomp's frame reader and
// with stompest's Reader (Read: a fresh frame each time; ReadFrame: a
// reused one).
func BenchmarkParse(b *testing.B) {
	b.Run("message220/go-stomp", func(b *testing.B) { benchGoStomp(b, message220) })
	b.Run("message220/stompest-Read", func(b *testing.B) { benchRead(b, message220) })
	b.Run("message220/stompest-ReadFrame", func(b *testing.B) { benchReadFrame(b, message220) })
	b.Run("body64KiB/go-stomp", func(b *testing.B) { benchGoStomp(b, body64K) })
	b.Run("body64KiB/stompest-Read", func(b *testing.B) { benchRead(b, body64K) })
	b.Run("body64KiB/stompest-ReadFrame", func(b *testing.B) { benchReadFrame(b, body64K) })
}

// TestSameFrame checks that both readers see the same frame in the input.
func TestSameFrame(t *testing.T) {
	g, err := gostomp.NewReader(strings.NewReader(message220)).Read()
	if err != nil {
		t.Fatal(err)
	}
	r := protocol.NewReader(strings.NewReader(message220))
	r.SetVersion(protocol.V12)
	s, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if g.Command != string(s.Command) || string(g.Body) != string(s.Body) || g.Header.Len() != len(s.Headers) {
		t.Fatalf("go-stomp %v, stompest %v", g, s)
	}
	for i := range s.Headers {
		k, v := g.Header.GetAt(i)
		if k != s.Headers[i].Name || v != s.Headers[i].Value {
			t.Fatalf("header %d: go-stomp %s:%s, stompest %s:%s", i, k, v, s.Headers[i].Name, s.Headers[i].Value)
		}
	}
}
