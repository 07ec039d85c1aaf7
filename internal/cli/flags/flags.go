// Package flags declares the flags that several commands share, once: an
// enum flag that validates its value when it is set (from the command line
// or from the config file) and offers its values to shell completion, and
// the option groups for output (-o, --format), stop conditions (--count,
// --timeout, --idle), message selection (--all, --message-id, --match,
// --selector) and headers (-H). A flag that a second command needs moves
// here.
package flags

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// enumValue is a string flag limited to a set of values.
type enumValue struct {
	p      *string
	values []string
}

func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Type() string   { return "string" }

func (e *enumValue) Set(s string) error {
	if !slices.Contains(e.values, s) {
		return fmt.Errorf("want %s", orList(e.values))
	}
	*e.p = s
	return nil
}

// orList writes values as "a, b or c".
func orList(values []string) string {
	if len(values) == 1 {
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// Enum declares the flag name (with the shorthand short, "" for none) of
// cmd, holding one of values in *p, def by default ("" meaning the command
// decides). A value outside values is refused when it is set, naming the
// values; shell completion offers them.
func Enum(cmd *cobra.Command, p *string, name, short, def string, values []string, usage string) {
	*p = def
	cmd.Flags().VarP(&enumValue{p: p, values: values}, name, short, usage)
	cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	})
}

// PersistentEnum is Enum for a flag that cmd's subcommands inherit.
func PersistentEnum(cmd *cobra.Command, p *string, name, short, def string, values []string, usage string) {
	*p = def
	cmd.PersistentFlags().VarP(&enumValue{p: p, values: values}, name, short, usage)
	cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	})
}

// MessageFormats are the output formats of commands that print messages.
var MessageFormats = []string{"body", "pretty", "jsonl"}

// Output is the output group: -o/--output and --format.
type Output struct {
	Format   string // one of the command's formats, "" for its default
	Template string // --format: a Go template over the JSON Lines record
	Record   bool   // --record: each record carries the time it was received
}

// AddMessages declares -o (body, pretty or jsonl; "" picks pretty on a
// terminal, else body) and --format for a command that prints messages;
// what says which messages.
func (o *Output) AddMessages(cmd *cobra.Command, what string) {
	Enum(cmd, &o.Format, "output", "o", "", MessageFormats,
		"how to print "+what+": body, pretty or jsonl (default pretty on a terminal, else body)")
	cmd.Flags().StringVar(&o.Template, "format", "", "Go `TEMPLATE` for "+what+` over the JSON Lines record: {{.destination}} {{index .headers "k"}} {{.body}} {{.seq}}`)
	cmd.Flags().BoolVar(&o.Record, "record", false, "with -o jsonl or --format: add received_at (RFC 3339, UTC, nanoseconds) to each record, for send --input jsonl --replay")
}

// AddReport declares -o for a command that prints a report in one of
// formats, def by default.
func (o *Output) AddReport(cmd *cobra.Command, def string, formats []string) {
	Enum(cmd, &o.Format, "output", "o", def, formats, "output format: "+orList(formats))
}

// Stop is the stop-condition group: --count, --timeout, --idle.
type Stop struct {
	Count   int
	Timeout time.Duration
	Idle    time.Duration
}

// Add declares the group with the defaults of def; verb says what is
// counted ("settle", "move", ...).
func (s *Stop) Add(cmd *cobra.Command, def Stop, verb string) {
	f := cmd.Flags()
	f.IntVarP(&s.Count, "count", "n", def.Count, "stop after "+verb+" `N` messages")
	f.DurationVar(&s.Timeout, "timeout", def.Timeout, "stop after this long (exit 75 if --count was not reached)")
	f.DurationVar(&s.Idle, "idle", def.Idle, "stop when no message came for this long")
}

// Check refuses negative values.
func (s *Stop) Check() error {
	switch {
	case s.Count < 0:
		return fmt.Errorf("--count %d: want 0 (no limit) or more", s.Count)
	case s.Timeout < 0:
		return fmt.Errorf("--timeout %v: must not be negative", s.Timeout)
	case s.Idle < 0:
		return fmt.Errorf("--idle %v: must not be negative", s.Idle)
	}
	return nil
}

// Selection is the message-selection group: --all, --message-id, --match,
// --filter, --selector.
type Selection struct {
	All        bool
	MessageIDs []string
	Match      []string
	Filter     string
	Selector   string
}

// Add declares the group; verb says what happens to a selected message.
func (s *Selection) Add(cmd *cobra.Command, verb string) {
	f := cmd.Flags()
	f.BoolVar(&s.All, "all", false, verb+" every message (that matches) until --idle passes without one")
	f.StringArrayVar(&s.MessageIDs, "message-id", nil, verb+" the message with this `ID` (repeatable)")
	f.StringArrayVar(&s.Match, "match", nil, verb+" messages whose header `NAME=VALUE` (repeatable; all must match)")
	AddFilter(cmd, &s.Filter, verb)
	f.StringVar(&s.Selector, "selector", "", "broker-side `EXPR` picking the messages (ActiveMQ, Artemis, the embedded broker)")
}

// HeaderMatch is one --match NAME=VALUE.
type HeaderMatch struct{ Name, Value string }

// Matches parses --match.
func (s *Selection) Matches() ([]HeaderMatch, error) {
	var ms []HeaderMatch
	for _, m := range s.Match {
		k, v, ok := strings.Cut(m, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--match %q: want HEADER=VALUE", m)
		}
		ms = append(ms, HeaderMatch{k, v})
	}
	return ms, nil
}

// Picks reports whether the selection names messages (ids, headers or a
// selector), as opposed to taking whatever comes.
func (s *Selection) Picks() bool {
	return len(s.MessageIDs) > 0 || len(s.Match) > 0 || s.Filter != "" || s.Selector != ""
}

// AddFilter declares --filter EXPR into *p; verb says what happens to a
// message that matches.
func AddFilter(cmd *cobra.Command, p *string, verb string) {
	cmd.Flags().StringVar(p, "filter", "", verb+` the messages for which `+"`EXPR`"+` is true, evaluated here on every broker: headers["k"] == "v" && body.amount > 100 (see 'stompest help filter')`)
}

// Headers declares -H/--header K:V (repeatable) into *p.
func Headers(cmd *cobra.Command, p *[]string, usage string) {
	cmd.Flags().StringArrayVarP(p, "header", "H", nil, usage)
}

// ReceiptModes are the values of --receipt.
var ReceiptModes = []string{"each", "last", "none"}
