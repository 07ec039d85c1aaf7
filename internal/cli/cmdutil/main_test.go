package cmdutil

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestRuntimeSettings checks what tuneRuntime and defaultRuntime set, and
// that the environment wins over both. Not parallel: the settings are the
// process's.
func TestRuntimeSettings(t *testing.T) {
	procs, gc, limit := runtime.GOMAXPROCS(0), debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(gc)
	t.Cleanup(func() {
		manyPs.Store(false)
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	current := func() (int, int, int64) {
		g := debug.SetGCPercent(-1)
		debug.SetGCPercent(g)
		return runtime.GOMAXPROCS(0), g, debug.SetMemoryLimit(-1)
	}
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)

	TuneRuntime()
	if p, g, l := current(); p != def || g != 400 || l != 128<<20 {
		t.Errorf("tuneRuntime: GOMAXPROCS %d, GOGC %d, GOMEMLIMIT %d; want %d (until OneP), 400, %d", p, g, l, def, 128<<20)
	}
	OneP()
	if p, _, _ := current(); p != 1 {
		t.Errorf("OneP: GOMAXPROCS %d, want 1", p)
	}
	DefaultRuntime(false)
	if p, g, l := current(); p != def || g != 400 || l != 128<<20 {
		t.Errorf("defaultRuntime(false): GOMAXPROCS %d, GOGC %d, GOMEMLIMIT %d; want %d, 400, %d", p, g, l, def, 128<<20)
	}
	OneP() // bench connects after DefaultRuntime: it keeps its Ps
	if p, _, _ := current(); p != def {
		t.Errorf("OneP after DefaultRuntime: GOMAXPROCS %d, want %d", p, def)
	}
	runtime.GOMAXPROCS(1)
	DefaultRuntime(true)
	if p, g, l := current(); p != def || g != 100 || l != math.MaxInt64 {
		t.Errorf("defaultRuntime(true): GOMAXPROCS %d, GOGC %d, GOMEMLIMIT %d; want %d, 100, no limit", p, g, l, def)
	}

	// What the environment sets is left alone.
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT"} {
		os.Setenv(k, "3")
	}
	runtime.GOMAXPROCS(3)
	debug.SetGCPercent(3)
	debug.SetMemoryLimit(3 << 20)
	manyPs.Store(false)
	TuneRuntime()
	OneP()
	DefaultRuntime(true)
	if p, g, l := current(); p != 3 || g != 3 || l != 3<<20 {
		t.Errorf("with the environment set: GOMAXPROCS %d, GOGC %d, GOMEMLIMIT %d; want 3, 3, %d", p, g, l, 3<<20)
	}
}
