package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// secretKeys are masked by `config view`.
var secretKeys = map[string]bool{"password": true}

func (a *app) newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show where the configuration comes from",
		Long: `The configuration is a YAML file: --config, else $STOMPEST_CONFIG, else
$XDG_CONFIG_HOME/stompest/config.yaml. Its top-level keys are the long names
of the global flags; 'profiles: {NAME: {...}}' holds named profiles, selected
by 'profile: NAME', --profile or $STOMPEST_PROFILE; a command's own defaults
live under its name ('subscribe: {ack: client}').

Precedence: flag > env > selected profile > top level of the file > default.
Only STOMPEST_SERVER, STOMPEST_USER, STOMPEST_PASSWORD, STOMPEST_VHOST and
STOMPEST_CONNECT_TIMEOUT are read from the environment.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newConfigViewCmd(), a.newConfigPathCmd())
	return cmd
}

// setting is one line of `config view`.
type setting struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

func (a *app) newConfigViewCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "view",
		Short: "Print each effective setting and where it came from",
		Example: `  stompest config view
  stompest --profile prod config view -o json | jq -r .server.value`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			settings := map[string]setting{}
			cmd.Root().PersistentFlags().VisitAll(func(f *pflag.Flag) {
				if notInFile[f.Name] {
					return
				}
				settings[f.Name] = a.effective(cmd, f.Name)
			})
			for key := range a.cfg.fromFile {
				if strings.Contains(key, ".") {
					settings[key] = a.effective(cmd, key)
				}
			}
			switch output {
			case "json":
				enc := json.NewEncoder(a.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(settings)
			case "table":
				keys := make([]string, 0, len(settings))
				for k := range settings {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
				bold := a.outColor(color.Bold)
				fmt.Fprintln(tw, bold.Sprint("SETTING\tVALUE\tSOURCE"))
				for _, k := range keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", k, settings[k].Value, settings[k].Source)
				}
				return tw.Flush()
			}
			return usageErrorf("-o %q: want table or json", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// effective returns the effective value of key, masked when secret, and
// its source.
func (a *app) effective(cmd *cobra.Command, key string) setting {
	value := a.cfg.v.GetString(key)
	if key == "password" {
		value = a.opts.Password
	}
	if secretKeys[key] && value != "" {
		value = "***"
	}
	return setting{Value: value, Source: a.cfg.source(cmd, key)}
}

func (a *app) newConfigPathCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "path",
		Short: "Print the path of the config file in use (or that would be)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := a.cfg.path
			if path == "" {
				path = defaultConfigPath()
			}
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			_, err := fmt.Fprintln(a.Out, path)
			if _, statErr := os.Stat(path); statErr != nil {
				a.warn("note: " + path + " does not exist")
			}
			return err
		},
	}
}
