package broker

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stompest/stompest/internal/protocol"
)

// statsPeer asks for statistics, with its replies coming to a temporary
// queue it subscribed to.
type statsPeer struct {
	*peer
	reply string
	seq   int
}

func newStatsPeer(t *testing.T, b *Broker) *statsPeer {
	t.Helper()
	p := &statsPeer{peer: connect(t, b, protocol.V12), reply: "/temp-queue/stats"}
	p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", p.reply, "id", "stats"), "sub")
	return p
}

// ask sends a statistics request to dest (reply-to the peer's temporary
// queue, and the headers nv) and returns the replies, which are published
// before the request's receipt.
func (p *statsPeer) ask(dest string, nv ...string) []*protocol.Frame {
	p.t.Helper()
	p.seq++
	return p.sync(sendTo(dest, "", append([]string{"reply-to", p.reply}, nv...)...), "ask"+strconv.Itoa(p.seq))
}

// askFigures asks for the destinations matching pattern and returns the
// figures of each reply by its destinationName.
func (p *statsPeer) askFigures(pattern string) map[string]map[string]string {
	p.t.Helper()
	out := map[string]map[string]string{}
	for _, f := range p.ask("/queue/ActiveMQ.Statistics.Destination." + pattern) {
		figs := figuresOf(p.t, f)
		out[figs["destinationName"]] = figs
	}
	return out
}

// figuresOf returns the figures of a statistics reply, after checking
// that its JSON body says the same as its headers.
func figuresOf(t testing.TB, f *protocol.Frame) map[string]string {
	t.Helper()
	if f.Command != protocol.CmdMessage {
		t.Fatalf("a reply: %v", f)
	}
	figs := map[string]string{}
	for _, h := range f.Headers {
		switch h.Name {
		case "destination", "message-id", "subscription", "ack", "content-type", "content-length", "correlation-id", "redelivered":
		default:
			figs[h.Name] = h.Value
		}
	}
	if ct := f.Header("content-type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(f.Body, &body); err != nil {
		t.Fatalf("body %q: %v", f.Body, err)
	}
	if len(body) != len(figs) {
		t.Errorf("body %s, headers %v", f.Body, figs)
	}
	for k, v := range body {
		var s string
		switch x := v.(type) {
		case string:
			s = x
			if k != "destinationName" && k != "brokerName" {
				t.Errorf("%s is a string in the body: %s", k, f.Body)
			}
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			t.Errorf("%s: %T in the body", k, v)
		}
		if figs[k] != s {
			t.Errorf("%s: header %q, body %q", k, figs[k], s)
		}
	}
	return figs
}

// destFigures returns the figures of a destination reply as wanted in
// tests.
func destFigures(name string, size, consumers, enq, deq, disp, inflight int) map[string]string {
	return map[string]string{
		"destinationName": name, "size": strconv.Itoa(size), "consumerCount": strconv.Itoa(consumers),
		"enqueueCount": strconv.Itoa(enq), "dequeueCount": strconv.Itoa(deq),
		"dispatchCount": strconv.Itoa(disp), "inflightCount": strconv.Itoa(inflight),
	}
}

func checkFigures(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// queueNames returns the names of the broker's queues.
func queueNames(b *Broker) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.queues))
}

// TestStatisticsQueue: a queue filled with 10 messages and consumed by a
// subscriber with a window of 3 reports what it holds (waiting and
// unacknowledged), its consumer while it is attached, and what went in,
// out and to the subscriber; the correlation-id of the request is on the
// reply, and no queue of the statistics destination's name appears.
func TestStatisticsQueue(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	s := newStatsPeer(t, b)
	prod := connect(t, b, protocol.V12)
	for i := range 10 {
		prod.send(sendTo("/queue/orders.eu", "m"+strconv.Itoa(i)))
	}
	prod.sync(sendTo("/queue/orders.eu", "m10"), "sent")
	const q = "queue://orders.eu"
	checkFigures(t, "filled", s.askFigures("orders.eu")[q], destFigures(q, 11, 0, 11, 0, 0, 0))

	cons := connect(t, b, protocol.V12)
	cons.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/orders.eu", "id", "c",
		"ack", "client-individual", "activemq.prefetchSize", "3"), "sub")
	var got []*protocol.Frame
	for range 3 {
		got = append(got, cons.read())
	}
	checkFigures(t, "3 delivered", s.askFigures("orders.eu")[q], destFigures(q, 11, 1, 11, 0, 3, 3))
	for i, m := range got {
		cons.sync(protocol.NewFrame(protocol.CmdAck, "id", m.Header("ack")), "ack"+strconv.Itoa(i))
	}
	// Each ACK made room for one more delivery.
	checkFigures(t, "3 acknowledged", s.askFigures("orders.eu")[q], destFigures(q, 8, 1, 11, 3, 6, 3))

	cons.sync(protocol.NewFrame(protocol.CmdUnsubscribe, "id", "c"), "unsub")
	checkFigures(t, "unsubscribed", s.askFigures("orders.eu")[q], destFigures(q, 8, 0, 11, 3, 6, 0))

	replies := s.ask("/queue/ActiveMQ.Statistics.Destination.orders.eu", "correlation-id", "req-42")
	if len(replies) != 1 || replies[0].Header("correlation-id") != "req-42" {
		t.Errorf("correlation-id not copied: %v", replies)
	}
	if names := queueNames(b); !slices.Equal(names, []string{"/queue/orders.eu", "/temp-queue/stats"}) {
		t.Errorf("queues %v", names)
	}
	if d := b.QueueDepth("/queue/orders.eu"); d != 8 {
		t.Errorf("depth %d", d)
	}
}

