package broker

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/protocol"
)

// liveHeap returns the bytes of the heap's objects after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// repeatFrames returns the frames frame(0) to frame(n-1), one after the
// other: what a client that floods the broker writes.
func repeatFrames(n int, frame func(i int) string) []byte {
	var b strings.Builder
	for i := range n {
		b.WriteString(frame(i))
	}
	return []byte(b.String())
}

// waitUntil polls cond, which looks at the broker's state, until it holds
// or five seconds passed.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFlowControlSameConnection: a connection whose SEND is held for
// memory gets no RECEIPT for it, goes on receiving, and its ACKs and NACKs
// are still handled although more SENDs follow the held one: they free the
// memory, and the SENDs and the frames behind them go through, in order.
func TestFlowControlSameConnection(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxMemory: 64 << 10}) // messages may hold 32 KiB
	p := connect(t, b, protocol.V12)
	p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/self", "id", "s", "ack", "client-individual"), "sub")
	body := strings.Repeat("x", 1024)
	const sends = 64
	for i := range sends {
		p.send(sendTo("/queue/self", body, "receipt", fmt.Sprint("r", i)))
	}
	p.send(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/other", "id", "o", "receipt", "behind"))
	waitUntil(t, "a SEND to be held", func() bool { return b.nblocked.Load() > 0 })
	handled := int(b.msgSeq.Load())
	if handled >= sends || handled < 20 {
		t.Fatalf("%d of %d SENDs handled at a budget of 32 KiB", handled, sends)
	}
	// Every handled SEND has its receipt and its message; the held one
	// has neither.
	var msgs []*protocol.Frame
	receipts := 0
	// next reads a frame: the next SEND's receipt, or a message for
	// onMessage.
	next := func(onMessage func(*protocol.Frame)) {
		t.Helper()
		switch f := p.read(); f.Command {
		case protocol.CmdReceipt:
			if f.Header("receipt-id") != fmt.Sprint("r", receipts) {
				t.Fatalf("receipt %s, want r%d", f.Header("receipt-id"), receipts)
			}
			receipts++
		case protocol.CmdMessage:
			onMessage(f)
		}
	}
	for receipts < handled || len(msgs) < handled {
		next(func(f *protocol.Frame) { msgs = append(msgs, f) })
	}
	if held := b.budgetUsed(); held < 32<<10 {
		t.Fatalf("%d bytes held: under the budget, yet a SEND waits", held)
	}
	// A NACK passes the held SEND.
	p.send(protocol.NewFrame(protocol.CmdNack, "id", msgs[0].Header("ack"), "receipt", "nack"))
	if f := p.read(); f.Command != protocol.CmdMessage || f.Header("message-id") != msgs[0].Header("message-id") {
		t.Fatalf("after the NACK: %v, want its message again", f)
	} else {
		msgs[0] = f
	}
	if f := p.read(); f.Header("receipt-id") != "nack" {
		t.Fatalf("got %v, want the NACK's receipt before the held SEND's", f)
	}
	// ACKs free the memory: the rest goes through, in order.
	for _, m := range msgs {
		p.send(protocol.NewFrame(protocol.CmdAck, "id", m.Header("ack")))
	}
	ack := func(f *protocol.Frame) { p.send(protocol.NewFrame(protocol.CmdAck, "id", f.Header("ack"))) }
	for receipts < sends {
		next(ack)
	}
	for {
		f := p.read()
		if f.Command == protocol.CmdReceipt {
			if f.Header("receipt-id") != "behind" {
				t.Fatalf("receipt %s, want the SUBSCRIBE's", f.Header("receipt-id"))
			}
			break
		}
		ack(f)
	}
}

