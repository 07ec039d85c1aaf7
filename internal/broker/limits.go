package broker

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/stompest/stompest/internal/protocol"
)

// take counts n more bytes of messages held.
func (b *Broker) take(n int64) { b.held.Add(n) }

// release counts n bytes of messages no longer held, and wakes the held
// SENDs once memory is back under the budget.
func (b *Broker) release(n int64) {
	if n == 0 {
		return
	}
	b.held.Add(-n)
	b.freed()
}

// freed wakes the held SENDs once memory is back under the budget.
func (b *Broker) freed() {
	if b.nblocked.Load() > 0 && !b.over() {
		b.wakeFlow()
	}
}

func (b *Broker) wakeFlow() {
	select {
	case b.flowWake <- struct{}{}:
	default:
	}
}

// recharge counts queueCost for q while it holds messages, when it is one
// of b.queues (any destination but a topic's: a topic subscription's
// queue counts with its subscription). Called with b.mu held, after its
// messages changed.
func (b *Broker) recharge(q *queue) {
	if (q.msgs.len() > 0) == q.charged || isTopic(q.name) {
		return
	}
	q.charged = !q.charged
	if q.charged {
		b.queueful.Add(queueCost)
		return
	}
	b.queueful.Add(-queueCost)
	b.freed()
}

// keepFor counts n more bytes of subscriptions or transactions of c.
// Called with b.mu held.
func (b *Broker) keepFor(c *conn, n int64) {
	c.kept += n
	b.kept.Add(n)
}

// exhausted returns the ERROR for a SUBSCRIBE or BEGIN of c once its
// subscriptions and transactions count a sixteenth of the budget (64 KiB at
// least), or those of every connection a quarter (128 KiB at least). They
// are not held for memory as SENDs are (only their owners free them), so
// one careless client could otherwise grow the broker without bound; and
// they do not hold SENDs back, which consumers could not undo. Called with
// b.mu held.
func (b *Broker) exhausted(c *conn, what string) error {
	if b.limit == 0 {
		return nil
	}
	if share := max(b.limit/8, 64<<10); c.kept >= share {
		return &errFrame{message: "too many " + what + " on one connection", detail: fmt.Sprintf(
			"its subscriptions and transactions count %d bytes, a sixteenth of the broker's memory budget (--max-memory)", c.kept)}
	}
	if all := b.kept.Load(); all >= max(b.limit/2, 128<<10) {
		return &errFrame{message: "memory budget exhausted by " + what, detail: fmt.Sprintf(
			"the subscriptions and transactions of all connections count %d bytes, a quarter of the broker's memory budget (--max-memory)", all)}
	}
	return nil
}

// over reports whether the messages held and the queues holding them
// exceed the messages' share of the budget. What only their owners can
// free (open transactions, subscriptions) is capped apart instead, so
// that holding SENDs back never waits for what consumers cannot undo.
func (b *Broker) over() bool { return b.limit > 0 && b.held.Load()+b.queueful.Load() > b.limit }

// budgetUsed returns what counts against the budget, all of it.
func (b *Broker) budgetUsed() int64 {
	return b.held.Load() + b.queueful.Load() + b.txHeld.Load() + b.kept.Load()
}

// MemoryHeld returns how many bytes the messages the broker holds count
// against its budget: those of its queues (with the queues that hold
// them, half of Config.MaxMemory at most, give or take the SENDs handled
// while memory was freed) and the SENDs of open transactions (a quarter
// at most).
func (b *Broker) MemoryHeld() int64 { return b.held.Load() + b.txHeld.Load() }

// backlogMax bounds the bytes of the frames a connection may have waiting
// behind a SEND held for memory (a 64th of the messages' budget, from 64
// KiB to 1 MiB); beyond it the connection is not read. Backlogs do not
// count against the budget, or they would keep their own SENDs waiting.
const backlogMax = 1 << 20

// errStall tells the reader to stop reading until the backlog is handled.
var errStall = errors.New("backlog full")

// wait puts f at the end of the backlog of c, the frames waiting for
// memory, and returns errStall when the backlog is full. Called with b.mu
// held.
func (b *Broker) wait(c *conn, f *protocol.Frame, borrowed bool) error {
	if borrowed {
		f = f.Clone()
	}
	c.waiting += frameSize(f)
	c.backlog = append(c.backlog, f)
	if !c.holding.Load() {
		c.unheld = make(chan struct{})
		c.holding.Store(true)
		b.blocked = append(b.blocked, c)
		b.nblocked.Add(1)
		if !b.over() {
			b.wakeFlow() // memory was freed meanwhile
		}
	}
	if c.waiting > min(backlogMax, max(b.limit/64, 64<<10)) {
		return errStall
	}
	return nil
}

// frameSize returns what a frame in a backlog counts against the budget.
func frameSize(f *protocol.Frame) int64 {
	return int64(len(f.Command)) + sendCost(f.Headers, f.Body)
}

