package broker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stompest/stompest/internal/protocol"
)

// conn is one client connection: a reader goroutine that handles frames
// under the broker's lock, and a writer goroutine that drains the
// outgoing queue, flushing when it is empty.
type conn struct {
	b  *Broker
	nc net.Conn
	id string
	r  *protocol.Reader
	w  *protocol.Writer

	// Guarded by b.mu.
	version   protocol.Version
	connected bool
	clientID  string
	subs      map[string]*subscription
	acks      map[string]*delivery // by ack id (1.2) and by subscription+message-id
	txs       map[string]*tx
	kept      int64 // what its subscriptions and transactions count against the budget (b.mu)
	ackSeq    uint64
	keyBuf    []byte           // where deliver builds a delivery's keys
	scratch   protocol.Headers // the headers of the SEND being handled
	frames    int64
	backlog   []*protocol.Frame // frames waiting behind a SEND held for memory
	waiting   int64             // their size
	unheld    chan struct{}     // closed when the backlog is handled
	temps     []string          // the temporary destinations it owns
	batch     []outgoing        // deliveries of a dispatch not yet queued (see flushBatch)

	// The outgoing queue, guarded by omu.
	omu    sync.Mutex
	out    []outgoing
	rawOut [][]byte
	ended  bool // no more frames: close after the queue drains
	wake   chan struct{}

	ackLine []byte // the writer's: a delivery's ack header line
	fbuf    []byte // the writer's: a frame encoded whole (message streams)
	stream  bool   // nc is a protocol.MessageWriter: one frame per message

	connTimer *time.Timer // ends a connection that does not CONNECT in time
	expired   atomic.Bool // connTimer fired before CONNECT
	holding   atomic.Bool // the backlog is not empty
	stalled   atomic.Bool // the reader waits for the backlog: the client's silence is the broker's doing
	gone      atomic.Bool // ending: deliver nothing more
	aborted   atomic.Bool // ended by the broker: write for a second at most

	refused atomic.Bool // ended by an ERROR: linger when closing

	// afterFrame: the last thing read was a frame, not a heart-beat (see
	// protocol.SilenceLimit).
	afterFrame atomic.Bool

	queued    atomic.Int64 // frames in out, not yet written
	throttled atomic.Bool  // a delivery waited for the writer
	lastRead  atomic.Int64
	lastWrite atomic.Int64
	send      atomic.Int64 // negotiated send interval, ns
	expect    atomic.Int64 // negotiated expect interval, ns
	done      chan struct{}
	closeOnce sync.Once
}

