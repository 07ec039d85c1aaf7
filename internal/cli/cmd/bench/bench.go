// Package bench is the bench command: throughput and latency against a
// broker.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// benchStamp is the header that carries a message's send time (with
// --rate its intended send time), in Unix nanoseconds: producers and
// consumers share one process and one clock.
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
	warmup     time.Duration
	histogram  string
	failIf     string
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
` + benchStamp + ` header. Latencies are kept in an HdrHistogram (three
significant digits, up to an hour).

Consumers subscribe and producers connect first; producers then share
--count between them (or send until --duration is over). On a queue the
consumers share the messages; on a /topic/ each consumer receives all of
them. --embedded starts an in-memory broker in this process and ignores
--server.

--rate N/s sends on a fixed schedule: the messages of all producers
together are meant to leave at exact intervals of 1/N, and each message's
latency is measured from the time it was meant to leave, not from when it
left. A producer held up (by the broker's flow control, a slow network, a
pause) sends its late messages at once, and their latencies include the
delay: a stall shows in the figures instead of being hidden by the
messages that were never sent during it (coordinated omission). With
--rate, --duration D means the N×D messages of the schedule's first D; a
producer behind schedule finishes late rather than dropping them, and the
report says how far behind it fell. Without --rate producers send as fast
as they can and latency is measured from the actual send.

--warmup D leaves the messages sent in the run's first D (scheduled, with
--rate) out of the throughput and latency figures; they are still sent and
received, and the report counts them. --histogram FILE writes the
latencies in the HdrHistogram log format (version 1.3, as read by
HistogramLogProcessor and its plotters), values in nanoseconds.

--fail-if makes bench a gate: comma-separated conditions, each one a
figure, < or > (or <=, >=) and a threshold, saying when the run FAILS.
Figures: p50, p90, p99, p99.9 (any pN) and max, with a duration (20ms,
500us, 1.5s); throughput (the consumers' msg/s) and producer_throughput,
with a number of messages per second. After the report, each condition
crossed is printed on stderr with the value measured, and bench exits 1;
a malformed condition is a usage error (64) before anything connects.
A latency condition fails when no latency was measured.

A progress bar is shown on a terminal only, and so is a histogram of the
latencies under the text report; -o json prints one object, with the
warm-up counts and each --fail-if condition's result.`,
		Example: `  stompest bench /queue/bench --embedded
  stompest bench /queue/bench --count 1000000 --size 100 --producers 2 --consumers 2
  stompest bench /queue/bench --ack client-individual --receipt each --persistent
  stompest bench /topic/prices --consumers 4 --rate 10000/s --duration 30s

  # a CI gate: 20,000 msg/s for 30 s, the first 5 s left out,
  # fail when p99 is over 20 ms or fewer than 19,000 msg/s arrive
  stompest bench /queue/ci --rate 20000/s --duration 30s --warmup 5s \
    --fail-if 'p99>20ms,p99.9>100ms,throughput<19000' --histogram ci.hlog
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
	fs.StringVar(&o.rate, "rate", "", "send on a fixed schedule of `N/s` messages per second in all; latency from the intended send time")
	fs.DurationVar(&o.duration, "duration", 0, "send for this long instead of --count")
	fs.DurationVar(&o.warmup, "warmup", 0, "leave the messages sent in the first `D` out of the figures")
	fs.StringVar(&o.histogram, "histogram", "", "write the latencies to `FILE` in the HdrHistogram log format")
	fs.StringVar(&o.failIf, "fail-if", "", "exit 1 when a `CONDITION` holds, such as 'p99>20ms,throughput<50000'")
	fs.BoolVar(&o.embedded, "embedded", false, "start an in-memory broker in this process and use it")
	flags.Enum(cmd, &o.output, "output", "o", "text", []string{"text", "json"}, "report: text or json")
	return cmd
}

// benchRole is the report of the producers or of the consumers: the
// messages after the warm-up, over the time after it.
type benchRole struct {
	Count          int     `json:"count"`
	Messages       int64   `json:"messages"`
	Seconds        float64 `json:"seconds"`
	MsgsPerSec     float64 `json:"msgs_per_sec"`
	MBPerSec       float64 `json:"mb_per_sec"`
	WarmupMessages int64   `json:"warmup_messages"` // sent or received, and left out
}

// benchLatency are end-to-end latencies in milliseconds, of Messages
// messages.
type benchLatency struct {
	Messages int64   `json:"messages"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	P999     float64 `json:"p99_9_ms"`
	Max      float64 `json:"max_ms"`
}

