// Package check is the check command: a monitoring probe for Nagios and
// Icinga, Prometheus and CI gates.
package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/stats"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// Options are the arguments and flags of check.
type Options struct {
	*cmdutil.Factory

	output     string
	canary     bool
	canaryWait time.Duration
	depth      []string
	consumers  []string
	certExpiry string
	mgmtURL    string
	jolokia    string
}

// NewCmd returns check; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "A monitoring probe: connect, a round trip, queue thresholds, certificates (Nagios, Prometheus, JSON)",
		Long: `check connects to every broker of --server (each broker of a failover URI on
its own), times CONNECT, sends one message through a private destination and
times its return (the canary; --canary=false to skip), and checks, through
the broker's statistics channel (see 'stompest stat'):

  --depth 'DEST<=N'            CRITICAL when DEST holds more than N messages
  --depth 'DEST<=W,C'          WARNING above W, CRITICAL above C
  --consumers 'DEST>=N'        CRITICAL when DEST has fewer than N consumers
  --consumers 'DEST>=W,C'      WARNING below W, CRITICAL below C
  --cert-expiry W[,C]          for TLS brokers: WARNING when the certificate
                               expires within W (14d, 72h), CRITICAL within C

DEST may be a glob; each destination it matches is checked. One broker of
several down is WARNING, all of them CRITICAL; a check that could not be
made (no statistics channel) is UNKNOWN.

-o nagios (the default) prints the plugin line with performance data and
exits as Nagios plugins do: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the
one place where stompest's exit codes follow Nagios). -o prometheus prints
the text exposition format (stompest_check_*), -o json one object; both
exit 0 when everything is OK and 1 otherwise.`,
		Example: `  stompest check
  stompest -s 'failover:(tcp://mq1:61613,tcp://mq2:61613)' check --depth '/queue/orders<=1000,5000'
  stompest check --consumers '/queue/jobs>=2,1' -o prometheus > /var/lib/node_exporter/stompest.prom
  stompest -s ssl://mq:61614 check --cert-expiry 30d,7d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	flags.Enum(cmd, &o.output, "output", "o", "nagios", []string{"nagios", "prometheus", "json"}, "output: nagios, prometheus or json")
	fs := cmd.Flags()
	fs.BoolVar(&o.canary, "canary", true, "send one message through a private destination and time its return")
	fs.DurationVar(&o.canaryWait, "canary-timeout", 5*time.Second, "CRITICAL when the canary has not returned within this")
	fs.StringArrayVar(&o.depth, "depth", nil, "`DEST<=N` or DEST<=WARN,CRIT: the most messages DEST may hold (repeatable)")
	fs.StringArrayVar(&o.consumers, "consumers", nil, "`DEST>=N` or DEST>=WARN,CRIT: the fewest consumers DEST may have (repeatable)")
	fs.StringVar(&o.certExpiry, "cert-expiry", "", "`WARN[,CRIT]`: how close the TLS certificate's expiry may come (14d, 72h)")
	fs.StringVar(&o.mgmtURL, "mgmt-url", "", "RabbitMQ management API `URL` (default http://<broker host>:15672)")
	fs.StringVar(&o.jolokia, "jolokia", "", "read ActiveMQ's figures from its web console's Jolokia at `URL` (http://user:password@host:8161/api/jolokia) instead of the statistics plugin")
	return cmd
}

// state is a Nagios state; its value is the plugin's exit code.
type state int

const (
	ok state = iota
	warning
	critical
	unknown
)

func (s state) String() string { return [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[s] }

// plan is what the flags ask check to look at.
type plan struct {
	thresholds []threshold
	depths     int // thresholds[:depths] are --depth, the rest --consumers
	certWarn   time.Duration
	certCrit   time.Duration
}

// brokerCheck is what check found on one broker.
type brokerCheck struct {
	Broker       string          `json:"broker"`
	Up           bool            `json:"up"`
	ConnectMS    float64         `json:"connect_ms"`
	CanaryMS     *float64        `json:"canary_ms"`
	CertExpires  *time.Time      `json:"cert_expires,omitempty"`
	Destinations []stats.Figures `json:"destinations"`
	Error        string          `json:"error,omitempty"`
}

// report is check's outcome.
type report struct {
	Status   string        `json:"status"`
	Code     int           `json:"code"`
	Problems []string      `json:"problems"`
	Brokers  []brokerCheck `json:"brokers"`
	state    state
	plan     plan
}

func (o *Options) run(ctx context.Context) error {
	var p plan
	for _, spec := range o.depth {
		t, err := parseThreshold("depth", spec, "<=")
		if err != nil {
			return err
		}
		p.thresholds = append(p.thresholds, t)
	}
	p.depths = len(p.thresholds)
	for _, spec := range o.consumers {
		t, err := parseThreshold("consumers", spec, ">=")
		if err != nil {
			return err
		}
		p.thresholds = append(p.thresholds, t)
	}
	var err error
	if p.certWarn, p.certCrit, err = parseExpiry(o.certExpiry); err != nil {
		return err
	}
	if o.canaryWait <= 0 {
		return cmdutil.UsageErrorf("--canary-timeout must be positive")
	}
	u, err := o.ParseServer()
	if err != nil {
		return err
	}
	cfg, err := o.ClientConfig(false, nil)
	if err != nil {
		return err
	}
	r := report{Problems: []string{}, Brokers: make([]brokerCheck, len(u.Brokers)), plan: p}
	states := make([]state, len(u.Brokers))
	problems := make([][]string, len(u.Brokers))
	var wg sync.WaitGroup
	for i, b := range u.Brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Brokers[i], states[i], problems[i] = o.checkBroker(ctx, cfg, b, p)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	down := 0
	for i, bc := range r.Brokers {
		if !bc.Up {
			down++
		}
		r.state = max(r.state, states[i])
		r.Problems = append(r.Problems, problems[i]...)
	}
	switch {
	case down == len(r.Brokers):
		r.state = critical
	case down > 0 && r.state < warning:
		r.state = warning // a cluster that lost a broker still serves
	}
	r.Status, r.Code = r.state.String(), int(r.state)
	if err := o.print(r); err != nil {
		return cmdutil.WithCode(cmdutil.ExitIOErr, err)
	}
	if r.state == ok {
		return nil
	}
	why := fmt.Errorf("check: %s: %s", r.state, strings.Join(r.Problems, "; "))
	if o.output == "nagios" {
		return cmdutil.WithCode(int(r.state), why)
	}
	return cmdutil.WithCode(cmdutil.ExitFailed, why)
}

// checkBroker makes every check on one broker.
func (o *Options) checkBroker(ctx context.Context, cfg client.Config, b failover.Broker, p plan) (brokerCheck, state, []string) {
	bc := brokerCheck{Broker: b.String(), Destinations: []stats.Figures{}}
	one, err := failover.Parse(b.String() + "?startupMaxReconnectAttempts=0")
	if err != nil {
		bc.Error = err.Error()
		return bc, critical, []string{bc.Broker + ": " + bc.Error}
	}
	cfg.URI, cfg.Reconnect, cfg.OnAttempt = one, false, nil
	start := time.Now()
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		// Down is judged over all the brokers (one of several down is a
		// WARNING), not here.
		bc.Error = cmdutil.OneLine(err.Error())
		return bc, ok, []string{bc.Broker + " down: " + bc.Error}
	}
	defer c.Disconnect(context.Background())
	bc.Up, bc.ConnectMS = true, ms(time.Since(start))
	st := ok
	var problems []string
	note := func(s state, why string) {
		if s > ok {
			st = max(st, s)
			problems = append(problems, why)
		}
	}
	if certs := c.PeerCertificates(); len(certs) > 0 {
		exp := certs[0].NotAfter
		bc.CertExpires = &exp
	}
	if p.certWarn > 0 {
		if bc.CertExpires == nil {
			note(unknown, bc.Broker+": --cert-expiry: no TLS certificate on this connection")
		} else {
			left := time.Until(*bc.CertExpires)
			switch {
			case p.certCrit > 0 && left < p.certCrit:
				note(critical, fmt.Sprintf("%s: certificate expires in %s", bc.Broker, days(left)))
			case left < p.certWarn:
				note(warning, fmt.Sprintf("%s: certificate expires in %s", bc.Broker, days(left)))
			}
		}
	}
	if o.canary {
		d, err := o.roundTrip(ctx, c)
		if err != nil {
			note(critical, fmt.Sprintf("%s: canary: %s", bc.Broker, cmdutil.OneLine(err.Error())))
		} else {
			v := ms(d)
			bc.CanaryMS = &v
		}
	}
	if len(p.thresholds) > 0 {
		// A destination the broker does not know holds nothing and has
		// no consumer: thresholds judge it so.
		src, err := stats.For(c, stats.Login{MgmtURL: o.mgmtURL, User: o.Opts.User, Password: o.Opts.Password, VHost: o.Opts.VHost, Jolokia: o.jolokia})
		var figs []stats.Figures
		if err == nil {
			patterns := make([]string, len(p.thresholds))
			for i, t := range p.thresholds {
				patterns[i] = t.dest
			}
			figs, _, err = stats.StatKnown(ctx, src, patterns)
		}
		if err != nil {
			note(unknown, bc.Broker+": "+cmdutil.OneLine(err.Error()))
		}
		for i, t := range p.thresholds {
			what, figure := "depth", func(f stats.Figures) *int64 { return f.Depth }
			if i >= p.depths {
				what, figure = "consumers", func(f stats.Figures) *int64 { return f.Consumers }
			}
			for _, f := range figs {
				if !stats.Match(t.dest, f.Destination) {
					continue
				}
				if n := figure(f); n == nil {
					note(unknown, fmt.Sprintf("%s: %s: the broker gives no %s", bc.Broker, f.Destination, what))
				} else {
					s, why := t.judge(f.Destination, what, *n)
					note(s, why)
				}
			}
		}
		bc.Destinations = append(bc.Destinations, figs...)
	}
	return bc, st, problems
}

// roundTrip sends one message through a private destination and waits
// for it to come back.
func (o *Options) roundTrip(ctx context.Context, c *client.Client) (time.Duration, error) {
	var id [6]byte
	rand.Read(id[:])
	tag := hex.EncodeToString(id[:])
	dest, h := cmdutil.KindOf(c).Canary(tag)
	h = append(h, protocol.Header{Name: protocol.HdrAck, Value: protocol.AckAuto})
	ctx, cancel := context.WithTimeout(ctx, o.canaryWait)
	defer cancel()
	start := time.Now()
	sub, err := c.Subscribe(ctx, dest, h)
	if err != nil {
		return 0, err
	}
	defer c.Unsubscribe(sub, nil)
	if _, err := c.Send(dest, []byte(tag), client.SendOptions{Headers: protocol.Headers{{Name: "persistent", Value: "false"}}}); err != nil {
		return 0, err
	}
	if err := c.Flush(); err != nil {
		return 0, err
	}
	for {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no return within %v", o.canaryWait)
		case m, open := <-c.Messages():
			if !open {
				return 0, client.ErrConnectionLost
			}
			if m.Header(protocol.HdrSubscription) == sub && string(m.Body) == tag {
				return time.Since(start), nil
			}
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// days shows a time left in days and hours.
func days(d time.Duration) string {
	if d < 0 {
		return "no time: it expired " + (-d).Round(time.Hour).String() + " ago"
	}
	n := int(d / (24 * time.Hour))
	return fmt.Sprintf("%dd%dh", n, int((d%(24*time.Hour))/time.Hour))
}
