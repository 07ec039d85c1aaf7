package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// app is one run of the binary: its streams, its configuration and the
// global options resolved from flags, env, profile, file and defaults.
type app struct {
	Streams
	exit func(int) // ends the process at once (a second signal); nil in tests
	sig  *signals  // the run's interrupt signals
	// dialing: the first connect is under way; waitShown: a waiting line
	// is on the terminal (showAttempt), to be cleared
	dialing, waitShown atomic.Bool
	cfg                *config
	opts               globalOptions
}

// globalOptions are the connection and output settings of PRODUCT.md §3.
type globalOptions struct {
	Server            string
	User              string
	Password          string
	VHost             string
	Versions          []protocol.Version
	HeartBeat         protocol.HeartBeatSpec
	ConnectTimeout    time.Duration
	ReceiptTimeout    time.Duration
	DisconnectTimeout time.Duration
	TLSCA             string
	TLSCert           string
	TLSKey            string
	TLSServerName     string
	TLSInsecure       bool
	MaxFrameSize      int64
	MaxHeaderSize     int
	Verbose           int
	Trace             bool
	Quiet             bool
	Color             string
}

// annotations of commands.
const noConfig = "stompest/no-config" // the command reads no configuration

// Execute runs the command line args of the binary b on the streams s
// and ends the process through exit: with the command's exit code, or at
// once on a second signal. It is the only way out of the process.
func Execute(b Build, args []string, s Streams, exit func(int)) {
	build = b
	tuneRuntime()
	exit(run(args, s, exit))
}

// run executes the command line args and returns the exit code; exit, when
// not nil, ends the process at once on a second signal.
func run(args []string, s Streams, exit func(int)) int {
	// The client's goroutines log too: one line at a time on stderr.
	s.ErrOut = &lockedWriter{w: s.ErrOut}
	a := &app{Streams: s, exit: exit}
	a.sig = a.catchSignals(context.Background())
	defer a.sig.stop()
	a.In = interruptible(a.sig.ctx, s.In)
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(a.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	cmd, err := root.ExecuteContextC(a.sig.ctx)
	var ce *commitError
	if e := a.sig.err(); e != nil && err != nil && errors.Is(err, context.Canceled) && !errors.As(err, &ce) {
		// A wait on input, the network or a handler cut short; a COMMIT
		// whose receipt wait was cut short is an unknown outcome, reported.
		err = e
	}
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	a.printError(cmd, err, code)
	return code
}

// printError writes the one-line error, plus the usage line for a usage
// error.
func (a *app) printError(cmd *cobra.Command, err error, code int) {
	var sig *interrupted
	if errors.As(err, &sig) {
		return
	}
	msg := oneLine(err.Error())
	if hint := limitHint(err); hint != "" {
		msg += " (hint: " + hint + ")"
	}
	fmt.Fprintf(a.ErrOut, "%s %s\n", a.errColor(color.FgRed).Sprint("stompest:"), printable(msg))
	if code == exitUsage && cmd != nil {
		use := cmd.UseLine()
		if !cmd.HasParent() {
			use = "stompest <command> [flags]"
		}
		fmt.Fprintf(a.ErrOut, "Usage: %s\nRun '%s --help' for more.\n", use, cmd.CommandPath())
	}
}

// warn writes a warning line on standard error unless --quiet.
func (a *app) warn(msg string) {
	if a.opts.Quiet {
		return
	}
	fmt.Fprintf(a.ErrOut, "%s %s\n", a.errColor(color.FgYellow).Sprint("stompest:"), printable(msg))
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

// badFlagValue matches pflag's error for a value a flag refused.
var badFlagValue = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?(--[\w-]+)" flag: (.*)$`)

// flagError rewrites pflag's error for a refused value in the words of
// the rest of stompest: `--count "x": want a whole number`.
func flagError(err error) error {
	m := badFlagValue.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	return fmt.Errorf("%s %q: %s", m[2], m[1], valueReason(m[3]))
}

// valueReason says why a flag refused a value without Go's parser names.
func valueReason(reason string) string {
	switch {
	case strings.Contains(reason, "strconv.ParseInt"), strings.Contains(reason, "strconv.ParseUint"), strings.Contains(reason, "strconv.Atoi"):
		return "want a whole number"
	case strings.Contains(reason, "strconv.ParseFloat"):
		return "want a number"
	case strings.Contains(reason, "strconv.ParseBool"):
		return "want true or false"
	case strings.HasPrefix(reason, "time: "):
		return "want a duration such as 10s or 500ms"
	}
	return reason
}

// note writes a command's summary line on standard error (stdout carries
// only data) unless --quiet.
func (a *app) note(msg string) {
	if a.opts.Quiet {
		return
	}
	fmt.Fprintln(a.ErrOut, printable(msg))
}

// printable escapes the control characters of s (ESC, BEL, CR, DEL, the
// C1 controls, ...) as \xHH, so that text a broker supplied (an ERROR's
// message, CONNECTED's server) cannot drive the terminal it is printed
// on. Tabs, and newlines where keepNewlines, stay.
func printable(s string) string { return escapeControls(s, false) }

func escapeControls(s string, keepNewlines bool) string {
	clean := true
	for _, r := range s {
		if isControl(r, keepNewlines) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r, keepNewlines) {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune, keepNewlines bool) bool {
	switch {
	case r == '\t', r == '\n' && keepNewlines:
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	}
	return false
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func (a *app) newRootCmd() *cobra.Command {
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
				return withCode(exitUsage, errors.New(msg))
			}
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if _, skip := cmd.Annotations[noConfig]; skip || cmd == cmd.Root() {
				return nil
			}
			return a.configure(cmd)
		},
		SuggestionsMinimumDistance: 2,
	}
	a.addGlobalFlags(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return withCode(exitUsage, flagError(err))
	})
	root.AddCommand(
		a.newVersionCmd(),
		a.newConfigCmd(),
		a.newFailoverProbeCmd(),
		a.newSendCmd(),
		a.newSubscribeCmd(),
		a.newSettleCmd(false),
		a.newSettleCmd(true),
		a.newTransactionCmd(),
		a.newMoveCmd(),
		a.newBrokerCmd(),
		a.newManCmd(),
		a.newBenchCmd(),
		a.newRequestCmd(),
		a.newReplyCmd(),
		a.newRunCmd(),
		a.newShellCmd(),
		newExitCodesTopic(),
	)
	help := &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "help shows the help of a command or topic: 'stompest help send', 'stompest help exit-codes'.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return usageErrorf("help: unknown command or topic %q", strings.Join(args, " "))
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
					return usageErrorf("completion: unknown shell %q: want bash, zsh, fish or powershell", args[0])
				}
				return cmd.Help()
			}
		}
	}
	registerCompletions(root)
	wrapArgs(root)
	return root
}

