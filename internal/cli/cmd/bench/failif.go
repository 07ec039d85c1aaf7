package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// A condition is one part of --fail-if: the run fails when the figure
// crosses the threshold in the direction of the operator.
type condition struct {
	text      string  // as given, without surrounding spaces
	figure    string  // p50, p99.9, max, throughput, producer_throughput, ...
	op        string  // <, <=, > or >=
	threshold float64 // nanoseconds for a latency, messages per second for a throughput
	shown     string  // the threshold as given
	pct       float64 // the percentile of a pN figure, 100 for max
}

// latency reports whether the condition is about a latency (its threshold
// a duration) rather than a throughput.
func (c condition) latency() bool {
	return c.figure != "throughput" && c.figure != "producer_throughput"
}

// crossed reports whether the measured value crosses the threshold.
func (c condition) crossed(v float64) bool {
	switch c.op {
	case "<":
		return v < c.threshold
	case "<=":
		return v <= c.threshold
	case ">":
		return v > c.threshold
	default:
		return v >= c.threshold
	}
}

// figureNames lists the figures --fail-if knows, for its error messages.
const figureNames = "p50, p90, p99, p99.9 (any pN), max, throughput or producer_throughput"

// parseConditions parses --fail-if: conditions such as p99>20ms or
// throughput<50000 separated by commas. An error is a usage error naming
// the part it refused.
func parseConditions(s string) ([]condition, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var cs []condition
	for _, part := range strings.Split(s, ",") {
		c, err := parseCondition(strings.TrimSpace(part))
		if err != nil {
			return nil, cmdutil.UsageErrorf("--fail-if %q: %v", strings.TrimSpace(part), err)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func parseCondition(s string) (condition, error) {
	if s == "" {
		return condition{}, fmt.Errorf("empty condition: want FIGURE>VALUE or FIGURE<VALUE, separated by commas")
	}
	i := strings.IndexAny(s, "<>")
	if i < 0 {
		return condition{}, fmt.Errorf("no < or >: want FIGURE>VALUE or FIGURE<VALUE, such as p99>20ms")
	}
	op := s[i : i+1]
	if i+1 < len(s) && s[i+1] == '=' {
		op += "="
	}
	c := condition{
		text:   s,
		figure: strings.ToLower(strings.TrimSpace(s[:i])),
		op:     op,
		shown:  strings.TrimSpace(s[i+len(op):]),
	}
	switch {
	case c.figure == "":
		return c, fmt.Errorf("no figure before %s: want one of %s", op, figureNames)
	case c.shown == "":
		return c, fmt.Errorf("no value after %s", op)
	case strings.ContainsAny(c.shown, "<>="):
		return c, fmt.Errorf("one comparison per condition")
	}
	switch c.figure {
	case "throughput", "producer_throughput":
		n, err := strconv.ParseFloat(strings.TrimSuffix(c.shown, "/s"), 64)
		if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
			return c, fmt.Errorf("%s %q: want messages per second, such as 50000", c.figure, c.shown)
		}
		c.threshold = n
		return c, nil
	case "max":
		c.pct = 100
	default:
		p, err := strconv.ParseFloat(strings.TrimPrefix(c.figure, "p"), 64)
		if !strings.HasPrefix(c.figure, "p") || err != nil || !(p > 0 && p <= 100) {
			return c, fmt.Errorf("unknown figure %q: want one of %s", c.figure, figureNames)
		}
		c.pct = p
	}
	if _, err := strconv.ParseFloat(c.shown, 64); err == nil {
		return c, fmt.Errorf("%s %q: want a duration with a unit, such as %sms", c.figure, c.shown, c.shown)
	}
	d, err := time.ParseDuration(c.shown)
	if err != nil || d < 0 {
		return c, fmt.Errorf("%s %q: want a duration such as 20ms, 500us or 1.5s", c.figure, c.shown)
	}
	c.threshold = float64(d)
	return c, nil
}

// conditionResult is a condition checked against a run, as -o json shows
// it.
type conditionResult struct {
	Condition string  `json:"condition"`
	Measured  float64 `json:"measured"` // milliseconds or messages per second
	Unit      string  `json:"unit"`     // "ms" or "msg/s"
	Failed    bool    `json:"failed"`
	Reason    string  `json:"reason,omitempty"` // why a failed condition could not be measured
	line      string  // the line on stderr when it failed
}

// check evaluates the conditions against the run's figures: value returns
// a latency percentile in nanoseconds, and ok is false when no latency
// was measured (a latency condition then fails: nothing shows it holds).
func check(cs []condition, rep *benchReport, value func(pct float64) (ns float64, ok bool)) []conditionResult {
	var out []conditionResult
	for _, c := range cs {
		r := conditionResult{Condition: c.text}
		if c.latency() {
			r.Unit = "ms"
			ns, ok := value(c.pct)
			if !ok {
				r.Failed, r.Reason = true, "no latency measured"
				r.line = fmt.Sprintf("bench: %s not measured (no message after the warm-up): %s", c.figure, c.text)
			} else {
				r.Measured = ns / 1e6
				r.Failed = c.crossed(ns)
				r.line = fmt.Sprintf("bench: %s %s %s %s", c.figure, showDuration(ns), c.op, c.shown)
			}
		} else {
			r.Unit = "msg/s"
			role := rep.Consumers
			if c.figure == "producer_throughput" {
				role = rep.Producers
			}
			r.Measured = role.MsgsPerSec
			r.Failed = c.crossed(role.MsgsPerSec)
			r.line = fmt.Sprintf("bench: %s %.0f msg/s %s %s", c.figure, role.MsgsPerSec, c.op, c.shown)
		}
		out = append(out, r)
	}
	return out
}

// showDuration writes nanoseconds as a duration of three significant
// digits: 23.1ms, 452µs, 1.23s.
func showDuration(ns float64) string {
	d := time.Duration(math.Round(ns))
	if d < 1000 {
		return d.String()
	}
	unit := time.Duration(1)
	for x := d; x >= 1000; x /= 10 {
		unit *= 10
	}
	return d.Round(unit).String()
}
