// Package subscribe is the subscribe command: messages to stdout or to a
// handler per message (--exec).
package subscribe

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/dialect"
	"github.com/stompest/stompest/internal/cli/filter"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// Options are the arguments and flags of subscribe.
type Options struct {
	*cmdutil.Factory

	dests []string
	ack   string
	flags.Stop
	prefetch  int
	selector  string
	peek      bool
	durable   string
	clientID  string
	out       flags.Output
	delimiter string
	// delimiterSet: --delimiter was given; an empty one means none
	delimiterSet bool
	null         bool
	headers      []string
	dedupe       string
	filter       string

	unsubscribe bool

	exec            string
	concurrency     int
	execTimeout     time.Duration
	onError         string
	errorDest       string
	maxRedeliveries int // with --on-error nack: redeliveries of a failing message (-1: no limit)
}

// NewCmd returns subscribe; runF, when not nil, runs instead of the
// command (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:     "subscribe DEST...",
		Aliases: []string{"sub"},
		Short:   "Receive messages and write them to stdout",
		Long: `subscribe receives messages from one or more destinations and writes them
to stdout: the bodies (-o body, the default when stdout is not a terminal),
a readable view (-o pretty, the default on a terminal), JSON Lines (-o jsonl)
or a Go template (--format).

In the client ack modes (client-individual by default) a message is
acknowledged only after it was written and flushed, and --count N never
consumes more than N messages: the broker's prefetch is limited to N and
extra deliveries are handed back. --peek never acknowledges: on ActiveMQ and
the embedded broker it browses the queue (nothing is marked redelivered) and
ends at the end of the queue; elsewhere it ends after --idle (default 1s)
without a message. --peek --count N shows up to N messages (exit 0).

--filter EXPR receives only the messages for which EXPR is true, evaluated
here over headers and JSON body fields, so it works on every broker
(--selector asks the broker, where it has selectors). A message that does
not match is neither written nor acknowledged: the broker keeps it and
delivers it again once subscribe ended ('stompest help filter').

Bodies are written each followed by a newline (-D SEQ or -z for another
separator). To save one body byte-exact: --count 1 -D '' > file.

subscribe stops after --count messages, after --timeout, after --idle
without a message, when stdout is closed ('| head', exit 0), or on
SIGINT/SIGTERM/SIGHUP (graceful: in-flight output finishes, what was
written is acknowledged, DISCONNECT; exit 130/143/129). Writing into a pipe
(on Linux), a message is acknowledged only once the reader has read it out
of the pipe: a reader that exits early loses at most what it read and
dropped, and the rest goes back to the queue. With a failover: URI it reconnects
after a loss and subscribes again; a message delivered before the loss and
not yet acknowledged comes again (at-least-once).

With --exec, each message goes to a handler (body on stdin, headers in
STOMP_* variables) and is settled by its outcome: acknowledged when it
succeeds; when it fails, --on-error stop leaves it unacknowledged and exits
1, forward sends it to --error-destination, and nack hands it back for
redelivery after a back-off (100ms, doubling, at most 10s) at most
--max-redeliveries times (counted from RabbitMQ's x-delivery-count where
the broker gives it, else by stompest within the run); then it goes to
--error-destination when one is given, else subscribe stops with exit 1
and leaves it unacknowledged.`,
		Example: `  stompest subscribe /queue/done --count 1 --timeout 30s
  stompest subscribe /queue/a -o jsonl --idle 2s > drained.jsonl
  stompest subscribe /queue/orders --peek --count 10 -o pretty
  stompest subscribe /topic/prices --ack auto --format '{{.seq}} {{index .headers "symbol"}}: {{.body}}\n'
  stompest subscribe /queue/a /queue/b --count 100 | head -5`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("prefetch") {
				o.prefetch = -1
			}
			o.delimiterSet = cmd.Flags().Changed("delimiter")
			o.dests = args
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	fs := cmd.Flags()
	flags.Enum(cmd, &o.ack, "ack", "", protocol.AckClientIndividual, []string{protocol.AckAuto, protocol.AckClient, protocol.AckClientIndividual}, "ack mode: auto, client or client-individual")
	o.Stop.Add(cmd, flags.Stop{}, "receiving")
	fs.IntVar(&o.prefetch, "prefetch", 0, "unacknowledged messages the broker may send ahead (default min(--count, 1000))")
	fs.StringVar(&o.dedupe, "dedupe", "", "drop repeats of a message: the same value of header `NAME` seen before in this run (see send --id-header); repeats are acknowledged, not output or counted")
	flags.AddFilter(cmd, &o.filter, "receive only")
	fs.StringVar(&o.selector, "selector", "", "broker-side filter, such as \"type = 'order'\" (ActiveMQ, Artemis, the embedded broker)")
	fs.BoolVar(&o.peek, "peek", false, "look without consuming: never acknowledge; ends at the end of the queue (browser:end, else --idle, default 1s), --count N shows up to N")
	fs.StringVar(&o.durable, "durable", "", "durable topic subscription `NAME`")
	fs.StringVar(&o.clientID, "client-id", "", "CONNECT client-id (default: the --durable name)")
	fs.BoolVar(&o.unsubscribe, "unsubscribe", false, "with --durable: remove the durable subscription and its messages, then exit")
	o.out.AddMessages(cmd, "each message")
	fs.StringVarP(&o.delimiter, "delimiter", "D", "", "write `SEQ` after each body instead of a newline (-D '' writes nothing: one body saved byte-exact)")
	fs.BoolVarP(&o.null, "null", "z", false, "write NUL after each body")
	flags.Headers(cmd, &o.headers, "extra SUBSCRIBE header `K:V` (repeatable)")
	fs.StringVar(&o.exec, "exec", "", "run `CMD` (/bin/sh -c) once per message: body on stdin, headers as STOMP_* variables; exit 0 acknowledges")
	fs.IntVar(&o.concurrency, "concurrency", 1, "with --exec: handlers running at once")
	fs.DurationVar(&o.execTimeout, "exec-timeout", 0, "with --exec: kill a handler (its process group) after this long")
	flags.Enum(cmd, &o.onError, "on-error", "", "stop", []string{"stop", "nack", "forward"}, "with --exec, when a handler fails: stop (leave the message for redelivery, exit 1), nack, or forward")
	fs.StringVar(&o.errorDest, "error-destination", "", "with --on-error forward: where failed messages go; with nack: where a message goes once --max-redeliveries are spent")
	fs.IntVar(&o.maxRedeliveries, "max-redeliveries", 5, "with --on-error nack: redeliveries of a failing message before it goes to --error-destination, or stops subscribe (-1: no limit)")
	return cmd
}