// markNoConfig marks c and its subcommands as reading no configuration.
func markNoConfig(c *cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[noConfig] = ""
	for _, sub := range c.Commands() {
		markNoConfig(sub)
	}
}

// wrapArgs makes every argument-count error a usage error (exit 64).
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			return withCode(exitUsage, check(cmd, args))
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

func (a *app) addGlobalFlags(root *cobra.Command) {
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

// configure loads the configuration for cmd and resolves the global
// options, refusing what is invalid.
func (a *app) configure(cmd *cobra.Command) error {
	var warnings []string
	cfg, err := loadConfig(cmd.Root(), cmd, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		return err
	}
	a.cfg = cfg
	if err := cfg.applyCommandDefaults(cmd); err != nil {
		return err
	}
	v := cfg.v
	o := &a.opts
	o.Quiet = v.GetBool("quiet")
	o.Color = v.GetString("color")
	switch o.Color {
	case "auto", "always", "never":
	default:
		return a.settingError(cmd, "color", "want auto, always or never")
	}
	for _, w := range warnings {
		a.warn(w)
	}
	o.Server = v.GetString("server")
	o.User = v.GetString("user")
	o.VHost = v.GetString("vhost")
	o.Verbose = v.GetInt("verbose")
	a.sig.verbose.Store(o.Verbose > 0)
	o.Trace = v.GetBool("trace")
	o.TLSCA, o.TLSCert, o.TLSKey = v.GetString("tls-ca"), v.GetString("tls-cert"), v.GetString("tls-key")
	o.TLSServerName = v.GetString("tls-server-name")
	o.TLSInsecure = v.GetBool("tls-insecure")
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{{"connect-timeout", &o.ConnectTimeout}, {"receipt-timeout", &o.ReceiptTimeout}, {"disconnect-timeout", &o.DisconnectTimeout}} {
		if *d.dst, err = parseDuration(v.GetString(d.key)); err != nil || *d.dst < 0 {
			return a.settingError(cmd, d.key, "want a duration such as 10s")
		}
	}
	if o.Versions, err = parseVersions(v.GetString("stomp-version")); err != nil {
		return a.settingError(cmd, "stomp-version", err.Error())
	}
	if o.HeartBeat, err = parseHeartBeat(v.GetString("heartbeat")); err != nil {
		return a.settingError(cmd, "heartbeat", err.Error())
	}
	if len(o.Versions) == 1 && o.Versions[0] == protocol.V10 {
		if cfg.source(cmd, "heartbeat") != "default" {
			return usageErrorf("--heartbeat: STOMP 1.0 has no heart-beating; offer 1.1 or 1.2 with --stomp-version")
		}
		o.HeartBeat = protocol.HeartBeatSpec{}
	}
	if o.MaxFrameSize, err = parseSize(v.GetString("max-frame-size")); err != nil || o.MaxFrameSize <= 0 {
		return a.settingError(cmd, "max-frame-size", "want a size such as 64MiB")
	}
	headerSize, err := parseSize(v.GetString("max-header-size"))
	if err != nil || headerSize < 256 || headerSize > 1<<30 {
		return a.settingError(cmd, "max-header-size", "want a size from 256 to 1GiB, such as 64KiB")
	}
	o.MaxHeaderSize = int(headerSize)
	if o.Password, err = a.password(cmd); err != nil {
		return err
	}
	if a.cfg.source(cmd, "server") == "flag" && failover.Redact(o.Server) != o.Server {
		a.warn("warning: the password in --server is visible in ps; prefer --password-file or STOMPEST_PASSWORD")
	}
	if o.TLSInsecure {
		a.warn("warning: --tls-insecure: the broker's certificate is not verified")
	}
	return nil
}

// settingError reports an invalid setting as a usage error when it came
// from a flag and as a configuration error when it came from elsewhere.
func (a *app) settingError(cmd *cobra.Command, key, why string) error {
	src := a.cfg.source(cmd, key)
	value := a.cfg.v.GetString(key)
	switch {
	case src == "flag":
		return usageErrorf("--%s %q: %s", key, value, why)
	case src == "env":
		return configErrorf("%s=%q: %s", envKeys[key], value, why)
	}
	return configErrorf("config %s: %s %q (%s): %s", a.cfg.path, key, value, src, why)
}

// password resolves the passcode: --password (with a warning when given on
// the command line), STOMPEST_PASSWORD, the profile or file, or the first
// line of --password-file.
func (a *app) password(cmd *cobra.Command) (string, error) {
	v := a.cfg.v
	if f := cmd.Flags().Lookup("password"); f != nil && f.Changed {
		a.warn("warning: --password on the command line is visible in ps; prefer --password-file or STOMPEST_PASSWORD")
	}
	path := v.GetString("password-file")
	if path == "" || (v.GetString("password") != "" && a.cfg.source(cmd, "password") != "default" && a.cfg.source(cmd, "password-file") != "flag") {
		return v.GetString("password"), nil
	}
	return a.readPasswordFile(path)
}

// readPasswordFile reads a passcode: the first line of path, without its
// line end; "-" is stdin. An unreadable file is a configuration error.
func (a *app) readPasswordFile(path string) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = readFirstLine(a.In)
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			data, err = readFirstLine(f)
			f.Close()
		}
	}
	if err != nil {
		return "", configErrorf("--password-file: %v", err)
	}
	return string(data), nil
}