// benchSchedule is how --rate went: the rate asked for and how far behind
// its schedule a producer fell at most.
type benchSchedule struct {
	PerSec   float64 `json:"per_sec"`
	MaxLagMS float64 `json:"max_lag_ms"`
}

type benchReport struct {
	Destination   string            `json:"destination"`
	Server        string            `json:"server"`
	Size          int               `json:"size"`
	WarmupSeconds float64           `json:"warmup_seconds"`
	Rate          *benchSchedule    `json:"rate,omitempty"`
	Producers     benchRole         `json:"producers"`
	Consumers     benchRole         `json:"consumers"`
	Latency       benchLatency      `json:"latency"`
	FailIf        []conditionResult `json:"fail_if,omitempty"`
	Failed        bool              `json:"failed"` // a --fail-if condition held
}

func (o *Options) run(ctx context.Context) error {
	cmdutil.DefaultRuntime(false)
	dest := o.dest
	switch {
	case o.producers < 1 || o.consumers < 0 || o.size < 0 || o.txBatch < 0 || o.duration < 0 || o.warmup < 0:
		return cmdutil.UsageErrorf("--producers must be 1 or more; --consumers, --size, --transaction-batch, --duration and --warmup not negative")
	case o.duration == 0 && o.messages < 1:
		return cmdutil.UsageErrorf("--messages %d: want 1 or more", o.messages)
	case o.duration > 0 && o.warmup >= o.duration:
		return cmdutil.UsageErrorf("--warmup %v: want less than --duration %v, or nothing is measured", o.warmup, o.duration)
	}
	var sched *schedule
	if o.rate != "" {
		perSec, err := cmdutil.ParsePerSecond(o.rate)
		if err != nil {
			return err
		}
		sched = &schedule{perSec: perSec, producers: o.producers}
	}
	conds, err := parseConditions(o.failIf)
	if err != nil {
		return err
	}
	var hist *os.File
	if o.histogram != "" {
		// Created before the run, so that a path it cannot write is told
		// before anything is measured.
		if hist, err = os.Create(o.histogram); err != nil {
			return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("bench: --histogram: %w", err))
		}
		defer hist.Close()
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
	r := &benchRun{Factory: o.Factory, o: o, server: embedded, dest: dest, sched: sched, body: make([]byte, o.size), latencies: newLatencies()}
	for i := range r.body {
		r.body[i] = 'x'
	}
	err = r.run(ctx)
	if e := o.Sig.Err(); e != nil || err != nil {
		if hist != nil {
			os.Remove(o.histogram) // no figures: no file
		}
		if e != nil {
			return e
		}
		return fmt.Errorf("bench: %w", err)
	}
	rep := r.report()
	rep.FailIf = check(conds, &rep, func(pct float64) (float64, bool) {
		return float64(r.percentile(pct)), r.latencies.TotalCount() > 0
	})
	var failed []string
	for _, c := range rep.FailIf {
		if c.Failed {
			failed = append(failed, c.line)
		}
	}
	rep.Failed = len(failed) > 0
	if hist != nil {
		comment := fmt.Sprintf("stompest bench %s: latencies in nanoseconds, from %v to %v of the run", dest, o.warmup, r.consTime.Round(time.Millisecond))
		if err := writeHistogramLog(hist, r.latencies, r.start, o.warmup, r.consTime, comment); err != nil {
			return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("bench: --histogram: %w", err))
		}
		if err := hist.Close(); err != nil {
			return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("bench: --histogram: %w", err))
		}
	}
	if o.output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		o.printBench(rep, r.latencies)
	}
	for _, line := range failed {
		fmt.Fprintln(o.ErrOut, cmdutil.Printable(line))
	}
	if len(failed) > 0 {
		return cmdutil.WithCode(cmdutil.ExitFailed, fmt.Errorf("bench: --fail-if: %d of %d conditions met", len(failed), len(conds)))
	}
	return nil
}