// TestStatisticsReplyTo: the replies go to any destination as a SEND
// there would: a queue nobody reads keeps them, a topic's subscriber gets
// them, a temporary queue whose owner is gone drops them.
func TestStatisticsReplyTo(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	p := connect(t, b, protocol.V12)
	p.sync(sendTo("/queue/a", "x"), "a")
	p.sync(sendTo("/queue/b", "x"), "b")
	p.sync(sendTo("/queue/ActiveMQ.Statistics.Destination.>", "", "reply-to", "/queue/replies"), "ask")
	if d := b.QueueDepth("/queue/replies"); d != 2 {
		t.Fatalf("%d replies kept, want 2", d)
	}
	p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/replies", "id", "r"), "sub")
	for _, want := range []string{"queue://a", "queue://b"} {
		if got := figuresOf(t, p.read())["destinationName"]; got != want {
			t.Errorf("reply for %s, want %s", got, want)
		}
	}

	p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/answers", "id", "t"), "subt")
	r := p.sync(sendTo("/queue/ActiveMQ.Statistics.Destination.a", "", "reply-to", "/topic/answers"), "askt")
	if len(r) != 1 || r[0].Header("destination") != "/topic/answers" || figuresOf(t, r[0])["destinationName"] != "queue://a" {
		t.Errorf("reply to a topic: %v", r)
	}

	p.sync(sendTo("/queue/ActiveMQ.Statistics.Broker", "", "reply-to", "/temp-queue/nobody"), "askgone")
	if slices.Contains(queueNames(b), "/temp-queue/nobody") {
		t.Error("a reply created a temporary queue without its owner")
	}
}

// TestStatisticsWildcards: '*' takes one segment, '>' one or more at the
// end, a plain name the queue and the topic of that name; temporary
// destinations and names outside /queue/ and /topic/ are not listed.
func TestStatisticsWildcards(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	s := newStatsPeer(t, b)
	p := connect(t, b, protocol.V12)
	for _, d := range []string{"/queue/orders.eu", "/queue/orders.us", "/queue/orders.eu.late", "/queue/billing", "plain"} {
		p.sync(sendTo(d, "x"), d)
	}
	for i, d := range []string{"/topic/orders.news", "/topic/orders.eu", "/temp-queue/mine", "/temp-topic/ours"} {
		p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", d, "id", strconv.Itoa(i)), d)
	}
	for _, tc := range []struct {
		dest string
		want []string
	}{
		{"/queue/ActiveMQ.Statistics.Destination.>", []string{"queue://billing", "queue://orders.eu", "queue://orders.eu.late", "queue://orders.us", "topic://orders.eu", "topic://orders.news"}},
		{"/queue/ActiveMQ.Statistics.Destination.orders.*", []string{"queue://orders.eu", "queue://orders.us", "topic://orders.eu", "topic://orders.news"}},
		{"/queue/ActiveMQ.Statistics.Destination.orders.>", []string{"queue://orders.eu", "queue://orders.eu.late", "queue://orders.us", "topic://orders.eu", "topic://orders.news"}},
		{"/queue/ActiveMQ.Statistics.Destination.orders.eu", []string{"queue://orders.eu", "topic://orders.eu"}},
		{"/queue/ActiveMQ.Statistics.Destination.*.eu.*", []string{"queue://orders.eu.late"}},
		{"/topic/ActiveMQ.Statistics.Destination.billing", []string{"queue://billing"}},
	} {
		var got []string
		for _, f := range s.ask(tc.dest) {
			got = append(got, figuresOf(t, f)["destinationName"])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.dest, got, tc.want)
		}
	}
}

