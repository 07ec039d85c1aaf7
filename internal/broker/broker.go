package broker

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/stompest/stompest/internal/protocol"
	"github.com/stompest/stompest/internal/wsconn"
)

// Version is the version the broker reports in CONNECTED as
// server:stompest/<Version>; the CLI sets it to its own.
var Version = "dev"

// Config is how a Broker runs.
type Config struct {
	Addr      string                 // listen address; "" is 127.0.0.1:61613
	WSAddr    string                 // WebSocket listen address, path /; "": none
	User      string                 // required login; "" accepts any
	Password  string                 // required passcode with User
	TLS       *tls.Config            // nil: plain TCP; set ClientAuth to require client certificates
	Limits    protocol.Limits        // what clients may send
	HeartBeat protocol.HeartBeatSpec // what the broker offers: sx, sy
	Trace     io.Writer              // every frame in and out; nil: none
	Logf      func(string, ...any)   // connection events; nil: none
	Record    bool                   // keep every received frame for Frames
	OnFrame   func(*protocol.Frame)  // called for every frame received; must not block

	// MaxMemory is the broker's memory budget in bytes (0:
	// DefaultMaxMemory, negative: none). The messages it holds may take
	// half of it; the other half is room for the garbage the Go heap
	// carries between collections and for the connections' buffers. Over
	// it, slow topic subscribers are disconnected and then SENDs are held
	// (see Broker).
	MaxMemory int64
	// MaxPending is how many messages a non-durable topic subscription may
	// have waiting for its subscriber (0: DefaultMaxPending, negative: no
	// limit); one more and the subscriber gets an ERROR and is
	// disconnected.
	MaxPending int
	// ConnectTimeout is how long a connection may take to complete its
	// CONNECT (0: DefaultConnectTimeout, negative: forever).
	ConnectTimeout time.Duration
	// WSAllowOrigins are the origins the WebSocket listener accepts
	// besides its own host: glob patterns (path.Match) matched against the
	// whole Origin (scheme://host[:port]) and against its host; "*"
	// accepts any.
	WSAllowOrigins []string

	// DeadLetter turns dead letters on: a message of a queue NACKed
	// more than MaxRedeliveries times goes to DeadLetterQueue instead of
	// back to its queue. Off (the zero value), a NACKed message goes back
	// to the head of its queue however often it is NACKed.
	DeadLetter bool
	// MaxRedeliveries is, with DeadLetter, how many times a NACKed
	// message of a queue is delivered again; the NACK after that many
	// redeliveries sends it to DeadLetterQueue (0: the first NACK does;
	// negative: no limit, as without DeadLetter). Only NACKs count, as
	// in ActiveMQ's redelivery policy: a message handed back because its
	// connection ended or its subscriber unsubscribed has not failed. A
	// NACK of ack mode client counts for every message it settles, and a
	// NACK in a transaction counts at its COMMIT (not at all if aborted).
	// Messages of topics (durable subscriptions too) and of the
	// dead-letter queue itself are never dead-lettered.
	MaxRedeliveries int
	// DeadLetterQueue is where dead letters go ("":
	// DefaultDeadLetterQueue): a queue, not a topic or a temporary
	// destination (Start refuses those). A dead letter is a new message
	// (a message-id of its own) with the body and the sender's headers
	// of the message NACKed, and two more headers: HdrOriginalDestination,
	// the queue it came from, and HdrDeadLetterReason.
	DeadLetterQueue string
}

// The defaults of Config.
const (
	DefaultMaxMemory       = 512 << 20
	DefaultMaxPending      = 100_000
	DefaultConnectTimeout  = 30 * time.Second
	DefaultDeadLetterQueue = "/queue/DLQ"
)

