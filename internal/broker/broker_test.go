package broker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stompest/stompest/internal/protocol"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild() // a broker for TestHostileLoad
		return
	}
	goleak.VerifyTestMain(m)
}

func start(t testing.TB, cfg Config) *Broker {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	b := New(cfg)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// peer is a raw STOMP client.
type peer struct {
	t  testing.TB
	nc net.Conn
	r  *protocol.Reader
	w  *protocol.Writer
}

func dialRaw(t testing.TB, b *Broker) *peer {
	t.Helper()
	nc, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &peer{t: t, nc: nc, r: protocol.NewReader(nc), w: protocol.NewWriter(nc)}
}

// connect opens a session in version v (CONNECT with accept-version).
func connect(t testing.TB, b *Broker, v protocol.Version, nv ...string) *peer {
	t.Helper()
	p := dialRaw(t, b)
	f := protocol.NewFrame(protocol.CmdConnect, append([]string{"accept-version", v.String(), "host", "/"}, nv...)...)
	p.send(f)
	got := p.read()
	if got.Command != protocol.CmdConnected {
		t.Fatalf("CONNECT answered with %v", got)
	}
	p.r.SetVersion(v)
	p.w.SetVersion(v)
	return p
}

func (p *peer) send(f *protocol.Frame) {
	p.t.Helper()
	if err := p.w.WriteFrame(f); err != nil {
		p.t.Fatal(err)
	}
	if err := p.w.Flush(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *peer) read() *protocol.Frame {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		f, err := p.r.Read()
		if err != nil {
			p.t.Fatalf("read: %v", err)
		}
		if !f.IsHeartBeat() {
			return f
		}
	}
}

// sync sends a frame with a receipt and reads up to the RECEIPT, returning
// the frames before it.
func (p *peer) sync(f *protocol.Frame, id string) []*protocol.Frame {
	p.t.Helper()
	f.Headers.Add("receipt", id)
	p.send(f)
	var before []*protocol.Frame
	for {
		g := p.read()
		if g.Command == protocol.CmdReceipt && g.Header("receipt-id") == id {
			return before
		}
		before = append(before, g)
	}
}

func sendTo(dest, body string, nv ...string) *protocol.Frame {
	f := protocol.NewFrame(protocol.CmdSend, append([]string{"destination", dest}, nv...)...)
	f.Body = []byte(body)
	return f
}

func TestVersionNegotiation(t *testing.T) {
	t.Parallel()
	b := start(t, Config{HeartBeat: protocol.HeartBeatSpec{Send: time.Second}})
	for _, tc := range []struct {
		accept, want string
	}{{"1.0,1.1,1.2", "1.2"}, {"1.1", "1.1"}, {"", "1.0"}, {"1.0,1.1", "1.1"}} {
		p := dialRaw(t, b)
		f := protocol.NewFrame(protocol.CmdConnect)
		if tc.accept != "" {
			f.Headers.Add("accept-version", tc.accept)
		}
		p.send(f)
		got := p.read()
		if got.Command != protocol.CmdConnected || got.Header("version") != tc.want || !strings.HasPrefix(got.Header("server"), "stompest/") {
			t.Errorf("accept %q: %v", tc.accept, got)
		}
	}
	p := dialRaw(t, b)
	p.send(protocol.NewFrame(protocol.CmdConnect, "accept-version", "2.0"))
	if got := p.read(); got.Command != protocol.CmdError || got.Header("version") != "1.0,1.1,1.2" {
		t.Errorf("no common version: %v", got)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := start(t, Config{User: "u", Password: "p"})
	p := dialRaw(t, b)
	p.send(protocol.NewFrame(protocol.CmdConnect, "accept-version", "1.2", "login", "u", "passcode", "x"))
	if got := p.read(); got.Command != protocol.CmdError || !strings.Contains(got.Header("message"), "Authentication failed") {
		t.Fatalf("bad passcode: %v", got)
	}
	connect(t, b, protocol.V12, "login", "u", "passcode", "p")
}

func TestQueueRoundRobinAndRedelivery(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	c1 := connect(t, b, protocol.V12)
	c2 := connect(t, b, protocol.V12)
	c1.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/q", "id", "s1", "ack", "client-individual"), "r1")
	c2.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/q", "id", "s2", "ack", "client-individual"), "r2")
	prod := connect(t, b, protocol.V12)
	for _, body := range []string{"m1", "m2", "m3", "m4"} {
		prod.send(sendTo("/queue/q", body))
	}
	prod.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "t"), "sync")
	a, bb, cc, d := c1.read(), c2.read(), c1.read(), c2.read()
	if string(a.Body) != "m1" || string(bb.Body) != "m2" || string(cc.Body) != "m3" || string(d.Body) != "m4" {
		t.Fatalf("round robin: %s %s %s %s", a.Body, bb.Body, cc.Body, d.Body)
	}
	// c1 goes away without acknowledging: m1 and m3 return to the head of
	// the queue in order, redelivered, with their message-ids.
	c1.nc.Close()
	x, y := c2.read(), c2.read()
	if string(x.Body) != "m1" || string(y.Body) != "m3" || x.Header("redelivered") != "true" || x.Header("message-id") != a.Header("message-id") {
		t.Fatalf("redelivery: %v / %v", x, y)
	}
	// NACK sends a message back too.
	before := c2.sync(protocol.NewFrame(protocol.CmdNack, "id", x.Header("ack")), "n")
	if len(before) == 0 {
		before = append(before, c2.read())
	}
	z := before[0]
	if string(z.Body) != "m1" || z.Header("redelivered") != "true" {
		t.Fatalf("after NACK: %v", z)
	}
	// An ACK of an unknown id is an ERROR.
	c2.send(protocol.NewFrame(protocol.CmdAck, "id", "nope"))
	for {
		f := c2.read()
		if f.Command == protocol.CmdError {
			break
		}
	}
}

