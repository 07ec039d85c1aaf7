// Package move is the move command.
package move

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/dialect"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/cli/pick"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// Options are the arguments and flags of move.
type Options struct {
	*cmdutil.Factory

	src, dest   string
	sel         flags.Selection
	stop        flags.Stop
	out         flags.Output
	keepHeaders bool
	batch       int  // messages per transaction
	toOrigin    bool // each message back where the broker says it died
	maxMoves    int  // leave messages moved this often (0: no limit)
}

// NewCmd returns move; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "move SRC (DEST | --to-origin)",
		Short: "Move messages from one destination to another, in transactions",
		Long: `move takes messages from SRC and sends them to DEST in transactions of up
to --batch messages (100): BEGIN, for each message a SEND to DEST (the body
and the sender's headers; the broker-managed ones are dropped unless
--keep-headers) and an ACK from SRC, then COMMIT with a receipt. A batch is
committed as soon as no further message came within 5 ms, so a trickle is not
held back. Interrupted at any point, no message is lost: an aborted or
unfinished transaction leaves its messages in SRC. A duplicate is possible
only when the link drops after a COMMIT was sent and before its receipt
came; move then says which messages may be in both destinations and exits
75. The operator's tool for replaying a dead-letter queue.

--to-origin sends each message back to the destination it died in, as its
broker recorded it (ActiveMQ and the embedded broker: original-destination;
RabbitMQ: x-first-death-queue, sent to through /amq/queue/ so the queue is
never declared anew; Artemis: _AMQ_ORIG_ADDRESS), without the broker's
dead-letter headers. A message without an origin, or whose origin is SRC,
stays in SRC and is counted in the summary. 'stompest dlq' shows the
origins and reasons first.

Every copy carries a stompest-moves header, one more than the message had,
and stompest-move-run, naming the run: a message that comes back to SRC
during the run that moved it (dead-lettered again on its way) is left there,
not moved round for ever, and --max-moves N leaves a message already moved N
times in SRC, so one that dies again and again across runs is set aside.

The messages are chosen as ack and nack choose them: the first --count N,
every one with --all, by --message-id, --match, --filter or --selector; move stops
when everything asked for was moved, after --idle without a message
(default 1s) or at --timeout. What was moved is printed with -o/--format;
the summary goes to stderr.`,
		Example: `  stompest move ActiveMQ.DLQ /queue/orders --all
  stompest move /queue/failed /queue/retry --count 10 --selector "reason = 'timeout'"
  stompest move /queue/DLQ.orders /queue/orders --match order-id=42 -o jsonl
  stompest move /queue/ActiveMQ.DLQ --to-origin --all --max-moves 3`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.src = args[0]
			if len(args) > 1 {
				o.dest = args[1]
			}
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	o.sel.Add(cmd, "move")
	o.stop.Add(cmd, flags.Stop{Idle: time.Second}, "moving")
	o.out.AddMessages(cmd, "what was moved")
	fs := cmd.Flags()
	fs.BoolVar(&o.keepHeaders, "keep-headers", false, "keep broker-managed headers (message-id, subscription, ...)")
	fs.IntVar(&o.batch, "batch", 100, "move up to `N` messages per transaction (a batch is committed early when no further message came within 5ms)")
	fs.BoolVar(&o.toOrigin, "to-origin", false, "instead of DEST: send each message back to the destination its broker dead-lettered it from")
	fs.IntVar(&o.maxMoves, "max-moves", 0, "leave in SRC a message that move already moved `N` times (its stompest-moves header; 0: no limit)")
	return cmd
}

