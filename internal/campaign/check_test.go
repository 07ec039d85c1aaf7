package campaign

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCheck: the invariants find each kind of violation in made-up
// outcomes, and none in a sound one.
func TestCheck(t *testing.T) {
	t.Parallel()
	msgs := []string{"0:a", "1:bb", "2:", "3:dddd"}
	tests := []struct {
		name string
		s    Schedule
		r    result
		want string // "" for no violation
	}{
		{"send all confirmed", Schedule{Command: Send, Receipt: "last"},
			result{exit: 0, drained: map[string][]string{queue: msgs}}, ""},
		{"send exit 0 lost one", Schedule{Command: Send, Receipt: "last"},
			result{exit: 0, drained: map[string][]string{queue: msgs[1:]}}, "message 0 reported confirmed"},
		{"send 2 of 4 confirmed", Schedule{Command: Send, Receipt: "last"},
			result{exit: 75, stderr: "stompest: send: connection lost: 2 of 4 confirmed", drained: map[string][]string{queue: msgs[:2]}}, ""},
		{"send 3 of 4 confirmed, 2 there", Schedule{Command: Send, Receipt: "last"},
			result{exit: 75, stderr: "stompest: send: connection lost: 3 of 4 confirmed", drained: map[string][]string{queue: msgs[:2]}}, "message 2 reported confirmed"},
		{"send duplicate without resend", Schedule{Command: Send, Receipt: "last"},
			result{exit: 0, drained: map[string][]string{queue: append(slices.Clone(msgs), msgs[1])}}, "in the broker 2 times"},
		{"send duplicate after failover resend", Schedule{Command: Send, Receipt: "each", Failover: true},
			result{exit: 0, drained: map[string][]string{queue: append(slices.Clone(msgs), msgs[1])}}, ""},
		{"send internal error", Schedule{Command: Send, Receipt: "last"},
			result{exit: 70, drained: map[string][]string{queue: msgs}}, "exit 70"},
		{"send exit 76 without a stall", Schedule{Command: Send, Receipt: "last"},
			result{exit: 76, drained: map[string][]string{queue: msgs}}, "exit 76"},
		{"signal not caught after connecting", Schedule{Command: Send, Receipt: "last", Signal: 2},
			result{exit: -1, killedBySignal: true, proxy: Stats{Conns: 1}, drained: map[string][]string{}}, "not caught"},
		{"transaction in part", Schedule{Command: SendTx, Receipt: "last"},
			result{exit: 75, drained: map[string][]string{queue: msgs[:3]}}, "in part"},
		{"transaction said aborted", Schedule{Command: SendTx, Receipt: "last"},
			result{exit: 75, stderr: "transaction aborted, nothing of 4 committed", drained: map[string][]string{queue: msgs}}, "was aborted"},
		{"subscribe: written or left", Schedule{Command: Subscribe},
			result{exit: 0, stdout: "0:a\n1:bb\n", drained: map[string][]string{queue: msgs[1:]}}, ""},
		{"subscribe: one lost", Schedule{Command: Subscribe},
			result{exit: 0, stdout: "0:a\n", drained: map[string][]string{queue: msgs[2:]}}, "1 messages lost"},
		{"subscribe --count exceeded", Schedule{Command: Subscribe, StopCount: true, Messages: 1},
			result{exit: 0, stdout: "0:a\n1:bb\n", drained: map[string][]string{queue: msgs[2:]}}, "--count 1: 2 messages written"},
		{"subscribe --dedupe twice", Schedule{Command: Subscribe, Dedupe: true},
			result{exit: 0, stdout: "0:a\n0:a\n", drained: map[string][]string{queue: msgs[1:]}}, "handed over 2 times"},
		{"subscribe --exec handled or left", Schedule{Command: SubscribeExec, OnError: "stop"},
			result{exit: 0, handled: []string{"0", "3"}, drained: map[string][]string{queue: msgs[1:3]}}, ""},
		{"subscribe --exec exit 1 without failures", Schedule{Command: SubscribeExec, OnError: "stop"},
			result{exit: 1, handled: []string{"0", "3"}, drained: map[string][]string{queue: msgs[1:3]}}, "exit 1"},
		{"subscribe --exec one lost", Schedule{Command: SubscribeExec, OnError: "nack"},
			result{exit: 0, handled: []string{"0"}, drained: map[string][]string{queue: msgs[1:3]}}, "1 messages lost"},
		{"move sound", Schedule{Command: Move, MoveAll: true},
			result{exit: 0, stderr: "moved 2 messages from /queue/src to /queue/dst", drained: map[string][]string{moveSrc: msgs[2:], moveDest: msgs[:2]}}, ""},
		{"move count wrong", Schedule{Command: Move, MoveAll: true},
			result{exit: 0, stderr: "moved 1 messages from /queue/src to /queue/dst", drained: map[string][]string{moveSrc: msgs[2:], moveDest: msgs[:2]}}, "moved 1 messages; the destination holds 2"},
		{"move duplicate unreported", Schedule{Command: Move, MoveAll: true},
			result{exit: 75, stderr: "moved 2 messages", drained: map[string][]string{moveSrc: msgs[1:], moveDest: msgs[:2]}}, "in both destinations"},
		{"move duplicate reported", Schedule{Command: Move, MoveAll: true},
			result{exit: 75, stderr: "COMMIT sent but not confirmed: it may now be in both destinations\nmoved 1 messages", drained: map[string][]string{moveSrc: msgs[1:], moveDest: msgs[:2]}}, ""},
		{"move lost", Schedule{Command: Move, MoveAll: true},
			result{exit: 0, stderr: "moved 1 messages", drained: map[string][]string{moveSrc: msgs[2:], moveDest: msgs[:1]}}, "1 messages lost"},
		{"hung", Schedule{Command: Move, MoveAll: true},
			result{exit: -1, hung: true, stderr: "moved 2 messages", drained: map[string][]string{moveSrc: msgs[2:], moveDest: msgs[:2]}}, "did not end"},
	}
	for _, tt := range tests {
		tt.s.Messages = max(tt.s.Messages, len(msgs))
		if tt.name == "subscribe --count exceeded" {
			tt.s.Messages = 1
		}
		got := check(&tt.s, msgs, &tt.r)
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%s: violations %q, want none", tt.name, got)
		case tt.want != "" && !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tt.want) }):
			t.Errorf("%s: violations %q, want one saying %q", tt.name, got, tt.want)
		}
	}
}

// TestDraw: a seed gives one schedule, always the same; none meets a known
// defect; the schedules vary over seeds.
func TestDraw(t *testing.T) {
	t.Parallel()
	seen := map[Command]bool{}
	for seed := uint64(1); seed <= 500; seed++ {
		a, _ := Draw(seed)
		b, _ := Draw(seed)
		if a.String() != b.String() {
			t.Fatalf("seed %d drew %s, then %s", seed, a, b)
		}
		if name := a.avoided(); name != "" {
			t.Fatalf("seed %d drew a known defect: %s", seed, name)
		}
		if a.SignalAt < 0 || a.Messages < 1 {
			t.Fatalf("seed %d: %s", seed, a)
		}
		for _, o := range a.Outages {
			if o.For <= 0 || o.For > 2*time.Second {
				t.Fatalf("seed %d: outage %+v", seed, o)
			}
		}
		seen[a.Command] = true
	}
	if len(seen) != len(commands) {
		t.Errorf("500 seeds drew the commands %v; want all %d", seen, len(commands))
	}
}
