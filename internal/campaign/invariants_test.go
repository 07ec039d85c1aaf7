package campaign

import (
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	reConfirmed = regexp.MustCompile(`(\d+) of (\d+) confirmed`)
	reMoved     = regexp.MustCompile(`moved (\d+) messages?`)
	reUncertain = regexp.MustCompile(`these (\d+) may now be in both destinations`)
	reReplies   = regexp.MustCompile(`(\d+) of (\d+) replies`)
)

// pipeAcksOnRead: on Linux subscribe acknowledges a message written into a
// pipe only once the reader has read it (FIONREAD); elsewhere once the pipe
// took its bytes, so a reader that goes away may lose what sat in it.
var pipeAcksOnRead = runtime.GOOS == "linux"

// violations collects what a schedule broke.
type violations []string

func (v *violations) add(format string, args ...any) { *v = append(*v, fmt.Sprintf(format, args...)) }

// check returns the violations of the schedule's invariants.
func check(s *Schedule, msgs []string, r *result) []string {
	var v violations
	if r.hung {
		v.add("the command did not end within %v", hardLimit)
	}
	if r.drainErr != nil {
		v.add("%v", r.drainErr)
	}
	checkExit(&v, s, r)
	if r.signalled && !r.killedBySignal && !r.hung && r.stopTook > s.DisconnectTimeout+StopBound {
		v.add("ended %v after %v: more than --disconnect-timeout %v + %v", r.stopTook.Round(time.Millisecond), s.Signal, s.DisconnectTimeout, StopBound)
	}
	if len(r.leftBehind) > 0 {
		v.add("%d handler processes still running after the command ended: pids %v", len(r.leftBehind), r.leftBehind)
	}
	c := counter{msgs: msgs}
	switch s.Command {
	case Send, SendJSONL:
		checkSend(&v, s, c, r)
	case SendTx:
		checkSendTx(&v, c, r)
	case Subscribe, SubscribeExec:
		checkSubscribe(&v, s, c, r)
	case Reply:
		checkReply(&v, c, r)
	case Request:
		checkRequest(&v, s, c, r)
	case Move:
		checkMove(&v, s, c, r)
	}
	return v
}

// checkExit: the exit code is one the schedule allows, never 70, and a
// signal is caught once the command has connected.
func checkExit(v *violations, s *Schedule, r *result) {
	allowed := map[int]bool{0: true, 69: true, 75: true}
	if s.Stalls() && s.HeartBeat > 0 {
		allowed[76] = true // heart-beat lost during a stall
	}
	if r.signalled {
		allowed[128+int(s.Signal)] = true
	}
	if (s.Command == Reply || (s.Command == SubscribeExec && s.OnError == "stop")) && s.FailingAttempts() > 0 {
		allowed[1] = true
	}
	switch {
	case r.killedBySignal && r.proxy.Conns == 0:
		// The signal came before stompest caught signals: it never connected.
	case r.killedBySignal:
		v.add("killed by %v after it had connected: the signal was not caught", s.Signal)
	case r.exit == 70:
		v.add("exit 70 (internal error) under network faults")
	case !r.hung && !allowed[r.exit]:
		v.add("exit %d: not one of %v for this schedule", r.exit, keys(allowed))
	}
}

// counter counts message bodies by their number.
type counter struct{ msgs []string }

// count returns how often each message is among bodies, and the bodies
// that are no message of the schedule.
func (c counter) count(bodies []string) (map[int]int, []string) {
	n := map[int]int{}
	var bad []string
	for _, b := range bodies {
		id := idOf(b)
		if id < 0 || id >= len(c.msgs) || b != c.msgs[id] {
			bad = append(bad, b)
			continue
		}
		n[id]++
	}
	return n, bad
}

// tally counts bodies as count does, and reports the bodies that are no
// message of the schedule as what.
func (c counter) tally(v *violations, bodies []string, what string) map[int]int {
	n, bad := c.count(bodies)
	if len(bad) > 0 {
		v.add("%d %s, such as %.60q", len(bad), what, bad[0])
	}
	return n
}

// neither returns the messages counted in neither a nor b.
func (c counter) neither(a, b map[int]int) []int {
	var ids []int
	for i := range c.msgs {
		if a[i] == 0 && b[i] == 0 {
			ids = append(ids, i)
		}
	}
	return ids
}

