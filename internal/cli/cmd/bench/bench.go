// Package bench is the bench command: throughput and latency against a
// broker.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// benchStamp is the header that carries a message's send time, in Unix
// nanoseconds: producers and consumers share one process and one clock.
const benchStamp = "stompest-bench-sent"

// Options are the argument and flags of bench.
type Options struct {
	*cmdutil.Factory

	dest       string
	messages   int
	size       int
	producers  int
	consumers  int
	ack        string
	persistent bool
	receipt    string
	txBatch    int
	rate       string
	duration   time.Duration
	embedded   bool
	output     string
}

// NewCmd returns bench; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "bench DEST",
		Short: "Measure throughput and latency against a broker",
		Long: `bench runs producers and consumers on DEST in this process and reports, per
role, messages per second and MB/s, and the end-to-end latency of each
message (p50, p90, p99, p99.9, max) from a send timestamp it carries in the
` + benchStamp + ` header.

Consumers subscribe first; producers then share --count between them
(or send until --duration is over). On a queue the consumers share the
messages; on a /topic/ each consumer receives all of them. --embedded
starts an in-memory broker in this process and ignores --server.

A progress bar is shown on a terminal only; -o json prints one object for
CI regression gates.`,
		Example: `  stompest bench /queue/bench --embedded
  stompest bench /queue/bench --count 1000000 --size 100 --producers 2 --consumers 2
  stompest bench /queue/bench --ack client-individual --receipt each --persistent
  stompest bench /topic/prices --consumers 4 --rate 10000/s --duration 30s
  stompest bench /queue/ci --embedded -o json | jq '.consumers.msgs_per_sec > 500000'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("messages") {
				o.Warn("warning: --messages is deprecated: use --count, as every other command does")
			}
			o.dest = args[0]
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	fs := cmd.Flags()
	fs.IntVarP(&o.messages, "count", "n", 100000, "messages to send in all (with --duration: no limit)")
	fs.IntVar(&o.messages, "messages", 100000, "the old name of --count")
	fs.MarkHidden("messages")
	fs.IntVar(&o.size, "size", 100, "body size in bytes")
	fs.IntVar(&o.producers, "producers", 1, "producer connections")
	fs.IntVar(&o.consumers, "consumers", 1, "consumer connections")
	flags.Enum(cmd, &o.ack, "ack", "", protocol.AckAuto, []string{protocol.AckAuto, protocol.AckClientIndividual}, "consumers' ack mode: auto or client-individual")
	fs.BoolVar(&o.persistent, "persistent", false, "send persistent:true")
	flags.Enum(cmd, &o.receipt, "receipt", "", "last", flags.ReceiptModes, "producers' receipts: each, last or none")
	fs.IntVar(&o.txBatch, "transaction-batch", 0, "send in transactions of `N` messages (0: none)")
	fs.StringVar(&o.rate, "rate", "", "at most `N/s` messages per second in all")
	fs.DurationVar(&o.duration, "duration", 0, "send for this long instead of --count")
	fs.BoolVar(&o.embedded, "embedded", false, "start an in-memory broker in this process and use it")
	flags.Enum(cmd, &o.output, "output", "o", "text", []string{"text", "json"}, "report: text or json")
	return cmd
}

// benchRole is the report of the producers or of the consumers.
type benchRole struct {
	Count      int     `json:"count"`
	Messages   int64   `json:"messages"`
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
}

// benchLatency are end-to-end latencies in milliseconds.
type benchLatency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p99_9_ms"`
	Max  float64 `json:"max_ms"`
}

type benchReport struct {
	Destination string       `json:"destination"`
	Server      string       `json:"server"`
	Size        int          `json:"size"`
	Producers   benchRole    `json:"producers"`
	Consumers   benchRole    `json:"consumers"`
	Latency     benchLatency `json:"latency"`
}

