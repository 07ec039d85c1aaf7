//go:build !windows

package handler

import (
	"context"
	"os/exec"
	"syscall"
)

// ShellCommand runs line with /bin/sh -c in a process group of its own, so
// that a terminal's Ctrl-C reaches only stompest, and so that a timeout
// kills the whole group; on Linux the shell dies with stompest.
func ShellCommand(ctx context.Context, line string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return cmd
}