// Broker is an in-memory STOMP 1.0/1.1/1.2 broker. It keeps nothing on
// disk. One lock guards all destinations, which keeps delivery order and
// acknowledgement simple and exact.
//
// Its memory is bounded (Config.MaxMemory): every message it holds, from
// its SEND until it is written to an ack:auto subscriber or acknowledged,
// counts. Over the budget the broker first disconnects the non-durable
// topic subscribers that are furthest behind (their messages go with
// them), then holds SENDs: producer flow control. A held SEND is taken in
// but not handled (no RECEIPT) until memory is back under the budget, and
// its connection is read on only for ACK and NACK frames: at the next
// frame of any other kind the broker stops reading that connection, so
// TCP slows the producer (whose heart-beats it does not expect
// meanwhile: they wait in the socket behind its SENDs). Statistics
// requests are answered over the budget. Settlements go on because a
// connection that both produces and consumes must still be able to free
// memory by acknowledging; stopping every read would deadlock it. Frames
// after a held SEND keep their order, except those ACKs and NACKs, which
// may be handled (and their receipts sent) before it.
type Broker struct {
	cfg Config
	ln  net.Listener
	ws  *http.Server // nil without a WebSocket listener
	wln net.Listener
	wg  sync.WaitGroup

	stop     chan struct{} // closed by Close
	held     atomic.Int64  // bytes of the messages held: queued, or delivered and not acknowledged
	queueful atomic.Int64  // queueCost for each queue of b.queues that holds messages
	txHeld   atomic.Int64  // bytes of the SENDs held in open transactions
	kept     atomic.Int64  // subCost and txCost for each subscription and open transaction
	limit    int64         // what held and queueful may reach; 0: no limit
	flowWake chan struct{} // memory was freed while SENDs wait
	nblocked atomic.Int64  // len(blocked)
	logins   *throttle

	mu          sync.Mutex
	queues      map[string]*queue
	topics      map[string][]*queue // fan-out targets of each topic
	durables    map[string]*queue   // durable topic subscriptions, by client-id and name
	conns       map[*conn]bool
	frames      []*protocol.Frame
	closed      bool
	wbuf        []byte            // where publish builds a message
	topicArenas map[string]*arena // the wire bytes of each topic's messages
	blocked     []*conn           // connections with a held SEND, in order
	temps       map[string]*conn  // the owner of each temporary destination
	retired     destStats         // the counts of listed destinations deleted since the start

	msgSeq  atomic.Uint64
	connSeq atomic.Uint64

	refuse    atomic.Bool
	dropAfter atomic.Int64
	dropOnce  atomic.Bool
	noBeats   atomic.Bool
	hole      atomic.Bool

	traceMu sync.Mutex
	trace   *bufio.Writer
}

// New returns a broker that is not listening yet.
func New(cfg Config) *Broker {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:61613"
	}
	switch {
	case cfg.MaxMemory == 0:
		cfg.MaxMemory = DefaultMaxMemory
	case cfg.MaxMemory < 0:
		cfg.MaxMemory = 0
	}
	switch {
	case cfg.MaxPending == 0:
		cfg.MaxPending = DefaultMaxPending
	case cfg.MaxPending < 0:
		cfg.MaxPending = 0
	}
	switch {
	case cfg.ConnectTimeout == 0:
		cfg.ConnectTimeout = DefaultConnectTimeout
	case cfg.ConnectTimeout < 0:
		cfg.ConnectTimeout = 0
	}
	if cfg.DeadLetter && cfg.MaxRedeliveries < 0 {
		cfg.DeadLetter = false
	}
	if cfg.DeadLetterQueue == "" {
		cfg.DeadLetterQueue = DefaultDeadLetterQueue
	}
	b := &Broker{
		cfg: cfg, queues: map[string]*queue{}, topics: map[string][]*queue{},
		durables: map[string]*queue{}, conns: map[*conn]bool{}, topicArenas: map[string]*arena{},
		temps: map[string]*conn{}, stop: make(chan struct{}), flowWake: make(chan struct{}, 1),
		limit: cfg.MaxMemory / 2, logins: newThrottle(),
	}
	if cfg.Trace != nil {
		b.trace = bufio.NewWriter(cfg.Trace)
	}
	return b
}

