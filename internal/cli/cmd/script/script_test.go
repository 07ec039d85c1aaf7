package script

import (
	"testing"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmds checks what run and shell make of their argument and flags,
// without running them: run reads stdin without FILE, shell prints
// pretty by default.
func TestNewCmds(t *testing.T) {
	t.Parallel()
	if got := cmdtest.Parse(t, nil, NewRunCmd); got.path != "-" || got.keepGoing {
		t.Errorf("run: options %+v", got)
	}
	if got := cmdtest.Parse(t, nil, NewRunCmd, "steps.txt", "--keep-going", "-o", "jsonl"); got.path != "steps.txt" || !got.keepGoing || got.out.Format != "jsonl" {
		t.Errorf("run steps.txt: options %+v", got)
	}
	if got := cmdtest.Parse(t, nil, NewShellCmd); got.out.Format != "pretty" {
		t.Errorf("shell: options %+v", got)
	}
}
