// Package cli is the stompest command line: Execute, the root command with
// the global flags, and the one list of the commands, each a package of its
// own under cmd/.
package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stompest/stompest/internal/cli/cmd/bench"
	"github.com/stompest/stompest/internal/cli/cmd/broker"
	"github.com/stompest/stompest/internal/cli/cmd/check"
	"github.com/stompest/stompest/internal/cli/cmd/config"
	"github.com/stompest/stompest/internal/cli/cmd/dlq"
	"github.com/stompest/stompest/internal/cli/cmd/move"
	"github.com/stompest/stompest/internal/cli/cmd/probe"
	"github.com/stompest/stompest/internal/cli/cmd/reqrep"
	"github.com/stompest/stompest/internal/cli/cmd/script"
	"github.com/stompest/stompest/internal/cli/cmd/send"
	"github.com/stompest/stompest/internal/cli/cmd/settle"
	"github.com/stompest/stompest/internal/cli/cmd/stat"
	"github.com/stompest/stompest/internal/cli/cmd/subscribe"
	"github.com/stompest/stompest/internal/cli/cmd/transaction"
	"github.com/stompest/stompest/internal/cli/cmd/version"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/protocol"
)

// Execute runs the command line args of the binary b on the streams s
// and ends the process through exit: with the command's exit code, or at
// once on a second signal. It is the only way out of the process.
func Execute(b cmdutil.Build, args []string, s cmdutil.Streams, exit func(int)) {
	cmdutil.TuneRuntime()
	exit(execute(b, args, s, exit))
}

// execute runs the command line args of the binary b and returns the exit
// code; exit, when not nil, ends the process at once on a second signal.
func execute(b cmdutil.Build, args []string, s cmdutil.Streams, exit func(int)) int {
	f := cmdutil.New(b, s, exit)
	defer f.Sig.Stop()
	root := newRootCmd(f, args)
	root.SetArgs(args)
	root.SetIn(f.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	cmd, err := root.ExecuteContextC(f.Sig.Ctx)
	var ce *cmdutil.CommitError
	if e := f.Sig.Err(); e != nil && err != nil && errors.Is(err, context.Canceled) && !errors.As(err, &ce) {
		// A wait on input, the network or a handler cut short; a COMMIT
		// whose receipt wait was cut short is an unknown outcome, reported.
		err = e
	}
	if err == nil {
		return cmdutil.ExitOK
	}
	code := cmdutil.ExitCode(err)
	printError(f, cmd, err, code)
	return code
}

// printError writes the one-line error, plus the usage line for a usage
// error.
func printError(f *cmdutil.Factory, cmd *cobra.Command, err error, code int) {
	var sig *cmdutil.Interrupted
	if errors.As(err, &sig) {
		return
	}
	msg := cmdutil.OneLine(err.Error())
	if hint := limitHint(err); hint != "" {
		msg += " (hint: " + hint + ")"
	}
	fmt.Fprintf(f.ErrOut, "%s %s\n", f.ErrColor(color.FgRed).Sprint("stompest:"), cmdutil.Printable(msg))
	if code == cmdutil.ExitUsage && cmd != nil {
		use := cmd.UseLine()
		if !cmd.HasParent() {
			use = "stompest <command> [flags]"
		}
		fmt.Fprintf(f.ErrOut, "Usage: %s\nRun '%s --help' for more.\n", use, cmd.CommandPath())
	}
}

// limitHint names the flag that raises a limit the peer's frame crossed.
func limitHint(err error) string {
	switch {
	case errors.Is(err, protocol.ErrLineTooLong):
		return "--max-header-size raises the limit"
	case errors.Is(err, protocol.ErrFrameTooLarge):
		return "--max-frame-size raises the limit"
	}
	return ""
}

// newRootCmd returns the root command for the command line args: with
// every command, or only the one args run when they name one that needs
// no other (help, completion and man read the whole tree).
func newRootCmd(f *cmdutil.Factory, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "stompest",
		Short: "A command-line toolkit for STOMP messaging",
		Long: `stompest talks to any STOMP broker (ActiveMQ, RabbitMQ, Artemis, ...):
send messages from stdin or files, subscribe and pipe bodies to stdout or to a
handler, acknowledge, run transactions, and probe a failover cluster.

Standard output carries only data; logs, traces and errors go to standard
error. Exit codes are listed by 'stompest help exit-codes'.`,
		Example: `  # shell scripts: exit 0 only once the broker confirmed it
  stompest send /queue/jobs '{"id": 42}' || exit
  # CI: load fixtures, then collect the results
  stompest send --input jsonl < fixtures.jsonl
  stompest subscribe /queue/results -o jsonl --idle 2s > results.jsonl
  # ops: look without consuming, then settle one message
  stompest subscribe /queue/orders --peek -o pretty
  stompest ack /queue/orders --match order-id=42
  # pipes: bodies byte-exact, one message per line
  tail -f app.log | stompest send /topic/logs --lines --persistent=false`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				msg := fmt.Sprintf("unknown command %q", args[0])
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
				}
				return cmdutil.WithCode(cmdutil.ExitUsage, errors.New(msg))
			}
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if _, skip := cmd.Annotations[cmdutil.NoConfig]; skip || cmd == cmd.Root() {
				return nil
			}
			return f.Configure(cmd)
		},
		SuggestionsMinimumDistance: 2,
	}
	addGlobalFlags(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return cmdutil.WithCode(cmdutil.ExitUsage, cmdutil.FlagError(err))
	})
	list := commands()
	if c := chosen(root, list, args); c != nil {
		// One command, and only its own flags and code are set up; the
		// config file's keys of other commands are checked against the
		// whole tree, built then.
		root.AddCommand(c.build(f))
		root.CompletionOptions.DisableDefaultCmd = true
		f.AllCommands = func() *cobra.Command { return newRootCmd(f, nil) }
	} else {
		for _, c := range list {
			root.AddCommand(c.build(f))
		}
	}
	help := &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "help shows the help of a command or topic: 'stompest help send', 'stompest help exit-codes', 'stompest help jsonl'.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return cmdutil.UsageErrorf("help: unknown command or topic %q", strings.Join(args, " "))
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	}
	markNoConfig(help)
	root.SetHelpCommand(help)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			markNoConfig(c)
			c.Example = `  stompest completion bash > ~/.local/share/bash-completion/completions/stompest
  stompest completion zsh > "${fpath[1]}/_stompest"
  stompest completion fish > ~/.config/fish/completions/stompest.fish`
			for _, sh := range c.Commands() {
				sh.Example = "  source <(stompest completion " + sh.Name() + ")   # this shell only\n" +
					"  stompest completion " + sh.Name() + " > FILE                # see above for where FILE goes"
				switch sh.Name() {
				case "fish":
					sh.Example = "  stompest completion fish | source   # this shell only\n" +
						"  stompest completion fish > ~/.config/fish/completions/stompest.fish"
				case "powershell":
					sh.Example = "  stompest completion powershell | Out-String | Invoke-Expression"
				}
			}
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return cmdutil.UsageErrorf("completion: unknown shell %q: want bash, zsh, fish or powershell", args[0])
				}
				return cmd.Help()
			}
		}
	}
	registerCompletions(root)
	wrapArgs(root)
	return root
}

