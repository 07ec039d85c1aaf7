// Command stompest is a command-line toolkit for STOMP messaging.
package main

import (
	"math"
	"os"
	"runtime/debug"
)

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], systemStreams()))
}

// tuneGC sets the collector for what stompest allocates: a small live heap
// (the frames in flight) and a stream of short-lived garbage (the frames
// already written out and acknowledged). Collecting when the heap reaches
// five times the live heap instead of twice cuts the collector's share of a
// 1M msg/s stream by half, for a few MiB of resident memory; the soft limit
// of 128 MiB makes the collector run more often instead when large frames
// would multiply that. GOGC and GOMEMLIMIT in the environment still win.
// The broker, whose live heap is every message it holds, sets the defaults
// back with defaultGC.
func tuneGC() {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(400)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(128 << 20)
	}
}

// defaultGC restores the runtime's defaults where tuneGC changed them.
func defaultGC() {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(100)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(math.MaxInt64)
	}
}