// benchRun is one run of the bench command.
type benchRun struct {
	*cmdutil.Factory
	o      *Options
	server *failover.URI // the broker under test when not --server's
	dest   string
	sched  *schedule // --rate, else nil
	body   []byte

	start     time.Time // when the producers started; stamps are taken from it
	startUnix int64     // start in Unix nanoseconds

	sent       atomic.Int64 // every message sent
	sentWarmup atomic.Int64 // of those, the ones sent (scheduled) in the warm-up
	received   atomic.Int64 // every message received
	recvWarmup atomic.Int64 // of those, the ones sent in the warm-up
	lastRecv   atomic.Int64 // when the last message arrived, from start
	maxLag     atomic.Int64 // how far behind the schedule a producer fell at most
	sendDone   atomic.Bool  // every producer has finished
	prodTime   time.Duration
	consTime   time.Duration

	mu         sync.Mutex
	latencies  *hdrhistogram.Histogram // nanoseconds, of the messages after the warm-up
	maxLatency int64                   // the exact maximum of those
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

// raise sets a to v when v is more.
func raise(a *atomic.Int64, v int64) {
	for old := a.Load(); v > old && !a.CompareAndSwap(old, v); old = a.Load() {
	}
}

// since is the time from the start, on the monotonic clock.
func (r *benchRun) since() int64 {
	return int64(time.Since(r.start))
}

// count is how many messages the producers send in all, or -1 when they
// send until --duration is over.
func (r *benchRun) count() int {
	switch {
	case r.o.duration > 0 && r.sched != nil:
		return r.sched.within(r.o.duration)
	case r.o.duration > 0:
		return -1
	}
	return r.o.messages
}

func (r *benchRun) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var conns []*client.Client
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Consumers subscribe, and producers connect, before anything is sent.
	for range r.o.consumers {
		c, err := r.dial(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		var h protocol.Headers
		h.Add(protocol.HdrAck, r.o.ack)
		if r.o.ack != protocol.AckAuto {
			cmdutil.KindOf(c).Prefetch(&h, 1000)
		}
		if _, err := c.Subscribe(ctx, r.dest, h); err != nil {
			return err
		}
	}
	consumers := conns
	var producers []*client.Client
	for range r.o.producers {
		c, err := r.dial(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		producers = append(producers, c)
	}
	bar := r.progress()
	r.start = time.Now()
	r.startUnix = r.start.UnixNano()
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
	total := r.count()
	for i, c := range producers {
		n := -1
		if total >= 0 {
			n = share(total, r.o.producers, i)
		}
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			if err := r.produce(ctx, c, i, n, bar); err != nil {
				prodOnce.Do(func() { prodErr = err })
				cancel(err)
			}
		}()
	}
	pwg.Wait()
	r.prodTime = time.Since(r.start)
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
	r.consTime = time.Since(r.start)
	if last := time.Duration(r.lastRecv.Load()); last > 0 {
		r.consTime = last // not the consumers' wait to learn they are done
	}
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
	n := int64(r.count())
	total := n * int64(1+min(r.o.consumers, 1))
	if strings.HasPrefix(r.dest, "/topic/") {
		total = n * int64(1+r.o.consumers)
	}
	if n < 0 {
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

// produce sends n messages (n < 0: until --duration is over) on c as
// producer p: with --rate each at its time in the schedule, else as fast
// as it can.
func (r *benchRun) produce(ctx context.Context, c *client.Client, p, n int, bar *progressbar.ProgressBar) error {
	var (
		stamp    = make([]byte, 0, 20)
		pending  []*client.Receipt
		tx       string
		inTx     int
		deadline = int64(r.o.duration)
		warmup   = int64(r.o.warmup)
		timer    *time.Timer
		unsent   int // messages written since the last flush
		err      error
	)
	if r.sched != nil {
		timer = time.NewTimer(time.Hour)
		defer timer.Stop()
	}
	confirm := func(block bool) error {
		for len(pending) > 0 {
			if !block {
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
	for i := 0; n < 0 || i < n; i++ {
		if err := ctx.Err(); err != nil {
			return nil
		}
		var at int64 // the send time, from the start: intended with --rate
		if r.sched != nil {
			at = int64(r.sched.at(p, i))
			now := r.since()
			if ahead := at - now; ahead > 0 {
				// Ahead of the schedule: what is written leaves now, and
				// the next message waits for its time.
				if err := c.Flush(); err != nil {
					return err
				}
				unsent = 0
				if !wait(ctx, r.since, at, timer) {
					return nil
				}
			} else {
				raise(&r.maxLag, now-at)
			}
		} else {
			at = r.since()
			if n < 0 && at >= deadline {
				break
			}
		}
		if r.o.txBatch > 0 && tx == "" {
			if tx, err = c.Begin(""); err != nil {
				return err
			}
		}
		last := n >= 0 && i == n-1
		want := tx == "" && (r.o.receipt == "each" || (r.o.receipt == "last" && last))
		stamp = strconv.AppendInt(stamp[:0], r.startUnix+at, 10)
		h := protocol.Headers{{Name: benchStamp, Value: string(stamp)}}
		if r.o.persistent {
			h = append(h, protocol.Header{Name: "persistent", Value: "true"})
		}
		rc, err := c.Send(r.dest, r.body, client.SendOptions{Headers: h, Transaction: tx, Receipt: want})
		if err != nil {
			return err
		}
		r.sent.Add(1)
		if at < warmup {
			r.sentWarmup.Add(1)
		}
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
		if r.sched != nil {
			// Behind the schedule, messages go out about a millisecond's
			// worth at a time.
			if unsent++; unsent >= r.sched.flushEvery() {
				if err := c.Flush(); err != nil {
					return err
				}
				unsent = 0
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
	lat := newLatencies()
	var maxLat int64
	defer func() {
		r.mu.Lock()
		r.latencies.Merge(lat)
		r.maxLatency = max(r.maxLatency, maxLat)
		r.mu.Unlock()
	}()
	var mine int64
	enough := func() bool {
		if !r.sendDone.Load() {
			return false
		}
		if topic {
			return mine >= r.sent.Load()
		}
		return got.Load() >= r.sent.Load()
	}
	warmup := r.startUnix + int64(r.o.warmup)
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
			since := r.since()
			if s, err := strconv.ParseInt(m.Header(benchStamp), 10, 64); err == nil {
				if s < warmup {
					r.recvWarmup.Add(1)
				} else {
					ns := r.startUnix + since - s
					record(lat, ns)
					maxLat = max(maxLat, ns)
				}
			}
			raise(&r.lastRecv, since)
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
	warmup := r.o.warmup
	role := func(count int, all, warm int64, d time.Duration) benchRole {
		n := all - warm
		rl := benchRole{Count: count, Messages: n, WarmupMessages: warm}
		if d > warmup {
			rl.Seconds = (d - warmup).Seconds()
			rl.MsgsPerSec = float64(n) / rl.Seconds
			rl.MBPerSec = float64(n) * float64(r.o.size) / rl.Seconds / 1e6
		}
		return rl
	}
	rep := benchReport{
		Destination: r.dest, Server: r.Opts.Server, Size: r.o.size, WarmupSeconds: warmup.Seconds(),
		Producers: role(r.o.producers, r.sent.Load(), r.sentWarmup.Load(), r.prodTime),
		Consumers: role(r.o.consumers, r.received.Load(), r.recvWarmup.Load(), r.consTime),
	}
	if r.server != nil {
		rep.Server = r.server.String() // --embedded: the broker this run started
	}
	if r.sched != nil {
		rep.Rate = &benchSchedule{PerSec: r.sched.perSec, MaxLagMS: float64(r.maxLag.Load()) / 1e6}
	}
	ms := func(p float64) float64 { return float64(r.percentile(p)) / 1e6 }
	rep.Latency = benchLatency{Messages: r.latencies.TotalCount(), P50: ms(50), P90: ms(90), P99: ms(99), P999: ms(99.9), Max: ms(100)}
	return rep
}

// percentile is the latency at or under which pct percent of the
// messages arrived, in nanoseconds: the upper end of the histogram's
// range that holds it (a range of 0.1% of its values), at most the
// exact maximum; 0 when nothing was measured.
func (r *benchRun) percentile(pct float64) int64 {
	if r.latencies.TotalCount() == 0 {
		return 0
	}
	return min(r.latencies.ValueAtPercentile(pct), r.maxLatency)
}

func (o *Options) printBench(rep benchReport, h *hdrhistogram.Histogram) {
	fmt.Fprintf(o.Out, "%s on %s, %d-byte bodies\n", rep.Destination, rep.Server, rep.Size)
	if rep.Rate != nil {
		fmt.Fprintf(o.Out, "rate      %.0f msg/s scheduled, latency from the intended send time; producers at most %.3f ms behind\n",
			rep.Rate.PerSec, rep.Rate.MaxLagMS)
	}
	if rep.WarmupSeconds > 0 {
		fmt.Fprintf(o.Out, "warm-up   %v: %d messages sent and %d received in it, left out of the figures\n",
			o.warmup, rep.Producers.WarmupMessages, rep.Consumers.WarmupMessages)
	}
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
	if rep.Latency.Messages > 0 {
		l := rep.Latency
		fmt.Fprintf(o.Out, "latency   p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n",
			l.P50, l.P90, l.P99, l.P999, l.Max)
		if o.OutTTY {
			printDistribution(o.Out, h)
		}
	}
}
