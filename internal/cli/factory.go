package cli

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
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

// warn writes a warning line on standard error unless --quiet.
func (a *app) warn(msg string) {
	if a.opts.Quiet {
		return
	}
	fmt.Fprintf(a.ErrOut, "%s %s\n", a.errColor(color.FgYellow).Sprint("stompest:"), printable(msg))
}

// note writes a command's summary line on standard error (stdout carries
// only data) unless --quiet.
func (a *app) note(msg string) {
	if a.opts.Quiet {
		return
	}
	fmt.Fprintln(a.ErrOut, printable(msg))
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
