// Package reqrep is the request and reply commands.
package reqrep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/handler"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

const (
	hdrReplyTo       = "reply-to"
	hdrCorrelationID = "correlation-id"
)

// RequestOptions are the arguments and flags of request.
type RequestOptions struct {
	*cmdutil.Factory

	dest    string
	body    []byte // the BODY argument; nil: read stdin
	replyTo string
	replies int
	timeout time.Duration
	headers []string
	out     flags.Output
}

// NewRequestCmd returns request; runF, when not nil, runs instead of the
// command (tests check the parsed options with it).
func NewRequestCmd(f *cmdutil.Factory, runF func(context.Context, *RequestOptions) error) *cobra.Command {
	o := &RequestOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "request DEST [BODY]",
		Short: "Send a request and print the replies to it",
		Long: `request sends BODY (else stdin) to DEST with a reply-to header and a new
correlation-id, and prints the replies that carry that correlation-id, in
the subscribe output formats. It exits 0 once --replies replies came and 75
when they did not within --timeout (after printing those that came).

The reply destination is --reply-to, else a temporary queue of this
connection (/temp-queue/stompest-...), set up the way each broker wants it:
RabbitMQ creates the subscription itself when it sees the reply-to header,
ActiveMQ and the embedded broker get a SUBSCRIBE first.`,
		Example: `  stompest request /queue/rpc '{"op": "ping"}'
  stompest request /queue/rpc --replies 3 --timeout 5s -o jsonl < query.json
  stompest reply /queue/rpc --exec 'tr a-z A-Z' & stompest request /queue/rpc hello`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dest = args[0]
			if len(args) == 2 {
				o.body = []byte(args[1])
			}
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.replyTo, "reply-to", "", "reply destination (default: a temporary queue)")
	fs.IntVar(&o.replies, "replies", 1, "replies to wait for")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "wait this long for the replies")
	flags.Headers(cmd, &o.headers, "header `K:V` of the request (repeatable)")
	o.out.AddMessages(cmd, "each reply")
	return cmd
}

func newCorrelationID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (o *RequestOptions) run(ctx context.Context) error {
	if o.replies < 1 || o.timeout <= 0 {
		return cmdutil.UsageErrorf("--replies must be 1 or more and --timeout positive")
	}
	headers, err := cmdutil.ParseHeaderFlags(o.headers)
	if err != nil {
		return err
	}
	body := o.body
	if body == nil {
		body, err = io.ReadAll(o.In)
	}
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("request: read stdin: %w", err))
	}
	out, err := msgio.NewWriter(o.Factory, o.out, []byte("\n"))
	if err != nil {
		return err
	}
	c, err := o.Dial(ctx, "request", false, nil)
	if err != nil {
		return err
	}
	got, err := o.request(ctx, c, o.dest, body, headers, out)
	if err != nil && !cmdutil.IsInterrupt(err) {
		err = fmt.Errorf("request: %w", err)
	}
	if err := o.Finish(c, "request", err); err != nil {
		return err
	}
	if got < o.replies {
		return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("request: %d of %d replies within %v", got, o.replies, o.timeout))
	}
	return nil
}

// request sets up the reply destination, sends the request and prints the
// replies; it returns how many came.
func (o *RequestOptions) request(ctx context.Context, c *client.Client, dest string, body []byte, headers protocol.Headers, out *msgio.Writer) (int, error) {
	replyTo := o.replyTo
	if replyTo == "" {
		replyTo = "/temp-queue/stompest-" + newCorrelationID()[:12]
	}
	if cmdutil.KindOf(c).CreatesTempQueueSubscription() && strings.HasPrefix(replyTo, "/temp-queue/") {
		if err := c.Expect(replyTo); err != nil {
			return 0, err
		}
	} else if _, err := c.Subscribe(ctx, replyTo, protocol.Headers{{Name: protocol.HdrAck, Value: protocol.AckAuto}}); err != nil {
		return 0, err
	}
	corr := newCorrelationID()
	headers = append(headers, protocol.Header{Name: hdrReplyTo, Value: replyTo}, protocol.Header{Name: hdrCorrelationID, Value: corr})
	r, err := c.Send(dest, body, client.SendOptions{Headers: headers, Receipt: true})
	if err != nil {
		return 0, err
	}
	if err := c.Flush(); err != nil {
		return 0, err
	}
	if err := c.WaitReceipt(ctx, r); err != nil {
		return 0, err
	}
	timer := time.NewTimer(o.timeout)
	defer timer.Stop()
	got := 0
	for got < o.replies {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				return got, c.Err()
			}
			if m.Header(hdrCorrelationID) != corr {
				continue // a late reply to an earlier request
			}
			got++
			if err := out.Write(int64(got), m.Frame); err != nil {
				return got, err
			}
			if err := out.Flush(); err != nil {
				return got, err
			}
		case <-timer.C:
			return got, nil
		case <-ctx.Done():
			return got, nil
		}
	}
	return got, nil
}

// ReplyOptions are the argument and flags of reply.
type ReplyOptions struct {
	*cmdutil.Factory

	dest        string
	exec        string
	echo        bool
	count       int
	concurrency int
	timeout     time.Duration
}

