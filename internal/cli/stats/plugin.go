package stats

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// The statistics destinations of ActiveMQ's statistics broker plugin,
// which the embedded broker answers too.
const (
	destinationStats = "/queue/ActiveMQ.Statistics.Destination."
	brokerStats      = "/queue/ActiveMQ.Statistics.Broker"
)

// Plugin reads statistics over STOMP: a SEND to a statistics destination
// with reply-to is answered with one message per destination (ActiveMQ's
// statistics plugin, the embedded broker). The answer has no end of its
// own, so a request for the broker's figures follows it: its reply, which
// comes last, ends the answer.
type Plugin struct {
	C *client.Client
	// MapJSON asks for replies as JSON (ActiveMQ sends map messages, made
	// readable with transformation:jms-map-json); else the figures are
	// read from the replies' headers (the embedded broker).
	MapJSON bool
	// Wait is how long the answer may take: no answer at all means that
	// the broker has no statistics channel (ActiveMQ's plugin is off).
	Wait time.Duration
	// Name is the broker's name in messages ("ActiveMQ").
	Name string
	// Hint says what to do when the broker does not answer.
	Hint string
}

// Channel names the channel.
func (p *Plugin) Channel() string { return p.Name + "'s statistics destinations" }

// Stat asks for every destination's figures and keeps those that match.
func (p *Plugin) Stat(ctx context.Context, patterns []string) ([]Figures, error) {
	var id [6]byte
	rand.Read(id[:])
	replyTo := "/temp-queue/stompest-stat-" + hex.EncodeToString(id[:])
	var h protocol.Headers
	if p.MapJSON {
		h.Add("transformation", "jms-map-json")
	}
	sub, err := p.C.Subscribe(ctx, replyTo, h)
	if err != nil {
		return nil, err
	}
	defer p.C.Unsubscribe(sub, nil)
	opts := client.SendOptions{Headers: protocol.Headers{{Name: "reply-to", Value: replyTo}}}
	if _, err := p.C.Send(destinationStats+">", nil, opts); err != nil {
		return nil, err
	}
	if _, err := p.C.Send(brokerStats, nil, opts); err != nil {
		return nil, err
	}
	if err := p.C.Flush(); err != nil {
		return nil, err
	}
	wait := p.Wait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var all []Figures
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			if len(all) == 0 {
				return nil, &ChannelError{Channel: p.Channel(), Err: fmt.Errorf("no answer within %v", wait), Hint: p.Hint}
			}
			return nil, &ChannelError{Channel: p.Channel(), Err: fmt.Errorf("the answer did not end within %v", wait)}
		case m, ok := <-p.C.Messages():
			if !ok {
				if err := p.C.Err(); err != nil {
					return nil, err
				}
				return nil, client.ErrConnectionLost
			}
			if m.Header(protocol.HdrSubscription) != sub {
				continue
			}
			fields, err := p.fields(m.Frame)
			if err != nil {
				return nil, &ChannelError{Channel: p.Channel(), Err: err}
			}
			_, broker := fields["brokerName"]
			if _, dest := fields["destinationName"]; broker && !dest {
				// The broker's own figures: the answer is complete.
				return selected(all, patterns, p.Channel())
			}
			if f, ok := figuresOf(fields); ok {
				all = append(all, f)
			}
		}
	}
}

// fields reads a reply's figures: from the JSON of a map message, else
// from its headers.
func (p *Plugin) fields(f *protocol.Frame) (map[string]string, error) {
	if !p.MapJSON {
		out := map[string]string{}
		for _, h := range f.Headers {
			if _, seen := out[h.Name]; !seen {
				out[h.Name] = h.Value
			}
		}
		return out, nil
	}
	return mapJSON(f.Body)
}

// mapJSON reads a map message in ActiveMQ's jms-map-json form:
// {"map":{"entry":[{"string":"size","long":3},{"string":["k","v"]},...]}}
// (a string value is the second of a pair, any other value stands beside
// its key). An empty map comes as {"map":""} or {"map":{}}.
func mapJSON(body []byte) (map[string]string, error) {
	var doc struct {
		Map json.RawMessage `json:"map"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("a reply that is not a JSON map message: %v", err)
	}
	out := map[string]string{}
	var m struct {
		Entry json.RawMessage `json:"entry"`
	}
	if len(doc.Map) == 0 || doc.Map[0] != '{' || json.Unmarshal(doc.Map, &m) != nil || len(m.Entry) == 0 {
		return out, nil
	}
	var entries []map[string]json.RawMessage
	if m.Entry[0] == '{' { // one entry is not an array
		var one map[string]json.RawMessage
		if err := json.Unmarshal(m.Entry, &one); err != nil {
			return nil, fmt.Errorf("a map entry: %v", err)
		}
		entries = append(entries, one)
	} else if err := json.Unmarshal(m.Entry, &entries); err != nil {
		return nil, fmt.Errorf("map entries: %v", err)
	}
	for _, e := range entries {
		var pair []string
		if json.Unmarshal(e["string"], &pair) == nil && len(pair) == 2 {
			out[pair[0]] = pair[1]
			continue
		}
		var key string
		if json.Unmarshal(e["string"], &key) != nil {
			continue
		}
		for name, v := range e {
			if name == "string" {
				continue
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				out[key] = s
			} else {
				out[key] = string(bytes.TrimSpace(v))
			}
		}
	}
	return out, nil
}

// figuresOf makes figures of a destination's reply; ok is false for what
// is not a destination stat would show (temporary destinations, the
// statistics destinations, ActiveMQ's advisory topics).
func figuresOf(fields map[string]string) (Figures, bool) {
	name := fields["destinationName"]
	kind, rest, found := strings.Cut(name, "://")
	if !found || (kind != "queue" && kind != "topic") || strings.HasPrefix(rest, "ActiveMQ.Statistics.") ||
		strings.HasPrefix(rest, "ActiveMQ.Advisory.") {
		return Figures{}, false
	}
	f := Figures{Destination: "/" + kind + "/" + rest}
	f.Depth = number(fields, "size")
	f.Consumers = number(fields, "consumerCount")
	f.Enqueued = number(fields, "enqueueCount")
	f.Dequeued = number(fields, "dequeueCount")
	return f, true
}

func number(fields map[string]string, key string) *int64 {
	v, ok := fields[key]
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil {
			return nil
		}
		n = int64(f)
	}
	return &n
}
