package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/protocol"
)

// faultProxy is a TCP fault proxy (toxiproxy, as a library) in front of an
// embedded broker.
type faultProxy struct {
	t     *testing.T
	b     *broker.Broker
	proxy *toxiproxy.Proxy
}

func newFaultProxy(t *testing.T, cfg broker.Config) *faultProxy {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	b := broker.New(cfg)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(server, t.Name(), "127.0.0.1:0", b.Addr())
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &faultProxy{t: t, b: b, proxy: p}
}

// onFirst returns a channel closed when the broker first receives a cmd
// frame, and the frame hook that does it.
func onFirst(cmd protocol.Command) (<-chan struct{}, func(*protocol.Frame)) {
	ch := make(chan struct{})
	var once sync.Once
	return ch, func(f *protocol.Frame) {
		if f.Command == cmd {
			once.Do(func() { close(ch) })
		}
	}
}

// uri is the proxy's address as a broker URI.
func (f *faultProxy) uri() string { return "tcp://" + f.proxy.Listen }

// toxic adds a toxic, given as toxiproxy's JSON.
func (f *faultProxy) toxic(spec string) {
	f.t.Helper()
	if _, err := f.proxy.Toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
		f.t.Fatalf("toxic %s: %v", spec, err)
	}
}

// stompest runs the CLI in this process; it returns the exit code, stdout
// and stderr.
func stompest(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := cmdutil.Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("{}\n"), 0o600)
	code := run(append([]string{"--config", cfg}, args...), s, nil)
	return code, out.String(), errOut.String()
}

func numberedLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "message %04d %s\n", i, strings.Repeat("x", 60))
	}
	return b.String()
}

// TestFaultLatencyAndBandwidth: a slow, narrow link delays but loses
// nothing: send exits 0 and every byte arrives.
func TestFaultLatencyAndBandwidth(t *testing.T) {
	t.Parallel()
	f := newFaultProxy(t, broker.Config{})
	f.toxic(`{"name":"lat","type":"latency","stream":"downstream","attributes":{"latency":40,"jitter":10}}`)
	f.toxic(`{"name":"slow","type":"bandwidth","stream":"upstream","attributes":{"rate":200}}`)
	lines := numberedLines(50)
	body := bytes.Repeat([]byte("0123456789abcdef\x00"), 6000) // 102 KB at 200 KB/s
	path := filepath.Join(t.TempDir(), "body")
	os.WriteFile(path, body, 0o600)
	if code, _, errOut := stompest(t, lines, "-s", f.uri(), "send", "/queue/slow", "--lines", "--receipt", "each"); code != 0 {
		t.Fatalf("send --lines through the slow link: exit %d: %s", code, errOut)
	}
	if code, _, errOut := stompest(t, "", "-s", f.uri(), "send", "/queue/slow-file", "-f", path); code != 0 {
		t.Fatalf("send -f through the slow link: exit %d: %s", code, errOut)
	}
	direct := "tcp://" + f.b.Addr()
	if code, out, errOut := stompest(t, "", "-s", direct, "subscribe", "/queue/slow", "--count", "50", "--timeout", "10s"); code != 0 || out != lines {
		t.Errorf("received through the slow link: exit %d, %d bytes, want %d: %s", code, len(out), len(lines), errOut)
	}
	if code, out, errOut := stompest(t, "", "-s", direct, "subscribe", "/queue/slow-file", "--count", "1", "--timeout", "10s", "--format", "{{.body}}"); code != 0 || out != string(body) {
		t.Errorf("file through the slow link: exit %d, %d bytes, want %d: %s", code, len(out), len(body), errOut)
	}
}

