package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
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
	flagKnown    = flag.Bool("campaign.known", false, "run the schedules that meet a known defect (KnownDefects) too, instead of drawing again")
	flagOnly     = flag.String("campaign.only", "", "run only the schedules of this command (send, send-tx, send-jsonl, subscribe, subscribe-exec, move, reply, request); the others are drawn and passed over")
)

// Limits of one schedule's command, kept short so that a schedule takes
// about a second.
const (
	connectTimeout    = "3s"
	receiptTimeout    = "2s"
	disconnectTimeout = "1s"
	hardLimit         = 30 * time.Second // a command still running then has hung
	drainLimit        = 10 * time.Second
)

// The destinations of the campaign, by their role: Schedule.Dest gives
// the name.
const (
	queue      = "c"
	queue2     = "c2" // the other destination of send --input jsonl
	replyQueue = "r"  // where reply sends its answers
	moveSrc    = "src"
	moveDest   = "dst"
	idHeader   = "cid"
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
	hangs       int // handler runs that hung
	closes      int // readers that closed the pipe early
	maxStop     time.Duration
	maxStopOver time.Duration // the largest time from a signal to the end beyond --disconnect-timeout
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
	tot.hangs += r.handlerHangs
	if r.readerClosed {
		tot.closes++
	}
	if r.signalled && !r.killedBySignal {
		tot.maxStop = max(tot.maxStop, r.stopTook)
		tot.maxStopOver = max(tot.maxStopOver, r.stopTook-s.DisconnectTimeout)
	}
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
	return fmt.Sprintf("schedules %d (%s; %d draws passed over: known defects, broker limits), messages %d, connections %d, "+
		"resets %d, stalls %d, outages %d (connections cut %d, refused %d), signals %d (signal to end at most %v, "+
		"%v beyond --disconnect-timeout), handler failures %d, hung handlers %d, pipe readers gone %d, "+
		"violations %d; exit codes {%s}; %v per schedule on average",
		tot.schedules, strings.Join(cmds, ", "), tot.redrawn, tot.messages, tot.conns,
		tot.resets, tot.stalls, tot.outages, tot.cut, tot.refused, tot.signals,
		tot.maxStop.Round(time.Millisecond), tot.maxStopOver.Round(time.Millisecond), tot.failures, tot.hangs, tot.closes,
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
				if *flagKnown {
					s, redrawn = DrawAny(seed+uint64(i)), 0
				}
				if *flagOnly != "" && string(s.Command) != *flagOnly {
					continue
				}
				t.Run(fmt.Sprintf("seed=%d", s.Seed), func(t *testing.T) {
					r, violations := runSchedule(t, bin, s)
					tot.add(s, redrawn, r, len(violations))
					report(t, s, r, violations, "-run TestCampaign -campaign.seed=%d -campaign.runs=1")
				})
			}
		}()
	}
	wg.Wait()
	t.Logf("campaign from seed %d in %v: %s", seed, time.Since(start).Round(time.Second), tot)
}

