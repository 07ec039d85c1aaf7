package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

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
		TLS: tlsCfg, Limits: protocol.Limits{MaxBodySize: o.MaxFrameSize},
		Reconnect: reconnect && u.Failover,
		Batches:   a.batches,
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
	fmt.Fprintf(a.ErrOut, "%s %s\n", a.errColor().Sprint("stompest:"), fmt.Sprintf(format, args...))
}

// dial connects with the global options.
func (a *app) dial(ctx context.Context, reconnect bool, headers protocol.Headers) (*client.Client, error) {
	cfg, err := a.clientConfig(reconnect, headers)
	if err != nil {
		return nil, err
	}
	return client.Dial(ctx, cfg)
}

// connectInterruptible dials with the global options while SIGINT and
// SIGTERM are caught; the caller stops the returned signals when done. what
// names the command in errors.
func (a *app) connectInterruptible(ctx context.Context, what string, reconnect bool, headers protocol.Headers) (*client.Client, *signals, error) {
	sig := a.notifySignals(ctx)
	c, err := a.dial(sig.ctx, reconnect, headers)
	if err != nil {
		sig.stop()
		if e := sig.err(); e != nil {
			return nil, nil, e
		}
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	return c, sig, nil
}

// signals turns SIGINT and SIGTERM into a cancelled context, remembering
// which one came; a second signal exits at once.
type signals struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	got    os.Signal
	stop   func()
}

func (a *app) notifySignals(parent context.Context) *signals {
	s := &signals{}
	s.ctx, s.cancel = context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-ch:
				s.mu.Lock()
				first := s.got == nil
				if first {
					s.got = sig
				}
				s.mu.Unlock()
				if !first && a.exit != nil {
					a.exit(exitCodeOfSignal(sig))
				}
				if a.opts.Verbose > 0 {
					a.logf("%v: stopping after what is in flight (again to exit at once)", sig)
				}
				s.cancel()
			case <-done:
				return
			}
		}
	}()
	s.stop = func() {
		signal.Stop(ch)
		close(done)
		s.cancel()
	}
	return s
}

// err returns the interruption error when a signal came, else nil.
func (s *signals) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		return nil
	}
	if s.got == syscall.SIGTERM {
		return &interrupted{"SIGTERM"}
	}
	return &interrupted{"SIGINT"}
}

func exitCodeOfSignal(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return exitSIGTERM
	}
	return exitSIGINT
}
