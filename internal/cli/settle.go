package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// settleOptions are the flags of ack and nack.
type settleOptions struct {
	count      int
	all        bool
	messageIDs []string
	match      []string
	selector   string
	timeout    time.Duration
	idle       time.Duration
	output     string
	format     string
}

func (a *app) newSettleCmd(nack bool) *cobra.Command {
	var o settleOptions
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

Exit 1 when a requested --message-id was not found; 75 when --count was not
reached.`,
		Example: `  stompest subscribe /queue/orders --peek -o jsonl --count 5
  stompest ` + name + ` /queue/orders --message-id 'ID:mq1-1234-1:1:1:1:7'
  stompest ` + name + ` /queue/orders --match order-id=42
  stompest ` + name + ` /queue/orders --count 10 -o jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSettle(cmd.Context(), args[0], o, nack)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.count, "count", "n", 0, "settle the first `N` messages (that match)")
	f.BoolVar(&o.all, "all", false, "settle every message (that matches) until --idle passes without one")
	f.StringArrayVar(&o.messageIDs, "message-id", nil, "settle the message with this `ID` (repeatable)")
	f.StringArrayVar(&o.match, "match", nil, "settle messages whose header `NAME=VALUE` (repeatable; all must match)")
	f.StringVar(&o.selector, "selector", "", "broker-side selector (ActiveMQ, Artemis, the embedded broker)")
	f.DurationVar(&o.timeout, "timeout", 0, "give up after this long")
	f.DurationVar(&o.idle, "idle", time.Second, "stop when no message came for this long")
	f.StringVarP(&o.output, "output", "o", "", "how to print what was settled: body, pretty or jsonl")
	f.StringVar(&o.format, "format", "", "Go template over the JSON Lines record, as in subscribe")
	return cmd
}

type headerMatch struct{ name, value string }

func (a *app) runSettle(ctx context.Context, dest string, o settleOptions, nack bool) error {
	name := "ack"
	if nack {
		name = "nack"
	}
	var matches []headerMatch
	for _, m := range o.match {
		k, v, ok := strings.Cut(m, "=")
		if !ok || k == "" {
			return usageErrorf("--match %q: want HEADER=VALUE", m)
		}
		matches = append(matches, headerMatch{k, v})
	}
	switch {
	case o.count < 0:
		return usageErrorf("--count %d: want 1 or more", o.count)
	case o.count == 0 && !o.all && len(o.messageIDs) == 0 && len(matches) == 0 && o.selector == "":
		return usageErrorf("%s: say what to settle: --count N, --all, --message-id, --match or --selector", name)
	case o.all && o.count > 0:
		return usageErrorf("--all and --count exclude one another")
	case o.idle <= 0:
		return usageErrorf("--idle must be positive")
	}
	out, err := a.newMessageWriter(o.output, o.format, []byte("\n"))
	if err != nil {
		return err
	}
	c, err := a.dial(ctx, name, false, nil)
	if err != nil {
		return err
	}
	err = a.settle(ctx, c, dest, o, matches, nack, out)
	if errors.Is(err, errStop) {
		err = nil
	}
	if err != nil && !isInterrupt(err) {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return a.finish(c, name, err)
}

func (a *app) settle(ctx context.Context, c *client.Client, dest string, o settleOptions, matches []headerMatch, nack bool, out *messageWriter) error {
	server, _ := c.Server()
	kind := brokerKind(server)
	if nack && c.Version() == protocol.V10 {
		return usageErrorf("nack: STOMP 1.0 has no NACK")
	}
	selector := o.selector
	if kind == "rabbitmq" && selector != "" {
		return usageErrorf("--selector: RabbitMQ ignores selectors and would deliver everything")
	}
	if kind == "rabbitmq" && len(o.messageIDs) > 0 {
		return usageErrorf("--message-id: RabbitMQ's message ids are per delivery; use --match on a header of yours")
	}
	if kind == "activemq" && len(o.messageIDs) > 0 {
		var ids []string
		for _, id := range o.messageIDs {
			ids = append(ids, "JMSMessageID = '"+strings.ReplaceAll(id, "'", "''")+"'")
		}
		idSel := strings.Join(ids, " OR ")
		if selector != "" {
			selector = "(" + selector + ") AND (" + idSel + ")"
		} else {
			selector = idSel
		}
	}
	var h protocol.Headers
	h.Add(protocol.HdrAck, protocol.AckClientIndividual)
	prefetch := 1000
	if o.count > 0 && len(o.messageIDs) == 0 && len(matches) == 0 {
		prefetch = min(o.count, 1000)
	}
	if kind != "rabbitmq" {
		h.Add("activemq.prefetchSize", strconv.Itoa(prefetch))
	}
	if kind != "activemq" {
		h.Add("prefetch-count", strconv.Itoa(prefetch))
	}
	if selector != "" {
		h.Add(protocol.HdrSelector, selector)
	}
	if _, err := c.Subscribe(ctx, dest, h); err != nil {
		return err
	}
	wanted := slices.Clone(o.messageIDs)
	settled := int64(0)
	var deadline <-chan time.Time
	if o.timeout > 0 {
		t := time.NewTimer(o.timeout)
		defer t.Stop()
		deadline = t.C
	}
	idle := time.NewTimer(o.idle)
	defer idle.Stop()
	finish := func() error {
		if len(wanted) > 0 {
			return withCode(exitFailed, fmt.Errorf("message-id not found: %s", strings.Join(wanted, ", ")))
		}
		if o.count > 0 && settled < int64(o.count) {
			return withCode(exitTempFail, fmt.Errorf("--count not reached: %d of %d settled", settled, o.count))
		}
		return errStop
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return finish()
		case <-idle.C:
			return finish()
		case m, ok := <-c.Messages():
			if !ok {
				if err := c.Err(); err != nil {
					return err
				}
				return finish()
			}
			idle.Reset(o.idle)
			if !selected(m, o.messageIDs, matches) {
				continue
			}
			if len(o.messageIDs) > 0 {
				i := slices.Index(wanted, m.Header(protocol.HdrMessageID))
				if i < 0 {
					continue // a second delivery of one already settled
				}
				wanted = slices.Delete(wanted, i, i+1)
			}
			var err error
			if nack {
				err = c.Nack(m, "")
			} else {
				err = c.Ack(m, "")
			}
			if err == nil {
				err = c.Flush()
			}
			if err != nil {
				return err
			}
			settled++
			if err := out.write(settled, m.Frame); err == nil {
				err = out.bw.Flush()
			} else if !isClosedPipe(err) {
				return withCode(exitIOErr, err)
			}
			if (o.count > 0 && settled >= int64(o.count)) || (len(o.messageIDs) > 0 && len(wanted) == 0) {
				return errStop
			}
		}
	}
}

// selected reports whether m is one of the messages asked for.
func selected(m *client.Message, ids []string, matches []headerMatch) bool {
	if len(ids) > 0 && !slices.Contains(ids, m.Header(protocol.HdrMessageID)) {
		return false
	}
	for _, hm := range matches {
		if v, ok := m.Lookup(hm.name); !ok || v != hm.value {
			return false
		}
	}
	return true
}
