package send

import (
	"testing"
	"time"
)

// TestPacer checks the schedule of --replay: each message is due as long
// after the first as it was received after the first, divided by the
// speed, whenever the one before it was actually sent.
func TestPacer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, err := newPacer(true, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	p.now = func() time.Time { return now }
	rec := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if d := p.delay(rec); d != 0 {
		t.Errorf("first message: delay %v, want 0", d)
	}
	if d := p.delay(time.Time{}); d != 0 {
		t.Errorf("a record without received_at: delay %v, want 0", d)
	}
	if d := p.delay(rec.Add(10 * time.Second)); d != 5*time.Second {
		t.Errorf("10s after the first at speed 2: delay %v, want 5s", d)
	}
	now = now.Add(7 * time.Second) // the sender was late
	if d := p.delay(rec.Add(16 * time.Second)); d != time.Second {
		t.Errorf("16s after the first, 7s into the replay: delay %v, want 1s (no drift)", d)
	}
	if d := p.delay(rec.Add(4 * time.Second)); d != -5*time.Second {
		t.Errorf("a record older than the one before: delay %v, want -5s (at once)", d)
	}
}

func TestNewPacer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		replay, set bool
		speed       float64
		pace, fails bool
	}{
		{replay: false, speed: 1},
		{replay: true, speed: 1, pace: true},
		{replay: true, speed: 0, set: true},
		{replay: true, speed: 0.5, set: true, pace: true},
		{replay: false, speed: 2, set: true, fails: true},
		{replay: true, speed: -1, set: true, fails: true},
	} {
		p, err := newPacer(c.replay, c.speed, c.set)
		if (err != nil) != c.fails || (p != nil) != c.pace {
			t.Errorf("newPacer(%v, %v, %v) = %v, %v", c.replay, c.speed, c.set, p, err)
		}
	}
}