func newConn(b *Broker, nc net.Conn) *conn {
	c := &conn{
		b: b, nc: nc, id: "c" + strconv.FormatUint(b.connSeq.Add(1), 10),
		subs: map[string]*subscription{}, acks: map[string]*delivery{}, txs: map[string]*tx{},
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	_, c.stream = nc.(protocol.MessageWriter)
	c.r = protocol.NewReader(liveReader{c})
	c.r.SetLimits(b.cfg.Limits)
	c.w = protocol.NewWriter(nc)
	// Until CONNECTED, what is written (an ERROR answering the CONNECT)
	// is not escaped: no version is agreed, and 1.0 has no escapes.
	c.w.SetVersion(protocol.V10)
	now := time.Now().UnixNano()
	c.lastRead.Store(now)
	c.lastWrite.Store(now)
	return c
}

// liveReader notes every byte read, and stalls while the broker is a
// blackhole.
type liveReader struct{ c *conn }

func (l liveReader) Read(p []byte) (int, error) {
	for l.c.b.hole.Load() {
		select {
		case <-l.c.done:
			return 0, io.EOF
		case <-time.After(10 * time.Millisecond):
		}
	}
	n, err := l.c.nc.Read(p)
	if n > 0 {
		l.c.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

// kick wakes the writer.
func (c *conn) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// outgoing is one entry of the outgoing queue: a frame, or a message
// delivered to a subscription.
type outgoing struct {
	f   *protocol.Frame
	m   message
	s   *subscription
	ack string // the ack header of the delivery, or ""
	rel int64  // memory to release once written (an ack:auto delivery)
}

// queueFrame adds a frame to the outgoing queue.
func (c *conn) queueFrame(f *protocol.Frame) { c.queue(outgoing{f: f}) }

// queue adds an entry to the outgoing queue.
func (c *conn) queue(o outgoing) {
	c.omu.Lock()
	if !c.ended {
		c.out = append(c.out, o)
		c.queued.Add(1)
		o.rel = 0
	}
	c.omu.Unlock()
	c.b.release(o.rel)
	c.kick()
}

func (c *conn) raw(p []byte) {
	c.omu.Lock()
	c.rawOut = append(c.rawOut, append([]byte(nil), p...))
	c.omu.Unlock()
	c.kick()
}

// end makes the writer close the connection once the queue is drained.
func (c *conn) end() {
	c.gone.Store(true)
	c.omu.Lock()
	c.ended = true
	c.omu.Unlock()
	c.kick()
}

// drain drops what the writer will never write, when it stops.
func (c *conn) drain() {
	c.gone.Store(true)
	c.omu.Lock()
	c.ended = true
	left := c.out
	c.out = nil
	c.omu.Unlock()
	c.queued.Add(-int64(len(left)))
	c.b.release(unwritten(left))
}

// unwritten returns the memory held by deliveries that were not written.
func unwritten(os []outgoing) int64 {
	var n int64
	for i := range os {
		n += os[i].rel
	}
	return n
}

// beatPeriod returns how often the writer looks at the heart-beats: often
// enough that a beat leaves within 5/8 of the send interval (see
// beatDue), and that a silent client is noticed within a quarter of the
// expect interval.
func beatPeriod(send, expect time.Duration) time.Duration {
	period := send / 8
	if e := expect / 4; period == 0 || (e > 0 && e < period) {
		period = e
	}
	return max(period, time.Millisecond)
}

// beatDue reports whether a heart-beat is due after nothing was written
// for idle: at half the send interval, as RabbitMQ beats, so that a client
// measuring strictly never sees one late.
func beatDue(idle, send time.Duration) bool { return send > 0 && idle >= send/2 }

func (c *conn) writeLoop() {
	defer c.b.wg.Done()
	defer c.drain()
	var spare []outgoing
	var beat <-chan time.Time
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for {
		select {
		case <-c.wake:
		case <-beat:
		case <-c.done:
			return
		}
		if ticker == nil && (c.send.Load() > 0 || c.expect.Load() > 0) {
			ticker = time.NewTicker(beatPeriod(time.Duration(c.send.Load()), time.Duration(c.expect.Load())))
			beat = ticker.C
		}
		if c.b.hole.Load() {
			continue
		}
		// The queue is taken whole and a drained one left in its place:
		// the two take turns, so that a busy queue allocates nothing.
		c.omu.Lock()
		frames, raws, ended := c.out, c.rawOut, c.ended
		c.out, c.rawOut = spare[:0], nil
		c.omu.Unlock()
		c.queued.Add(-int64(len(frames)))
		var rel int64
		for i, o := range frames {
			if err := c.write(o); err != nil {
				c.b.release(rel + unwritten(frames[i:]))
				c.close()
				return
			}
			rel += o.rel
		}
		c.b.release(rel)
		clear(frames)
		spare = frames
		wrote := len(frames) > 0 || len(raws) > 0
		if len(frames) == 0 && !ended && !c.b.noBeats.Load() &&
			beatDue(time.Since(time.Unix(0, c.lastWrite.Load())), time.Duration(c.send.Load())) {
			c.w.WriteHeartBeat()
			wrote = true
		}
		if c.w.Buffered() > 0 {
			deadline := 30 * time.Second
			if c.aborted.Load() {
				deadline = time.Second
			}
			c.nc.SetWriteDeadline(time.Now().Add(deadline))
			if err := c.w.Flush(); err != nil {
				c.close()
				return
			}
		}
		for _, p := range raws {
			c.nc.Write(p)
			if mw, ok := c.nc.(protocol.MessageWriter); ok {
				mw.EndMessage()
			}
		}
		if wrote {
			// Also over WebSocket, whose writer sends each frame and
			// beat as it goes and leaves nothing buffered.
			c.lastWrite.Store(time.Now().UnixNano())
		}
		if c.throttled.Swap(false) {
			c.b.resume(c)
		}
		if ended {
			c.omu.Lock()
			more := len(c.out) > 0
			c.omu.Unlock()
			if !more {
				if c.refused.Load() {
					c.lingerClose()
				}
				c.close()
				return
			}
			c.kick()
		}
		if exp := time.Duration(c.expect.Load()); exp > 0 && !c.stalled.Load() {
			if limit := protocol.SilenceLimit(exp, c.afterFrame.Load()); time.Since(time.Unix(0, c.lastRead.Load())) > limit {
				c.b.logf("%s: no heart-beat for %v, closing", c.id, limit)
				c.close()
				return
			}
		}
	}
}

// write encodes one entry of the outgoing queue.
func (c *conn) write(o outgoing) error {
	f := o.f
	if f == nil && o.s != nil {
		v := c.w.Version()
		if o.s.head != nil && c.b.trace == nil && (v == protocol.V12 || (v == protocol.V11 && !o.m.cr)) {
			// The delivery's header lines, then the stored bytes.
			var ack []byte
			if o.ack != "" && v == protocol.V12 {
				c.ackLine = append(append(append(c.ackLine[:0], "ack:"...), o.ack...), '\n')
				ack = c.ackLine
			}
			var red []byte
			if o.m.redelivered {
				red = redeliveredLine
			}
			end := c.eol()
			if o.m.body != nil {
				return c.w.WriteEncoded(o.s.head, ack, red, o.m.wire[len(commandLine):], o.m.body, nul, end)
			}
			return c.w.WriteEncoded(o.s.head, ack, red, o.m.wire[len(commandLine):], end)
		}
		f = c.messageFrame(o.s, o.m, o.ack)
	}
	if f.Command == versionMark {
		c.w.SetVersion(protocol.Version(f.Body[0]))
		return nil
	}
	c.b.traceFrame(c, ">>>", f)
	end := c.eol()
	if !c.stream {
		if err := c.w.WriteFrame(f); err != nil || end == nil {
			return err
		}
		return c.w.WriteEncoded(end)
	}
	// A message stream sends each frame as one message, the EOL with it.
	var err error
	if c.fbuf, err = protocol.AppendFrame(c.fbuf[:0], f, c.w.Version()); err != nil {
		return err
	}
	c.fbuf = append(c.fbuf, end...)
	err = c.w.WriteEncoded(c.fbuf)
	if cap(c.fbuf) > 64<<10 {
		c.fbuf = nil
	}
	return err
}

// eol returns what follows the NUL of every frame the broker sends: an
// EOL, as RabbitMQ and ActiveMQ send (the specs allow EOLs after the NUL,
// and readers take them as heart-beats, or skip them in 1.0), on which
// some clients depend: PECL stomp for PHP reads a frame up to its NUL and
// drops a line end before the next one. A broker whose heart-beats are
// stopped (StopHeartBeats) sends no EOL at all, nor this one.
func (c *conn) eol() []byte {
	if c.b.noBeats.Load() {
		return nil
	}
	return eol
}

var (
	redeliveredLine = []byte("redelivered:true\n")
	nul             = []byte{0}
	eol             = []byte{'\n'}
)

// lingerClose shuts the write side of a connection ended by an ERROR and
// reads and drops what the client still sends, until it closes or for a
// second at most. Closing a socket with unread bytes in it (the rest of a
// refused frame) resets the connection, and the reset can discard the
// ERROR before it leaves: the client would see the loss without its cause.
func (c *conn) lingerClose() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, c.nc)
}

// close closes the connection at once.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

func (c *conn) readLoop() {
	defer c.b.wg.Done()
	defer c.cleanup()
	var buf protocol.Frame
	frameAt := c.lastRead.Load() // when the last frame was read
	for {
		// A SEND, ACK or NACK outside a transaction is read into a frame
		// that the next read reuses: publish copies what it keeps, and a
		// settlement only looks its ids up. Every other frame is copied, as
		// handlers keep its strings (a transaction keeps the frame's work
		// for COMMIT).
		err := c.r.ReadFrame(&buf)
		fr := &buf
		if err == nil && (c.version == protocol.V10 ||
			(fr.Command == protocol.CmdConnect && !fr.Headers.Has(protocol.HdrAcceptVersion))) {
			trimHeaders(fr.Headers) // a 1.0 client's
		}
		if err == nil && (!borrowable(fr.Command) || fr.Headers.Has(protocol.HdrTransaction) ||
			c.b.cfg.Record || c.b.cfg.OnFrame != nil) {
			fr = fr.Clone()
		}
		if err != nil {
			var fe *protocol.FrameError
			switch {
			case c.expired.Load():
				c.fail(c.lateConnect())
			case errors.As(err, &fe):
				c.fail(&errFrame{message: "malformed frame", detail: err.Error()})
			}
			return
		}
		beat := fr.IsHeartBeat()
		if !beat {
			frameAt = c.lastRead.Load()
			if !c.afterFrame.Load() {
				c.afterFrame.Store(true)
			}
		} else if c.afterFrame.Load() && !protocol.FrameEnd(time.Duration(c.lastRead.Load()-frameAt), time.Duration(c.expect.Load())) {
			c.afterFrame.Store(false)
		}
		if beat {
			continue
		}
		c.b.traceFrame(c, "<<<", fr)
		if err := c.handle(fr, fr == &buf); err == errStall {
			// The backlog is full: the connection is not read until
			// it is handled, and TCP slows the producer.
			c.b.mu.Lock()
			unheld := c.unheld
			c.b.mu.Unlock()
			if unheld != nil {
				// The client's heart-beats wait in the socket behind
				// its SENDs: its silence is not judged meanwhile, and
				// it has a whole interval once reading resumes.
				c.stalled.Store(true)
				select {
				case <-unheld:
				case <-c.done:
					return
				}
				c.lastRead.Store(time.Now().UnixNano())
				c.stalled.Store(false)
			}
		} else if err != nil {
			var ef *errFrame
			if errors.As(err, &ef) {
				if ef.delay > 0 {
					t := time.NewTimer(ef.delay)
					select {
					case <-t.C:
					case <-c.done:
						t.Stop()
						return
					}
				}
				c.fail(ef.answering(fr))
			}
			return
		}
		c.omu.Lock()
		ended := c.ended
		c.omu.Unlock()
		if ended {
			return
		}
	}
}

// trimHeaders drops the spaces and tabs around the names and values of a
// STOMP 1.0 frame's headers, as ActiveMQ and Artemis read 1.0: clients
// written for them send "destination: /queue/a" (Python's stomper).
// From 1.1 on, a header is what stands between the colon and the line end.
func trimHeaders(hs protocol.Headers) {
	for i := range hs {
		hs[i].Name = strings.Trim(hs[i].Name, " \t")
		hs[i].Value = strings.Trim(hs[i].Value, " \t")
	}
}

// borrowable reports whether a frame of command cmd may be handled in the
// reader's frame, outside a transaction.
func borrowable(cmd protocol.Command) bool {
	return cmd == protocol.CmdSend || cmd == protocol.CmdAck || cmd == protocol.CmdNack
}

// settlement reports whether a frame of command cmd may pass the backlog
// of a SEND held for memory: ACK and NACK free memory, and holding them
// could deadlock a connection that produces and consumes.
func settlement(cmd protocol.Command) bool {
	return cmd == protocol.CmdAck || cmd == protocol.CmdNack
}

// lateConnect is the ERROR of a connection that did not CONNECT in time.
func (c *conn) lateConnect() *errFrame {
	return &errFrame{message: "no CONNECT frame within " + c.b.cfg.ConnectTimeout.String() + " (--connect-timeout)"}
}

// connectExpired ends a connection that has not completed its CONNECT:
// its read is interrupted, and the reader answers with ERROR.
func (c *conn) connectExpired() {
	b := c.b
	b.mu.Lock()
	late := !c.connected
	if late {
		c.expired.Store(true)
	}
	b.mu.Unlock()
	if late {
		c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

// abort ends the connection from outside its reader, with b.mu held: the
// messages not yet written are taken back (those of a queue go back to
// it, those of a topic are dropped), an ERROR goes out if the client reads
// it within a second, and the connection closes.
func (c *conn) abort(e *errFrame) {
	c.aborted.Store(true)
	c.gone.Store(true)
	c.omu.Lock()
	var dropped int64
	var back []*delivery
	if !c.ended {
		left := c.out
		c.out = nil
		for _, o := range left {
			switch {
			case o.f != nil:
				c.out = append(c.out, o) // control frames and version marks keep their order
			case o.rel > 0 && !o.s.topic:
				back = append(back, &delivery{msg: o.m, sub: o.s})
				if q := o.s.q; q != nil {
					q.st.dequeued-- // counted when dispatched; it goes back
				}
			default:
				dropped += o.rel
			}
			if o.f == nil {
				c.queued.Add(-1)
			}
		}
	}
	c.omu.Unlock()
	c.b.release(dropped)
	c.b.requeue(back)
	c.queueFrame(e.frame())
	c.end()
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.b.logf("%s: %s %s", c.id, e.message, e.detail)
}

// fail answers a violation with ERROR and closes after writing it.
func (c *conn) fail(e *errFrame) {
	c.queueFrame(e.frame())
	c.refused.Store(true)
	c.end()
	c.b.logf("%s: %s %s", c.id, e.message, e.detail)
}

// cleanup hands back what the connection had not acknowledged and removes
// its subscriptions.
func (c *conn) cleanup() {
	b := c.b
	if c.connTimer != nil {
		c.connTimer.Stop()
	}
	b.mu.Lock()
	var back []*delivery
	for _, s := range c.subs {
		back = append(back, s.unacked...)
		s.unacked = nil
		b.unsubscribe(s)
	}
	b.requeue(back)
	for _, s := range c.subs {
		b.removeIfIdle(s.q)
	}
	c.subs = map[string]*subscription{}
	for id, t := range c.txs {
		c.endTx(id, t) // aborted: its SENDs were never confirmed
	}
	b.unhold(c)
	b.dropTemps(c)
	delete(b.conns, c)
	b.mu.Unlock()
	c.end()
	<-c.done
}

// handle processes one frame under the broker's lock; borrowed tells that
// f is the reader's, overwritten by the next read.
func (c *conn) handle(f *protocol.Frame, borrowed bool) error {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	c.frames++
	if b.cfg.Record {
		b.frames = append(b.frames, f)
	}
	if b.cfg.OnFrame != nil {
		b.cfg.OnFrame(f)
	}
	if n := b.dropAfter.Load(); n > 0 && c.frames > n {
		if b.dropOnce.Load() {
			b.dropAfter.Store(0)
		}
		c.close()
		return errClosed
	}
	if !c.connected {
		if c.expired.Load() {
			return c.lateConnect()
		}
		if f.Command != protocol.CmdConnect && f.Command != protocol.CmdStomp {
			return violation("CONNECT expected, got %s", f.Command)
		}
		return c.connect(f)
	}
	if c.holding.Load() && !settlement(f.Command) {
		return b.wait(c, f, borrowed) // in order, behind the held SEND
	}
	if b.over() && c.flowControlled(f) {
		b.shed()
		if b.over() {
			return b.wait(c, f, borrowed)
		}
	}
	return c.process(f)
}

// flowControlled reports whether f is held for memory: a SEND outside a
// transaction that adds a message. A SEND in a transaction is counted and
// capped apart (see onSend), and its COMMIT is not held: what it stores
// was counted already, and holding it would keep transactions that fill
// their share waiting for memory only their COMMIT or ABORT frees.
func (c *conn) flowControlled(f *protocol.Frame) bool {
	if f.Command != protocol.CmdSend || f.Headers.Has(protocol.HdrTransaction) {
		return false
	}
	_, _, stats := statsRequest(f.Header(protocol.HdrDestination))
	return !stats // a question adds no message
}

// tx is a transaction: the work held until COMMIT.
type tx struct {
	ops  []func() error
	held int64 // what its work counts against the memory budget until it ends
}

// opCost is what an ACK or NACK held for a COMMIT counts against the
// budget: its entry in the transaction.
const opCost = 64

// holdInTx counts n more bytes of work held for the COMMIT of transaction
// id: the open transactions of all connections may hold a quarter of the
// budget. Beyond, the frame is refused rather than held for memory, which
// only the transactions' COMMIT or ABORT would free. Called with b.mu
// held.
func (c *conn) holdInTx(id string, t *tx, n int64) error {
	if b := c.b; b.limit > 0 && b.txHeld.Load()+n > b.limit/2 {
		return &errFrame{message: fmt.Sprintf("transaction %s is too large", id), detail: fmt.Sprintf(
			"the work of open transactions would hold more than %d bytes, a quarter of the broker's memory budget (--max-memory); commit in smaller transactions", b.limit/2)}
	}
	t.held += n
	c.b.txHeld.Add(n)
	return nil
}

// endTx ends the transaction t of c: what its work held is no longer
// counted (a COMMIT counts their messages as it stores them). Called with
// b.mu held.
func (c *conn) endTx(id string, t *tx) {
	delete(c.txs, id)
	c.b.txHeld.Add(-t.held)
	c.b.keepFor(c, -txCost)
}

// process handles a frame of a connected client under the broker's lock.
func (c *conn) process(f *protocol.Frame) error {
	var err error
	switch f.Command {
	case protocol.CmdSend:
		err = c.onSend(f)
	case protocol.CmdSubscribe:
		err = c.onSubscribe(f)
	case protocol.CmdUnsubscribe:
		err = c.onUnsubscribe(f)
	case protocol.CmdAck, protocol.CmdNack:
		err = c.onSettle(f)
	case protocol.CmdBegin:
		id := f.Header(protocol.HdrTransaction)
		if id == "" {
			return violation("BEGIN without a transaction header")
		}
		if _, ok := c.txs[id]; ok {
			return violation("transaction %s is already active", id)
		}
		if err := c.b.exhausted(c, "transactions"); err != nil {
			return err
		}
		c.txs[id] = &tx{}
		c.b.keepFor(c, txCost)
	case protocol.CmdCommit, protocol.CmdAbort:
		id := f.Header(protocol.HdrTransaction)
		t, ok := c.txs[id]
		if !ok {
			return violation("unknown transaction %q", id)
		}
		c.endTx(id, t)
		if f.Command == protocol.CmdCommit {
			for _, op := range t.ops {
				if err := op(); err != nil {
					return err
				}
			}
		}
	case protocol.CmdDisconnect:
		c.receipt(f)
		c.end()
		return nil
	case protocol.CmdConnect, protocol.CmdStomp:
		return violation("already connected")
	default:
		return violation("unexpected %s from a client", f.Command)
	}
	if err == errNoReceipt {
		return nil
	}
	if err != nil {
		return err
	}
	c.receipt(f)
	return nil
}

// receipt answers a receipt header.
func (c *conn) receipt(f *protocol.Frame) {
	if id, ok := f.Lookup(protocol.HdrReceipt); ok {
		c.queueFrame(protocol.NewFrame(protocol.CmdReceipt, protocol.HdrReceiptID, strings.Clone(id)))
	}
}

// connect negotiates the version and heart-beats and authenticates.
func (c *conn) connect(f *protocol.Frame) error {
	b := c.b
	version := protocol.V10
	if av, ok := f.Lookup(protocol.HdrAcceptVersion); ok {
		version = protocol.VersionUnknown
		for v := range strings.SplitSeq(av, ",") {
			if pv, err := protocol.ParseVersion(strings.TrimSpace(v)); err == nil && pv > version {
				version = pv
			}
		}
		if version == protocol.VersionUnknown {
			e := protocol.NewFrame(protocol.CmdError, protocol.HdrVersion, "1.0,1.1,1.2", protocol.HdrMessage, "Supported protocol versions are 1.0,1.1,1.2")
			c.queueFrame(e)
			c.end()
			return nil
		}
	}
	if f.Command == protocol.CmdStomp && version == protocol.V10 {
		return violation("STOMP frame needs STOMP 1.1 or later")
	}
	if b.refuse.Load() {
		return violation("connection refused")
	}
	if b.cfg.User != "" && !b.authentic(f.Header(protocol.HdrLogin), f.Header(protocol.HdrPasscode)) {
		e := &errFrame{message: fmt.Sprintf("Authentication failed: bad login or passcode for %q", f.Header(protocol.HdrLogin))}
		e.delay = b.logins.fail(remoteHost(c.nc), time.Now())
		return e
	}
	c.version = version
	c.r.SetVersion(version)
	c.clientID = f.Header("client-id")
	resp := protocol.NewFrame(protocol.CmdConnected, protocol.HdrVersion, version.String(),
		protocol.HdrServer, "stompest/"+Version, protocol.HdrSession, c.id)
	if version > protocol.V10 {
		cx, cy := time.Duration(0), time.Duration(0)
		if hb, ok := f.Lookup(protocol.HdrHeartBeat); ok {
			spec, err := protocol.ParseHeartBeat(hb)
			if err != nil {
				return violation("bad heart-beat header %q", hb)
			}
			cx, cy = spec.Send, spec.Receive
		}
		sx, sy := b.cfg.HeartBeat.Send, b.cfg.HeartBeat.Receive
		c.send.Store(int64(heartBeatInterval(sx, cy)))
		c.expect.Store(int64(heartBeatInterval(sy, cx)))
		resp.Headers.Add(protocol.HdrHeartBeat, b.cfg.HeartBeat.String())
	}
	c.connected = true
	if c.connTimer != nil {
		c.connTimer.Stop()
	}
	c.queueFrame(resp)
	// The writer switches to the negotiated version after CONNECTED: the
	// queue is ordered, so mark it with a version change.
	c.omu.Lock()
	c.out = append(c.out, outgoing{f: &protocol.Frame{Command: versionMark, Body: []byte{byte(version)}}})
	c.queued.Add(1)
	c.omu.Unlock()
	return nil
}

// versionMark is a pseudo-frame of the outgoing queue: the writer switches
// its escaping to the version in the body and writes nothing.
const versionMark protocol.Command = "version-mark"

func (c *conn) onSend(f *protocol.Frame) error {
	dest, ok := f.Lookup(protocol.HdrDestination)
	if !ok || dest == "" {
		return violation("SEND without a destination")
	}
	tx, inTx := f.Lookup(protocol.HdrTransaction)
	if pattern, whole, ok := statsRequest(dest); ok {
		// Answered at once, in a transaction too: a question is not
		// work to commit.
		if _, active := c.txs[tx]; inTx && !active {
			return violation("unknown transaction %q", tx)
		}
		return c.b.statistics(dest, pattern, whole, f.Headers)
	}
	headers := c.scratch[:0]
	if inTx {
		headers = make(protocol.Headers, 0, len(f.Headers)) // kept until COMMIT
	}
	for _, h := range f.Headers {
		switch h.Name {
		case protocol.HdrDestination, protocol.HdrReceipt, protocol.HdrTransaction, protocol.HdrContentLength:
		default:
			headers = append(headers, h)
		}
	}
	body := f.Body
	if inTx {
		t, active := c.txs[tx]
		if !active {
			return violation("unknown transaction %q", tx)
		}
		if err := c.holdInTx(tx, t, sendCost(headers, body)+int64(len(dest))); err != nil {
			return err
		}
		t.ops = append(t.ops, func() error {
			return c.b.publish(dest, headers, body)
		})
		return nil
	}
	err := c.b.publish(dest, headers, body)
	clear(headers)
	c.scratch = headers[:0]
	return err
}

func (c *conn) onSubscribe(f *protocol.Frame) error {
	b := c.b
	dest, ok := f.Lookup(protocol.HdrDestination)
	if !ok || dest == "" {
		return violation("SUBSCRIBE without a destination")
	}
	id, ok := f.Lookup(protocol.HdrID)
	if !ok {
		if c.version != protocol.V10 {
			return violation("SUBSCRIBE without an id")
		}
		id = dest
	}
	if _, dup := c.subs[id]; dup {
		return violation("subscription %s already exists", id)
	}
	if err := b.exhausted(c, "subscriptions"); err != nil {
		return err
	}
	ack := f.Header(protocol.HdrAck)
	switch ack {
	case "":
		ack = protocol.AckAuto
	case protocol.AckAuto, protocol.AckClient, protocol.AckClientIndividual:
	default:
		return violation("unknown ack mode %q", ack)
	}
	s := &subscription{c: c, id: id, dest: dest, ack: ack}
	if head, err := protocol.AppendHeader([]byte(commandLine), protocol.CmdMessage, protocol.HdrSubscription, id, c.version); err == nil {
		s.head = head
	}
	for _, name := range []string{"activemq.prefetchSize", "prefetch-count"} {
		if v, ok := f.Lookup(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return violation("bad %s %q", name, v)
			}
			if n > 0 && (s.prefetch == 0 || n < s.prefetch) {
				s.prefetch = n
			}
		}
	}
	if expr := f.Header(protocol.HdrSelector); expr != "" {
		sel, err := parseSelector(expr)
		if err != nil {
			return violation("invalid selector %q: %v", expr, err)
		}
		s.sel = sel
	}
	if f.Header("browser") == "true" {
		if isTopic(dest) {
			return violation("cannot browse topic %s", dest)
		}
		c.subs[id] = s
		c.receipt(f)
		c.browse(s)
		delete(c.subs, id)
		return errNoReceipt
	}
	c.subs[id] = s
	if isTemp(dest) && b.temps[dest] == nil {
		name := strings.Clone(dest)
		b.temps[name] = c
		c.temps = append(c.temps, name)
	}
	switch {
	case isTopic(dest):
		s.topic = true
		durable := f.Header("activemq.subscriptionName")
		if durable == "" && f.Header("durable") == "true" {
			durable = id
		}
		if durable != "" {
			key := c.clientID + "\x00" + durable
			q, ok := b.durables[key]
			if !ok {
				q = &queue{name: dest, durable: true, st: b.topicStats(dest)}
				b.durables[key] = q
				b.topics[dest] = append(b.topics[dest], q)
			}
			s.q = q
		} else {
			s.q = &queue{name: dest, st: b.topicStats(dest)}
			b.topics[dest] = append(b.topics[dest], s.q)
		}
	default:
		s.q = b.queue(dest)
	}
	s.q.subs = append(s.q.subs, s)
	b.keepFor(c, subCost)
	c.receipt(f)
	b.dispatch(s.q)
	return errNoReceipt
}

// errNoReceipt tells handle that the receipt was already sent.
var errNoReceipt = errors.New("receipt sent")

// browse sends a snapshot of the queue and then browser:end.
func (c *conn) browse(s *subscription) {
	if q, ok := c.b.queues[s.dest]; ok {
		for _, m := range q.msgs.slice() {
			if s.sel == nil || s.sel.match(m.userHeaders()) {
				c.queue(outgoing{m: m, s: s})
			}
		}
	}
	end := protocol.NewFrame(protocol.CmdMessage, protocol.HdrSubscription, s.id, "browser", "end",
		protocol.HdrMessageID, "browser-end-"+s.id, protocol.HdrDestination, s.dest)
	c.queueFrame(end)
}

func (c *conn) onUnsubscribe(f *protocol.Frame) error {
	id, ok := f.Lookup(protocol.HdrID)
	if !ok {
		id = f.Header(protocol.HdrDestination)
	}
	s, ok := c.subs[id]
	if !ok {
		return violation("unknown subscription %q", id)
	}
	delete(c.subs, id)
	back := s.unacked
	s.unacked = nil
	for _, d := range back {
		delete(c.acks, d.ackID)
		delete(c.acks, d.key)
	}
	destroy := f.Header("activemq.subscriptionName") != "" || f.Header("durable") == "true"
	if destroy && s.q != nil && s.q.durable {
		for key, q := range c.b.durables {
			if q == s.q {
				delete(c.b.durables, key)
			}
		}
		s.q.durable = false
	}
	c.b.unsubscribe(s)
	c.b.requeue(back)
	c.b.removeIfIdle(s.q)
	return nil
}

// unsubscribe detaches s from its queue; a non-durable topic queue goes
// with it. Called with b.mu held.
func (b *Broker) unsubscribe(s *subscription) {
	q := s.q
	if q == nil {
		return
	}
	q.subs = slices.DeleteFunc(q.subs, func(x *subscription) bool { return x == s })
	b.keepFor(s.c, -subCost) // counted when it was attached to q, once
	if q.rr >= len(q.subs) {
		q.rr = 0
	}
	if s.topic && !q.durable {
		b.topics[q.name] = slices.DeleteFunc(b.topics[q.name], func(x *queue) bool { return x == q })
		if len(b.topics[q.name]) == 0 {
			b.retire(q)
			delete(b.topics, q.name)
			delete(b.topicArenas, q.name)
		}
		q.gone = true
		b.dropMessages(q)
	}
}

// deliver sends m to s. Called with b.mu held.
func (c *conn) deliver(s *subscription, m message) {
	var ackID string
	if s.ack != protocol.AckAuto {
		// Both keys of the delivery in one string: ack id, NUL,
		// subscription id, NUL, message-id.
		c.ackSeq++
		b := append(c.keyBuf[:0], c.id...)
		b = append(b, '-')
		b = strconv.AppendUint(b, c.ackSeq, 10)
		n := len(b)
		b = append(b, 0)
		b = append(b, s.id...)
		b = append(b, 0)
		b = appendMessageID(b, m.seq)
		c.keyBuf = b
		keys := string(b)
		ackID = keys[:n]
		d := &delivery{msg: m, sub: s, ackID: ackID, key: keys[n+1:]}
		s.unacked = append(s.unacked, d)
		c.acks[d.ackID] = d
		c.acks[d.key] = d
	}
	o := outgoing{m: m, s: s, ack: ackID}
	if ackID == "" {
		o.rel = m.cost() // written, it is gone
	}
	// Deliveries join the outgoing queue together: one lock and one
	// wake-up of the writer for many messages.
	c.batch = append(c.batch, o)
	if len(c.batch) >= deliveryBatch {
		c.flushBatch()
	}
}

// deliveryBatch bounds the deliveries a dispatch gathers for a connection
// before they join its outgoing queue.
const deliveryBatch = 64

// flushBatch adds the deliveries gathered by a dispatch to the outgoing
// queue. Called with b.mu held.
func (c *conn) flushBatch() {
	if len(c.batch) == 0 {
		return
	}
	var rel int64
	c.omu.Lock()
	if !c.ended {
		c.out = append(c.out, c.batch...)
		c.queued.Add(int64(len(c.batch)))
	} else {
		rel = unwritten(c.batch)
	}
	c.omu.Unlock()
	clear(c.batch)
	c.batch = c.batch[:0]
	c.b.release(rel)
	c.kick()
}

// messageFrame decodes the MESSAGE frame of a delivery of m to s.
func (c *conn) messageFrame(s *subscription, m message, ackID string) *protocol.Frame {
	hs, body := m.decode()
	f := &protocol.Frame{Command: protocol.CmdMessage, Body: body, Headers: make(protocol.Headers, 0, len(hs)+3)}
	f.Headers = append(f.Headers, hs[:2]...) // destination, message-id
	f.Headers = append(f.Headers, protocol.Header{Name: protocol.HdrSubscription, Value: s.id})
	if ackID != "" && c.version == protocol.V12 {
		f.Headers = append(f.Headers, protocol.Header{Name: protocol.HdrAck, Value: ackID})
	}
	if m.redelivered {
		f.Headers = append(f.Headers, protocol.Header{Name: "redelivered", Value: "true"})
	}
	f.Headers = append(f.Headers, hs[2:]...)
	if c.version == protocol.V10 {
		for i, h := range f.Headers {
			f.Headers[i] = escape10(h)
		}
	}
	return f
}

// escape10 returns h as a STOMP 1.0 frame can carry it. 1.0 has no
// escapes, and a line end in a name or value (or a colon in a name) would
// end or split the header: such a header goes escaped as STOMP 1.2
// escapes it (\n, \r, \c, \\), as RabbitMQ delivers it; every other
// header goes as it is. The message is never dropped for its headers.
func escape10(h protocol.Header) protocol.Header {
	if strings.ContainsAny(h.Value, "\r\n") || strings.ContainsAny(h.Name, "\r\n:") {
		h.Name, h.Value = escapes.Replace(h.Name), escapes.Replace(h.Value)
	}
	return h
}

// escapes applies STOMP 1.2 "Value Encoding".
var escapes = strings.NewReplacer(`\`, `\\`, ":", `\c`, "\n", `\n`, "\r", `\r`)

// onSettle handles ACK and NACK.
func (c *conn) onSettle(f *protocol.Frame) error {
	var d *delivery
	if c.version == protocol.V12 {
		d = c.acks[f.Header(protocol.HdrID)]
	} else {
		sub := f.Header(protocol.HdrSubscription)
		mid := f.Header(protocol.HdrMessageID)
		d = c.delivered(sub, mid)
		if d == nil && c.version == protocol.V10 && strings.Contains(mid, `\c`) {
			// go-stomp escapes as 1.2 does on a 1.0 connection too:
			// its ACK names ID\cstompest-1 for ID:stompest-1.
			d = c.delivered(sub, strings.ReplaceAll(mid, `\c`, ":"))
		}
	}
	if d == nil {
		return violation("%s of an unknown message (no unacknowledged delivery with that id)", f.Command)
	}
	nack := f.Command == protocol.CmdNack
	if id, ok := f.Lookup(protocol.HdrTransaction); ok {
		t, active := c.txs[id]
		if !active {
			return violation("unknown transaction %q", id)
		}
		if err := c.holdInTx(id, t, opCost); err != nil {
			return err
		}
		t.ops = append(t.ops, func() error { c.settle(d, nack); return nil })
		return nil
	}
	c.settle(d, nack)
	return nil
}

// delivered returns the unacknowledged delivery of message mid on
// subscription sub (1.0, 1.1), or nil; in 1.0 the subscription may be
// left out.
func (c *conn) delivered(sub, mid string) *delivery {
	if sub == "" && c.version == protocol.V10 {
		for _, s := range c.subs {
			if d, ok := c.acks[s.id+"\x00"+mid]; ok {
				return d
			}
		}
		return nil
	}
	return c.acks[sub+"\x00"+mid]
}

// settle acknowledges d (with ack client, every delivery of its
// subscription up to d), or hands it back when nack is set: to its queue,
// or to the dead-letter queue (see nacked).
func (c *conn) settle(d *delivery, nack bool) {
	s := d.sub
	i := slices.Index(s.unacked, d)
	if i < 0 {
		return // settled meanwhile
	}
	from := i
	if s.ack == protocol.AckClient {
		from = 0 // cumulative
	}
	settled := s.unacked[from : i+1]
	for _, x := range settled {
		delete(c.acks, x.ackID)
		delete(c.acks, x.key)
	}
	var back []*delivery
	if nack {
		back = slices.Clone(settled) // the deletion below reuses the array
	}
	if !nack {
		var n int64
		for _, x := range settled {
			n += x.msg.cost()
		}
		c.b.release(n)
		if s.q != nil {
			s.q.st.dequeued += uint64(len(settled))
		}
	}
	s.unacked = slices.Delete(s.unacked, from, i+1)
	if nack {
		n := len(back)
		back = c.b.nacked(back)
		c.b.requeue(back)
		if len(back) < n && s.q != nil {
			c.b.dispatch(s.q) // dead letters made room
		}
	} else if s.q != nil {
		c.b.dispatch(s.q)
	}
}
