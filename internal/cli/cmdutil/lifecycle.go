package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// This file is the one connection lifecycle of every command: signals
// become the cancellation of the run's context (caught once per run, so a
// command waiting on its input, on the network or on a handler sees them
// alike), standard input is read so that a signal interrupts a read, a
// command connects through connect and ends through finish, which decides
// how the connection is closed and which error the run reports.

// interruptSignals are the signals that end a command gracefully.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// Signals turns the first interrupt signal into a cancelled context,
// remembering which one came; a second one ends the process at once.
type Signals struct {
	Ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	got    os.Signal
	Stop   func()
	// Verbose: say so when a signal comes (-v); set once the options are
	// known, read by the watching goroutine
	Verbose atomic.Bool
}

// CatchSignals starts watching for interrupt signals for one run.
func (a *Factory) CatchSignals(parent context.Context) *Signals {
	s := &Signals{}
	s.Ctx, s.cancel = context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, interruptSignals...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-ch:
				s.mu.Lock()
				first := s.got == nil
				if first {
					s.got = sig
				}
				s.mu.Unlock()
				if !first {
					if a.Exit != nil {
						a.Exit(ExitCodeOf(sig))
					}
					continue
				}
				if s.Verbose.Load() {
					a.Logf("%v: stopping after what is in flight (again to exit at once)", sig)
				}
				s.cancel()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	s.Stop = func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			s.cancel()
		})
	}
	return s
}

// Err returns the interruption error when a signal came, else nil.
func (s *Signals) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		return nil
	}
	return &Interrupted{s.got}
}

// Interrupted is the error of a run ended by a signal after a clean
// shutdown.
type Interrupted struct{ signal os.Signal }

func (e *Interrupted) Error() string { return "interrupted by " + SignalName(e.signal) }

func SignalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

func ExitCodeOf(sig os.Signal) int {
	switch sig {
	case syscall.SIGTERM:
		return ExitSIGTERM
	case syscall.SIGHUP:
		return ExitSIGHUP
	}
	return ExitSIGINT
}

// Connect dials with the global options; what names the command in
// errors. A signal while connecting ends it as an interruption.
func (a *Factory) Connect(ctx context.Context, what string, cfg client.Config) (*client.Client, error) {
	OneP()
	a.dialing.Store(true)
	c, err := client.Dial(ctx, cfg)
	a.dialing.Store(false)
	if a.waitShown.Swap(false) {
		fmt.Fprint(a.ErrOut, "\r\x1b[K") // the waiting line goes
	}
	if err != nil {
		if e := a.Sig.Err(); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

// ShowAttempt says, on a terminal, what the first connect is waiting for
// after an attempt failed, on one line updated in place: a mistyped port
// or a broker that is down is otherwise a silent wait of
// --connect-timeout.
func (a *Factory) ShowAttempt(at client.Attempt) {
	if !a.ErrTTY || a.Opts.Quiet || a.Opts.Verbose > 0 || !a.dialing.Load() {
		return
	}
	a.waitShown.Store(true)
	fmt.Fprintf(a.ErrOut, "\r\x1b[Kstompest: %s: %s; retrying until --connect-timeout (%v)",
		Printable(failover.Redact(at.Broker)), Printable(attemptCause(at.Err)), a.Opts.ConnectTimeout)
}

// attemptCause is why an attempt failed, in a few words.
func attemptCause(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "unknown host " + dnsErr.Name
	}
	return err.Error()
}

// Dial connects with the global options: reconnect asks for reconnects
// after a loss (failover: URIs only), headers go on CONNECT.
func (a *Factory) Dial(ctx context.Context, what string, reconnect bool, headers protocol.Headers) (*client.Client, error) {
	cfg, err := a.ClientConfig(reconnect, headers)
	if err != nil {
		return nil, err
	}
	return a.Connect(ctx, what, cfg)
}

// Finish ends a connected command whose work ended with err (nil when it
// succeeded). The connection always ends with DISCONNECT and its receipt
// within --disconnect-timeout while it is alive, so that the broker has
// taken every ACK, and the ABORT of an open transaction, before stompest
// exits; a lost connection is only closed. The error reported is the
// interruption when a signal came, else the work's error, else what
// DISCONNECT met other than the loss of a connection whose work was done.
func (a *Factory) Finish(c *client.Client, what string, err error) error {
	derr := a.Disconnect(c)
	if e := a.Sig.Err(); e != nil {
		return e
	}
	if err != nil {
		return err
	}
	if derr != nil && !errors.Is(derr, client.ErrConnectionLost) {
		return fmt.Errorf("%s: disconnect: %w", what, derr)
	}
	return nil
}

// Disconnect ends c gracefully within --Disconnect-timeout.
func (a *Factory) Disconnect(c *client.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.DisconnectTimeout())
	defer cancel()
	return c.Disconnect(ctx)
}

// InFlight returns the context of work that is in flight when a signal
// comes, such as a COMMIT's receipt wait: it ends --disconnect-timeout
// after ctx ends (the first signal stops a command after what is in
// flight; the second exits at once), or when cancel is called.
func (a *Factory) InFlight(ctx context.Context) (context.Context, context.CancelFunc) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-g.Done():
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(a.DisconnectTimeout())
		defer t.Stop()
		select {
		case <-g.Done():
		case <-t.C:
			cancel()
		}
	}()
	return g, cancel
}

func (a *Factory) DisconnectTimeout() time.Duration {
	if a.Opts.DisconnectTimeout > 0 {
		return a.Opts.DisconnectTimeout
	}
	return 10 * time.Second
}

// Interruptible returns r read so that a cancelled ctx interrupts a read
// that waits for input: a read of a pipe or terminal runs in a goroutine
// of its own, and Read returns ctx's error when ctx ends first. A regular
// file never blocks and is read directly.
func Interruptible(ctx context.Context, r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return r
		}
	}
	return &ctxReader{ctx: ctx, r: r}
}

// ctxReader is interruptible's reader. One read at a time runs in the
// background, into a buffer of its own: a read abandoned at a signal must
// not write into the caller's buffer later.
type ctxReader struct {
	ctx     context.Context
	r       io.Reader
	buf     []byte
	done    chan readResult
	pending bool   // a background read is running
	rest    []byte // read but not yet returned
	err     error  // the error after rest
}

type readResult struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(c.rest) == 0 && c.err == nil {
		if err := c.ctx.Err(); err != nil {
			return 0, err
		}
		if !c.pending {
			if c.done == nil {
				c.done = make(chan readResult, 1)
				c.buf = make([]byte, 64<<10)
			}
			c.pending = true
			go func() {
				n, err := c.r.Read(c.buf)
				c.done <- readResult{n, err}
			}()
		}
		select {
		case res := <-c.done:
			c.pending = false
			c.rest, c.err = c.buf[:res.n], res.err
		case <-c.ctx.Done():
			return 0, c.ctx.Err()
		}
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	if len(c.rest) == 0 && c.err != nil {
		err := c.err
		if err != io.EOF {
			c.err = nil // report an error once, as the underlying reader did
		}
		return n, err
	}
	return n, nil
}

// IsInterrupt reports whether err is the end of work by a signal.
func IsInterrupt(err error) bool {
	var sig *Interrupted
	return errors.Is(err, context.Canceled) || errors.As(err, &sig)
}
