package campaign

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Command is the stompest command a schedule runs, in one of its modes.
type Command string

// The commands of the campaign.
const (
	Send          Command = "send"           // send --lines, --receipt each or last
	SendTx        Command = "send-tx"        // send --lines --transaction
	Subscribe     Command = "subscribe"      // subscribe -o body to a file or a pipe
	SubscribeExec Command = "subscribe-exec" // subscribe --exec, --concurrency, --on-error stop or nack
	Move          Command = "move"           // move SRC DEST, --all or --count
	SendJSONL     Command = "send-jsonl"     // send --input jsonl, records naming one of two destinations
	Reply         Command = "reply"          // reply --echo or --exec to preloaded requests, --count
	Request       Command = "request"        // request --replies N, answered by a replier of the test
)

var commands = []Command{Send, SendTx, Subscribe, SubscribeExec, Move, SendJSONL, Reply, Request}

// Outage is a time the broker is down, as the proxy plays it: from At
// after the command started, for For.
type Outage struct {
	At, For time.Duration
}

// Schedule is one run of the campaign: the command and its options, the
// faults of the link, the signal and the handler failures. Everything in
// it is drawn from Seed.
type Schedule struct {
	Seed      uint64
	Namespace string // prefix of the queue names (unique per schedule on a shared broker)
	Command   Command
	Messages  int // messages sent, or preloaded for subscribe and move
	BodyMax   int // bodies are the message's number and up to BodyMax bytes more

	Failover    bool          // a failover: URI (else a plain tcp://)
	MaxAttempts int           // failover maxReconnectAttempts (-1: forever)
	HeartBeat   time.Duration // offered by both sides; 0: none
	Faults      []ConnFault   // the fault of the n-th connection; later ones have none
	Outages     []Outage
	Signal      syscall.Signal // 0: none
	SignalAt    time.Duration
	// --disconnect-timeout: drawn for the schedules with a signal (a
	// signalled command must end within it plus StopBound), else 1 s
	DisconnectTimeout time.Duration

	// send
	Receipt   string // each or last
	Rate      int    // --rate N/s; 0: none
	StdinFile bool   // stdin a regular file (else a pipe)

	// subscribe; the handler options also for reply (which always has --count N)
	StopCount   bool          // subscribe --count N, N the messages preloaded (else --idle)
	Timeout     time.Duration // subscribe --timeout; request --timeout
	Ack         string        // subscribe --ack: auto, client or client-individual
	Pipe        bool          // stdout a pipe (else a regular file)
	CloseAfter  int64         // the pipe's reader closes it after reading this many bytes (0: reads to the end)
	ReadChunk   int           // the pipe's reader reads at most this many bytes at a time
	Dedupe      bool          // --dedupe on the message's id header
	Dups        int           // messages preloaded a second time with the same id (a producer's resend)
	Concurrency int
	OnError     string        // stop or nack
	HandlerWait time.Duration // a failing handler run takes this long, a successful one a quarter of it: faults meet handlers in flight
	Fails       map[int]int   // message number → how many of its handler runs fail
	Hangs       map[int]int   // message number → how many of its handler runs hang (outlive --exec-timeout)
	ExecTimeout time.Duration // --exec-timeout; 0: none
	Echo        bool          // reply --echo (else --exec)

	// move
	MoveAll   bool // --all (else --count MoveCount)
	MoveCount int
	MoveBatch int // --batch
}

// Avoided is a combination the campaign does not draw, with the reason;
// see KnownDefects.
type Avoided struct {
	Name    string
	Matches func(*Schedule) bool
}

// KnownDefects lists the combinations that meet a defect whose fix is
// under way: the campaign draws again when a schedule matches one (unless
// -campaign.known). Each entry goes once its fix is in.
var KnownDefects = []Avoided{}

// avoided returns the name of the first known defect, or else of the first
// of limits, that s meets, or "".
func (s *Schedule) avoided(limits ...Avoided) string {
	for _, a := range append(KnownDefects[:len(KnownDefects):len(KnownDefects)], limits...) {
		if a.Matches(s) {
			return a.Name
		}
	}
	return ""
}