// consumer is one running subscribe.
type consumer struct {
	*cmdutil.Factory
	c         *client.Client
	o         *Options
	out       *msgio.Writer
	received  int64
	acked     int
	forwarded int
	browsing  int // subscriptions still browsing (--peek with browser:true)
	dedupe    *dedupe
	repeats   int
	links     <-chan client.LinkEvent
	pipe      *msgio.PipeGauge  // stdout is a pipe: acknowledge what the reader took
	held      []heldAck         // written into the pipe, not read out yet
	failures  map[string]int    // with --on-error nack: failed handler runs per message identity
	filter    *filter.Filter    // --filter
	skipped   int               // messages --filter did not match
	window    int               // the prefetch asked for (0: none)
	written   []*client.Message // handle's, reused: the messages of a batch written
	ends      []int64           // handle's, reused: where each one's bytes end
}

// heldAck is a message written into a pipe whose bytes end at end (an
// offset in everything written), acknowledged once the reader read past it.
type heldAck struct {
	m   *client.Message
	end int64
}

func (o *Options) run(ctx context.Context) error {
	dests := o.dests
	if err := o.Stop.Check(); err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	switch {
	case o.peek && o.ack == protocol.AckAuto:
		return cmdutil.UsageErrorf("--peek never acknowledges; it cannot be combined with --ack auto")
	case o.peek && o.durable != "":
		return cmdutil.UsageErrorf("--peek and --durable exclude one another")
	case o.delimiterSet && o.null:
		return cmdutil.UsageErrorf("--delimiter and --null exclude one another")
	case o.exec == "" && (o.onError != "stop" || o.errorDest != "" || o.concurrency != 1 || o.execTimeout != 0):
		return cmdutil.UsageErrorf("--concurrency, --exec-timeout, --on-error and --error-destination go with --exec")
	case o.exec != "" && (o.peek || o.ack == protocol.AckAuto):
		return cmdutil.UsageErrorf("--exec settles each message by its handler's outcome: it needs a client ack mode and no --peek")
	case o.unsubscribe && o.durable == "":
		return cmdutil.UsageErrorf("--unsubscribe removes a durable subscription: name it with --durable")
	case o.exec != "" && o.ack == protocol.AckClient && o.concurrency > 1:
		return cmdutil.UsageErrorf("--ack client with --concurrency %d: an ACK in client mode also acknowledges every earlier message, still in other handlers; use --ack client-individual (the default)", o.concurrency)
	case o.concurrency < 1:
		return cmdutil.UsageErrorf("--concurrency %d: want 1 or more", o.concurrency)
	case o.onError == "forward" && o.errorDest == "":
		return cmdutil.UsageErrorf("--on-error forward needs --error-destination")
	case o.errorDest != "" && o.onError == "stop":
		return cmdutil.UsageErrorf("--error-destination goes with --on-error forward or nack")
	case o.maxRedeliveries < -1:
		return cmdutil.UsageErrorf("--max-redeliveries %d: want 0 or more, or -1 for no limit", o.maxRedeliveries)
	case o.filter != "" && o.ack == protocol.AckClient:
		return cmdutil.UsageErrorf("--filter with --ack client: an ACK in client mode also acknowledges the earlier messages that did not match, and the broker drops them; use --ack client-individual (the default)")
	}
	var fl *filter.Filter
	if o.filter != "" {
		var err error
		if fl, err = filter.Compile(o.filter); err != nil {
			return cmdutil.WithCode(cmdutil.ExitUsage, err)
		}
		if o.ack == protocol.AckAuto && !o.peek {
			o.Warn("warning: --filter with --ack auto: the broker counts every message as consumed once sent; those that do not match are dropped")
		}
	}
	for _, d := range dests {
		if o.peek && isTopic(d) {
			return cmdutil.UsageErrorf("--peek %s: a topic cannot be browsed; only queues keep messages", d)
		}
		if o.durable != "" && !isTopic(d) {
			return cmdutil.UsageErrorf("--durable %s: durable subscriptions are for topics", d)
		}
	}
	sep := []byte("\n")
	if o.null {
		sep = []byte{0}
	}
	if o.delimiterSet && o.delimiter == "" {
		sep = nil
	} else if o.delimiterSet {
		var err error
		if sep, err = msgio.ParseDelimiter(o.delimiter); err != nil {
			return cmdutil.UsageErrorf("--delimiter %q: %v", o.delimiter, err)
		}
	}
	extra, err := cmdutil.ParseHeaderFlags(o.headers)
	if err != nil {
		return err
	}
	out, err := msgio.NewWriter(o.Factory, o.out, sep)
	if err != nil {
		return err
	}
	if o.ack == protocol.AckAuto {
		o.Warn("warning: --ack auto: the broker pushes without limit and messages count as consumed once sent")
	}

	// Closed pipes must give EPIPE on write, not kill the process.
	signal.Ignore(syscall.SIGPIPE)
	var connHeaders protocol.Headers
	if id := o.clientID; id != "" || o.durable != "" {
		if id == "" {
			id = o.durable
		}
		connHeaders.Add("client-id", id)
	}
	cfg, err := o.ClientConfig(true, connHeaders)
	if err != nil {
		return err
	}
	// Writing to a stream takes messages in batches; --exec takes them one
	// by one.
	cfg.Batches = o.exec == ""
	links := make(chan client.LinkEvent, 16)
	cfg.OnLink = func(e client.LinkEvent) {
		for { // never block the client; when full, the oldest event goes
			select {
			case links <- e:
				return
			default:
			}
			select {
			case <-links:
			default:
			}
		}
	}
	c, err := o.Connect(ctx, "subscribe", cfg)
	if err != nil {
		return err
	}
	s := &consumer{Factory: o.Factory, c: c, o: o, out: out, dedupe: newDedupe(o.dedupe), links: links, filter: fl}
	if o.exec == "" && !o.peek && o.ack != protocol.AckAuto {
		s.pipe = msgio.NewPipeGauge(o.Out)
	}
	err = s.run(ctx, dests, extra)
	if o.Opts.Verbose > 0 {
		o.Logf("received %d, acked %d, forwarded %d, repeats dropped %d, not matching --filter %d", s.received, s.acked, s.forwarded, s.repeats, s.skipped)
		if fl != nil && fl.Failures > 0 {
			o.Logf("--filter failed on %d messages, taken as not matching (the last: %v)", fl.Failures, fl.LastErr)
		}
	}
	return err
}