func TestPrefetchAndClientAck(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	prod := connect(t, b, protocol.V11)
	for _, body := range []string{"a", "b", "c"} {
		prod.send(sendTo("/queue/pf", body))
	}
	prod.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "t"), "sync")
	c := connect(t, b, protocol.V11)
	got := c.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/pf", "id", "s", "ack", "client", "activemq.prefetchSize", "2"), "r")
	got = append(got, c.read(), c.read())
	if len(got) != 2 || string(got[0].Body) != "a" || string(got[1].Body) != "b" {
		t.Fatalf("prefetch 2 delivered %d", len(got))
	}
	// A cumulative ACK of b (1.1: message-id + subscription) frees both.
	more := c.sync(protocol.NewFrame(protocol.CmdAck, "message-id", got[1].Header("message-id"), "subscription", "s"), "ack")
	if len(more) == 0 {
		more = append(more, c.read())
	}
	if string(more[0].Body) != "c" {
		t.Fatalf("after ACK: %v", more[0])
	}
	if b.QueueDepth("/queue/pf") != 0 {
		t.Fatalf("depth %d", b.QueueDepth("/queue/pf"))
	}
}

func TestTopicsDurableBrowseSelector(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	// A durable subscriber that goes away keeps receiving into its queue.
	d := connect(t, b, protocol.V12, "client-id", "app")
	d.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/t", "id", "d", "activemq.subscriptionName", "keep"), "r")
	d.nc.Close()
	plain := connect(t, b, protocol.V12)
	plain.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/t", "id", "p", "selector", "kind = 'x' OR n = 2"), "r")
	prod := connect(t, b, protocol.V12)
	prod.send(sendTo("/topic/t", "one", "kind", "x"))
	prod.send(sendTo("/topic/t", "two", "kind", "y", "n", "2"))
	prod.send(sendTo("/topic/t", "three", "kind", "z"))
	prod.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "t"), "sync")
	if f1, f2 := plain.read(), plain.read(); string(f1.Body) != "one" || string(f2.Body) != "two" {
		t.Fatalf("selector: %s %s", f1.Body, f2.Body)
	}
	back := connect(t, b, protocol.V12, "client-id", "app")
	msgs := back.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/topic/t", "id", "d", "activemq.subscriptionName", "keep"), "r")
	for len(msgs) < 3 {
		msgs = append(msgs, back.read())
	}
	if string(msgs[0].Body) != "one" || string(msgs[2].Body) != "three" {
		t.Fatalf("durable kept %d", len(msgs))
	}

	// Browsing a queue shows its messages and leaves them.
	prod.send(sendTo("/queue/br", "b1"))
	prod.sync(sendTo("/queue/br", "b2"), "s2")
	br := connect(t, b, protocol.V12)
	got := br.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/br", "id", "b", "browser", "true"), "r")
	for len(got) < 3 {
		got = append(got, br.read())
	}
	if string(got[0].Body) != "b1" || got[2].Header("browser") != "end" || b.QueueDepth("/queue/br") != 2 {
		t.Fatalf("browse: %v", got)
	}
}

