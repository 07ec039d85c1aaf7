package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// ErrStaleMessage is what Ack and Nack return, without sending anything,
// for a message that arrived on a connection that has since been lost (also
// while the client is still reconnecting): the broker gives such a message
// back and delivers it again, so it cannot be settled any more and nothing
// needs to be done. It is not a failure: a consumer skips the message (a
// dedupe filter drops the redelivery when it was already handled).
var ErrStaleMessage = errors.New("message belongs to a lost connection")

// errReconnecting is what the operations that write return while a lost
// connection is being re-established: a loss, retryable as any other.
var errReconnecting = fmt.Errorf("%w (reconnecting)", ErrConnectionLost)

// liveConn notes the arrival of every byte, so that a large frame arriving
// slowly is not mistaken for a silent broker.
type liveConn struct {
	net.Conn
	c *Client
}

func (l liveConn) Read(p []byte) (int, error) {
	n, err := l.Conn.Read(p)
	if n > 0 {
		l.c.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

// start launches the reader and the heart-beat goroutines.
func (c *Client) start() {
	c.stop = make(chan struct{})
	c.wg.Add(2)
	go c.readLoop()
	go c.heartBeatLoop()
}

// Messages delivers the MESSAGE frames of every subscription. It is closed
// when the client ends; Err then tells why. With Config.Batches it stays
// empty: see Batches.
func (c *Client) Messages() <-chan *Message { return c.messages }

// Batches delivers the MESSAGE frames of every subscription in order, as
// batches of those that arrived together, when Config.Batches is set (nil
// otherwise). It is closed when the client ends; Err then tells why.
func (c *Client) Batches() <-chan []*Message { return c.batches }

// slabSize is how many messages the reader allocates at once.
const slabSize = 16

// maxBatch bounds the messages of one batch.
const maxBatch = 256

// Done is closed when the client has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client ended, or nil while it runs and after a clean
// Disconnect.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Version returns the negotiated STOMP version.
func (c *Client) Version() protocol.Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.Version()
}

// Server returns the broker's server header and session id.
func (c *Client) Server() (server, sessionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.Server(), c.sess.ID()
}

// PeerCertificates returns the certificates the broker presented on the
// current connection, leaf first: nil without TLS, and over wss://, whose
// handshake the WebSocket connection keeps to itself.
func (c *Client) PeerCertificates() []*x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc, ok := c.conn.(*tls.Conn); ok {
		return tc.ConnectionState().PeerCertificates
	}
	return nil
}

// Broker returns the broker connected to, as scheme://host:port.
func (c *Client) Broker() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broker
}

func (c *Client) readLoop() {
	defer c.wg.Done()
	var (
		in   *inbound
		slab []inbound
	)
	for {
		// A batch leaves once it is full or once the next frame has not
		// arrived whole: before the reader might wait on the network.
		if len(c.pending) > 0 && (len(c.pending) >= maxBatch || !c.reader.Ready()) {
			c.handOver()
		}
		// What was held back for a receipt goes first once no receipt is
		// awaited: the reader reads on only when the consumer took it.
		if len(c.held)+len(c.heldB) > 0 && !c.receiptAwaited() {
			c.release(false)
		}
		// MESSAGEs and their frames go where recycled ones were (see
		// Recycle), else are allocated slabSize at a time; a heart-beat
		// leaves its place for the next frame.
		if in == nil {
			in = c.nextInbound(&slab)
		}
		f := &in.f
		if err := c.reader.ReadTo(f); err != nil {
			c.handOver()
			if !c.lost(err) {
				return
			}
			continue
		}
		c.traceFrame("<<< ", f)
		if f.Command != protocol.HeartBeat {
			c.frameAt = c.lastRead.Load()
			if !c.afterFrame.Load() {
				c.afterFrame.Store(true)
			}
		} else if c.afterFrame.Load() && !protocol.FrameEnd(time.Duration(c.lastRead.Load()-c.frameAt), time.Duration(c.expectNS.Load())) {
			c.afterFrame.Store(false)
		}
		switch f.Command {
		case protocol.HeartBeat:
			continue
		case protocol.CmdMessage:
			c.deliver(in)
			in = nil
			continue
		}
		c.handOver() // what came before goes first
		switch f.Command {
		case protocol.CmdReceipt:
			c.receipt(f)
		case protocol.CmdError:
			c.finish(&BrokerError{Frame: f})
			return
		default:
			c.finish(fmt.Errorf("%w: %s from the broker", protocol.ErrUnexpectedCommand, f.Command))
			return
		}
		in = nil
	}
}