func (o *Options) run(ctx context.Context) error {
	cmdutil.DefaultRuntime(false)
	dest := o.dest
	switch {
	case o.producers < 1 || o.consumers < 0 || o.size < 0 || o.txBatch < 0 || o.duration < 0:
		return cmdutil.UsageErrorf("--producers must be 1 or more; --consumers, --size, --transaction-batch and --duration not negative")
	case o.duration == 0 && o.messages < 1:
		return cmdutil.UsageErrorf("--messages %d: want 1 or more", o.messages)
	}
	limiter, err := cmdutil.ParseRate(o.rate, 0)
	if err != nil {
		return err
	}
	if limiter != nil {
		limiter.SetBurst(max(1, int(limiter.Limit()/100)))
	}
	var embedded *failover.URI // --embedded: the broker's own address
	if o.embedded {
		b := broker.New(broker.Config{Addr: "127.0.0.1:0"})
		if err := b.Start(); err != nil {
			return cmdutil.WithCode(cmdutil.ExitUnavailable, fmt.Errorf("bench: embedded broker: %w", err))
		}
		defer b.Close()
		if embedded, err = failover.Parse("tcp://" + b.Addr()); err != nil {
			return cmdutil.WithCode(cmdutil.ExitSoftware, err)
		}
	}
	r := &benchRun{Factory: o.Factory, o: o, server: embedded, dest: dest, limiter: limiter, body: make([]byte, o.size)}
	for i := range r.body {
		r.body[i] = 'x'
	}
	err = r.run(ctx)
	if e := o.Sig.Err(); e != nil {
		return e
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	rep := r.report()
	if o.output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	o.printBench(rep)
	return nil
}

// benchRun is one run of the bench command.
type benchRun struct {
	*cmdutil.Factory
	o       *Options
	server  *failover.URI // the broker under test when not --server's
	dest    string
	limiter *rate.Limiter
	body    []byte

	sent     atomic.Int64
	received atomic.Int64
	sendDone atomic.Bool // every producer has finished
	prodTime time.Duration
	consTime time.Duration

	mu        sync.Mutex
	latencies []int64 // nanoseconds
}

// dial connects to the broker under test.
func (r *benchRun) dial(ctx context.Context) (*client.Client, error) {
	cfg, err := r.ClientConfig(false, nil)
	if err != nil {
		return nil, err
	}
	if r.server != nil {
		cfg.URI = r.server
	}
	return r.Connect(ctx, "bench", cfg)
}

func (r *benchRun) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var consumers []*client.Client
	defer func() {
		for _, c := range consumers {
			c.Close()
		}
	}()
	// Consumers subscribe before anything is sent.
	for range r.o.consumers {
		c, err := r.dial(ctx)
		if err != nil {
			return err
		}
		consumers = append(consumers, c)
		var h protocol.Headers
		h.Add(protocol.HdrAck, r.o.ack)
		if r.o.ack != protocol.AckAuto {
			cmdutil.KindOf(c).Prefetch(&h, 1000)
		}
		if _, err := c.Subscribe(ctx, r.dest, h); err != nil {
			return err
		}
	}
	bar := r.progress()
	start := time.Now()
	var cwg sync.WaitGroup
	var consErr error
	var consOnce sync.Once
	topic := strings.HasPrefix(r.dest, "/topic/")
	var got atomic.Int64 // messages the consumers took, all together (queue) or the slowest (topic)
	for _, c := range consumers {
		cwg.Add(1)
		go func(c *client.Client) {
			defer cwg.Done()
			if err := r.consume(ctx, c, topic, &got, bar); err != nil {
				consOnce.Do(func() { consErr = err })
				cancel(err)
			}
		}(c)
	}
	var pwg sync.WaitGroup
	var prodErr error
	var prodOnce sync.Once
	share := r.o.messages / r.o.producers
	for i := range r.o.producers {
		n := share
		if i < r.o.messages%r.o.producers {
			n++
		}
		pwg.Add(1)
		go func(n int) {
			defer pwg.Done()
			if err := r.produce(ctx, n, bar); err != nil {
				prodOnce.Do(func() { prodErr = err })
				cancel(err)
			}
		}(n)
	}
	pwg.Wait()
	r.prodTime = time.Since(start)
	r.sendDone.Store(true)
	if prodErr != nil {
		return prodErr
	}
	done := make(chan struct{})
	go func() { cwg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		<-done
	}
	r.consTime = time.Since(start)
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(r.ErrOut)
	}
	if consErr != nil {
		return consErr
	}
	return context.Cause(ctx)
}

