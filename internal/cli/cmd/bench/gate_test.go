package bench

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stompest/stompest/internal/cli/cmdtest"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// TestParseConditions: --fail-if's figures, operators and thresholds.
func TestParseConditions(t *testing.T) {
	t.Parallel()
	got, err := parseConditions(" p99>20ms, p99.9 >= 1.5s,P50<500us,max>1h, throughput<50000 ,producer_throughput<=1000/s,p99.99>0s")
	if err != nil {
		t.Fatal(err)
	}
	want := []condition{
		{text: "p99>20ms", figure: "p99", op: ">", threshold: 20e6, shown: "20ms", pct: 99},
		{text: "p99.9 >= 1.5s", figure: "p99.9", op: ">=", threshold: 1.5e9, shown: "1.5s", pct: 99.9},
		{text: "P50<500us", figure: "p50", op: "<", threshold: 500e3, shown: "500us", pct: 50},
		{text: "max>1h", figure: "max", op: ">", threshold: float64(time.Hour), shown: "1h", pct: 100},
		{text: "throughput<50000", figure: "throughput", op: "<", threshold: 50000, shown: "50000"},
		{text: "producer_throughput<=1000/s", figure: "producer_throughput", op: "<=", threshold: 1000, shown: "1000/s"},
		{text: "p99.99>0s", figure: "p99.99", op: ">", threshold: 0, shown: "0s", pct: 99.99},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if cs, err := parseConditions(""); err != nil || cs != nil {
		t.Errorf("empty --fail-if: %v, %v", cs, err)
	}
}

// TestParseConditionsRefused: a malformed condition is a usage error that
// quotes the part refused and says why.
func TestParseConditionsRefused(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"p99>20":                   `--fail-if "p99>20": p99 "20": want a duration with a unit, such as 20ms`,
		"p99>20ms,throughput<fast": `--fail-if "throughput<fast": throughput "fast": want messages per second`,
		"p99=20ms":                 `--fail-if "p99=20ms": no < or >`,
		"latency>20ms":             `--fail-if "latency>20ms": unknown figure "latency": want one of p50, p90`,
		"p0>1ms":                   `unknown figure "p0"`,
		"p100.1>1ms":               `unknown figure "p100.1"`,
		"pxx>1ms":                  `unknown figure "pxx"`,
		">20ms":                    `--fail-if ">20ms": no figure before >`,
		"p99>":                     `--fail-if "p99>": no value after >`,
		"p99>20ms,":                `--fail-if "": empty condition`,
		"p99>1ms>2ms":              `one comparison per condition`,
		"p99>-1ms":                 `p99 "-1ms": want a duration`,
		"p99>soon":                 `p99 "soon": want a duration`,
		"throughput<-5":            `throughput "-5": want messages per second`,
		"throughput<1ms":           `throughput "1ms": want messages per second`,
		"throughput<NaN":           `throughput "NaN"`,
	} {
		_, err := parseConditions(in)
		if err == nil {
			t.Errorf("%q accepted", in)
			continue
		}
		if code := cmdutil.ExitCode(err); code != cmdutil.ExitUsage {
			t.Errorf("%q: exit code %d, want %d", in, code, cmdutil.ExitUsage)
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %q, want it to hold %q", in, err, want)
		}
	}
}

// TestCheck: a condition says when the run fails; each one crossed has
// its line with the value measured; a latency condition fails when no
// latency was measured.
func TestCheck(t *testing.T) {
	t.Parallel()
	cs, err := parseConditions("p99>20ms,p99>1h,throughput<1000000000,throughput<10,producer_throughput>=500,max<=1s,p50<=23.1ms")
	if err != nil {
		t.Fatal(err)
	}
	rep := &benchReport{Producers: benchRole{MsgsPerSec: 500}, Consumers: benchRole{MsgsPerSec: 41230.4}}
	latencies := map[float64]float64{99: 23.1234e6, 100: 250e6, 50: 23.1e6}
	got := check(cs, rep, func(pct float64) (float64, bool) { return latencies[pct], true })
	want := []struct {
		failed bool
		line   string
	}{
		{true, "bench: p99 23.1ms > 20ms"},
		{false, "bench: p99 23.1ms > 1h"},
		{true, "bench: throughput 41230 msg/s < 1000000000"},
		{false, "bench: throughput 41230 msg/s < 10"},
		{true, "bench: producer_throughput 500 msg/s >= 500"},
		{true, "bench: max 250ms <= 1s"},
		{true, "bench: p50 23.1ms <= 23.1ms"},
	}
	for i, w := range want {
		if got[i].Failed != w.failed || got[i].line != w.line {
			t.Errorf("%s: failed %v, %q; want %v, %q", got[i].Condition, got[i].Failed, got[i].line, w.failed, w.line)
		}
	}
	if got[0].Measured != 23.1234 || got[0].Unit != "ms" || got[2].Measured != 41230.4 || got[2].Unit != "msg/s" {
		t.Errorf("measured: %+v", got)
	}

	none := check(cs[:2], rep, func(float64) (float64, bool) { return 0, false })
	for _, r := range none {
		if !r.Failed || r.Reason == "" || !strings.Contains(r.line, "not measured") {
			t.Errorf("no latency: %+v", r)
		}
	}
}