// inbound is a MESSAGE as the reader allocates it: the Message, its frame
// and room for its headers in one piece.
//
// The reader allocates them slabSize at a time: one allocation serves many
// messages, and a slab lives while any of its messages is referenced (at
// most slabSize times the memory of the messages a consumer keeps).
type inbound struct {
	m     Message
	f     protocol.Frame
	h     [8]protocol.Header
	chunk *protocol.Chunk // the read buffer f aliases, held until Recycle
}

// nextInbound returns the place of the next MESSAGE: a recycled one,
// else the next of slab, which is refilled when empty.
func (c *Client) nextInbound(slab *[]inbound) *inbound {
	if len(c.spare) == 0 {
		select {
		case b := <-c.recycled:
			for _, m := range b {
				c.spare = append(c.spare, m.own)
			}
			clear(b)
			if cap(b) == maxBatch && len(c.spareB) < recycledBatches {
				c.spareB = append(c.spareB, b[:0])
			}
		default:
		}
	}
	var in *inbound
	if n := len(c.spare); n > 0 {
		in = c.spare[n-1]
		c.spare[n-1] = nil
		c.spare = c.spare[:n-1]
	} else {
		if len(*slab) == 0 {
			*slab = make([]inbound, slabSize)
		}
		in, *slab = &(*slab)[0], (*slab)[1:]
	}
	in.f.Headers = in.h[:0]
	return in
}

// Recycle gives back a batch from Batches, or a slice of its messages,
// that the consumer is done with: nothing refers any more to the slice,
// to its messages, to their frames or to anything in them (header
// strings, bodies). The reader reads the next messages into them instead
// of allocating, and reads into a read buffer again once every message in
// it was recycled. A consumer that keeps messages does not recycle them.
func (c *Client) Recycle(ms []*Message) {
	if c.recycled == nil || len(ms) == 0 {
		return
	}
	// Messages read one after the other share a read buffer: its
	// references go together.
	var (
		run *protocol.Chunk
		n   int
	)
	for _, m := range ms {
		if m.own == nil || &m.own.m != m {
			panic("client: Recycle of a message the client did not deliver")
		}
		if ch := m.own.chunk; ch != run {
			run.ReleaseN(n)
			run, n = ch, 0
		}
		n++
		m.own.chunk = nil
	}
	run.ReleaseN(n)
	select {
	case c.recycled <- ms:
	default: // the reader has enough: the collector takes these
	}
}

// recycledBatches bounds the batches waiting to be reused.
const recycledBatches = 8

// deliver hands a MESSAGE to the consumer, or adds it to the pending
// batch.
func (c *Client) deliver(in *inbound) {
	f := &in.f
	c.mu.Lock()
	sub, err := c.sess.Message(f)
	gen := c.gen
	c.mu.Unlock()
	if err != nil {
		select {
		case <-c.leaving: // expected while disconnecting: the broker gets it back
		default:
			c.logf("dropped a MESSAGE: %v", err)
		}
		return
	}
	m := &in.m
	*m = Message{Frame: f, Subscription: sub, gen: gen, own: in}
	in.chunk = c.reader.HoldChunk()
	if c.batches != nil {
		c.pending = append(c.pending, m)
		return
	}
	c.held = append(c.held, m)
	c.release(false)
}

// handTo sends v on ch, to the consumer, blocking while it is busy (the
// broker is then held back by TCP); heart-beat checks pause meanwhile. It
// gives up when the client stops or the consumer leaves: the broker gets
// unacknowledged messages back.
//
// Unless force is set, it also gives up, returning false, while a receipt
// is awaited: the RECEIPT may be behind the messages the consumer has not
// taken, and the consumer may be the one waiting for it (for a SUBSCRIBE's
// receipt before it starts consuming; for a SEND's before it takes the
// next message). The caller then holds v back and reads on.
func handTo[T any](c *Client, ch chan T, v T, force bool) bool {
	select {
	case ch <- v:
		return true
	default:
	}
	if !force && c.receiptAwaited() {
		return false
	}
	c.busy.Store(true)
	defer func() {
		c.lastRead.Store(time.Now().UnixNano())
		c.busy.Store(false)
	}()
	for {
		var awaiting chan struct{}
		if !force {
			awaiting = c.awaiting
		}
		select {
		case ch <- v:
			return true
		case <-c.stop:
			return true
		case <-c.leaving:
			return true
		case <-awaiting:
			if c.receiptAwaited() {
				return false
			}
		}
	}
}

