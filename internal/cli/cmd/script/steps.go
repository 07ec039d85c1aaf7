package script

import (
	"context"
	"fmt"
	"strings"
)

// stepDef is one command of run and shell. The help of both commands, the
// check of a script before it runs, the shell's completion and the
// dispatch of a step all read this one table: a new step is one entry.
type stepDef struct {
	name    string
	usage   string // the command line, as help shows it
	help    string // what it does, in a line or two ("\n" continues)
	minArgs int
	maxArgs int // -1: no limit
	run     func(r *scriptRun, ctx context.Context, args []string) error
}

// Usages that the steps' own errors repeat.
const (
	subscribeUsage = "subscribe DEST [--ack MODE] [--id ID] [-H K:V]..."
	sendUsage      = "send DEST BODY [-H K:V]..."
)

// steps are the commands of run and shell, in the order help lists them.
var steps = []stepDef{
	{"subscribe", subscribeUsage, "ack mode auto (default), client, client-individual", 1, -1, (*scriptRun).subscribe},
	{"unsubscribe", "unsubscribe ID", "", 1, 1, (*scriptRun).unsubscribe},
	{"send", sendUsage, "waits for the broker's receipt (in a transaction: for nothing)", 2, -1, (*scriptRun).send},
	{"ack", "ack ID|last", "ID: a received message's message-id; last: the latest received", 1, 1, (*scriptRun).ack},
	{"nack", "nack ID|last", "", 1, 1, (*scriptRun).nack},
	{"begin", "begin [TX]", "later send, ack and nack belong to TX until commit or abort", 0, 1, (*scriptRun).begin},
	{"commit", "commit [TX]", "", 0, 1, (*scriptRun).commit},
	{"abort", "abort [TX]", "", 0, 1, (*scriptRun).abort},
	{"expect", "expect DEST count=N [timeout=D]", "wait until N messages arrived on subscriptions to DEST since\nthe previous expect for DEST (timeout 5s by default)", 2, 3, (*scriptRun).expect},
	{"sleep", "sleep D", "", 1, 1, (*scriptRun).sleep},
	{"print", "print", "print the messages received and not printed yet", 0, 0, func(r *scriptRun, _ context.Context, _ []string) error { return r.print() }},
}

// findStep returns the step called name, or nil.
func findStep(name string) *stepDef {
	for i := range steps {
		if steps[i].name == name {
			return &steps[i]
		}
	}
	return nil
}

// stepsHelp lists the steps for run's and shell's help.
func stepsHelp() string {
	lines := []string{"Commands, one per line ('#' starts a comment; words are split and $VARS", "expanded as a shell would):", ""}
	for _, s := range steps {
		lines = append(lines, s.line())
	}
	return strings.Join(lines, "\n")
}

// line is the step's help: usage, then its explanation.
func (s *stepDef) line() string { return stepLine(s.usage, s.help) }

// stepLine lays out a usage and its explanation in two columns.
func stepLine(usage, help string) string {
	const col = 34
	var b strings.Builder
	for i, h := range strings.Split(help, "\n") {
		left := ""
		if i == 0 {
			left = usage
		}
		if h == "" {
			fmt.Fprintf(&b, "  %s", left)
			continue
		}
		if i > 0 {
			b.WriteString("\n")
		}
		if len(left) >= col-3 {
			fmt.Fprintf(&b, "  %s  %s", left, h)
		} else {
			fmt.Fprintf(&b, "  %-*s%s", col-2, left, h)
		}
	}
	return b.String()
}
