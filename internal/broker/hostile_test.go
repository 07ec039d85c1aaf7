package broker

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/protocol"
)

// The load tests under hostile and careless clients run the broker in a
// child process (this test binary, started again with childEnv set), so
// that its descriptors can be limited and its memory measured alone.
const (
	childEnv       = "STOMPEST_TEST_BROKER_CHILD"
	childNoFile    = "STOMPEST_TEST_BROKER_NOFILE"
	childMemory    = "STOMPEST_TEST_BROKER_MAX_MEMORY"
	childConnectIn = "STOMPEST_TEST_BROKER_CONNECT_TIMEOUT"
	testBudget     = 32 << 20
)

// runChild is the child: a broker on 127.0.0.1:0 whose address it prints,
// answering "stats" on stdin with its memory figures, until stdin ends.
func runChild() {
	if n, err := strconv.ParseUint(os.Getenv(childNoFile), 10, 64); err == nil {
		if err := limitDescriptors(n); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			os.Exit(1)
		}
	}
	cfg := Config{Addr: "127.0.0.1:0", Logf: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}}
	if n, err := strconv.ParseInt(os.Getenv(childMemory), 10, 64); err == nil {
		cfg.MaxMemory = n
		debug.SetMemoryLimit(n) // as the CLI does
	}
	if d, err := time.ParseDuration(os.Getenv(childConnectIn)); err == nil {
		cfg.ConnectTimeout = d
	}
	b := New(cfg)
	if err := b.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	var maxLive, maxHeld atomic.Int64
	stop := make(chan struct{})
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if v := int64(sample[0].Value.Uint64()); v > maxLive.Load() {
				maxLive.Store(v)
			}
			if v := b.budgetUsed(); v > maxHeld.Load() {
				maxHeld.Store(v)
			}
		}
	}()
	fmt.Printf("addr %s\n", b.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		b.mu.Lock()
		conns := len(b.conns)
		b.mu.Unlock()
		fmt.Printf("stats live=%d held=%d blocked=%d conns=%d\n", maxLive.Load(), maxHeld.Load(), b.nblocked.Load(), conns)
	}
	close(stop)
	b.Close()
	os.Exit(0)
}

// child is a broker in a child process.
type child struct {
	cmd    *exec.Cmd
	addr   string
	in     io.WriteCloser
	out    *bufio.Scanner
	errs   chan string // its log lines
	maxRSS atomic.Int64
	stop   chan struct{}
	done   sync.WaitGroup
}

// stats are a child's figures: the most the live heap and the messages
// held took, how many SENDs wait, how many connections it keeps.
type stats struct{ live, held, blocked, conns int64 }

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=1"}, env...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(out), errs: make(chan string, 1000), stop: make(chan struct{})}
	t.Cleanup(func() {
		close(c.stop)
		c.in.Close()
		c.done.Wait()
		if err := cmd.Wait(); err != nil {
			t.Errorf("broker child: %v", err)
		}
	})
	c.done.Add(2)
	go func() {
		defer c.done.Done()
		sc := bufio.NewScanner(errs)
		for sc.Scan() {
			select {
			case c.errs <- sc.Text():
			default:
			}
		}
	}()
	go func() { // the child's RSS, sampled
		defer c.done.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			if rss := vmRSS(cmd.Process.Pid); rss > c.maxRSS.Load() {
				c.maxRSS.Store(rss)
			}
		}
	}()
	if !c.out.Scan() || !strings.HasPrefix(c.out.Text(), "addr ") {
		t.Fatalf("broker child did not start: %q", c.out.Text())
	}
	c.addr = strings.TrimPrefix(c.out.Text(), "addr ")
	return c
}

// vmRSS returns the resident set of a process, from /proc/PID/status.
func vmRSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (c *child) stats(t *testing.T) stats {
	t.Helper()
	if _, err := io.WriteString(c.in, "stats\n"); err != nil {
		t.Fatal(err)
	}
	if !c.out.Scan() {
		t.Fatal("broker child ended")
	}
	var s stats
	if _, err := fmt.Sscanf(c.out.Text(), "stats live=%d held=%d blocked=%d conns=%d", &s.live, &s.held, &s.blocked, &s.conns); err != nil {
		t.Fatalf("stats %q: %v", c.out.Text(), err)
	}
	return s
}

