package cmdutil

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/stompest/stompest/internal/cli/dialect"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// ParseServer parses --server: a broker URI or a failover URI.
func (a *Factory) ParseServer() (*failover.URI, error) {
	s := a.Opts.Server
	u, err := failover.Parse(s)
	if err != nil {
		return nil, WithCode(ExitUsage, fmt.Errorf("--server: %w", err))
	}
	for _, w := range u.Warnings {
		a.Warn("warning: " + w)
	}
	return u, nil
}

// KindOf returns the kind of the broker c is connected to.
func KindOf(c *client.Client) dialect.Kind {
	server, _ := c.Server()
	return dialect.Of(server)
}

// TLSConfig builds the client TLS configuration of the --tls-* flags.
func (a *Factory) TLSConfig() (*tls.Config, error) {
	o := a.Opts
	cfg := &tls.Config{ServerName: o.TLSServerName, InsecureSkipVerify: o.TLSInsecure}
	if o.TLSCA != "" {
		pem, err := os.ReadFile(o.TLSCA)
		if err != nil {
			return nil, ConfigErrorf("--tls-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, ConfigErrorf("--tls-ca %s: no PEM certificate found", o.TLSCA)
		}
		cfg.RootCAs = pool
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, UsageErrorf("--tls-cert and --tls-key go together")
	}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, ConfigErrorf("--tls-cert/--tls-key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// ClientConfig is the client configuration of the global options. reconnect
// asks for reconnects after a loss, which only failover: URIs do.
func (a *Factory) ClientConfig(reconnect bool, headers protocol.Headers) (client.Config, error) {
	u, err := a.ParseServer()
	if err != nil {
		return client.Config{}, err
	}
	tlsCfg, err := a.TLSConfig()
	if err != nil {
		return client.Config{}, err
	}
	o := a.Opts
	cfg := client.Config{
		URI: u, Login: o.User, Passcode: o.Password, Host: o.VHost,
		Versions: o.Versions, HeartBeat: o.HeartBeat, Headers: headers,
		ConnectTimeout: o.ConnectTimeout, ReceiptTimeout: o.ReceiptTimeout,
		TLS:       tlsCfg,
		Limits:    protocol.Limits{MaxBodySize: o.MaxFrameSize, MaxLineSize: o.MaxHeaderSize, MaxHeaders: protocol.DefaultLimits.MaxHeaders},
		Reconnect: reconnect && u.Failover,
		OnAttempt: a.ShowAttempt,
	}
	if o.Trace {
		cfg.Trace = a.ErrOut
	}
	if o.Verbose > 0 {
		cfg.Logf = a.Logf
	}
	return cfg, nil
}

// Logf writes an event line on stderr (with -v).
func (a *Factory) Logf(format string, args ...any) {
	fmt.Fprintf(a.ErrOut, "%s %s\n", a.ErrColor().Sprint("stompest:"), Printable(fmt.Sprintf(format, args...)))
}