// TestFaultResetMidFrame: every connection is cut after 4 KB from the
// client, in the middle of a frame. On a failover URI, send --receipt each
// resends what was not confirmed and exits 0; --dedupe gives each message
// once, in order. Without failover send exits 75 and says how many were
// confirmed.
func TestFaultResetMidFrame(t *testing.T) {
	t.Parallel()
	f := newFaultProxy(t, broker.Config{})
	f.toxic(`{"name":"cut","type":"limit_data","stream":"upstream","attributes":{"bytes":4000}}`)
	lines := numberedLines(300)
	fo := "failover:(" + f.uri() + ")?initialReconnectDelay=1&maxReconnectDelay=20&maxReconnectAttempts=500"
	code, _, errOut := stompest(t, lines, "-s", fo, "-v", "send", "/queue/cut", "--lines", "--receipt", "each", "--id-header", "msg-id")
	if code != 0 {
		t.Fatalf("send on a failover URI through resets: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "sent again after a failover") {
		t.Errorf("no resend reported: %s", errOut)
	}
	direct := "tcp://" + f.b.Addr()
	code, out, errOut := stompest(t, "", "-s", direct, "subscribe", "/queue/cut", "--dedupe", "msg-id", "--idle", "500ms")
	if code != 0 || out != lines {
		t.Errorf("after dedupe: exit %d, %d lines, want 300 in order: %s", code, strings.Count(out, "\n"), errOut)
	}

	code, _, errOut = stompest(t, lines, "-s", f.uri(), "send", "/queue/cut2", "--lines", "--receipt", "each")
	if code != cmdutil.ExitTempFail || !strings.Contains(errOut, "confirmed") {
		t.Errorf("without failover: exit %d, %q; want 75 and how many were confirmed", code, errOut)
	}
}

// TestFaultBlackhole: the link stays open but nothing comes from the
// broker any more. A subscriber that expects heart-beats every second
// declares the broker lost within 2.75 intervals (2.5 after the last frame
// it read, checked every quarter interval): exit 76, "heart-beat lost".
func TestFaultBlackhole(t *testing.T) {
	t.Parallel()
	acked, hook := onFirst(protocol.CmdAck)
	f := newFaultProxy(t, broker.Config{
		HeartBeat: protocol.HeartBeatSpec{Send: time.Second, Receive: time.Second},
		OnFrame:   hook,
	})
	if code, _, errOut := stompest(t, "", "-s", "tcp://"+f.b.Addr(), "send", "/queue/hole", "first"); code != 0 {
		t.Fatalf("send: %s", errOut)
	}
	start := make(chan time.Time, 1)
	go func() {
		// Once the subscriber acknowledged the first message (so it is
		// subscribed and reading), nothing more reaches it.
		<-acked
		f.toxic(`{"name":"hole","type":"timeout","stream":"downstream","attributes":{"timeout":0}}`)
		start <- time.Now()
	}()
	code, out, errOut := stompest(t, "", "-s", f.uri(), "--heartbeat", "1s,1s", "subscribe", "/queue/hole", "--count", "2")
	lost := time.Now()
	if code != cmdutil.ExitProtocol || !strings.Contains(errOut, "heart-beat lost") || out != "first\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 76, first, heart-beat lost", code, out, errOut)
	}
	if took := lost.Sub(<-start); took > 2750*time.Millisecond {
		t.Errorf("the loss was noticed after %v, want within 2.75 heart-beat intervals", took)
	}
}

// TestFaultSilentConnect: a peer that accepts TCP but never answers
// CONNECT: the connect timeout ends the attempt with exit 69, naming why.
func TestFaultSilentConnect(t *testing.T) {
	t.Parallel()
	f := newFaultProxy(t, broker.Config{})
	f.toxic(`{"name":"mute","type":"timeout","stream":"upstream","attributes":{"timeout":0}}`)
	code, _, errOut := stompest(t, "", "-s", f.uri(), "--connect-timeout", "1s", "send", "/queue/x", "y")
	if code != cmdutil.ExitUnavailable || !strings.Contains(errOut, "no CONNECTED in time") {
		t.Errorf("exit %d, %q; want 69 and no CONNECTED in time", code, errOut)
	}
}

// TestFaultBrokerReplaced: the broker behind a failover URI is stopped and
// another one started at the same address; a subscriber reconnects,
// replays its subscription and receives what is sent to the new broker.
func TestFaultBrokerReplaced(t *testing.T) {
	t.Parallel()
	acked, ackHook := onFirst(protocol.CmdAck)
	first := broker.New(broker.Config{Addr: "127.0.0.1:0", OnFrame: ackHook})
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	addr := first.Addr()
	subscribed, subHook := onFirst(protocol.CmdSubscribe)
	second := broker.New(broker.Config{Addr: addr, OnFrame: subHook})
	defer second.Close()
	if code, _, errOut := stompest(t, "", "-s", "tcp://"+addr, "send", "/queue/replaced", "before"); code != 0 {
		t.Fatalf("send: %s", errOut)
	}
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		fo := "failover:(tcp://" + addr + ")?initialReconnectDelay=10&maxReconnectDelay=100&maxReconnectAttempts=200"
		code, out, errOut := stompest(t, "", "-s", fo, "subscribe", "/queue/replaced", "--count", "2")
		done <- result{code, out, errOut}
	}()
	<-acked
	first.Close()
	if err := second.Start(); err != nil {
		t.Fatalf("a new broker at %s: %v", addr, err)
	}
	select {
	case <-subscribed:
	case r := <-done:
		t.Fatalf("subscribe ended before resubscribing: exit %d: %s", r.code, r.err)
	case <-time.After(20 * time.Second):
		t.Fatal("the subscription was not replayed on the new broker")
	}
	if code, _, errOut := stompest(t, "", "-s", "tcp://"+addr, "send", "/queue/replaced", "after"); code != 0 {
		t.Fatalf("send to the new broker: %s", errOut)
	}
	select {
	case r := <-done:
		if r.code != 0 || r.out != "before\nafter\n" {
			t.Errorf("exit %d, stdout %q, stderr %q; want 0, before and after", r.code, r.out, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("subscribe did not receive the message sent to the new broker")
	}
}