// Start listens and serves connections in the background until Close.
func (b *Broker) Start() error {
	if dlq := b.cfg.DeadLetterQueue; b.cfg.DeadLetter && (isTopic(dlq) || isTemp(dlq)) {
		return fmt.Errorf("dead-letter queue %s: must be a queue, not a topic or a temporary destination", dlq)
	}
	ln, err := net.Listen("tcp", b.cfg.Addr)
	if err != nil {
		return err
	}
	if b.cfg.TLS != nil {
		ln = tls.NewListener(ln, b.cfg.TLS)
	}
	b.ln = ln
	if b.cfg.WSAddr != "" {
		wln, err := net.Listen("tcp", b.cfg.WSAddr)
		if err != nil {
			ln.Close()
			return err
		}
		if b.cfg.TLS != nil {
			wln = tls.NewListener(wln, b.cfg.TLS)
		}
		b.wln = wln
		mux := http.NewServeMux()
		mux.Handle("/{$}", b.checkOrigin(wsconn.Handler(b.serve)))
		b.ws = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.ws.Serve(wln)
		}()
	}
	b.wg.Add(2)
	go b.accept()
	go b.flow()
	return nil
}

// Addr returns the address the broker listens on.
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// WSAddr returns the address the broker's WebSocket listener listens on,
// or "" when it has none.
func (b *Broker) WSAddr() string {
	if b.wln == nil {
		return ""
	}
	return b.wln.Addr().String()
}

// Close stops listening, closes every connection and waits for their
// goroutines.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	err := b.ln.Close()
	if b.ws != nil {
		b.ws.Close()
	}
	for _, c := range conns {
		c.close()
	}
	b.wg.Wait()
	return err
}

// RefuseConnects makes the broker answer every CONNECT with ERROR.
func (b *Broker) RefuseConnects(on bool) { b.refuse.Store(on) }

// DropAfter makes the broker close each new connection once it has
// received n frames (0: never).
func (b *Broker) DropAfter(n int) { b.dropOnce.Store(false); b.dropAfter.Store(int64(n)) }

// DropOnceAfter makes the broker close the next connection that reaches n
// received frames; the connections after it are left alone.
func (b *Broker) DropOnceAfter(n int) { b.dropOnce.Store(true); b.dropAfter.Store(int64(n)) }

// StopHeartBeats stops (or resumes) the broker's heart-beats, and the EOL
// it sends after each frame: it then sends no EOL at all.
func (b *Broker) StopHeartBeats(on bool) { b.noBeats.Store(on) }

// Blackhole stops (or resumes) all reading and writing on open
// connections, which stay open: a broker that hangs.
func (b *Broker) Blackhole(on bool) {
	b.hole.Store(on)
	if !on {
		b.mu.Lock()
		for c := range b.conns {
			c.kick()
		}
		b.mu.Unlock()
	}
}

// WriteRaw writes raw bytes to every open connection.
func (b *Broker) WriteRaw(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.conns {
		c.raw(p)
	}
}

// Frames returns copies of the frames received so far (with
// Config.Record).
func (b *Broker) Frames() []*protocol.Frame {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*protocol.Frame, len(b.frames))
	for i, f := range b.frames {
		out[i] = f.Clone()
	}
	return out
}

// QueueDepth returns how many messages wait in a queue, not counting
// those delivered and not yet acknowledged.
func (b *Broker) QueueDepth(dest string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if q, ok := b.queues[dest]; ok {
		return q.msgs.len()
	}
	return 0
}

func (b *Broker) logf(format string, args ...any) {
	if b.cfg.Logf != nil {
		b.cfg.Logf(format, args...)
	}
}

func (b *Broker) traceFrame(c *conn, dir string, f *protocol.Frame) {
	if b.trace == nil {
		return
	}
	b.traceMu.Lock()
	defer b.traceMu.Unlock()
	protocol.WriteTrace(b.trace, "["+c.id+"] "+dir+" ", f)
}