// TestTopicMaxPending: a topic subscriber that falls more than MaxPending
// messages behind gets an ERROR and is disconnected, and its messages are
// let go; the others keep theirs.
func TestTopicMaxPending(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxPending: 100})
	fine := connect(t, b, protocol.V12)
	fine.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/t", "id", "f"), "f")
	slow := connect(t, b, protocol.V12)
	slow.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/t", "id", "slow"), "s") // then it reads no more
	prod := connect(t, b, protocol.V12)
	body := strings.Repeat("y", 1024)
	sent := 0
	got := 0
	for {
		for range 100 {
			prod.send(sendTo("/topic/t", body))
		}
		sent += 100
		prod.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", fmt.Sprint(sent)), "sync")
		for got < sent {
			if f := fine.read(); f.Command == protocol.CmdMessage {
				got++
			}
		}
		b.mu.Lock()
		n := len(b.topics["/topic/t"])
		b.mu.Unlock()
		if n == 1 {
			break
		}
		if sent > 100_000 {
			t.Fatal("the slow subscriber was never disconnected")
		}
	}
	// The slow subscriber reads what was written to it, then the ERROR.
	slow.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var last *protocol.Frame
	for {
		f, err := slow.r.Read()
		if err != nil {
			break
		}
		if !f.IsHeartBeat() {
			last = f
		}
	}
	if last == nil || last.Command != protocol.CmdError || !strings.Contains(last.Header("message"), "slow consumer") {
		t.Fatalf("the slow subscriber's last frame: %v", last)
	}
	waitUntil(t, "the slow subscriber's messages to be let go", func() bool { return b.MemoryHeld() == 0 })
}

// TestDestinationsRemoved: an empty queue without subscribers goes, as do
// temporary destinations when their owner leaves; a queue still holding
// messages stays, and so does a durable subscription's.
func TestDestinationsRemoved(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	replier := connect(t, b, protocol.V12)
	for i := range 50 {
		req := connect(t, b, protocol.V12, "client-id", fmt.Sprint("req", i))
		temp := fmt.Sprintf("/temp-queue/reply-%d", i)
		req.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", temp, "id", "r"), "r")
		req.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/work", "id", "w", "ack", "client"), "w")
		req.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/temp-topic/t", "id", "t"), "t")
		replier.sync(sendTo(temp, "reply"), "sent")
		replier.sync(sendTo(temp, "unread"), "sent2")
		if f := req.read(); string(f.Body) != "reply" {
			t.Fatalf("reply: %v", f)
		}
		req.send(protocol.NewFrame(protocol.CmdDisconnect, "receipt", "bye"))
		for f := req.read(); f.Command != protocol.CmdReceipt; f = req.read() {
		}
		req.nc.Close()
	}
	left := func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.conns) == 1
	}
	waitUntil(t, "the requesters to leave", left)
	if q, topics := b.Destinations(); q != 0 || topics != 0 || b.budgetUsed() != 0 {
		t.Fatalf("%d queues, %d topics and %d bytes left", q, topics, b.budgetUsed())
	}
	// A reply to a temporary queue whose owner left is dropped.
	replier.sync(sendTo("/temp-queue/reply-1", "late"), "late")
	if q, _ := b.Destinations(); q != 0 {
		t.Fatal("a reply recreated a temporary queue")
	}
	// A delivery not acknowledged goes back to its queue, which stays.
	c := connect(t, b, protocol.V12, "client-id", "dur")
	c.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/kept", "id", "k", "ack", "client"), "k")
	replier.sync(sendTo("/queue/kept", "m"), "m")
	c.read()
	c.sync(protocol.NewFrame(protocol.CmdUnsubscribe, "id", "k"), "u")
	c.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/d", "id", "d", "activemq.subscriptionName", "d"), "d")
	c.nc.Close()
	waitUntil(t, "the durable subscriber to leave", left)
	replier.sync(sendTo("/topic/d", "for the durable"), "d")
	if q, topics := b.Destinations(); q != 1 || topics != 1 || b.QueueDepth("/queue/kept") != 1 {
		t.Fatalf("%d queues, %d topics, depth %d", q, topics, b.QueueDepth("/queue/kept"))
	}
	back := connect(t, b, protocol.V12, "client-id", "dur")
	msgs := back.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/d", "id", "d", "activemq.subscriptionName", "d"), "d")
	if len(msgs) == 0 {
		msgs = append(msgs, back.read())
	}
	if string(msgs[0].Body) != "for the durable" {
		t.Fatalf("durable subscription: %v", msgs[0])
	}
}

// stalled reports whether the broker has stopped reading a connection
// because its backlog of frames waiting for memory is full.
func stalled(b *Broker) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		if c.stalled.Load() {
			return true
		}
	}
	return false
}

