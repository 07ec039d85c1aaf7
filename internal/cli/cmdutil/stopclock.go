package cmdutil

import (
	"time"

	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/client"
)

// StopClock holds the timers of the stop conditions --timeout (from the
// start) and --idle (from the last sign of life), for every command that
// waits for messages: subscribe, its --exec form, ack, nack and move.
type StopClock struct {
	deadline *time.Timer
	idle     *time.Timer
	idleFor  time.Duration
	paused   bool
}

// NewStopClock starts the clock of stop; Stop releases it.
func NewStopClock(stop flags.Stop) *StopClock {
	c := &StopClock{idleFor: stop.Idle}
	if stop.Timeout > 0 {
		c.deadline = time.NewTimer(stop.Timeout)
	}
	if stop.Idle > 0 {
		c.idle = time.NewTimer(stop.Idle)
	}
	return c
}

// Deadline fires when --timeout has passed; nil without --timeout.
func (c *StopClock) Deadline() <-chan time.Time {
	if c.deadline == nil {
		return nil
	}
	return c.deadline.C
}

// Idle fires when --idle passed since the start or the last Touch; nil
// without --idle.
func (c *StopClock) Idle() <-chan time.Time {
	if c.idle == nil || c.paused {
		return nil
	}
	return c.idle.C
}

// Link follows the client's link: no idle time passes while the client
// reconnects (the broker cannot deliver anything then), and it starts
// again from zero once the link is up: --idle is silence on a live
// subscription.
func (c *StopClock) Link(e client.LinkEvent) {
	switch e.State {
	case client.LinkReconnecting:
		c.paused = true
		if c.idle != nil {
			c.idle.Stop()
		}
	case client.LinkUp:
		c.paused = false
		c.Touch()
	}
}

// Touch restarts the idle time: something came.
func (c *StopClock) Touch() {
	if c.idle != nil {
		c.idle.Reset(c.idleFor)
	}
}

// Stop releases the timers.
func (c *StopClock) Stop() {
	if c.deadline != nil {
		c.deadline.Stop()
	}
	if c.idle != nil {
		c.idle.Stop()
	}
}