func TestShowDuration(t *testing.T) {
	t.Parallel()
	for ns, want := range map[float64]string{
		23112345: "23.1ms", 45234: "45.2µs", 999: "999ns", 1000: "1µs", 1234567890: "1.23s", 0: "0s", 20e6: "20ms",
	} {
		if got := showDuration(ns); got != want {
			t.Errorf("showDuration(%v) = %q, want %q", ns, got, want)
		}
	}
}

// TestSchedule: the intended send times of all producers together are
// the exact multiples of 1/rate, each once.
func TestSchedule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		perSec    float64
		producers int
		n         int
	}{{1000, 1, 10}, {1000, 3, 3001}, {20000, 4, 1000}, {3, 2, 7}, {0.5, 1, 4}} {
		s := schedule{perSec: tc.perSec, producers: tc.producers}
		var all []time.Duration
		for p := range tc.producers {
			m := share(tc.n, tc.producers, p)
			for j := range m {
				at := s.at(p, j)
				if j > 0 && at <= s.at(p, j-1) {
					t.Fatalf("%+v: producer %d: message %d at %v, not after %v", tc, p, j, at, s.at(p, j-1))
				}
				all = append(all, at)
			}
		}
		if len(all) != tc.n {
			t.Fatalf("%+v: %d messages in all, want %d", tc, len(all), tc.n)
		}
		slices.Sort(all)
		for k, at := range all {
			want := time.Duration(float64(k)*1e9/tc.perSec + 0.5)
			if at != want {
				t.Fatalf("%+v: message %d of the run at %v, want %v", tc, k, at, want)
			}
		}
	}
	// A fixed example: 4 producers at 1000/s take 1 ms turns.
	s := schedule{perSec: 1000, producers: 4}
	if got := []time.Duration{s.at(0, 0), s.at(1, 0), s.at(3, 0), s.at(0, 1), s.at(2, 5)}; !slices.Equal(got, []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond, 22 * time.Millisecond}) {
		t.Errorf("intended times %v", got)
	}
}

// TestScheduleWithin: with --duration D the schedule holds the messages
// meant to leave before D.
func TestScheduleWithin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		perSec float64
		d      time.Duration
		want   int
	}{
		{1000, time.Second, 1000},
		{1000, time.Second + time.Nanosecond, 1001},
		{1000, 999 * time.Millisecond, 999},
		{20000, 3 * time.Second, 60000},
		{3, time.Second, 3},
		{3, 334 * time.Millisecond, 2}, // 0 and 333.33 ms
		{0.5, 10 * time.Second, 5},
		{1000, 0, 0},
	} {
		s := schedule{perSec: tc.perSec, producers: 1}
		if got := s.within(tc.d); got != tc.want {
			t.Errorf("%v/s within %v: %d, want %d", tc.perSec, tc.d, got, tc.want)
		}
	}
	if got := (schedule{perSec: 20000, producers: 4}).flushEvery(); got != 5 {
		t.Errorf("flushEvery at 5000/s per producer: %d, want 5", got)
	}
	if got := (schedule{perSec: 100, producers: 1}).flushEvery(); got != 1 {
		t.Errorf("flushEvery at 100/s: %d, want 1", got)
	}
}