// accept serves the connections of the TCP listener until Close. A failed
// accept (no file descriptor left: EMFILE, ENFILE; a connection reset
// before it was taken) is logged and retried after a pause that starts at
// 5 ms and doubles up to a second, as net/http does, so that the broker
// serves again as soon as descriptors are free.
func (b *Broker) accept() {
	defer b.wg.Done()
	var pause time.Duration
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			select {
			case <-b.stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			b.logf("accept: %v; retrying in %v", err, pause)
			t := time.NewTimer(pause)
			select {
			case <-b.stop:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		pause = 0
		b.serve(nc)
	}
}

// serve starts the goroutines of a new connection, unless the broker is
// closed.
func (b *Broker) serve(nc net.Conn) {
	c := newConn(b, nc)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		nc.Close()
		return
	}
	b.conns[c] = true
	b.wg.Add(2)
	if d := b.cfg.ConnectTimeout; d > 0 {
		c.connTimer = time.AfterFunc(d, c.connectExpired)
	}
	b.mu.Unlock()
	go c.readLoop()
	go c.writeLoop()
}

// message is one message held by the broker, kept as the wire bytes of
// its MESSAGE frame in STOMP 1.2 without the headers of a delivery
// (subscription, ack, redelivered): the command line, content-length,
// destination, message-id, the sender's headers, the body and the NUL.
// Delivering it to a 1.2 connection (and to a 1.1 one when no header holds
// a CR, which 1.1 writes unescaped) writes the delivery's header lines and
// these bytes; 1.0 connections, traces and selectors decode it. One
// pointer-free buffer per message keeps a large queue cheap for the
// collector.
type message struct {
	wire        []byte // with the body and the NUL, unless body holds the body
	body        []byte // a large body, kept apart; the NUL follows it on the wire
	seq         uint64
	cr          bool // a header holds a CR
	redelivered bool
	nacks       uint32 // NACKs counted against it (Config.DeadLetter); fits the padding
}

// msgOverhead is what holding a message costs besides its bytes: its
// entry in a queue, and its share of the arena block's slack.
const msgOverhead = 64

// cost returns what holding m counts against the memory budget.
func (m *message) cost() int64 { return int64(len(m.wire)+len(m.body)) + msgOverhead }

// commandLine is how the wire bytes of every message begin.
const commandLine = "MESSAGE\n"

// appendMessageID appends the message-id of the message numbered seq.
func appendMessageID(b []byte, seq uint64) []byte {
	return strconv.AppendUint(append(b, "ID:stompest-"...), seq, 10)
}

// decode returns the headers of m after content-length (destination,
// message-id and the sender's headers) and its body. The strings alias
// the wire bytes, which never change.
func (m message) decode() (protocol.Headers, []byte) {
	w := m.wire
	var hs protocol.Headers
	i := len(commandLine)
	for i < len(w) && w[i] != '\n' {
		j := i + bytes.IndexByte(w[i:], '\n')
		line := w[i:j]
		c := bytes.IndexByte(line, ':')
		if name := unescape(line[:c]); name != protocol.HdrContentLength {
			hs = append(hs, protocol.Header{Name: name, Value: unescape(line[c+1:])})
		}
		i = j + 1
	}
	if m.body != nil {
		return hs, m.body
	}
	return hs, w[i+1 : len(w)-1]
}

// userHeaders returns the sender's headers of m, as selectors see them.
func (m message) userHeaders() protocol.Headers {
	hs, _ := m.decode()
	return hs[2:]
}

