package cmdutil

import (
	"io"
	"os"
	"sync"

	"github.com/mattn/go-isatty"
)

// Streams are the standard streams of one run, injected so that commands
// never touch os.Stdin, os.Stdout or os.Stderr themselves.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	InTTY  bool // standard input is a terminal
	OutTTY bool // standard output is a terminal
	ErrTTY bool // standard error is a terminal
}

// SystemStreams returns the process's own streams and environment.
func SystemStreams() Streams {
	tty := func(f *os.File) bool { return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()) }
	return Streams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY: tty(os.Stdin), OutTTY: tty(os.Stdout), ErrTTY: tty(os.Stderr),
	}
}

// LockedWriter serialises the writes of several goroutines.
type LockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
