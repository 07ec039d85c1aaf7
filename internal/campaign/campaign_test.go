package campaign

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

var (
	flagRuns     = flag.Int("campaign.runs", 40, "schedules to run")
	flagSeed     = flag.Uint64("campaign.seed", 0, "seed of the first schedule (the others follow: seed+1, ...); 0: from the clock")
	flagLong     = flag.Bool("campaign.long", false, "the long campaign: 10,000 schedules")
	flagFor      = flag.Duration("campaign.for", 0, "start no schedule after this long (0: no limit)")
	flagParallel = flag.Int("campaign.parallel", 2, "schedules running at once")
	flagOnly     = flag.String("campaign.only", "", "run only the schedules of this command (send, send-tx, subscribe, subscribe-exec, move); the others are drawn and passed over")
)

// Limits of one schedule's command, kept short so that a schedule takes
// about a second.
const (
	connectTimeout    = "3s"
	receiptTimeout    = "2s"
	disconnectTimeout = "1s"
	commandTimeout    = "8s"             // subscribe and move --timeout
	hardLimit         = 30 * time.Second // a command still running then has hung
	drainLimit        = 10 * time.Second
)

// The destinations of the campaign.
const (
	queue    = "/queue/c"
	moveSrc  = "/queue/src"
	moveDest = "/queue/dst"
	idHeader = "cid"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// stompestBinary builds cmd/stompest once per test run.
func stompestBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stompest-campaign-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "stompest")
		if out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/stompest").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// totals are the figures of a campaign.
type totals struct {
	mu          sync.Mutex
	schedules   int
	redrawn     int
	messages    int
	conns       int
	resets      int
	stalls      int
	cut         int
	refused     int
	outages     int
	signals     int
	failures    int // handler runs that failed
	violations  int
	byCommand   map[Command]int
	exitCodes   map[int]int
	durationSum time.Duration
}

func (tot *totals) add(s *Schedule, redrawn int, r *result, violations int) {
	tot.mu.Lock()
	defer tot.mu.Unlock()
	tot.schedules++
	tot.redrawn += redrawn
	tot.messages += s.Messages + s.Dups
	tot.conns += r.proxy.Conns
	tot.resets += r.proxy.Resets
	tot.stalls += r.proxy.Stalls
	tot.cut += r.proxy.Cut
	tot.refused += r.proxy.Refused
	tot.outages += r.outages
	if r.signalled {
		tot.signals++
	}
	tot.failures += r.handlerFailures
	tot.violations += violations
	tot.byCommand[s.Command]++
	tot.exitCodes[r.exit]++
	tot.durationSum += r.took
}

func (tot *totals) String() string {
	tot.mu.Lock()
	defer tot.mu.Unlock()
	var cmds, codes []string
	for _, c := range commands {
		cmds = append(cmds, fmt.Sprintf("%s %d", c, tot.byCommand[c]))
	}
	keys := make([]int, 0, len(tot.exitCodes))
	for k := range tot.exitCodes {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		codes = append(codes, fmt.Sprintf("%d: %d", k, tot.exitCodes[k]))
	}
	avg := time.Duration(0)
	if tot.schedules > 0 {
		avg = tot.durationSum / time.Duration(tot.schedules)
	}
	return fmt.Sprintf("schedules %d (%s; %d draws avoided known defects), messages %d, connections %d, "+
		"resets %d, stalls %d, outages %d (connections cut %d, refused %d), signals %d, handler failures %d, "+
		"violations %d; exit codes {%s}; %v per schedule on average",
		tot.schedules, strings.Join(cmds, ", "), tot.redrawn, tot.messages, tot.conns,
		tot.resets, tot.stalls, tot.outages, tot.cut, tot.refused, tot.signals, tot.failures,
		tot.violations, strings.Join(codes, ", "), avg.Round(time.Millisecond))
}