// command is an entry of the command list: the names a command line calls
// it by, and how to build it.
type command struct {
	names []string
	build func(*cmdutil.Factory) *cobra.Command
}

// commands is the one list of the commands and help topics: a new command
// is one line here.
func commands() []command {
	return []command{
		{[]string{"version"}, version.NewCmd},
		{[]string{"config"}, config.NewCmd},
		{[]string{"failover-probe", "probe"}, func(f *cmdutil.Factory) *cobra.Command { return probe.NewCmd(f, nil) }},
		{[]string{"send"}, func(f *cmdutil.Factory) *cobra.Command { return send.NewCmd(f, nil) }},
		{[]string{"subscribe", "sub"}, func(f *cmdutil.Factory) *cobra.Command { return subscribe.NewCmd(f, nil) }},
		{[]string{"ack"}, func(f *cmdutil.Factory) *cobra.Command { return settle.NewCmd(f, false, nil) }},
		{[]string{"nack"}, func(f *cmdutil.Factory) *cobra.Command { return settle.NewCmd(f, true, nil) }},
		{[]string{"transaction", "tx"}, func(f *cmdutil.Factory) *cobra.Command { return transaction.NewCmd(f, nil) }},
		{[]string{"move"}, func(f *cmdutil.Factory) *cobra.Command { return move.NewCmd(f, nil) }},
		{[]string{"dlq"}, func(f *cmdutil.Factory) *cobra.Command { return dlq.NewCmd(f, nil) }},
		{[]string{"stat"}, func(f *cmdutil.Factory) *cobra.Command { return stat.NewCmd(f, nil) }},
		{[]string{"check"}, func(f *cmdutil.Factory) *cobra.Command { return check.NewCmd(f, nil) }},
		{[]string{"broker"}, func(f *cmdutil.Factory) *cobra.Command { return broker.NewCmd(f, nil) }},
		{[]string{"man"}, newManCmd},
		{[]string{"bench"}, func(f *cmdutil.Factory) *cobra.Command { return bench.NewCmd(f, nil) }},
		{[]string{"request"}, func(f *cmdutil.Factory) *cobra.Command { return reqrep.NewRequestCmd(f, nil) }},
		{[]string{"reply"}, func(f *cmdutil.Factory) *cobra.Command { return reqrep.NewReplyCmd(f, nil) }},
		{[]string{"run"}, func(f *cmdutil.Factory) *cobra.Command { return script.NewRunCmd(f, nil) }},
		{[]string{"shell"}, func(f *cmdutil.Factory) *cobra.Command { return script.NewShellCmd(f, nil) }},
		{[]string{"exit-codes"}, func(*cmdutil.Factory) *cobra.Command { return newExitCodesTopic() }},
		{[]string{"jsonl"}, func(*cmdutil.Factory) *cobra.Command { return newJSONLTopic() }},
		{[]string{"filter"}, func(*cmdutil.Factory) *cobra.Command { return newFilterTopic() }},
	}
}

