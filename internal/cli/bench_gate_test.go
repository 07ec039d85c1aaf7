package cli

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/protocol"
)

// TestBenchRateCountsStalls: with --rate, latency is measured from the
// time a message was meant to leave. The broker stalls for 200 ms on one
// COMMIT, which holds the producer (it waits for COMMIT's receipt); the
// ~200 messages scheduled meanwhile leave late, all at once, and their
// latencies include the wait: a tenth of the messages took 50 ms or more.
// Measured from when they actually left, they would look fast.
func TestBenchRateCountsStalls(t *testing.T) {
	t.Parallel()
	const stall = 200 * time.Millisecond
	var commits atomic.Int64
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", OnFrame: func(f *protocol.Frame) {
		if f.Command == protocol.CmdCommit && commits.Add(1) == 30 {
			time.Sleep(stall) // the broker's lock is held: everything waits
		}
	}})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	code, out, errOut := stompest(t, "", "-s", "tcp://"+b.Addr(), "bench", "/queue/stall",
		"--rate", "1000/s", "--count", "1000", "--transaction-batch", "10", "-o", "json")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut)
	}
	var rep struct {
		Rate struct {
			MaxLagMS float64 `json:"max_lag_ms"`
		} `json:"rate"`
		Consumers struct {
			Messages int64 `json:"messages"`
		} `json:"consumers"`
		Latency struct {
			P90 float64 `json:"p90_ms"`
			Max float64 `json:"max_ms"`
		} `json:"latency"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("p90 %.3f ms, max %.3f ms, producers at most %.3f ms behind", rep.Latency.P90, rep.Latency.Max, rep.Rate.MaxLagMS)
	if commits.Load() < 30 || rep.Consumers.Messages != 1000 {
		t.Fatalf("%d COMMITs, %d messages received: %s", commits.Load(), rep.Consumers.Messages, out)
	}
	if rep.Latency.P90 < 50 || rep.Latency.Max < 190 {
		t.Errorf("p90 %.3f ms, max %.3f ms: the stall of %v does not show", rep.Latency.P90, rep.Latency.Max, stall)
	}
	if rep.Rate.MaxLagMS < 150 {
		t.Errorf("producers at most %.3f ms behind the schedule, through a stall of %v", rep.Rate.MaxLagMS, stall)
	}
}
