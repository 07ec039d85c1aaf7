// Package cmdutil is what every command of stompest stands on: the Factory
// of one run (streams, signals, configuration, global options), the one
// connection lifecycle, transactions, exit codes and the parsing of flag
// values.
package cmdutil

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// Factory is one run of the binary: its streams, its configuration and the
// global options resolved from flags, env, profile, file and defaults.
type Factory struct {
	Build Build // the binary's version, handed over by main
	Streams
	Exit func(int) // ends the process at once (a second signal); nil in tests
	Sig  *Signals  // the run's interrupt signals
	// dialing: the first connect is under way; waitShown: a waiting line
	// is on the terminal (ShowAttempt), to be cleared
	dialing, waitShown atomic.Bool
	Config             *Config
	Opts               GlobalOptions
	// AllCommands returns the whole command tree, built anew: a run builds
	// only the command it runs, and the config file's per-command keys
	// are checked against every command's flags. Nil: the run's own tree
	// is whole.
	AllCommands func() *cobra.Command
}

// New returns the factory of one run of the binary b on the streams s:
// signals are watched from now until Sig.Stop, stdin is read so that a
// signal interrupts a read, and exit (nil in tests) ends the process at
// once on a second signal.
func New(b Build, s Streams, exit func(int)) *Factory {
	// The client's goroutines log too: one line at a time on stderr.
	s.ErrOut = &LockedWriter{w: s.ErrOut}
	f := &Factory{Streams: s, Exit: exit, Build: b}
	f.Sig = f.CatchSignals(context.Background())
	f.In = Interruptible(f.Sig.Ctx, s.In)
	return f
}