// checkSend: every message reported confirmed is in the broker, in the
// destination its record named; none twice unless send resends; nothing
// that was not sent.
func checkSend(v *violations, s *Schedule, c counter, r *result) {
	got := map[int]int{}
	for _, d := range destinations(s) {
		n := c.tally(v, r.drained[d], "messages in "+s.Dest(d)+" that were not sent")
		for i, k := range n {
			if want := destOf(s.Command, i); d != want {
				v.add("message %d is in %s; its record named %s", i, s.Dest(d), s.Dest(want))
			}
			got[i] += k
		}
	}
	confirmed := 0
	switch m := reConfirmed.FindAllStringSubmatch(r.stderr, -1); {
	case r.exit == 0:
		confirmed = len(c.msgs)
	case len(m) > 0:
		confirmed, _ = strconv.Atoi(m[len(m)-1][1])
	}
	for i := range confirmed {
		if got[i] == 0 {
			v.add("message %d reported confirmed (%d confirmed, exit %d) is not in the broker", i, confirmed, r.exit)
			break
		}
	}
	if !s.resends() {
		for i, n := range got {
			if n > 1 {
				v.add("message %d is in the broker %d times: send did not send it again", i, n)
				break
			}
		}
	}
}

// checkSendTx: all of the transaction once or none of it; all on exit 0,
// none when send said it was aborted.
func checkSendTx(v *violations, c counter, r *result) {
	got := c.tally(v, r.drained[queue], "messages in the broker that were not sent")
	n := len(r.drained[queue])
	if n != 0 && (n != len(c.msgs) || len(got) != len(c.msgs)) {
		v.add("the transaction is in the broker in part: %d messages, %d distinct, of %d", n, len(got), len(c.msgs))
	}
	if r.exit == 0 && n == 0 {
		v.add("exit 0, but nothing of the transaction is in the broker")
	}
	if strings.Contains(r.stderr, "transaction aborted") && n > 0 {
		v.add("send said the transaction was aborted, but its %d messages are in the broker", n)
	}
}

// handedOver returns the bodies subscribe wrote (a line each; of what a
// reader that closed the pipe read, the lines it read whole) or, with
// --exec, the messages whose handler succeeded.
func handedOver(s *Schedule, c counter, r *result) []string {
	var handed []string
	if s.Command == Subscribe {
		out := r.stdout
		if r.readerClosed {
			out = out[:strings.LastIndexByte(out, '\n')+1] // a line read in part was not read
		}
		if out = strings.TrimSuffix(out, "\n"); out != "" {
			handed = strings.Split(out, "\n")
		}
		return handed
	}
	for _, id := range r.handled {
		if i, err := strconv.Atoi(id); err == nil && i >= 0 && i < len(c.msgs) {
			handed = append(handed, c.msgs[i])
		} else {
			handed = append(handed, id)
		}
	}
	return handed
}

// checkSubscribe: no message lost: each was handed over (written, and
// read by a reader that closed the pipe; handled successfully) or is still
// in the broker; with --dedupe none twice; --count N writes at most N,
// exactly N on exit 0. With --ack auto the broker counts a message
// consumed once sent: a message may be lost only when a fault (a reset, a
// cut, a stall), a signal, a reader that went away, a short --timeout or a
// failure met the run.
func checkSubscribe(v *violations, s *Schedule, c counter, r *result) {
	handed := handedOver(s, c, r)
	out := c.tally(v, handed, "records handed over that were never sent")
	left := c.tally(v, r.drained[queue], "messages in the broker that were never sent")
	lost := c.neither(out, left)
	mayLose := false
	switch {
	case s.Ack == "auto":
		// What was on its way when subscribe stopped is gone: an end by
		// --idle during a stall, or by a short --timeout, loses it too.
		mayLose = r.proxy.Resets+r.proxy.Cut+r.proxy.Stalls > 0 || r.signalled || r.readerClosed ||
			r.exit != 0 || s.Timeout < CommandTimeout
	case r.readerClosed:
		mayLose = !pipeAcksOnRead
	}
	if len(lost) > 0 && !mayLose {
		what := "neither handed over nor in the broker"
		if r.readerClosed {
			what = "neither read out of the pipe by its reader nor in the broker"
		}
		v.add("%d messages lost (%s): %v", len(lost), what, firstInts(lost, 10))
	}
	if s.Dedupe {
		for i, n := range out {
			if n > 1 {
				v.add("--dedupe: message %d handed over %d times", i, n)
				break
			}
		}
	}
	if s.Command == Subscribe && s.StopCount {
		if len(handed) > s.Messages {
			v.add("--count %d: %d messages written", s.Messages, len(handed))
		}
		if r.exit == 0 && !r.readerClosed && len(handed) != s.Messages {
			v.add("--count %d, exit 0: %d messages written", s.Messages, len(handed))
		}
	}
}

