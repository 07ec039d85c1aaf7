package msgio

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// PipeGauge tells how much of what stompest wrote into a pipe on stdout
// the reader has taken out: a message is acknowledged only once its bytes
// left the pipe, so a reader that exits early ('| head') loses at most
// what it read and dropped, never what still sat in the pipe.
type PipeGauge struct{ fd int }

// NewPipeGauge returns the gauge of w when w is a pipe, else nil (a file
// or terminal takes what is written at once).
func NewPipeGauge(w io.Writer) *PipeGauge {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return nil
	}
	g := &PipeGauge{fd: int(f.Fd())}
	if _, err := g.Unread(); err != nil {
		return nil
	}
	return g
}

// Unread returns the bytes written into the pipe and not read yet.
func (g *PipeGauge) Unread() (int64, error) {
	n, err := unix.IoctlGetInt(g.fd, unix.TIOCINQ) // FIONREAD
	return int64(n), err
}

// ReaderGone reports whether the pipe has no reader left: what is still
// in it will never be read.
func (g *PipeGauge) ReaderGone() bool {
	fds := []unix.PollFd{{Fd: int32(g.fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&unix.POLLERR != 0
}