// TestStalledProducerNotSilent: a producer the broker stopped reading for
// memory is not disconnected for missing heart-beats (they wait in the
// socket behind its SENDs, as RabbitMQ pauses its heart-beat monitor for
// a blocked connection); once consumers free the memory its SENDs go
// through and the last one's RECEIPT comes. The producer beats from its
// own goroutine, as a client does, so its beats reach the broker until
// the stall and queue behind its SENDs after it.
func TestStalledProducerNotSilent(t *testing.T) {
	t.Parallel()
	const beat = 20 * time.Millisecond
	b := start(t, Config{MaxMemory: 64 << 10, HeartBeat: protocol.HeartBeatSpec{Receive: beat}})
	p := connect(t, b, protocol.V12, "heart-beat", "20,0")
	var wmu sync.Mutex
	write := func(f *protocol.Frame) error {
		wmu.Lock()
		defer wmu.Unlock()
		if f == nil {
			if err := p.w.WriteHeartBeat(); err != nil {
				return err
			}
		} else if err := p.w.WriteFrame(f); err != nil {
			return err
		}
		return p.w.Flush()
	}
	stop := make(chan struct{})
	beaten := make(chan struct{})
	t.Cleanup(func() { close(stop); p.nc.Close(); <-beaten })
	go func() {
		defer close(beaten)
		tick := time.NewTicker(beat / 2)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if write(nil) != nil {
					return
				}
			case <-stop:
				return
			}
		}
	}()
	body := strings.Repeat("x", 1024)
	const sends = 200 // 32 KiB of messages fit, 64 KiB wait, the rest stall
	go func() {
		for i := range sends {
			f := sendTo("/queue/stall", body)
			if i == sends-1 {
				f.Headers.Add("receipt", "last")
			}
			if write(f) != nil {
				return
			}
		}
	}()
	waitUntil(t, "the producer's connection to stall", func() bool { return stalled(b) })
	// Nothing read far past the limit (a few intervals), but the broker
	// chose not to read.
	time.Sleep(20 * beat)
	c := connect(t, b, protocol.V12)
	c.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/stall", "id", "s"), "sub")
	for got := 0; got < sends; {
		if f := c.read(); f.Command == protocol.CmdMessage {
			got++
		}
	}
	if f := p.read(); f.Command != protocol.CmdReceipt || f.Header("receipt-id") != "last" {
		t.Fatalf("the producer got %v, want the last SEND's RECEIPT", f)
	}
}

// TestStatisticsOverBudget: a statistics request is answered while the
// broker holds SENDs for memory: it adds no message, and `stat` is what
// an operator runs to see why producers wait.
func TestStatisticsOverBudget(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxMemory: 64 << 10})
	prod := connect(t, b, protocol.V12)
	body := strings.Repeat("x", 1024)
	for range 64 {
		prod.send(sendTo("/queue/full", body))
	}
	waitUntil(t, "a SEND to be held", func() bool { return b.nblocked.Load() > 0 })
	s := newStatsPeer(t, b)
	figs := s.askFigures("full")["queue://full"]
	if n, _ := strconv.Atoi(figs["size"]); n < 20 {
		t.Fatalf("size %q of the full queue", figs["size"])
	}
}

// TestQueueCost: what the budget counts for a queue holding one message,
// queueCost and the message's cost, is at least what the queue takes on
// the heap, so that a producer to many distinct queues (a name per
// message) is held for memory before the broker outgrows its budget. Not
// parallel: it measures the heap.
func TestQueueCost(t *testing.T) {
	b := start(t, Config{})
	const n = 20_000
	body := []byte(strings.Repeat("x", 100))
	hs := protocol.Headers{{Name: "persistent", Value: "true"}}
	heldBefore, heapBefore := b.budgetUsed(), liveHeap()
	b.mu.Lock()
	for i := range n {
		if err := b.publish(fmt.Sprintf("/queue/many-%d", i), hs, body); err != nil {
			b.mu.Unlock()
			t.Fatal(err)
		}
	}
	b.mu.Unlock()
	heap, counted := (liveHeap()-heapBefore)/n, (b.budgetUsed()-heldBefore)/n
	t.Logf("a queue of one message of %d bytes: %d bytes of heap, %d counted", len(body), heap, counted)
	if heap > counted {
		t.Fatalf("a queue of one message takes %d bytes of heap; the budget counts %d", heap, counted)
	}
	if q, _ := b.Destinations(); q != n {
		t.Fatalf("%d queues, want %d", q, n)
	}
}