// receiptAwaited reports whether a RECEIPT is awaited.
func (c *Client) receiptAwaited() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters) > 0
}

// release hands what was held back to the consumer, in order, until it
// has to hold back again (unless force is set: then it hands everything
// over, as the client ends or the connection is lost).
func (c *Client) release(force bool) {
	n := 0
	if c.batches != nil {
		for n < len(c.heldB) && handTo(c, c.batches, c.heldB[n], force) {
			n++
		}
		c.heldB = shift(c.heldB, n)
		return
	}
	for n < len(c.held) && handTo(c, c.messages, c.held[n], force) {
		n++
	}
	c.held = shift(c.held, n)
}

// shift drops the first n elements of s, keeping its array, and clears
// the places it leaves so that they pin nothing.
func shift[T any](s []T, n int) []T {
	if n == 0 {
		return s
	}
	m := copy(s, s[n:])
	clear(s[m:])
	return s[:m]
}

// handOver hands the pending batch to the consumer, as deliver does a
// message.
func (c *Client) handOver() {
	if len(c.pending) == 0 {
		return
	}
	c.heldB = append(c.heldB, c.pending)
	if n := len(c.spareB); n > 0 {
		c.pending = c.spareB[n-1]
		c.spareB[n-1] = nil
		c.spareB = c.spareB[:n-1]
	} else {
		c.pending = make([]*Message, 0, maxBatch)
	}
	c.release(false)
}

func (c *Client) receipt(f *protocol.Frame) {
	c.lastReceipt.Store(time.Now().UnixNano())
	c.mu.Lock()
	conf, err := c.sess.Receipt(f)
	ch := c.waiters[conf.ID]
	delete(c.waiters, conf.ID)
	c.mu.Unlock()
	if err != nil {
		c.logf("ignored a RECEIPT: %v", err)
		return
	}
	if ch != nil {
		ch <- nil
	}
}

// lost handles the end of the connection: it reconnects when allowed and
// reports whether reading goes on.
func (c *Client) lost(err error) bool {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		c.finish(nil)
		return false
	}
	var frameErr *protocol.FrameError
	switch {
	case errors.As(err, &frameErr):
		c.finish(fmt.Errorf("from %s: %w", c.Broker(), err))
		return false
	case c.hbSilent.Load() > 0:
		err = fmt.Errorf("%w: nothing from %s for %v", ErrHeartBeatLost, c.Broker(), time.Duration(c.hbSilent.Load()))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("%w: %s closed the connection", ErrConnectionLost, c.Broker())
	default:
		err = fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
	if !c.cfg.Reconnect {
		c.finish(err)
		return false
	}
	c.logf("%v; reconnecting", err)
	c.mu.Lock()
	c.conn.Close()
	c.conn = nil
	c.up = make(chan struct{})
	c.failWaiters(err)
	c.mu.Unlock()
	c.setLink(LinkReconnecting, err)
	c.release(true)
	c.hbSilent.Store(0)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	hostname, _ := os.Hostname()
	rerr := c.connect(ctx, c.cfg.URI.Reconnect(c.cfg.Rand, failover.LocalHosts(hostname)), "stopped")
	cancel()
	if rerr != nil {
		c.finish(fmt.Errorf("%w; reconnect failed: %v", err, rerr))
		return false
	}
	// Close may have come while the reconnect was under way and found no
	// connection to close: the new one is closed here, or the reader would
	// wait on it and Close for the reader, for good. A Disconnect that came
	// once the new connection was in place sent its DISCONNECT on it: the
	// reader goes on to read the RECEIPT.
	c.mu.Lock()
	closed := c.closed
	if closed && c.conn != nil {
		c.conn.Close()
	}
	c.mu.Unlock()
	if closed {
		c.finish(nil)
		return false
	}
	return true
}

