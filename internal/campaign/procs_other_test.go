//go:build !linux

package campaign

// hangCommand returns the shell command a hanging handler runs.
func hangCommand(string) (string, error) { return "sleep 60", nil }

// leftBehind finds the handlers left running on Linux only (pidfd, /proc).
func leftBehind(string) []int { return nil }
