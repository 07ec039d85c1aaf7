// Package transaction is the transaction command.
package transaction

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// Options are the argument and flags of transaction.
type Options struct {
	*cmdutil.Factory

	path        string // the JSON Lines file, - for stdin
	output      string
	keepHeaders bool
	wait        time.Duration
}

// txOp is one validated operation of a transaction.
type txOp struct {
	line    int
	op      string // send, ack or nack
	dest    string
	headers protocol.Headers
	body    []byte
	count   int
}

// NewCmd returns transaction; runF, when not nil, runs instead of the
// command (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:     "transaction [FILE|-]",
		Aliases: []string{"tx"},
		Short:   "Run a JSON Lines batch of sends and acks in one transaction",
		Long: `transaction reads JSON Lines (FILE, or stdin when it is - or absent): each
line a message to send ({"destination": ..., "body": ..., "headers": {...}},
"op" "send" being the default) or a settlement {"op": "ack" or "nack",
"destination": D, "count": N} of the next N messages of D. The whole input is
validated first: a bad line exits 65 and nothing is sent. Then BEGIN, every
operation inside the transaction, and COMMIT with a receipt. Any error,
ERROR frame or signal aborts the transaction, and the report says so.`,
		Example: `  stompest transaction batch.jsonl
  printf '%s\n' '{"destination":"/queue/a","body":"one"}' '{"op":"ack","destination":"/queue/in","count":1}' | stompest tx`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.path = cmdutil.FileArg(args)
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	fs := cmd.Flags()
	flags.Enum(cmd, &o.output, "output", "o", "text", []string{"text", "json"}, "report: text or json")
	fs.BoolVar(&o.keepHeaders, "keep-headers", false, "keep broker-managed headers of the records")
	fs.DurationVar(&o.wait, "wait", 5*time.Second, "how long an ack or nack waits for its messages")
	return cmd
}

// readTxOps reads and validates every line before anything is sent.
func (o *Options) readTxOps(path string, keep bool) ([]txOp, error) {
	var in io.Reader = o.In
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, cmdutil.WithCode(cmdutil.ExitNoInput, fmt.Errorf("transaction: %w", err))
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 64<<10)
	var ops []txOp
	for line := 1; ; line++ {
		text, err := br.ReadBytes('\n')
		if len(text) > msgio.MaxRecord {
			return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("transaction: line %d: record larger than %d bytes", line, msgio.MaxRecord))
		}
		if t := bytes.TrimSpace(text); len(t) > 0 {
			op, verr := parseTxOp(line, t, keep)
			if verr != nil {
				return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("transaction: line %d: %v (nothing was sent)", line, verr))
			}
			ops = append(ops, op)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("transaction: read: %w", err))
		}
	}
	if len(ops) == 0 {
		return nil, cmdutil.WithCode(cmdutil.ExitDataErr, errors.New("transaction: no operation in the input"))
	}
	return ops, nil
}

func parseTxOp(line int, text []byte, keep bool) (txOp, error) {
	r, err := msgio.DecodeRecord(text)
	if err != nil {
		return txOp{}, err
	}
	op := txOp{line: line, op: r.Op, dest: r.Destination}
	if op.op == "" {
		op.op = "send"
	}
	if op.dest == "" {
		return op, errors.New("no destination")
	}
	switch op.op {
	case "send":
		if r.Count != 0 {
			return op, errors.New("count belongs to ack and nack")
		}
		if op.body, err = r.Bytes(); err != nil {
			return op, err
		}
		op.headers = r.HeaderList(keep)
		op.headers.Del(protocol.HdrDestination)
		op.headers.Del(protocol.HdrContentLength)
	case "ack", "nack":
		if r.Count < 1 {
			return op, fmt.Errorf("%s needs a count of 1 or more", op.op)
		}
		if r.Body != "" || len(r.Headers) > 0 {
			return op, fmt.Errorf("%s takes destination and count only", op.op)
		}
		op.count = r.Count
	default:
		return op, fmt.Errorf("op %q: want send, ack or nack", r.Op)
	}
	return op, nil
}

// txReport is the JSON report of a transaction.
type txReport struct {
	Transaction string `json:"transaction"`
	Committed   bool   `json:"committed"`
	Operations  int    `json:"operations"`
	Sent        int    `json:"sent"`
	Acked       int    `json:"acked"`
	Nacked      int    `json:"nacked"`
	Error       string `json:"error,omitempty"`
}

