package check

import (
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
	"github.com/stompest/stompest/internal/cli/stats"
)

// TestNewCmd checks what check makes of its flags, without running it.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, nil, NewCmd, "--depth", "/queue/a<=5", "--consumers", "/queue/a>=2,1", "--cert-expiry", "30d,7d", "-o", "json", "--canary=false")
	if got.output != "json" || got.canary || len(got.depth) != 1 || len(got.consumers) != 1 || got.certExpiry != "30d,7d" {
		t.Errorf("options %+v", got)
	}
	got = cmdtest.Parse(t, nil, NewCmd)
	if got.output != "nagios" || !got.canary || got.canaryWait != 5*time.Second {
		t.Errorf("defaults: options %+v", got)
	}
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	depth, err := parseThreshold("depth", "/queue/orders.*<=100,1000", "<=")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int64]state{0: ok, 100: ok, 101: warning, 1000: warning, 1001: critical} {
		if got, _ := depth.judge("/queue/orders.eu", "depth", n); got != want {
			t.Errorf("depth %d: %v, want %v", n, got, want)
		}
	}
	if _, why := depth.judge("/queue/orders.eu", "depth", 1500); why != "/queue/orders.eu depth 1500 > 1000" {
		t.Errorf("why %q", why)
	}
	cons, err := parseThreshold("consumers", "/queue/jobs>=2,1", ">=")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int64]state{3: ok, 2: ok, 1: warning, 0: critical} {
		if got, _ := cons.judge("/queue/jobs", "consumers", n); got != want {
			t.Errorf("consumers %d: %v, want %v", n, got, want)
		}
	}
	one, err := parseThreshold("depth", "/queue/a<=0", "<=")
	if err != nil || one.hasWarn || one.levels() != ";0" {
		t.Errorf("one level: %+v %v", one, err)
	}
	if got, _ := one.judge("/queue/a", "depth", 1); got != critical {
		t.Errorf("one level crossed: %v", got)
	}
	for _, bad := range []string{"/queue/a", "<=5", "/queue/a<=", "/queue/a<=x", "/queue/a<=-1", "/queue/a<=10,5", "/queue/[<=1"} {
		if _, err := parseThreshold("depth", bad, "<="); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if _, err := parseThreshold("consumers", "/queue/a>=1,2", ">="); err == nil {
		t.Error("a consumers warning level below the critical one parsed")
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	w, c, err := parseExpiry("30d,72h")
	if err != nil || w != 30*24*time.Hour || c != 72*time.Hour {
		t.Errorf("30d,72h: %v %v %v", w, c, err)
	}
	for _, bad := range []string{"soon", "7d,30d", "-1d", "14x"} {
		if _, _, err := parseExpiry(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	depth, _ := parseThreshold("depth", "/queue/o<=10,20", "<=")
	canary := 0.5
	n := int64(15)
	r := report{Status: "WARNING", Code: 1, state: warning, Problems: []string{"/queue/o depth 15 > 10"},
		plan: plan{thresholds: []threshold{depth}, depths: 1},
		Brokers: []brokerCheck{
			{Broker: "tcp://a:1", Up: true, ConnectMS: 1.25, CanaryMS: &canary, Destinations: []stats.Figures{{Destination: "/queue/o", Depth: &n}}},
			{Broker: "tcp://b:1", Error: "refused"},
		}}
	got := nagios(r)
	want := "STOMP WARNING - /queue/o depth 15 > 10 | 'connect tcp://a:1'=1.25ms;;;0 'canary tcp://a:1'=0.5ms;;;0 'depth /queue/o tcp://a:1'=15;10;20;0"
	if got != want {
		t.Errorf("nagios:\n got %s\nwant %s", got, want)
	}
	var b strings.Builder
	if err := prometheus(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"stompest_check_status 1\n",
		`stompest_check_up{broker="tcp://a:1"} 1` + "\n",
		`stompest_check_up{broker="tcp://b:1"} 0` + "\n",
		`stompest_check_connect_seconds{broker="tcp://a:1"} 0.00125` + "\n",
		`stompest_check_canary_seconds{broker="tcp://a:1"} 0.0005` + "\n",
		`stompest_check_depth{broker="tcp://a:1",destination="/queue/o"} 15` + "\n",
		"# TYPE stompest_check_depth gauge\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("prometheus output lacks %q:\n%s", line, b.String())
		}
	}
	if quote(`a"b\c`) != `"a\"b\\c"` {
		t.Errorf("quote: %s", quote(`a"b\c`))
	}
}
