// Package script is the run and shell commands: steps of STOMP on one
// connection, from a file or a prompt.
package script

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"mvdan.cc/sh/v3/shell"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
	"github.com/stompest/stompest/internal/session"
)

// Options are the argument and flags of run and shell.
type Options struct {
	*cmdutil.Factory

	path      string // run's script, - for stdin
	keepGoing bool
	out       flags.Output
}

// NewRunCmd returns run; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewRunCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "run [FILE|-]",
		Short: "Run a script of STOMP steps on one connection",
		Long: `run executes a script of steps on ONE connection, so that an ACK or NACK can
name a message received earlier, which the one-shot commands cannot do. The
script is FILE, or stdin when FILE is - or missing.

` + stepsHelp() + `

Received messages are printed, in the subscribe output formats, at each
print and at the end. run stops at the first step that fails and exits with
its code (an unmet expect: 1; a script error: 65 with its line); with
--keep-going it runs every step and exits with the first failure's code.`,
		Example: `  printf 'subscribe /queue/a --ack client-individual\nexpect /queue/a count=1\nnack last\n' | stompest run
  stompest run steps.txt -o jsonl
  stompest run --keep-going ci-checks.stomp`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.path = cmdutil.FileArg(args)
			return cmdutil.Run(cmd.Context(), o, runF, o.runScript)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.keepGoing, "keep-going", false, "run every step even after a failure")
	o.out.AddMessages(cmd, "received messages")
	return cmd
}

// runStep is one line of a script.
type runStep struct {
	line  int
	words []string
}

// parseScript splits a script into steps; a line that cannot be split is
// an error naming it.
func parseScript(r io.Reader) ([]runStep, error) {
	var steps []runStep
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), msgio.MaxRecord)
	for n := 1; sc.Scan(); n++ {
		words, err := shell.Fields(sc.Text(), nil)
		if err != nil {
			return nil, cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("run: line %d: %v", n, err))
		}
		if len(words) > 0 {
			steps = append(steps, runStep{n, words})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("run: read the script: %w", err))
	}
	return steps, nil
}

func (o *Options) runScript(ctx context.Context) error {
	in := o.In
	if path := o.path; path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return cmdutil.WithCode(cmdutil.ExitNoInput, fmt.Errorf("run: %w", err))
		}
		defer f.Close()
		in = f
	}
	steps, err := parseScript(in)
	if err != nil {
		return err
	}
	for _, s := range steps {
		if err := checkStep(s); err != nil {
			return err
		}
	}
	out, err := msgio.NewWriter(o.Factory, o.out, []byte("\n"))
	if err != nil {
		return err
	}
	c, err := o.Dial(ctx, "run", false, nil)
	if err != nil {
		return err
	}
	r := &scriptRun{Factory: o.Factory, c: c, out: out, arrived: map[string]int{}, base: map[string]int{}, wake: make(chan struct{}, 1)}
	go r.receive()
	var (
		first     error
		failed    int
		firstLine int
	)
	for _, s := range steps {
		err := r.step(ctx, s)
		if o.Sig.Err() != nil {
			r.print()
			return o.Finish(c, "run", err)
		}
		if err != nil {
			err = fmt.Errorf("run: line %d: %s: %w", s.line, s.words[0], err)
			if !o.keepGoing {
				r.print()
				return o.Finish(c, "run", err)
			}
			o.Warn(cmdutil.OneLine(err.Error()))
			failed++
			if first == nil {
				first, firstLine = err, s.line
			}
		}
	}
	r.print()
	if err := o.Finish(c, "run", nil); err != nil && first == nil {
		return err
	}
	if first != nil { // each failure was reported as it happened
		return cmdutil.WithCode(cmdutil.ExitCode(first), fmt.Errorf("run: %d of %d steps failed, the first at line %d", failed, len(steps), firstLine))
	}
	return nil
}

// checkStep refuses an unknown command before anything runs.
func checkStep(s runStep) error {
	if findStep(s.words[0]) == nil {
		return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("run: line %d: unknown command %q", s.line, s.words[0]))
	}
	return nil
}

