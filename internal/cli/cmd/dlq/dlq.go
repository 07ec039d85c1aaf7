// Package dlq is the dlq command: a read-only summary of a dead-letter
// queue.
package dlq

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/pick"
	"github.com/stompest/stompest/internal/client"
)

// Options are the arguments and flags of dlq.
type Options struct {
	*cmdutil.Factory

	dest     string
	filter   string
	selector string
	stop     flags.Stop
	out      flags.Output
}

// NewCmd returns dlq; runF, when not nil, runs instead of the command
// (tests check the parsed options with it).
func NewCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "dlq DEST",
		Short: "Summarise a dead-letter queue: messages by origin and reason",
		Long: `dlq reads the dead-letter queue DEST without consuming it and prints, per
origin (the destination a message died in) and reason, how many messages
there are and the times of the first and the last (their timestamp header).
The origin and the reason are read from each broker's own headers:
ActiveMQ's original-destination, RabbitMQ's x-first-death-queue and
x-first-death-reason, Artemis's _AMQ_ORIG_ADDRESS, the embedded broker's
original-destination and dead-letter-reason; what a broker does not say is
shown as "—" (null in JSON).

On ActiveMQ and the embedded broker the queue is browsed: nothing is
consumed or marked redelivered, and the end of the queue ends the summary.
Elsewhere the messages are received without acknowledgement and handed back
when dlq disconnects (RabbitMQ then marks them redelivered); the summary
ends after --idle without a message. --count N looks at the first N only;
--filter and --selector narrow what is counted.

'stompest move DEST --to-origin' sends the messages back where they died.`,
		Example: `  stompest dlq /queue/ActiveMQ.DLQ
  stompest dlq /queue/dead-letters -o json | jq '.groups[] | select(.count > 100)'
  stompest dlq /queue/DLQ --filter 'body.customer == "acme"'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dest = args[0]
			return cmdutil.Run(cmd.Context(), o, runF, o.run)
		},
	}
	o.stop.Add(cmd, flags.Stop{Idle: time.Second}, "looking at")
	flags.AddFilter(cmd, &o.filter, "count only")
	cmd.Flags().StringVar(&o.selector, "selector", "", "broker-side `EXPR` picking the messages to count (ActiveMQ, Artemis, the embedded broker)")
	o.out.AddReport(cmd, "table", []string{"table", "json"})
	return cmd
}

// group is the dead letters of one origin and reason.
type group struct {
	Origin *string    `json:"origin"`
	Reason *string    `json:"reason"`
	Count  int        `json:"count"`
	First  *time.Time `json:"first"`
	Last   *time.Time `json:"last"`
}

// report is what dlq prints.
type report struct {
	Destination string   `json:"destination"`
	Messages    int      `json:"messages"`
	Groups      []*group `json:"groups"`
}

func (o *Options) run(ctx context.Context) error {
	sel := flags.Selection{All: o.stop.Count == 0, Filter: o.filter, Selector: o.selector}
	p, err := pick.New("dlq", sel, o.stop)
	if err != nil {
		return err
	}
	p.Browse = true
	c, err := o.Dial(ctx, "dlq", false, nil)
	if err != nil {
		return err
	}
	kind := cmdutil.KindOf(c)
	r := report{Destination: o.dest, Groups: []*group{}}
	byKey := map[[2]string]*group{}
	err = p.Subscribe(ctx, c, o.dest)
	if err == nil {
		err = p.Run(ctx, c, nil, func(m *client.Message) error {
			d := kind.DeadLetterOf(m.Frame)
			key := [2]string{d.Origin, d.Reason}
			g := byKey[key]
			if g == nil {
				g = &group{Origin: orNil(d.Origin), Reason: orNil(d.Reason)}
				byKey[key] = g
				r.Groups = append(r.Groups, g)
			}
			g.Count++
			r.Messages++
			if t, ok := timestamp(m.Header("timestamp")); ok {
				if g.First == nil || t.Before(*g.First) {
					g.First = &t
				}
				if g.Last == nil || t.After(*g.Last) {
					g.Last = &t
				}
			}
			return nil // never settled: the broker gets it back
		})
	}
	if err != nil && !cmdutil.IsInterrupt(err) {
		err = fmt.Errorf("dlq: %w", err)
	}
	if err = o.Finish(c, "dlq", err); err != nil {
		return err
	}
	slices.SortStableFunc(r.Groups, func(a, b *group) int {
		// The most first; what the broker did not name after what it named.
		return cmp.Or(b.Count-a.Count, compare(a.Origin, b.Origin), compare(a.Reason, b.Reason))
	})
	if o.out.Format == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return o.printTable(r)
}

func (o *Options) printTable(r report) error {
	head := o.OutColor(color.Bold)
	fmt.Fprintf(o.Out, "%s %s: %s\n", head.Sprint("DLQ"), cmdutil.Printable(r.Destination), cmdutil.Count(r.Messages, "dead letter"))
	if len(r.Groups) == 0 {
		return nil
	}
	rows := [][]string{{"ORIGIN", "REASON", "COUNT", "FIRST", "LAST"}}
	for _, g := range r.Groups {
		rows = append(rows, []string{dash(g.Origin), dash(g.Reason), strconv.Itoa(g.Count), when(g.First), when(g.Last)})
	}
	return cmdutil.Table(o.Out, rows, func(row, _ int, cell string) string {
		if row == 0 {
			return head.Sprint(cell)
		}
		return cell
	})
}

// timestamp reads a timestamp header: milliseconds since the epoch
// (ActiveMQ, Artemis), or seconds where the value is too small to be
// milliseconds of this century (RabbitMQ's AMQP timestamp property).
func timestamp(v string) (time.Time, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil || n <= 0:
		return time.Time{}, false
	case n < 100_000_000_000:
		return time.Unix(n, 0).UTC(), true
	}
	return time.UnixMilli(n).UTC(), true
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// compare orders figures, a missing one last.
func compare(a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return cmp.Compare(*a, *b)
}

// dash is a figure the broker gave, or "—".
func dash(s *string) string {
	if s == nil {
		return "—"
	}
	return *s
}

func when(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.Format(time.RFC3339)
}