// TestCampaign runs randomized fault schedules against send, subscribe and
// move and checks their at-least-once promises after each one.
func TestCampaign(t *testing.T) {
	bin := stompestBinary(t)
	runs := *flagRuns
	if *flagLong {
		runs = 10_000
	}
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()%1_000_000_000) + 1
	}
	t.Logf("campaign: %d schedules from seed %d", runs, seed)
	tot := &totals{byCommand: map[Command]int{}, exitCodes: map[int]int{}}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, *flagParallel) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(runs) || (*flagFor > 0 && time.Since(start) > *flagFor) {
					return
				}
				s, redrawn := Draw(seed + uint64(i))
				if *flagOnly != "" && string(s.Command) != *flagOnly {
					continue
				}
				t.Run(fmt.Sprintf("seed=%d", s.Seed), func(t *testing.T) {
					r, violations := runSchedule(t, bin, s)
					tot.add(s, redrawn, r, len(violations))
					if len(violations) > 0 {
						stderr := tail(r.stderr, 40)
						if r.hung { // the goroutines come first in the dump
							stderr = head(r.stderr, 150)
						}
						t.Errorf("%d violations of schedule %s:\n  %s\nexit %d; stderr:\n%s\nreplay: go test ./internal/campaign -run TestCampaign -campaign.seed=%d -campaign.runs=1 -v",
							len(violations), s, strings.Join(violations, "\n  "), r.exit, stderr, s.Seed)
					}
				})
			}
		}()
	}
	wg.Wait()
	t.Logf("campaign from seed %d in %v: %s", seed, time.Since(start).Round(time.Second), tot)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[%d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return "    " + strings.Join(lines, "\n    ")
}

// head returns the first n lines of s.
func head(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("[%d lines more]", len(lines)-n))
	}
	return "    " + strings.Join(lines, "\n    ")
}

// result is what one schedule's command did.
type result struct {
	exit            int // -1: ended by a signal it did not catch
	signalled       bool
	killedBySignal  bool
	hung            bool
	stdout, stderr  string
	handled         []string // ids a handler handled (subscribe --exec)
	handlerFailures int
	proxy           Stats
	outages         int
	drained         map[string][]string // bodies left in each destination
	drainErr        error
	took            time.Duration
}

// bodies returns the n message bodies of s: the message number, a colon and
// up to BodyMax letters.
func bodies(s *Schedule) []string {
	r := rand.New(rand.NewPCG(s.Seed, 1))
	out := make([]string, s.Messages)
	for i := range out {
		pad := make([]byte, r.IntN(s.BodyMax+1))
		for j := range pad {
			pad[j] = byte('a' + r.IntN(26))
		}
		out[i] = strconv.Itoa(i) + ":" + string(pad)
	}
	return out
}

// idOf returns the message number of a body, or -1.
func idOf(body string) int {
	n, _, ok := strings.Cut(body, ":")
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		return -1
	}
	return i
}

func runSchedule(t *testing.T, bin string, s *Schedule) (*result, []string) {
	started := time.Now()
	dir := t.TempDir()
	cfg := broker.Config{Addr: "127.0.0.1:0"}
	if s.HeartBeat > 0 {
		cfg.HeartBeat = protocol.HeartBeatSpec{Send: s.HeartBeat, Receive: s.HeartBeat}
	}
	b := broker.New(cfg)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	msgs := bodies(s)
	switch s.Command {
	case Subscribe, SubscribeExec:
		preload(t, b, queue, msgs, s.Dups)
	case Move:
		preload(t, b, moveSrc, msgs, 0)
	}
	p, err := NewProxy(b.Addr(), func(n int) ConnFault {
		if n < len(s.Faults) {
			return s.Faults[n]
		}
		return ConnFault{}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	r := &result{}
	args, stdin, stdout := commandLine(t, s, dir, p.Addr(), msgs)
	ctx, cancel := context.WithTimeout(context.Background(), hardLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// A command that hangs is asked for its goroutines (SIGQUIT) before it
	// is killed: they go to its stderr, into the report.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 3 * time.Second
	cmd.Env = environment(dir)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var outBuf, errBuf bytes.Buffer
	if stdout != nil {
		cmd.Stdout = stdout
	} else {
		cmd.Stdout = &outBuf
	}
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var timers []*time.Timer
	var outages, signalled atomic.Int32
	for _, o := range s.Outages {
		timers = append(timers,
			time.AfterFunc(o.At, func() { outages.Add(1); p.SetDown(true) }),
			time.AfterFunc(o.At+o.For, func() { p.SetDown(false) }))
	}
	if s.Signal != 0 {
		timers = append(timers, time.AfterFunc(s.SignalAt, func() {
			if cmd.Process.Signal(s.Signal) == nil {
				signalled.Store(1)
			}
		}))
	}
	werr := cmd.Wait()
	for _, tm := range timers {
		tm.Stop()
	}
	r.took = time.Since(started)
	r.hung = ctx.Err() != nil
	r.exit = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == s.Signal {
		r.killedBySignal = true
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		t.Fatalf("wait: %v", werr)
	}
	r.signalled = signalled.Load() == 1
	r.outages = int(outages.Load())
	r.stderr = errBuf.String()
	if stdout != nil {
		stdout.Close()
		out, err := os.ReadFile(stdout.Name())
		if err != nil {
			t.Fatal(err)
		}
		r.stdout = string(out)
	} else {
		r.stdout = outBuf.String()
	}
	if s.Command == SubscribeExec {
		if h, err := os.ReadFile(filepath.Join(dir, "handled")); err == nil {
			r.handled = strings.Fields(string(h))
		}
		marks, _ := filepath.Glob(filepath.Join(dir, "f.*"))
		r.handlerFailures = len(marks)
	}
	p.SetDown(false)
	p.Close()
	r.proxy = p.Stats()
	dests := []string{queue}
	if s.Command == Move {
		dests = []string{moveSrc, moveDest}
	}
	r.drained, r.drainErr = drain(b, dests)
	return r, check(s, msgs, r)
}

// environment is the command's environment: hermetic, without the
// developer's configuration or stompest settings.
func environment(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "STOMPEST_") || name == "NO_COLOR" || name == "HOME" || name == "XDG_CONFIG_HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"))
}

