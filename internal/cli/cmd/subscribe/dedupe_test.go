package subscribe

import (
	"testing"
	"unsafe"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

func withID(id string) *client.Message {
	f := &protocol.Frame{Command: protocol.CmdMessage}
	if id != "" {
		f.Headers.Add("msg-id", id)
	}
	return &client.Message{Frame: f}
}

// TestDedupe checks --dedupe's bookkeeping: an id counts as a repeat only
// once its message was handled, a failed handler leaves it to be handled
// again, a message without the header is never a repeat, and off means
// nothing is ever a repeat.
func TestDedupe(t *testing.T) {
	t.Parallel()
	d := newDedupe("msg-id")
	a := withID("a")
	if d.repeat(a) || d.inHandler(a) {
		t.Fatal("a new id is a repeat or in a handler")
	}
	d.start(a)
	if !d.inHandler(withID("a")) || d.repeat(withID("a")) {
		t.Error("while its handler runs, a copy must wait, not be dropped")
	}
	d.end(a, false)
	if d.inHandler(withID("a")) || d.repeat(withID("a")) {
		t.Error("after a failed handler, the id must be handled again")
	}
	d.start(a)
	d.end(a, true)
	if !d.repeat(withID("a")) {
		t.Error("after a handled message, its id is not a repeat")
	}
	d.remember(withID(""))
	if d.repeat(withID("")) {
		t.Error("a message without the header is a repeat")
	}
	var off *dedupe = newDedupe("")
	off.remember(a)
	if off.repeat(a) || off.inHandler(a) {
		t.Error("with --dedupe off, a message is a repeat")
	}
}

// TestDedupeOutlivesTheBuffer: a remembered id stays what it was after the
// read buffer its message aliased is read into again (the client reuses
// it once subscribe recycled the message).
func TestDedupeOutlivesTheBuffer(t *testing.T) {
	t.Parallel()
	d := newDedupe("msg-id")
	buf := []byte("id-1")
	m := withID(unsafe.String(&buf[0], len(buf)))
	d.remember(m)
	copy(buf, "id-2")
	if !d.repeat(withID("id-1")) {
		t.Error("id-1 is no longer a repeat once its buffer was reused")
	}
	if d.repeat(withID("id-2")) {
		t.Error("id-2 is a repeat: the remembered id changed with the buffer")
	}
}
