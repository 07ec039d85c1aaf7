package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// newExitCodesTopic is the help topic `stompest help exit-codes`.
func newExitCodesTopic() *cobra.Command {
	var b strings.Builder
	b.WriteString("Every terminal state of stompest has an exit code (sysexits where one fits):\n\n")
	for _, c := range cmdutil.ExitCodes {
		fmt.Fprintf(&b, "  %3d  %s\n", c.Code, c.When)
	}
	b.WriteString("\nErrors print one line on stderr: 'stompest: <what failed>: <cause>'.")
	return &cobra.Command{
		Use:         "exit-codes",
		Short:       "The exit codes of stompest and when each is used",
		Long:        b.String(),
		Annotations: map[string]string{cmdutil.NoConfig: ""},
	}
}
