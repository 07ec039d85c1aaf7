// Package pick chooses the messages that ack, nack and move act on.
package pick

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/dialect"
	"github.com/stompest/stompest/internal/cli/filter"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// Picker takes the messages that a selection names from one queue, for
// the commands that settle or move chosen messages (ack, nack, move): the
// first --count N, every one with --all, the ones with given ids
// (--message-id), headers (--match) or an expression (--filter), or what a broker-side --selector
// picks. It stops when everything asked for was found, after --idle
// without a message or at --timeout.
type Picker struct {
	sel     flags.Selection
	stop    flags.Stop
	matches []flags.HeaderMatch
	filter  *filter.Filter // --filter, nil without
	wanted  []string       // ids asked for and not found yet
	Done    int            // messages acted on

	// Once: act on each message at most once in the run (nack, on brokers
	// that requeue a NACKed message at the head and deliver it again at
	// once): a redelivery of one acted on is held, unsettled, and never
	// handed to act again; the broker gets it back at DISCONNECT.
	Once bool
	// Drained, when not nil, is called when messages were acted on and no
	// other came within drainLinger: move commits its batch there, so that
	// a trickle of messages is not held back, and settle writes its ACKs.
	Drained func() error

	// Browse: look without taking, where the broker can browse (ActiveMQ,
	// the embedded broker: nothing is marked redelivered, and the end of
	// the queue ends the search); elsewhere the messages are received and
	// handed back unsettled at DISCONNECT. act must not settle them.
	Browse bool

	kind     dialect.Kind
	acted    map[string]bool // with Once: the identities of the messages acted on
	browsing bool            // subscribed with browser:true
	ended    bool            // the browse reached the end of the queue
}

// drainLinger is how long the picker waits for a further message before
// it calls Drained. It is short against a COMMIT (ActiveMQ syncs its store
// there: 40-60 ms) and long enough for the reader to parse what the socket
// already holds.
const drainLinger = 5 * time.Millisecond

// ErrSkip, returned by act, says that a selected message was left as it
// is: it is not counted, not printed, and the search goes on.
var ErrSkip = errors.New("skipped")

// New checks the selection and stop flags of the command name.
func New(name string, sel flags.Selection, stop flags.Stop) (*Picker, error) {
	matches, err := sel.Matches()
	if err != nil {
		return nil, cmdutil.WithCode(cmdutil.ExitUsage, err)
	}
	switch {
	case stop.Count < 0:
		return nil, cmdutil.UsageErrorf("--count %d: want 1 or more", stop.Count)
	case stop.Count == 0 && !sel.All && !sel.Picks():
		return nil, cmdutil.UsageErrorf("%s: say which messages: --count N, --all, --message-id, --match, --filter or --selector", name)
	case sel.All && stop.Count > 0:
		return nil, cmdutil.UsageErrorf("--all and --count exclude one another")
	case stop.Idle <= 0:
		return nil, cmdutil.UsageErrorf("--idle must be positive")
	case stop.Timeout < 0:
		return nil, cmdutil.UsageErrorf("--timeout must not be negative")
	}
	var fl *filter.Filter
	if sel.Filter != "" {
		if fl, err = filter.Compile(sel.Filter); err != nil {
			return nil, cmdutil.WithCode(cmdutil.ExitUsage, err)
		}
	}
	return &Picker{sel: sel, stop: stop, matches: matches, filter: fl, wanted: slices.Clone(sel.MessageIDs)}, nil
}

// Subscribe subscribes to dest in client-individual mode, in the broker's
// dialect: the selector (with the ids where the broker selects by id), a
// prefetch of --count when it takes the first N, else 1000.
func (p *Picker) Subscribe(ctx context.Context, c *client.Client, dest string) error {
	kind := cmdutil.KindOf(c)
	p.kind = kind
	selector := p.sel.Selector
	switch {
	case selector != "" && !kind.Selectors():
		return cmdutil.UsageErrorf("--selector: %v ignores selectors and would deliver everything", kind)
	case len(p.sel.MessageIDs) > 0 && !kind.StableMessageIDs():
		return cmdutil.UsageErrorf("--message-id: %v's message ids are per delivery; use --match on a header of yours", kind)
	}
	if ids := kind.MessageIDSelector(p.sel.MessageIDs); ids != "" {
		if selector != "" {
			selector = "(" + selector + ") AND (" + ids + ")"
		} else {
			selector = ids
		}
	}
	var h protocol.Headers
	h.Add(protocol.HdrAck, protocol.AckClientIndividual)
	prefetch := 1000
	if p.stop.Count > 0 && len(p.sel.MessageIDs) == 0 && len(p.matches) == 0 && p.filter == nil {
		prefetch = min(p.stop.Count, 1000)
	}
	kind.Prefetch(&h, prefetch)
	if selector != "" {
		h.Add(protocol.HdrSelector, selector)
	}
	if p.Browse && kind.Browses() {
		dialect.Browse(&h)
		p.browsing = true
	}
	_, err := c.Subscribe(ctx, dest, h)
	return err
}

