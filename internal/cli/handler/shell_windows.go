//go:build windows

package handler

import (
	"context"
	"os/exec"
)

// ShellCommand runs line with cmd /C.
func ShellCommand(ctx context.Context, line string) *exec.Cmd {
	return exec.CommandContext(ctx, "cmd", "/C", line)
}