// checkReply: reply acknowledges only what it answered: each request is
// answered (its reply in the reply queue) or still in the request queue;
// each reply answers a request.
func checkReply(v *violations, c counter, r *result) {
	answered := c.tally(v, r.drained[replyQueue], "replies that answer no request")
	left := c.tally(v, r.drained[queue], "requests in the broker that were never sent")
	unanswered := c.neither(answered, left)
	if len(unanswered) > 0 {
		v.add("%d requests acknowledged without an answer: %v", len(unanswered), firstInts(unanswered, 10))
	}
}

// checkRequest: request prints only replies to its request, each once;
// exit 0 after all of them; a report of "K of N replies" says what it
// printed.
func checkRequest(v *violations, s *Schedule, c counter, r *result) {
	var lines []string
	if out := strings.TrimSuffix(r.stdout, "\n"); out != "" {
		lines = strings.Split(out, "\n")
	}
	got := c.tally(v, lines, "lines printed that are no reply")
	for i, n := range got {
		if n > 1 {
			v.add("reply %d printed %d times", i, n)
			break
		}
	}
	if r.exit == 0 && len(lines) != s.Messages {
		v.add("exit 0 with %d of %d replies printed", len(lines), s.Messages)
	}
	if m := reReplies.FindStringSubmatch(r.stderr); m != nil {
		if k, _ := strconv.Atoi(m[1]); k != len(lines) {
			v.add("request reported %s replies, but printed %d", m[0], len(lines))
		}
	}
}

// checkMove: every message is in exactly one of source and destination,
// in both only when move reported an unknown COMMIT outcome, and then at
// most the K messages of that batch; the destination holds the "moved N"
// it reported (N+K after an unknown COMMIT that took effect); exit 0 with
// --count K moved K.
func checkMove(v *violations, s *Schedule, c counter, r *result) {
	src := c.tally(v, r.drained[moveSrc], "messages in the source that were never preloaded")
	dst := c.tally(v, r.drained[moveDest], "messages in the destination that were never preloaded")
	unknown := strings.Contains(r.stderr, "may now be in both destinations")
	uncertain := 0 // the messages of the batch whose COMMIT is unknown
	if unknown {
		uncertain = 1
		if m := reUncertain.FindStringSubmatch(r.stderr); m != nil {
			uncertain, _ = strconv.Atoi(m[1])
		}
	}
	var lost, twice []int
	for i := range c.msgs {
		switch n := src[i] + dst[i]; {
		case n == 0:
			lost = append(lost, i)
		case n > 1:
			twice = append(twice, i)
		}
	}
	if len(lost) > 0 {
		v.add("%d messages lost (in neither destination): %v", len(lost), firstInts(lost, 10))
	}
	if len(twice) > uncertain {
		v.add("%d messages in both destinations (an unknown COMMIT outcome reported: %v): %v", len(twice), unknown, firstInts(twice, 10))
	}
	moved := 0
	if m := reMoved.FindStringSubmatch(r.stderr); m != nil {
		moved, _ = strconv.Atoi(m[1])
	}
	n := len(r.drained[moveDest])
	if n != moved && !(unknown && n == moved+uncertain) {
		v.add("move said it moved %d messages; the destination holds %d (an unknown COMMIT outcome reported: %v)", moved, n, unknown)
	}
	if r.exit == 0 && !s.MoveAll && moved != s.MoveCount {
		v.add("move --count %d, exit 0: moved %d", s.MoveCount, moved)
	}
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
