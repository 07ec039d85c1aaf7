package protocol

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReaderRecycleChunks reads frames into buffers that are reused once
// released: a frame stays intact for as long as its chunk is held (a few
// held for good, the rest released some frames later, as a consumer
// does), and released chunks are read into again.
func TestReaderRecycleChunks(t *testing.T) {
	t.Parallel()
	const n = 20000
	body := func(i int) string {
		if i%997 == 5 {
			return strings.Repeat("B", OwnBody+i) // a buffer of its own
		}
		return strings.Repeat(string(rune('a'+i%26)), i%300)
	}
	var wire bytes.Buffer
	for i := range n {
		wire.WriteString("MESSAGE\nk:v\\c" + strconv.Itoa(i) + "\n" + strings.Repeat("h:1\n", i%4))
		if i%3 == 0 {
			wire.WriteString("content-length:" + strconv.Itoa(len(body(i))) + "\n")
		}
		wire.WriteString("\n" + body(i) + "\x00\n")
	}
	total := wire.Len()
	r := NewReader(iotest.HalfReader(&wire))
	r.SetVersion(V12)
	r.RecycleChunks()
	type held struct {
		i int
		f *Frame
		c *Chunk
	}
	check := func(h held) {
		t.Helper()
		if got := h.f.Header("k"); got != "v:"+strconv.Itoa(h.i) || string(h.f.Body) != body(h.i) {
			t.Fatalf("frame %d changed while its chunk was held: k:%q, %d bytes of body", h.i, got, len(h.f.Body))
		}
	}
	var inFlight, kept []held
	chunks := map[*Chunk]bool{}
	for i := 0; ; {
		f := &Frame{}
		if err := r.ReadTo(f); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if f.IsHeartBeat() {
			continue
		}
		// No chunk for a body in a buffer of its own, nor for frames in
		// a buffer larger than a chunk (after a body without
		// content-length that did not fit one): those are never reused.
		h := held{i, f, r.HoldChunk()}
		if h.c != nil {
			chunks[h.c] = true
		}
		if i%1000 == 0 {
			kept = append(kept, h)
		} else {
			inFlight = append(inFlight, h)
		}
		if len(inFlight) > 50 {
			check(inFlight[0])
			inFlight[0].c.Release()
			inFlight = inFlight[1:]
		}
		i++
	}
	for _, h := range append(kept, inFlight...) {
		check(h)
	}
	if read := total / chunkSize; len(chunks) > read/2 {
		t.Errorf("%d chunks for %d bytes: released chunks are not reused", len(chunks), total)
	}
}

// TestChunkReleasedTooOften: a chunk released more often than it was held
// is a bug of its holder, which Release reports once the Reader has moved
// on from the chunk.
func TestChunkReleasedTooOften(t *testing.T) {
	t.Parallel()
	wire := strings.Repeat("MESSAGE\n\n"+strings.Repeat("x", 1000)+"\x00", 3*chunkSize/1000)
	r := NewReader(strings.NewReader(wire))
	r.RecycleChunks()
	if err := r.ReadTo(&Frame{}); err != nil {
		t.Fatal(err)
	}
	c := r.HoldChunk()
	for {
		if err := r.ReadTo(&Frame{}); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if r.chunk == c {
		t.Fatal("the Reader is still on the first chunk")
	}
	c.Release()
	defer func() {
		if recover() == nil {
			t.Error("a second Release did not panic")
		}
	}()
	c.Release()
}
