package subscribe

import (
	"strings"

	"github.com/stompest/stompest/internal/client"
)

// dedupeWindow is how many ids `subscribe --dedupe` remembers.
const dedupeWindow = 1 << 20

// dedupe tells repeats of a message apart by a header that the producer
// made unique (`send --id-header`): it remembers the last dedupeWindow
// values of messages handled in this session. An id is remembered only
// once its message was handled (written, or its handler succeeded): a
// message handed back (NACK, a failed handler) comes again and is handled
// again, not dropped as a repeat.
type dedupe struct {
	header string
	seen   map[string]struct{}
	ring   []string
	next   int
	busy   map[string]struct{} // ids whose message a handler has now
}

func newDedupe(header string) *dedupe {
	if header == "" {
		return nil
	}
	return &dedupe{header: header, seen: map[string]struct{}{}, busy: map[string]struct{}{}}
}

// key returns m's id under the dedupe header; false when deduplication is
// off or m carries no id (such a message is never a repeat).
func (d *dedupe) key(m *client.Message) (string, bool) {
	if d == nil {
		return "", false
	}
	return m.Headers.Get(d.header)
}

// repeat reports whether m carries the id of a message handled before.
func (d *dedupe) repeat(m *client.Message) bool { return d.holds(m, false) }

// holds reports whether m has an id and it is among the handled ones, or
// the ones in a handler now when busy.
func (d *dedupe) holds(m *client.Message, busy bool) bool {
	id, ok := d.key(m)
	if !ok {
		return false
	}
	set := d.seen
	if busy {
		set = d.busy
	}
	_, in := set[id]
	return in
}

// remember records m's id as handled.
func (d *dedupe) remember(m *client.Message) {
	id, ok := d.key(m)
	if !ok {
		return
	}
	if _, dup := d.seen[id]; dup {
		return
	}
	// The id aliases the message's read buffer, which the client reuses
	// once the message is recycled.
	id = strings.Clone(id)
	if len(d.ring) < dedupeWindow {
		d.ring = append(d.ring, id)
	} else {
		delete(d.seen, d.ring[d.next])
		d.ring[d.next] = id
		d.next = (d.next + 1) % dedupeWindow
	}
	d.seen[id] = struct{}{}
}

// inHandler reports whether a handler has a message with m's id now: m waits
// for its outcome (a repeat once it succeeded, to handle if it failed).
func (d *dedupe) inHandler(m *client.Message) bool { return d.holds(m, true) }

// start records that a handler took m.
func (d *dedupe) start(m *client.Message) {
	if id, ok := d.key(m); ok {
		d.busy[id] = struct{}{}
	}
}

// end records the outcome of m's handler: its id is remembered only when
// the message was handled.
func (d *dedupe) end(m *client.Message, handled bool) {
	id, ok := d.key(m)
	if !ok {
		return
	}
	delete(d.busy, id)
	if handled {
		d.remember(m)
	}
}
