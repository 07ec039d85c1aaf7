package handler

import "syscall"

// dieWithParent makes the kernel kill a handler when stompest dies, even
// by kill -9, instead of leaving it to run on as an orphan.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