// GlobalOptions are the connection and output settings of PRODUCT.md §3.
type GlobalOptions struct {
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
const NoConfig = "stompest/no-config" // the command reads no configuration

// Warn writes a warning line on standard error unless --quiet.
func (a *Factory) Warn(msg string) {
	if a.Opts.Quiet {
		return
	}
	fmt.Fprintf(a.ErrOut, "%s %s\n", a.ErrColor(color.FgYellow).Sprint("stompest:"), Printable(msg))
}

// Note writes a command's summary line on standard error (stdout carries
// only data) unless --quiet.
func (a *Factory) Note(msg string) {
	if a.Opts.Quiet {
		return
	}
	fmt.Fprintln(a.ErrOut, Printable(msg))
}

// Configure loads the configuration for cmd and resolves the global
// options, refusing what is invalid.
func (a *Factory) Configure(cmd *cobra.Command) error {
	var warnings []string
	cfg, err := LoadConfig(cmd.Root(), cmd, a.AllCommands, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		return err
	}
	a.Config = cfg
	if err := cfg.ApplyCommandDefaults(cmd); err != nil {
		return err
	}
	v := cfg.V
	o := &a.Opts
	o.Quiet = v.GetBool("quiet")
	o.Color = v.GetString("color")
	switch o.Color {
	case "auto", "always", "never":
	default:
		return a.settingError(cmd, "color", "want auto, always or never")
	}
	for _, w := range warnings {
		a.Warn(w)
	}
	o.Server = v.GetString("server")
	o.User = v.GetString("user")
	o.VHost = v.GetString("vhost")
	o.Verbose = v.GetInt("verbose")
	a.Sig.Verbose.Store(o.Verbose > 0)
	o.Trace = v.GetBool("trace")
	o.TLSCA, o.TLSCert, o.TLSKey = v.GetString("tls-ca"), v.GetString("tls-cert"), v.GetString("tls-key")
	o.TLSServerName = v.GetString("tls-server-name")
	o.TLSInsecure = v.GetBool("tls-insecure")
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{{"connect-timeout", &o.ConnectTimeout}, {"receipt-timeout", &o.ReceiptTimeout}, {"disconnect-timeout", &o.DisconnectTimeout}} {
		if *d.dst, err = ParseDuration(v.GetString(d.key)); err != nil || *d.dst < 0 {
			return a.settingError(cmd, d.key, "want a duration such as 10s")
		}
	}
	if o.Versions, err = ParseVersions(v.GetString("stomp-version")); err != nil {
		return a.settingError(cmd, "stomp-version", err.Error())
	}
	if o.HeartBeat, err = ParseHeartBeat(v.GetString("heartbeat")); err != nil {
		return a.settingError(cmd, "heartbeat", err.Error())
	}
	if len(o.Versions) == 1 && o.Versions[0] == protocol.V10 {
		if cfg.Source(cmd, "heartbeat") != "default" {
			return UsageErrorf("--heartbeat: STOMP 1.0 has no heart-beating; offer 1.1 or 1.2 with --stomp-version")
		}
		o.HeartBeat = protocol.HeartBeatSpec{}
	}
	if o.MaxFrameSize, err = ParseSize(v.GetString("max-frame-size")); err != nil || o.MaxFrameSize <= 0 {
		return a.settingError(cmd, "max-frame-size", "want a size such as 64MiB")
	}
	headerSize, err := ParseSize(v.GetString("max-header-size"))
	if err != nil || headerSize < 256 || headerSize > 1<<30 {
		return a.settingError(cmd, "max-header-size", "want a size from 256 to 1GiB, such as 64KiB")
	}
	o.MaxHeaderSize = int(headerSize)
	if o.Password, err = a.password(cmd); err != nil {
		return err
	}
	if a.Config.Source(cmd, "server") == "flag" && failover.Redact(o.Server) != o.Server {
		a.Warn("warning: the password in --server is visible in ps; prefer --password-file or STOMPEST_PASSWORD")
	}
	if o.TLSInsecure {
		a.Warn("warning: --tls-insecure: the broker's certificate is not verified")
	}
	return nil
}

// settingError reports an invalid setting as a usage error when it came
// from a flag and as a configuration error when it came from elsewhere.
func (a *Factory) settingError(cmd *cobra.Command, key, why string) error {
	src := a.Config.Source(cmd, key)
	value := a.Config.V.GetString(key)
	switch {
	case src == "flag":
		return UsageErrorf("--%s %q: %s", key, value, why)
	case src == "env":
		return ConfigErrorf("%s=%q: %s", EnvKeys[key], value, why)
	}
	return ConfigErrorf("config %s: %s %q (%s): %s", a.Config.Path, key, value, src, why)
}

// password resolves the passcode: --password (with a warning when given on
// the command line), STOMPEST_PASSWORD, the profile or file, or the first
// line of --password-file.
func (a *Factory) password(cmd *cobra.Command) (string, error) {
	v := a.Config.V
	if f := cmd.Flags().Lookup("password"); f != nil && f.Changed {
		a.Warn("warning: --password on the command line is visible in ps; prefer --password-file or STOMPEST_PASSWORD")
	}
	path := v.GetString("password-file")
	if path == "" || (v.GetString("password") != "" && a.Config.Source(cmd, "password") != "default" && a.Config.Source(cmd, "password-file") != "flag") {
		return v.GetString("password"), nil
	}
	return a.ReadPasswordFile(path)
}

// ReadPasswordFile reads a passcode: the first line of path, without its
// line end; "-" is stdin. An unreadable file is a configuration error.
func (a *Factory) ReadPasswordFile(path string) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = ReadFirstLine(a.In)
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			data, err = ReadFirstLine(f)
			f.Close()
		}
	}
	if err != nil {
		return "", ConfigErrorf("--password-file: %v", err)
	}
	return string(data), nil
}

// OutColor returns a colour for standard output, enabled only as --color
// and the terminal allow.
func (a *Factory) OutColor(attrs ...color.Attribute) *color.Color {
	return a.colorFor(a.OutTTY, attrs)
}

// ErrColor is outColor for standard error.
func (a *Factory) ErrColor(attrs ...color.Attribute) *color.Color {
	return a.colorFor(a.ErrTTY, attrs)
}

func (a *Factory) colorFor(tty bool, attrs []color.Attribute) *color.Color {
	c := color.New(attrs...)
	mode := a.Opts.Color
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

// Run runs a command: runF with its options when a test gave one (the test
// checks what the command line made of them), else run.
func Run[O any](ctx context.Context, o *O, runF func(context.Context, *O) error, run func(context.Context) error) error {
	if runF != nil {
		return runF(ctx, o)
	}
	return run(ctx)
}

// FileArg is the FILE argument of a command that reads FILE or stdin: "-"
// (stdin) when it is absent.
func FileArg(args []string) string {
	if len(args) == 0 {
		return "-"
	}
	return args[0]
}