func TestMatchPattern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{">", "a", true},
		{">", "a.b.c", true},
		{"a.>", "a.b", true},
		{"a.>", "a.b.c", true},
		{"a.>", "a", false},
		{"a.>", "ab.c", false},
		{"*", "a", true},
		{"*", "a.b", false},
		{"a.*", "a.b", true},
		{"a.*", "a.b.c", false},
		{"a.*", "a", false},
		{"*.b.*", "a.b.c", true},
		{"*.b.*", "a.c.c", false},
		{"a.b", "a.b", true},
		{"a.b", "a.bc", false},
		{"a.b", "a", false},
		{"a", "a.b", false},
		{"a.>.c", "a.b.c", false}, // '>' only at the end
		{"", "a", false},
	} {
		if got := matchPattern(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}

// TestStatisticsTopic: a topic's figures sum its subscriptions: what waits
// for them or is delivered and unacknowledged, each delivery, each
// acknowledgement (a message written to an ack:auto subscriber is
// acknowledged); a message counts once when sent. A topic nobody
// subscribes to does not exist.
func TestStatisticsTopic(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	s := newStatsPeer(t, b)
	sub := connect(t, b, protocol.V12)
	sub.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/news", "id", "n", "ack", "client"), "sub")
	p := connect(t, b, protocol.V12)
	p.sync(sendTo("/topic/news", "1"), "1")
	p.sync(sendTo("/topic/news", "2"), "2")
	sub.read()
	last := sub.read()
	const name = "topic://news"
	checkFigures(t, "delivered", s.askFigures("news")[name], destFigures(name, 2, 1, 2, 0, 2, 2))
	sub.sync(protocol.NewFrame(protocol.CmdAck, "id", last.Header("ack")), "ack")
	checkFigures(t, "acknowledged", s.askFigures("news")[name], destFigures(name, 0, 1, 2, 2, 2, 0))

	auto := connect(t, b, protocol.V12)
	auto.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/news", "id", "a"), "sub")
	p.sync(sendTo("/topic/news", "3"), "3")
	checkFigures(t, "two subscribers", s.askFigures("news")[name], destFigures(name, 1, 2, 3, 3, 4, 1))

	p.sync(sendTo("/topic/nobody", "lost"), "lost")
	if r := s.ask("/queue/ActiveMQ.Statistics.Destination.nobody"); len(r) != 1 || r[0].Header(HdrStatisticsEmpty) != "true" {
		t.Errorf("a topic without subscribers: %v", r)
	}
}

// TestStatisticsEmpty: a pattern that matches nothing gets one reply
// saying so, with no figures; so does the bare destination prefix.
func TestStatisticsEmpty(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	s := newStatsPeer(t, b)
	s.sync(sendTo("/queue/orders.eu", "x"), "x")
	for _, dest := range []string{"/queue/ActiveMQ.Statistics.Destination.nothing.*", "/queue/ActiveMQ.Statistics.Destination"} {
		r := s.ask(dest, "correlation-id", "c1")
		if len(r) != 1 {
			t.Fatalf("%s: %d replies", dest, len(r))
		}
		f := r[0]
		if f.Header(HdrStatisticsEmpty) != "true" || f.Header("correlation-id") != "c1" || len(f.Body) != 0 {
			t.Errorf("%s: %v", dest, f)
		}
		for _, name := range []string{"destinationName", "size", "consumerCount", "enqueueCount"} {
			if f.Headers.Has(name) {
				t.Errorf("%s: the empty reply has %s", dest, name)
			}
		}
	}
}

// TestStatisticsBroker: the broker's totals sum the listed destinations,
// plus what went through those deleted since; temporary destinations
// (the asker's reply queue) are not counted.
func TestStatisticsBroker(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	s := newStatsPeer(t, b)
	p := connect(t, b, protocol.V12)
	for i := range 3 {
		p.sync(sendTo("/queue/a", "x"), "a"+strconv.Itoa(i))
	}
	p.sync(sendTo("/queue/b", "x"), "b1")
	p.sync(sendTo("/queue/b", "x"), "b2")
	cons := connect(t, b, protocol.V12)
	cons.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/b", "id", "b",
		"ack", "client", "activemq.prefetchSize", "1"), "sub")
	cons.read()
	cons.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/t", "id", "t"), "t")
	p.sync(sendTo("/topic/t", "x"), "t")
	cons.read()
	// A queue that went: its counts stay in the totals.
	cons.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/gone", "id", "g"), "g")
	p.sync(sendTo("/queue/gone", "x"), "g")
	cons.read()
	cons.sync(protocol.NewFrame(protocol.CmdUnsubscribe, "id", "g"), "ug")
	if slices.Contains(queueNames(b), "/queue/gone") {
		t.Fatal("an idle queue stayed")
	}

	r := s.ask("/queue/ActiveMQ.Statistics.Broker", "correlation-id", "whole")
	if len(r) != 1 || r[0].Header("correlation-id") != "whole" {
		t.Fatalf("replies %v", r)
	}
	// size: a 3, b 2 (1 delivered); consumers: b, t; enqueued: a 3, b 2,
	// t 1, gone 1; dequeued: t 1, gone 1 (ack:auto); dispatched: b 1, t
	// 1, gone 1.
	checkFigures(t, "broker", figuresOf(t, r[0]), map[string]string{
		"brokerName": "stompest", "size": "5", "consumerCount": "2", "enqueueCount": "7",
		"dequeueCount": "2", "dispatchCount": "3", "inflightCount": "1", "destinationCount": "3",
	})
	if r := s.ask("/topic/ActiveMQ.Statistics.Broker"); len(r) != 1 || r[0].Header("brokerName") != "stompest" {
		t.Errorf("on a topic: %v", r)
	}
	// A queue made again starts its counts again.
	p.sync(sendTo("/queue/gone", "x"), "again")
	checkFigures(t, "made again", s.askFigures("gone")["queue://gone"], destFigures("queue://gone", 1, 0, 1, 0, 0, 0))
}

