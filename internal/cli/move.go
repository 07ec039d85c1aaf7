package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// moveOptions are the flags of move.
type moveOptions struct {
	count       int
	all         bool
	selector    string
	idle        time.Duration
	keepHeaders bool
}

func (a *app) newMoveCmd() *cobra.Command {
	var o moveOptions
	cmd := &cobra.Command{
		Use:   "move SRC DEST",
		Short: "Move messages from one destination to another, each in a transaction",
		Long: `move takes messages from SRC and sends them to DEST, one transaction per
message: BEGIN, SEND to DEST (the body and the sender's headers; the
broker-managed ones are dropped unless --keep-headers), ACK from SRC,
COMMIT with a receipt. Interrupted at any point, no message is lost: an
aborted or unfinished transaction leaves the message in SRC. A duplicate is
possible only when the link drops after COMMIT was sent and before its
receipt came; move then says so and exits 75. The operator's tool for
replaying a dead-letter queue.`,
		Example: `  stompest move ActiveMQ.DLQ /queue/orders --all
  stompest move /queue/failed /queue/retry --count 10 --selector "reason = 'timeout'"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runMove(cmd.Context(), args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.count, "count", "n", 0, "move `N` messages")
	f.BoolVar(&o.all, "all", false, "move every message until --idle passes without one")
	f.StringVar(&o.selector, "selector", "", "move only the messages the broker's selector picks")
	f.DurationVar(&o.idle, "idle", time.Second, "stop when no message came for this long")
	f.BoolVar(&o.keepHeaders, "keep-headers", false, "keep broker-managed headers (message-id, subscription, ...)")
	return cmd
}

func (a *app) runMove(ctx context.Context, src, dest string, o moveOptions) error {
	switch {
	case o.count < 0:
		return usageErrorf("--count %d: want 1 or more", o.count)
	case o.count == 0 && !o.all:
		return usageErrorf("move: say how many: --count N or --all")
	case o.count > 0 && o.all:
		return usageErrorf("--all and --count exclude one another")
	case o.idle <= 0:
		return usageErrorf("--idle must be positive")
	case src == dest:
		return usageErrorf("move: SRC and DEST are the same")
	}
	c, err := a.dial(ctx, "move", false, nil)
	if err != nil {
		return err
	}
	moved, err := a.move(ctx, c, src, dest, o)
	if errors.Is(err, errStop) {
		err = nil
	}
	if err != nil && !isInterrupt(err) {
		err = fmt.Errorf("move: %w (%d moved before)", err, moved)
	}
	err = a.finish(c, "move", err)
	a.note(fmt.Sprintf("moved %d messages from %s to %s", moved, src, dest))
	if err != nil {
		return err
	}
	if o.count > 0 && moved < o.count {
		return withCode(exitTempFail, fmt.Errorf("move: --count not reached: %d of %d moved", moved, o.count))
	}
	return nil
}

// move moves messages one transaction at a time and returns how many.
func (a *app) move(ctx context.Context, c *client.Client, src, dest string, o moveOptions) (int, error) {
	server, _ := c.Server()
	kind := brokerKind(server)
	if o.selector != "" && kind == "rabbitmq" {
		return 0, usageErrorf("--selector: RabbitMQ ignores selectors and would move everything")
	}
	var h protocol.Headers
	h.Add(protocol.HdrAck, protocol.AckClientIndividual)
	if kind != "rabbitmq" {
		h.Add("activemq.prefetchSize", "1")
	}
	if kind != "activemq" {
		h.Add("prefetch-count", "1")
	}
	if o.selector != "" {
		h.Add(protocol.HdrSelector, o.selector)
	}
	if _, err := c.Subscribe(ctx, src, h); err != nil {
		return 0, err
	}
	moved := 0
	idle := time.NewTimer(o.idle)
	defer idle.Stop()
	for o.count == 0 || moved < o.count {
		select {
		case <-ctx.Done():
			return moved, ctx.Err()
		case <-idle.C:
			return moved, errStop
		case m, ok := <-c.Messages():
			if !ok {
				return moved, c.Err()
			}
			if err := a.moveOne(ctx, c, m, dest, o.keepHeaders); err != nil {
				return moved, err
			}
			moved++
			idle.Reset(o.idle)
		}
	}
	return moved, nil
}

// moveOne moves one message in its own transaction.
func (a *app) moveOne(ctx context.Context, c *client.Client, m *client.Message, dest string, keep bool) error {
	headers := make(protocol.Headers, 0, len(m.Headers))
	for _, x := range m.Headers {
		if (keep || !brokerHeaders[x.Name]) && !frameHeaders[x.Name] {
			headers = append(headers, x)
		}
	}
	_, err := inTransaction(ctx, c, nil, func(tx string) error {
		if _, err := c.Send(dest, m.Body, client.SendOptions{Headers: headers, Transaction: tx}); err != nil {
			return err
		}
		return c.Ack(m, tx)
	})
	var ce *commitError
	if errors.As(err, &ce) {
		return withCode(exitTempFail, fmt.Errorf("message %s: COMMIT sent but not confirmed (%v): it may now be in both destinations",
			m.Header(protocol.HdrMessageID), ce.err))
	}
	if err != nil {
		return fmt.Errorf("message %s: %w (transaction aborted: it stays in the source)", m.Header(protocol.HdrMessageID), err)
	}
	return nil
}