// TestTransactionBudget: the SENDs of an open transaction count against
// the memory budget until it ends (an ABORT, the connection's end, or the
// COMMIT, which counts their messages instead); a transaction that would
// hold more than a quarter of the budget gets an ERROR that says so, and
// what it held is let go.
func TestTransactionBudget(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxMemory: 64 << 10}) // messages 32 KiB, a transaction 16 KiB
	body := strings.Repeat("x", 1024)
	p := connect(t, b, protocol.V12)

	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "a"), "begin-a")
	for i := range 4 {
		p.sync(sendTo("/queue/tx", body, "transaction", "a"), fmt.Sprint("a", i))
	}
	if held := b.MemoryHeld(); held < 4*1024 {
		t.Fatalf("4 SENDs of 1 KiB in a transaction: %d bytes counted", held)
	}
	p.sync(protocol.NewFrame(protocol.CmdAbort, "transaction", "a"), "abort-a")
	if held := b.MemoryHeld(); held != 0 {
		t.Fatalf("after ABORT %d bytes counted", held)
	}

	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "c"), "begin-c")
	for i := range 4 {
		p.sync(sendTo("/queue/tx", body, "transaction", "c"), fmt.Sprint("c", i))
	}
	p.sync(protocol.NewFrame(protocol.CmdCommit, "transaction", "c"), "commit-c")
	cost, n := held(b, "/queue/tx")
	if n != 4 || b.MemoryHeld() != cost {
		t.Fatalf("after COMMIT: %d messages costing %d; %d counted", n, cost, b.MemoryHeld())
	}

	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "big"), "begin-big")
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("20 KiB of SENDs in one transaction, and no ERROR")
		}
		p.send(sendTo("/queue/tx", body, "transaction", "big", "receipt", fmt.Sprint("big", i)))
		f := p.read()
		if f.Command == protocol.CmdReceipt {
			continue
		}
		if f.Command != protocol.CmdError || f.Header("message") != "transaction big is too large" ||
			!strings.Contains(string(f.Body), "--max-memory") {
			t.Fatalf("SEND %d of the large transaction: %v", i, f)
		}
		break
	}
	waitUntil(t, "the large transaction to be let go", func() bool { return b.MemoryHeld() == cost })
	if q := b.QueueDepth("/queue/tx"); q != 4 {
		t.Fatalf("queue depth %d: the large transaction left messages", q)
	}
}

// TestSubscriptionCost: what the budget counts for a subscription (a
// topic's, with its queue of its own; a queue's, whose queue counts
// apart) and for an open transaction is at least what each takes on the
// heap, connection's tables included. Not parallel: it measures the heap.
func TestSubscriptionCost(t *testing.T) {
	b := start(t, Config{})
	const n = 5000
	p := connect(t, b, protocol.V12)
	for _, tc := range []struct {
		what  string
		frame func(i int) string
	}{
		{"topic subscription", func(i int) string {
			return fmt.Sprintf("SUBSCRIBE\nid:t%d\ndestination:/topic/t-%d\nack:client\n\n\x00", i, i)
		}},
		{"queue subscription", func(i int) string { return fmt.Sprintf("SUBSCRIBE\nid:q%d\ndestination:/queue/q-%d\n\n\x00", i, i) }},
		{"transaction", func(i int) string { return fmt.Sprintf("BEGIN\ntransaction:tx-%d\n\n\x00", i) }},
	} {
		counted, heap := b.budgetUsed(), liveHeap()
		if _, err := p.nc.Write(repeatFrames(n, tc.frame)); err != nil {
			t.Fatal(err)
		}
		p.sync(protocol.NewFrame(protocol.CmdSubscribe, "id", "sync-"+tc.what, "destination", "/queue/sync"), tc.what)
		p.sync(protocol.NewFrame(protocol.CmdUnsubscribe, "id", "sync-"+tc.what), "u-"+tc.what)
		perHeap, perCount := (liveHeap()-heap)/n, (b.budgetUsed()-counted)/n
		t.Logf("a %s: %d bytes of heap, %d counted", tc.what, perHeap, perCount)
		if perHeap > perCount {
			t.Errorf("a %s takes %d bytes of heap; the budget counts %d", tc.what, perHeap, perCount)
		}
	}
	p.nc.Close()
	waitUntil(t, "the connection's subscriptions and transactions to be let go", func() bool { return b.budgetUsed() == 0 })
}