// finish ends the client with err (nil for a clean end).
func (c *Client) finish(err error) {
	c.mu.Lock()
	if c.err == nil && err != nil && !c.closing {
		c.err = err
	}
	if c.err != nil {
		c.failWaiters(c.err)
	} else {
		c.failWaiters(ErrClosed)
	}
	if c.conn != nil {
		c.conn.Close()
	}
	if c.up != nil {
		close(c.up)
		c.up = nil
	}
	end := c.err
	c.mu.Unlock()
	c.setLink(LinkClosed, end)
	c.release(true)
	c.stopOnce.Do(func() { close(c.stop) })
	close(c.messages)
	if c.batches != nil {
		close(c.batches)
	}
	close(c.done)
}

// WaitConnected returns at once while the client has a connection; after a
// loss it is reconnecting from (Config.Reconnect), it waits until the
// connection is back. It returns the client's error when the client ended
// instead (a reconnect that failed), or ctx's.
func (c *Client) WaitConnected(ctx context.Context) error {
	c.mu.Lock()
	up, err := c.up, c.err
	closed := c.conn == nil && up == nil
	c.mu.Unlock()
	switch {
	case err != nil:
		return err
	case closed:
		return ErrClosed
	case up == nil:
		return nil
	}
	select {
	case <-up:
		return c.WaitConnected(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) failWaiters(err error) {
	for id, ch := range c.waiters {
		ch <- err
		delete(c.waiters, id)
	}
}

// heartBeatLoop sends an EOL when we have been silent for most of the
// negotiated interval, and declares the broker dead when nothing came from
// it for protocol.SilenceLimit.
func (c *Client) heartBeatLoop() {
	defer c.wg.Done()
	t := time.NewTimer(0) // the first round sets the pace of the next
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.mu.Lock()
		send, expect, conn := c.sess.SendInterval(), c.sess.ExpectInterval(), c.conn
		c.mu.Unlock()
		next := time.Second
		now := time.Now().UnixNano()
		if send > 0 && conn != nil {
			if time.Duration(now-c.lastSent.Load()) >= send*4/5 {
				if err := c.heartBeat(); err != nil {
					c.logf("heart-beat: %v", err)
				}
			}
			next = min(next, send/5)
		}
		if expect > 0 && conn != nil {
			limit := protocol.SilenceLimit(expect, c.afterFrame.Load())
			if !c.busy.Load() && time.Duration(now-c.lastRead.Load()) > limit {
				c.hbSilent.Store(int64(limit))
				conn.Close()
			}
			next = min(next, expect/4)
		}
		t.Reset(max(next, time.Millisecond))
	}
}

func (c *Client) heartBeat() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	lost := c.conn == nil
	c.mu.Unlock()
	if lost {
		return ErrConnectionLost
	}
	c.traceFrame(">>> ", &protocol.Frame{Command: protocol.HeartBeat})
	if err := c.w.WriteHeartBeat(); err != nil {
		return err
	}
	return c.flushLocked()
}

// writer returns the connection's Writer, or why there is none. Call it
// with wmu held.
func (c *Client) writer() (*protocol.Writer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if c.conn == nil {
		return nil, ErrConnectionLost
	}
	return c.w, nil
}

// liveLocked returns nil when frames can be built and sent now: the client
// has not ended and is not between connections (errReconnecting, which
// matches ErrConnectionLost). Call it with c.mu held.
func (c *Client) liveLocked() error {
	if c.err != nil {
		return c.err
	}
	if c.conn == nil {
		return errReconnecting
	}
	return nil
}

// txLostLocked returns ErrTransactionLost when tx was begun on a
// connection that is gone (also while the client reconnects), nil when tx
// is "" or lives. Call it with c.mu held.
func (c *Client) txLostLocked(tx string) error {
	gen, ok := c.txConn[tx]
	if tx == "" || !ok || c.err != nil {
		return nil // the client's own end, if any, is reported as it is
	}
	if gen != c.gen || c.conn == nil {
		return fmt.Errorf("transaction %s: %w", tx, ErrTransactionLost)
	}
	return nil
}

// write buffers frames on the connection; they leave at the next Flush.
func (c *Client) write(frames ...*protocol.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(frames...)
}