func TestTransactions(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	p := connect(t, b, protocol.V12)
	p.send(protocol.NewFrame(protocol.CmdBegin, "transaction", "t1"))
	p.send(sendTo("/queue/tx", "held", "transaction", "t1"))
	p.sync(protocol.NewFrame(protocol.CmdBegin, "transaction", "t2"), "r")
	if b.QueueDepth("/queue/tx") != 0 {
		t.Fatal("a SEND in a transaction was delivered before COMMIT")
	}
	p.sync(protocol.NewFrame(protocol.CmdCommit, "transaction", "t1"), "c")
	if b.QueueDepth("/queue/tx") != 1 {
		t.Fatal("COMMIT did not deliver")
	}
	p.send(sendTo("/queue/tx", "dropped", "transaction", "t2"))
	p.sync(protocol.NewFrame(protocol.CmdAbort, "transaction", "t2"), "a")
	if b.QueueDepth("/queue/tx") != 1 {
		t.Fatal("ABORT delivered")
	}
}

// TestGarbage throws malformed input at the broker: it answers ERROR or
// closes, and keeps serving others.
func TestGarbage(t *testing.T) {
	t.Parallel()
	b := start(t, Config{Limits: protocol.Limits{MaxBodySize: 1024, MaxLineSize: 256, MaxHeaders: 10}})
	inputs := []string{
		"\x00\x00\x00",
		"GARBAGE\n\n\x00",
		"SEND\ndestination:/q\n\nbefore connect\x00",
		"CONNECT\naccept-version:1.2\n\n\x00SEND\n\n\x00",
		"CONNECT\naccept-version:1.2\n\n\x00SEND\ndestination:/q\ncontent-length:99999999\n\n",
		"CONNECT\naccept-version:1.2\n\n\x00SEND\ndestination:/q\nk:\\t\n\n\x00",
		"CONNECT\naccept-version:1.2\n\n\x00ACK\nid:none\n\n\x00",
		"CONNECT\naccept-version:1.2\n\n\x00SUBSCRIBE\nid:1\n\n\x00",
		"CONNECT\naccept-version:1.2\n\n\x00SUBSCRIBE\ndestination:/q\nid:1\nselector:a = \n\n\x00",
		"CONNECT\naccept-version:1.2\n\n\x00COMMIT\ntransaction:x\n\n\x00",
		"CONNECT\naccept-version:1.2\nheart-beat:x\n\n\x00",
		"CONNECT\naccept-version:1.2\n\n\x00" + strings.Repeat("h:v\n", 20),
		strings.Repeat("A", 10000),
	}
	for _, in := range inputs {
		p := dialRaw(t, b)
		p.nc.Write([]byte(in))
		p.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		for {
			f, err := p.r.Read()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					// Waiting for more input is fine for a truncated frame.
					break
				}
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
					t.Errorf("%q: %v", in, err)
				}
				break
			}
			if f.Command == protocol.CmdError {
				break
			}
		}
		p.nc.Close()
	}
	connect(t, b, protocol.V12) // still serving
}

func TestHeartBeatEnforced(t *testing.T) {
	t.Parallel()
	b := start(t, Config{HeartBeat: protocol.HeartBeatSpec{Receive: 50 * time.Millisecond}})
	p := connect(t, b, protocol.V12, "heart-beat", "50,0")
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, err := p.r.Read()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("a silent client was not disconnected")
			}
			return
		}
	}
}