func isTopic(dest string) bool {
	return strings.HasPrefix(dest, "/topic/") || strings.HasPrefix(dest, "/temp-topic/")
}

func (s *consumer) run(ctx context.Context, dests []string, extra protocol.Headers) error {
	kind := cmdutil.KindOf(s.c)
	if s.o.selector != "" && !kind.Selectors() {
		return cmdutil.UsageErrorf("--selector: %v ignores selectors and would deliver everything", kind)
	}
	browse := s.o.peek && kind.Browses()
	if s.o.peek && !browse && s.o.Idle == 0 {
		// Without browsing, the end of the queue shows only as silence.
		s.o.Idle = time.Second
	}
	if s.o.unsubscribe {
		return s.removeDurable(ctx, dests, kind)
	}
	for _, d := range dests {
		h := s.subscribeHeaders(kind, browse)
		for _, x := range extra {
			h.Set(x.Name, x.Value)
		}
		if _, err := s.c.Subscribe(ctx, d, h); err != nil {
			s.c.Close()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("subscribe: %w", err)
		}
		if browse {
			s.browsing++
		}
	}
	consume := s.consume
	if s.o.exec != "" {
		consume = s.consumeExec
	}
	err := consume(ctx)
	if derr := s.drain(); derr != nil && err == nil {
		err = derr
	}
	if errors.Is(err, errStop) {
		err = nil
	}
	return s.Finish(s.c, "subscribe", err)
}