// rawConn is a raw STOMP connection of the load tests.
type rawConn struct {
	net.Conn
	r *protocol.Reader
}

func dialChild(t *testing.T, addr string, connect bool) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawConn{Conn: nc, r: protocol.NewReader(nc)}
	if connect {
		c.write(t, "CONNECT\naccept-version:1.2\n\n\x00")
		c.expect(t, protocol.CmdConnected, 5*time.Second)
		c.r.SetVersion(protocol.V12)
	}
	return c
}

func (c *rawConn) write(t *testing.T, s string) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// expect reads frames until one of command cmd, within d.
func (c *rawConn) expect(t *testing.T, cmd protocol.Command, d time.Duration) *protocol.Frame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	for {
		f, err := c.r.Read()
		if err != nil {
			t.Fatalf("waiting for %s: %v", cmd, err)
		}
		if f.Command == cmd {
			return f
		}
		if f.Command == protocol.CmdError {
			t.Fatalf("waiting for %s: %v", cmd, f)
		}
	}
}

// expectError reads frames until an ERROR, within d.
func (c *rawConn) expectError(t *testing.T, d time.Duration) *protocol.Frame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	for {
		f, err := c.r.Read()
		if err != nil {
			t.Fatalf("waiting for ERROR: %v", err)
		}
		if f.Command == protocol.CmdError {
			return f
		}
	}
}

// subscriber connects and subscribes to dest.
func subscriber(t *testing.T, addr, dest, ack string) *rawConn {
	t.Helper()
	c := dialChild(t, addr, true)
	c.write(t, "SUBSCRIBE\nid:s\ndestination:"+dest+"\nack:"+ack+"\nreceipt:s\n\n\x00")
	c.expect(t, protocol.CmdReceipt, 5*time.Second)
	return c
}

// serveNormal checks that a normal client is served within a second (ten
// under the race detector, which slows everything several times over): it
// connects, subscribes and has the receipt. It returns how long it took.
func serveNormal(t *testing.T, addr string) time.Duration {
	t.Helper()
	within := time.Second
	if raceEnabled {
		within = 10 * time.Second
	}
	begin := time.Now()
	nc, err := net.DialTimeout("tcp", addr, within)
	if err != nil {
		t.Fatalf("a normal client: %v", err)
	}
	defer nc.Close()
	c := &rawConn{Conn: nc, r: protocol.NewReader(nc)}
	c.write(t, "CONNECT\naccept-version:1.2\n\n\x00SUBSCRIBE\nid:n\ndestination:/queue/normal\nreceipt:n\n\n\x00")
	c.expect(t, protocol.CmdConnected, within-time.Since(begin))
	c.expect(t, protocol.CmdReceipt, within-time.Since(begin))
	return time.Since(begin)
}

// sendFrames is count SEND frames of a 1 KiB body to dest.
func sendFrames(dest string, count int) []byte {
	frame := "SEND\ndestination:" + dest + "\ncontent-length:1024\n\n" + strings.Repeat("z", 1024) + "\x00"
	return []byte(strings.Repeat(frame, count))
}

