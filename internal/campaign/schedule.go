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
)

var commands = []Command{Send, SendTx, Subscribe, SubscribeExec, Move}

// Outage is a time the broker is down, as the proxy plays it: from At
// after the command started, for For.
type Outage struct {
	At, For time.Duration
}

// Schedule is one run of the campaign: the command and its options, the
// faults of the link, the signal and the handler failures. Everything in
// it is drawn from Seed.
type Schedule struct {
	Seed     uint64
	Command  Command
	Messages int // messages sent, or preloaded for subscribe and move
	BodyMax  int // bodies are the message's number and up to BodyMax bytes more

	Failover    bool          // a failover: URI (else a plain tcp://)
	MaxAttempts int           // failover maxReconnectAttempts (-1: forever)
	HeartBeat   time.Duration // offered by both sides; 0: none
	Faults      []ConnFault   // the fault of the n-th connection; later ones have none
	Outages     []Outage
	Signal      syscall.Signal // 0: none
	SignalAt    time.Duration

	// send
	Receipt   string // each or last
	Rate      int    // --rate N/s; 0: none
	StdinFile bool   // stdin a regular file (else a pipe)

	// subscribe
	StopCount   bool // --count N, N the messages preloaded (else --idle)
	Pipe        bool // stdout a pipe (else a regular file)
	Dedupe      bool // --dedupe on the message's id header
	Dups        int  // messages preloaded a second time with the same id (a producer's resend)
	Concurrency int
	OnError     string        // stop or nack
	HandlerWait time.Duration // a failing handler run takes this long, a successful one a quarter of it: faults meet handlers in flight
	Fails       map[int]int   // message number → how many of its handler runs fail

	// move
	MoveAll   bool // --all (else --count MoveCount)
	MoveCount int
}

// Avoided is a combination the campaign does not draw, with the reason;
// see KnownDefects.
type Avoided struct {
	Name    string
	Matches func(*Schedule) bool
}

// KnownDefects lists the combinations that meet a defect whose fix is
// under way: the campaign draws again when a schedule matches one. Each
// entry goes once its fix is in; the list is then empty.
var KnownDefects = []Avoided{}

// avoided returns the name of the first known defect s meets, or "".
func (s *Schedule) avoided() string {
	for _, a := range KnownDefects {
		if a.Matches(s) {
			return a.Name
		}
	}
	return ""
}

// resends reports whether send sends again what a lost connection left
// unconfirmed: --receipt each on a failover URI.
func (s *Schedule) resends() bool { return s.Failover && s.Receipt == "each" }

// Draw returns the schedule of seed, drawing again (from the same
// generator) while it meets a known defect; redrawn says how often.
func Draw(seed uint64) (s *Schedule, redrawn int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for {
		s = draw(r)
		s.Seed = seed
		if s.avoided() == "" {
			return s, redrawn
		}
		redrawn++
	}
}

func draw(r *rand.Rand) *Schedule {
	s := &Schedule{
		Command:  commands[r.IntN(len(commands))],
		Messages: 10 + r.IntN(190),
		BodyMax:  []int{0, 16, 100, 400}[r.IntN(4)],
		Failover: r.IntN(10) < 7,
	}
	s.MaxAttempts = -1
	if r.IntN(3) == 0 {
		s.MaxAttempts = 1 + r.IntN(8)
	}
	if r.IntN(2) == 0 {
		s.HeartBeat = time.Duration(200+r.IntN(400)) * time.Millisecond
	}
	switch s.Command {
	case Send, SendTx:
		s.Receipt = []string{"each", "last"}[r.IntN(2)]
		if r.IntN(3) == 0 {
			s.Rate = 200 + r.IntN(800)
		}
		s.StdinFile = r.IntN(2) == 0
	case Subscribe:
		s.StopCount = r.IntN(2) == 0
		s.Pipe = r.IntN(2) == 0
		s.Dedupe = r.IntN(3) == 0
	case SubscribeExec:
		s.Messages = 5 + r.IntN(60) // a process per message: fewer
		s.StopCount = r.IntN(2) == 0
		s.Dedupe = r.IntN(3) == 0
		s.Concurrency = []int{1, 1, 2, 4, 8}[r.IntN(5)]
		s.OnError = []string{"stop", "nack"}[r.IntN(2)]
		if r.IntN(2) == 0 {
			s.Messages = min(s.Messages, 30)
			s.HandlerWait = time.Duration(10+r.IntN(60)) * time.Millisecond
		}
		s.Fails = map[int]int{}
		if r.IntN(3) > 0 {
			for range 1 + r.IntN(4) {
				s.Fails[r.IntN(s.Messages)] = 1 + r.IntN(2)
			}
		}
	case Move:
		s.Messages = 5 + r.IntN(80) // a transaction per message
		s.MoveAll = r.IntN(2) == 0
		s.MoveCount = 1 + r.IntN(s.Messages)
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
		if (f.Dir == Down) == (s.Command == Send || s.Command == SendTx) && s.Command != Move {
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
		s.Signal = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[r.IntN(2)]
		s.SignalAt = time.Duration(5+r.IntN(1200)) * time.Millisecond
	}
	return s
}

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

// FailingAttempts returns how many handler runs the schedule makes fail at
// most.
func (s *Schedule) FailingAttempts() int {
	n := 0
	for _, k := range s.Fails {
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
	case Send, SendTx:
		fmt.Fprintf(&b, " receipt=%s stdin-file=%v", s.Receipt, s.StdinFile)
		if s.Rate > 0 {
			fmt.Fprintf(&b, " rate=%d/s", s.Rate)
		}
	case Subscribe, SubscribeExec:
		fmt.Fprintf(&b, " count=%v dedupe=%v dups=%d", s.StopCount, s.Dedupe, s.Dups)
		if s.Command == Subscribe {
			fmt.Fprintf(&b, " pipe=%v", s.Pipe)
		} else {
			fmt.Fprintf(&b, " concurrency=%d on-error=%s fails=%v", s.Concurrency, s.OnError, s.Fails)
			if s.HandlerWait > 0 {
				fmt.Fprintf(&b, " handler-wait=%v", s.HandlerWait)
			}
		}
	case Move:
		if s.MoveAll {
			b.WriteString(" all")
		} else {
			fmt.Fprintf(&b, " count=%d", s.MoveCount)
		}
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
		fmt.Fprintf(&b, " %v@%v", s.Signal, s.SignalAt)
	}
	return b.String()
}