// TestHistogramLog: the file written is the HdrHistogram log format, and
// the library reads back what was recorded.
func TestHistogramLog(t *testing.T) {
	t.Parallel()
	h := newLatencies()
	for i := int64(1); i <= 1000; i++ {
		record(h, i*int64(time.Microsecond)) // 1 µs to 1 ms
	}
	record(h, 2*int64(time.Hour)) // kept as the longest the histogram holds
	start := time.Date(2026, 12, 5, 10, 0, 0, 250e6, time.UTC)
	var buf bytes.Buffer
	if err := writeHistogramLog(&buf, h, start, time.Second, 3*time.Second, "stompest bench /queue/x"); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	if first != "#[Histogram log format version 1.3]" {
		t.Errorf("first line %q", first)
	}
	r := hdrhistogram.NewHistogramLogReader(bufio.NewReader(&buf))
	got, err := r.NextIntervalHistogram()
	if err != nil || got == nil {
		t.Fatalf("read back: %v, %v", got, err)
	}
	if n := got.TotalCount(); n != 1001 {
		t.Errorf("read back %d values, want 1001", n)
	}
	if p50 := got.ValueAtPercentile(50); !got.ValuesAreEquivalent(p50, 501*int64(time.Microsecond)) {
		t.Errorf("p50 read back %d ns, want about 501 µs", p50)
	}
	if m := got.Max(); !got.ValuesAreEquivalent(m, int64(time.Hour)) {
		t.Errorf("max read back %d ns, want an hour", m)
	}
	// The interval is the second to the third second of the run, after
	// the base time in whole seconds.
	if s, e := got.StartTimeMs(), got.EndTimeMs(); e-s != 2000 || s != start.Add(time.Second).UnixMilli() {
		t.Errorf("interval %d to %d ms, want %d to +2000", s, e, start.Add(time.Second).UnixMilli())
	}
	if next, err := r.NextIntervalHistogram(); next != nil || err != nil {
		t.Errorf("a second interval: %v, %v", next, err)
	}
}

// TestDistribution: the rows cover the latencies in a 1-2-5 sequence and
// their shares add up to all of them.
func TestDistribution(t *testing.T) {
	t.Parallel()
	if got := distributionBounds(37e3, 3e6); !slices.Equal(got, []int64{50e3, 100e3, 200e3, 500e3, 1e6, 2e6, 5e6}) {
		t.Errorf("bounds 37µs to 3ms: %v", got)
	}
	if got := distributionBounds(1e3, 5e9); !slices.Equal(got, []int64{1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}) {
		t.Errorf("bounds 1µs to 5s, a row per decade: %v", got)
	}
	h := newLatencies()
	for range 600 {
		record(h, 80e3) // ≤ 100µs
	}
	for range 300 {
		record(h, 150e3) // ≤ 200µs
	}
	for range 99 {
		record(h, 4e6) // ≤ 5ms
	}
	record(h, 9e6) // ≤ 10ms, one of a thousand
	var buf bytes.Buffer
	printDistribution(&buf, h)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []struct {
		label, share string
		bar          int
	}{
		{"≤ 100µs", "60.0%", 40}, {"≤ 200µs", "30.0%", 20}, {"≤ 500µs", "0.0%", 0},
		{"≤ 1ms", "0.0%", 0}, {"≤ 2ms", "0.0%", 0}, {"≤ 5ms", "9.9%", 7}, {"≤ 10ms", "0.1%", 1},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		f := strings.Fields(lines[i])
		bar := strings.Count(lines[i], "█")
		if f[0]+" "+f[1] != w.label || f[len(f)-1] != w.share || bar != w.bar {
			t.Errorf("row %d %q: want %s, %d bars, %s", i, lines[i], w.label, w.bar, w.share)
		}
	}
	// One message in ten thousand still has its bar, and a share above 0.
	h = newLatencies()
	for range 9999 {
		record(h, 80e3)
	}
	record(h, 9e6)
	buf.Reset()
	printDistribution(&buf, h)
	if lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n"); !strings.HasSuffix(lines[len(lines)-1], "█"+strings.Repeat(" ", 39)+" <0.1%") {
		t.Errorf("the one slow message drawn as %q", lines[len(lines)-1])
	}
	buf.Reset()
	printDistribution(&buf, newLatencies())
	if buf.Len() != 0 {
		t.Errorf("no latencies drawn as %q", buf.String())
	}
}

// TestPrintBenchDistribution: the text report draws the latencies under
// its figures on a terminal only.
func TestPrintBenchDistribution(t *testing.T) {
	t.Parallel()
	h := newLatencies()
	for i := range 100 {
		record(h, int64(i+1)*int64(time.Millisecond))
	}
	rep := benchReport{Destination: "/queue/x", Consumers: benchRole{Count: 1, Messages: 100}, Latency: benchLatency{Messages: 100, P50: 50}}
	for _, tty := range []bool{false, true} {
		f, out, _ := cmdtest.Factory("")
		f.OutTTY = tty
		(&Options{Factory: f}).printBench(rep, h)
		if drawn := strings.Contains(out.String(), "█"); drawn != tty {
			t.Errorf("terminal %v: drawn %v:\n%s", tty, drawn, out)
		}
		if !strings.Contains(out.String(), "latency   p50 50.000 ms") {
			t.Errorf("terminal %v: no latency line:\n%s", tty, out)
		}
	}
}