// scriptRun is the state of one run: what arrived, on which destination.
type scriptRun struct {
	*cmdutil.Factory
	c   *client.Client
	out *msgio.Writer
	tx  string

	live    func(*client.Message) // called for each message as it arrives
	printMu sync.Mutex            // one print at a time

	mu       sync.Mutex
	settled  map[*client.Message]bool
	received []*client.Message
	printed  int
	arrived  map[string]int // messages per destination subscribed to
	base     map[string]int // arrived at the previous expect
	wake     chan struct{}
	ended    bool
}

// receive files the messages as they arrive.
func (r *scriptRun) receive() {
	for m := range r.c.Messages() {
		r.mu.Lock()
		r.received = append(r.received, m)
		r.arrived[m.Subscription.Destination]++
		r.mu.Unlock()
		if r.live != nil {
			r.live(m)
		}
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// print writes the messages not printed yet.
func (r *scriptRun) print() error {
	r.printMu.Lock()
	defer r.printMu.Unlock()
	r.mu.Lock()
	ms := r.received[r.printed:]
	r.printed = len(r.received)
	r.mu.Unlock()
	for i, m := range ms {
		if err := r.out.Write(int64(r.printed-len(ms)+i+1), m.Frame); err != nil {
			return err
		}
	}
	return r.out.Flush()
}

// stepFlags parses the -H option of a step and the options in allowed
// (NAME VALUE or NAME=VALUE), leaving its other words as arguments.
func stepFlags(words []string, allowed ...string) (args []string, opts map[string]string, headers protocol.Headers, err error) {
	opts = map[string]string{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || w == "-" {
			args = append(args, w)
			continue
		}
		name, value, hasValue := strings.Cut(w, "=")
		if !hasValue {
			if i+1 >= len(words) {
				return nil, nil, nil, fmt.Errorf("%s needs a value", name)
			}
			i++
			value = words[i]
		}
		switch {
		case name == "-H" || name == "--header":
			k, v, ok := strings.Cut(value, ":")
			if !ok || k == "" {
				return nil, nil, nil, fmt.Errorf("-H %q: want NAME:VALUE", value)
			}
			headers.Set(k, v)
		case slices.Contains(allowed, name):
			opts[name] = value
		default:
			return nil, nil, nil, fmt.Errorf("unknown option %s", name)
		}
	}
	return args, opts, headers, nil
}

// step runs one step through the step table.
func (r *scriptRun) step(ctx context.Context, s runStep) error {
	def := findStep(s.words[0])
	if def == nil {
		return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("unknown command"))
	}
	if len(s.words)-1 < def.minArgs || (def.maxArgs >= 0 && len(s.words)-1 > def.maxArgs) {
		return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("want %s", def.usage))
	}
	return def.run(r, ctx, s.words[1:])
}

func (r *scriptRun) subscribe(ctx context.Context, words []string) error {
	args, opts, headers, err := stepFlags(words, "--ack", "--id")
	if err == nil && len(args) != 1 {
		err = errors.New("one destination")
	}
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("want %s: %v", subscribeUsage, err))
	}
	if ack := opts["--ack"]; ack != "" {
		headers.Set(protocol.HdrAck, ack)
	}
	if id := opts["--id"]; id != "" {
		headers.Set(protocol.HdrID, id)
	}
	_, err = r.c.Subscribe(ctx, args[0], headers)
	return err
}

func (r *scriptRun) unsubscribe(_ context.Context, args []string) error {
	return r.c.Unsubscribe(args[0], nil)
}

func (r *scriptRun) send(ctx context.Context, words []string) error {
	args, _, headers, err := stepFlags(words)
	if err == nil && len(args) != 2 {
		err = fmt.Errorf("%d words where DEST and BODY were expected (quote a body with spaces)", len(args))
	}
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("want %s: %v", sendUsage, err))
	}
	rc, err := r.c.Send(args[0], []byte(args[1]), client.SendOptions{Headers: headers, Transaction: r.tx, Receipt: r.tx == ""})
	if err == nil {
		err = r.c.Flush()
	}
	if err == nil && rc != nil {
		err = r.c.WaitReceipt(ctx, rc)
	}
	return err
}

func (r *scriptRun) ack(_ context.Context, args []string) error  { return r.settle(args[0], false) }
func (r *scriptRun) nack(_ context.Context, args []string) error { return r.settle(args[0], true) }

