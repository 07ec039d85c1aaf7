package bench

import (
	"math"
	"time"
)

// schedule is the plan of --rate: the messages of the run, counted over
// all producers, are meant to leave at exact intervals of 1/perSec from
// the start, message k at k/perSec. Producer p of n sends messages p,
// p+n, p+2n, ... A message carries its intended time, and its latency is
// measured from it: a producer that falls behind sends late, and its late
// messages show the wait (no coordinated omission).
type schedule struct {
	perSec    float64
	producers int
}

// at is the intended send time, from the start, of the j-th message of
// producer p.
func (s schedule) at(p, j int) time.Duration {
	k := float64(j)*float64(s.producers) + float64(p)
	return time.Duration(math.Round(k * 1e9 / s.perSec))
}

// within is how many messages the schedule holds in its first d: those
// meant to leave before d.
func (s schedule) within(d time.Duration) int {
	n := math.Ceil(d.Seconds() * s.perSec)
	// k/perSec < d, checked exactly for the last one where rounding could
	// put it on either side.
	for n > 0 && time.Duration(math.Round((n-1)*1e9/s.perSec)) >= d {
		n--
	}
	return int(n)
}

// share is how many of n messages producer p of the schedule sends.
func share(n, producers, p int) int {
	m := n / producers
	if p < n%producers {
		m++
	}
	return m
}

// flushEvery is how many messages a producer behind schedule writes
// before it flushes: about a millisecond of its share of the schedule,
// at least one.
func (s schedule) flushEvery() int {
	return max(1, int(s.perSec/float64(s.producers)/1000))
}
