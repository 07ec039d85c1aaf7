// Package send is the send command.
package send

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// Options are the arguments and flags of send.
type Options struct {
	*cmdutil.Factory

	args        []string // DEST and BODY, as given
	files       []string
	lines       bool
	delimiter   string
	null        bool
	input       string
	headers     []string
	contentType string
	persistent  bool
	receipt     string
	transaction bool
	count       int
	rate        string
	text        bool
	dryRun      bool
	keepHeaders bool
	idHeader    string
	allowEmpty  bool
	replay      bool
	speed       float64
	speedSet    bool
}

// NewCmd returns send; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "send [DEST] [BODY]",
		Short: "Send messages: a body, files, stdin, lines or JSON Lines",
		Long: `send sends one message, or one per input record, to DEST.

The body is BODY, else each --file (streamed with content-length = its size,
never loaded whole), else stdin (a piped body is spooled to a private
temporary file, so memory stays small). --lines sends one message per line
(no length limit; an empty line is an empty message; a last line without a
newline is still sent); --delimiter and --null split on other separators;
--input jsonl reads JSON Lines records that may name their destination.
Streaming input ('tail -f log | stompest send /queue/log --lines') sends
each record as soon as it is read.

Exit 0 means the broker confirmed every message: with --receipt last (the
default) the last message of every burst of input carries a receipt, and a
receipt confirms all earlier frames; --receipt each asks for one per
message; --transaction sends everything in one transaction and the receipt
goes on its COMMIT. On failure send reports how far it got.

With --receipt each on a failover URI, a lost connection is not the end:
send reconnects and sends again, in order, every message whose receipt had
not come, so some may reach the broker twice; --id-header NAME gives each
message a stable id (sequence number and content hash) that 'subscribe
--dedupe NAME' uses to drop the repeats.

--replay reproduces the pacing of a recording ('subscribe -o jsonl
--record' stamps each record with received_at): each message is sent as
long after the first as it was received after the first, divided by --speed
(2: twice as fast; 0: as fast as possible). Records without received_at
are sent at once.`,
		Example: `  stompest send /queue/orders '{"id": 42}'
  seq 1 100 | stompest send /queue/a --lines
  stompest send /queue/files -f report.pdf --content-type application/pdf
  printf 'a\0b\0' | stompest send /queue/a --null --receipt each
  stompest subscribe /queue/a -o jsonl --count 10 > saved.jsonl && stompest send --input jsonl < saved.jsonl
  stompest send --input jsonl --replay --speed 10 < incident.jsonl
  tail -f app.log | stompest send /topic/logs --lines --persistent=false
  stompest send /queue/a hello -H priority:9 --dry-run
  seq 1 1000 | stompest -s 'failover:(tcp://mq1:61613,tcp://mq2:61613)' send /queue/a --lines --receipt each --id-header msg-id`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.args = args
			o.speedSet = cmd.Flags().Changed("speed")
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&o.files, "file", "f", nil, "send the contents of `FILE` as one message (repeatable)")
	fs.BoolVarP(&o.lines, "lines", "l", false, "one message per line of stdin")
	fs.StringVarP(&o.delimiter, "delimiter", "D", "", "one message per record of stdin separated by `SEQ` (\\n \\r \\t \\0 \\\\ \\xHH understood)")
	fs.BoolVarP(&o.null, "null", "z", false, "one message per NUL-separated record of stdin")
	flags.Enum(cmd, &o.input, "input", "", "", []string{"jsonl"}, "stdin format: jsonl (JSON Lines records, one message each)")
	fs.StringArrayVarP(&o.headers, "header", "H", nil, "header `K:V` (repeatable; the last for a name wins)")
	fs.StringVar(&o.contentType, "content-type", "", "content-type header")
	fs.BoolVar(&o.persistent, "persistent", true, "ask the broker to keep messages across restarts (persistent:true)")
	flags.Enum(cmd, &o.receipt, "receipt", "", "last", flags.ReceiptModes, "confirmation: each (every message), last (the last of each burst) or none")
	fs.BoolVar(&o.transaction, "transaction", false, "send everything in one transaction: COMMIT at the end, ABORT on error")
	fs.IntVar(&o.count, "count", 1, "send each message `N` times")
	fs.StringVar(&o.rate, "rate", "", "at most `N/s` messages per second")
	fs.BoolVar(&o.text, "text", false, "send no content-length (bodies with NUL are refused)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the frames that would be sent, without connecting")
	fs.StringVar(&o.idHeader, "id-header", "", "stamp each message with a stable id in header `NAME`: sequence number and content hash (see subscribe --dedupe)")
	fs.BoolVar(&o.allowEmpty, "allow-empty", false, "with a body from stdin: send an empty message when stdin is empty")
	fs.BoolVar(&o.keepHeaders, "keep-headers", false, "with --input jsonl: keep broker-managed headers (message-id, subscription, ...)")
	fs.BoolVar(&o.replay, "replay", false, "with --input jsonl: reproduce the gaps between the records' received_at times (subscribe --record)")
	fs.Float64Var(&o.speed, "speed", 1, "with --replay: play `X` times faster (0: as fast as possible)")
	return cmd
}

