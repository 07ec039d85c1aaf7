package bench

import (
	"syscall"
	"time"
)

// fineSleep sleeps d in nanosleep(2), which wakes some 50-100 µs late
// (the timer slack): the runtime's timers wake up to a millisecond late
// here, which would send a fast schedule's messages in bursts and add
// that delay to their latencies.
func fineSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil) // woken early by a signal: the caller waits the rest
}
