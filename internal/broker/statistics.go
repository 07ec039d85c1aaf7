package broker

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/stompest/stompest/internal/protocol"
)

// Statistics over STOMP, as ActiveMQ's statistics broker plugin answers
// them: a SEND with a reply-to header to
//
//	/queue/ActiveMQ.Statistics.Destination.PATTERN  (or /topic/...)
//	/queue/ActiveMQ.Statistics.Broker               (or /topic/...)
//
// is a question, not a message: nothing is stored under that name. The
// broker publishes to the reply-to destination one message per queue and
// topic whose name (without /queue/ or /topic/) matches PATTERN, or one
// with the broker's totals. The figures are headers named as ActiveMQ's
// map keys, and the same again as a JSON object in the body. When no
// destination matches, one reply says so with HdrStatisticsEmpty, which
// ActiveMQ does not send, so that a client can tell "no such destination"
// from "no answer".
//
// Listed are the queues and topics named /queue/NAME and /topic/NAME that
// the broker has at the moment: a queue from its first SEND or SUBSCRIBE
// until it is empty and has no subscriber, a topic while it has
// subscriptions (durable ones too). A destination's counts go with it.
// Temporary destinations, other names and the statistics destinations
// are never listed, and the broker's totals are the sums over what is
// listed (plus the counts of the destinations deleted since the start).

// The statistics destinations, after /queue/ or /topic/.
const (
	statsDestination = "ActiveMQ.Statistics.Destination"
	statsBroker      = "ActiveMQ.Statistics.Broker"
)

// HdrStatisticsEmpty marks the one reply to a statistics request that no
// destination matched: "true", and no figures.
const HdrStatisticsEmpty = "statistics-empty"

// The headers of a statistics request that matter.
const (
	hdrReplyTo       = "reply-to"
	hdrCorrelationID = "correlation-id"
)

// destStats counts what went through a destination. The counters are
// changed under b.mu, on paths that hold it anyway.
type destStats struct {
	enqueued   uint64 // messages stored in it
	dequeued   uint64 // messages removed: acknowledged, written to an ack:auto subscriber, dead-lettered
	dispatched uint64 // deliveries made
}

func (s *destStats) add(o *destStats) {
	s.enqueued += o.enqueued
	s.dequeued += o.dequeued
	s.dispatched += o.dispatched
}

// topicStats returns the counts of the topic dest, which its
// subscriptions' queues share. Called with b.mu held.
func (b *Broker) topicStats(dest string) *destStats {
	if qs := b.topics[dest]; len(qs) > 0 {
		return qs[0].st
	}
	return new(destStats)
}

// retire keeps the counts of the destination of q, which is being
// deleted, for the broker's totals. Called with b.mu held.
func (b *Broker) retire(q *queue) {
	if _, ok := listedName(q.name); ok && q.st != nil {
		b.retired.add(q.st)
	}
}

// statsName returns the name of dest without its /queue/ or /topic/
// prefix; ok is false for any other destination.
func statsName(dest string) (name string, topic, ok bool) {
	if name, ok := strings.CutPrefix(dest, "/queue/"); ok {
		return name, false, true
	}
	if name, ok := strings.CutPrefix(dest, "/topic/"); ok {
		return name, true, true
	}
	return "", false, false
}

// statsRequest reports whether dest is a statistics destination, and
// which: the broker's totals (whole), or the destinations matching
// pattern ("" for the bare ActiveMQ.Statistics.Destination: none).
func statsRequest(dest string) (pattern string, whole, ok bool) {
	name, _, ok := statsName(dest)
	if !ok || !strings.HasPrefix(name, "ActiveMQ.Statistics.") {
		return "", false, false
	}
	switch {
	case name == statsBroker:
		return "", true, true
	case name == statsDestination:
		return "", false, true
	}
	if p, ok := strings.CutPrefix(name, statsDestination+"."); ok {
		return p, false, true
	}
	return "", false, false
}

// listedName returns the name statistics give dest, queue://NAME or
// topic://NAME, and whether dest is listed at all.
func listedName(dest string) (string, bool) {
	name, topic, ok := statsName(dest)
	if !ok {
		return "", false
	}
	if _, _, stats := statsRequest(dest); stats {
		return "", false
	}
	if topic {
		return "topic://" + name, true
	}
	return "queue://" + name, true
}

// matchPattern reports whether name matches an ActiveMQ destination
// wildcard: segments separated by '.', '*' for one segment, '>' as the
// last segment for one or more.
func matchPattern(pattern, name string) bool {
	if pattern == "" {
		return false
	}
	for {
		p, prest, pmore := strings.Cut(pattern, ".")
		if p == ">" && !pmore {
			return true // name has at least this segment
		}
		n, nrest, nmore := strings.Cut(name, ".")
		if p != "*" && p != n {
			return false
		}
		if !pmore || !nmore {
			return pmore == nmore
		}
		pattern, name = prest, nrest
	}
}