// outgoing is one message to send.
type outgoing struct {
	dest    string
	headers protocol.Headers
	body    []byte
	stream  io.Reader // with size, instead of body
	size    int64
	record  int       // input record number, from 1
	more    bool      // another record follows without waiting for input
	at      time.Time // --input jsonl: the record's received_at, if any
}

// source yields the messages of one send. A message (and its body) is
// valid until the next call: a source may reuse both.
type source func() (*outgoing, error)

func (o *Options) run(ctx context.Context) error {
	args := o.args
	var dest string
	if len(args) > 0 {
		dest = args[0]
	}
	headers, err := cmdutil.ParseHeaderFlags(o.headers)
	if err != nil {
		return err
	}
	if o.contentType != "" {
		headers.Set(protocol.HdrContentType, o.contentType)
	}
	if err := o.checkHeaderSizes(headers); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if o.persistent {
		headers.Set("persistent", "true")
	}
	if o.count < 1 {
		return cmdutil.UsageErrorf("--count %d: want 1 or more", o.count)
	}
	switch o.idHeader {
	case protocol.HdrDestination, protocol.HdrContentLength, protocol.HdrReceipt, protocol.HdrTransaction:
		return cmdutil.UsageErrorf("--id-header %q: a header stompest sets itself", o.idHeader)
	}
	limiter, err := cmdutil.ParseRate(o.rate, 1)
	if err != nil {
		return err
	}
	pace, err := newPacer(o.replay, o.speed, o.speedSet)
	if err != nil {
		return err
	}
	if o.replay && o.input != "jsonl" {
		return cmdutil.UsageErrorf("--replay needs --input jsonl: only records carry received_at")
	}
	src, cleanup, err := o.sendSource(args, dest, headers)
	if err != nil {
		return err
	}
	defer cleanup()
	if o.dryRun {
		return o.printDryRun(src)
	}

	cfg, err := o.ClientConfig(o.receipt == "each", nil)
	if err != nil {
		return err
	}
	cfg.Text = o.text
	c, err := o.Connect(ctx, "send", cfg)
	if err != nil {
		return err
	}
	p := &producer{Factory: o.Factory, c: c, o: o, limiter: limiter, pace: pace, resend: cfg.Reconnect}
	err = p.run(ctx, src)
	if e := o.Sig.Err(); e != nil {
		// What was sent is confirmed by the receipt of DISCONNECT, when
		// it came on the connection of every SEND not confirmed yet; an
		// open transaction is aborted by it.
		derr := o.Disconnect(c)
		_, conn := c.Link()
		var ce *cmdutil.CommitError
		switch {
		case o.transaction && errors.As(err, &ce):
			// The COMMIT left: the broker may have committed it.
			return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("send: %v after the COMMIT of %d messages was sent, before its receipt came: outcome unknown, they may or may not have been delivered", e, p.sent))
		case o.transaction && err == nil:
			o.Warn(fmt.Sprintf("%v: %s (committed)", e, p.progress()))
			return e
		case o.transaction:
			o.Warn(fmt.Sprintf("%v: transaction aborted: nothing of the %d messages sent was committed", e, p.sent))
			return e
		case derr == nil && (p.since == 0 || p.since == conn):
			p.confirmed = p.sent
		default:
			p.poll()
		}
		if p.confirmed < p.sent {
			why := "the connection they were sent on was lost"
			if derr != nil {
				why = "DISCONNECT was not confirmed: " + derr.Error()
			}
			return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("send: %v: %s; %s", e, p.progress(), why))
		}
		o.Warn(fmt.Sprintf("%v: %s", e, p.progress()))
		return e
	}
	if err = o.Finish(c, "send", err); err != nil {
		return err
	}
	if o.Opts.Verbose > 0 {
		o.Logf("sent %d, confirmed %d, sent again after a failover %d", p.sent, p.confirmed, p.resent)
	}
	return nil
}

