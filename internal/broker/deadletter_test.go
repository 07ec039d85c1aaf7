package broker

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stompest/stompest/internal/protocol"
)

// dlqPeer is a consumer of one queue with ack client-individual, for the
// dead-letter tests.
type dlqPeer struct {
	*peer
	seq int
}

// subscribeDLQ connects in 1.2 and subscribes to dest with ack mode ack.
func subscribeDLQ(t *testing.T, b *Broker, dest, ack string) *dlqPeer {
	t.Helper()
	p := &dlqPeer{peer: connect(t, b, protocol.V12)}
	p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", dest, "id", "s", "ack", ack), "sub")
	return p
}

// do sends f with a receipt and returns the MESSAGEs that came before it.
func (p *dlqPeer) do(f *protocol.Frame) []*protocol.Frame {
	p.t.Helper()
	p.seq++
	return p.sync(f, "r"+strconv.Itoa(p.seq))
}

// nack NACKs the delivery of m and returns the MESSAGEs that came before
// the receipt (a redelivery).
func (p *dlqPeer) nack(m *protocol.Frame, nv ...string) []*protocol.Frame {
	p.t.Helper()
	return p.do(protocol.NewFrame(protocol.CmdNack, append([]string{"id", m.Header("ack")}, nv...)...))
}

// produce sends body to dest with the headers nv and waits for the receipt.
func produce(t *testing.T, b *Broker, dest, body string, nv ...string) {
	t.Helper()
	p := connect(t, b, protocol.V12)
	p.sync(sendTo(dest, body, nv...), "sent")
	p.nc.Close()
}

// held returns what the messages of dest cost the budget, and how many it
// holds (queued only).
func held(b *Broker, dest string) (cost int64, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queues[dest]
	if q == nil {
		return 0, 0
	}
	for i := range q.msgs.len() {
		cost += q.msgs.at(i).cost()
	}
	return cost, q.msgs.len()
}

// TestDeadLetterAfterMaxRedeliveries: with MaxRedeliveries 2, a message
// NACKed twice is delivered again each time; the third NACK sends it to
// the dead-letter queue as a new message with the body, the sender's
// headers, original-destination and dead-letter-reason, and it is gone
// from its queue. The memory budget counts the dead letter instead of the
// message, and nothing once it is acknowledged.
func TestDeadLetterAfterMaxRedeliveries(t *testing.T) {
	t.Parallel()
	b := start(t, Config{DeadLetter: true, MaxRedeliveries: 2})
	produce(t, b, "/queue/orders", "poison", "order-id", "7", "original-destination", "/queue/stale")
	c := subscribeDLQ(t, b, "/queue/orders", "client-individual")
	m := c.read()
	first := m.Header("message-id")
	for i := 1; i <= 2; i++ {
		got := c.nack(m)
		if len(got) == 0 {
			got = append(got, c.read())
		}
		m = got[0]
		if string(m.Body) != "poison" || m.Header("redelivered") != "true" || m.Header("message-id") != first {
			t.Fatalf("redelivery %d: %v", i, m)
		}
		if n := b.QueueDepth(DefaultDeadLetterQueue); n != 0 {
			t.Fatalf("after %d NACKs the dead-letter queue holds %d", i, n)
		}
	}
	if before, _ := held(b, "/queue/orders"); before != 0 || b.MemoryHeld() == 0 {
		t.Fatalf("a delivered message: queued cost %d, held %d", before, b.MemoryHeld())
	}
	if got := c.nack(m); len(got) != 0 {
		t.Fatalf("the third NACK redelivered: %v", got[0])
	}
	if n := b.QueueDepth("/queue/orders"); n != 0 {
		t.Fatalf("queue depth %d after dead-lettering", n)
	}
	cost, n := held(b, DefaultDeadLetterQueue)
	if n != 1 || b.MemoryHeld() != cost {
		t.Fatalf("dead-letter queue holds %d messages costing %d; the broker counts %d", n, cost, b.MemoryHeld())
	}

	d := subscribeDLQ(t, b, DefaultDeadLetterQueue, "client-individual")
	dl := d.read()
	want := map[string]string{
		"destination":          DefaultDeadLetterQueue,
		"order-id":             "7",
		"original-destination": "/queue/orders",
		"dead-letter-reason":   "NACKed 3 times",
		"redelivered":          "",
	}
	for name, v := range want {
		if got := dl.Header(name); got != v {
			t.Errorf("dead letter %s: %q, want %q", name, got, v)
		}
	}
	if string(dl.Body) != "poison" || dl.Header("message-id") == first || dl.Header("message-id") == "" {
		t.Errorf("dead letter: %v", dl)
	}
	k := 0
	for _, h := range dl.Headers {
		if h.Name == "original-destination" {
			k++
		}
	}
	if k != 1 {
		t.Errorf("%d original-destination headers, want 1", k)
	}
	d.do(protocol.NewFrame(protocol.CmdAck, "id", dl.Header("ack")))
	if b.MemoryHeld() != 0 {
		t.Errorf("memory held %d after the dead letter was acknowledged", b.MemoryHeld())
	}
}

