// Package broker is the broker command: the embedded broker, for local
// work and CI.
package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	embedded "github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/handler"
	"github.com/stompest/stompest/internal/protocol"
)

// Options are the flags of `stompest broker`: its own, never read
// from the config file or the environment.
type Options struct {
	*cmdutil.Factory

	listen      string
	listenSet   bool   // --listen was given
	runCmd      string // --run CMD
	wsListen    string
	user        string
	password    string
	tlsCert     string
	tlsKey      string
	tlsClientCA string
	heartbeat   string
	maxFrame    string
	trace       bool

	passwordFile   string
	maxMemory      string
	maxPending     int
	connectTimeout time.Duration
	wsAllowOrigins []string

	maxRedeliveries int    // negative: no limit, no dead letters
	deadLetterQueue string // where dead letters go
	dlqSet          bool   // --dead-letter-queue was given
}

// NewCmd returns broker; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
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
(=, <>, AND, OR, NOT, parentheses).

Dead letters: by default a NACKed message goes back to its queue however
often it is NACKed. With --max-redeliveries N a queue's message is delivered
again after N NACKs at most, and NACK number N+1 moves it to the
--dead-letter-queue (default /queue/DLQ), as ActiveMQ does; 0 dead-letters at
the first NACK. Only NACKs count (a message handed back by a disconnect or
an UNSUBSCRIBE has not failed); a cumulative NACK (ack client) counts for
each message it settles, a NACK in a transaction at its COMMIT. The dead
letter is a new message (a message-id of its own) with the body and the
sender's headers, plus original-destination:<the queue> (ActiveMQ's header)
and dead-letter-reason:NACKed <N+1> times; each is logged on stderr.
Messages of topics and of the dead-letter queue itself are never
dead-lettered.

Statistics, as ActiveMQ's statistics plugin answers them: a SEND with a
reply-to header to /queue/ActiveMQ.Statistics.Destination.PATTERN is answered
on reply-to with one message per queue and topic matching PATTERN (* one
segment, > the rest: > is every destination), its figures as headers
(destinationName, size, consumerCount, enqueueCount, dequeueCount,
dispatchCount, inflightCount) and as a JSON body; nothing matching, one reply
with statistics-empty:true. /queue/ActiveMQ.Statistics.Broker answers the
broker's totals (brokerName, destinationCount and the same figures).

With --ws-listen it also serves STOMP over WebSocket at path / (subprotocols
v10.stomp, v11.stomp, v12.stomp, and plain stomp as ActiveMQ accepts it;
TLS as --listen when --tls-cert is given).
A browser's handshake is accepted from a page of the listen host (any port;
any loopback name when it listens on loopback) or of an origin matching
--ws-allow-origin (a glob matched against scheme://host:port and against the
host; * allows all); others get 403. Clients that send no Origin (not
browsers) are accepted.

Limits:
  --max-memory      the memory budget (default 512MiB; 0 = none). Messages
                    held (queued, waiting for a slow subscriber, delivered
                    and not acknowledged) with the queues holding them
                    (1KiB each) may take half of it; the Go runtime's
                    memory limit is set to it. Over it the topic
                    subscribers furthest behind are disconnected with
                    ERROR, then SENDs are held without RECEIPT and the
                    producer's connection is not read (but for ACK and
                    NACK) until memory is freed: TCP slows the producer.
                    Only their owners free the rest, so it is capped, not
                    held: the work of open transactions (SENDs, ACKs)
                    may take a quarter (a frame beyond gets ERROR:
                    transaction too large; a COMMIT is never held);
                    subscriptions (1KiB each) and open transactions (256B)
                    a sixteenth for one connection and a quarter in all
                    (a SUBSCRIBE or BEGIN beyond gets ERROR).
  --max-pending     messages a non-durable topic subscription may have
                    waiting (default 100000; 0 = no limit); beyond it its
                    subscriber gets ERROR and is disconnected.
  --connect-timeout a connection that has not completed CONNECT by then
                    gets ERROR and is closed (default 30s; 0 = never).
  Failed logins are answered after a delay that doubles from 50ms to 2s with
  each failure in a row from the same address (forgotten after a minute);
  correct logins are never delayed. Temporary destinations go when the
  connection that first subscribed to them ends; an empty queue without
  subscribers is removed. Every frame ends with NUL and a newline. A header
  that STOMP 1.0 cannot carry (a line end in it) reaches a 1.0 subscriber
  escaped as 1.2 escapes it (\n, \r, \c, \\), as RabbitMQ delivers it.