// report fails t with the violations of schedule s, if any, and the
// command's stderr, and says how to replay it: replay holds the test's
// flags, with %d for the seed.
func report(t *testing.T, s *Schedule, r *result, violations []string, replay string) {
	if len(violations) == 0 {
		return
	}
	stderr := tail(r.stderr, 40)
	if r.hung { // the goroutines come first in the dump
		stderr = head(r.stderr, 150)
	}
	t.Errorf("%d violations of schedule %s:\n  %s\nexit %d; stderr:\n%s\nreplay: go test ./internal/campaign "+replay+" -v",
		len(violations), s, strings.Join(violations, "\n  "), r.exit, stderr, s.Seed)
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
	stopTook        time.Duration // from the signal to the command's end
	killedBySignal  bool
	hung            bool
	stdout, stderr  string
	readerClosed    bool     // the reader of the stdout pipe closed it before the end
	handled         []string // ids a handler handled (subscribe --exec)
	handlerFailures int
	handlerHangs    int   // handler runs that hung until --exec-timeout or shutdown killed them
	leftBehind      []int // handler processes still running after the command ended
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

// runSchedule runs s against an embedded broker of its own.
func runSchedule(t *testing.T, bin string, s *Schedule) (*result, []string) {
	started := time.Now()
	cfg := broker.Config{Addr: "127.0.0.1:0"}
	if s.HeartBeat > 0 {
		cfg.HeartBeat = protocol.HeartBeatSpec{Send: s.HeartBeat, Receive: s.HeartBeat}
	}
	b := broker.New(cfg)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	return runOn(t, bin, s, target{addr: b.Addr(), empty: func(time.Time) bool { return b.MemoryHeld() == 0 }}, started)
}

// target is the broker a schedule runs against.
type target struct {
	addr           string // host:port
	user, password string // the login, if the broker wants one
	// empty reports whether the broker holds no message of the schedule
	// any more, given when the drain took the last one
	empty func(last time.Time) bool
}

// runOn preloads what s needs into the broker tg, runs the command through
// a proxy, drains the broker and checks the invariants.
func runOn(t *testing.T, bin string, s *Schedule, tg target, started time.Time) (*result, []string) {
	dir := t.TempDir()
	addr := tg.addr
	var env []string
	if tg.user != "" {
		addr = tg.user + ":" + tg.password + "@" + tg.addr
		env = []string{"STOMPEST_USER=" + tg.user, "STOMPEST_PASSWORD=" + tg.password}
	}
	msgs := bodies(s)
	switch s.Command {
	case Subscribe, SubscribeExec:
		preload(t, addr, s.Dest(queue), msgs, s.Dups, "")
	case Reply:
		preload(t, addr, s.Dest(queue), msgs, 0, s.Dest(replyQueue))
	case Move:
		preload(t, addr, s.Dest(moveSrc), msgs, 0, "")
	}
	stopReplier := func() {}
	if s.Command == Request {
		stopReplier = startReplier(t, addr, s.Dest(queue), msgs)
	}
	r, err := play(t, bin, s, dir, tg.addr, env, msgs)
	stopReplier()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), drainLimit)
	defer cancel()
	r.drained, r.drainErr = drain(ctx, addr, s, tg.empty)
	r.took = time.Since(started)
	return r, check(s, msgs, r)
}

// destinations returns the roles of the destinations a schedule leaves
// messages in.
func destinations(s *Schedule) []string {
	switch s.Command {
	case Move:
		return []string{moveSrc, moveDest}
	case SendJSONL:
		return []string{queue, queue2}
	case Reply:
		return []string{queue, replyQueue}
	}
	return []string{queue}
}