// Run hands each selected message to act, then writes it to out (when not
// nil), until the selection is complete or a stop condition. It returns
// nil when done, an exit-1 error for ids not found, an exit-75 error when
// --count was not reached.
func (p *Picker) Run(ctx context.Context, c *client.Client, out *msgio.Writer, act func(*client.Message) error) error {
	clock := cmdutil.NewStopClock(p.stop)
	defer clock.Stop()
	fresh := false // acted on since Drained was last called
	// The run is drained when no message came within drainLinger: an
	// empty channel alone does not say so, as the client's reader may hold
	// frames it has not parsed yet (it waits for this goroutine to block).
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	lingering := false
	for !p.complete() {
		if fresh && p.Drained != nil && !lingering && len(c.Messages()) == 0 {
			// Armed only once the hand-over is empty: a backlog is not
			// a timer reset per message.
			linger.Reset(drainLinger)
			lingering = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-linger.C:
			lingering, fresh = false, false
			if err := p.Drained(); err != nil {
				return err
			}
		case <-clock.Deadline():
			return p.finish()
		case <-clock.Idle():
			return p.finish()
		case m, ok := <-c.Messages():
			if !ok {
				if err := c.Err(); err != nil {
					return err
				}
				return p.finish()
			}
			clock.Touch()
			if lingering {
				linger.Stop()
				lingering = false
			}
			if p.browsing && dialect.BrowseEnd(m.Frame) {
				p.ended = true
				return p.finish()
			}
			if !p.selected(m) {
				continue
			}
			key := p.identity(m)
			if p.again(m, key) {
				continue // held: never settled twice in one run
			}
			if len(p.sel.MessageIDs) > 0 {
				i := slices.Index(p.wanted, m.Header(protocol.HdrMessageID))
				if i < 0 {
					continue // a second delivery of one already taken
				}
				p.wanted = slices.Delete(p.wanted, i, i+1)
			}
			if err := act(m); errors.Is(err, ErrSkip) {
				continue
			} else if err != nil {
				return err
			}
			fresh = true
			if p.Once {
				if p.acted == nil {
					p.acted = map[string]bool{}
				}
				p.acted[key] = true
			}
			p.Done++
			if out != nil {
				err := out.Write(int64(p.Done), m.Frame)
				if err == nil {
					err = out.Flush()
				}
				if err != nil && !msgio.IsClosedPipe(err) {
					return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("write stdout: %w", err))
				}
			}
		}
	}
	return nil
}

// complete reports whether everything asked for was found.
func (p *Picker) complete() bool {
	return (p.stop.Count > 0 && p.Done >= p.stop.Count) || (len(p.sel.MessageIDs) > 0 && len(p.wanted) == 0)
}

// finish is the outcome of a search that stopped before it was complete.
func (p *Picker) finish() error {
	if len(p.wanted) > 0 {
		return cmdutil.WithCode(cmdutil.ExitFailed, fmt.Errorf("message-id not found: %s", strings.Join(p.wanted, ", ")))
	}
	if p.stop.Count > 0 && p.Done < p.stop.Count && !(p.Browse && p.ended) {
		return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("--count not reached: %d of %d", p.Done, p.stop.Count))
	}
	return nil
}

// selected reports whether m is one of the messages asked for.
func (p *Picker) selected(m *client.Message) bool {
	if len(p.sel.MessageIDs) > 0 && !slices.Contains(p.sel.MessageIDs, m.Header(protocol.HdrMessageID)) {
		return false
	}
	for _, hm := range p.matches {
		if v, ok := m.Lookup(hm.Name); !ok || v != hm.Value {
			return false
		}
	}
	return p.filter == nil || p.filter.Match(m.Frame)
}

// identity names m across its deliveries (with Once only).
func (p *Picker) identity(m *client.Message) string {
	if !p.Once {
		return ""
	}
	return p.kind.Identity(m.Frame)
}

// again reports whether m, named key, is a redelivery of a message acted
// on in this run.
func (p *Picker) again(m *client.Message, key string) bool {
	return p.acted[key] && dialect.Again(m.Frame, key)
}
