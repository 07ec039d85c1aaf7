// Package version is the version command.
package version

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
)

// NewCmd returns version.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of stompest",
		Example: `  stompest version
  stompest version -o json | jq -r .version`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{cmdutil.NoConfig: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			b := f.Build.Info()
			switch output {
			case "text":
				_, err := fmt.Fprintf(f.Out, "stompest %s (commit %s, %s)\n", b.Version, b.Commit, b.Go)
				return err
			case "json":
				enc := json.NewEncoder(f.Out)
				return enc.Encode(b)
			}
			return nil
		},
	}
	flags.Enum(cmd, &output, "output", "o", "text", []string{"text", "json"}, "output format: text or json")
	return cmd
}
