// Package stats reads the figures of a broker's destinations (depth,
// consumers, enqueued and dequeued counts, the age of the oldest message)
// through the channel each broker offers: a statistics destination over
// STOMP (the embedded broker, ActiveMQ's statistics plugin), or an HTTP
// API (RabbitMQ's management plugin). STOMP itself has no such frames.
package stats

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
)

// Figures are one destination's statistics. A nil figure is one the
// broker does not give: shown as "—" or null, never as a made-up zero.
type Figures struct {
	Destination string `json:"destination"`
	Depth       *int64 `json:"depth"`
	Consumers   *int64 `json:"consumers"`
	Enqueued    *int64 `json:"enqueued"`
	Dequeued    *int64 `json:"dequeued"`
	OldestMS    *int64 `json:"oldest_ms"`
}

// Source reads figures.
type Source interface {
	// Stat returns the figures of the destinations that match one of
	// patterns (a glob over destination names, see Match), or of every
	// destination the channel can list when patterns is empty. A pattern
	// without glob characters names one destination: when the broker
	// does not know it, Stat fails with an *UnknownError.
	Stat(ctx context.Context, patterns []string) ([]Figures, error)
	// Channel names the channel, for messages: "the statistics plugin of
	// ActiveMQ", "the management API at http://...".
	Channel() string
}

// UnknownError is a destination the broker does not know.
type UnknownError struct{ Destination, Channel string }

func (e *UnknownError) Error() string {
	return e.Destination + ": no such destination (" + e.Channel + ")"
}

// IsGlob reports whether a pattern holds glob characters.
func IsGlob(pattern string) bool { return strings.ContainsAny(pattern, `*?[\`) }

// Match reports whether the destination name matches pattern: path.Match,
// where * stops at a slash but not at a dot ('/queue/orders.*').
func Match(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// ValidPattern reports whether pattern is a well-formed glob.
func ValidPattern(pattern string) error {
	_, err := path.Match(pattern, "")
	return err
}

// selected keeps the figures whose destination matches one of patterns
// (all of them without patterns), and reports as unknown the first plain
// name that matched none.
func selected(all []Figures, patterns []string, channel string) ([]Figures, error) {
	slices.SortFunc(all, func(a, b Figures) int { return strings.Compare(a.Destination, b.Destination) })
	if len(patterns) == 0 {
		return all, nil
	}
	var out []Figures
	taken := map[string]bool{}
	for _, p := range patterns {
		found := false
		for _, f := range all {
			if Match(p, f.Destination) {
				found = true
				if !taken[f.Destination] {
					taken[f.Destination] = true
					out = append(out, f)
				}
			}
		}
		if !found && !IsGlob(p) {
			return nil, &UnknownError{Destination: p, Channel: channel}
		}
	}
	return out, nil
}

// StatKnown is src.Stat for each pattern in turn, where a plain
// destination the broker does not know holds nothing and has no consumer
// (the embedded broker forgets a queue once it is empty and unsubscribed;
// the others create one when it is first used): its figures say so, and
// unknown names it, as it may also be a misspelt name.
func StatKnown(ctx context.Context, src Source, patterns []string) (figs []Figures, unknown []string, err error) {
	taken := map[string]bool{}
	for _, p := range patterns {
		f, err := src.Stat(ctx, []string{p})
		var ue *UnknownError
		if errors.As(err, &ue) {
			unknown = append(unknown, p)
			f = []Figures{{Destination: p, Depth: ptr(0), Consumers: ptr(0)}}
		} else if err != nil {
			return nil, nil, err
		}
		for _, x := range f {
			if !taken[x.Destination] {
				taken[x.Destination] = true
				figs = append(figs, x)
			}
		}
	}
	return figs, unknown, nil
}

func ptr(n int64) *int64 { return &n }