// removeDurable destroys the durable subscription named by --durable on
// each destination, in the dialect of the broker (ActiveMQ:
// activemq.subscriptionName on UNSUBSCRIBE; RabbitMQ: durable:true).
func (s *consumer) removeDurable(ctx context.Context, dests []string, kind dialect.Kind) error {
	destroy := kind.DurableRemoval(s.o.durable)
	for _, d := range dests {
		id, err := s.c.Subscribe(ctx, d, s.subscribeHeaders(kind, false))
		if err == nil {
			err = s.c.Unsubscribe(id, destroy)
		}
		if err != nil {
			return s.Finish(s.c, "subscribe", fmt.Errorf("subscribe --unsubscribe %s: %w", d, err))
		}
		if s.Opts.Verbose > 0 {
			s.Logf("removed durable subscription %s on %s", s.o.durable, d)
		}
	}
	return s.Finish(s.c, "subscribe", nil)
}

// subscribeHeaders are the SUBSCRIBE headers of one destination.
func (s *consumer) subscribeHeaders(kind dialect.Kind, browse bool) protocol.Headers {
	o := s.o
	var h protocol.Headers
	h.Add(protocol.HdrAck, o.ack)
	prefetch := o.prefetch
	if prefetch < 0 {
		prefetch = 1000
		if o.Count > 0 {
			prefetch = min(o.Count, 1000)
		}
		if o.exec != "" {
			prefetch = min(prefetch, o.concurrency)
		}
		if s.filter != nil {
			// Messages that do not match are held unacknowledged and take
			// their place in the window: leave room for the others.
			prefetch = 1000
		}
	}
	s.window = 0
	if o.ack != protocol.AckAuto && prefetch > 0 {
		s.window = prefetch
	}
	if o.ack != protocol.AckAuto && prefetch > 0 {
		kind.Prefetch(&h, prefetch)
	}
	if o.selector != "" {
		h.Add(protocol.HdrSelector, o.selector)
	}
	if browse {
		dialect.Browse(&h)
	}
	if o.durable != "" {
		kind.Durable(&h, o.durable)
	}
	return h
}

