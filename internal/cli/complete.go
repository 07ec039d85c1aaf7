package cli

import (
	"os"
	"sort"

	"github.com/spf13/cobra"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"go.yaml.in/yaml/v3"
)

// registerCompletions gives the global flags that take listed values
// their completions; the enum flags of the commands register theirs where
// they are declared (flags.Enum).
func registerCompletions(root *cobra.Command) {
	root.RegisterFlagCompletionFunc("stomp-version", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"1.2", "1.1,1.2", "1.0,1.1,1.2", "1.1", "1.0"}, cobra.ShellCompDirectiveNoFileComp
	})
	root.RegisterFlagCompletionFunc("profile", completeProfiles)
}

// completeProfiles lists the profiles of the config file that the command
// line (--config) or the environment names, or of the default one.
func completeProfiles(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	path, _ := cmdutil.FlagOrEnv(cmd.Flags(), "config", "STOMPEST_CONFIG")
	if path == "" {
		path = cmdutil.DefaultConfigPath()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var doc struct {
		Profiles map[string]any `yaml:"profiles"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]string, 0, len(doc.Profiles))
	for name := range doc.Profiles {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}
