package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
	"github.com/stompest/stompest/internal/session"
	"github.com/stompest/stompest/internal/wsconn"
)

// Defaults of Config fields left zero.
const (
	DefaultConnectTimeout   = 30 * time.Second
	DefaultConnectedTimeout = 10 * time.Second
	DefaultReceiptTimeout   = 10 * time.Second
)

// Config is how a Client connects.
type Config struct {
	URI              *failover.URI                                                     // brokers and failover options
	Login, Passcode  string                                                            // CONNECT login and passcode; each, when "", taken from the broker URI's user:password@ (failover.Broker)
	Host             string                                                            // CONNECT host header (virtual host)
	Versions         []protocol.Version                                                // offered versions; nil: 1.0, 1.1, 1.2
	HeartBeat        protocol.HeartBeatSpec                                            // what we offer; zero: no heart-beating
	Headers          protocol.Headers                                                  // extra CONNECT headers (client-id, ...)
	ConnectTimeout   time.Duration                                                     // budget of the initial connect over all attempts
	ConnectedTimeout time.Duration                                                     // wait for CONNECTED after each CONNECT
	ReceiptTimeout   time.Duration                                                     // wait for each RECEIPT
	TLS              *tls.Config                                                       // base TLS config for ssl:// brokers; nil: system roots
	Limits           protocol.Limits                                                   // what the broker may send
	Reconnect        bool                                                              // reconnect after a loss (only failover: URIs do)
	Trace            io.Writer                                                         // every frame, as protocol.WriteTrace writes it
	Logf             func(string, ...any)                                              // events; nil: none
	Dial             func(ctx context.Context, network, addr string) (net.Conn, error) // nil: net.Dialer
	Rand             failover.Rand                                                     // nil: seeded from the clock
	Buffer           int                                                               // messages buffered between the reader and the consumer; 0: 64
	Batches          bool                                                              // hand messages over in batches through Batches(), not Messages()
	Text             bool                                                              // send no content-length (bodies with NUL are refused)
	OnLink           func(LinkEvent)                                                   // every change of the link (see LinkEvent); nil: none
	OnAttempt        func(Attempt)                                                     // every failed connect attempt, as it fails (inside Dial, and while reconnecting); nil: none
}

// Message is a MESSAGE frame delivered to a subscription.
type Message struct {
	*protocol.Frame
	Subscription *session.Subscription // shared: it never changes
	gen          uint64                // the connection it arrived on
	own          *inbound              // the reader's allocation that holds it (see Recycle)
}

// Client is one STOMP connection (re-established after a loss when
// Config.Reconnect is set). Its methods are safe for concurrent use. One
// reader goroutine reads the connection; writes are buffered and leave when
// Flush is called, when a receipt is awaited, or when heart-beating needs it.
type Client struct {
	cfg Config

	wmu     sync.Mutex     // guards writing and sendBuf; taken before mu
	sendBuf protocol.Frame // the SEND being written
	mu      sync.Mutex     // guards sess, conn, w, gen, err, waiters, closing, closed
	sess    *session.Session
	conn    net.Conn
	w       *protocol.Writer
	reader  *protocol.Reader // used by the reader goroutine only
	gen     uint64
	err     error // terminal error; set once
	waiters map[string]chan error
	broker  string
	closing bool          // Disconnect or Close was called: a loss ends the client
	closed  bool          // Close was called: no connection is to be used any more
	up      chan struct{} // closed once a lost connection is back, or the client ended
	link    LinkState
	linkCh  chan struct{} // closed and replaced at every change of link
	// confirming holds, per subscription id, the receipt a Subscribe call
	// waits for; a replay after a loss asks for a new one.
	confirming map[string]*Receipt
	unasked    int // SENDs written since the last one with a receipt
	// txConn holds, per transaction begun through Begin and not yet
	// ended, the connection it was begun on.
	txConn map[string]uint64
	// lastReceipt: unix nanos of the last RECEIPT read; a receipt wait
	// runs from the later of its start and this.
	lastReceipt atomic.Int64
	lastSent    atomic.Int64 // unix nanos of the last flush that wrote bytes
	lastRead    atomic.Int64 // unix nanos of the last byte read
	busy        atomic.Bool  // the reader is blocked handing a message over
	hbSilent    atomic.Int64 // ns: the heart-beat monitor closed the connection after this much silence
	// afterFrame: the last thing read was a frame, not a heart-beat (see
	// protocol.SilenceLimit).
	afterFrame atomic.Bool
	frameAt    int64        // the reader's: lastRead when the last frame was read
	expectNS   atomic.Int64 // the negotiated interval of the broker's heart-beats

	messages  chan *Message
	batches   chan []*Message // with Config.Batches
	pending   []*Message      // the batch being gathered by the reader goroutine
	held      []*Message      // messages held back while a receipt is awaited (reader goroutine)
	heldB     [][]*Message    // the same, with Config.Batches
	recycled  chan []*Message // batches the consumer is done with (Recycle)
	spare     []*inbound      // the reader's: recycled messages to read into
	spareB    [][]*Message    // the reader's: recycled batches, empty
	awaiting  chan struct{}   // a receipt waiter was added: the reader stops waiting on the consumer
	done      chan struct{}   // closed when the client has ended
	stop      chan struct{}   // closed to stop the goroutines
	stopOnce  sync.Once
	leaving   chan struct{} // closed by Disconnect: messages are no longer handed over
	leaveOnce sync.Once
	wg        sync.WaitGroup
	trace     *bufio.Writer
	traceMu   sync.Mutex
}

