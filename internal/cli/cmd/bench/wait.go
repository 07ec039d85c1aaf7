package bench

import (
	"context"
	"time"
)

// wait blocks until the monotonic time since() returns reaches at
// (nanoseconds from the run's start), or ctx is done (false). A long wait
// takes a timer that heeds ctx until shortly before the time, the rest
// fineSleep. Spinning instead would keep the runtime from polling the
// network, and so delay the consumers in this process by milliseconds.
func wait(ctx context.Context, since func() int64, at int64, timer *time.Timer) bool {
	const coarse = 20 * time.Millisecond
	for {
		ahead := time.Duration(at - since())
		switch {
		case ahead <= 0:
			return true
		case ahead > coarse:
			timer.Reset(ahead - coarse/2)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return false
			}
		default:
			fineSleep(ahead)
		}
	}
}