// TestSubscriptionsExhaustBudget: subscriptions and transactions are not
// held for memory as SENDs are, and do not hold SENDs back; once one
// connection's count a sixteenth of the budget, its SUBSCRIBE or BEGIN gets
// an ERROR that says so, and what it held is let go when it closes; once
// those of every connection count a quarter, anyone's does. Producers go
// on meanwhile.
func TestSubscriptionsExhaustBudget(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxMemory: 2 << 20}) // 128 KiB a connection, 512 KiB in all
	for _, tc := range []struct {
		what  string
		frame func(i int) string
	}{
		{"subscriptions", func(i int) string { return fmt.Sprintf("SUBSCRIBE\nid:t%d\ndestination:/topic/t-%d\n\n\x00", i, i) }},
		{"transactions", func(i int) string { return fmt.Sprintf("BEGIN\ntransaction:tx-%d\n\n\x00", i) }},
	} {
		p := connect(t, b, protocol.V12)
		go p.nc.Write(repeatFrames(10_000, tc.frame)) // the broker closes mid-way
		f := p.read()
		if f.Command != protocol.CmdError || f.Header("message") != "too many "+tc.what+" on one connection" ||
			!strings.Contains(string(f.Body), "--max-memory") {
			t.Fatalf("%s: got %v", tc.what, f)
		}
		waitUntil(t, "what the connection held to be let go", func() bool { return b.budgetUsed() == 0 })
	}
	// Four connections of 128 subscriptions each count the 512 KiB.
	var full []*peer
	for k := range 4 {
		p := connect(t, b, protocol.V12)
		p.nc.Write(repeatFrames(127, func(i int) string { return fmt.Sprintf("SUBSCRIBE\nid:%d\ndestination:/topic/f%d-%d\n\n\x00", i, k, i) }))
		p.sync(protocol.NewFrame(protocol.CmdSubscribe, "id", "last", "destination", fmt.Sprintf("/topic/f%d-last", k)), "full")
		full = append(full, p)
	}
	d := connect(t, b, protocol.V12)
	d.send(protocol.NewFrame(protocol.CmdSubscribe, "id", "s", "destination", "/topic/one-more", "receipt", "more"))
	if f := d.read(); f.Command != protocol.CmdError || f.Header("message") != "memory budget exhausted by subscriptions" || f.Header("receipt-id") != "more" {
		t.Fatalf("a SUBSCRIBE over the share of all connections: %v", f)
	}
	// A producer is not held for them.
	prod := connect(t, b, protocol.V12)
	prod.sync(sendTo("/queue/work", "not held"), "sent")
	full[0].nc.Close()
	waitUntil(t, "the first connection's subscriptions to be let go", func() bool { return b.kept.Load() < 512<<10 })
	c := connect(t, b, protocol.V12)
	c.sync(protocol.NewFrame(protocol.CmdSubscribe, "id", "s", "destination", "/topic/after"), "after")
}

// TestCommitNeverHeld: the broker over its budget holds plain SENDs, but
// a COMMIT goes through (what it stores its SENDs counted already), so
// transactions never wait for memory that only they would free; the held
// SEND goes through once a consumer drains the queue.
func TestCommitNeverHeld(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxMemory: 64 << 10}) // messages 32 KiB, transactions 16 KiB
	body := strings.Repeat("x", 1024)
	var txs []*peer
	for k := range 3 {
		p := connect(t, b, protocol.V12)
		p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "t"), "begin")
		for i := range 4 {
			p.sync(sendTo("/queue/tx", body, "transaction", "t"), fmt.Sprint(k, "-", i))
		}
		txs = append(txs, p)
	}
	prod := connect(t, b, protocol.V12)
	for i := 0; !b.over(); i++ {
		prod.sync(sendTo("/queue/tx", body), fmt.Sprint("fill-", i))
	}
	prod.send(sendTo("/queue/tx", body, "receipt", "held"))
	waitUntil(t, "a SEND to be held", func() bool { return b.nblocked.Load() > 0 })
	for k, p := range txs {
		p.sync(protocol.NewFrame(protocol.CmdCommit, "transaction", "t"), fmt.Sprint("commit-", k))
	}
	c := connect(t, b, protocol.V12)
	c.send(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/tx", "id", "s"))
	for f := prod.read(); f.Command != protocol.CmdReceipt || f.Header("receipt-id") != "held"; f = prod.read() {
	}
}