// TestNackUnderMaxRedeliveries: NACKed no more than MaxRedeliveries
// times, a message stays in its queue.
func TestNackUnderMaxRedeliveries(t *testing.T) {
	t.Parallel()
	b := start(t, Config{DeadLetter: true, MaxRedeliveries: 1})
	produce(t, b, "/queue/a", "m")
	c := subscribeDLQ(t, b, "/queue/a", "client-individual")
	m := c.read()
	if got := c.nack(m); len(got) == 0 {
		c.read() // the redelivery
	}
	c.do(protocol.NewFrame(protocol.CmdUnsubscribe, "id", "s"))
	if q, dl := b.QueueDepth("/queue/a"), b.QueueDepth(DefaultDeadLetterQueue); q != 1 || dl != 0 {
		t.Fatalf("after one NACK: queue %d, dead letters %d; want 1, 0", q, dl)
	}
}

// TestDeadLetterCountsNacksOnly: messages handed back because their
// connection closed or their subscriber unsubscribed are not counted, in
// the default dead-letter queue or another.
func TestDeadLetterCountsNacksOnly(t *testing.T) {
	t.Parallel()
	const dlq = "/queue/dead.orders"
	b := start(t, Config{DeadLetter: true, MaxRedeliveries: 1, DeadLetterQueue: dlq})
	produce(t, b, "/queue/a", "m")
	for range 3 {
		c := subscribeDLQ(t, b, "/queue/a", "client-individual")
		c.read()
		c.nc.Close()
		waitUntil(t, "the message back in its queue", func() bool { return b.QueueDepth("/queue/a") == 1 })
	}
	c := subscribeDLQ(t, b, "/queue/a", "client-individual")
	c.read()
	c.do(protocol.NewFrame(protocol.CmdUnsubscribe, "id", "s"))
	c.do(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/a", "id", "s2", "ack", "client-individual"))
	m := c.read()
	got := c.nack(m) // the first NACK: delivered again
	if len(got) == 0 {
		got = append(got, c.read())
	}
	if b.QueueDepth(dlq) != 0 {
		t.Fatal("dead-lettered at the first NACK: closes or UNSUBSCRIBE were counted")
	}
	if got := c.nack(got[0]); len(got) != 0 {
		t.Fatalf("the second NACK redelivered: %v", got[0])
	}
	if b.QueueDepth(dlq) != 1 || b.QueueDepth(DefaultDeadLetterQueue) != 0 {
		t.Fatalf("dead letters: %s %d, %s %d", dlq, b.QueueDepth(dlq), DefaultDeadLetterQueue, b.QueueDepth(DefaultDeadLetterQueue))
	}
}

// TestDeadLetterTransaction: a NACK in a transaction counts at COMMIT, and
// not at all when the transaction is aborted.
func TestDeadLetterTransaction(t *testing.T) {
	t.Parallel()
	b := start(t, Config{DeadLetter: true, MaxRedeliveries: 1})
	produce(t, b, "/queue/a", "m")
	c := subscribeDLQ(t, b, "/queue/a", "client-individual")
	m := c.read()
	c.do(protocol.NewFrame(protocol.CmdBegin, "transaction", "t1"))
	c.nack(m, "transaction", "t1")
	if got := c.do(protocol.NewFrame(protocol.CmdAbort, "transaction", "t1")); len(got) != 0 {
		t.Fatalf("ABORT handed the message back: %v", got[0])
	}
	got := c.nack(m) // counted: the first
	if len(got) == 0 {
		got = append(got, c.read())
	}
	if b.QueueDepth(DefaultDeadLetterQueue) != 0 {
		t.Fatal("the aborted NACK was counted")
	}
	m = got[0]
	c.do(protocol.NewFrame(protocol.CmdBegin, "transaction", "t2"))
	c.nack(m, "transaction", "t2")
	if b.QueueDepth(DefaultDeadLetterQueue) != 0 {
		t.Fatal("dead-lettered before COMMIT")
	}
	c.do(protocol.NewFrame(protocol.CmdCommit, "transaction", "t2"))
	if b.QueueDepth(DefaultDeadLetterQueue) != 1 || b.QueueDepth("/queue/a") != 0 {
		t.Fatalf("after COMMIT: dead letters %d, queue %d", b.QueueDepth(DefaultDeadLetterQueue), b.QueueDepth("/queue/a"))
	}
	d := subscribeDLQ(t, b, DefaultDeadLetterQueue, "auto")
	if r := d.read().Header("dead-letter-reason"); r != "NACKed 2 times" {
		t.Fatalf("dead-letter-reason %q", r)
	}
}

// TestDeadLetterCumulativeNack: a NACK of ack mode client counts for every
// message it settles.
func TestDeadLetterCumulativeNack(t *testing.T) {
	t.Parallel()
	b := start(t, Config{DeadLetter: true, MaxRedeliveries: 1})
	p := connect(t, b, protocol.V12)
	for _, body := range []string{"m1", "m2", "m3"} {
		p.send(sendTo("/queue/a", body))
	}
	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "sync"), "sent")
	c := subscribeDLQ(t, b, "/queue/a", "client")
	m1, m2, _ := c.read(), c.read(), c.read()
	if string(m1.Body) != "m1" || string(m2.Body) != "m2" {
		t.Fatalf("delivered %s, %s", m1.Body, m2.Body)
	}
	// Settles m1 and m2 (once each): both come back.
	got := c.nack(m2)
	for len(got) < 2 {
		got = append(got, c.read())
	}
	if string(got[0].Body) != "m1" || string(got[1].Body) != "m2" || b.QueueDepth(DefaultDeadLetterQueue) != 0 {
		t.Fatalf("after one NACK: %s, %s; dead letters %d", got[0].Body, got[1].Body, b.QueueDepth(DefaultDeadLetterQueue))
	}
	// Unacknowledged now: m3, m1, m2. Settles all three: m1 and m2 for the
	// second time, m3 for the first.
	again := c.nack(got[1])
	if len(again) == 0 {
		again = append(again, c.read())
	}
	if len(again) != 1 || string(again[0].Body) != "m3" {
		t.Fatalf("redelivered after the second NACK: %d, %s", len(again), again[0].Body)
	}
	d := subscribeDLQ(t, b, DefaultDeadLetterQueue, "auto")
	if x, y := d.read(), d.read(); string(x.Body) != "m1" || string(y.Body) != "m2" {
		t.Fatalf("dead letters %s, %s", x.Body, y.Body)
	}
}

