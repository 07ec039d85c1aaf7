// Package probe is the failover-probe command: a live check of every
// broker of a failover URI, or its reconnect schedule.
package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/failover"
)

// Options are the argument and flags of failover-probe.
type Options struct {
	*cmdutil.Factory

	uri       string // the URI to probe; "" for --server
	schedule  int
	seed      uint64
	seeded    bool
	reconnect bool
	output    string
}

// NewCmd returns failover-probe; runF, when not nil, runs instead of the
// command (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:     "failover-probe [URI]",
		Aliases: []string{"probe"},
		Short:   "Check every broker of a failover URI, or show its reconnect schedule",
		Long: `failover-probe connects to every broker of a failover URI (the argument,
else --server) and reports, per broker: TCP connect time, CONNECT to
CONNECTED time, negotiated version, server, heart-beat and session, or the
error. Exit 0 when all are up, 75 when some are down, 69 when none is up, 77
when every broker refused the login.

failover-probe --schedule N instead prints the first N connection attempts
that the URI makes: which broker, after which delay. It does not touch the
network.

The schedule follows ActiveMQ's failover transport: the first attempt has no
delay; attempt k >= 2 waits min(initialReconnectDelay * m^(k-2) + jitter,
maxReconnectDelay), where m is backOffMultiplier when useExponentialBackOff is
true and 1 otherwise; randomize shuffles the brokers at every pass;
priorityBackup puts local brokers first, priorityURIs the listed ones.
startupMaxReconnectAttempts limits the first connect (shown by default),
maxReconnectAttempts every reconnect after a loss (--reconnect).`,
		Example: `  stompest failover-probe 'failover:(tcp://mq1:61613,tcp://mq2:61613)'
  stompest probe -o json | jq '.brokers[] | select(.up | not)'
  stompest failover-probe --schedule 6 'failover:(tcp://mq1:61613,tcp://mq2:61613)?randomize=false&maxReconnectAttempts=3' --reconnect
  stompest probe --schedule 10 --seed 7 -o json | jq '.attempts[].delay_ms'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.seeded = cmd.Flags().Changed("seed")
			if cmd.Flags().Changed("schedule") && o.schedule < 1 {
				// Never the live probe: a schedule was asked for.
				return cmdutil.UsageErrorf("--schedule %d: want N >= 1", o.schedule)
			}
			if len(args) == 1 {
				o.uri = args[0]
			}
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&o.schedule, "schedule", 0, "print the first `N` attempts of the schedule")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the randomness (randomize, jitter): the same seed gives the same schedule")
	fs.BoolVar(&o.reconnect, "reconnect", false, "show the schedule of a reconnect after a loss (maxReconnectAttempts) instead of the first connect")
	flags.Enum(cmd, &o.output, "output", "o", "table", []string{"table", "json"}, "output format: table or json")
	return cmd
}

// scheduleReport is the JSON form of failover-probe --schedule.
type scheduleReport struct {
	URI       string            `json:"uri"`
	Options   failover.Options  `json:"options"`
	Seed      uint64            `json:"seed"`
	Attempts  []scheduleAttempt `json:"attempts"`
	Exhausted bool              `json:"exhausted"`
}

type scheduleAttempt struct {
	N       int     `json:"n"`
	Broker  string  `json:"broker"`
	DelayMS float64 `json:"delay_ms"`
}

func (o *Options) run(context.Context) error {
	uri := o.uri
	if uri == "" {
		uri = o.Opts.Server
	}
	if o.schedule < 0 {
		return cmdutil.UsageErrorf("--schedule %d: want N >= 1", o.schedule)
	}
	u, err := failover.Parse(uri)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUsage, fmt.Errorf("failover-probe: %w", err))
	}
	for _, w := range u.Warnings {
		o.Warn("warning: " + w)
	}
	if o.schedule == 0 {
		return o.probeLive(u)
	}
	if !o.seeded {
		o.seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15))
	hostname, _ := os.Hostname()
	isLocal := failover.LocalHosts(hostname)
	s := u.Startup(rng, isLocal)
	limitName := "startupMaxReconnectAttempts"
	if o.reconnect {
		s, limitName = u.Reconnect(rng, isLocal), "maxReconnectAttempts"
	}
	report := scheduleReport{URI: u.String(), Options: u.Options, Seed: o.seed, Attempts: []scheduleAttempt{}}
	for len(report.Attempts) < o.schedule {
		at, ok := s.Next()
		if !ok {
			report.Exhausted = true
			break
		}
		report.Attempts = append(report.Attempts, scheduleAttempt{
			N: at.Number, Broker: at.Broker.String(), DelayMS: float64(at.Delay) / float64(time.Millisecond),
		})
	}
	if o.output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(report)
	}
	head := o.OutColor(color.Bold)
	fmt.Fprintf(o.Out, "%s %s\n", head.Sprint("URI"), report.URI)
	wn, wb, wd := len("N"), len("BROKER"), len("DELAY")
	for _, at := range report.Attempts {
		wn = max(wn, len(strconv.Itoa(at.N)))
		wb = max(wb, len(at.Broker))
		wd = max(wd, len(formatMS(at.DelayMS)))
	}
	fmt.Fprintln(o.Out, head.Sprintf("%*s  %-*s  %*s", wn, "N", wb, "BROKER", wd, "DELAY"))
	for _, at := range report.Attempts {
		if _, err := fmt.Fprintf(o.Out, "%*d  %-*s  %*s\n", wn, at.N, wb, at.Broker, wd, formatMS(at.DelayMS)); err != nil {
			return err
		}
	}
	if report.Exhausted {
		fmt.Fprintf(o.Out, "%s after %d attempts (%s=%d)\n",
			o.OutColor(color.FgYellow).Sprint("exhausted"), len(report.Attempts), limitName, s.MaxAttempts()-1)
	}
	return nil
}

// formatMS writes milliseconds the way a person reads a delay: "0ms",
// "12.1ms", "30s".
func formatMS(ms float64) string {
	if ms >= 1000 {
		return (time.Duration(ms * float64(time.Millisecond))).Round(time.Millisecond).String()
	}
	return strconv.FormatFloat(ms, 'f', -1, 64) + "ms"
}
