//go:build !linux

package cli

import "io"

// pipeGauge is Linux's only (FIONREAD on the write end of a pipe); elsewhere a
// message is acknowledged once the pipe took its bytes.
type pipeGauge struct{}

func newPipeGauge(io.Writer) *pipeGauge   { return nil }
func (*pipeGauge) unread() (int64, error) { return 0, nil }
func (*pipeGauge) readerGone() bool       { return false }
