// Package stat is the stat command: queue depth, consumers and rates,
// read through each broker's own statistics channel.
package stat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"text/template"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/cli/stats"
	"github.com/stompest/stompest/internal/client"
)

// Options are the arguments and flags of stat.
type Options struct {
	*cmdutil.Factory

	patterns   []string
	out        flags.Output
	watch      time.Duration
	untilEmpty bool
	timeout    time.Duration
	mgmtURL    string
	jolokia    string
	unknown    map[string]bool // --until-empty: destinations noted as unknown
}

// NewCmd returns stat; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "stat [DEST...]",
		Short: "Queue depth, consumers and rates, from the broker's own statistics",
		Long: `stat prints, per destination, the messages it holds (depth), its consumers,
and where the broker counts them the messages enqueued and dequeued since it
started. STOMP has no management frames, so stat reads each broker's own
channel, picked by the server header of CONNECTED:

  the embedded broker  its statistics destinations, over STOMP
  ActiveMQ             its statistics plugin (ActiveMQ.Statistics.Destination.>),
                       over STOMP; <plugins><statisticsBrokerPlugin/></plugins>
                       in activemq.xml turns it on; or, with --jolokia URL,
                       its web console's Jolokia
  RabbitMQ             the management HTTP API (rabbitmq_management), with the
                       same login, at --mgmt-url (default: the broker's host,
                       port 15672); its figures are as fresh as its collection
                       interval (5 s by default)

A figure the broker does not give is shown as "—" (null in JSON), never as
a zero. DEST may be a glob ('/queue/orders.*'); without DEST, every
destination the channel lists. A DEST without glob characters that the
broker does not know is an error (exit 1).

--watch D prints the figures again every D, with the rates in and out
(messages per second between two samples). --until-empty waits until every
DEST holds no message (exit 0), or gives up at --timeout (exit 75): the CI
step "wait until the consumers drained the fixtures".

-o table (the default on a terminal), json (one array), jsonl (one record
per destination: destination, depth, consumers, enqueued, dequeued,
oldest_ms; with --watch also at, in_per_sec, out_per_sec), or --format TPL
over that record.`,
		Example: `  stompest stat /queue/orders
  stompest stat '/queue/orders.*' -o json
  stompest stat --watch 2s
  stompest stat /queue/fixtures --until-empty --timeout 60s
  stompest -s tcp://rabbit:61613 stat /queue/jobs --mgmt-url http://rabbit:15672`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.patterns = args
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	flags.Enum(cmd, &o.out.Format, "output", "o", "", []string{"table", "json", "jsonl"}, "output format: table, json or jsonl (default table on a terminal, else jsonl)")
	fs := cmd.Flags()
	fs.StringVar(&o.out.Template, "format", "", "Go `TEMPLATE` over each destination's record: {{.destination}} {{.depth}} {{.consumers}} ...")
	fs.DurationVar(&o.watch, "watch", 0, "print the figures again every `D`, with rates in and out")
	fs.BoolVar(&o.untilEmpty, "until-empty", false, "wait until every DEST holds no message (exit 0), or --timeout (exit 75)")
	fs.DurationVar(&o.timeout, "timeout", 0, "with --until-empty or --watch: stop after this long (0: never)")
	fs.StringVar(&o.mgmtURL, "mgmt-url", "", "RabbitMQ management API `URL` (default http://<broker host>:15672)")
	fs.StringVar(&o.jolokia, "jolokia", "", "read ActiveMQ's figures from its web console's Jolokia at `URL` (http://user:password@host:8161/api/jolokia) instead of the statistics plugin")
	return cmd
}

// record is a destination's figures as stat prints them.
type record struct {
	stats.Figures
	At        string
	InPerSec  *float64
	OutPerSec *float64
	watching  bool
}

// MarshalJSON writes the record's fixed fields in their order, and with
// --watch the sample's time and rates (null before the second sample).
func (r record) MarshalJSON() ([]byte, error) {
	if !r.watching {
		return json.Marshal(r.Figures)
	}
	return json.Marshal(struct {
		stats.Figures
		At        string   `json:"at"`
		InPerSec  *float64 `json:"in_per_sec"`
		OutPerSec *float64 `json:"out_per_sec"`
	}{r.Figures, r.At, r.InPerSec, r.OutPerSec})
}