// TestStatisticsDeadLetter: a NACK that requeues is no dequeue; a dead
// letter is dequeued from its queue and enqueued in the dead-letter
// queue.
func TestStatisticsDeadLetter(t *testing.T) {
	t.Parallel()
	b := start(t, Config{DeadLetter: true, MaxRedeliveries: 1})
	s := newStatsPeer(t, b)
	c := subscribeDLQ(t, b, "/queue/work", "client-individual")
	produce(t, b, "/queue/work", "poison")
	m := c.read()
	again := c.nack(m)
	if len(again) == 0 {
		again = append(again, c.read())
	}
	const w, dlq = "queue://work", "queue://DLQ"
	checkFigures(t, "requeued", s.askFigures("work")[w], destFigures(w, 1, 1, 1, 0, 2, 1))
	c.nack(again[0])
	figs := s.askFigures(">")
	checkFigures(t, "dead-lettered", figs[w], destFigures(w, 0, 1, 1, 1, 2, 0))
	checkFigures(t, "dead-letter queue", figs[dlq], destFigures(dlq, 1, 0, 1, 0, 0, 0))
}

// TestStatisticsIgnored: a request without reply-to is logged and
// dropped; one replying to a statistics destination too. Neither creates
// a queue, and each SEND is confirmed.
func TestStatisticsIgnored(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var logged []string
	b := start(t, Config{Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(format, args...))
	}})
	p := connect(t, b, protocol.V12)
	if r := p.sync(sendTo("/queue/ActiveMQ.Statistics.Destination.>", "x"), "no-reply-to"); len(r) != 0 {
		t.Errorf("answered: %v", r)
	}
	if r := p.sync(sendTo("/queue/ActiveMQ.Statistics.Broker", "x", "reply-to", "/queue/ActiveMQ.Statistics.Broker"), "loop"); len(r) != 0 {
		t.Errorf("answered: %v", r)
	}
	if names := queueNames(b); len(names) != 0 {
		t.Errorf("queues %v", names)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 2 || !strings.Contains(logged[0], "without reply-to") || !strings.Contains(logged[1], "a statistics destination") {
		t.Errorf("logged %q", logged)
	}
}

// TestStatisticsInTransaction: a request in a transaction is answered at
// once, not at COMMIT; an unknown transaction is refused as for any SEND.
func TestStatisticsInTransaction(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	s := newStatsPeer(t, b)
	s.sync(sendTo("/queue/a", "x"), "a")
	s.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "tx"), "begin")
	if r := s.ask("/queue/ActiveMQ.Statistics.Destination.a", "transaction", "tx"); len(r) != 1 || figuresOf(t, r[0])["destinationName"] != "queue://a" {
		t.Errorf("in a transaction: %v", r)
	}
	if r := s.sync(protocol.NewFrame(protocol.CmdAbort, "transaction", "tx"), "abort"); len(r) != 0 {
		t.Errorf("after ABORT: %v", r)
	}
	s.send(sendTo("/queue/ActiveMQ.Statistics.Broker", "", "reply-to", s.reply, "transaction", "nope"))
	if f := s.read(); f.Command != protocol.CmdError {
		t.Errorf("unknown transaction: %v", f)
	}
}
