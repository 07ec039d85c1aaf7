package cli

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestEveryCommandHasExamples: a user reading --help of any command finds
// examples to start from.
func TestEveryCommandHasExamples(t *testing.T) {
	t.Parallel()
	f, _, _ := cmdtest.Factory("")
	var walk func(*cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != c.Root() {
			return
		}
		if c.Runnable() || c == c.Root() {
			n++
			if c.Example == "" {
				t.Errorf("%q has no examples in its --help", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(f, nil))
	if n < 15 {
		t.Errorf("walked %d commands; the walk is broken", n)
	}
}