// commandLine returns the arguments of the schedule's command, its stdin
// and its stdout (nil: a pipe the test reads).
func commandLine(t *testing.T, s *Schedule, dir, proxyAddr string, msgs []string) ([]string, *os.File, *os.File) {
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hb := "0,0"
	if s.HeartBeat > 0 {
		hb = fmt.Sprintf("%dms,%dms", s.HeartBeat.Milliseconds(), s.HeartBeat.Milliseconds())
	}
	args := []string{"--config", config, "-v", "-s", s.URI(proxyAddr), "--heartbeat", hb,
		"--connect-timeout", connectTimeout, "--receipt-timeout", receiptTimeout, "--disconnect-timeout", disconnectTimeout}
	var stdin, stdout *os.File
	switch s.Command {
	case Send, SendTx:
		args = append(args, "send", queue, "--lines", "--receipt", s.Receipt)
		if s.Command == SendTx {
			args = append(args, "--transaction")
		}
		if s.Rate > 0 {
			args = append(args, "--rate", fmt.Sprintf("%d/s", s.Rate))
		}
		input := strings.Join(msgs, "\n") + "\n"
		if s.StdinFile {
			name := filepath.Join(dir, "input")
			if err := os.WriteFile(name, []byte(input), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			stdin = f
		} else {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pr.Close() })
			go func() {
				pw.WriteString(input)
				pw.Close()
			}()
			stdin = pr
		}
	case Subscribe, SubscribeExec:
		args = append(args, "subscribe", queue, "--timeout", commandTimeout)
		if s.StopCount {
			args = append(args, "--count", strconv.Itoa(s.Messages))
		} else {
			args = append(args, "--idle", "500ms")
		}
		if s.Dedupe {
			args = append(args, "--dedupe", idHeader)
		}
		if s.Command == SubscribeExec {
			args = append(args, "--exec", handler(s, dir), "--concurrency", strconv.Itoa(s.Concurrency), "--on-error", s.OnError)
		} else {
			args = append(args, "-o", "body")
		}
		if s.Command == SubscribeExec || !s.Pipe {
			f, err := os.Create(filepath.Join(dir, "stdout"))
			if err != nil {
				t.Fatal(err)
			}
			stdout = f
		}
	case Move:
		args = append(args, "move", moveSrc, moveDest, "--idle", "400ms", "--timeout", commandTimeout)
		if s.MoveAll {
			args = append(args, "--all")
		} else {
			args = append(args, "--count", strconv.Itoa(s.MoveCount))
		}
	}
	return args, stdin, stdout
}

// handler returns the --exec command of s: it fails the first runs of the
// messages of s.Fails (a directory per failed run marks it), and writes the
// id of every message it handled to the file handled, in one write.
func handler(s *Schedule, dir string) string {
	var cases strings.Builder
	ids := make([]int, 0, len(s.Fails))
	for id := range s.Fails {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		runs := make([]string, s.Fails[id])
		for i := range runs {
			runs[i] = strconv.Itoa(i + 1)
		}
		fmt.Fprintf(&cases, "%d) k='%s';; ", id, strings.Join(runs, " "))
	}
	q := "'" + dir + "'"
	// A run that fails takes HandlerWait, one that succeeds a quarter of
	// it: the slots of quick successes take new messages while a failure
	// is still on its way.
	fail, ok := "exit 3", ""
	if s.HandlerWait > 0 {
		fail = fmt.Sprintf("{ sleep %.3f; exit 3; }", s.HandlerWait.Seconds())
		ok = fmt.Sprintf("sleep %.3f; ", s.HandlerWait.Seconds()/4)
	}
	return fmt.Sprintf(`id=$STOMP_HEADER_%s; case $id in %s*) k=;; esac; for a in $k; do mkdir %s/f.$id.$a 2>/dev/null && %s; done; %secho "$id" >> %s/handled`,
		strings.ToUpper(idHeader), cases.String(), q, fail, ok, q)
}