// ActiveMQLimits are the combinations a schedule against ActiveMQ Classic
// does not draw: the broker does something else there, by design.
var ActiveMQLimits = []Avoided{
	// ActiveMQ moves a NACKed message to its dead-letter queue
	// (ActiveMQ.DLQ), shared by every run, instead of delivering it again:
	// the message is then neither handled nor in the schedule's queue.
	{"--on-error nack: ActiveMQ dead-letters a NACKed message", func(s *Schedule) bool {
		return s.Command == SubscribeExec && s.OnError == "nack"
	}},
}

// RabbitMQLimits are the combinations a schedule against RabbitMQ does not
// draw. RabbitMQ requeues a NACKed message at the head of its queue, which
// the invariants allow (it is handled again).
var RabbitMQLimits = []Avoided{}

// resends reports whether send sends again what a lost connection left
// unconfirmed: --receipt each on a failover URI.
func (s *Schedule) resends() bool { return s.Failover && s.Receipt == "each" }

// Draw returns the schedule of seed, drawing again (from the same
// generator) while it meets a known defect or one of limits (what a
// broker cannot do); redrawn says how often.
func Draw(seed uint64, limits ...Avoided) (s *Schedule, redrawn int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for {
		s = draw(r)
		s.Seed = seed
		if s.avoided(limits...) == "" {
			return s, redrawn
		}
		redrawn++
	}
}

// DrawAny returns the schedule of seed as first drawn, also when it meets a
// known defect.
func DrawAny(seed uint64) *Schedule {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := draw(r)
	s.Seed = seed
	return s
}