var (
	errStop            = errors.New("stop")
	errCountNotReached = cmdutil.WithCode(cmdutil.ExitTempFail, errors.New("subscribe: --count not reached"))
)

// consume writes and acknowledges messages until a stop condition.
func (s *consumer) consume(ctx context.Context) error {
	o := s.o
	clock := cmdutil.NewStopClock(o.Stop)
	defer clock.Stop()
	notReached := func() error {
		// --peek --count N shows up to N: the end of the queue is the end.
		if o.Count > 0 && s.received < int64(o.Count) && !o.peek {
			return fmt.Errorf("%w: %d of %d messages", errCountNotReached, s.received, o.Count)
		}
		return errStop
	}
	var tick *time.Ticker
	if s.pipe != nil {
		tick = time.NewTicker(pipePoll)
		defer tick.Stop()
	}
	for {
		var batch []*client.Message
		var tickC <-chan time.Time
		if len(s.held) > 0 {
			tickC = tick.C
		}
		select {
		case <-tickC:
			if err := s.release(); err != nil {
				return err
			}
			continue
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.Deadline():
			return notReached()
		case <-clock.Idle():
			return notReached()
		case e := <-s.links:
			clock.Link(e)
			continue
		case ms, ok := <-s.c.Batches():
			if !ok {
				if err := s.c.Err(); err != nil {
					return fmt.Errorf("subscribe: %w", err)
				}
				return errStop
			}
			batch = ms
		}
		done, err := s.handle(batch)
		if err != nil {
			return err
		}
		if done {
			return notReached()
		}
		clock.Touch()
	}
}

// handle writes a batch of messages, flushes, and acknowledges what was
// written whole. It reports whether subscribe is done.
func (s *consumer) handle(batch []*client.Message) (bool, error) {
	o := s.o
	ends := s.ends[:0]
	written := s.written[:0]
	defer func() {
		clear(written)
		s.written, s.ends = written[:0], ends[:0]
	}()
	done := false
	for _, m := range batch {
		if dialect.BrowseEnd(m.Frame) {
			s.browsing--
			if s.browsing <= 0 {
				done = true
			}
			continue
		}
		if o.Count > 0 && s.received >= int64(o.Count) {
			done = true
			break
		}
		if !s.keep(m) {
			continue
		}
		if s.dedupe.repeat(m) {
			s.repeats++
			written = append(written, m)
			ends = append(ends, s.out.Position())
			continue
		}
		s.received++
		if err := s.out.Write(s.received, m.Frame); err != nil {
			return true, s.writeFailed(err, written, ends)
		}
		s.dedupe.remember(m)
		written = append(written, m)
		ends = append(ends, s.out.Position())
		if o.Count > 0 && s.received >= int64(o.Count) {
			done = true
		}
	}
	if err := s.out.Flush(); err != nil {
		return true, s.writeFailed(err, written, ends)
	}
	if err := s.acknowledge(written, ends); err != nil {
		return true, err
	}
	if s.pipe == nil {
		// Written and acknowledged: nothing refers to the batch any more.
		s.c.Recycle(batch)
	}
	return done, nil
}