func (o *Options) run(ctx context.Context) error {
	for _, p := range o.patterns {
		if err := stats.ValidPattern(p); err != nil {
			return cmdutil.UsageErrorf("stat %q: %v", p, err)
		}
	}
	switch {
	case o.untilEmpty && len(o.patterns) == 0:
		return cmdutil.UsageErrorf("--until-empty needs DEST: the destinations to wait for")
	case o.untilEmpty && o.watch > 0:
		return cmdutil.UsageErrorf("--until-empty and --watch exclude one another")
	case o.watch < 0 || o.timeout < 0:
		return cmdutil.UsageErrorf("--watch and --timeout must not be negative")
	case o.timeout > 0 && !o.untilEmpty && o.watch == 0:
		return cmdutil.UsageErrorf("--timeout goes with --until-empty or --watch")
	}
	format := o.out.Format
	if format == "" {
		format = "jsonl"
		if o.OutTTY {
			format = "table"
		}
	}
	var tpl *template.Template
	if o.out.Template != "" {
		text, err := msgio.ParseDelimiter(o.out.Template)
		if err != nil {
			return cmdutil.UsageErrorf("--format: %v", err)
		}
		if tpl, err = template.New("format").Option("missingkey=zero").Parse(string(text)); err != nil {
			return cmdutil.UsageErrorf("--format: %v", err)
		}
	}
	c, err := o.Dial(ctx, "stat", false, nil)
	if err != nil {
		return err
	}
	src, err := o.source(c)
	if err == nil {
		err = o.loop(ctx, src, format, tpl)
	}
	if err != nil && !cmdutil.IsInterrupt(err) {
		err = fmt.Errorf("stat: %w", statError(err))
	}
	return o.Finish(c, "stat", err)
}

// statError gives a channel's failures their exit codes: a channel that
// cannot be reached or is switched off is unavailable (69), a refused
// login is 77, an unknown destination 1.
func statError(err error) error {
	var ce *stats.ChannelError
	var ue *stats.UnknownError
	switch {
	case errors.As(err, &ce) && ce.Refused:
		return cmdutil.WithCode(cmdutil.ExitNoPerm, err)
	case errors.As(err, &ce):
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	case errors.As(err, &ue):
		return cmdutil.WithCode(cmdutil.ExitFailed, err)
	}
	return err
}

// source picks the broker's statistics channel.
func (o *Options) source(c *client.Client) (stats.Source, error) {
	return stats.For(c, stats.Login{MgmtURL: o.mgmtURL, User: o.Opts.User, Password: o.Opts.Password, VHost: o.Opts.VHost, Jolokia: o.jolokia})
}

// loop samples once, or every --watch, or until empty.
func (o *Options) loop(ctx context.Context, src stats.Source, format string, tpl *template.Template) error {
	var deadline <-chan time.Time
	if o.timeout > 0 {
		t := time.NewTimer(o.timeout)
		defer t.Stop()
		deadline = t.C
	}
	interval := o.watch
	if o.untilEmpty {
		interval = 250 * time.Millisecond
	}
	var prev map[string]stats.Figures
	var prevAt time.Time
	for n := 0; ; n++ {
		var figs []stats.Figures
		var err error
		if o.untilEmpty {
			figs, err = o.sampleEmpty(ctx, src)
		} else {
			figs, err = src.Stat(ctx, o.patterns)
		}
		if err != nil {
			return err
		}
		at := time.Now()
		if o.untilEmpty {
			if empty(figs) {
				o.Note(fmt.Sprintf("%s empty", cmdutil.Count(len(figs), "destination")))
				return nil
			}
		} else {
			recs := make([]record, len(figs))
			for i, f := range figs {
				recs[i] = record{Figures: f, watching: o.watch > 0}
				if o.watch > 0 {
					recs[i].At = at.UTC().Format(time.RFC3339Nano)
					if p, ok := prev[f.Destination]; ok {
						secs := at.Sub(prevAt).Seconds()
						recs[i].InPerSec, recs[i].OutPerSec = rate(p.Enqueued, f.Enqueued, secs), rate(p.Dequeued, f.Dequeued, secs)
					}
				}
			}
			if err := o.print(recs, format, tpl, n); err != nil {
				return err
			}
			if o.watch == 0 {
				return nil
			}
		}
		prev, prevAt = map[string]stats.Figures{}, at
		for _, f := range figs {
			prev[f.Destination] = f
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-deadline:
			t.Stop()
			if o.untilEmpty {
				return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("--until-empty: %s after %v", holding(figs), o.timeout))
			}
			return nil
		case <-t.C:
		}
	}
}

