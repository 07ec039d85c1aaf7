package send

import (
	"context"
	"math"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// pacer reproduces the gaps between the receive times of recorded
// messages (send --input jsonl --replay), divided by a speed factor. Each
// message is due at the time of the first one sent plus its distance from
// the first one's receive time: a late message does not delay the ones
// after it, so the pace does not drift.
type pacer struct {
	speed float64
	now   func() time.Time
	first time.Time // the receive time of the first timed message
	start time.Time // when it was due
}

// newPacer returns the pacer of --replay at speed, nil when nothing is to
// be paced (no --replay, or --speed 0: as fast as possible).
func newPacer(replay bool, speed float64, speedSet bool) (*pacer, error) {
	switch {
	case speedSet && !replay:
		return nil, cmdutil.UsageErrorf("--speed needs --replay")
	case math.IsNaN(speed) || math.IsInf(speed, 0) || speed < 0:
		return nil, cmdutil.UsageErrorf("--speed %v: want 0 (as fast as possible) or a positive factor such as 1 or 2.5", speed)
	case !replay || speed == 0:
		return nil, nil
	}
	return &pacer{speed: speed, now: time.Now}, nil
}

// delay returns how long to wait before sending a message received at t;
// zero or less is at once. A message without a receive time (zero t) is
// sent at once and moves nothing.
func (p *pacer) delay(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	if p.start.IsZero() {
		p.first, p.start = t, p.now()
		return 0
	}
	gap := float64(t.Sub(p.first)) / p.speed
	if gap > math.MaxInt64 {
		gap = math.MaxInt64
	}
	return p.start.Add(time.Duration(gap)).Sub(p.now())
}

// sleep waits for d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