// chosen returns the entry of list that args run, when it can run without
// the rest of the tree: not man (it writes every command's page), and
// nothing when args run help, completion or no command at all.
func chosen(root *cobra.Command, list []command, args []string) *command {
	name := firstArg(root.PersistentFlags(), args)
	if name == "" || name == "man" {
		return nil
	}
	for i := range list {
		if slices.Contains(list[i].names, name) {
			return &list[i]
		}
	}
	return nil
}

// firstArg returns the first argument of args that is not a flag of fs or
// a flag's value: the command's name. It returns "" at an unknown flag or
// at "--", so that the whole tree is built and cobra explains.
func firstArg(fs *pflag.FlagSet, args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--" || a == "-":
			return ""
		case strings.HasPrefix(a, "--"):
			name, _, inline := strings.Cut(a[2:], "=")
			fl := fs.Lookup(name)
			if fl == nil {
				return ""
			}
			if !inline && fl.NoOptDefVal == "" {
				i++ // its value
			}
		case strings.HasPrefix(a, "-"):
			// Shorthands, maybe several (-vq), the last maybe with its
			// value in the same argument (-sURL) or the next.
			for j := 1; j < len(a); j++ {
				fl := fs.ShorthandLookup(a[j : j+1])
				if fl == nil {
					return ""
				}
				if fl.NoOptDefVal == "" {
					if j == len(a)-1 {
						i++
					}
					break
				}
			}
		default:
			return a
		}
	}
	return ""
}

// markNoConfig marks c and its subcommands as reading no configuration.
func markNoConfig(c *cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[cmdutil.NoConfig] = ""
	for _, sub := range c.Commands() {
		markNoConfig(sub)
	}
}

// wrapArgs makes every argument-count error a usage error (exit 64).
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			return cmdutil.WithCode(cmdutil.ExitUsage, check(cmd, args))
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

func addGlobalFlags(root *cobra.Command) {
	fs := root.PersistentFlags()
	fs.StringP("server", "s", "tcp://127.0.0.1:61613", "broker `URI`: tcp://[user:pass@]h:p, ssl://h:p, stomp://, stomp+ssl://, ws://h:p/path, wss://, failover:(...)?... (env STOMPEST_SERVER)")
	fs.StringP("user", "u", "", "CONNECT login (env STOMPEST_USER)")
	fs.String("password", "", "CONNECT passcode; visible in ps, prefer --password-file or STOMPEST_PASSWORD")
	fs.String("password-file", "", "read the passcode from the first line of `FILE` (- for stdin)")
	fs.String("vhost", "/", "CONNECT host header, the virtual host (env STOMPEST_VHOST)")
	fs.String("stomp-version", "1.0,1.1,1.2", "STOMP versions to offer, comma-separated")
	fs.String("heartbeat", "10s,10s", "heart-beats `CX,CY`: what we send, what we want (Go durations or ms; 0 = none)")
	fs.Duration("connect-timeout", 30*time.Second, "budget for the initial connect over all attempts (env STOMPEST_CONNECT_TIMEOUT)")
	fs.Duration("receipt-timeout", 10*time.Second, "wait for each RECEIPT at most this long")
	fs.Duration("disconnect-timeout", 10*time.Second, "graceful shutdown budget for in-flight work")
	fs.String("tls-ca", "", "CA certificates `FILE` (PEM) to verify the broker")
	fs.String("tls-cert", "", "client certificate `FILE` (PEM)")
	fs.String("tls-key", "", "client key `FILE` (PEM)")
	fs.String("tls-server-name", "", "expected server name in the broker's certificate")
	fs.Bool("tls-insecure", false, "do not verify the broker's certificate (warns on every run)")
	fs.String("max-frame-size", "64MiB", "largest body accepted from the broker")
	fs.String("max-header-size", "64KiB", "longest header line accepted from the broker, and sent by send (what could not be read back)")
	fs.CountP("verbose", "v", "report events on stderr (repeatable)")
	fs.Bool("trace", false, "write every frame to stderr (>>> sent, <<< received; passcode masked)")
	fs.BoolP("quiet", "q", false, "no warnings")
	flags.PersistentEnum(root, new(string), "color", "", "auto", []string{"auto", "always", "never"}, "colour on stderr and terminals: auto, always or never (NO_COLOR honoured)")
	fs.String("config", "", "config `FILE` (env STOMPEST_CONFIG; default $XDG_CONFIG_HOME/stompest/config.yaml)")
	fs.String("profile", "", "named profile of the config file (env STOMPEST_PROFILE)")
}

// Build is what the release build sets at link time, handed over by main.
type Build = cmdutil.Build

// Streams are the standard streams of a run.
type Streams = cmdutil.Streams

// SystemStreams returns the process's standard streams.
func SystemStreams() Streams { return cmdutil.SystemStreams() }
