//go:build !windows && !linux

package handler

import "syscall"

// dieWithParent has no equivalent outside Linux: a handler whose
// stompest died runs to its end (reading a whole body: see bodyFile).
func dieWithParent(*syscall.SysProcAttr) {}
