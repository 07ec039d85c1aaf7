//go:build !linux

package msgio

import "io"

// PipeGauge is Linux's only (FIONREAD on the write end of a pipe); elsewhere a
// message is acknowledged once the pipe took its bytes.
type PipeGauge struct{}

func NewPipeGauge(io.Writer) *PipeGauge   { return nil }
func (*PipeGauge) Unread() (int64, error) { return 0, nil }
func (*PipeGauge) ReaderGone() bool       { return false }