// writeLocked is write with c.wmu held.
func (c *Client) writeLocked(frames ...*protocol.Frame) error {
	w, err := c.writer()
	if err != nil {
		return err
	}
	for _, f := range frames {
		c.traceFrame(">>> ", f)
		if err := w.WriteFrame(f); err != nil {
			if w.Err() != nil {
				// A large body leaves at once, and may meet a closed
				// connection as a flush does.
				return c.writeFailed(err)
			}
			return err
		}
	}
	return nil
}

// Flush sends what is buffered.
func (c *Client) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

func (c *Client) flushLocked() error {
	c.mu.Lock()
	conn, w := c.conn, c.w
	c.mu.Unlock()
	if conn == nil {
		return ErrConnectionLost
	}
	if w.Buffered() == 0 {
		return nil
	}
	conn.SetWriteDeadline(time.Now().Add(max(c.cfg.ReceiptTimeout, 10*time.Second)))
	if err := w.Flush(); err != nil {
		return c.writeFailed(err)
	}
	c.lastSent.Store(time.Now().UnixNano())
	return nil
}

// Receipt is a RECEIPT the client waits for.
type Receipt struct {
	ID   string
	ch   chan error
	gen  uint64 // the connection it was asked on
	done bool
	err  error
}

// Poll reports, without waiting, whether the receipt's fate is known and
// the error when it is not confirmed.
func (r *Receipt) Poll() (done bool, err error) {
	if !r.done {
		select {
		case r.err = <-r.ch:
			r.done = true
		default:
		}
	}
	return r.done, r.err
}

// withReceiptLocked gives f a receipt and registers it.
func (c *Client) withReceiptLocked(f *protocol.Frame) (*Receipt, error) {
	id, err := c.sess.AddReceipt(f, "")
	if err != nil {
		return nil, err
	}
	r := &Receipt{ID: id, ch: make(chan error, 1), gen: c.gen}
	c.waiters[id] = r.ch
	select {
	case c.awaiting <- struct{}{}:
	default:
	}
	return r, nil
}

// WaitReceipt waits for r. It gives up when no RECEIPT at all came for the
// receipt timeout: the time is measured from the later of the start of the
// wait and the last RECEIPT that arrived, so a broker that confirms slowly
// but steadily (every receipt in order, each within the timeout) is waited
// for however long it takes. Flush first.
func (c *Client) WaitReceipt(ctx context.Context, r *Receipt) error {
	if done, err := r.Poll(); done {
		return err
	}
	timeout := c.cfg.ReceiptTimeout
	start := time.Now().UnixNano()
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case r.err = <-r.ch:
			r.done = true
			return r.err
		case <-t.C:
			since := max(start, c.lastReceipt.Load())
			if left := time.Duration(since + int64(timeout) - time.Now().UnixNano()); left > 0 {
				t.Reset(left)
				continue
			}
			c.forget(r)
			return fmt.Errorf("%w: receipt %s: no receipt came for %v", ErrReceiptTimeout, r.ID, timeout)
		case <-ctx.Done():
			c.forget(r)
			return ctx.Err()
		}
	}
}

// forget stops awaiting r: a RECEIPT for it is ignored from now on, and
// the reader no longer holds messages back for it.
func (c *Client) forget(r *Receipt) {
	c.mu.Lock()
	delete(c.waiters, r.ID)
	c.mu.Unlock()
}

// SendOptions are the options of one SEND.
type SendOptions struct {
	Headers     protocol.Headers
	Transaction string // "" outside a transaction
	Receipt     bool   // ask for a RECEIPT; Send returns its id
}

// Send buffers a SEND of body to dest and returns its receipt when one was
// asked for. Call Flush to send it, then WaitReceipt.
func (c *Client) Send(dest string, body []byte, o SendOptions) (*Receipt, error) {
	// The frame is built in one the client keeps, under the write lock,
	// and is encoded before the lock goes: a SEND allocates nothing.
	c.wmu.Lock()
	defer c.wmu.Unlock()
	f := &c.sendBuf
	c.mu.Lock()
	err := c.txLostLocked(o.Transaction)
	if err == nil {
		err = c.liveLocked()
	}
	if err == nil {
		err = c.sess.SendTo(f, dest, body, o.Headers, "", o.Transaction)
	}
	var (
		r        *Receipt
		progress []*protocol.Frame
	)
	if err == nil {
		r, progress, err = c.sendReceiptLocked(f, o)
	}
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	err = c.writeLocked(f)
	if err == nil && progress != nil {
		err = c.writeLocked(progress...)
	}
	f.Reset()
	f.Body = nil
	clear(f.Headers[:cap(f.Headers)]) // keep nothing of the caller's
	return r, err
}