// sampleEmpty reads each DEST of --until-empty; one the broker does not
// know is empty (stats.StatKnown), which is said once.
func (o *Options) sampleEmpty(ctx context.Context, src stats.Source) ([]stats.Figures, error) {
	figs, unknown, err := stats.StatKnown(ctx, src, o.patterns)
	for _, p := range unknown {
		if o.unknown == nil {
			o.unknown = map[string]bool{}
		}
		if !o.unknown[p] {
			o.unknown[p] = true
			o.Note(fmt.Sprintf("%s: not known to the broker: taken as empty", p))
		}
	}
	return figs, err
}

// empty reports whether every destination is known to hold no message.
func empty(figs []stats.Figures) bool {
	for _, f := range figs {
		if f.Depth == nil || *f.Depth > 0 {
			return false
		}
	}
	return true
}

// holding says which destinations still hold messages.
func holding(figs []stats.Figures) string {
	s := ""
	for _, f := range figs {
		if f.Depth != nil && *f.Depth == 0 {
			continue
		}
		if s != "" {
			s += ", "
		}
		s += f.Destination + " holds " + figure(f.Depth)
	}
	return s
}

// rate is the change of a counter per second, nil where either sample
// lacks it or the counter went back (a broker restart).
func rate(before, after *int64, secs float64) *float64 {
	if before == nil || after == nil || *after < *before || secs <= 0 {
		return nil
	}
	r := float64(*after-*before) / secs
	return &r
}

func figure(n *int64) string {
	if n == nil {
		return "—"
	}
	return strconv.FormatInt(*n, 10)
}

func rateText(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(*r, 'f', 1, 64)
}

// print writes one sample.
func (o *Options) print(recs []record, format string, tpl *template.Template, n int) error {
	switch {
	case tpl != nil:
		for _, r := range recs {
			b, _ := json.Marshal(r)
			var data map[string]any
			json.Unmarshal(b, &data)
			if err := tpl.Execute(o.Out, data); err != nil {
				return cmdutil.WithCode(cmdutil.ExitIOErr, err)
			}
		}
		return nil
	case format == "json":
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		if recs == nil {
			recs = []record{}
		}
		return enc.Encode(recs)
	case format == "jsonl":
		enc := json.NewEncoder(o.Out)
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	head := o.OutColor(color.Bold)
	rows := [][]string{{"DESTINATION", "DEPTH", "CONSUMERS", "ENQUEUED", "DEQUEUED", "OLDEST"}}
	if o.watch > 0 {
		rows[0] = append(rows[0], "IN/S", "OUT/S")
		if n > 0 {
			fmt.Fprintln(o.Out)
		}
		fmt.Fprintln(o.Out, head.Sprint(time.Now().Format("15:04:05")))
	}
	for _, r := range recs {
		oldest := "—"
		if r.OldestMS != nil {
			oldest = (time.Duration(*r.OldestMS) * time.Millisecond).String()
		}
		row := []string{r.Destination, figure(r.Depth), figure(r.Consumers), figure(r.Enqueued), figure(r.Dequeued), oldest}
		if o.watch > 0 {
			row = append(row, rateText(r.InPerSec), rateText(r.OutPerSec))
		}
		rows = append(rows, row)
	}
	return cmdutil.Table(o.Out, rows, func(row, _ int, cell string) string {
		if row == 0 {
			return head.Sprint(cell)
		}
		return cell
	})
}
