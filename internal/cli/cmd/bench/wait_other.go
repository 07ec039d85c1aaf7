//go:build !linux

package bench

import "time"

// fineSleep sleeps d.
func fineSleep(d time.Duration) { time.Sleep(d) }
