package settle

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdtest"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// TestNewCmd checks what ack and nack make of their arguments and flags,
// without running them.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	for _, nack := range []bool{false, true} {
		f, _, _ := cmdtest.Factory("")
		var name string
		newCmd := func(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
			cmd := NewCmd(f, nack, runF)
			name = cmd.Name()
			return cmd
		}
		got := cmdtest.Parse(t, f, newCmd, "/queue/a", "--match", "k=v", "--message-id", "m1", "--message-id", "m2", "--idle", "3s", "-o", "jsonl")
		if want := map[bool]string{false: "ack", true: "nack"}[nack]; name != want {
			t.Errorf("nack=%v: the command is %s, want %s", nack, name, want)
		}
		if got.nack != nack || got.dest != "/queue/a" || !slices.Equal(got.sel.Match, []string{"k=v"}) ||
			!slices.Equal(got.sel.MessageIDs, []string{"m1", "m2"}) || got.stop.Idle != 3*time.Second || got.out.Format != "jsonl" {
			t.Errorf("nack=%v: options %+v", nack, got)
		}
		if got.Factory != f {
			t.Error("the options do not carry the factory")
		}
	}
}