// TestDeadLetterQueueNotDeadLettered: the messages of the dead-letter
// queue, and of topics, go back where they were however often they are
// NACKed.
func TestDeadLetterQueueNotDeadLettered(t *testing.T) {
	t.Parallel()
	b := start(t, Config{DeadLetter: true, MaxRedeliveries: 0})
	produce(t, b, DefaultDeadLetterQueue, "dead")
	c := subscribeDLQ(t, b, DefaultDeadLetterQueue, "client-individual")
	m := c.read()
	for range 3 {
		got := c.nack(m)
		if len(got) == 0 {
			got = append(got, c.read())
		}
		m = got[0]
		if string(m.Body) != "dead" || m.Header("original-destination") != "" {
			t.Fatalf("redelivered: %v", m)
		}
	}

	top := subscribeDLQ(t, b, "/topic/t", "client-individual")
	produce(t, b, "/topic/t", "news")
	m = top.read()
	got := top.nack(m)
	if len(got) == 0 {
		got = append(got, top.read())
	}
	if string(got[0].Body) != "news" || got[0].Header("redelivered") != "true" {
		t.Fatalf("topic message after NACK: %v", got[0])
	}
	c.do(protocol.NewFrame(protocol.CmdUnsubscribe, "id", "s"))
	if n := b.QueueDepth(DefaultDeadLetterQueue); n != 1 {
		t.Fatalf("dead-letter queue holds %d, want the 1 it had", n)
	}
}