// preload puts msgs into dest directly, each with its number in the id
// header, and the first dups of them a second time.
func preload(t *testing.T, b *broker.Broker, dest string, msgs []string, dups int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), drainLimit)
	defer cancel()
	c, err := dial(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	all := append(slices.Clone(msgs), msgs[:min(dups, len(msgs))]...)
	var last *client.Receipt
	for i, m := range all {
		h := protocol.Headers{{Name: idHeader, Value: strconv.Itoa(idOf(m))}, {Name: "persistent", Value: "true"}}
		if last, err = c.Send(dest, []byte(m), client.SendOptions{Headers: h, Receipt: i == len(all)-1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReceipt(ctx, last); err != nil {
		t.Fatal(err)
	}
	if err := c.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
}

func dial(ctx context.Context, b *broker.Broker) (*client.Client, error) {
	u, err := failover.Parse("tcp://" + b.Addr())
	if err != nil {
		return nil, err
	}
	return client.Dial(ctx, client.Config{URI: u, ConnectTimeout: drainLimit})
}

// drain takes every message the broker holds out of dests and returns
// their bodies. It is done when the broker holds no message at all: none
// queued, none delivered to a connection that is going away; the
// connections of the proxy were closed before, so every message delivered
// on them comes back to its queue and on to this subscriber.
func drain(b *broker.Broker, dests []string) (map[string][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), drainLimit)
	defer cancel()
	c, err := dial(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("drain: %w", err)
	}
	defer c.Close()
	subs := map[string]string{}
	for _, d := range dests {
		id, err := c.Subscribe(ctx, d, protocol.Headers{{Name: protocol.HdrAck, Value: protocol.AckClientIndividual}})
		if err != nil {
			return nil, fmt.Errorf("drain: subscribe %s: %w", d, err)
		}
		subs[id] = d
	}
	got := map[string][]string{}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				return got, fmt.Errorf("drain: %v", c.Err())
			}
			d := subs[m.Subscription.ID]
			got[d] = append(got[d], string(m.Body))
			if err := c.Ack(m, ""); err != nil {
				return got, fmt.Errorf("drain: ack: %w", err)
			}
			if err := c.Flush(); err != nil {
				return got, fmt.Errorf("drain: ack: %w", err)
			}
		case <-tick.C:
			if b.MemoryHeld() == 0 {
				return got, c.Disconnect(ctx)
			}
		case <-ctx.Done():
			return got, fmt.Errorf("drain: the broker still holds %d bytes of messages after %v", b.MemoryHeld(), drainLimit)
		}
	}
}

var (
	reConfirmed = regexp.MustCompile(`(\d+) of (\d+) confirmed`)
	reMoved     = regexp.MustCompile(`moved (\d+) messages`)
)