// settle acks or nacks the received message id ("last": the latest).
func (r *scriptRun) settle(id string, nack bool) error {
	m, err := r.find(id)
	if err != nil {
		return err
	}
	if nack {
		err = r.c.Nack(m, r.tx)
	} else {
		err = r.c.Ack(m, r.tx)
	}
	if errors.Is(err, session.ErrUnknownSubscription) {
		// Refused here: ActiveMQ would answer it with an ERROR.
		return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("message %s: its subscription was unsubscribed", m.Header(protocol.HdrMessageID)))
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	if r.settled == nil {
		r.settled = map[*client.Message]bool{}
	}
	r.settled[m] = true
	r.mu.Unlock()
	return r.c.Flush()
}

func (r *scriptRun) begin(_ context.Context, args []string) error {
	if r.tx != "" {
		return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("transaction %s is still open", r.tx))
	}
	tx, err := r.c.Begin(strings.Join(args, ""))
	r.tx = tx
	if err == nil {
		err = r.c.Flush()
	}
	return err
}

func (r *scriptRun) commit(ctx context.Context, args []string) error { return r.end(ctx, args, true) }
func (r *scriptRun) abort(ctx context.Context, args []string) error  { return r.end(ctx, args, false) }

// end commits or aborts the named transaction, else the open one.
func (r *scriptRun) end(ctx context.Context, args []string, commit bool) error {
	tx := r.tx
	if len(args) == 1 {
		tx = args[0]
	}
	if tx == "" {
		return cmdutil.WithCode(cmdutil.ExitDataErr, errors.New("no open transaction"))
	}
	var err error
	if commit {
		err = r.c.Commit(ctx, tx)
	} else if err = r.c.Abort(tx); err == nil {
		err = r.c.Flush()
	}
	if tx == r.tx {
		r.tx = ""
	}
	return err
}

func (r *scriptRun) sleep(ctx context.Context, args []string) error {
	d, err := time.ParseDuration(args[0])
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("sleep %q: want a duration such as 500ms", args[0]))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// find returns the received message with message-id id, or the latest
// one for "last".
func (r *scriptRun) find(id string) (*client.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id == "last" {
		if len(r.received) == 0 {
			return nil, cmdutil.WithCode(cmdutil.ExitFailed, errors.New("no message received yet"))
		}
		return r.received[len(r.received)-1], nil
	}
	for i := len(r.received) - 1; i >= 0; i-- {
		if m := r.received[i]; m.Header(protocol.HdrMessageID) == id || m.Header(protocol.HdrAck) == id {
			return m, nil
		}
	}
	return nil, cmdutil.WithCode(cmdutil.ExitFailed, fmt.Errorf("no message %q received", id))
}

// expect waits until count messages arrived on subscriptions to dest since
// the previous expect for dest.
func (r *scriptRun) expect(ctx context.Context, words []string) error {
	dest := words[0]
	count, timeout := -1, 5*time.Second
	for _, w := range words[1:] {
		k, v, _ := strings.Cut(w, "=")
		var err error
		switch k {
		case "count":
			count, err = strconv.Atoi(v)
		case "timeout":
			timeout, err = time.ParseDuration(v)
		default:
			err = fmt.Errorf("unknown %q", w)
		}
		if err != nil {
			return cmdutil.WithCode(cmdutil.ExitDataErr, fmt.Errorf("want expect DEST count=N [timeout=D]: %v", err))
		}
	}
	if count < 0 {
		return cmdutil.WithCode(cmdutil.ExitDataErr, errors.New("want expect DEST count=N [timeout=D]"))
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		r.mu.Lock()
		got, ended := r.arrived[dest]-r.base[dest], r.ended
		if got >= count {
			r.base[dest] = r.arrived[dest]
		}
		r.mu.Unlock()
		if got >= count {
			return nil
		}
		if ended {
			return fmt.Errorf("%d of %d messages on %s, then the connection ended: %v", got, count, dest, r.c.Err())
		}
		select {
		case <-r.wake:
		case <-t.C:
			return cmdutil.WithCode(cmdutil.ExitFailed, fmt.Errorf("%d of %d messages on %s within %v", got, count, dest, timeout))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