func TestSelectorParse(t *testing.T) {
	t.Parallel()
	h := protocol.Headers{{Name: "a", Value: "x"}, {Name: "n", Value: "2.0"}, {Name: "message-id", Value: "ID:1"}}
	for expr, want := range map[string]bool{
		"a = 'x'": true, "a <> 'x'": false, "n = 2": true, "a = 'x' AND n = 3": false,
		"a = 'y' OR (n = 2 AND a = 'x')": true, "NOT a = 'x'": false, "JMSMessageID = 'ID:1'": true,
		"missing = 'x'": false, "a != 'z'": true, "a = 'it''s'": false,
	} {
		s, err := parseSelector(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if s.match(h) != want {
			t.Errorf("%s: got %v", expr, !want)
		}
	}
	for _, bad := range []string{"", "a =", "a = 'x", "(a = 'x'", "a = 'x' b", "= 'x'", "a ~ 1"} {
		if _, err := parseSelector(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestDeliveryInEveryVersion: a message is kept as its 1.2 wire bytes; each
// subscriber still gets it in its own version's encoding, with the
// sender's headers (escapes, CR, empty values, duplicates) intact, its own
// subscription id (escaped as its version wants), an ack header in 1.2
// client modes and redelivered after a NACK; a binary body with NUL keeps
// every byte.
func TestDeliveryInEveryVersion(t *testing.T) {
	t.Parallel()
	for _, trace := range []bool{false, true} {
		cfg := Config{}
		if trace {
			cfg.Trace = io.Discard // traced frames take the decoding path
		}
		b := start(t, cfg)
		body := "a\x00b\nc\\d"
		common := []string{"k", "a:b\\c", "empty", "", "k", "second", "x-id", "ID:1:2"}
		cases := []struct {
			v      protocol.Version
			sub    string
			extra  []string // headers only this version can carry
			header string   // the sub id as the subscriber reads it
		}{
			{protocol.V10, "s:10", nil, "s:10"},
			{protocol.V11, "s:11", []string{"nl", "a\nb", "cr", "a\rb"}, "s:11"},
			{protocol.V12, "s:12", []string{"nl", "a\nb", "cr", "a\rb"}, "s:12"},
		}
		for _, tc := range cases {
			dest := "/queue/v" + tc.v.String()
			if trace {
				dest += "-trace"
			}
			sub := connect(t, b, tc.v)
			sub.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", dest, "id", tc.sub, "ack", "client-individual"), "r")
			prod := connect(t, b, protocol.V12)
			prod.send(sendTo(dest, body, append(append([]string{}, common...), tc.extra...)...))
			m := sub.read()
			want := append(append([]string{}, common...), tc.extra...)
			check := func(m *protocol.Frame, redelivered bool) {
				t.Helper()
				if m.Command != protocol.CmdMessage || string(m.Body) != body || m.Header("subscription") != tc.header ||
					m.Header("destination") != dest || !strings.HasPrefix(m.Header("message-id"), "ID:stompest-") {
					t.Fatalf("%s: %v", tc.v, m)
				}
				var got []string
				for _, h := range m.Headers {
					switch h.Name {
					case "destination", "message-id", "subscription", "ack", "content-length", "redelivered":
					default:
						got = append(got, h.Name, h.Value)
					}
				}
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Fatalf("%s (trace %v): headers %q, want %q", tc.v, trace, got, want)
				}
				if _, ok := m.Lookup("ack"); ok != (tc.v == protocol.V12) {
					t.Fatalf("%s: ack header %v", tc.v, ok)
				}
				if (m.Header("redelivered") == "true") != redelivered {
					t.Fatalf("%s: redelivered %q", tc.v, m.Header("redelivered"))
				}
			}
			check(m, false)
			if tc.v == protocol.V10 {
				continue // no NACK in 1.0
			}
			nack := protocol.NewFrame(protocol.CmdNack, "subscription", tc.sub, "message-id", m.Header("message-id"))
			if tc.v == protocol.V12 {
				nack = protocol.NewFrame(protocol.CmdNack, "id", m.Header("ack"))
			}
			sub.send(nack)
			check(sub.read(), true)
		}
	}
}

func TestArena(t *testing.T) {
	t.Parallel()
	var a arena
	var kept [][]byte
	for i := range 2000 {
		w := []byte(strings.Repeat(string(rune('a'+i%26)), 1+i%300))
		k := a.keep(w)
		if cap(k) != len(k) {
			t.Fatalf("message %d: cap %d, len %d: an append would reach its neighbour", i, cap(k), len(k))
		}
		kept = append(kept, k)
	}
	for i, k := range kept {
		if want := strings.Repeat(string(rune('a'+i%26)), 1+i%300); string(k) != want {
			t.Fatalf("message %d changed", i)
		}
	}
	if cap(a.block) != arenaBlock {
		t.Fatalf("blocks grew to %d, want %d", cap(a.block), arenaBlock)
	}
	used := len(a.block)
	if k := a.keep(make([]byte, arenaOwn+1)); len(k) != arenaOwn+1 || len(a.block) != used {
		t.Fatal("a large message went into a block")
	}
	a.reset()
	if a.keep([]byte("x")); cap(a.block) != arenaFirst {
		t.Fatalf("after reset the block is %d bytes, want %d", cap(a.block), arenaFirst)
	}

	// A queue that drains lets go of its block.
	b := start(t, Config{})
	p := connect(t, b, protocol.V12)
	p.sync(sendTo("/queue/a", "one"), "s")
	b.mu.Lock()
	held := b.queues["/queue/a"].arena.block != nil
	b.mu.Unlock()
	if !held {
		t.Fatal("no block while the queue holds a message")
	}
	p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/a", "id", "s"), "r")
	b.mu.Lock()
	held = b.queues["/queue/a"].arena.block != nil
	b.mu.Unlock()
	if held {
		t.Fatal("an empty queue still holds a block")
	}
}

// TestMsgList drives a msgList and a plain slice with the same random
// pushes and removals (mostly at the head, some in the middle) across
// many segments, and compares them after every step.
func TestMsgList(t *testing.T) {
	t.Parallel()
	var l msgList
	var model []uint64
	rng := uint64(1)
	next := func(n int) int {
		rng = rng*6364136223846793005 + 1442695040888963407
		return int(rng>>33) % n
	}
	seq := uint64(0)
	for step := range 40000 {
		switch r := next(10); {
		case r < 6 || len(model) == 0:
			seq++
			l.push(message{seq: seq})
			model = append(model, seq)
		case r < 9:
			l.remove(0)
			model = model[1:]
		default:
			i := next(len(model))
			l.remove(i)
			model = append(model[:i:i], model[i+1:]...)
		}
		if l.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, l.len(), len(model))
		}
		if len(model) > 0 {
			for _, i := range []int{0, len(model) / 2, len(model) - 1} {
				if got := l.at(i).seq; got != model[i] {
					t.Fatalf("step %d: message %d is %d, want %d", step, i, got, model[i])
				}
			}
		}
	}
	if len(model) < 4*segSize {
		t.Fatalf("only %d messages: the walk never spanned many segments", len(model))
	}
	got := l.slice()
	for i := range model {
		if got[i].seq != model[i] {
			t.Fatalf("slice: message %d is %d, want %d", i, got[i].seq, model[i])
		}
	}
	if len(l.segs) > len(model)/segSize+2 {
		t.Fatalf("%d segments hold %d messages", len(l.segs), len(model))
	}
}

// TestMsgListDrained: a queue that keeps draining (a consumer keeping up)
// reuses its small first segment: no allocation per message. (Not
// parallel: AllocsPerRun counts the whole process.)
func TestMsgListDrained(t *testing.T) {
	var p msgList
	allocs := testing.AllocsPerRun(100, func() {
		for i := range 10 {
			p.push(message{seq: uint64(i)})
		}
		for i := range 10 {
			if p.at(0).seq != uint64(i) {
				t.Fatalf("drained queue: message %d is %d", i, p.at(0).seq)
			}
			p.remove(0)
		}
	})
	if allocs != 0 || p.len() != 0 {
		t.Fatalf("push and drain: %v allocations, %d left", allocs, p.len())
	}
}

// TestLargeBodies: bodies kept apart from their heads (a copy below
// protocol.OwnBody, the reader's own buffer from it on) reach 1.0 and 1.2
// subscribers whole, with and without tracing, after the connection that
// sent them has gone on reading other frames.
func TestLargeBodies(t *testing.T) {
	t.Parallel()
	bodies := []string{
		strings.Repeat("a\x00b", arenaOwn/3+1),
		strings.Repeat("c\x00d\n", protocol.OwnBody/4+100),
		strings.Repeat("e", 10),
	}
	for _, trace := range []bool{false, true} {
		cfg := Config{}
		if trace {
			cfg.Trace = io.Discard
		}
		b := start(t, cfg)
		prod := connect(t, b, protocol.V12)
		for _, v := range []protocol.Version{protocol.V10, protocol.V12} {
			dest := "/queue/large-" + v.String()
			for _, body := range bodies {
				prod.send(sendTo(dest, body, "k", "v"))
			}
			for range 40 { // enough to wrap the reader's buffer
				prod.send(sendTo("/queue/other", strings.Repeat("z", 3000)))
			}
			prod.sync(sendTo("/queue/other", "last"), "s")
			sub := connect(t, b, v)
			sub.send(protocol.NewFrame(protocol.CmdSubscribe, "destination", dest, "id", "s"))
			for i, body := range bodies {
				m := sub.read()
				if string(m.Body) != body || m.Header("k") != "v" || m.Header("destination") != dest {
					t.Fatalf("%s (trace %v) message %d: %d bytes, headers %v", v, trace, i, len(m.Body), m.Headers)
				}
			}
		}
	}
}

// TestRefusalEndsInOrder checks that a client whose frame is refused gets
// the ERROR and then the end of the stream, not a reset that could
// overtake the ERROR, although the rest of its frame was never read.
func TestRefusalEndsInOrder(t *testing.T) {
	t.Parallel()
	b := start(t, Config{Limits: protocol.Limits{MaxBodySize: 1000}})
	p := connect(t, b, protocol.V12)
	body := bytes.Repeat([]byte("x"), 4<<20)
	wrote := make(chan error, 1)
	go func() {
		_, err := p.nc.Write([]byte("SEND\ndestination:/queue/big\ncontent-length:" + strconv.Itoa(len(body)) + "\n\n"))
		if err == nil {
			_, err = p.nc.Write(append(body, 0))
		}
		wrote <- err
	}()
	if f := p.read(); f.Command != protocol.CmdError || !strings.Contains(string(f.Body), "frame body too large") {
		t.Fatalf("got %v, want ERROR naming the limit", f)
	}
	if err := <-wrote; err != nil {
		t.Errorf("write of the refused frame: %v (the broker did not read it out)", err)
	}
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := p.r.Read()
	if err == nil && f.IsHeartBeat() {
		f, err = p.r.Read() // the EOL after the ERROR's NUL
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("after the ERROR: %v %v, want the end of the stream", f, err)
	}
}

// TestHeartBeatLateAfterFrame checks that a client whose first heart-beat
// comes more than two intervals after its CONNECT is kept, also when an EOL
// that reads as a heart-beat ends the CONNECT, and that it is disconnected
// once silent for two intervals after that beat.
func TestHeartBeatLateAfterFrame(t *testing.T) {
	t.Parallel()
	for _, eol := range []bool{false, true} {
		t.Run(fmt.Sprintf("eol=%v", eol), func(t *testing.T) {
			t.Parallel()
			const interval = 800 * time.Millisecond
			b := start(t, Config{HeartBeat: protocol.HeartBeatSpec{Receive: interval}})
			start := time.Now()
			p := connect(t, b, protocol.V12, "heart-beat", "800,0")
			if eol {
				if _, err := p.nc.Write([]byte("\n")); err != nil { // the frame's own end
					t.Fatal(err)
				}
			}
			time.Sleep(interval * 9 / 4) // the client's late first beat
			beat := time.Now()
			if _, err := p.nc.Write([]byte("\n")); err != nil {
				t.Fatal(err)
			}
			p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				_, err := p.r.Read()
				if err == nil {
					continue
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("a silent client was not disconnected")
				}
				break
			}
			if d := time.Since(beat); d < protocol.HeartBeatTolerance*interval {
				t.Fatalf("disconnected %v after the late beat (%v after CONNECT), before it counted", d, beat.Sub(start))
			}
		})
	}
}