// heldProducer writes batches 0 to n-1 to the broker in the background
// until the broker holds the producer for memory (its SENDs wait, and TCP
// holds it back), and fails the test if it wrote them all first. The
// channel has the result of the writes once they end; written counts the
// batches written.
func heldProducer(t *testing.T, c *child, prod *rawConn, n int, batch func(i int) []byte) (<-chan error, *atomic.Int64) {
	t.Helper()
	wrote := make(chan error, 1)
	written := new(atomic.Int64)
	go func() {
		for i := range n {
			prod.SetWriteDeadline(time.Now().Add(time.Minute))
			if _, err := prod.Write(batch(i)); err != nil {
				wrote <- err
				return
			}
			written.Add(1)
		}
		wrote <- nil
	}()
	for {
		if s := c.stats(t); s.blocked > 0 {
			return wrote, written
		}
		select {
		case err := <-wrote:
			t.Fatalf("the producer wrote all it had (%v) and was never held", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestHostileLoad runs the broker, in a child process with a memory
// budget of 32 MiB, under the clients that used to break it: a stalled
// topic subscriber, a stalled queue consumer, a producer to many queues,
// open transactions that are never committed, a connection subscribing
// without end, connections that never
// CONNECT, and (with RLIMIT_NOFILE lowered) more connections than it has
// descriptors. Through each, a normal client is served within a second
// and the live heap stays under the budget, and so does the RSS (but
// under the race detector). The scenarios run one after the other, so as
// not to take every core at once.
func TestHostileLoad(t *testing.T) {
	t.Parallel()
	report := func(t *testing.T, c *child, what string) stats {
		s := c.stats(t)
		t.Logf("%s: live heap at most %.1f MiB, counted against the budget at most %.1f MiB, RSS at most %.1f MiB",
			what, float64(s.live)/(1<<20), float64(s.held)/(1<<20), float64(c.maxRSS.Load())/(1<<20))
		if s.live > testBudget {
			t.Errorf("%s: the live heap reached %d bytes, over the budget of %d", what, s.live, testBudget)
		}
		if rss := c.maxRSS.Load(); rss > testBudget && !raceEnabled {
			t.Errorf("%s: RSS reached %d bytes, over the budget of %d", what, rss, testBudget)
		}
		return s
	}
	budget := childMemory + "=" + strconv.Itoa(testBudget)
	// refusedFlood writes flood to a broker of its own on one connection
	// and returns the ERROR that ends it, once a normal client was served
	// and the figures reported.
	refusedFlood := func(t *testing.T, what string, flood []byte) (*protocol.Frame, stats) {
		t.Helper()
		c := startChild(t, budget)
		spam := dialChild(t, c.addr, true)
		go spam.Write(flood) // the broker closes mid-way
		f := spam.expectError(t, time.Minute)
		took := serveNormal(t, c.addr)
		s := report(t, c, what)
		t.Logf("the connection got ERROR %q; a normal client served in %v", f.Header("message"), took)
		return f, s
	}

	t.Run("stalled-topic", func(t *testing.T) {
		c := startChild(t, budget)
		stalled := subscriber(t, c.addr, "/topic/load", "auto")
		prod := dialChild(t, c.addr, true)
		batch := sendFrames("/topic/load", 1000)
		const total = 64 << 20 // twice the budget
		for sent := 0; sent < total; sent += 1000 << 10 {
			prod.write(t, string(batch))
		}
		prod.write(t, "BEGIN\ntransaction:t\nreceipt:done\n\n\x00")
		prod.expect(t, protocol.CmdReceipt, 30*time.Second)
		took := serveNormal(t, c.addr)
		s := report(t, c, "64 MiB to a topic with a stalled subscriber")
		t.Logf("a normal client served in %v", took)
		// The stalled subscriber was disconnected: after what was
		// written to it, its stream ends.
		stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, stalled); err != nil && !strings.Contains(err.Error(), "reset") {
			t.Errorf("the stalled subscriber: %v, want its connection closed", err)
		}
		if s.held > testBudget/2+(2<<20) {
			t.Errorf("%d bytes of messages held, over half the budget", s.held)
		}
	})

	t.Run("stalled-queue", func(t *testing.T) {
		c := startChild(t, budget)
		stalled := subscriber(t, c.addr, "/queue/load", "client-individual")
		prod := dialChild(t, c.addr, true)
		const total = 64_000 // messages of 1 KiB: about twice the budget
		batch := sendFrames("/queue/load", 1000)
		wrote, written := heldProducer(t, c, prod, total/1000, func(int) []byte { return batch })
		took := serveNormal(t, c.addr)
		s := report(t, c, "a queue with a stalled consumer")
		t.Logf("a normal client served in %v; the producer held after writing %d batches of 1,000", took, written.Load())
		if s.held > testBudget/2+(2<<20) {
			t.Errorf("%d bytes of messages held, over half the budget", s.held)
		}
		// Once the stalled consumer goes, a consumer that reads takes
		// them all and the producer finishes.
		stalled.Close()
		cons := subscriber(t, c.addr, "/queue/load", "auto")
		for i := 0; i < total; {
			cons.SetReadDeadline(time.Now().Add(3 * time.Second))
			f, err := cons.r.Read()
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if f.IsHeartBeat() {
				continue
			}
			if len(f.Body) != 1024 {
				t.Fatalf("message %d: %v", i, f)
			}
			i++
		}
		if err := <-wrote; err != nil {
			t.Fatalf("the producer: %v", err)
		}
	})

	t.Run("many-queues", func(t *testing.T) {
		// A message to each of 400,000 queues nobody reads: about
		// 300 MiB of queues if they were not counted.
		c := startChild(t, budget)
		prod := dialChild(t, c.addr, true)
		const total, per = 400_000, 1000
		batch := func(i int) []byte {
			return repeatFrames(per, func(j int) string {
				return fmt.Sprintf("SEND\ndestination:/queue/many-%d\n\nx\x00", i*per+j)
			})
		}
		_, written := heldProducer(t, c, prod, total/per, batch)
		took := serveNormal(t, c.addr)
		s := report(t, c, "a message to each of many queues")
		t.Logf("a normal client served in %v; the producer held after writing %d messages", took, written.Load()*per)
		if s.held > testBudget/2+(2<<20) {
			t.Errorf("%d bytes held, over half the budget", s.held)
		}
	})

	t.Run("open-transactions", func(t *testing.T) {
		// 16 MiB of SENDs spread over 8 transactions that are never
		// committed: refused once open transactions hold a quarter
		// of the budget (8 MiB).
		body := strings.Repeat("z", 1024)
		flood := append(repeatFrames(8, func(i int) string { return fmt.Sprintf("BEGIN\ntransaction:t%d\n\n\x00", i) }),
			repeatFrames(16<<10, func(i int) string {
				return fmt.Sprintf("SEND\ndestination:/queue/tx\ntransaction:t%d\n\n%s\x00", i%8, body)
			})...)
		f, s := refusedFlood(t, "8 open transactions", flood)
		if !strings.HasSuffix(f.Header("message"), "is too large") {
			t.Errorf("the producer got %v", f)
		}
		if s.held > testBudget/4+(1<<20) {
			t.Errorf("%d bytes held, over a quarter of the budget", s.held)
		}
	})

	t.Run("subscriptions", func(t *testing.T) {
		// 200,000 subscriptions on one connection, each to a topic
		// of its own: about 100 MiB if they were not counted.
		f, _ := refusedFlood(t, "200,000 subscriptions on one connection", repeatFrames(200_000, func(i int) string {
			return fmt.Sprintf("SUBSCRIBE\nid:%d\ndestination:/topic/spam-%d\n\n\x00", i, i)
		}))
		if f.Header("message") != "too many subscriptions on one connection" {
			t.Errorf("the connection got %v", f)
		}
	})

	t.Run("slowloris", func(t *testing.T) {
		c := startChild(t, budget, childConnectIn+"=500ms")
		const n = 100
		loris := make([]*rawConn, n)
		for i := range loris {
			loris[i] = dialChild(t, c.addr, false)
			loris[i].write(t, "CONNECT\naccept-version:1.2\n")
		}
		took := serveNormal(t, c.addr)
		s := report(t, c, "100 connections that never CONNECT")
		t.Logf("%d connections held; a normal client served in %v", s.conns, took)
		begin := time.Now()
		for i, l := range loris {
			f := l.expect(t, protocol.CmdError, 10*time.Second)
			if !strings.Contains(f.Header("message"), "no CONNECT frame") {
				t.Fatalf("connection %d: %v", i, f)
			}
			l.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, l); err != nil {
				t.Fatalf("connection %d: %v, want it closed", i, err)
			}
		}
		t.Logf("all %d closed with ERROR %v after the normal client was served", n, time.Since(begin).Round(time.Millisecond))
	})

	t.Run("fd-exhaustion", func(t *testing.T) {
		c := startChild(t, budget, childNoFile+"=64")
		var held []net.Conn
		defer func() {
			for _, nc := range held {
				nc.Close()
			}
		}()
		// Connections until the broker fails to accept: it logs it.
		var logged string
		for logged == "" {
			if len(held) > 1000 {
				t.Fatal("1000 connections and no failed accept")
			}
			nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, nc)
			if len(held) < 40 {
				continue
			}
			select {
			case logged = <-c.errs:
			case <-time.After(20 * time.Millisecond):
			}
		}
		if !strings.Contains(logged, "too many open files") {
			t.Fatalf("logged %q", logged)
		}
		s := c.stats(t)
		for _, nc := range held {
			nc.Close()
		}
		n := len(held)
		held = nil
		took := serveNormal(t, c.addr)
		t.Logf("%d connections opened, %d accepted before descriptors ran out (%q); served again %v after they closed",
			n, s.conns, logged, took.Round(time.Millisecond))
		report(t, c, "descriptors exhausted")
	})
}