// sendCost returns what a frame's headers and body count against the
// budget while they are held: a SEND in a backlog or in a transaction.
func sendCost(headers protocol.Headers, body []byte) int64 {
	n := len(body) + msgOverhead
	for _, h := range headers {
		n += len(h.Name) + len(h.Value) + 32
	}
	return int64(n)
}

// unhold drops the backlog of a connection that ends: its SENDs were
// never confirmed. Called with b.mu held.
func (b *Broker) unhold(c *conn) {
	if !c.holding.Load() {
		return
	}
	b.blocked = slices.DeleteFunc(b.blocked, func(x *conn) bool { return x == c })
	b.nblocked.Add(-1)
	c.backlog, c.waiting = nil, 0
	close(c.unheld)
	c.unheld = nil
	c.holding.Store(false)
}

// flow handles the backlogs, in the order their connections were held,
// whenever memory is under the budget again.
func (b *Broker) flow() {
	defer b.wg.Done()
	for {
		select {
		case <-b.flowWake:
		case <-b.stop:
			return
		}
		b.mu.Lock()
		for len(b.blocked) > 0 && !b.over() {
			c := b.blocked[0]
			for len(c.backlog) > 0 {
				f := c.backlog[0]
				if b.over() && c.flowControlled(f) {
					break
				}
				c.backlog[0] = nil
				c.backlog = c.backlog[1:]
				c.waiting -= frameSize(f)
				var ef *errFrame
				if err := c.process(f); errors.As(err, &ef) {
					c.abort(ef.answering(f))
					c.backlog, c.waiting = nil, 0
				}
			}
			if len(c.backlog) > 0 {
				break // over the budget again
			}
			b.blocked[0] = nil
			b.blocked = b.blocked[1:]
			b.nblocked.Add(-1)
			close(c.unheld)
			c.unheld = nil
			c.holding.Store(false)
		}
		b.mu.Unlock()
	}
}

// shed disconnects the non-durable topic subscribers furthest behind
// until memory is under the budget. Called with b.mu held.
func (b *Broker) shed() {
	// Behind: the messages waiting, and those delivered and not
	// acknowledged (a subscriber with ack client that reads and never
	// acknowledges holds them as surely).
	behind := func(q *queue) int {
		n := q.msgs.len()
		for _, s := range q.subs {
			n += len(s.unacked)
		}
		return n
	}
	var slow []*queue
	for _, qs := range b.topics {
		for _, q := range qs {
			if !q.durable && len(q.subs) > 0 && behind(q) > 0 {
				slow = append(slow, q)
			}
		}
	}
	slices.SortFunc(slow, func(x, y *queue) int { return cmp.Compare(behind(y), behind(x)) })
	for _, q := range slow {
		if !b.over() {
			return
		}
		b.evictSlow(q, "the broker is over its memory budget (--max-memory)")
	}
}

// evictSlow disconnects the subscriber of q, a non-durable topic
// subscription, with an ERROR, and drops the messages waiting for it.
// Called with b.mu held.
func (b *Broker) evictSlow(q *queue, why string) {
	if len(q.subs) == 0 {
		return
	}
	s := q.subs[0]
	c := s.c
	pending := q.msgs.len()
	for _, d := range s.unacked {
		delete(c.acks, d.ackID)
		delete(c.acks, d.key)
		b.release(d.msg.cost())
	}
	s.unacked = nil
	delete(c.subs, s.id)
	b.unsubscribe(s)
	c.abort(&errFrame{
		message: fmt.Sprintf("slow consumer: subscription %s to %s disconnected with %d messages pending", s.id, q.name, pending),
		detail:  why,
	})
}

// dropMessages lets go of the messages of q. Called with b.mu held.
func (b *Broker) dropMessages(q *queue) {
	var n int64
	for i := range q.msgs.len() {
		n += q.msgs.at(i).cost()
	}
	q.msgs = msgList{}
	q.arena.reset()
	b.recharge(q)
	b.release(n)
}

// removeIfIdle deletes the queue q when it holds no message and has no
// subscriber (its unacknowledged messages went back to it when its last
// subscriber left, so none refers to it). Called with b.mu held.
func (b *Broker) removeIfIdle(q *queue) {
	if q == nil || q.msgs.len() > 0 || len(q.subs) > 0 {
		return
	}
	if b.queues[q.name] == q {
		b.retire(q)
		delete(b.queues, q.name)
	}
}

// dropTemps deletes the temporary destinations c owns, with their
// messages, unless another connection subscribed to one: then it goes with
// its last subscriber. Called with b.mu held, after c's subscriptions
// were removed.
func (b *Broker) dropTemps(c *conn) {
	for _, name := range c.temps {
		delete(b.temps, name)
		if q := b.queues[name]; q != nil && len(q.subs) == 0 {
			b.dropMessages(q)
			delete(b.queues, name)
		}
	}
	c.temps = nil
}

// Destinations returns how many queues (temporary ones included) and
// topics with subscribers the broker keeps.
func (b *Broker) Destinations() (queues, topics int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queues), len(b.topics)
}