// progressEvery is how many SENDs without a receipt may go in a row: after
// that many, the client adds an empty transaction, BEGIN and ABORT, with a
// receipt on the ABORT that nobody waits for. Its RECEIPT shows how far
// the broker got, and a receipt wait restarts at each one (see
// WaitReceipt). A receipt on a SEND itself would do, but some brokers
// (RabbitMQ) pass it on to the MESSAGE they deliver. SENDs inside a
// transaction count for nothing: their receipts go on COMMIT.
const progressEvery = 256

// sendReceiptLocked gives the SEND f the receipt o asks for and returns it,
// or returns the frames that show progress (progressEvery) to write after
// f. Call it with c.mu held.
func (c *Client) sendReceiptLocked(f *protocol.Frame, o SendOptions) (*Receipt, []*protocol.Frame, error) {
	if o.Receipt {
		c.unasked = 0
		r, err := c.withReceiptLocked(f)
		return r, nil, err
	}
	if o.Transaction != "" || f.Headers.Has(protocol.HdrReceipt) {
		return nil, nil, nil
	}
	c.unasked++
	if c.unasked < progressEvery {
		return nil, nil, nil
	}
	c.unasked = 0
	begin, tx, err := c.sess.Begin("")
	if err != nil {
		return nil, nil, nil
	}
	abort, err := c.sess.Abort(tx)
	if err != nil {
		return nil, nil, nil
	}
	if _, err := c.sess.AddReceipt(abort, ""); err != nil {
		return nil, nil, nil
	}
	return nil, []*protocol.Frame{begin, abort}, nil
}

// sendFrame builds a SEND through the session, with its receipt, and the
// frames that show progress to write after it.
func (c *Client) sendFrame(dest string, body []byte, o SendOptions) (*protocol.Frame, *Receipt, []*protocol.Frame, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.txLostLocked(o.Transaction); err != nil {
		return nil, nil, nil, err
	}
	if err := c.liveLocked(); err != nil {
		return nil, nil, nil, err
	}
	f, err := c.sess.Send(dest, body, o.Headers, "", o.Transaction)
	if err != nil {
		return nil, nil, nil, err
	}
	r, progress, err := c.sendReceiptLocked(f, o)
	return f, r, progress, err
}

