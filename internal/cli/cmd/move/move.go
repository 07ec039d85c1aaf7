// Package move is the move command.
package move

import (
	"context"
	"errors"
	"fmt"
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
}

// NewCmd returns move; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "move SRC DEST",
		Short: "Move messages from one destination to another, each in a transaction",
		Long: `move takes messages from SRC and sends them to DEST, one transaction per
message: BEGIN, SEND to DEST (the body and the sender's headers; the
broker-managed ones are dropped unless --keep-headers), ACK from SRC,
COMMIT with a receipt. cmdutil.Interrupted at any point, no message is lost: an
aborted or unfinished transaction leaves the message in SRC. A duplicate is
possible only when the link drops after COMMIT was sent and before its
receipt came; move then says so and exits 75. The operator's tool for
replaying a dead-letter queue.

The messages are chosen as ack and nack choose them: the first --count N,
every one with --all, by --message-id, --match or --selector; move stops
when everything asked for was moved, after --idle without a message
(default 1s) or at --timeout. What was moved is printed with -o/--format;
the summary goes to stderr.`,
		Example: `  stompest move ActiveMQ.DLQ /queue/orders --all
  stompest move /queue/failed /queue/retry --count 10 --selector "reason = 'timeout'"
  stompest move /queue/DLQ.orders /queue/orders --match order-id=42 -o jsonl`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.src, o.dest = args[0], args[1]
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	o.sel.Add(cmd, "move")
	o.stop.Add(cmd, flags.Stop{Idle: time.Second}, "moving")
	o.out.AddMessages(cmd, "what was moved")
	cmd.Flags().BoolVar(&o.keepHeaders, "keep-headers", false, "keep broker-managed headers (message-id, subscription, ...)")
	return cmd
}

func (o *Options) run(ctx context.Context) error {
	src, dest := o.src, o.dest
	if src == dest {
		return cmdutil.UsageErrorf("move: SRC and DEST are the same")
	}
	p, err := pick.New("move", o.sel, o.stop)
	if err != nil {
		return err
	}
	var out *msgio.Writer
	if o.out.Format != "" || o.out.Template != "" {
		if out, err = msgio.NewWriter(o.Factory, o.out, []byte("\n")); err != nil {
			return err
		}
	}
	c, err := o.Dial(ctx, "move", false, nil)
	if err != nil {
		return err
	}
	err = p.Subscribe(ctx, c, src)
	if err == nil {
		err = p.Run(ctx, c, out, func(m *client.Message) error {
			return o.moveOne(ctx, c, m, dest, o.keepHeaders)
		})
	}
	var ce *cmdutil.CommitError
	switch {
	case errors.As(err, &ce):
		// Reported even after a signal: the outcome is unknown.
		err = fmt.Errorf("move: %w", err)
		o.Disconnect(c)
	case err != nil && !cmdutil.IsInterrupt(err):
		err = fmt.Errorf("move: %w", err)
		fallthrough
	default:
		err = o.Finish(c, "move", err)
	}
	o.Note(fmt.Sprintf("moved %d messages from %s to %s", p.Done, src, dest))
	return err
}

// moveOne moves one message in its own transaction.
func (o *Options) moveOne(ctx context.Context, c *client.Client, m *client.Message, dest string, keep bool) error {
	headers := dialect.Copy(m.Headers, keep)
	_, err := o.InTransaction(ctx, c, nil, func(tx string) error {
		if _, err := c.Send(dest, m.Body, client.SendOptions{Headers: headers, Transaction: tx}); err != nil {
			return err
		}
		return c.Ack(m, tx)
	})
	var ce *cmdutil.CommitError
	if errors.As(err, &ce) {
		return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("message %s: %w: it may now be in both destinations",
			m.Header(protocol.HdrMessageID), ce))
	}
	if err != nil {
		return fmt.Errorf("message %s: %w (transaction aborted: it stays in the source)", m.Header(protocol.HdrMessageID), err)
	}
	return nil
}