// producer sends the messages of a source and keeps count of what the
// broker confirmed.
type producer struct {
	*cmdutil.Factory
	c         *client.Client
	o         *Options
	limiter   *rate.Limiter
	pace      *pacer // --replay
	tx        string
	sent      int
	confirmed int
	lastRec   int // input record of the last confirmed message
	pending   []pendingReceipt
	resend    bool // a failover URI with --receipt each: resend what a loss left unconfirmed
	resent    int
	since     uint64 // the connection (client.Link) of the oldest SEND not confirmed, or an earlier one; 0: all confirmed
}

// resendWindow bounds the messages kept for resending: at that many
// unconfirmed, send waits for the oldest receipt.
const resendWindow = 1024

type pendingReceipt struct {
	r      *client.Receipt
	sent   int // messages sent up to and including this one
	record int
	msg    *outgoing          // with resend: the message, to send again
	opts   client.SendOptions // with resend: how it was sent
}

func (p *producer) run(ctx context.Context, src source) error {
	if !p.o.transaction {
		if err := p.loop(ctx, src); err != nil {
			return err
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
		return p.wait(ctx)
	}
	// Inside a transaction nothing is sent again after a loss: the
	// transaction went with its connection, and the broker aborted it.
	p.resend = false
	bodyErr := false
	_, err := p.InTransaction(ctx, p.c, func(tx string) { p.tx = tx }, func(string) error {
		err := p.loop(ctx, src)
		bodyErr = err != nil
		return err
	})
	var ce *cmdutil.CommitError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("send: %w: the COMMIT of %d messages was sent but not confirmed: they may or may not have been delivered", err, p.sent)
	case err != nil && !bodyErr:
		return p.fail(err) // BEGIN failed, or the COMMIT could not be sent
	case err != nil:
		return err
	}
	p.tx = ""
	p.confirmed, p.pending = p.sent, nil
	return nil
}

// loop sends every message of src; in a transaction, without receipts.
func (p *producer) loop(ctx context.Context, src source) error {
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m, err := src()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.stopAt(err)
		}
		if p.pace != nil {
			if d := p.pace.delay(m.at); d > 0 {
				// What was sent goes out before the gap, on time.
				if err := p.flush(ctx); err != nil {
					return err
				}
				p.poll()
				if err := sleep(ctx, d); err != nil {
					return err
				}
			}
		}
		for i := range p.o.count {
			if p.limiter != nil {
				if err := p.flush(ctx); err != nil {
					return err
				}
				if err := p.limiter.Wait(ctx); err != nil {
					return err
				}
			}
			last := i == p.o.count-1 && !m.more
			want := p.tx == "" && (p.o.receipt == "each" || (p.o.receipt == "last" && last))
			headers := m.headers
			if p.o.idHeader != "" {
				id, err := messageID(p.sent+1, m)
				if err != nil {
					return p.fail(fmt.Errorf("--id-header: %w", err))
				}
				headers = append(headers[:len(headers):len(headers)], protocol.Header{Name: p.o.idHeader, Value: id})
			}
			opts := client.SendOptions{Headers: headers, Transaction: p.tx, Receipt: want}
			if p.since == 0 {
				_, p.since = p.c.Link()
			}
			r, err := p.send(m, opts)
			for err != nil && p.resend && lostConnection(err) {
				if err = p.recover(ctx); err != nil {
					return err
				}
				r, err = p.send(m, opts)
			}
			if err != nil {
				return p.fail(err)
			}
			p.sent++
			if r != nil {
				pr := pendingReceipt{r: r, sent: p.sent, record: m.record}
				if p.resend {
					kept := *m
					kept.body = bytes.Clone(m.body)
					pr.msg, pr.opts = &kept, opts
				}
				p.pending = append(p.pending, pr)
				if p.resend && len(p.pending) >= resendWindow {
					if err := p.waitUntil(ctx, resendWindow/2); err != nil {
						return err
					}
				}
			}
		}
		if !m.more {
			if err := p.flush(ctx); err != nil {
				return err
			}
			p.poll()
		}
	}
}

// poll takes note of the receipts that came, without waiting.
func (p *producer) poll() {
	for len(p.pending) > 0 {
		done, err := p.pending[0].r.Poll()
		if !done || err != nil {
			return
		}
		p.confirm(p.pending[0])
	}
}