// TestRequeueToRemovedQueue: messages an ack:auto consumer had not been
// written yet when it UNSUBSCRIBEd (its queue, empty and idle, went) and
// was then disconnected as a slow topic subscriber go back to the queue of
// that name, not to the queue that went, where nobody would reach them
// and they would stay counted.
func TestRequeueToRemovedQueue(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxPending: 10})
	slow := connect(t, b, protocol.V12)
	slow.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/a", "id", "qa"), "qa")
	slow.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/t", "id", "tt"), "tt")
	// From here on the slow consumer reads nothing.
	prod := connect(t, b, protocol.V12)
	body := strings.Repeat("x", 16<<10)
	const n = 1000
	for range n {
		prod.send(sendTo("/queue/a", body))
	}
	prod.sync(sendTo("/topic/nobody", "x"), "sent")
	waitUntil(t, "the queue's messages to be on their way", func() bool { return b.QueueDepth("/queue/a") == 0 })
	slow.send(protocol.NewFrame(protocol.CmdUnsubscribe, "id", "qa"))
	waitUntil(t, "the queue to go", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.queues["/queue/a"] == nil
	})
	for range 2000 { // past the writer queue and --max-pending: the slow subscriber is disconnected
		prod.send(sendTo("/topic/t", "t"))
	}
	waitUntil(t, "the slow subscriber to be disconnected", func() bool { return b.QueueDepth("/queue/a") > 0 })
	back := b.QueueDepth("/queue/a")
	c := connect(t, b, protocol.V12)
	c.send(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/a", "id", "again"))
	for got := 0; got < back; {
		if f := c.read(); f.Command == protocol.CmdMessage {
			got++
		}
	}
	waitUntil(t, "every message to be let go", func() bool { return b.MemoryHeld() == 0 })
	t.Logf("%d of %d messages came back to the queue", back, n)
}

// TestTransactionWorkCounted: all the work a transaction holds for its
// COMMIT counts against its share of the budget: a SEND's destination as
// well as its headers and body, and each ACK or NACK (the same ACK sent
// again and again in a transaction would otherwise grow it without end).
func TestTransactionWorkCounted(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxMemory: 64 << 10}) // transactions 16 KiB
	p := connect(t, b, protocol.V12)
	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "long"), "begin-long")
	long := "/queue/" + strings.Repeat("d", 8<<10)
	p.sync(sendTo(long, "", "transaction", "long"), "sent-long")
	if held := b.MemoryHeld(); held < 8<<10 {
		t.Fatalf("a SEND to a destination of 8 KiB in a transaction: %d bytes counted", held)
	}
	p.sync(protocol.NewFrame(protocol.CmdAbort, "transaction", "long"), "abort-long")

	msgs := p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/acks", "id", "s", "ack", "client-individual"), "sub")
	msgs = append(msgs, p.sync(sendTo("/queue/acks", "m"), "sent")...)
	if len(msgs) == 0 {
		msgs = append(msgs, p.read())
	}
	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "acks"), "begin-acks")
	ack := fmt.Sprintf("ACK\nid:%s\ntransaction:acks\n\n\x00", msgs[0].Header("ack"))
	go p.nc.Write(repeatFrames(1000, func(int) string { return ack })) // the broker closes mid-way
	f := p.read()
	if f.Command != protocol.CmdError || f.Header("message") != "transaction acks is too large" {
		t.Fatalf("1,000 ACKs in a transaction: %v", f)
	}
	waitUntil(t, "the transaction to be let go", func() bool { return b.txHeld.Load() == 0 && b.kept.Load() == 0 })
}

// TestTopicUnackedShed: over the budget, a topic subscriber with ack
// client that reads every message and acknowledges none is as far behind
// as one that does not read: it is disconnected as a slow consumer, and
// the producer's SEND goes through, instead of waiting for ACKs that never
// come.
func TestTopicUnackedShed(t *testing.T) {
	t.Parallel()
	b := start(t, Config{MaxMemory: 64 << 10})
	s := connect(t, b, protocol.V12)
	s.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/t", "id", "t", "ack", "client"), "sub")
	read := make(chan error, 1)
	go func() { // reads everything, acknowledges nothing
		for {
			if _, err := s.r.Read(); err != nil {
				read <- err
				return
			}
		}
	}()
	p := connect(t, b, protocol.V12)
	body := strings.Repeat("x", 1024)
	for i := range 100 { // 100 KiB: past the 32 KiB of messages
		p.sync(sendTo("/topic/t", body), fmt.Sprint("s", i))
	}
	if err := <-read; err == nil {
		t.Fatal("the subscriber's stream did not end")
	}
	if held := b.MemoryHeld(); held != 0 {
		t.Fatalf("%d bytes held after the subscriber was disconnected", held)
	}
}