// check returns the violations of the schedule's invariants.
func check(s *Schedule, msgs []string, r *result) []string {
	var v []string
	add := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }
	if r.hung {
		add("the command did not end within %v", hardLimit)
	}
	if r.drainErr != nil {
		add("%v", r.drainErr)
	}
	allowed := map[int]bool{0: true, 69: true, 75: true}
	if s.Stalls() && s.HeartBeat > 0 {
		allowed[76] = true // heart-beat lost during a stall
	}
	if r.signalled {
		allowed[128+int(s.Signal)] = true
	}
	if s.Command == SubscribeExec && s.OnError == "stop" && len(s.Fails) > 0 {
		allowed[1] = true
	}
	switch {
	case r.killedBySignal && r.proxy.Conns == 0:
		// The signal came before stompest caught signals: it never connected.
	case r.killedBySignal:
		add("killed by %v after it had connected: the signal was not caught", s.Signal)
	case r.exit == 70:
		add("exit 70 (internal error) under network faults")
	case !r.hung && !allowed[r.exit]:
		add("exit %d: not one of %v for this schedule", r.exit, keys(allowed))
	}
	count := func(bodies []string) (map[int]int, []string) {
		n := map[int]int{}
		var bad []string
		for _, b := range bodies {
			id := idOf(b)
			if id < 0 || id >= len(msgs) || b != msgs[id] {
				bad = append(bad, b)
				continue
			}
			n[id]++
		}
		return n, bad
	}
	switch s.Command {
	case Send:
		got, bad := count(r.drained[queue])
		if len(bad) > 0 {
			add("%d messages in the broker that were not sent, such as %.60q", len(bad), bad[0])
		}
		confirmed := 0
		switch m := reConfirmed.FindAllStringSubmatch(r.stderr, -1); {
		case r.exit == 0:
			confirmed = len(msgs)
		case len(m) > 0:
			confirmed, _ = strconv.Atoi(m[len(m)-1][1])
		}
		for i := range confirmed {
			if got[i] == 0 {
				add("message %d reported confirmed (%d confirmed, exit %d) is not in the broker", i, confirmed, r.exit)
				break
			}
		}
		if !s.resends() {
			for i, n := range got {
				if n > 1 {
					add("message %d is in the broker %d times: send did not send it again", i, n)
					break
				}
			}
		}
	case SendTx:
		got, bad := count(r.drained[queue])
		if len(bad) > 0 {
			add("%d messages in the broker that were not sent, such as %.60q", len(bad), bad[0])
		}
		n := len(r.drained[queue])
		if n != 0 && (n != len(msgs) || len(got) != len(msgs)) {
			add("the transaction is in the broker in part: %d messages, %d distinct, of %d", n, len(got), len(msgs))
		}
		if r.exit == 0 && n == 0 {
			add("exit 0, but nothing of the transaction is in the broker")
		}
		if strings.Contains(r.stderr, "transaction aborted") && n > 0 {
			add("send said the transaction was aborted, but its %d messages are in the broker", n)
		}
	case Subscribe, SubscribeExec:
		var handed []string
		if s.Command == Subscribe {
			out := strings.TrimSuffix(r.stdout, "\n")
			if out != "" {
				handed = strings.Split(out, "\n")
			}
		} else {
			for _, id := range r.handled {
				if i, err := strconv.Atoi(id); err == nil && i >= 0 && i < len(msgs) {
					handed = append(handed, msgs[i])
				} else {
					handed = append(handed, id)
				}
			}
		}
		out, bad := count(handed)
		if len(bad) > 0 {
			add("%d records handed over that were never sent, such as %.60q", len(bad), bad[0])
		}
		left, badLeft := count(r.drained[queue])
		if len(badLeft) > 0 {
			add("%d messages in the broker that were never sent, such as %.60q", len(badLeft), badLeft[0])
		}
		var lost []int
		for i := range msgs {
			if out[i] == 0 && left[i] == 0 {
				lost = append(lost, i)
			}
		}
		if len(lost) > 0 {
			add("%d messages lost (neither handed over nor in the broker): %v", len(lost), firstInts(lost, 10))
		}
		if s.Dedupe {
			for i, n := range out {
				if n > 1 {
					add("--dedupe: message %d handed over %d times", i, n)
					break
				}
			}
		}
		if s.Command == Subscribe && s.StopCount {
			if len(handed) > s.Messages {
				add("--count %d: %d messages written", s.Messages, len(handed))
			}
			if r.exit == 0 && len(handed) != s.Messages {
				add("--count %d, exit 0: %d messages written", s.Messages, len(handed))
			}
		}
	case Move:
		src, bad := count(r.drained[moveSrc])
		dst, bad2 := count(r.drained[moveDest])
		if len(bad)+len(bad2) > 0 {
			add("%d messages that were never preloaded", len(bad)+len(bad2))
		}
		unknown := strings.Contains(r.stderr, "may now be in both destinations")
		var lost, twice []int
		for i := range msgs {
			switch n := src[i] + dst[i]; {
			case n == 0:
				lost = append(lost, i)
			case n > 1:
				twice = append(twice, i)
			}
		}
		if len(lost) > 0 {
			add("%d messages lost (in neither destination): %v", len(lost), firstInts(lost, 10))
		}
		if len(twice) > 1 || (len(twice) == 1 && !unknown) {
			add("%d messages in both destinations (an unknown COMMIT outcome reported: %v): %v", len(twice), unknown, firstInts(twice, 10))
		}
		moved := 0
		if m := reMoved.FindStringSubmatch(r.stderr); m != nil {
			moved, _ = strconv.Atoi(m[1])
		}
		n := len(r.drained[moveDest])
		if n != moved && !(unknown && n == moved+1) {
			add("move said it moved %d messages; the destination holds %d (an unknown COMMIT outcome reported: %v)", moved, n, unknown)
		}
		if r.exit == 0 && !s.MoveAll && moved != s.MoveCount {
			add("move --count %d, exit 0: moved %d", s.MoveCount, moved)
		}
	}
	return v
}

func keys(m map[int]bool) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

func firstInts(s []int, n int) []int { return s[:min(n, len(s))] }