The passcode (with --user) comes from --password (visible in ps),
--password-file or STOMPEST_BROKER_PASSWORD. Otherwise its flags are its
own: they are not read from the config file or STOMPEST_*.`,
		Example: `  stompest broker &
  stompest broker --run 'seq 1 3 | stompest send /queue/demo --lines && stompest subscribe /queue/demo --count 3'
  stompest broker --listen 127.0.0.1:61614 --user admin --password-file secret.txt
  stompest broker --ws-listen 127.0.0.1:15674   # then --server ws://127.0.0.1:15674/
  stompest broker --tls-cert server.pem --tls-key server.key --tls-client-ca ca.pem`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{cmdutil.NoConfig: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.listenSet = cmd.Flags().Changed("listen")
			o.dlqSet = cmd.Flags().Changed("dead-letter-queue")
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.listen, "listen", "127.0.0.1:61613", "address to listen on (with --run: a free port of 127.0.0.1)")
	fs.StringVar(&o.runCmd, "run", "", "run `CMD` (/bin/sh -c) with STOMPEST_SERVER set to this broker, then stop and exit with its status")
	fs.StringVar(&o.wsListen, "ws-listen", "", "also serve STOMP over WebSocket on this `ADDR`, path /")
	fs.StringVar(&o.user, "user", "", "require this login")
	fs.StringVar(&o.password, "password", "", "require this passcode")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "server certificate `FILE` (PEM): --listen speaks TLS")
	fs.StringVar(&o.tlsKey, "tls-key", "", "server key `FILE` (PEM)")
	fs.StringVar(&o.tlsClientCA, "tls-client-ca", "", "require client certificates signed by the CA in `FILE`")
	fs.StringVar(&o.heartbeat, "heartbeat", "10s,10s", "heart-beats `SX,SY` the broker offers (0 = none)")
	fs.StringVar(&o.maxFrame, "max-frame-size", "64MiB", "largest body accepted")
	fs.BoolVar(&o.trace, "trace", false, "write every frame to stderr")
	fs.StringVar(&o.passwordFile, "password-file", "", "read the passcode from the first line of `FILE` (- for stdin)")
	fs.StringVar(&o.maxMemory, "max-memory", "512MiB", "memory budget: messages may take half of it (0 = none)")
	fs.IntVar(&o.maxPending, "max-pending", embedded.DefaultMaxPending, "messages a topic subscriber may fall behind before it is disconnected (0 = no limit)")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", embedded.DefaultConnectTimeout, "close connections that have not sent CONNECT by then (0 = never)")
	fs.IntVar(&o.maxRedeliveries, "max-redeliveries", -1, "deliver a NACKed queue message again `N` times at most, then dead-letter it (0 = at the first NACK; -1 = no limit)")
	fs.StringVar(&o.deadLetterQueue, "dead-letter-queue", embedded.DefaultDeadLetterQueue, "the queue `DEST` dead letters go to (with --max-redeliveries)")
	fs.StringArrayVar(&o.wsAllowOrigins, "ws-allow-origin", nil, "also accept WebSocket handshakes from origins matching `PATTERN` (glob, repeatable; * = all)")
	return cmd
}

func (o *Options) run(ctx context.Context) error {
	if o.runCmd != "" && !o.listenSet {
		// A port of its own: never another broker that holds 61613.
		o.listen = "127.0.0.1:0"
	}
	hb, err := cmdutil.ParseHeartBeat(o.heartbeat)
	if err != nil {
		return cmdutil.UsageErrorf("--heartbeat %q: %v", o.heartbeat, err)
	}
	size, err := cmdutil.ParseSize(o.maxFrame)
	if err != nil || size <= 0 {
		return cmdutil.UsageErrorf("--max-frame-size %q: want a size such as 64MiB", o.maxFrame)
	}
	memory, err := cmdutil.ParseSize(o.maxMemory)
	if err != nil || memory < 0 {
		return cmdutil.UsageErrorf("--max-memory %q: want a size such as 512MiB, or 0", o.maxMemory)
	}
	if o.maxPending < 0 || o.connectTimeout < 0 {
		return cmdutil.UsageErrorf("--max-pending and --connect-timeout cannot be negative")
	}
	if err := o.checkDeadLetters(); err != nil {
		return err
	}
	password, err := o.brokerPassword()
	if err != nil {
		return err
	}
	if (o.user == "") != (password == "") {
		return cmdutil.UsageErrorf("--user and a passcode (--password, --password-file, STOMPEST_BROKER_PASSWORD) go together")
	}
	cfg := embedded.Config{
		Addr: o.listen, WSAddr: o.wsListen, User: o.user, Password: password, HeartBeat: hb,
		Limits: protocol.Limits{MaxBodySize: size}, MaxMemory: orNone(memory),
		MaxPending: int(orNone(int64(o.maxPending))), ConnectTimeout: time.Duration(orNone(int64(o.connectTimeout))),
		DeadLetter: o.maxRedeliveries >= 0, MaxRedeliveries: o.maxRedeliveries, DeadLetterQueue: o.deadLetterQueue,
		WSAllowOrigins: o.wsAllowOrigins, Logf: func(format string, args ...any) { o.Logf("broker: "+format, args...) },
	}
	if o.trace {
		cfg.Trace = o.ErrOut
	}
	if o.tlsCert != "" || o.tlsKey != "" || o.tlsClientCA != "" {
		if o.tlsCert == "" || o.tlsKey == "" {
			return cmdutil.UsageErrorf("--tls-cert and --tls-key go together")
		}
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return cmdutil.ConfigErrorf("--tls-cert/--tls-key: %v", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if o.tlsClientCA != "" {
			pem, err := os.ReadFile(o.tlsClientCA)
			if err != nil {
				return cmdutil.ConfigErrorf("--tls-client-ca: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return cmdutil.ConfigErrorf("--tls-client-ca %s: no PEM certificate found", o.tlsClientCA)
			}
			cfg.TLS.ClientCAs = pool
			cfg.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	embedded.Version = o.Build.Info().Version
	cmdutil.DefaultRuntime(true)
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok && memory > 0 {
		debug.SetMemoryLimit(memory)
	}
	b := embedded.New(cfg)
	if err := b.Start(); err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, fmt.Errorf("broker: %w", err))
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
	if o.runCmd != "" {
		err := o.runWithBroker(ctx, o.runCmd, scheme+"://"+b.Addr())
		if cerr := b.Close(); cerr != nil {
			o.Logf("broker: close: %v", cerr)
		}
		return err
	}
	fmt.Fprintf(o.ErrOut, "stompest broker listening on %s (in memory: nothing is kept on disk)\n", listening)
	<-ctx.Done()
	if err := b.Close(); err != nil {
		o.Logf("broker: close: %v", err)
	}
	return nil
}

// runWithBroker runs line with STOMPEST_SERVER set to server, on
// stompest's own streams, and returns its outcome: nil for exit 0, else
// an error with the command's exit status (128+N when signal N ended it).
// A signal to stompest ends the command too.
func (o *Options) runWithBroker(ctx context.Context, line, server string) error {
	cmd := handler.ShellCommand(ctx, line)
	cmd.Env = append(os.Environ(), "STOMPEST_SERVER="+server)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.In, o.Out, o.ErrOut
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if e := o.Sig.Err(); e != nil {
			return e
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("broker --run: %w", err)
		}
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return cmdutil.WithCode(code, fmt.Errorf("broker --run: %s", ee.ProcessState))
	}
	return nil
}

// checkDeadLetters refuses a --dead-letter-queue that would have no
// effect (no --max-redeliveries) or that is no queue.
func (o *Options) checkDeadLetters() error {
	dlq := o.deadLetterQueue
	switch {
	case o.dlqSet && o.maxRedeliveries < 0:
		return cmdutil.UsageErrorf("--dead-letter-queue needs --max-redeliveries N (without it nothing is dead-lettered)")
	case dlq == "":
		return cmdutil.UsageErrorf("--dead-letter-queue cannot be empty")
	case strings.HasPrefix(dlq, "/topic/") || strings.HasPrefix(dlq, "/temp-queue/") || strings.HasPrefix(dlq, "/temp-topic/"):
		return cmdutil.UsageErrorf("--dead-letter-queue %s: must be a queue, not a topic or a temporary destination", dlq)
	}
	return nil
}

// orNone maps the CLI's 0 (no limit) to the broker's negative one.
func orNone(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// brokerPasswordEnv is where the broker's passcode may come from besides
// its flags.
const brokerPasswordEnv = "STOMPEST_BROKER_PASSWORD"

// brokerPassword resolves the broker's passcode: --password (with a
// warning: it is visible in ps), the first line of --password-file (- for
// stdin), or STOMPEST_BROKER_PASSWORD when --user is given.
func (o *Options) brokerPassword() (string, error) {
	switch {
	case o.password != "" && o.passwordFile != "":
		return "", cmdutil.UsageErrorf("--password and --password-file exclude each other")
	case o.password != "":
		o.Warn("warning: --password on the command line is visible in ps; prefer --password-file or " + brokerPasswordEnv)
		return o.password, nil
	case o.passwordFile != "":
		return o.ReadPasswordFile(o.passwordFile)
	}
	if o.user == "" {
		return "", nil
	}
	return os.Getenv(brokerPasswordEnv), nil
}