// TestDeadLetterOverBudget: a broker over its memory budget still keeps
// the dead letter, and counts it instead of its message.
func TestDeadLetterOverBudget(t *testing.T) {
	t.Parallel()
	b := start(t, Config{DeadLetter: true, MaxMemory: 1000})
	produce(t, b, "/queue/a", strings.Repeat("x", 800))
	if !b.over() {
		t.Fatalf("held %d: not over the budget", b.MemoryHeld())
	}
	c := subscribeDLQ(t, b, "/queue/a", "client-individual")
	m := c.read()
	if got := c.nack(m); len(got) != 0 {
		t.Fatalf("redelivered: %v", got[0])
	}
	cost, n := held(b, DefaultDeadLetterQueue)
	if n != 1 || b.MemoryHeld() != cost || b.QueueDepth("/queue/a") != 0 {
		t.Fatalf("dead letters %d costing %d; held %d; queue %d", n, cost, b.MemoryHeld(), b.QueueDepth("/queue/a"))
	}
}

// TestDeadLetterOff: without DeadLetter (the zero Config), and with a
// negative MaxRedeliveries, NACKed messages go back to their queue.
func TestDeadLetterOff(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{}, {DeadLetter: true, MaxRedeliveries: -1}} {
		b := start(t, cfg)
		produce(t, b, "/queue/a", "m")
		c := subscribeDLQ(t, b, "/queue/a", "client-individual")
		m := c.read()
		for range 5 {
			got := c.nack(m)
			if len(got) == 0 {
				got = append(got, c.read())
			}
			m = got[0]
		}
		if n := b.QueueDepth(DefaultDeadLetterQueue); n != 0 {
			t.Fatalf("%+v: dead letters %d", cfg, n)
		}
	}
}

// TestDeadLetterQueueMustBeQueue: Start refuses a topic or a temporary
// destination as the dead-letter queue.
func TestDeadLetterQueueMustBeQueue(t *testing.T) {
	t.Parallel()
	for _, dest := range []string{"/topic/dlq", "/temp-queue/dlq"} {
		b := New(Config{Addr: "127.0.0.1:0", DeadLetter: true, DeadLetterQueue: dest})
		if err := b.Start(); err == nil {
			b.Close()
			t.Errorf("%s accepted as the dead-letter queue", dest)
		} else if !strings.Contains(err.Error(), dest) {
			t.Errorf("error %q does not name %s", err, dest)
		}
	}
}

// TestMessageSize: the count of NACKs fits in the padding of message,
// which queues hold by the million.
func TestMessageSize(t *testing.T) {
	t.Parallel()
	if unsafe.Sizeof(uintptr(0)) == 8 && unsafe.Sizeof(message{}) != 64 {
		t.Fatalf("message takes %d bytes, want 64", unsafe.Sizeof(message{}))
	}
}