// Dial connects to the first broker of cfg.URI that answers, walking the
// startup schedule within cfg.ConnectTimeout. An ERROR frame answering
// CONNECT ends the attempt at once with a *RefusedError; running out of
// time or attempts gives an *UnreachableError naming every broker tried.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.URI == nil {
		return nil, errors.New("client: no broker URI")
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ConnectedTimeout <= 0 {
		cfg.ConnectedTimeout = DefaultConnectedTimeout
	}
	if cfg.ReceiptTimeout <= 0 {
		cfg.ReceiptTimeout = DefaultReceiptTimeout
	}
	if cfg.Rand == nil {
		seed := uint64(time.Now().UnixNano())
		cfg.Rand = rand.New(rand.NewPCG(seed, seed>>1))
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 64
	}
	if len(cfg.Versions) == 0 {
		cfg.Versions = protocol.Versions
	}
	c := newClient(cfg)
	hostname, _ := os.Hostname()
	sched := cfg.URI.Startup(cfg.Rand, failover.LocalHosts(hostname))
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := c.connect(ctx, sched, "timeout after "+cfg.ConnectTimeout.String()); err != nil {
		return nil, err
	}
	c.start()
	return c, nil
}

// newClient returns a client of cfg, defaults set, before its first
// connection.
func newClient(cfg Config) *Client {
	c := &Client{
		cfg:        cfg,
		sess:       session.New(),
		waiters:    map[string]chan error{},
		confirming: map[string]*Receipt{},
		txConn:     map[string]uint64{},
		linkCh:     make(chan struct{}),
		messages:   make(chan *Message, max(1, cfg.Buffer)),
		awaiting:   make(chan struct{}, 1),
		done:       make(chan struct{}),
		leaving:    make(chan struct{}),
	}
	if cfg.Batches {
		c.batches = make(chan []*Message, max(1, cfg.Buffer/maxBatch))
		c.recycled = make(chan []*Message, recycledBatches)
	}
	if cfg.Trace != nil {
		c.trace = bufio.NewWriter(cfg.Trace)
	}
	return c
}

// connect walks a schedule until a broker answers CONNECTED.
//
// An answer that retrying cannot change ends the attempts on that broker:
// a malformed CONNECTED, a version that was not offered, a certificate
// that failed verification. The other brokers of a failover URI are still
// tried; once none is left, connect fails at once (see hopeless).
func (c *Client) connect(ctx context.Context, sched *failover.Schedule, timeoutReason string) error {
	var attempts []Attempt
	brokers := map[string]bool{}
	for _, b := range c.cfg.URI.Brokers {
		brokers[b.String()] = true
	}
	dead := map[string]bool{}
	for {
		if len(dead) == len(brokers) {
			return hopeless(attempts)
		}
		at, ok := sched.Next()
		if !ok {
			reason := strconv.Itoa(len(attempts)) + " attempts"
			if len(attempts) == 1 {
				reason = "1 attempt"
			}
			return &UnreachableError{Attempts: attempts, Reason: reason}
		}
		broker := at.Broker.String()
		if dead[broker] {
			continue
		}
		if at.Delay > 0 {
			t := time.NewTimer(at.Delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return c.stopped(ctx, attempts, timeoutReason)
			}
		}
		c.logf("connecting to %s (attempt %d)", broker, at.Number)
		err := c.handshake(ctx, at.Broker)
		if err == nil {
			c.logf("connected to %s: STOMP %s, server %q, session %q", broker, c.sess.Version(), c.sess.Server(), c.sess.ID())
			c.setLink(LinkUp, nil)
			return nil
		}
		var refused *RefusedError
		if errors.As(err, &refused) {
			return err
		}
		if permanent(err) {
			dead[broker] = true
			attempts = append(attempts, Attempt{broker, err})
			c.logf("%s: %v (not tried again)", broker, err)
			c.attemptFailed(attempts[len(attempts)-1])
			continue
		}
		deadline, ok := ctx.Deadline()
		cut := ctx.Err() != nil || (ok && !time.Now().Before(deadline))
		if cut && !errors.Is(err, ErrConnectedTimeout) {
			// An attempt that our own deadline cut short says nothing of
			// the broker: keep what an earlier attempt learned instead.
			if triedBefore(attempts, broker) {
				return c.stopped(ctx, attempts, timeoutReason)
			}
			if ctx.Err() != nil {
				err = ctx.Err()
			}
		}
		attempts = append(attempts, Attempt{broker, err})
		c.logf("%s: %v", broker, err)
		if ctx.Err() != nil {
			return c.stopped(ctx, attempts, timeoutReason)
		}
		c.attemptFailed(attempts[len(attempts)-1])
	}
}