func (p *producer) confirm(pr pendingReceipt) {
	p.confirmed, p.lastRec = pr.sent, pr.record
	p.pending = p.pending[1:]
	if p.confirmed == p.sent {
		p.since = 0
	}
}

// wait waits for every outstanding receipt, in order.
func (p *producer) wait(ctx context.Context) error {
	if err := p.waitUntil(ctx, 0); err != nil {
		return err
	}
	if p.o.receipt != "none" {
		p.confirmed, p.since = p.sent, 0
	}
	return nil
}

// waitUntil waits for the oldest receipts until at most n are outstanding.
// After a loss that the client recovers from, it sends again what was not
// confirmed.
func (p *producer) waitUntil(ctx context.Context, n int) error {
	for len(p.pending) > n {
		err := p.c.WaitReceipt(ctx, p.pending[0].r)
		if err != nil && p.resend && lostConnection(err) {
			if err := p.recover(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return p.fail(err)
		}
		p.confirm(p.pending[0])
	}
	return nil
}

// flush sends what is buffered; after a loss that the client recovers
// from, it sends again what was not confirmed. Its errors are reported.
func (p *producer) flush(ctx context.Context) error {
	err := p.c.Flush()
	if err != nil && p.resend && lostConnection(err) {
		return p.recover(ctx)
	}
	if err != nil {
		return p.fail(err)
	}
	return nil
}

// send sends m; a streamed body is sent from its start.
func (p *producer) send(m *outgoing, opts client.SendOptions) (*client.Receipt, error) {
	if m.stream == nil {
		return p.c.Send(m.dest, m.body, opts)
	}
	if s, ok := m.stream.(io.Seeker); ok {
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return p.c.SendStream(m.dest, m.stream, m.size, opts)
}

// recover waits until the client is connected again after a loss, then
// sends again, in order, every message whose receipt had not come: the
// broker may have taken some of them already (at-least-once; --id-header
// lets a consumer drop the repeats).
func (p *producer) recover(ctx context.Context) error {
	for {
		if err := p.c.WaitConnected(ctx); err != nil {
			return p.fail(err)
		}
		p.poll()
		_, conn := p.c.Link()
		old := p.pending
		p.pending = make([]pendingReceipt, 0, len(old))
		var err error
		for k, pr := range old {
			if pr.r, err = p.send(pr.msg, pr.opts); err != nil {
				p.pending = append(p.pending, old[k:]...)
				break
			}
			p.pending = append(p.pending, pr)
		}
		if err == nil {
			err = p.c.Flush()
		}
		if err == nil {
			if len(old) > 0 {
				p.since = conn // every SEND not confirmed went again on conn or a later one
			}
			p.resent += len(old)
			if p.Opts.Verbose > 0 {
				p.Logf("reconnected to %s: sent again %d unconfirmed messages", p.c.Broker(), len(old))
			}
			return nil
		}
		if !lostConnection(err) {
			return p.fail(err)
		}
	}
}

// lostConnection reports whether err is the loss of the connection, which
// the client recovers from on a failover URI.
func lostConnection(err error) bool {
	return errors.Is(err, client.ErrConnectionLost) || errors.Is(err, client.ErrHeartBeatLost)
}

// stopAt ends at bad input: what was sent is confirmed first, then the
// input error is reported with the count.
func (p *producer) stopAt(inputErr error) error {
	if p.tx == "" {
		if err := p.c.Flush(); err == nil {
			p.wait(context.Background())
		}
	}
	return fmt.Errorf("send: %w (%s)", inputErr, p.progress())
}

// fail reports a failure with how far the send got.
func (p *producer) fail(err error) error {
	p.poll()
	if p.tx != "" {
		return fmt.Errorf("send: %w: transaction aborted, nothing of %d committed", err, p.sent)
	}
	return fmt.Errorf("send: %w: %s", err, p.progress())
}

func (p *producer) progress() string {
	msg := fmt.Sprintf("%d of %d confirmed", p.confirmed, p.sent)
	if p.resent > 0 {
		msg += fmt.Sprintf(", %d sent again after a failover", p.resent)
	}
	if p.lastRec > 0 {
		msg += fmt.Sprintf(" (last confirmed input record %d)", p.lastRec)
	}
	return msg
}

// sendSource picks where the messages come from.
func (o *Options) sendSource(args []string, dest string, headers protocol.Headers) (source, func(), error) {
	none := func() {}
	splitting := 0
	for _, on := range []bool{o.lines, o.delimiter != "", o.null, o.input != ""} {
		if on {
			splitting++
		}
	}
	switch {
	case splitting > 1:
		return nil, none, cmdutil.UsageErrorf("--lines, --delimiter, --null and --input exclude one another")
	case len(args) == 2 && (len(o.files) > 0 || splitting > 0):
		return nil, none, cmdutil.UsageErrorf("a BODY argument excludes --file and reading stdin")
	case len(o.files) > 0 && splitting > 0:
		return nil, none, cmdutil.UsageErrorf("--file excludes --lines, --delimiter, --null and --input")
	case dest == "" && o.input != "jsonl":
		return nil, none, cmdutil.UsageErrorf("send: DEST is required (or --input jsonl with destinations)")
	case o.text && (len(o.files) > 0 || (len(args) < 2 && splitting == 0)):
		return nil, none, cmdutil.UsageErrorf("--text needs a body in memory: BODY, --lines, --delimiter, --null or --input")
	}
	one := func(m *outgoing) source {
		done := false
		return func() (*outgoing, error) {
			if done {
				return nil, io.EOF
			}
			done = true
			return m, nil
		}
	}
	switch {
	case len(args) == 2:
		return one(&outgoing{dest: dest, headers: headers, body: []byte(args[1]), record: 1}), none, nil
	case len(o.files) > 0:
		files := make([]*os.File, 0, len(o.files)) // the bodies, in order
		sizes := make([]int64, 0, len(o.files))
		var closers []func()
		cleanup := func() {
			for _, c := range closers {
				c()
			}
		}
		for _, name := range o.files {
			f, err := os.Open(name)
			if err == nil {
				closers = append(closers, func() { f.Close() })
				var st os.FileInfo
				switch st, err = f.Stat(); {
				case err != nil:
				case st.IsDir():
					err = fmt.Errorf("is a directory")
				case st.Mode().IsRegular():
					files, sizes = append(files, f), append(sizes, st.Size())
				default:
					// A pipe, such as -f <(cmd): read as a stream, spooled
					// like stdin to learn its length.
					spool, size, done, serr := msgio.SpoolStdin(cmdutil.Interruptible(o.Sig.Ctx, f))
					if err = serr; err == nil {
						closers = append(closers, done)
						files, sizes = append(files, spool), append(sizes, size)
					}
				}
			}
			if err != nil {
				cleanup()
				return nil, none, cmdutil.WithCode(cmdutil.ExitNoInput, fmt.Errorf("send: %s: %w", name, unwrapPath(err)))
			}
		}
		i := 0
		return func() (*outgoing, error) {
			if i == len(files) {
				return nil, io.EOF
			}
			i++
			return &outgoing{dest: dest, headers: headers, stream: files[i-1], size: sizes[i-1], record: i, more: i < len(files)}, nil
		}, cleanup, nil
	case o.input == "jsonl":
		return o.jsonlSource(dest, headers), none, nil
	case splitting > 0:
		delim := []byte("\n")
		if o.null {
			delim = []byte{0}
		}
		if o.delimiter != "" {
			var err error
			if delim, err = msgio.ParseDelimiter(o.delimiter); err != nil {
				return nil, none, cmdutil.UsageErrorf("--delimiter %q: %v", o.delimiter, err)
			}
		}
		sp := msgio.NewSplitter(o.In, delim)
		var m outgoing // one record at a time: the body is the splitter's buffer too
		return func() (*outgoing, error) {
			rec, err := sp.Next()
			if err != nil {
				if err != io.EOF {
					err = cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("read stdin: %w", err))
				}
				return nil, err
			}
			if o.text && bytes.IndexByte(rec, 0) >= 0 {
				return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("record %d holds NUL, which --text cannot send", sp.Records()))
			}
			m = outgoing{dest: dest, headers: headers, body: rec, record: sp.Records(), more: sp.More()}
			return &m, nil
		}, none, nil
	}
	if o.InTTY {
		return nil, none, cmdutil.UsageErrorf("send: no body: give BODY, --file, or pipe one into stdin")
	}
	f, size, cleanup, err := msgio.SpoolStdin(o.In)
	if err != nil {
		return nil, none, cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("read stdin: %w", err))
	}
	if size == 0 && !o.allowEmpty {
		cleanup()
		return nil, none, cmdutil.WithCode(cmdutil.ExitDataErr, errors.New("send: stdin was empty: nothing sent (--allow-empty sends an empty message)"))
	}
	return one(&outgoing{dest: dest, headers: headers, stream: f, size: size, record: 1}), cleanup, nil
}