// keep reports whether m matches --filter. One that does not is neither
// written nor acknowledged: the broker keeps it and delivers it again once
// subscribe ended. Such messages fill the prefetch window; when they fill
// all of it the broker sends no more, which subscribe says once.
func (s *consumer) keep(m *client.Message) bool {
	if s.filter == nil || s.filter.Match(m.Frame) {
		return true
	}
	s.skipped++
	if s.skipped == s.window && !s.o.peek {
		s.Warn(fmt.Sprintf("warning: --filter: %d messages that do not match fill the prefetch window; the broker sends no more until subscribe ends (raise --prefetch, or use --selector where the broker has selectors)", s.skipped))
	}
	return false
}

// pipePoll is how often the reader's progress through a pipe is checked
// while messages wait for it.
const pipePoll = 5 * time.Millisecond

// acknowledge acknowledges messages written whole (ends: where each one's
// bytes end): at once, or, on a pipe, once the reader read them out.
func (s *consumer) acknowledge(ms []*client.Message, ends []int64) error {
	if s.pipe == nil {
		return s.ack(ms)
	}
	for i, m := range ms {
		s.held = append(s.held, heldAck{m, ends[i]})
	}
	return s.release()
}

// release acknowledges the held messages that the reader has read.
func (s *consumer) release() error {
	if len(s.held) == 0 {
		return nil
	}
	readTo := s.out.Written()
	if unread, err := s.pipe.Unread(); err == nil {
		readTo -= unread
	}
	n := 0
	for n < len(s.held) && s.held[n].end <= readTo {
		n++
	}
	if n == 0 {
		return nil
	}
	ms := make([]*client.Message, n)
	for i := range ms {
		ms[i] = s.held[i].m
	}
	s.held = s.held[:copy(s.held, s.held[n:])]
	if err := s.ack(ms); err != nil {
		return err
	}
	s.c.Recycle(ms)
	return nil
}

// drain waits, within --disconnect-timeout, until the reader of the pipe
// has read every message written, acknowledging them as it does; what a
// reader that went away left in the pipe is not acknowledged, and the
// broker delivers it again.
func (s *consumer) drain() error {
	if len(s.held) == 0 {
		return nil
	}
	deadline := time.Now().Add(s.DisconnectTimeout())
	for {
		if err := s.release(); err != nil || len(s.held) == 0 {
			return err
		}
		if s.pipe.ReaderGone() || time.Now().After(deadline) {
			if s.Opts.Verbose > 0 {
				s.Logf("%d messages left unread in the pipe: not acknowledged", len(s.held))
			}
			return nil
		}
		time.Sleep(pipePoll)
	}
}

// writeFailed acknowledges the messages whose bytes all left before a
// write failed, and ends: a closed pipe is a normal end (exit 0), any other
// error exit 74.
func (s *consumer) writeFailed(err error, written []*client.Message, ends []int64) error {
	n := 0
	for n < len(written) && ends[n] <= s.out.Written() {
		n++
	}
	if aerr := s.acknowledge(written[:n], ends[:n]); aerr != nil {
		return aerr
	}
	if msgio.IsClosedPipe(err) {
		return errStop
	}
	return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("subscribe: write stdout: %w", err))
}

// ack acknowledges messages in the client ack modes (never with --peek).
func (s *consumer) ack(ms []*client.Message) error {
	if s.o.peek || s.o.ack == protocol.AckAuto || len(ms) == 0 {
		return nil
	}
	for _, m := range ms {
		if err := s.c.Ack(m, ""); err != nil {
			if errors.Is(err, client.ErrStaleMessage) || errors.Is(err, client.ErrConnectionLost) {
				continue // redelivered by the broker after the reconnect
			}
			return fmt.Errorf("subscribe: ack: %w", err)
		}
		s.acked++
	}
	if err := s.c.Flush(); err != nil && !errors.Is(err, client.ErrConnectionLost) {
		return fmt.Errorf("subscribe: ack: %w", err)
	}
	return nil
}
