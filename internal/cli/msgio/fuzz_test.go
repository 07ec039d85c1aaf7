package msgio

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stompest/stompest/internal/protocol"
)

// FuzzJSONL feeds arbitrary lines to `send --input jsonl`'s decoder. A
// line is refused with an error or becomes a message whose frame, written
// and read back in STOMP 1.2, has exactly the record's body and headers:
// colons, backslashes, newlines and unicode survive the escaping. The
// record `subscribe -o jsonl` would print for that frame decodes to the
// same message again.
func FuzzJSONL(f *testing.F) {
	for _, seed := range []string{
		`{"destination":"/queue/a","body":"hello"}`,
		`{"destination":"/queue/a","headers":{"k":"a:b\\c","n":"x\ny","ü":"☕"},"body":"AAEC","body_encoding":"base64"}`,
		`{"op":"ack","destination":"/queue/a","count":2}`,
		`{"body":"x","body_encoding":"hex"}`,
		`{"body":"x"} {"body":"y"}`,
		`{"headers":{"":"empty name"},"body":""}`,
		`not json`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := DecodeRecord(line)
		if err != nil {
			return
		}
		body, err := r.Bytes()
		if err != nil {
			return
		}
		headers := r.HeaderList(false)
		dest := r.Destination
		if dest == "" {
			dest = "/queue/fuzz"
		}
		frame := &protocol.Frame{Command: protocol.CmdSend, Body: body,
			Headers: append(protocol.Headers{{Name: protocol.HdrDestination, Value: dest}}, headers...)}
		wire, err := protocol.Encode(frame, protocol.V12)
		if err != nil {
			return // a header STOMP cannot carry: send reports it
		}
		rd := protocol.NewReader(bytes.NewReader(wire))
		rd.SetVersion(protocol.V12)
		got, err := rd.Read()
		if err != nil {
			t.Fatalf("reading back %q: %v", wire, err)
		}
		if !bytes.Equal(got.Body, body) {
			t.Fatalf("body %q came back as %q", body, got.Body)
		}
		for _, h := range frame.Headers {
			if v, _ := got.Headers.Get(h.Name); v != h.Value {
				t.Fatalf("header %q: %q came back as %q", h.Name, h.Value, v)
			}
		}
		var out bytes.Buffer
		if err := JSONLine(&out, RecordOf(1, got)); err != nil {
			t.Fatal(err)
		}
		again, err := DecodeRecord(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
		if err != nil {
			t.Fatalf("the printed record %q does not decode: %v", out.Bytes(), err)
		}
		againBody, err := again.Bytes()
		if err != nil || !bytes.Equal(againBody, body) {
			t.Fatalf("the printed record's body %q (%v), want %q", againBody, err, body)
		}
		if again.Destination != dest {
			t.Fatalf("destination %q came back as %q", dest, again.Destination)
		}
	})
}

// FuzzSplitter: the records of --lines, --null and --delimiter, joined by
// the delimiter, give the input back (the last delimiter is optional).
func FuzzSplitter(f *testing.F) {
	f.Add([]byte("a\nb\n\nc"), []byte("\n"))
	f.Add([]byte("x--y----z--"), []byte("--"))
	f.Add([]byte("aab"), []byte("ab"))
	f.Fuzz(func(t *testing.T, data, delim []byte) {
		if len(delim) == 0 {
			return
		}
		s := NewSplitter(bytes.NewReader(data), delim)
		var recs [][]byte
		for {
			rec, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, bytes.Clone(rec))
			if len(recs) > len(data)+1 {
				t.Fatalf("more records than bytes")
			}
		}
		joined := bytes.Join(recs, delim)
		if !bytes.Equal(joined, data) && !bytes.Equal(append(joined, delim...), data) {
			t.Fatalf("records %q joined by %q give %q, want %q", recs, delim, joined, data)
		}
	})
}
