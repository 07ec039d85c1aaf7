package cmdutil

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
)

// TuneRuntime sets the runtime for a client command: one connection, a
// reader goroutine handing frames to the command's, and output.
//
// The collector: stompest has a small live heap (the frames in flight) and
// a stream of short-lived garbage (the frames already written out and
// acknowledged). Collecting when the heap reaches five times the live heap
// instead of twice cuts the collector's share of a 1M msg/s stream by
// half, for a few MiB of resident memory; the soft limit of 128 MiB makes
// the collector run more often instead when large frames would multiply
// that.
//
// One P: the reader and the command's goroutine take turns, and with more
// Ps every turn wakes another thread, which spins looking for work before
// it sleeps again. Against a broker on the same machine, that spinning
// takes the CPU the broker needs: consuming 100,000 messages from RabbitMQ
// on two cores took 4.4 s with two Ps and 3.1 s with one, and no job of
// the client was slower with one (docs/PERFORMANCE.md).
//
// GOGC, GOMEMLIMIT and GOMAXPROCS in the environment still win. The broker
// and bench, which serve or drive many connections at once, set the
// defaults back with defaultRuntime.
func TuneRuntime() {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(400)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(128 << 20)
	}
	if _, ok := os.LookupEnv("GOMAXPROCS"); !ok {
		runtime.GOMAXPROCS(1)
	}
}

// DefaultRuntime restores the runtime's defaults where tuneRuntime changed
// them: Ps for every CPU, and, when gc is true, the collector's defaults
// (the broker's live heap is every message it holds).
func DefaultRuntime(gc bool) {
	if _, ok := os.LookupEnv("GOMAXPROCS"); !ok {
		runtime.SetDefaultGOMAXPROCS()
	}
	if !gc {
		return
	}
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(100)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(math.MaxInt64)
	}
}
