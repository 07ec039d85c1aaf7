package cli

import (
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// enumValues are the values of the flags that take one of a fixed set,
// by command path (without "stompest ") and flag name; "" holds the global
// flags. Shell completion offers them.
var enumValues = map[string]map[string][]string{
	"": {
		"color":         {"auto", "always", "never"},
		"stomp-version": {"1.2", "1.1,1.2", "1.0,1.1,1.2", "1.1", "1.0"},
	},
	"send":           {"receipt": {"each", "last", "none"}, "input": {"jsonl"}},
	"subscribe":      {"ack": {"auto", "client", "client-individual"}, "output": {"body", "pretty", "jsonl"}, "on-error": {"stop", "nack", "forward"}},
	"ack":            {"output": {"body", "pretty", "jsonl"}},
	"nack":           {"output": {"body", "pretty", "jsonl"}},
	"transaction":    {"output": {"text", "json"}},
	"failover-probe": {"output": {"table", "json"}},
	"config view":    {"output": {"table", "json"}},
	"version":        {"output": {"text", "json"}},
	"request":        {"output": {"body", "pretty", "jsonl"}},
	"run":            {"output": {"body", "pretty", "jsonl"}},
	"shell":          {"output": {"body", "pretty", "jsonl"}},
	"bench":          {"output": {"text", "json"}, "ack": {"auto", "client-individual"}, "receipt": {"each", "last", "none"}},
}

// registerCompletions gives every enum flag its values and --profile the
// names of the config file's profiles.
func registerCompletions(root *cobra.Command) {
	fixed := func(values []string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	for flag, values := range enumValues[""] {
		root.RegisterFlagCompletionFunc(flag, fixed(values))
	}
	root.RegisterFlagCompletionFunc("profile", completeProfiles)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		for flag, values := range enumValues[path] {
			c.RegisterFlagCompletionFunc(flag, fixed(values))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range root.Commands() {
		walk(c)
	}
}

// completeProfiles lists the profiles of the config file that the command
// line (--config) or the environment names, or of the default one.
func completeProfiles(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	path, _ := flagOrEnv(cmd.Flags(), "config", "STOMPEST_CONFIG")
	if path == "" {
		path = defaultConfigPath()
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
