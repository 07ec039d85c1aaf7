package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/protocol"
)

// brokerOptions are the flags of `stompest broker`: its own, never read
// from the config file or the environment.
type brokerOptions struct {
	listen      string
	wsListen    string
	user        string
	password    string
	tlsCert     string
	tlsKey      string
	tlsClientCA string
	heartbeat   string
	maxFrame    string
	trace       bool
}

func (a *app) newBrokerCmd() *cobra.Command {
	var o brokerOptions
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded in-memory STOMP broker",
		Long: `broker runs an in-memory STOMP 1.0/1.1/1.2 broker for local work and tests.
It keeps nothing on disk: every message is gone when it stops.

Destinations: /queue/* (each message to one subscriber, round-robin; after
NACK or a disconnect without ACK the messages go back to the head of the
queue in their order, keeping their message-id, marked redelivered:true),
/topic/* (fan-out; durable subscriptions with activemq.subscriptionName and a
CONNECT client-id, or durable:true), /temp-queue/* and /temp-topic/* (like
queues and topics). Any other name is a queue. Browsing (browser:true, ending
with a browser:end message), all ack modes, prefetch (activemq.prefetchSize
and prefetch-count), transactions, receipts, heart-beats, header selectors
(=, <>, AND, OR, NOT, parentheses). NACKed messages are redelivered, not
dead-lettered.

With --ws-listen it also serves STOMP over WebSocket at path / (subprotocols
v10.stomp, v11.stomp, v12.stomp; TLS as --listen when --tls-cert is given),
from any origin.

Its flags are its own: they are not read from the config file or STOMPEST_*.`,
		Example: `  stompest broker &
  stompest broker --listen 127.0.0.1:61614 --user admin --password secret
  stompest broker --ws-listen 127.0.0.1:15674   # then --server ws://127.0.0.1:15674/
  stompest broker --tls-cert server.pem --tls-key server.key --tls-client-ca ca.pem`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noConfig: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runBroker(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:61613", "address to listen on")
	f.StringVar(&o.wsListen, "ws-listen", "", "also serve STOMP over WebSocket on this `ADDR`, path /")
	f.StringVar(&o.user, "user", "", "require this login")
	f.StringVar(&o.password, "password", "", "require this passcode")
	f.StringVar(&o.tlsCert, "tls-cert", "", "server certificate `FILE` (PEM): --listen speaks TLS")
	f.StringVar(&o.tlsKey, "tls-key", "", "server key `FILE` (PEM)")
	f.StringVar(&o.tlsClientCA, "tls-client-ca", "", "require client certificates signed by the CA in `FILE`")
	f.StringVar(&o.heartbeat, "heartbeat", "10s,10s", "heart-beats `SX,SY` the broker offers (0 = none)")
	f.StringVar(&o.maxFrame, "max-frame-size", "64MiB", "largest body accepted")
	f.BoolVar(&o.trace, "trace", false, "write every frame to stderr")
	return cmd
}

func (a *app) runBroker(ctx context.Context, o brokerOptions) error {
	hb, err := parseHeartBeat(o.heartbeat)
	if err != nil {
		return usageErrorf("--heartbeat %q: %v", o.heartbeat, err)
	}
	size, err := parseSize(o.maxFrame)
	if err != nil || size <= 0 {
		return usageErrorf("--max-frame-size %q: want a size such as 64MiB", o.maxFrame)
	}
	if (o.user == "") != (o.password == "") {
		return usageErrorf("--user and --password go together")
	}
	cfg := broker.Config{
		Addr: o.listen, WSAddr: o.wsListen, User: o.user, Password: o.password, HeartBeat: hb,
		Limits: protocol.Limits{MaxBodySize: size},
	}
	if o.trace {
		cfg.Trace = a.ErrOut
	}
	if o.tlsCert != "" || o.tlsKey != "" || o.tlsClientCA != "" {
		if o.tlsCert == "" || o.tlsKey == "" {
			return usageErrorf("--tls-cert and --tls-key go together")
		}
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return configErrorf("--tls-cert/--tls-key: %v", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if o.tlsClientCA != "" {
			pem, err := os.ReadFile(o.tlsClientCA)
			if err != nil {
				return configErrorf("--tls-client-ca: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return configErrorf("--tls-client-ca %s: no PEM certificate found", o.tlsClientCA)
			}
			cfg.TLS.ClientCAs = pool
			cfg.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	broker.Version = currentBuild().Version
	defaultRuntime(true)
	b := broker.New(cfg)
	if err := b.Start(); err != nil {
		return withCode(exitUnavailable, fmt.Errorf("broker: %w", err))
	}
	scheme := "tcp"
	if cfg.TLS != nil {
		scheme = "ssl"
	}
	listening := scheme + "://" + b.Addr()
	if ws := b.WSAddr(); ws != "" {
		wscheme := "ws"
		if cfg.TLS != nil {
			wscheme = "wss"
		}
		listening += " and " + wscheme + "://" + ws + "/"
	}
	fmt.Fprintf(a.ErrOut, "stompest broker listening on %s (in memory: nothing is kept on disk)\n", listening)
	<-ctx.Done()
	if err := b.Close(); err != nil {
		a.logf("broker: close: %v", err)
	}
	return nil
}
