package cmdutil

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
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
// The one P is set when the command connects (OneP). GOGC, GOMEMLIMIT and
// GOMAXPROCS in the environment still win. The broker and bench, which
// serve or drive many connections at once, set the defaults back with
// DefaultRuntime.
func TuneRuntime() {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(400)
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(128 << 20)
	}
}

// manyPs is set once DefaultRuntime gave the run every CPU's P.
var manyPs atomic.Bool

// OneP gives the run one P (see TuneRuntime) unless GOMAXPROCS is in the
// environment or DefaultRuntime ran. Connect calls it: changing the
// number of Ps costs a tenth of a start-up (mostly page faults), which a
// command that never connects (version, help, config, man) is spared.
func OneP() {
	if _, ok := os.LookupEnv("GOMAXPROCS"); ok || manyPs.Load() {
		return
	}
	if runtime.GOMAXPROCS(0) != 1 {
		runtime.GOMAXPROCS(1)
	}
}

// DefaultRuntime restores the runtime's defaults where tuneRuntime changed
// them: Ps for every CPU, and, when gc is true, the collector's defaults
// (the broker's live heap is every message it holds).
func DefaultRuntime(gc bool) {
	manyPs.Store(true)
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