func (o *Options) run(ctx context.Context) error {
	src, dest := o.src, o.dest
	switch {
	case o.toOrigin && dest != "":
		return cmdutil.UsageErrorf("move: DEST and --to-origin exclude one another")
	case !o.toOrigin && dest == "":
		return cmdutil.UsageErrorf("move: DEST is required (or --to-origin)")
	case src == dest:
		return cmdutil.UsageErrorf("move: SRC and DEST are the same")
	case o.batch < 1:
		return cmdutil.UsageErrorf("--batch %d: want 1 or more", o.batch)
	case o.maxMoves < 0:
		return cmdutil.UsageErrorf("--max-moves %d: want 0 (no limit) or more", o.maxMoves)
	}
	p, err := pick.New("move", o.sel, o.stop)
	if err != nil {
		return err
	}
	b := &batch{Options: o, run: runName()}
	if o.out.Format != "" || o.out.Template != "" {
		if b.out, err = msgio.NewWriter(o.Factory, o.out, []byte("\n")); err != nil {
			return err
		}
	}
	if b.c, err = o.Dial(ctx, "move", false, nil); err != nil {
		return err
	}
	b.kind = cmdutil.KindOf(b.c)
	err = p.Subscribe(ctx, b.c, src)
	if err == nil {
		p.Drained = func() error { return b.commit(ctx) }
		err = p.Run(ctx, b.c, nil, func(m *client.Message) error { return b.add(ctx, m) })
	}
	if b.failed {
		b.abort(err)
	} else if cerr := b.commit(ctx); cerr != nil {
		// What the open batch holds is work in flight, however the search
		// ended (done, --count not reached, --timeout, a signal): it is
		// committed, within --disconnect-timeout after a signal.
		err = cerr
	}
	var ce *cmdutil.CommitError
	switch {
	case errors.As(err, &ce):
		// Reported even after a signal: the outcome is unknown.
		err = fmt.Errorf("move: %w", err)
		o.Disconnect(b.c)
	case err != nil && !cmdutil.IsInterrupt(err):
		err = fmt.Errorf("move: %w", err)
		fallthrough
	default:
		err = o.Finish(b.c, "move", err)
	}
	o.Note(b.summary())
	return err
}

// summary says what move did, and what it left in SRC and why.
func (b *batch) summary() string {
	to := b.dest
	if b.toOrigin {
		to = "their origins"
	}
	s := fmt.Sprintf("moved %s from %s to %s", cmdutil.Count(b.moved, "message"), b.src, to)
	var left []string
	if b.noOrigin > 0 {
		left = append(left, fmt.Sprintf("%d without an origin", b.noOrigin))
	}
	if b.atOrigin > 0 {
		left = append(left, fmt.Sprintf("%d whose origin is %s", b.atOrigin, b.src))
	}
	if b.back > 0 {
		left = append(left, fmt.Sprintf("%d that came back during this move", b.back))
	}
	if b.tooOften > 0 {
		left = append(left, fmt.Sprintf("%d moved %s already (--max-moves)", b.tooOften, cmdutil.Count(b.maxMoves, "time")))
	}
	if len(left) > 0 {
		s += "; left in " + b.src + ": " + strings.Join(left, ", ")
	}
	return s
}

