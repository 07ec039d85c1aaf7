package check

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/stats"
)

// threshold is one --depth DEST<=W[,C] or --consumers DEST>=W[,C]: a
// figure of DEST that must stay at most (depth) or at least (consumers)
// a level; crossing warn is WARNING, crossing crit CRITICAL.
type threshold struct {
	dest       string
	atMost     bool // depth: at most; consumers: at least
	warn, crit int64
	hasWarn    bool
}

// parseThreshold parses spec with the operator op ("<=" or ">=").
func parseThreshold(flag, spec, op string) (threshold, error) {
	dest, levels, ok := strings.Cut(spec, op)
	if !ok || dest == "" || levels == "" {
		return threshold{}, cmdutil.UsageErrorf("--%s %q: want DEST%sN, or DEST%sWARN,CRIT", flag, spec, op, op)
	}
	if err := stats.ValidPattern(dest); err != nil {
		return threshold{}, cmdutil.UsageErrorf("--%s %q: %v", flag, spec, err)
	}
	t := threshold{dest: dest, atMost: op == "<="}
	w, c, two := strings.Cut(levels, ",")
	parse := func(s string) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 0 {
			return 0, cmdutil.UsageErrorf("--%s %q: %q is not a count", flag, spec, s)
		}
		return n, nil
	}
	var err error
	if !two {
		t.crit, err = parse(w)
		return t, err
	}
	if t.warn, err = parse(w); err != nil {
		return t, err
	}
	if t.crit, err = parse(c); err != nil {
		return t, err
	}
	t.hasWarn = true
	if (t.atMost && t.warn > t.crit) || (!t.atMost && t.warn < t.crit) {
		return t, cmdutil.UsageErrorf("--%s %q: the warning level must come before the critical one", flag, spec)
	}
	return t, nil
}

// judge returns the state of the figure what of dest against t, and why.
func (t threshold) judge(dest, what string, n int64) (state, string) {
	crossed := func(level int64) bool {
		if t.atMost {
			return n > level
		}
		return n < level
	}
	cmp := ">"
	if !t.atMost {
		cmp = "<"
	}
	switch {
	case crossed(t.crit):
		return critical, fmt.Sprintf("%s %s %d %s %d", dest, what, n, cmp, t.crit)
	case t.hasWarn && crossed(t.warn):
		return warning, fmt.Sprintf("%s %s %d %s %d", dest, what, n, cmp, t.warn)
	}
	return ok, ""
}

// levels is the threshold in Nagios perfdata form: "warn;crit".
func (t threshold) levels() string {
	if t.hasWarn {
		return strconv.FormatInt(t.warn, 10) + ";" + strconv.FormatInt(t.crit, 10)
	}
	return ";" + strconv.FormatInt(t.crit, 10)
}

// parseExpiry parses --cert-expiry W[,C]: durations, with d for days.
func parseExpiry(spec string) (warn, crit time.Duration, err error) {
	if spec == "" {
		return 0, 0, nil
	}
	w, c, two := strings.Cut(spec, ",")
	if warn, err = parseDays(w); err != nil {
		return 0, 0, cmdutil.UsageErrorf("--cert-expiry %q: %v", spec, err)
	}
	if !two {
		return warn, 0, nil
	}
	if crit, err = parseDays(c); err != nil {
		return 0, 0, cmdutil.UsageErrorf("--cert-expiry %q: %v", spec, err)
	}
	if crit > warn {
		return 0, 0, cmdutil.UsageErrorf("--cert-expiry %q: the warning level must be the longer one", spec)
	}
	return warn, crit, nil
}

// parseDays is a duration that may be given in days ("14d").
func parseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q: want a duration such as 14d or 72h", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a duration such as 14d or 72h", s)
	}
	return d, nil
}
