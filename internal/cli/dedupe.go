package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strconv"

	"github.com/stompest/stompest/internal/client"
)

// dedupeWindow is how many ids `subscribe --dedupe` remembers.
const dedupeWindow = 1 << 20

// dedupe tells repeats of a message apart by a header that the producer
// made unique (`send --id-header`): it remembers the last dedupeWindow
// values seen in this session.
type dedupe struct {
	header string
	seen   map[string]struct{}
	ring   []string
	next   int
}

func newDedupe(header string) *dedupe {
	if header == "" {
		return nil
	}
	return &dedupe{header: header, seen: map[string]struct{}{}}
}

// repeat reports whether m carries an id seen before, and remembers it. A
// message without the header is never a repeat.
func (d *dedupe) repeat(m *client.Message) bool {
	if d == nil {
		return false
	}
	id, ok := m.Headers.Get(d.header)
	if !ok {
		return false
	}
	if _, dup := d.seen[id]; dup {
		return true
	}
	if len(d.ring) < dedupeWindow {
		d.ring = append(d.ring, id)
	} else {
		delete(d.seen, d.ring[d.next])
		d.ring[d.next] = id
		d.next = (d.next + 1) % dedupeWindow
	}
	d.seen[id] = struct{}{}
	return false
}

var errNotSeekable = errors.New("a body that cannot be read twice")

// messageID is the stable id `send --id-header` gives the seq-th message
// of a run: its sequence number and the start of the SHA-256 of its
// destination and body, so that a rerun of the same input gives the same
// ids. A streamed body is read once for the hash and rewound.
func messageID(seq int, m *outgoing) (string, error) {
	h := sha256.New()
	io.WriteString(h, m.dest)
	h.Write([]byte{0})
	if m.stream != nil {
		s, ok := m.stream.(io.ReadSeeker)
		if !ok {
			return "", errNotSeekable
		}
		if _, err := io.CopyN(h, s, m.size); err != nil {
			return "", err
		}
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
	} else {
		h.Write(m.body)
	}
	return strconv.Itoa(seq) + "-" + hex.EncodeToString(h.Sum(nil)[:8]), nil
}
