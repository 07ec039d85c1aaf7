// Package settle is the ack and nack commands.
package settle

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/cli/pick"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// Options are the arguments and flags of ack and nack.
type Options struct {
	*cmdutil.Factory

	nack bool   // nack, else ack
	dest string // the queue
	sel  flags.Selection
	stop flags.Stop
	out  flags.Output
}

// NewCmd returns ack, or nack when nack is set; runF, when not nil, runs
// instead of the command (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, nack bool, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f, nack: nack}
	name, verb, frame := "ack", "Acknowledge", "ACK"
	if nack {
		name, verb, frame = "nack", "Reject", "NACK"
	}
	cmd := &cobra.Command{
		Use:   name + " DEST",
		Short: verb + " messages of a queue: the first N, or the ones with given ids or headers",
		Long: name + ` opens its own client-individual subscription to DEST and sends ` + frame + `
for exactly the messages asked for: the first --count N, every message with
--all, the ones whose message-id is given (--message-id, repeatable), or the
ones whose headers match (--match HEADER=VALUE, repeatable; --selector
filters on the broker where it has selectors). Other messages it sees are not
settled: the broker gets them back when it disconnects (marked redelivered).
It stops when everything asked for was found, after --idle without a
message (default 1s), or at --timeout. What was settled is printed in the
subscribe output formats. Use 'stompest subscribe --peek' to see ids first.

On ActiveMQ a message id is matched with the selector JMSMessageID='ID'.
RabbitMQ's message ids are per delivery, so --message-id cannot work there:
use --match. NACK means poison to ActiveMQ: persistent messages go to
ActiveMQ.DLQ and non-persistent ones are dropped. STOMP 1.0 has no NACK.
RabbitMQ and the embedded broker put a NACKed message back at the head of
the queue and deliver it again at once: nack settles each message at most
once per run, holding such a redelivery (known by its message-id, or on
RabbitMQ by its body and headers and the redelivered mark) until it ends.

Exit 1 when a requested --message-id was not found; 75 when --count was not
reached.`,
		Example: `  stompest subscribe /queue/orders --peek -o jsonl --count 5
  stompest ` + name + ` /queue/orders --message-id 'ID:mq1-1234-1:1:1:1:7'
  stompest ` + name + ` /queue/orders --match order-id=42
  stompest ` + name + ` /queue/orders --count 10 -o jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dest = args[0]
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	o.sel.Add(cmd, name)
	o.stop.Add(cmd, flags.Stop{Idle: time.Second}, name+"ing")
	o.out.AddMessages(cmd, "what was settled")
	return cmd
}

func (o *Options) run(ctx context.Context) error {
	name, nack := "ack", o.nack
	if nack {
		name = "nack"
	}
	p, err := pick.New(name, o.sel, o.stop)
	if err != nil {
		return err
	}
	p.Once = nack // a NACKed message may come straight back: never NACKed twice
	out, err := msgio.NewWriter(o.Factory, o.out, []byte("\n"))
	if err != nil {
		return err
	}
	c, err := o.Dial(ctx, name, false, nil)
	if err != nil {
		return err
	}
	err = o.settle(ctx, c, o.dest, p, nack, out)
	if err != nil && !cmdutil.IsInterrupt(err) {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return o.Finish(c, name, err)
}

func (o *Options) settle(ctx context.Context, c *client.Client, dest string, p *pick.Picker, nack bool, out *msgio.Writer) error {
	if nack && c.Version() == protocol.V10 {
		return cmdutil.UsageErrorf("nack: STOMP 1.0 has no NACK")
	}
	if err := p.Subscribe(ctx, c, dest); err != nil {
		return err
	}
	// The ACKs or NACKs of a burst of messages leave together, when no
	// further message is waiting (and at DISCONNECT), not one write each.
	p.Drained = c.Flush
	return p.Run(ctx, c, out, func(m *client.Message) error {
		if nack {
			return c.Nack(m, "")
		}
		return c.Ack(m, "")
	})
}