// jsonlSource reads JSON Lines records (PRODUCT.md §7).
func (o *Options) jsonlSource(dest string, headers protocol.Headers) source {
	br := bufio.NewReaderSize(o.In, 64<<10)
	line := 0
	var buf []byte
	return func() (*outgoing, error) {
		for {
			buf = buf[:0]
			for {
				chunk, err := br.ReadSlice('\n')
				buf = append(buf, chunk...)
				if len(buf) > msgio.MaxRecord {
					return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("line %d: record larger than %d bytes", line+1, msgio.MaxRecord))
				}
				if err == bufio.ErrBufferFull {
					continue
				}
				if err == io.EOF && len(buf) == 0 {
					return nil, io.EOF
				}
				if err != nil && err != io.EOF {
					return nil, cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("read stdin: %w", err))
				}
				break
			}
			line++
			text := bytes.TrimSpace(buf)
			if len(text) == 0 {
				continue
			}
			r, err := msgio.DecodeRecord(text)
			if err != nil {
				return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("line %d: %v", line, err))
			}
			body, err := r.Bytes()
			if err != nil {
				return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("line %d: %v", line, err))
			}
			at, _, err := r.Received()
			if err != nil {
				return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("line %d: %v", line, err))
			}
			if r.Command != "" && r.Command != "MESSAGE" && r.Command != "SEND" {
				return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("line %d: command %q: want MESSAGE or SEND", line, r.Command))
			}
			d := dest
			if d == "" {
				d = r.Destination
			}
			if d == "" {
				return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("line %d: no destination (give DEST or a destination field)", line))
			}
			if o.text && bytes.IndexByte(body, 0) >= 0 {
				return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("line %d: body holds NUL, which --text cannot send", line))
			}
			hs := r.HeaderList(o.keepHeaders)
			for _, h := range headers {
				hs.Set(h.Name, h.Value)
			}
			if err := o.checkHeaderSizes(hs); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			hs.Del(protocol.HdrDestination)
			hs.Del(protocol.HdrContentLength)
			return &outgoing{dest: d, headers: hs, body: body, record: line, more: br.Buffered() > 0, at: at}, nil
		}
	}
}