// permanent reports whether a failed attempt cannot get better by trying
// the same broker again: the peer's certificate failed verification, or
// its answer to CONNECT broke the protocol.
func permanent(err error) bool {
	return isCertError(err) || isProtocolError(err)
}

// isProtocolError reports whether err is a broken answer to CONNECT: a
// malformed frame, a frame other than CONNECTED, a version that was not
// offered or a malformed heart-beat header.
func isProtocolError(err error) bool {
	var frameErr *protocol.FrameError
	return errors.As(err, &frameErr) || errors.Is(err, protocol.ErrVersionMismatch) ||
		errors.Is(err, protocol.ErrUnexpectedCommand) || errors.Is(err, protocol.ErrInvalidHeartBeat)
}

// hopeless is the error of a connect after every broker failed in a way
// that retrying cannot change. When every one of them broke the protocol,
// it wraps their errors, so that it matches protocol.ErrVersionMismatch
// and the like; otherwise (a certificate failed verification) it is an
// *UnreachableError.
func hopeless(attempts []Attempt) error {
	// The last attempt on each broker says why it was given up.
	var last []Attempt
	for _, a := range slices.Backward(attempts) {
		if !slices.ContainsFunc(last, func(l Attempt) bool { return l.Broker == a.Broker }) {
			last = append(last, a)
		}
	}
	slices.Reverse(last)
	if !slices.ContainsFunc(last, func(a Attempt) bool { return !isProtocolError(a.Err) }) {
		format := make([]string, len(last))
		args := make([]any, 0, 2*len(last))
		for i, a := range last {
			format[i] = "%s: %w"
			args = append(args, a.Broker, a.Err)
		}
		return fmt.Errorf(strings.Join(format, "; "), args...)
	}
	reason := "no broker left to try"
	if len(last) == 1 && isCertError(last[0].Err) {
		reason = "certificate verification failed"
	}
	return &UnreachableError{Attempts: attempts, Reason: reason}
}

// attemptFailed reports a failed attempt to Config.OnAttempt.
func (c *Client) attemptFailed(a Attempt) {
	if c.cfg.OnAttempt != nil {
		c.cfg.OnAttempt(a)
	}
}

func triedBefore(attempts []Attempt, broker string) bool {
	for _, a := range attempts {
		if a.Broker == broker {
			return true
		}
	}
	return false
}

// stopped builds the error of a connect whose context ended.
func (c *Client) stopped(ctx context.Context, attempts []Attempt, reason string) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return &UnreachableError{Attempts: attempts, Reason: reason}
}

// handshake dials one broker and exchanges CONNECT and CONNECTED. On
// success the connection, its Reader and Writer are installed and the
// subscriptions of a lost connection are replayed.
func (c *Client) handshake(ctx context.Context, b failover.Broker) error {
	conn, err := c.dial(ctx, b)
	if err != nil {
		return err
	}
	return c.handshakeOn(ctx, conn, b)
}