// figures are one destination's statistics.
type figures struct {
	name      string // queue://NAME or topic://NAME
	size      int    // messages held: waiting and delivered unacknowledged
	consumers int
	inflight  int // delivered, not yet acknowledged
	destStats
}

// addQueue adds what the queue q holds and who takes from it to f.
func (f *figures) addQueue(q *queue) {
	f.size += q.msgs.len()
	f.consumers += len(q.subs)
	for _, s := range q.subs {
		f.size += len(s.unacked)
		f.inflight += len(s.unacked)
	}
}

// destinations returns the figures of every listed destination, sorted
// by name. Called with b.mu held.
func (b *Broker) destinations() []figures {
	var out []figures
	for dest, q := range b.queues {
		if name, ok := listedName(dest); ok {
			f := figures{name: name, destStats: *q.st}
			f.addQueue(q)
			out = append(out, f)
		}
	}
	for dest, qs := range b.topics {
		if name, ok := listedName(dest); ok && len(qs) > 0 {
			f := figures{name: name, destStats: *qs[0].st}
			for _, q := range qs {
				f.addQueue(q)
			}
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(x, y figures) int { return strings.Compare(x.name, y.name) })
	return out
}

// statistics answers a statistics request (a SEND to req, with headers
// hs) on its reply-to destination: the figures of the destinations
// matching pattern, or the broker's totals (whole). A request without
// reply-to is ignored, as ActiveMQ ignores it. Called with b.mu held.
func (b *Broker) statistics(req, pattern string, whole bool, hs protocol.Headers) error {
	replyTo, _ := hs.Get(hdrReplyTo)
	if replyTo == "" {
		b.logf("statistics request to %s without reply-to: ignored", req)
		return nil
	}
	if _, _, stats := statsRequest(replyTo); stats {
		b.logf("statistics request to %s replying to %s, a statistics destination: ignored", req, replyTo)
		return nil
	}
	all := b.destinations()
	var replies []protocol.Headers
	switch {
	case whole:
		var sum figures
		sum.destStats = b.retired
		for _, f := range all {
			sum.size += f.size
			sum.consumers += f.consumers
			sum.inflight += f.inflight
			sum.add(&f.destStats)
		}
		replies = append(replies, protocol.Headers{
			{Name: "brokerName", Value: "stompest"},
			{Name: "size", Value: strconv.Itoa(sum.size)},
			{Name: "consumerCount", Value: strconv.Itoa(sum.consumers)},
			{Name: "enqueueCount", Value: strconv.FormatUint(sum.enqueued, 10)},
			{Name: "dequeueCount", Value: strconv.FormatUint(sum.dequeued, 10)},
			{Name: "dispatchCount", Value: strconv.FormatUint(sum.dispatched, 10)},
			{Name: "inflightCount", Value: strconv.Itoa(sum.inflight)},
			{Name: "destinationCount", Value: strconv.Itoa(len(all))},
		})
	default:
		for _, f := range all {
			_, short, _ := strings.Cut(f.name, "://")
			if !matchPattern(pattern, short) {
				continue
			}
			replies = append(replies, protocol.Headers{
				{Name: "destinationName", Value: f.name},
				{Name: "size", Value: strconv.Itoa(f.size)},
				{Name: "consumerCount", Value: strconv.Itoa(f.consumers)},
				{Name: "enqueueCount", Value: strconv.FormatUint(f.enqueued, 10)},
				{Name: "dequeueCount", Value: strconv.FormatUint(f.dequeued, 10)},
				{Name: "dispatchCount", Value: strconv.FormatUint(f.dispatched, 10)},
				{Name: "inflightCount", Value: strconv.Itoa(f.inflight)},
			})
		}
	}
	corr, hasCorr := hs.Get(hdrCorrelationID)
	if len(replies) == 0 {
		h := protocol.Headers{{Name: HdrStatisticsEmpty, Value: "true"}}
		if hasCorr {
			h = append(h, protocol.Header{Name: hdrCorrelationID, Value: corr})
		}
		return b.publish(replyTo, h, nil)
	}
	for _, figs := range replies {
		body := statsJSON(figs)
		h := append(figs, protocol.Header{Name: protocol.HdrContentType, Value: "application/json"})
		if hasCorr {
			h = append(h, protocol.Header{Name: hdrCorrelationID, Value: corr})
		}
		if err := b.publish(replyTo, h, body); err != nil {
			return err
		}
	}
	return nil
}

// statsJSON returns the figures of a reply as a JSON object, in their
// order: the names as strings, the counts as numbers.
func statsJSON(figs protocol.Headers) []byte {
	out := []byte{'{'}
	for i, h := range figs {
		if i > 0 {
			out = append(out, ',')
		}
		key, _ := json.Marshal(h.Name)
		out = append(out, key...)
		out = append(out, ':')
		if h.Name == "destinationName" || h.Name == "brokerName" {
			v, _ := json.Marshal(h.Value)
			out = append(out, v...)
		} else {
			out = append(out, h.Value...)
		}
	}
	return append(out, '}')
}
