package broker

import (
	"math"
	"strconv"

	"github.com/stompest/stompest/internal/protocol"
)

// The headers a dead letter gains: the queue its message was NACKed on,
// under the name ActiveMQ gives it over STOMP, so that tools handle the
// dead letters of both alike; and why it is a dead letter.
const (
	HdrOriginalDestination = "original-destination"
	HdrDeadLetterReason    = "dead-letter-reason"
)

// nacked counts a NACK against the message of each delivery of ds (all
// NACKed at once) and sends those NACKed more than Config.MaxRedeliveries
// times to the dead-letter queue. It returns the others, which go back to
// their queues; ds is filtered in place. Called with b.mu held.
func (b *Broker) nacked(ds []*delivery) []*delivery {
	if !b.cfg.DeadLetter {
		return ds
	}
	back := ds[:0]
	for _, d := range ds {
		q := d.sub.q
		if q == nil || d.sub.topic || q.name == b.cfg.DeadLetterQueue {
			back = append(back, d) // only queues keep messages; a dead letter stays one
			continue
		}
		if d.msg.nacks < math.MaxUint32 {
			d.msg.nacks++
		}
		if int64(d.msg.nacks) <= int64(b.cfg.MaxRedeliveries) {
			back = append(back, d)
			continue
		}
		if err := b.deadLetter(q.name, d.msg); err != nil {
			b.logf("dead letter: %s of %s stays in its queue: %v", appendMessageID(nil, d.msg.seq), q.name, err)
			back = append(back, d)
			continue
		}
		q.st.dequeued++ // and enqueued in the dead-letter queue
	}
	return back
}

// deadLetter stores a copy of m, NACKed on the queue from, in the
// dead-letter queue, and lets go of m. The copy is a new message: a
// message-id of its own, the body and the sender's headers of m, and
// HdrOriginalDestination and HdrDeadLetterReason (replacing those m
// carried, if it was a dead letter before). It replaces m in the memory
// budget and is never held for memory, as a message requeued is not.
// Called with b.mu held.
func (b *Broker) deadLetter(from string, m message) error {
	hs, body := m.decode()
	reason := "NACKed " + strconv.FormatUint(uint64(m.nacks), 10) + " times"
	if m.nacks == 1 {
		reason = "NACKed 1 time"
	}
	headers := make(protocol.Headers, 0, len(hs))
	for _, h := range hs[2:] { // after destination and message-id
		if h.Name != HdrOriginalDestination && h.Name != HdrDeadLetterReason {
			headers = append(headers, h)
		}
	}
	headers = append(headers,
		protocol.Header{Name: HdrOriginalDestination, Value: from},
		protocol.Header{Name: HdrDeadLetterReason, Value: reason})
	if err := b.publish(b.cfg.DeadLetterQueue, headers, body); err != nil {
		return err
	}
	b.release(m.cost())
	b.logf("dead letter: %s of %s %s, moved to %s", appendMessageID(nil, m.seq), from, reason, b.cfg.DeadLetterQueue)
	return nil
}