// handshakeOn is handshake over a connection already open to b.
func (c *Client) handshakeOn(ctx context.Context, conn net.Conn, b failover.Broker) error {
	deadline := time.Now().Add(c.cfg.ConnectedTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	wait := time.Until(deadline)
	var err error
	var hb *protocol.HeartBeatSpec
	if hasAbove10(c.cfg.Versions) {
		spec := c.cfg.HeartBeat
		if ws, ok := conn.(*wsconn.Conn); ok && cowboy(ws.Server()) {
			// RabbitMQ's Web-STOMP: its monitor of our heart-beats dies
			// when flow control holds a busy connection back, and takes
			// the connection with it (docs/BROKERS.md). Without our
			// heart-beats it starts no monitor; its own still tell us
			// that it lives.
			spec.Send = 0
		}
		hb = &spec
	}
	c.mu.Lock()
	if c.sess.State() != session.Disconnected {
		c.sess.Lost()
	}
	login, passcode := c.cfg.Login, c.cfg.Passcode
	if login == "" {
		login = b.User
	}
	if passcode == "" {
		passcode = b.Password
	}
	connect, err := c.sess.Connect(protocol.ConnectOptions{
		Versions: c.cfg.Versions, Host: c.cfg.Host, Login: login, Passcode: passcode,
		HeartBeat: hb, Headers: c.cfg.Headers,
	})
	c.mu.Unlock()
	if err != nil {
		conn.Close()
		return err
	}
	w := protocol.NewWriter(conn)
	w.SetText(c.cfg.Text)
	r := protocol.NewReader(liveConn{conn, c})
	r.SetLimits(c.cfg.Limits)
	c.traceFrame(">>> ", connect)
	err = w.WriteFrame(connect)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		conn.Close()
		return fmt.Errorf("send CONNECT: %w", err)
	}
	var f *protocol.Frame
	for {
		f, err = r.Read()
		if err != nil {
			conn.Close()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("%w (%v)", ErrConnectedTimeout, wait.Round(time.Millisecond))
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return errors.New("connection closed before CONNECTED")
			}
			return err
		}
		if !f.IsHeartBeat() {
			break
		}
	}
	c.traceFrame("<<< ", f)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Command == protocol.CmdError {
		c.sess.Refused(f)
		conn.Close()
		return &RefusedError{Broker: b.String(), Frame: f, Offered: c.cfg.Versions}
	}
	replay, err := c.sess.Connected(f)
	if err != nil {
		c.sess.Lost()
		conn.Close()
		return err
	}
	conn.SetDeadline(time.Time{})
	v := c.sess.Version()
	r.SetVersion(v)
	w.SetVersion(v)
	if c.cfg.Batches {
		// From here on read buffers are reused once the consumer recycled
		// the messages in them (Recycle). The buffer CONNECTED was read
		// into, whose strings the session keeps, is not.
		r.RecycleChunks()
	}
	// A subscription whose Subscribe still waits for its receipt gets one
	// on its replay; the waits are registered once the frames are out.
	var asked []*Receipt
	var subIDs []string
	for _, sub := range replay {
		id := sub.Header(protocol.HdrID)
		if _, ok := c.confirming[id]; ok {
			if rid, err := c.sess.AddReceipt(sub, ""); err == nil {
				asked = append(asked, &Receipt{ID: rid, ch: make(chan error, 1), gen: c.gen + 1})
				subIDs = append(subIDs, id)
			}
		}
		c.traceFrame(">>> ", sub)
		if err := w.WriteFrame(sub); err != nil {
			conn.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		conn.Close()
		return err
	}
	for i, r := range asked {
		c.waiters[r.ID] = r.ch
		c.confirming[subIDs[i]] = r
	}
	now := time.Now().UnixNano()
	c.lastRead.Store(now)
	c.afterFrame.Store(true) // CONNECTED
	c.frameAt = now
	c.expectNS.Store(int64(c.sess.ExpectInterval()))
	c.lastSent.Store(now)
	c.conn, c.w, c.reader, c.broker = conn, w, r, b.String()
	c.gen++
	if c.up != nil {
		close(c.up)
		c.up = nil
	}
	return nil
}

// cowboy reports whether a WebSocket server is Cowboy, the web server of
// RabbitMQ's Web-STOMP, by the Server header of its handshake answer.
func cowboy(server string) bool {
	return strings.HasPrefix(strings.ToLower(server), "cowboy")
}

func hasAbove10(vs []protocol.Version) bool {
	for _, v := range vs {
		if v > protocol.V10 {
			return true
		}
	}
	return false
}

// dial opens the transport to b: TCP, or TLS for ssl:// and stomp+ssl://,
// or WebSocket for ws:// and wss://.
func (c *Client) dial(ctx context.Context, b failover.Broker) (net.Conn, error) {
	dial := c.cfg.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	cfg := &tls.Config{}
	if c.cfg.TLS != nil {
		cfg = c.cfg.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = b.Host
	}
	if b.WebSocket() {
		vs := make([]string, len(c.cfg.Versions))
		for i, v := range c.cfg.Versions {
			vs[i] = v.String()
		}
		conn, err := wsconn.Dial(ctx, b.String(), wsconn.Subprotocols(vs), dial, cfg)
		if err != nil && isCertError(err) {
			return nil, fmt.Errorf("TLS: %w", err)
		}
		return conn, err
	}
	conn, err := dial(ctx, "tcp", b.Addr())
	if err != nil {
		return nil, err
	}
	if !b.TLS() {
		return conn, nil
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return tc, nil
}

// isCertError reports whether err is a failed verification of the peer's
// certificate.
func isCertError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}