// play runs the schedule's command against the broker at target through a
// fault proxy of its own, with env added to its environment (the login),
// and returns what it did. The proxy is closed when it returns: every
// connection of the command is gone.
func play(t *testing.T, bin string, s *Schedule, dir, target string, env, msgs []string) (*result, error) {
	p, err := NewProxy(target, func(n int) ConnFault {
		if n < len(s.Faults) {
			return s.Faults[n]
		}
		return ConnFault{}
	})
	if err != nil {
		return nil, err
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
	cmd.Env = append(environment(dir), env...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var outBuf, errBuf bytes.Buffer
	var reader *pipeReader
	switch {
	case stdout != nil:
		cmd.Stdout = stdout
	case s.Command == Subscribe && s.Pipe:
		if reader, err = newPipeReader(s.ReadChunk, s.CloseAfter); err != nil {
			return nil, err
		}
		cmd.Stdout = reader.w
	default:
		cmd.Stdout = &outBuf
	}
	cmd.Stderr = &errBuf
	err = cmd.Start()
	if reader != nil {
		reader.w.Close() // the command holds its own copy
	}
	if err != nil {
		return nil, err
	}
	var timers []*time.Timer
	var outages atomic.Int32
	var sigMu sync.Mutex
	var sigAt time.Time
	for _, o := range s.Outages {
		timers = append(timers,
			time.AfterFunc(o.At, func() { outages.Add(1); p.SetDown(true) }),
			time.AfterFunc(o.At+o.For, func() { p.SetDown(false) }))
	}
	if s.Signal != 0 {
		timers = append(timers, time.AfterFunc(s.SignalAt, func() {
			sigMu.Lock()
			defer sigMu.Unlock()
			at := time.Now()
			if cmd.Process.Signal(s.Signal) == nil {
				sigAt = at
			}
		}))
	}
	werr := cmd.Wait()
	ended := time.Now()
	for _, tm := range timers {
		tm.Stop()
	}
	r.hung = ctx.Err() != nil
	r.exit = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == s.Signal {
		r.killedBySignal = true
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return nil, fmt.Errorf("wait: %v", werr)
	}
	sigMu.Lock()
	if r.signalled = !sigAt.IsZero(); r.signalled {
		r.stopTook = ended.Sub(sigAt)
	}
	sigMu.Unlock()
	r.outages = int(outages.Load())
	r.stderr = errBuf.String()
	switch {
	case stdout != nil:
		stdout.Close()
		out, err := os.ReadFile(stdout.Name())
		if err != nil {
			return nil, err
		}
		r.stdout = string(out)
	case reader != nil:
		out, closed := reader.result()
		r.stdout, r.readerClosed = string(out), closed
	default:
		r.stdout = outBuf.String()
	}
	if s.Command == SubscribeExec || s.Command == Reply {
		if h, err := os.ReadFile(filepath.Join(dir, "handled")); err == nil {
			r.handled = strings.Fields(string(h))
		}
		marks, _ := filepath.Glob(filepath.Join(dir, "f.*"))
		r.handlerFailures = len(marks)
		marks, _ = filepath.Glob(filepath.Join(dir, "h.*"))
		r.handlerHangs = len(marks)
		r.leftBehind = leftBehind(dir)
	}
	p.SetDown(false)
	p.Close()
	r.proxy = p.Stats()
	return r, nil
}

// pipeReader reads the command's stdout from a pipe, chunk bytes at a
// time, and closes its end once it has read closeAfter bytes (0: it reads
// to the end), as a reader that goes away (| head) does.
type pipeReader struct {
	w    *os.File
	done chan struct{}
	got  []byte
	shut bool // closed before the end
}

func newPipeReader(chunk int, closeAfter int64) (*pipeReader, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p := &pipeReader{w: pw, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer pr.Close()
		buf := make([]byte, max(1, chunk))
		for {
			want := int64(len(buf))
			if closeAfter > 0 {
				if want = min(want, closeAfter-int64(len(p.got))); want <= 0 {
					p.shut = true
					return
				}
			}
			n, err := pr.Read(buf[:want])
			p.got = append(p.got, buf[:n]...)
			if err != nil {
				return
			}
		}
	}()
	return p, nil
}

// result returns what the reader read and whether it closed the pipe
// before the end; the command has ended.
func (p *pipeReader) result() ([]byte, bool) {
	<-p.done
	return p.got, p.shut
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
		"--connect-timeout", connectTimeout, "--receipt-timeout", receiptTimeout, "--disconnect-timeout", s.DisconnectTimeout.String()}
	var stdin, stdout *os.File
	switch s.Command {
	case Send, SendTx, SendJSONL:
		args = append(args, "send")
		input := strings.Join(msgs, "\n") + "\n"
		if s.Command == SendJSONL {
			args = append(args, "--input", "jsonl")
			input = jsonLines(s, msgs)
		} else {
			args = append(args, s.Dest(queue), "--lines")
		}
		args = append(args, "--receipt", s.Receipt)
		if s.Command == SendTx {
			args = append(args, "--transaction")
		}
		if s.Rate > 0 {
			args = append(args, "--rate", fmt.Sprintf("%d/s", s.Rate))
		}
		stdin = inputFile(t, s.StdinFile, dir, input)
	case Subscribe, SubscribeExec:
		args = append(args, "subscribe", s.Dest(queue), "--timeout", s.Timeout.String(), "--ack", s.Ack)
		if s.StopCount {
			args = append(args, "--count", strconv.Itoa(s.Messages))
		} else {
			args = append(args, "--idle", "500ms")
		}
		if s.Dedupe {
			args = append(args, "--dedupe", idHeader)
		}
		if s.Command == SubscribeExec {
			args = append(args, "--exec", handler(t, s, dir), "--concurrency", strconv.Itoa(s.Concurrency), "--on-error", s.OnError)
		} else {
			args = append(args, "-o", "body")
		}
		if s.ExecTimeout > 0 {
			args = append(args, "--exec-timeout", s.ExecTimeout.String())
		}
		if s.Command == SubscribeExec || !s.Pipe {
			f, err := os.Create(filepath.Join(dir, "stdout"))
			if err != nil {
				t.Fatal(err)
			}
			stdout = f
		}
	case Reply:
		// --count: reply has no other end than a signal.
		args = append(args, "reply", s.Dest(queue), "--count", strconv.Itoa(s.Messages), "--concurrency", strconv.Itoa(s.Concurrency))
		if s.Echo {
			args = append(args, "--echo")
		} else {
			args = append(args, "--exec", handler(t, s, dir))
		}
		if s.ExecTimeout > 0 {
			args = append(args, "--exec-timeout", s.ExecTimeout.String())
		}
	case Move:
		args = append(args, "move", s.Dest(moveSrc), s.Dest(moveDest), "--idle", "400ms", "--timeout", CommandTimeout.String())
		if s.MoveAll {
			args = append(args, "--all")
		} else {
			args = append(args, "--count", strconv.Itoa(s.MoveCount))
		}
		args = append(args, "--batch", strconv.Itoa(s.MoveBatch))
	case Request:
		args = append(args, "request", s.Dest(queue), requestBody, "--replies", strconv.Itoa(s.Messages), "--timeout", s.Timeout.String(), "-o", "body")
	}
	return args, stdin, stdout
}

// requestBody is the body of request's one request.
const requestBody = "request"

// jsonLines returns msgs as send --input jsonl records, each with its id
// header and its destination (see destOf).
func jsonLines(s *Schedule, msgs []string) string {
	var b strings.Builder
	for i, m := range msgs {
		rec, err := json.Marshal(map[string]any{
			"destination": s.Dest(destOf(SendJSONL, i)),
			"headers":     map[string]string{idHeader: strconv.Itoa(i)},
			"body":        m,
		})
		if err != nil {
			panic(err) // strings and maps of strings always marshal
		}
		b.Write(rec)
		b.WriteByte('\n')
	}
	return b.String()
}

// destOf returns the role of the destination the command sends message i
// to: send --input jsonl names queue2 in every third record.
func destOf(c Command, i int) string {
	if c == SendJSONL && i%3 == 2 {
		return queue2
	}
	return queue
}

// inputFile returns input as the command's stdin: a regular file, or the
// read end of a pipe that a goroutine writes and then closes.
func inputFile(t *testing.T, regular bool, dir, input string) *os.File {
	if regular {
		name := filepath.Join(dir, "input")
		if err := os.WriteFile(name, []byte(input), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	go func() {
		pw.WriteString(input)
		pw.Close()
	}()
	return pr
}

// handler returns the --exec command of s. It writes its pid to the file
// pids, hangs in the first runs of the messages of s.Hangs and fails the
// first runs of those of s.Fails (a directory per such run marks it:
// h.ID.N, f.ID.N), and writes the id of every message it handled to the
// file handled, in one write; a reply handler first answers with the body.
func handler(t *testing.T, s *Schedule, dir string) string {
	q := "'" + dir + "'"
	// A run that fails takes HandlerWait, one that succeeds a quarter of
	// it: the slots of quick successes take new messages while a failure
	// is still on its way.
	fail, ok := "exit 3", ""
	if s.HandlerWait > 0 {
		fail = fmt.Sprintf("{ sleep %.3f; exit 3; }", s.HandlerWait.Seconds())
		ok = fmt.Sprintf("sleep %.3f; ", s.HandlerWait.Seconds()/4)
	}
	if s.Command == Reply {
		ok += "cat; "
	}
	hang := "exit 4"
	if len(s.Hangs) > 0 {
		var err error
		if hang, err = hangCommand(dir); err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprintf(`echo $$ >> %s/pids; id=$STOMP_HEADER_%s; case $id in %s*) h=;; esac; case $id in %s*) k=;; esac; `+
		`for a in $h; do mkdir %s/h.$id.$a 2>/dev/null && %s; done; for a in $k; do mkdir %s/f.$id.$a 2>/dev/null && %s; done; %secho "$id" >> %s/handled`,
		q, strings.ToUpper(idHeader), shellCases(s.Hangs, "h"), shellCases(s.Fails, "k"), q, hang, q, fail, ok, q)
}

// shellCases returns the arms of a shell case statement that set variable
// v to the run numbers 1..runs[id] of each id.
func shellCases(runs map[int]int, v string) string {
	ids := make([]int, 0, len(runs))
	for id := range runs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var b strings.Builder
	for _, id := range ids {
		ns := make([]string, runs[id])
		for i := range ns {
			ns[i] = strconv.Itoa(i + 1)
		}
		fmt.Fprintf(&b, "%d) %s='%s';; ", id, v, strings.Join(ns, " "))
	}
	return b.String()
}

// preload puts msgs into dest directly, each with its number in the id
// header, and the first dups of them a second time; with replyTo each is a
// request: reply-to replyTo, its number as correlation-id.
func preload(t *testing.T, addr, dest string, msgs []string, dups int, replyTo string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), drainLimit)
	defer cancel()
	c, err := dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	all := append(slices.Clone(msgs), msgs[:min(dups, len(msgs))]...)
	var last *client.Receipt
	for i, m := range all {
		id := strconv.Itoa(idOf(m))
		h := protocol.Headers{{Name: idHeader, Value: id}, {Name: "persistent", Value: "true"}}
		if replyTo != "" {
			h = append(h, protocol.Header{Name: "reply-to", Value: replyTo}, protocol.Header{Name: "correlation-id", Value: id})
		}
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

// startReplier answers every request that comes to dest, directly on the
// broker at addr, with msgs, one reply each, on the request's reply-to
// and with its correlation-id; it acknowledges a request before it
// answers, so that a reply a broker refuses (a temporary queue that went
// with its connection: ActiveMQ then sends an ERROR and closes) is not
// asked for again. It connects again when its connection ends. The
// function it returns stops it.
func startReplier(t *testing.T, addr, dest string, msgs []string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	subscribe := func() (*client.Client, error) {
		c, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		if _, err := c.Subscribe(ctx, dest, protocol.Headers{{Name: protocol.HdrAck, Value: protocol.AckClientIndividual}}); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	c, err := subscribe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			serveRequests(ctx, c, msgs) // a connection that ends is made again
			c.Close()
			var err error
			if c, err = subscribe(); err != nil || ctx.Err() != nil {
				if ctx.Err() != nil {
					err = nil
				}
				done <- err
				return
			}
		}
	}()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("replier: %v", err)
		}
	}
}

// serveRequests answers requests until ctx or the connection ends.
func serveRequests(ctx context.Context, c *client.Client, msgs []string) {
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-c.Messages():
			if !ok || c.Ack(m, "") != nil {
				return
			}
			h := protocol.Headers{{Name: "correlation-id", Value: m.Header("correlation-id")}}
			for _, body := range msgs {
				if _, err := c.Send(m.Header("reply-to"), []byte(body), client.SendOptions{Headers: h}); err != nil {
					return
				}
			}
			if c.Flush() != nil {
				return
			}
		}
	}
}