// printDryRun prints the frames a send would write, in trace format.
func (o *Options) printDryRun(src source) error {
	w := bufio.NewWriter(o.Out)
	tx := ""
	if o.transaction {
		tx = "tx-1"
		protocol.WriteTrace(w, ">>> ", protocol.NewFrame(protocol.CmdBegin, protocol.HdrTransaction, tx))
	}
	for {
		m, err := src()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		body := m.body
		if m.stream != nil {
			if body, err = io.ReadAll(io.LimitReader(m.stream, 1<<20)); err != nil {
				return cmdutil.WithCode(cmdutil.ExitIOErr, err)
			}
		}
		for range o.count {
			f := protocol.Send(m.dest, body, m.headers, "")
			if tx != "" {
				f.Headers.Add(protocol.HdrTransaction, tx)
			}
			if err := protocol.WriteTrace(w, ">>> ", f); err != nil {
				return cmdutil.WithCode(cmdutil.ExitIOErr, err)
			}
		}
	}
	if tx != "" {
		protocol.WriteTrace(w, ">>> ", protocol.NewFrame(protocol.CmdCommit, protocol.HdrTransaction, tx))
	}
	return w.Flush()
}

// checkHeaderSizes refuses (65) a header whose line would be longer than
// --max-header-size: sent, it would make the message unreadable for every
// consumer that has that limit, stompest included (escaped as 1.2 does,
// the longest form).
func (o *Options) checkHeaderSizes(hs protocol.Headers) error {
	for _, h := range hs {
		n, err := protocol.HeaderLineSize(protocol.CmdSend, h.Name, h.Value, protocol.V12)
		if err != nil {
			return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("header %q: %v", h.Name, err))
		}
		if n > o.Opts.MaxHeaderSize {
			return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("header %q is %d bytes on the wire, over --max-header-size %d: a consumer could not read the message back (nothing sent)", h.Name, n, o.Opts.MaxHeaderSize))
		}
	}
	return nil
}

// unwrapPath drops the path from an *os.PathError, which the caller names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
