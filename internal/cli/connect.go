package cli

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

// parseServer parses --server: a broker URI or a failover URI.
func (a *app) parseServer() (*failover.URI, error) {
	s := a.opts.Server
	u, err := failover.Parse(s)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("--server: %w", err))
	}
	for _, w := range u.Warnings {
		a.warn("warning: " + w)
	}
	return u, nil
}

// kindOf returns the kind of the broker c is connected to.
func kindOf(c *client.Client) dialect.Kind {
	server, _ := c.Server()
	return dialect.Of(server)
}

// tlsConfig builds the client TLS configuration of the --tls-* flags.
func (a *app) tlsConfig() (*tls.Config, error) {
	o := a.opts
	cfg := &tls.Config{ServerName: o.TLSServerName, InsecureSkipVerify: o.TLSInsecure}
	if o.TLSCA != "" {
		pem, err := os.ReadFile(o.TLSCA)
		if err != nil {
			return nil, configErrorf("--tls-ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, configErrorf("--tls-ca %s: no PEM certificate found", o.TLSCA)
		}
		cfg.RootCAs = pool
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, usageErrorf("--tls-cert and --tls-key go together")
	}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, configErrorf("--tls-cert/--tls-key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// clientConfig is the client configuration of the global options. reconnect
// asks for reconnects after a loss, which only failover: URIs do.
func (a *app) clientConfig(reconnect bool, headers protocol.Headers) (client.Config, error) {
	u, err := a.parseServer()
	if err != nil {
		return client.Config{}, err
	}
	tlsCfg, err := a.tlsConfig()
	if err != nil {
		return client.Config{}, err
	}
	o := a.opts
	cfg := client.Config{
		URI: u, Login: o.User, Passcode: o.Password, Host: o.VHost,
		Versions: o.Versions, HeartBeat: o.HeartBeat, Headers: headers,
		ConnectTimeout: o.ConnectTimeout, ReceiptTimeout: o.ReceiptTimeout,
		TLS:       tlsCfg,
		Limits:    protocol.Limits{MaxBodySize: o.MaxFrameSize, MaxLineSize: o.MaxHeaderSize, MaxHeaders: protocol.DefaultLimits.MaxHeaders},
		Reconnect: reconnect && u.Failover,
		OnAttempt: a.showAttempt,
	}
	if o.Trace {
		cfg.Trace = a.ErrOut
	}
	if o.Verbose > 0 {
		cfg.Logf = a.logf
	}
	return cfg, nil
}

// logf writes an event line on stderr (with -v).
func (a *app) logf(format string, args ...any) {
	fmt.Fprintf(a.ErrOut, "%s %s\n", a.errColor().Sprint("stompest:"), printable(fmt.Sprintf(format, args...)))
}
