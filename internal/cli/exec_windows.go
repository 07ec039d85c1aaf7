//go:build windows

package cli

import (
	"context"
	"os/exec"
)

// shellCommand runs line with cmd /C.
func shellCommand(ctx context.Context, line string) *exec.Cmd {
	return exec.CommandContext(ctx, "cmd", "/C", line)
}
