package failover

import (
	"iter"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Rand is the source of randomness of a Schedule. *math/rand/v2.Rand
// satisfies it; seed it to get a reproducible schedule.
type Rand interface {
	// Float64 returns a number in [0, 1).
	Float64() float64
	// IntN returns a number in [0, n); n > 0.
	IntN(n int) int
}

// LocalHosts returns a predicate for priorityBackup that reports whether a
// host is local: localhost, an address of 127.0.0.0/8 or ::1, or one of the
// given names or addresses (this machine's host names and addresses, found
// by the caller). Names are compared case-insensitively, ignoring a final
// dot.
func LocalHosts(names ...string) func(host string) bool {
	set := make(map[string]bool, len(names)+1)
	set["localhost"] = true
	for _, n := range names {
		set[canonicalHost(n)] = true
	}
	return func(host string) bool {
		h := canonicalHost(host)
		if set[h] {
			return true
		}
		a, err := netip.ParseAddr(h)
		return err == nil && a.Unmap().IsLoopback()
	}
}

func canonicalHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.String()
	}
	return h
}

// Attempt is one connection attempt of a Schedule.
type Attempt struct {
	Number int           // 1-based, counted over all brokers and passes
	Pass   int           // 1-based pass through the broker list
	Broker Broker        // the broker to connect to
	Delay  time.Duration // how long to wait before connecting; 0 for the first attempt
}

// Schedule is the sequence of connection attempts of one connect: the first
// connect of a command (Startup) or one reconnect after a loss (Reconnect).
// It is an iterator: Next returns the attempts one by one until the attempt
// limit is reached. A Schedule is not safe for concurrent use.
type Schedule struct {
	brokers []Broker
	opts    Options
	limit   int // retries after the first attempt, -1 without limit
	rand    Rand
	isLocal func(host string) bool

	order []Broker // the current pass
	next  int      // index in order of the next attempt
	n     int      // attempts returned so far
	pass  int
}

// Startup returns the schedule of the first connect, limited by
// startupMaxReconnectAttempts. See NewSchedule for r and isLocal.
func (u *URI) Startup(r Rand, isLocal func(host string) bool) *Schedule {
	return NewSchedule(u.Brokers, u.Options, u.Options.StartupMaxReconnectAttempts, r, isLocal)
}

// Reconnect returns the schedule of a reconnect after a lost connection,
// limited by maxReconnectAttempts. See NewSchedule for r and isLocal.
func (u *URI) Reconnect(r Rand, isLocal func(host string) bool) *Schedule {
	return NewSchedule(u.Brokers, u.Options, u.Options.MaxReconnectAttempts, r, isLocal)
}

// NewSchedule returns a schedule over brokers with the given options that
// allows limit retries after the first attempt (-1: no limit). r shuffles
// the brokers and draws the jitter; it may be nil only when neither is
// needed (randomize false or a single broker, and no reconnectDelayJitter),
// else NewSchedule panics. isLocal decides which hosts priorityBackup puts
// first; nil means LocalHosts(). The brokers and options are copied.
func NewSchedule(brokers []Broker, opts Options, limit int, r Rand, isLocal func(host string) bool) *Schedule {
	if r == nil && (opts.Randomize && len(brokers) > 1 || opts.ReconnectDelayJitter != 0) {
		panic("failover: NewSchedule needs a Rand for randomize or reconnectDelayJitter")
	}
	if isLocal == nil {
		isLocal = LocalHosts()
	}
	opts.PriorityURIs = slices.Clone(opts.PriorityURIs)
	return &Schedule{
		brokers: slices.Clone(brokers),
		opts:    opts,
		limit:   limit,
		rand:    r,
		isLocal: isLocal,
	}
}

// MaxAttempts returns how many attempts the schedule allows in all, or -1
// when it has no limit.
func (s *Schedule) MaxAttempts() int {
	if s.limit < 0 {
		return -1
	}
	if s.limit == math.MaxInt {
		return math.MaxInt
	}
	return s.limit + 1
}

// Attempts returns how many attempts Next has returned.
func (s *Schedule) Attempts() int { return s.n }

// Next returns the next attempt, or false when the attempt limit is reached
// (and on every later call). An empty broker list has no attempts.
func (s *Schedule) Next() (Attempt, bool) {
	if len(s.brokers) == 0 || s.limit >= 0 && s.n > s.limit {
		return Attempt{}, false
	}
	if s.next == len(s.order) {
		s.newPass()
	}
	b := s.order[s.next]
	s.next++
	s.n++
	return Attempt{Number: s.n, Pass: s.pass, Broker: b, Delay: s.delay(s.n)}, true
}

// All returns the remaining attempts as an iterator.
func (s *Schedule) All() iter.Seq[Attempt] {
	return func(yield func(Attempt) bool) {
		for {
			a, ok := s.Next()
			if !ok || !yield(a) {
				return
			}
		}
	}
}

// newPass orders the broker list for the next pass: shuffled when
// randomize, then the local brokers first when priorityBackup, then the
// priorityURIs first of all.
func (s *Schedule) newPass() {
	s.pass++
	s.next = 0
	s.order = append(s.order[:0], s.brokers...)
	if s.opts.Randomize {
		for i := len(s.order) - 1; i > 0; i-- {
			j := s.rand.IntN(i + 1)
			s.order[i], s.order[j] = s.order[j], s.order[i]
		}
	}
	if s.opts.PriorityBackup {
		slices.SortStableFunc(s.order, func(a, b Broker) int {
			return rank(s.isLocal(a.Host)) - rank(s.isLocal(b.Host))
		})
	}
	if len(s.opts.PriorityURIs) > 0 {
		front := make([]Broker, 0, len(s.order))
		for _, p := range s.opts.PriorityURIs {
			if containsBroker(s.order, p) {
				front = append(front, p)
			}
		}
		for _, b := range s.order {
			if !containsBroker(front, b) {
				front = append(front, b)
			}
		}
		s.order = front
	}
}

func rank(first bool) int {
	if first {
		return 0
	}
	return 1
}

// delay returns the delay before attempt k (1-based):
// min(initialReconnectDelay * m^(k-2) + jitter, maxReconnectDelay), at
// least 0, in nanoseconds rounded from the float computation.
func (s *Schedule) delay(k int) time.Duration {
	if k <= 1 {
		return 0
	}
	ms := float64(s.opts.InitialReconnectDelay)
	if s.opts.UseExponentialBackOff && ms != 0 {
		ms *= math.Pow(s.opts.BackOffMultiplier, float64(k-2))
	}
	if s.opts.ReconnectDelayJitter != 0 {
		ms += s.rand.Float64() * float64(s.opts.ReconnectDelayJitter)
	}
	ms = min(ms, float64(s.opts.MaxReconnectDelay))
	if !(ms > 0) {
		return 0
	}
	// The float product may round above the exact maximum: cap it exactly.
	limit := millis(s.opts.MaxReconnectDelay)
	ns := math.Round(ms * float64(time.Millisecond))
	if ns >= float64(limit) {
		return limit
	}
	return time.Duration(ns)
}

// millis converts milliseconds to a Duration, saturating instead of
// overflowing.
func millis(n int) time.Duration {
	if n > math.MaxInt64/int(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(n) * time.Millisecond
}