// parseDuration parses a Go duration, or a plain number of milliseconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	return time.ParseDuration(s)
}

// parseVersions parses --stomp-version: a comma-separated list of 1.0, 1.1
// and 1.2.
func parseVersions(s string) ([]protocol.Version, error) {
	var vs []protocol.Version
	for part := range strings.SplitSeq(s, ",") {
		v, err := protocol.ParseVersion(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("want a list of 1.0, 1.1 and 1.2")
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// parseHeartBeat parses --heartbeat CX,CY, each a Go duration or a number
// of milliseconds.
func parseHeartBeat(s string) (protocol.HeartBeatSpec, error) {
	cx, cy, ok := strings.Cut(s, ",")
	if !ok {
		return protocol.HeartBeatSpec{}, errors.New("want CX,CY such as 10s,10s")
	}
	x, err1 := parseDuration(cx)
	y, err2 := parseDuration(cy)
	if err1 != nil || err2 != nil || x < 0 || y < 0 {
		return protocol.HeartBeatSpec{}, errors.New("want CX,CY such as 10s,10s")
	}
	return protocol.HeartBeatSpec{Send: x, Receive: y}, nil
}

// parseSize parses a byte size: a number with an optional unit (B, KiB,
// MiB, GiB, or K, M, G meaning the same).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

// outColor returns a colour for standard output, enabled only as --color
// and the terminal allow.
func (a *app) outColor(attrs ...color.Attribute) *color.Color {
	return a.colorFor(a.OutTTY, attrs)
}

// errColor is outColor for standard error.
func (a *app) errColor(attrs ...color.Attribute) *color.Color {
	return a.colorFor(a.ErrTTY, attrs)
}

func (a *app) colorFor(tty bool, attrs []color.Attribute) *color.Color {
	c := color.New(attrs...)
	mode := a.opts.Color
	if mode == "" {
		mode = "auto"
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	on := mode == "always" || (mode == "auto" && tty && !noColor && os.Getenv("TERM") != "dumb")
	if on {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c
}