// progress returns a bar on a terminal, else nil.
func (r *benchRun) progress() *progressbar.ProgressBar {
	if !r.ErrTTY || r.o.output == "json" || r.Opts.Quiet {
		return nil
	}
	total := int64(r.o.messages) * int64(1+min(r.o.consumers, 1))
	if strings.HasPrefix(r.dest, "/topic/") {
		total = int64(r.o.messages) * int64(1+r.o.consumers)
	}
	if r.o.duration > 0 {
		total = -1
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(r.ErrOut),
		progressbar.OptionSetDescription("messages sent and received"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("msg"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// produce sends n messages (with --duration: until it is over) on its own
// connection.
func (r *benchRun) produce(ctx context.Context, n int, bar *progressbar.ProgressBar) error {
	c, err := r.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var deadline time.Time
	if r.o.duration > 0 {
		deadline = time.Now().Add(r.o.duration)
	}
	var (
		stamp   = make([]byte, 0, 20)
		pending []*client.Receipt
		tx      string
		inTx    int
	)
	confirm := func(wait bool) error {
		for len(pending) > 0 {
			if !wait {
				if done, err := pending[0].Poll(); !done {
					return nil
				} else if err != nil {
					return err
				}
			} else if err := c.WaitReceipt(ctx, pending[0]); err != nil {
				return err
			}
			pending = pending[1:]
		}
		return nil
	}
	for i := 0; r.o.duration > 0 || i < n; i++ {
		if r.o.duration > 0 && time.Now().After(deadline) {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil
		}
		if r.limiter != nil {
			if err := c.Flush(); err != nil {
				return err
			}
			if err := r.limiter.Wait(ctx); err != nil {
				return nil
			}
		}
		if r.o.txBatch > 0 && tx == "" {
			if tx, err = c.Begin(""); err != nil {
				return err
			}
		}
		last := r.o.duration == 0 && i == n-1
		want := tx == "" && (r.o.receipt == "each" || (r.o.receipt == "last" && last))
		stamp = strconv.AppendInt(stamp[:0], time.Now().UnixNano(), 10)
		h := protocol.Headers{{Name: benchStamp, Value: string(stamp)}}
		if r.o.persistent {
			h = append(h, protocol.Header{Name: "persistent", Value: "true"})
		}
		rc, err := c.Send(r.dest, r.body, client.SendOptions{Headers: h, Transaction: tx, Receipt: want})
		if err != nil {
			return err
		}
		r.sent.Add(1)
		if bar != nil {
			bar.Add(1)
		}
		if rc != nil {
			pending = append(pending, rc)
		}
		if tx != "" {
			if inTx++; inTx == r.o.txBatch || last {
				if err := c.Commit(ctx, tx); err != nil {
					return err
				}
				tx, inTx = "", 0
			}
		}
		if err := confirm(false); err != nil {
			return err
		}
	}
	if tx != "" {
		if err := c.Commit(ctx, tx); err != nil {
			return err
		}
	}
	if err := c.Flush(); err != nil {
		return err
	}
	if err := confirm(true); err != nil {
		return fmt.Errorf("%d messages not confirmed: %w", len(pending), err)
	}
	return nil
}

// consume takes messages until every message sent was received: by the
// consumers together on a queue, by each one on a topic.
func (r *benchRun) consume(ctx context.Context, c *client.Client, topic bool, got *atomic.Int64, bar *progressbar.ProgressBar) error {
	lat := make([]int64, 0, 1024)
	defer func() {
		r.mu.Lock()
		r.latencies = append(r.latencies, lat...)
		r.mu.Unlock()
	}()
	var mine int64
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	enough := func() bool {
		if !r.sendDone.Load() {
			return false
		}
		if topic {
			return mine >= r.sent.Load()
		}
		return got.Load() >= r.sent.Load()
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !enough() {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				if err := c.Err(); err != nil {
					return err
				}
				return errors.New("the connection closed")
			}
			now := time.Now().UnixNano()
			if s, err := strconv.ParseInt(m.Header(benchStamp), 10, 64); err == nil {
				lat = append(lat, now-s)
			}
			mine++
			got.Add(1)
			r.received.Add(1)
			if bar != nil {
				bar.Add(1)
			}
			if r.o.ack != protocol.AckAuto {
				if err := c.Ack(m, ""); err != nil {
					return err
				}
				if len(c.Messages()) == 0 {
					if err := c.Flush(); err != nil {
						return err
					}
				}
			}
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func (r *benchRun) report() benchReport {
	role := func(count int, n int64, d time.Duration) benchRole {
		s := d.Seconds()
		if s <= 0 {
			s = 1e-9
		}
		return benchRole{Count: count, Messages: n, Seconds: s, MsgsPerSec: float64(n) / s,
			MBPerSec: float64(n) * float64(r.o.size) / s / 1e6}
	}
	rep := benchReport{
		Destination: r.dest, Server: r.Opts.Server, Size: r.o.size,
		Producers: role(r.o.producers, r.sent.Load(), r.prodTime),
		Consumers: role(r.o.consumers, r.received.Load(), r.consTime),
	}
	slices.Sort(r.latencies)
	pct := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		i := int(p * float64(len(r.latencies)-1))
		return float64(r.latencies[i]) / 1e6
	}
	rep.Latency = benchLatency{P50: pct(0.5), P90: pct(0.9), P99: pct(0.99), P999: pct(0.999), Max: pct(1)}
	return rep
}

func (o *Options) printBench(rep benchReport) {
	fmt.Fprintf(o.Out, "%s on %s, %d-byte bodies\n", rep.Destination, rep.Server, rep.Size)
	for _, x := range []struct {
		name string
		r    benchRole
	}{{"producers", rep.Producers}, {"consumers", rep.Consumers}} {
		if x.r.Count == 0 {
			continue
		}
		fmt.Fprintf(o.Out, "%-9s %3d  %10d msgs  %8.3f s  %12.0f msg/s  %8.2f MB/s\n",
			x.name, x.r.Count, x.r.Messages, x.r.Seconds, x.r.MsgsPerSec, x.r.MBPerSec)
	}
	if rep.Consumers.Messages > 0 {
		l := rep.Latency
		fmt.Fprintf(o.Out, "latency   p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n",
			l.P50, l.P90, l.P99, l.P999, l.Max)
	}
}