// SendStream is Send with a body of size bytes streamed from body.
func (c *Client) SendStream(dest string, body io.Reader, size int64, o SendOptions) (*Receipt, error) {
	f, r, progress, err := c.sendFrame(dest, nil, o)
	if err != nil {
		return nil, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	w, err := c.writer()
	if err != nil {
		return nil, err
	}
	c.traceFrame(">>> ", f)
	if err := w.WriteStream(f, body, size); err != nil {
		var ne net.Error
		if errors.As(err, &ne) || w.Err() != nil {
			return r, c.writeFailed(err)
		}
		return r, err
	}
	if progress != nil {
		return r, c.writeLocked(progress...)
	}
	return r, nil
}

// writeFailed closes the connection after a failed write and returns why
// it was lost: the reason the broker gave when it sent one, else the
// write's error. A broker that refuses a frame (one over its size limit,
// say) sends ERROR and closes, and the write fails on the closed
// connection; the ERROR is then on its way to the reader or already in
// the socket's receive buffer. So the reader gets up to half a second to
// read it before the connection is closed under it. With reconnects the
// loss is the reader's to handle, and the connection closes at once.
func (c *Client) writeFailed(err error) error {
	lost := fmt.Errorf("%w: %v", ErrConnectionLost, err)
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if c.cfg.Reconnect {
		if conn != nil {
			conn.Close()
		}
		return lost
	}
	t := time.NewTimer(500 * time.Millisecond)
	defer t.Stop()
	select {
	case <-c.done:
		var be *BrokerError
		if e := c.Err(); errors.As(e, &be) {
			return e
		}
	case <-t.C:
		if conn != nil {
			conn.Close() // the reader sees the loss at once
		}
	}
	return lost
}

// Expect accepts the messages of a subscription the server made itself
// with id dest, without sending SUBSCRIBE (RabbitMQ's replies to a
// reply-to:/temp-queue/NAME). See session.Session.Expect.
func (c *Client) Expect(dest string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.liveLocked(); err != nil {
		return err
	}
	return c.sess.Expect(dest)
}

// Subscribe subscribes to dest with the given headers (id, ack, selector,
// ...) and waits for the broker's receipt, so that the subscription is
// in place when it returns. It returns the subscription id.
//
// With Config.Reconnect a loss before the receipt came is not an error:
// the subscription is replayed on the new connection, with a receipt this
// time, and Subscribe waits for that one (each wait bounded by the receipt
// timeout, the reconnect by the failover policy).
func (c *Client) Subscribe(ctx context.Context, dest string, headers protocol.Headers) (string, error) {
	var (
		f  *protocol.Frame
		id string
		r  *Receipt
	)
	for {
		c.mu.Lock()
		err := c.liveLocked()
		if err == nil {
			f, id, err = c.sess.Subscribe(dest, headers, "")
		}
		if err == nil {
			r, err = c.withReceiptLocked(f)
		}
		if err == nil {
			c.confirming[id] = r
		}
		c.mu.Unlock()
		if errors.Is(err, errReconnecting) && c.cfg.Reconnect {
			// Subscribe on the connection being re-established.
			if err := c.WaitConnected(ctx); err != nil {
				return "", fmt.Errorf("subscribe %s: %w", dest, err)
			}
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	defer func() {
		c.mu.Lock()
		delete(c.confirming, id)
		c.mu.Unlock()
	}()
	err := c.write(f)
	if err == nil {
		err = c.Flush()
	}
	for {
		if err == nil {
			err = c.WaitReceipt(ctx, r)
			if err == nil {
				return id, nil
			}
		}
		if !c.cfg.Reconnect || !lostLink(err) {
			return "", fmt.Errorf("subscribe %s: %w", dest, err)
		}
		c.logf("subscribe %s: %v; waiting for the replay", dest, err)
		if err := c.waitNewConn(ctx, r.gen); err != nil {
			return "", fmt.Errorf("subscribe %s: %w", dest, err)
		}
		c.mu.Lock()
		r = c.confirming[id]
		c.mu.Unlock()
		err = nil
	}
}

// lostLink reports whether err is the loss of the connection, which a
// client with Config.Reconnect recovers from.
func lostLink(err error) bool {
	return errors.Is(err, ErrConnectionLost) || errors.Is(err, ErrHeartBeatLost)
}

// Unsubscribe buffers an UNSUBSCRIBE of subscription id, with extra
// headers (such as those that destroy a durable subscription).
func (c *Client) Unsubscribe(id string, headers protocol.Headers) error {
	c.mu.Lock()
	err := c.liveLocked()
	var f *protocol.Frame
	if err == nil {
		f, err = c.sess.Unsubscribe(id)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	for _, h := range headers {
		if !f.Headers.Has(h.Name) {
			f.Headers = append(f.Headers, h)
		}
	}
	return c.write(f)
}

// Ack buffers the ACK of m, inside transaction tx when tx is set. For a
// message that arrived on a connection since lost (also while the client
// is reconnecting) it sends nothing and returns ErrStaleMessage, which is
// not a failure: the broker delivers the message again.
func (c *Client) Ack(m *Message, tx string) error { return c.settle(m, tx, false) }

// Nack buffers the NACK of m (not in STOMP 1.0). For a message of a lost
// connection it returns ErrStaleMessage, as Ack does.
func (c *Client) Nack(m *Message, tx string) error { return c.settle(m, tx, true) }

func (c *Client) settle(m *Message, tx string, nack bool) error {
	c.mu.Lock()
	if m.gen != c.gen || c.conn == nil {
		c.mu.Unlock()
		return ErrStaleMessage
	}
	if err := c.txLostLocked(tx); err != nil {
		c.mu.Unlock()
		return err
	}
	var f *protocol.Frame
	var err error
	if nack {
		f, err = c.sess.Nack(m.Frame, tx)
	} else {
		f, err = c.sess.Ack(m.Frame, tx)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.write(f)
}

// Begin starts a transaction and returns its id (generated when tx is "").
func (c *Client) Begin(tx string) (string, error) {
	c.mu.Lock()
	err := c.liveLocked()
	var (
		f  *protocol.Frame
		id string
	)
	if err == nil {
		f, id, err = c.sess.Begin(tx)
	}
	if err == nil {
		c.txConn[id] = c.gen
	}
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	return id, c.write(f)
}

// Commit commits transaction tx, sends it and waits for its receipt:
// inside a transaction the receipt goes on COMMIT. Once the COMMIT may
// have left, an error matches ErrCommitUnconfirmed: the outcome is
// unknown. Any other error means that no COMMIT was sent.
func (c *Client) Commit(ctx context.Context, tx string) error {
	c.mu.Lock()
	err := c.txLostLocked(tx)
	delete(c.txConn, tx)
	if err == nil {
		err = c.liveLocked()
	}
	var f *protocol.Frame
	if err == nil {
		f, err = c.sess.Commit(tx)
	}
	var rid *Receipt
	if err == nil {
		rid, err = c.withReceiptLocked(f)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.write(f); err != nil {
		c.forget(rid)
		return err
	}
	err = c.Flush()
	if err == nil {
		err = c.WaitReceipt(ctx, rid)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCommitUnconfirmed, err)
	}
	return nil
}

// Abort aborts transaction tx and sends it. A transaction lost with its
// connection is aborted already (the broker did it): nothing is sent.
func (c *Client) Abort(tx string) error {
	c.mu.Lock()
	if c.txLostLocked(tx) != nil {
		delete(c.txConn, tx)
		c.mu.Unlock()
		return nil
	}
	delete(c.txConn, tx)
	err := c.liveLocked()
	var f *protocol.Frame
	if err == nil {
		f, err = c.sess.Abort(tx)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.write(f); err != nil {
		return err
	}
	return c.Flush()
}

// Disconnect ends the session gracefully: open transactions are aborted,
// DISCONNECT is sent with a receipt, and the connection is closed once the
// receipt came (or the receipt timeout passed). It returns nil only when
// the receipt came: the broker then has taken every frame sent before on
// this connection (Link tells which one it was). Otherwise it returns the
// error that ended the client earlier, or why DISCONNECT was not
// confirmed: it could not be written, or the connection ended before its
// receipt (both match ErrConnectionLost), or no receipt came in time.
func (c *Client) Disconnect(ctx context.Context) error {
	c.mu.Lock()
	if c.err != nil || c.conn == nil {
		err := c.err
		c.mu.Unlock()
		c.Close()
		if err == nil {
			err = ErrConnectionLost
		}
		return err
	}
	c.leaveOnce.Do(func() { close(c.leaving) })
	rid := &Receipt{ID: protocol.NewID("bye"), ch: make(chan error, 1)}
	frames, err := c.sess.Disconnect(rid.ID)
	if err == nil {
		c.waiters[rid.ID] = rid.ch
		c.closing = true
	}
	c.mu.Unlock()
	if err != nil {
		c.Close()
		return err
	}
	err = c.write(frames...)
	if err == nil {
		err = c.Flush()
	}
	if err == nil {
		err = c.WaitReceipt(ctx, rid)
		switch {
		case errors.Is(err, ErrClosed):
			// The connection ended while the receipt was awaited.
			err = fmt.Errorf("%w: the connection ended before the receipt of DISCONNECT", ErrConnectionLost)
		case err != nil && !lostLink(err):
			err = fmt.Errorf("no receipt for DISCONNECT: %w", err)
		}
	}
	c.Close()
	if err != nil {
		c.logf("disconnect: %v", err)
	}
	return err
}

// Close ends the client at once, without DISCONNECT.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closing = true
	c.closed = true
	if c.conn != nil {
		c.conn.Close()
	}
	c.mu.Unlock()
	c.stopOnce.Do(func() { close(c.stop) })
	c.wg.Wait()
	return nil
}

func (c *Client) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
	}
}

func (c *Client) traceFrame(prefix string, f *protocol.Frame) {
	if c.trace == nil {
		return
	}
	c.traceMu.Lock()
	defer c.traceMu.Unlock()
	protocol.WriteTrace(c.trace, prefix, f)
}
