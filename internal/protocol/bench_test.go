package protocol

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// benchMessage is a typical 220-byte MESSAGE frame: six headers and a
// 100-byte body.
var benchMessage = "MESSAGE\n" +
	"subscription:sub-1\n" +
	"message-id:ID\\cbench-1\\c42\n" +
	"destination:/queue/stompest.bench\n" +
	"ack:ack-42\n" +
	"content-type:text/plain\n" +
	"content-length:100\n" +
	"\n" + strings.Repeat("x", 100) + "\x00"

// repeatReader yields data over and over, as much as the caller's buffer
// takes: an endless stream that is never the bottleneck.
type repeatReader struct {
	data []byte
	pos  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.pos:])
		n += c
		r.pos = (r.pos + c) % len(r.data)
	}
	return n, nil
}

// BenchmarkReader parses MESSAGE frames of 220 bytes into a fresh frame
// each time (Read) and into a reused frame (ReadFrame).
func BenchmarkReader(b *testing.B) {
	b.Run("message220/Read", func(b *testing.B) {
		r := NewReader(&repeatReader{data: []byte(benchMessage)})
		r.SetVersion(V12)
		b.SetBytes(int64(len(benchMessage)))
		b.ReportAllocs()
		for b.Loop() {
			f, err := r.Read()
			if err != nil || f.IsHeartBeat() {
				b.Fatal(err)
			}
		}
	})
	b.Run("message220/ReadFrame", func(b *testing.B) {
		r := NewReader(&repeatReader{data: []byte(benchMessage)})
		r.SetVersion(V12)
		var f Frame
		b.SetBytes(int64(len(benchMessage)))
		b.ReportAllocs()
		for b.Loop() {
			if err := r.ReadFrame(&f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("body64KiB/ReadFrame", func(b *testing.B) {
		wire, err := Encode(fr(CmdMessage, strings.Repeat("y", 64<<10), "destination", "/q", "message-id", "1", "subscription", "s"), V12)
		if err != nil {
			b.Fatal(err)
		}
		r := NewReader(&repeatReader{data: wire})
		r.SetVersion(V12)
		var f Frame
		b.SetBytes(int64(len(wire)))
		b.ReportAllocs()
		for b.Loop() {
			if err := r.ReadFrame(&f); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWriter encodes the same frames.
func BenchmarkWriter(b *testing.B) {
	r := NewReader(strings.NewReader(benchMessage))
	r.SetVersion(V12)
	msg, err := r.Read()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("message220", func(b *testing.B) {
		w := NewWriter(io.Discard)
		w.SetVersion(V12)
		b.SetBytes(int64(len(benchMessage)))
		b.ReportAllocs()
		for b.Loop() {
			if err := w.WriteFrame(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("body64KiB", func(b *testing.B) {
		big := fr(CmdMessage, "", "destination", "/q", "message-id", "1", "subscription", "s")
		big.Body = bytes.Repeat([]byte("y"), 64<<10)
		w := NewWriter(io.Discard)
		w.SetVersion(V12)
		b.SetBytes(int64(len(big.Body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := w.WriteFrame(big); err != nil {
				b.Fatal(err)
			}
		}
	})
}