func draw(r *rand.Rand) *Schedule {
	s := &Schedule{
		Command:           commands[r.IntN(len(commands))],
		Messages:          10 + r.IntN(190),
		BodyMax:           []int{0, 16, 100, 400}[r.IntN(4)],
		Failover:          r.IntN(10) < 7,
		DisconnectTimeout: time.Second,
	}
	s.MaxAttempts = -1
	if r.IntN(3) == 0 {
		s.MaxAttempts = 1 + r.IntN(8)
	}
	if r.IntN(2) == 0 {
		s.HeartBeat = time.Duration(200+r.IntN(400)) * time.Millisecond
	}
	switch s.Command {
	case Send, SendTx, SendJSONL:
		s.Receipt = []string{"each", "last"}[r.IntN(2)]
		if r.IntN(3) == 0 {
			s.Rate = 200 + r.IntN(800)
		}
		s.StdinFile = r.IntN(2) == 0
	case Subscribe:
		s.StopCount = r.IntN(2) == 0
		s.Pipe = r.IntN(2) == 0
		s.Dedupe = r.IntN(3) == 0
		s.Ack = []string{"client-individual", "client-individual", "client", "auto"}[r.IntN(4)]
		if s.Pipe && r.IntN(2) == 0 {
			// The reader goes away somewhere in what the run writes.
			s.CloseAfter = 1 + r.Int64N(int64(s.Messages*(s.BodyMax/2+8)))
		}
		s.ReadChunk = []int{1, 7, 64, 512, 4096}[r.IntN(5)]
	case SubscribeExec, Reply:
		s.Messages = 5 + r.IntN(60) // a process per message: fewer
		s.StopCount = r.IntN(2) == 0
		s.Dedupe = r.IntN(3) == 0 && s.Command == SubscribeExec
		s.Concurrency = []int{1, 1, 2, 4, 8}[r.IntN(5)]
		s.OnError = []string{"stop", "nack"}[r.IntN(2)]
		s.Ack = "client-individual"
		if s.Concurrency == 1 && r.IntN(3) == 0 {
			s.Ack = "client" // refused with more than one handler at once
		}
		if r.IntN(2) == 0 {
			s.Messages = min(s.Messages, 30)
			s.HandlerWait = time.Duration(10+r.IntN(60)) * time.Millisecond
		}
		s.Echo = s.Command == Reply && r.IntN(3) == 0
		s.Fails, s.Hangs = map[int]int{}, map[int]int{}
		if !s.Echo && r.IntN(3) > 0 {
			for range 1 + r.IntN(4) {
				s.Fails[r.IntN(s.Messages)] = 1 + r.IntN(2)
			}
		}
		if !s.Echo && r.IntN(4) == 0 {
			for range 1 + r.IntN(2) {
				s.Hangs[r.IntN(s.Messages)] = 1 + r.IntN(2)
			}
		}
		if len(s.Hangs) > 0 || (!s.Echo && r.IntN(4) == 0) {
			s.ExecTimeout = time.Duration(300+r.IntN(700)) * time.Millisecond
		}
	case Move:
		s.Messages = 5 + r.IntN(80) // a transaction per message
		s.MoveAll = r.IntN(2) == 0
		s.MoveCount = 1 + r.IntN(s.Messages)
		s.MoveBatch = []int{1, 3, 100}[r.IntN(3)]
	case Request:
		s.Messages = 1 + r.IntN(5) // the replies to one request
	}
	if s.Command == Subscribe || s.Command == SubscribeExec {
		s.Timeout = CommandTimeout
		if r.IntN(4) == 0 {
			s.Timeout = time.Duration(300+r.IntN(2200)) * time.Millisecond
		}
	}
	if s.Command == Request {
		s.Timeout = time.Duration(500+r.IntN(2500)) * time.Millisecond
	}
	if s.Dedupe && r.IntN(2) == 0 {
		s.Dups = 1 + r.IntN(5)
	}
	// About the bytes the busy direction carries over the run, to put the
	// faults within it; a few fall before CONNECTED.
	busy := int64(s.Messages*(s.BodyMax/2+120)) + 200
	quiet := int64(s.Messages*50) + 200 // receipts to send, ACKs from subscribe
	for range r.IntN(5) {
		f := ConnFault{Kind: Reset, Dir: Direction(r.IntN(2))}
		span := busy
		if (f.Dir == Down) == s.produces() && s.Command != Move && s.Command != Reply { // both ways busy
			span = quiet
		}
		if r.IntN(3) == 0 {
			f.Kind = Stall
			f.For = time.Duration(50+r.IntN(1500)) * time.Millisecond
		}
		if r.IntN(8) == 0 {
			f.After = int64(r.IntN(120))
		} else {
			f.After = 1 + r.Int64N(span)
		}
		s.Faults = append(s.Faults, f)
	}
	if r.IntN(3) == 0 {
		for range 1 + r.IntN(2) {
			s.Outages = append(s.Outages, Outage{
				At:  time.Duration(r.IntN(1500)) * time.Millisecond,
				For: time.Duration(50+r.IntN(900)) * time.Millisecond,
			})
		}
	}
	if r.IntN(4) == 0 {
		s.Signal = signals[r.IntN(len(signals))]
		s.SignalAt = time.Duration(5+r.IntN(1200)) * time.Millisecond
		s.DisconnectTimeout = time.Duration(300+r.IntN(1200)) * time.Millisecond
	}
	return s
}

// CommandTimeout is the --timeout of subscribe (unless drawn shorter) and
// move: long enough for a schedule to end by itself.
const CommandTimeout = 8 * time.Second

// signals are the signals a schedule may send: each ends a command
// gracefully, with exit 128 + its number.
var signals = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// StopBound is how long after --disconnect-timeout a signalled command
// may take to end: in-flight work gets --disconnect-timeout, DISCONNECT
// and its receipt another one (at most 1.5 s as drawn), and process exit
// and the handlers' kill on a loaded 2-core machine the rest.
const StopBound = 3 * time.Second

// produces reports whether the command's busy direction is up, to the
// broker: it sends more than it receives.
func (s *Schedule) produces() bool {
	switch s.Command {
	case Send, SendTx, SendJSONL, Request:
		return true
	}
	return false
}

// Dest returns the name of the queue of role (the campaign's queues: c,
// c2, r, src, dst).
func (s *Schedule) Dest(role string) string { return "/queue/" + s.Namespace + role }

