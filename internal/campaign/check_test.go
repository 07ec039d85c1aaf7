package campaign

import (
	"slices"
	"strings"
	"syscall"
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
			result{exit: 0, stderr: "moved 1 message from /queue/src to /queue/dst", drained: map[string][]string{moveSrc: msgs[2:], moveDest: msgs[:2]}}, "moved 1 messages; the destination holds 2"},
		{"move duplicate unreported", Schedule{Command: Move, MoveAll: true},
			result{exit: 75, stderr: "moved 2 messages", drained: map[string][]string{moveSrc: msgs[1:], moveDest: msgs[:2]}}, "in both destinations"},
		{"move duplicate reported", Schedule{Command: Move, MoveAll: true},
			result{exit: 75, stderr: "COMMIT sent but not confirmed: it may now be in both destinations\nmoved 1 message", drained: map[string][]string{moveSrc: msgs[1:], moveDest: msgs[:2]}}, ""},
		{"move batch unknown, committed", Schedule{Command: Move, MoveAll: true, MoveBatch: 3},
			result{exit: 75, stderr: "commit: COMMIT sent but not confirmed: these 2 may now be in both destinations\nmoved 0 messages", drained: map[string][]string{moveSrc: msgs[2:], moveDest: msgs[:2]}}, ""},
		{"move batch unknown, more than the batch", Schedule{Command: Move, MoveAll: true, MoveBatch: 3},
			result{exit: 75, stderr: "commit: COMMIT sent but not confirmed: these 2 may now be in both destinations\nmoved 0 messages", drained: map[string][]string{moveSrc: msgs[3:], moveDest: msgs[:3]}}, "the destination holds 3"},
		{"move lost", Schedule{Command: Move, MoveAll: true},
			result{exit: 0, stderr: "moved 1 message", drained: map[string][]string{moveSrc: msgs[2:], moveDest: msgs[:1]}}, "1 messages lost"},
		{"hung", Schedule{Command: Move, MoveAll: true},
			result{exit: -1, hung: true, stderr: "moved 2 messages", drained: map[string][]string{moveSrc: msgs[2:], moveDest: msgs[:2]}}, "did not end"},

		// signals: SIGHUP's code, and the time from the signal to the end
		{"SIGHUP caught", Schedule{Command: Send, Receipt: "last", Signal: syscall.SIGHUP, DisconnectTimeout: time.Second},
			result{exit: 129, signalled: true, stopTook: 3 * time.Second, drained: map[string][]string{queue: msgs}}, ""},
		{"exit 129 without a signal", Schedule{Command: Send, Receipt: "last"},
			result{exit: 129, drained: map[string][]string{queue: msgs}}, "exit 129"},
		{"signalled command ends late", Schedule{Command: Send, Receipt: "last", Signal: syscall.SIGTERM, DisconnectTimeout: time.Second},
			result{exit: 143, signalled: true, stopTook: time.Second + StopBound + time.Millisecond, drained: map[string][]string{queue: msgs}}, "more than --disconnect-timeout"},
		{"handler left running", Schedule{Command: SubscribeExec, OnError: "nack"},
			result{exit: 0, handled: []string{"0", "1", "2", "3"}, leftBehind: []int{4242}, drained: map[string][]string{}}, "still running"},

		// a reader that closes the pipe: what it read whole, or the broker
		{"pipe reader gone, the rest in the broker", Schedule{Command: Subscribe, Pipe: true},
			result{exit: 0, readerClosed: true, stdout: "0:a\n1:", drained: map[string][]string{queue: msgs[1:]}}, ""},
		{"pipe reader gone, a message read in part acked", Schedule{Command: Subscribe, Pipe: true},
			result{exit: 0, readerClosed: true, stdout: "0:a\n1:", drained: map[string][]string{queue: msgs[2:]}}, "neither read out of the pipe"},
		{"pipe reader gone, --count not reached is no violation", Schedule{Command: Subscribe, Pipe: true, StopCount: true},
			result{exit: 0, readerClosed: true, stdout: "0:a\n", drained: map[string][]string{queue: msgs[1:]}}, ""},
		{"subscribe exit 74", Schedule{Command: Subscribe, Pipe: true},
			result{exit: 74, readerClosed: true, stdout: "0:a\n", drained: map[string][]string{queue: msgs[1:]}}, "exit 74"},

		// ack modes
		{"--ack auto loses on a reset", Schedule{Command: Subscribe, Ack: "auto"},
			result{exit: 0, proxy: Stats{Resets: 1}, stdout: "0:a\n", drained: map[string][]string{}}, ""},
		{"--ack auto: --idle in a stall loses what was on its way", Schedule{Command: Subscribe, Ack: "auto", Timeout: CommandTimeout},
			result{exit: 0, proxy: Stats{Stalls: 1}, stdout: "0:a\n", drained: map[string][]string{}}, ""},
		{"--ack auto: a short --timeout loses what was on its way", Schedule{Command: Subscribe, Ack: "auto", Timeout: time.Second},
			result{exit: 0, stdout: "0:a\n", drained: map[string][]string{}}, ""},
		{"--ack auto: a quiet run with the long --timeout", Schedule{Command: Subscribe, Ack: "auto", Timeout: CommandTimeout},
			result{exit: 0, stdout: "0:a\n", drained: map[string][]string{}}, "messages lost"},
		{"--ack client loses on a reset", Schedule{Command: Subscribe, Ack: "client"},
			result{exit: 0, proxy: Stats{Resets: 1}, stdout: "0:a\n", drained: map[string][]string{queue: msgs[2:]}}, "1 messages lost"},

		// send --input jsonl: each message where its record said
		{"jsonl sound", Schedule{Command: SendJSONL, Receipt: "last"},
			result{exit: 0, drained: map[string][]string{queue: {msgs[0], msgs[1], msgs[3]}, queue2: {msgs[2]}}}, ""},
		{"jsonl wrong destination", Schedule{Command: SendJSONL, Receipt: "last"},
			result{exit: 0, drained: map[string][]string{queue: msgs}}, "its record named /queue/c2"},
		{"jsonl confirmed, not there", Schedule{Command: SendJSONL, Receipt: "last"},
			result{exit: 75, stderr: "4 of 4 confirmed", drained: map[string][]string{queue: msgs[:2]}}, "message 2 reported confirmed"},

		// reply acknowledges only what it answered
		{"reply sound", Schedule{Command: Reply, Echo: true},
			result{exit: 75, drained: map[string][]string{replyQueue: {msgs[0], msgs[1], msgs[1]}, queue: msgs[2:]}}, ""},
		{"reply acked without an answer", Schedule{Command: Reply, Echo: true},
			result{exit: 0, drained: map[string][]string{replyQueue: msgs[:3]}}, "1 requests acknowledged without an answer"},
		{"reply answers nothing sent", Schedule{Command: Reply, Echo: true},
			result{exit: 0, drained: map[string][]string{replyQueue: append(slices.Clone(msgs), "9:z")}}, "answer no request"},
		{"reply exit 1 with a failing handler", Schedule{Command: Reply, Fails: map[int]int{1: 1}},
			result{exit: 1, drained: map[string][]string{replyQueue: msgs[:1], queue: msgs[1:]}}, ""},
		{"reply exit 1 with a hanging handler", Schedule{Command: Reply, Hangs: map[int]int{1: 1}},
			result{exit: 1, drained: map[string][]string{replyQueue: msgs[:1], queue: msgs[1:]}}, ""},
		{"reply exit 1 without failures", Schedule{Command: Reply},
			result{exit: 1, drained: map[string][]string{replyQueue: msgs[:1], queue: msgs[1:]}}, "exit 1"},

		// request: its replies, each once, and a true count
		{"request sound", Schedule{Command: Request},
			result{exit: 0, stdout: strings.Join(msgs, "\n") + "\n", drained: map[string][]string{}}, ""},
		{"request exit 0, one missing", Schedule{Command: Request},
			result{exit: 0, stdout: "0:a\n1:bb\n2:\n", drained: map[string][]string{}}, "exit 0 with 3 of 4"},
		{"request reply twice", Schedule{Command: Request},
			result{exit: 0, stdout: "0:a\n1:bb\n2:\n2:\n", drained: map[string][]string{}}, "printed 2 times"},
		{"request miscounts", Schedule{Command: Request},
			result{exit: 75, stderr: "request: 2 of 4 replies within 1s", stdout: "0:a\n", drained: map[string][]string{}}, "printed 1"},
		{"request not a reply", Schedule{Command: Request},
			result{exit: 75, stderr: "request: 1 of 4 replies within 1s", stdout: "request\n", drained: map[string][]string{}}, "no reply"},
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
// defect; the schedules vary over seeds, and each drawn option is one the
// command takes.
func TestDraw(t *testing.T) {
	t.Parallel()
	seen := map[Command]bool{}
	sigs := map[syscall.Signal]bool{}
	acks := map[string]bool{}
	hangs, closes, echoes, known := 0, 0, 0, 0
	for seed := uint64(1); seed <= 2000; seed++ {
		a, _ := Draw(seed)
		b, _ := Draw(seed)
		if a.String() != b.String() {
			t.Fatalf("seed %d drew %s, then %s", seed, a, b)
		}
		if name := a.avoided(); name != "" {
			t.Fatalf("seed %d drew a known defect: %s", seed, name)
		}
		if DrawAny(seed).avoided() != "" {
			known++
		}
		for _, limits := range [][]Avoided{ActiveMQLimits, RabbitMQLimits} {
			if c, _ := Draw(seed, limits...); c.avoided(limits...) != "" {
				t.Fatalf("seed %d drew for a broker what it cannot do: %s", seed, c.avoided(limits...))
			}
		}
		if a.SignalAt < 0 || a.Messages < 1 {
			t.Fatalf("seed %d: %s", seed, a)
		}
		for _, o := range a.Outages {
			if o.For <= 0 || o.For > 2*time.Second {
				t.Fatalf("seed %d: outage %+v", seed, o)
			}
		}
		switch {
		case a.DisconnectTimeout <= 0 || a.DisconnectTimeout > 1500*time.Millisecond:
			t.Fatalf("seed %d: --disconnect-timeout %v: the bound of a signalled command's end assumes at most 1.5 s", seed, a.DisconnectTimeout)
		case a.Ack == "client" && a.Concurrency > 1:
			t.Fatalf("seed %d: --ack client with --concurrency %d is refused", seed, a.Concurrency)
		case a.Ack == "auto" && a.Command != Subscribe:
			t.Fatalf("seed %d: --ack auto only for subscribe -o body (--exec refuses it)", seed)
		case len(a.Hangs) > 0 && a.ExecTimeout <= 0:
			t.Fatalf("seed %d: hanging handlers without --exec-timeout", seed)
		case a.Echo && len(a.Fails)+len(a.Hangs) > 0:
			t.Fatalf("seed %d: reply --echo runs no handler", seed)
		case a.CloseAfter > 0 && !a.Pipe:
			t.Fatalf("seed %d: a reader closing a regular file", seed)
		case (a.Command == Subscribe || a.Command == SubscribeExec) && a.Timeout <= 0:
			t.Fatalf("seed %d: subscribe without --timeout", seed)
		}
		seen[a.Command] = true
		if a.Signal != 0 {
			sigs[a.Signal] = true
		}
		if a.Ack != "" {
			acks[a.Ack] = true
		}
		if len(a.Hangs) > 0 {
			hangs++
		}
		if a.CloseAfter > 0 {
			closes++
		}
		if a.Echo {
			echoes++
		}
	}
	if len(seen) != len(commands) {
		t.Errorf("2,000 seeds drew the commands %v; want all %d", seen, len(commands))
	}
	if len(sigs) != len(signals) || !sigs[syscall.SIGHUP] {
		t.Errorf("2,000 seeds drew the signals %v; want %v", sigs, signals)
	}
	if len(acks) != 3 {
		t.Errorf("2,000 seeds drew the ack modes %v; want auto, client and client-individual", acks)
	}
	if (known > 0) != (len(KnownDefects) > 0) {
		t.Errorf("2,000 seeds met a known defect %d times at the first draw, with %d known defects", known, len(KnownDefects))
	}
	if hangs == 0 || closes == 0 || echoes == 0 {
		t.Errorf("2,000 seeds drew %d schedules with hanging handlers, %d with a reader closing the pipe, %d with reply --echo; want some of each", hangs, closes, echoes)
	}
}
