// Package config is the config command: view, path and init.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/spf13/pflag"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/failover"
)

// secretKeys are masked by `config view`.
var secretKeys = map[string]bool{"password": true}

// NewCmd returns config.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
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
		Example: `  stompest config init                      # a commented template
  stompest --profile prod config view       # what a command would use, and why
  STOMPEST_SERVER=tcp://ci-mq:61613 stompest config view -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newConfigViewCmd(f), newConfigPathCmd(f), newConfigInitCmd(f))
	return cmd
}

// setting is one line of `config view`.
type setting struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

func newConfigViewCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "view",
		Short: "Print each effective setting and where it came from",
		Example: `  stompest config view
  stompest --profile prod config view -o json | jq -r .server.value`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			settings := map[string]setting{}
			cmd.Root().PersistentFlags().VisitAll(func(fl *pflag.Flag) {
				if cmdutil.NotInFile[fl.Name] {
					return
				}
				settings[fl.Name] = effective(f, cmd, fl.Name)
			})
			for key := range f.Config.FromFile {
				if strings.Contains(key, ".") {
					settings[key] = effective(f, cmd, key)
				}
			}
			switch output {
			case "json":
				enc := json.NewEncoder(f.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(settings)
			case "table":
				keys := make([]string, 0, len(settings))
				for k := range settings {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				tw := tabwriter.NewWriter(f.Out, 0, 4, 2, ' ', 0)
				bold := f.OutColor(color.Bold)
				fmt.Fprintln(tw, bold.Sprint("SETTING\tVALUE\tSOURCE"))
				for _, k := range keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", k, settings[k].Value, settings[k].Source)
				}
				return tw.Flush()
			}
			return nil
		},
	}
	flags.Enum(cmd, &output, "output", "o", "table", []string{"table", "json"}, "output format: table or json")
	return cmd
}

// effective returns the effective value of key, masked when secret, and
// its source.
func effective(f *cmdutil.Factory, cmd *cobra.Command, key string) setting {
	value := f.Config.V.GetString(key)
	if key == "password" {
		value = f.Opts.Password
	}
	if secretKeys[key] && value != "" {
		value = "***"
	}
	if key == "server" {
		value = failover.Redact(value) // a password in user:pass@
	}
	return setting{Value: value, Source: f.Config.Source(cmd, key)}
}

func newConfigPathCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "path",
		Short: "Print the path of the config file in use (or that would be)",
		Example: `  $EDITOR "$(stompest config path)"
  STOMPEST_CONFIG=./ci.yaml stompest config path`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := f.Config.Path
			if path == "" {
				path = cmdutil.DefaultConfigPath()
			}
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			_, err := fmt.Fprintln(f.Out, path)
			if _, statErr := os.Stat(path); statErr != nil {
				f.Warn("note: " + path + " does not exist")
			}
			return err
		},
	}
}

// configTemplate is what `config init` writes: every setting, commented
// out at its default, and an example of profiles.
const configTemplate = `# stompest configuration. Keys are the long names of the global flags.
# Precedence: flag > environment > selected profile > this file's top level
# > default. Uncomment what you need; 'stompest config view' shows the
# effective settings and where each came from.

# server: tcp://127.0.0.1:61613   # tcp://, ssl://, stomp://, stomp+ssl://, ws://, wss://, failover:(...)?...
# user: admin
# password-file: ~/.config/stompest/password   # safer than password: here
# vhost: /                         # the CONNECT host header (RabbitMQ's virtual host)
# stomp-version: 1.0,1.1,1.2
# heartbeat: 10s,10s               # what we send, what we want
# connect-timeout: 30s
# receipt-timeout: 10s
# disconnect-timeout: 10s
# max-frame-size: 64MiB
# tls-ca: /path/to/ca.pem
# tls-cert: /path/to/client.pem
# tls-key: /path/to/client.key
# tls-server-name: broker.example.com
# color: auto                      # auto, always or never

# A command's own defaults live under its name:
# subscribe:
#   ack: client

# Named profiles, selected with --profile NAME, STOMPEST_PROFILE or:
# profile: dev
# profiles:
#   dev:
#     server: tcp://127.0.0.1:61613
#   prod:
#     server: failover:(ssl://mq1:61614,ssl://mq2:61614)?randomize=false
#     vhost: prod
`

func newConfigInitCmd(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Write a commented config file template where 'config path' says",
		Long: `init writes a commented template of the config file to the path that
'stompest config path' prints (--config or $STOMPEST_CONFIG when given), with
mode 0600 and its directory created. It never overwrites a file: when one is
there it exits 1 and leaves it as it is.`,
		Example: `  stompest config init && $EDITOR "$(stompest config path)"
  stompest --config ./ci.yaml config init`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{cmdutil.NoConfig: ""}, // the file need not exist, nor be valid
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := cmdutil.FlagOrEnv(cmd.Flags(), "config", "STOMPEST_CONFIG")
			if path == "" {
				path = cmdutil.DefaultConfigPath()
			}
			if path == "" {
				return cmdutil.ConfigErrorf("config init: no config directory: set XDG_CONFIG_HOME or use --config")
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return cmdutil.ConfigErrorf("config init: %v", err)
			}
			file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return cmdutil.WithCode(cmdutil.ExitFailed, fmt.Errorf("config init: %s exists: not overwritten", path))
			}
			if err != nil {
				return cmdutil.ConfigErrorf("config init: %v", err)
			}
			if _, err := file.WriteString(configTemplate); err != nil {
				file.Close()
				return cmdutil.ConfigErrorf("config init: %v", err)
			}
			if err := file.Close(); err != nil {
				return cmdutil.ConfigErrorf("config init: %v", err)
			}
			_, err = fmt.Fprintln(f.Out, path)
			return err
		},
	}
}