// dial connects a clean client to the broker at addr, past the proxy.
// addr may carry a login (user:password@host:port).
func dial(ctx context.Context, addr string) (*client.Client, error) {
	u, err := failover.Parse("tcp://" + addr)
	if err != nil {
		return nil, err
	}
	return client.Dial(ctx, client.Config{URI: u, ConnectTimeout: drainLimit, Host: "/"})
}

// drain takes every message the broker at addr holds out of the
// destinations of s and returns their bodies by role, until done (given
// when the last message came) reports that the broker holds no message any
// more. The connections of the proxy were closed before, so
// every message delivered on them and not acknowledged comes back to its
// queue and on to this subscriber.
func drain(ctx context.Context, addr string, s *Schedule, done func(last time.Time) bool) (map[string][]string, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("drain: %w", err)
	}
	defer c.Close()
	subs := map[string]string{}
	for _, d := range destinations(s) {
		id, err := c.Subscribe(ctx, s.Dest(d), protocol.Headers{{Name: protocol.HdrAck, Value: protocol.AckClientIndividual}})
		if err != nil {
			return nil, fmt.Errorf("drain: subscribe %s: %w", s.Dest(d), err)
		}
		subs[id] = d
	}
	last := time.Now()
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
			last = time.Now()
			if err := c.Ack(m, ""); err != nil {
				return got, fmt.Errorf("drain: ack: %w", err)
			}
			if err := c.Flush(); err != nil {
				return got, fmt.Errorf("drain: ack: %w", err)
			}
		case <-tick.C:
			if done(last) {
				return got, c.Disconnect(ctx)
			}
		case <-ctx.Done():
			return got, fmt.Errorf("drain: the broker still holds messages after %v", drainLimit)
		}
	}
}