func (o *Options) run(ctx context.Context) error {
	ops, err := o.readTxOps(o.path, o.keepHeaders)
	if err != nil {
		return err
	}
	c, err := o.Dial(ctx, "transaction", false, nil)
	if err != nil {
		return err
	}
	rep, err := o.transact(ctx, c, ops)
	var ce *cmdutil.CommitError
	if e := o.Sig.Err(); e != nil && !rep.Committed && !errors.As(err, &ce) {
		err = e
	}
	if err != nil {
		rep.Error = cmdutil.OneLine(err.Error())
		o.printTxReport(rep)
		o.Disconnect(c)
		if _, ok := err.(*cmdutil.Interrupted); ok {
			o.Warn(fmt.Sprintf("%v: transaction aborted: nothing of it was committed (%d of %d operations done)", err, rep.Operations, len(ops)))
			return err
		}
		if errors.As(err, &ce) {
			if e := o.Sig.Err(); e != nil {
				// The COMMIT left: the broker may have committed it.
				return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("transaction: %v after the COMMIT was sent, before its receipt came: outcome unknown, it may or may not have taken effect", e))
			}
			return fmt.Errorf("transaction: %w (the COMMIT was sent but not confirmed: outcome unknown, it may or may not have taken effect)", err)
		}
		return fmt.Errorf("transaction: %w (aborted: nothing of it was committed)", err)
	}
	o.printTxReport(rep)
	if err := o.Finish(c, "transaction", nil); err != nil {
		return fmt.Errorf("transaction: committed, then: %w", err)
	}
	return nil
}

// transact runs ops in one transaction; on any error it aborts.
func (o *Options) transact(ctx context.Context, c *client.Client, ops []txOp) (rep txReport, err error) {
	subs := map[string]bool{}
	rep.Committed, err = o.InTransaction(ctx, c, func(tx string) { rep.Transaction = tx }, func(tx string) error {
		for _, op := range ops {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := o.txOp(ctx, c, op, tx, subs, &rep); err != nil {
				return fmt.Errorf("line %d: %w", op.line, err)
			}
			rep.Operations++
		}
		return nil
	})
	return rep, err
}

// txOp runs one operation inside tx; subs are the destinations subscribed
// to so far.
func (o *Options) txOp(ctx context.Context, c *client.Client, op txOp, tx string, subs map[string]bool, rep *txReport) error {
	if op.op == "send" {
		if _, err := c.Send(op.dest, op.body, client.SendOptions{Headers: op.headers, Transaction: tx}); err != nil {
			return err
		}
		rep.Sent++
		return nil
	}
	if err := c.Flush(); err != nil {
		return err
	}
	if !subs[op.dest] {
		var h protocol.Headers
		h.Add(protocol.HdrAck, protocol.AckClientIndividual)
		cmdutil.KindOf(c).Prefetch(&h, op.count)
		if _, err := c.Subscribe(ctx, op.dest, h); err != nil {
			return err
		}
		subs[op.dest] = true
	}
	n, err := o.settleInTx(ctx, c, op, tx, o.wait)
	if op.op == "ack" {
		rep.Acked += n
	} else {
		rep.Nacked += n
	}
	return err
}

// settleInTx acks or nacks the next op.count messages of op.dest inside tx.
func (o *Options) settleInTx(ctx context.Context, c *client.Client, op txOp, tx string, wait time.Duration) (int, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	n := 0
	for n < op.count {
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-t.C:
			return n, cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("%s %s: %d of %d messages came within --wait %v", op.op, op.dest, n, op.count, wait))
		case m, ok := <-c.Messages():
			if !ok {
				return n, c.Err()
			}
			if m.Subscription.Destination != op.dest {
				continue
			}
			var err error
			if op.op == "ack" {
				err = c.Ack(m, tx)
			} else {
				err = c.Nack(m, tx)
			}
			if err != nil {
				return n, err
			}
			n++
		}
	}
	return n, c.Flush()
}

func (o *Options) printTxReport(rep txReport) {
	if o.output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetEscapeHTML(false)
		enc.Encode(rep)
		return
	}
	if rep.Committed {
		o.Note(fmt.Sprintf("committed %d operations (%d sent, %d acked, %d nacked)", rep.Operations, rep.Sent, rep.Acked, rep.Nacked))
	}
}
