package cli

import (
	"errors"
	"os/exec"
)

// exitStatus extracts the exit code of a finished command.
func exitStatus(err error) (int, bool) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), true
	}
	return 0, false
}
