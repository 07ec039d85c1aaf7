package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

func newManCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "man DIR",
		Short: "Write the man pages, one per command, into DIR",
		Long: `man writes a man page in section 1 for stompest and for each of its commands
(stompest.1, stompest-send.1, ...) into DIR, creating it. Release archives
carry them under man/; to read one without installing: man ./DIR/stompest-send.1`,
		Example: `  stompest man ./man && man ./man/stompest-subscribe.1
  sudo stompest man /usr/local/share/man/man1`,
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{cmdutil.NoConfig: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("man: %w", err))
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{Title: "STOMPEST", Section: "1", Source: "stompest " + f.Build.Info().Version, Manual: "stompest manual"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("man: %w", err))
			}
			return nil
		},
	}
	return cmd
}