// unescapes undoes the escapes of STOMP 1.2 "Value Encoding".
var unescapes = strings.NewReplacer(`\\`, `\`, `\c`, ":", `\n`, "\n", `\r`, "\r")

// unescape decodes one escaped name or value of a message's wire bytes.
func unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return unescapes.Replace(string(b))
}

// queue holds messages for its subscriptions: a /queue/ destination shared
// by round-robin, or the private queue of one topic subscription.
type queue struct {
	name    string
	msgs    msgList
	arena   arena // where the wire bytes of its messages are kept
	subs    []*subscription
	rr      int
	durable bool       // a durable topic subscription: survives its subscriber
	charged bool       // its queueCost counts in b.queueful (a queue of b.queues holding messages)
	gone    bool       // a topic subscription's queue, detached from its topic
	st      *destStats // the counts of its destination, shared by a topic's queues
}

// subscription is one SUBSCRIBE of one connection.
type subscription struct {
	c        *conn
	id       string
	dest     string
	ack      string
	prefetch int // 0: no limit
	sel      selector
	q        *queue
	unacked  []*delivery // in delivery order
	topic    bool
	head     []byte // "MESSAGE" and the subscription header, encoded for the connection's version
}

// delivery is a message handed to a subscription and not yet acknowledged.
type delivery struct {
	msg   message
	sub   *subscription
	ackID string // the MESSAGE's ack header (1.2)
	key   string // subscription id, NUL, message-id (1.0, 1.1)
}

// maxQueued bounds the frames waiting for a connection's writer: beyond
// it, delivery to that connection pauses until the writer catches up, so a
// slow consumer holds messages in the queue, not in an outgoing buffer.
const maxQueued = 1024

func (s *subscription) full() bool {
	if s.c.gone.Load() {
		return true // the connection is ending: its messages stay
	}
	if s.queuedFull() {
		// The flag goes up before the second look: a writer that drained
		// the queue in between either shows here or sees the flag after
		// its drain and resumes the deliveries.
		s.c.throttled.Store(true)
		if s.queuedFull() {
			return true
		}
	}
	return s.ack != protocol.AckAuto && s.prefetch > 0 && len(s.unacked) >= s.prefetch
}

// queuedFull reports whether the connection's writer has maxQueued frames
// to write, counting the deliveries gathered but not queued yet.
func (s *subscription) queuedFull() bool {
	return s.c.queued.Load()+int64(len(s.c.batch)) >= maxQueued
}

// resume delivers to a connection whose writer caught up.
func (b *Broker) resume(c *conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range c.subs {
		if s.q != nil {
			b.dispatch(s.q)
		}
	}
}

// dispatch hands out the messages of q that its subscriptions can take, in
// order, round-robin. Called with b.mu held.
func (b *Broker) dispatch(q *queue) {
	defer func() {
		for _, s := range q.subs {
			s.c.flushBatch()
		}
	}()
	i := 0
	for i < q.msgs.len() && len(q.subs) > 0 {
		m := *q.msgs.at(i)
		var taker *subscription
		anyRoom := false
		for k := range q.subs {
			s := q.subs[(q.rr+k)%len(q.subs)]
			if s.full() {
				continue
			}
			anyRoom = true
			if s.sel == nil || s.sel.match(m.userHeaders()) {
				taker = s
				q.rr = (q.rr + k + 1) % len(q.subs)
				break
			}
		}
		if !anyRoom {
			break
		}
		if taker == nil {
			i++ // no selector takes it: it waits, later messages may go
			continue
		}
		q.msgs.remove(i)
		q.st.dispatched++
		if taker.ack == protocol.AckAuto {
			q.st.dequeued++ // ack auto: acknowledged as it goes
		}
		taker.c.deliver(taker, m)
	}
	if q.msgs.len() == 0 {
		q.arena.reset()
	}
	b.recharge(q)
}

// requeue puts messages back at the head of their queues in their original
// order, marked redelivered. Called with b.mu held.
func (b *Broker) requeue(ds []*delivery) {
	byQueue := map[*queue][]message{}
	var order []*queue
	for _, d := range ds {
		q := d.sub.q
		if q == nil {
			continue
		}
		if !isTopic(q.name) && b.queues[q.name] != q {
			// The queue went while the delivery was on its way (an
			// UNSUBSCRIBE left it empty and idle): it goes back to
			// the queue of that name, unless nobody can read it.
			if isTemp(q.name) && b.temps[q.name] == nil {
				b.release(d.msg.cost())
				continue
			}
			q = b.queue(q.name)
		}
		if _, ok := byQueue[q]; !ok {
			order = append(order, q)
		}
		d.msg.redelivered = true
		byQueue[q] = append(byQueue[q], d.msg)
	}
	for _, q := range order {
		back := byQueue[q]
		if q.gone {
			// The subscription went with its topic queue: nobody
			// will take them.
			for i := range back {
				b.release(back[i].cost())
			}
			continue
		}
		held := q.msgs.slice()
		merged := make([]message, 0, len(back)+len(held))
		// Both lists are in sequence order; merge them.
		i, j := 0, 0
		sortBySeq(back)
		for i < len(back) || j < len(held) {
			if j == len(held) || (i < len(back) && back[i].seq < held[j].seq) {
				merged = append(merged, back[i])
				i++
			} else {
				merged = append(merged, held[j])
				j++
			}
		}
		q.msgs = msgList{}
		for _, m := range merged {
			q.msgs.push(m)
		}
		b.recharge(q)
	}
	for _, q := range order {
		b.dispatch(q)
	}
}

func sortBySeq(ms []message) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].seq < ms[j-1].seq; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// publish stores a message and delivers it. Called with b.mu held.
func (b *Broker) publish(dest string, headers protocol.Headers, body []byte) error {
	seq := b.msgSeq.Add(1)
	m := message{seq: seq}
	// The exact size unless a header needs escapes, and room for the
	// eight-byte reads of AppendHeader.
	size := len(commandLine) + len(protocol.HdrContentLength) + digits(uint64(len(body))) + 2 +
		len(protocol.HdrDestination) + len(dest) + 2 +
		len(protocol.HdrMessageID) + len(`:ID\cstompest-`) + digits(seq) + 1 + 1 + 1 + 8
	if len(body) <= arenaOwn {
		size += len(body)
	}
	m.cr = strings.IndexByte(dest, '\r') >= 0
	for _, h := range headers {
		size += len(h.Name) + len(h.Value) + 2
		m.cr = m.cr || strings.IndexByte(h.Name, '\r') >= 0 || strings.IndexByte(h.Value, '\r') >= 0
	}
	// The wire bytes as protocol.Writer writes them in 1.2, built in a
	// buffer the broker reuses, then kept in the destination's arena.
	w := slices.Grow(b.wbuf[:0], size)
	w = append(w, commandLine+protocol.HdrContentLength+":"...)
	w = strconv.AppendInt(w, int64(len(body)), 10)
	w = append(w, '\n')
	w, err := protocol.AppendHeader(w, protocol.CmdMessage, protocol.HdrDestination, dest, protocol.V12)
	if err != nil {
		return violation("cannot store the message: %v", err)
	}
	w = append(w, protocol.HdrMessageID+`:ID\cstompest-`...)
	w = strconv.AppendUint(w, seq, 10)
	w = append(w, '\n')
	for _, h := range headers {
		if w, err = protocol.AppendHeader(w, protocol.CmdMessage, h.Name, h.Value, protocol.V12); err != nil {
			return violation("cannot store the message: %v", err)
		}
	}
	w = append(w, '\n')
	if len(body) > arenaOwn {
		// A large body is kept apart from the head: as it is when the
		// reader gave it a buffer of its own, else in a copy.
		m.body = body
		if len(body) < protocol.OwnBody {
			m.body = bytes.Clone(body)
		}
	} else {
		w = append(w, body...)
		w = append(w, 0)
	}
	if cap(w) <= 64<<10 {
		b.wbuf = w
	}
	if isTopic(dest) {
		t := b.topicArenas[dest]
		if t == nil {
			if len(b.topics[dest]) == 0 {
				return nil // nobody listens
			}
			t = new(arena)
			b.topicArenas[strings.Clone(dest)] = t
		}
		m.wire = t.keep(w)
		cost := m.cost()
		var slow []*queue
		qs := b.topics[dest]
		if len(qs) > 0 {
			qs[0].st.enqueued++
		}
		for _, q := range qs {
			q.msgs.push(m)
			b.take(cost)
			b.dispatch(q)
			if max := b.cfg.MaxPending; max > 0 && !q.durable && q.msgs.len() > max {
				slow = append(slow, q)
			}
		}
		for _, q := range slow {
			b.evictSlow(q, fmt.Sprintf("more than %d messages pending (--max-pending)", b.cfg.MaxPending))
		}
		return nil
	}
	if isTemp(dest) && b.temps[dest] == nil {
		// Its owner is gone (or never came): nobody can read it, as
		// from a deleted temporary queue of RabbitMQ or ActiveMQ.
		return nil
	}
	q := b.queue(dest)
	m.wire = q.arena.keep(w)
	q.msgs.push(m)
	b.recharge(q)
	q.st.enqueued++
	b.take(m.cost())
	b.dispatch(q)
	return nil
}

// msgList is a queue's messages in order, in segments of segSize, so that
// a long queue grows without copying what it holds and gives back its
// memory a segment at a time as it drains.
type msgList struct {
	segs [][]message // all full but the last; the first begins at head
	head int
	n    int
}

// segSize is the number of messages of a segment; the first segment of a
// queue starts with room for segFirst, and a drained queue keeps it while
// it has room for segKeep at most.
const (
	segSize  = 512
	segFirst = 4
	segKeep  = 32
)

func (l *msgList) len() int { return l.n }

// at returns the i-th message.
func (l *msgList) at(i int) *message {
	i += l.head
	return &l.segs[i/segSize][i%segSize]
}

// push appends m. The first segment starts small and grows as it fills,
// so that a queue that is mostly empty holds little.
func (l *msgList) push(m message) {
	switch {
	case len(l.segs) == 0:
		l.segs = append(l.segs, make([]message, 0, segFirst))
	case len(l.segs[len(l.segs)-1]) == segSize:
		l.segs = append(l.segs, make([]message, 0, segSize))
	}
	last := &l.segs[len(l.segs)-1]
	*last = append(*last, m)
	l.n++
}

// remove takes out the i-th message: at the head at once, elsewhere (only
// selectors leave messages behind) by moving the later ones up.
func (l *msgList) remove(i int) {
	if i == 0 {
		*l.at(0) = message{}
		l.head++
		l.n--
		if l.n == 0 {
			// Drained: a small segment stays for the next messages,
			// a large one goes.
			if len(l.segs) == 1 && cap(l.segs[0]) <= segKeep {
				l.segs[0], l.head = l.segs[0][:0], 0
			} else {
				*l = msgList{}
			}
		} else if l.head == segSize {
			l.segs[0] = nil
			l.segs = l.segs[1:]
			l.head = 0
		}
		return
	}
	for j := i; j < l.n-1; j++ {
		*l.at(j) = *l.at(j + 1)
	}
	l.n--
	last := &l.segs[len(l.segs)-1]
	(*last)[len(*last)-1] = message{}
	*last = (*last)[:len(*last)-1]
	if len(*last) == 0 {
		l.segs = l.segs[:len(l.segs)-1]
	}
}

// slice returns the messages in order, in a slice of their own.
func (l *msgList) slice() []message {
	out := make([]message, l.n)
	for i := range out {
		out[i] = *l.at(i)
	}
	return out
}

// arena keeps the wire bytes of the messages of one destination in
// blocks, so that storing a message takes no allocation of its own (the
// allocator's and the collector's work is per block). A block lives while
// any of its messages is held; messages leave a destination mostly in
// order, so blocks go in order too. Blocks start small and double while
// the destination keeps messages, and reset lets go of the current one
// when it holds none, so an idle destination holds no block.
type arena struct {
	block []byte
	next  int // the size of the next block
}

// Block sizes, and the size from which a message gets a buffer of its
// own, so that little of a block is wasted.
const (
	arenaFirst = 256
	arenaBlock = 32 << 10
	arenaOwn   = 4 << 10
)

// keep copies w into the arena and returns the copy.
func (a *arena) keep(w []byte) []byte {
	if len(w) > arenaOwn {
		return bytes.Clone(w)
	}
	if cap(a.block)-len(a.block) < len(w) {
		size := max(a.next, arenaFirst)
		a.block = make([]byte, 0, max(size, len(w)))
		a.next = min(2*size, arenaBlock)
	}
	n := len(a.block)
	a.block = append(a.block, w...)
	return a.block[n:len(a.block):len(a.block)]
}

// reset lets go of the current block; the next starts small again.
func (a *arena) reset() { *a = arena{} }

// digits returns the number of decimal digits of n.
func digits(n uint64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// queue returns the shared queue of dest, creating it.
func (b *Broker) queue(dest string) *queue {
	q, ok := b.queues[dest]
	if !ok {
		q = &queue{name: strings.Clone(dest), st: new(destStats)} // dest may alias a reused read buffer
		b.queues[q.name] = q
	}
	return q
}

// queueCost is what a queue itself counts against the memory budget while
// it holds messages: its record, its name, its entry in the broker's table
// and its statistics, and the first segment and arena block of its
// messages. A producer to many distinct queues (a name per message) is
// held for memory as one that fills a single queue is, and consumers free
// it as they drain the queues (TestQueueCost measures what a queue takes;
// an empty one is removed, or counts with its subscriptions).
const queueCost = 1 << 10

// subCost and txCost are what a subscription (with the queue of its own
// that a topic subscription has) and an open transaction count against the
// budget besides their messages (TestSubscriptionCost measures them).
const (
	subCost = 1 << 10
	txCost  = 256
)

// isTemp reports whether dest is a temporary destination, which lives as
// long as the connection that subscribed to it first.
func isTemp(dest string) bool {
	return strings.HasPrefix(dest, "/temp-queue/") || strings.HasPrefix(dest, "/temp-topic/")
}

// isTopic reports whether dest fans out: /topic/ and /temp-topic/. Every
// other destination name is a queue.
func isTopic(dest string) bool {
	return strings.HasPrefix(dest, "/topic/") || strings.HasPrefix(dest, "/temp-topic/")
}

// errFrame is a protocol violation answered with ERROR before closing.
type errFrame struct {
	message string
	detail  string
	delay   time.Duration // wait this long before answering (a failed login)
	receipt string        // the receipt header of the frame it answers
}

// answering sets the receipt-id of e to the receipt header of f, the frame
// it answers, as the spec asks, and returns e.
func (e *errFrame) answering(f *protocol.Frame) *errFrame {
	if id, ok := f.Lookup(protocol.HdrReceipt); ok && e.receipt == "" {
		e.receipt = strings.Clone(id) // f may be the reader's, reused
	}
	return e
}

func (e *errFrame) Error() string { return e.message }

// frame returns the ERROR frame that answers e.
func (e *errFrame) frame() *protocol.Frame {
	// One line, which every version can carry unescaped (a 1.0 client,
	// or one that has not had CONNECTED yet, reads it as it is).
	msg := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, e.message)
	f := protocol.NewFrame(protocol.CmdError, protocol.HdrMessage, msg)
	if e.receipt != "" {
		f.Headers.Add(protocol.HdrReceiptID, e.receipt)
	}
	if e.detail != "" {
		f.Body = []byte(e.detail + "\n")
	}
	return f
}

func violation(format string, args ...any) error {
	return &errFrame{message: fmt.Sprintf(format, args...)}
}

var errClosed = errors.New("closed")

// heartBeatInterval is used by tests to compute deadlines.
func heartBeatInterval(a, b time.Duration) time.Duration {
	if a == 0 || b == 0 {
		return 0
	}
	return max(a, b)
}