// runName names a run of move, unique across processes and hosts in
// practice: 64 random bits.
func runName() string {
	var r [8]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// batch is the open transaction of move: up to --batch messages, each
// sent to DEST and acknowledged from SRC inside it, committed together.
type batch struct {
	*Options
	c      *client.Client
	out    *msgio.Writer     // what was moved, when -o or --format
	tx     string            // the open transaction, "" for none
	msgs   []*client.Message // in tx
	moved  int               // committed
	failed bool              // a frame of the open transaction was not sent
	kind   dialect.Kind

	run                                string // this run's name, stamped on every copy
	noOrigin, atOrigin, tooOften, back int    // left in SRC (pick.ErrSkip)
}

// add moves m into the open transaction (BEGIN first when none is open),
// and commits when the batch is full. When a frame of the open
// transaction could not be sent, the batch is failed: it is aborted, never
// committed.
func (b *batch) add(ctx context.Context, m *client.Message) error {
	dest, headers, err := b.target(m)
	if err != nil {
		return err
	}
	if err := b.addFrames(m, dest, headers); err != nil {
		b.failed = true
		return err
	}
	if len(b.msgs) >= b.Options.batch {
		return b.commit(ctx)
	}
	return nil
}

// target returns where m goes and with which headers, or pick.ErrSkip
// when m stays in SRC.
func (b *batch) target(m *client.Message) (string, protocol.Headers, error) {
	if dialect.MovedBy(m.Frame, b.run) {
		// It came back in this run (dead-lettered again on its way, say):
		// moving it again could go round for ever.
		b.back++
		return "", nil, pick.ErrSkip
	}
	if b.maxMoves > 0 && dialect.Moves(m.Frame) >= b.maxMoves {
		b.tooOften++
		return "", nil, pick.ErrSkip
	}
	if !b.toOrigin {
		hs := dialect.Copy(m.Headers, b.keepHeaders)
		dialect.StampMove(&hs, m.Frame, b.run)
		return b.dest, hs, nil
	}
	origin := b.kind.DeadLetterOf(m.Frame).Origin
	switch origin {
	case "":
		b.noOrigin++
		return "", nil, pick.ErrSkip
	case b.src:
		b.atOrigin++
		return "", nil, pick.ErrSkip
	}
	hs := dialect.Revived(m.Headers, b.keepHeaders)
	dialect.StampMove(&hs, m.Frame, b.run)
	return origin, hs, nil
}

func (b *batch) addFrames(m *client.Message, dest string, headers protocol.Headers) error {
	if b.tx == "" {
		tx, err := b.c.Begin("")
		if err != nil {
			return err
		}
		b.tx = tx
	}
	b.msgs = append(b.msgs, m)
	if _, err := b.c.Send(dest, m.Body, client.SendOptions{Headers: headers, Transaction: b.tx}); err != nil {
		return err
	}
	return b.c.Ack(m, b.tx)
}

// commit commits the open transaction, if any, and prints what it moved.
// An unconfirmed COMMIT is an unknown outcome (exit 75) that names the
// messages that may now be in both destinations.
func (b *batch) commit(ctx context.Context) error {
	if b.tx == "" {
		return nil
	}
	tx, msgs := b.tx, b.msgs
	b.tx, b.msgs = "", b.msgs[:0]
	err := b.Commit(ctx, b.c, tx)
	var ce *cmdutil.CommitError
	switch {
	case errors.As(err, &ce):
		return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("%s: %w: %s may now be in both destinations", ids(msgs), ce, them(len(msgs))))
	case err != nil:
		return fmt.Errorf("%s: %w (transaction aborted: %s in the source)", ids(msgs), err, stays(len(msgs)))
	}
	for _, m := range msgs {
		b.moved++
		if b.out == nil {
			continue
		}
		err := b.out.Write(int64(b.moved), m.Frame)
		if err == nil {
			err = b.out.Flush()
		}
		if err != nil && !msgio.IsClosedPipe(err) {
			return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("write stdout: %w", err))
		}
	}
	return nil
}

// abort ends the open transaction after why: its messages stay in SRC.
func (b *batch) abort(why error) {
	if b.tx == "" {
		return
	}
	b.c.Abort(b.tx)
	b.Warn(fmt.Sprintf("%v: transaction aborted: %s in the source", why, stays(len(b.msgs))))
	b.tx, b.msgs = "", nil
}

// ids names the messages of a batch by their message-ids.
func ids(msgs []*client.Message) string {
	if len(msgs) == 1 {
		return "message " + msgs[0].Header(protocol.HdrMessageID)
	}
	return fmt.Sprintf("messages %s to %s", msgs[0].Header(protocol.HdrMessageID), msgs[len(msgs)-1].Header(protocol.HdrMessageID))
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return fmt.Sprintf("these %d", n)
}

func stays(n int) string {
	if n == 1 {
		return "it stays"
	}
	return fmt.Sprintf("these %d stay", n)
}