// NewReplyCmd returns reply; runF, when not nil, runs instead of the
// command (tests check the parsed options with it).
func NewReplyCmd(f *cmdutil.Factory, runF func(context.Context, *ReplyOptions) error) *cobra.Command {
	o := &ReplyOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "reply DEST",
		Short: "Answer requests: run a command for each and send its output back",
		Long: `reply takes requests from DEST and answers each on its reply-to destination
with the same correlation-id: the body is what --exec CMD writes on stdout
(it gets the request body on stdin and its headers in STOMP_* variables, as
subscribe --exec), or the request body itself with --echo. A request is
acknowledged once its reply was sent. A handler that fails (non-zero exit,
signal, --exec-timeout) sends no reply; reply then stops and exits 1, and the
request stays unacknowledged for the broker to deliver again. A request
without reply-to is acknowledged and skipped with a warning.`,
		Example: `  stompest reply /queue/rpc --exec 'jq .n+1'
  stompest reply /queue/echo --echo --count 10
  stompest reply /queue/rpc --exec ./handler.sh --concurrency 4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dest = args[0]
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.exec, "exec", "", "answer with the stdout of `CMD` (request body on stdin)")
	fs.BoolVar(&o.echo, "echo", false, "answer with the request body")
	fs.IntVar(&o.count, "count", 0, "stop after answering N requests (0: no limit)")
	fs.IntVar(&o.concurrency, "concurrency", 1, "handlers at once")
	fs.DurationVar(&o.timeout, "exec-timeout", 0, "kill a handler that runs longer (0: no limit)")
	return cmd
}

func (o *ReplyOptions) run(ctx context.Context) error {
	dest := o.dest
	if (o.exec == "") == !o.echo {
		return cmdutil.UsageErrorf("reply: give one of --exec CMD and --echo")
	}
	if o.count < 0 || o.concurrency < 1 {
		return cmdutil.UsageErrorf("--count must not be negative and --concurrency must be 1 or more")
	}
	c, err := o.Dial(ctx, "reply", true, nil)
	if err != nil {
		return err
	}
	prefetch := o.concurrency
	if o.count > 0 {
		prefetch = min(o.count, o.concurrency)
	}
	h := protocol.Headers{{Name: protocol.HdrAck, Value: protocol.AckClientIndividual}}
	cmdutil.KindOf(c).Prefetch(&h, prefetch)
	if _, err := c.Subscribe(ctx, dest, h); err != nil {
		return o.Finish(c, "reply", fmt.Errorf("reply: %w", err))
	}
	return o.Finish(c, "reply", o.serveReplies(ctx, c))
}

// serveReplies answers requests until --count, a failure or ctx's end,
// with at most --concurrency handlers at once.
func (o *ReplyOptions) serveReplies(ctx context.Context, c *client.Client) error {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		failure error
	)
	slots := make(chan struct{}, o.concurrency)
	stop := make(chan struct{})
	var stopOnce sync.Once
	fail := func(err error) {
		mu.Lock()
		if failure == nil {
			failure = err
		}
		mu.Unlock()
		stopOnce.Do(func() { close(stop) })
	}
	taken := 0
loop:
	for o.count == 0 || taken < o.count {
		select {
		case slots <- struct{}{}:
		case <-stop:
			break loop
		case <-ctx.Done():
			break loop
		}
		var m *client.Message
		select {
		case m = <-c.Messages():
		case <-stop:
			<-slots
			break loop
		case <-ctx.Done():
			<-slots
			break loop
		}
		if m == nil {
			<-slots
			if err := c.Err(); err != nil {
				fail(fmt.Errorf("reply: %w", err))
			}
			break
		}
		taken++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := o.answer(ctx, c, m); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	return failure
}

// answer runs the handler of one request, sends its reply and acknowledges
// the request.
func (o *ReplyOptions) answer(ctx context.Context, c *client.Client, m *client.Message) error {
	id := m.Header(protocol.HdrMessageID)
	to := m.Header(hdrReplyTo)
	if to == "" {
		o.Warn(fmt.Sprintf("warning: request %s has no reply-to header: acknowledged, not answered", id))
		return ack(c, m)
	}
	body := m.Body
	if o.exec != "" {
		out, err := handler.Run(ctx, o.exec, m, o.timeout, o.ErrOut)
		if err != nil {
			return cmdutil.WithCode(cmdutil.ExitFailed, fmt.Errorf("reply: request %s: %w (not answered, left for redelivery)", id, err))
		}
		body = out
	}
	var h protocol.Headers
	if corr, ok := m.Headers.Get(hdrCorrelationID); ok {
		h = append(h, protocol.Header{Name: hdrCorrelationID, Value: corr})
	}
	r, err := c.Send(to, body, client.SendOptions{Headers: h, Receipt: true})
	if err == nil {
		err = c.Flush()
	}
	if err == nil {
		err = c.WaitReceipt(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("reply: request %s: send the reply to %s: %w", id, to, err)
	}
	if err := ack(c, m); err != nil {
		return fmt.Errorf("reply: request %s: %w", id, err)
	}
	return nil
}

// ack acknowledges the request m. A request that came on a connection
// lost since (a failover reconnect) cannot be acknowledged: the broker
// delivers it again, and it is answered again (at-least-once), so that is
// no failure.
func ack(c *client.Client, m *client.Message) error {
	err := c.Ack(m, "")
	if err == nil {
		err = c.Flush()
	}
	if errors.Is(err, client.ErrStaleMessage) || errors.Is(err, client.ErrConnectionLost) {
		return nil
	}
	return err
}