// URI returns the --server of the schedule for a proxy at addr.
func (s *Schedule) URI(addr string) string {
	if !s.Failover {
		return "tcp://" + addr
	}
	return fmt.Sprintf("failover:(tcp://%s)?initialReconnectDelay=10&maxReconnectDelay=200&maxReconnectAttempts=%d", addr, s.MaxAttempts)
}

// Stalls reports whether a fault of the schedule stalls a direction.
func (s *Schedule) Stalls() bool {
	return slices.ContainsFunc(s.Faults, func(f ConnFault) bool { return f.Kind == Stall })
}

// FailingAttempts returns how many handler runs the schedule makes fail or
// hang at most.
func (s *Schedule) FailingAttempts() int {
	n := 0
	for _, k := range s.Fails {
		n += k
	}
	for _, k := range s.Hangs {
		n += k
	}
	return n
}

// String describes the schedule on one line.
func (s *Schedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed=%d %s messages=%d body<=%d", s.Seed, s.Command, s.Messages, s.BodyMax)
	if s.Failover {
		fmt.Fprintf(&b, " failover(attempts=%d)", s.MaxAttempts)
	} else {
		b.WriteString(" plain")
	}
	if s.HeartBeat > 0 {
		fmt.Fprintf(&b, " heartbeat=%v", s.HeartBeat)
	}
	switch s.Command {
	case Send, SendTx, SendJSONL:
		fmt.Fprintf(&b, " receipt=%s stdin-file=%v", s.Receipt, s.StdinFile)
		if s.Rate > 0 {
			fmt.Fprintf(&b, " rate=%d/s", s.Rate)
		}
	case Subscribe, SubscribeExec, Reply:
		if s.Command != Reply {
			fmt.Fprintf(&b, " count=%v ack=%s timeout=%v dedupe=%v dups=%d", s.StopCount, s.Ack, s.Timeout, s.Dedupe, s.Dups)
		}
		if s.Command == Subscribe {
			fmt.Fprintf(&b, " pipe=%v", s.Pipe)
			if s.CloseAfter > 0 {
				fmt.Fprintf(&b, " reader-closes@%d/%d", s.CloseAfter, s.ReadChunk)
			}
			break
		}
		if s.Echo {
			b.WriteString(" echo")
			break
		}
		fmt.Fprintf(&b, " concurrency=%d fails=%v", s.Concurrency, s.Fails)
		if s.Command == SubscribeExec {
			fmt.Fprintf(&b, " on-error=%s", s.OnError)
		}
		if len(s.Hangs) > 0 {
			fmt.Fprintf(&b, " hangs=%v", s.Hangs)
		}
		if s.ExecTimeout > 0 {
			fmt.Fprintf(&b, " exec-timeout=%v", s.ExecTimeout)
		}
		if s.HandlerWait > 0 {
			fmt.Fprintf(&b, " handler-wait=%v", s.HandlerWait)
		}
	case Move:
		if s.MoveAll {
			b.WriteString(" all")
		} else {
			fmt.Fprintf(&b, " count=%d", s.MoveCount)
		}
		fmt.Fprintf(&b, " batch=%d", s.MoveBatch)
	case Request:
		fmt.Fprintf(&b, " timeout=%v", s.Timeout)
	}
	for i, f := range s.Faults {
		switch f.Kind {
		case Reset:
			fmt.Fprintf(&b, " conn%d:reset-%s@%d", i, f.Dir, f.After)
		case Stall:
			fmt.Fprintf(&b, " conn%d:stall-%s@%d/%v", i, f.Dir, f.After, f.For)
		}
	}
	for _, o := range s.Outages {
		fmt.Fprintf(&b, " down@%v/%v", o.At, o.For)
	}
	if s.Signal != 0 {
		fmt.Fprintf(&b, " %v@%v disconnect-timeout=%v", s.Signal, s.SignalAt, s.DisconnectTimeout)
	}
	return b.String()
}
