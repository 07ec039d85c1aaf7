// Package dialect holds what stompest does differently per broker: the
// broker kind read from CONNECTED's server header, and per kind the
// prefetch, durable-subscription, browsing, selector and temporary-queue
// rules, and the rule for which headers a copy of a message keeps. A new
// broker quirk goes here, as a method of Kind, and docs/BROKERS.md names
// the test that pins it.
package dialect

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stompest/stompest/internal/protocol"
)

// Kind is a kind of broker.
type Kind int

// The kinds of broker stompest knows. Unknown gets every dialect at once
// where that is harmless (both prefetch headers, both durable dialects).
const (
	Unknown Kind = iota
	Stompest
	ActiveMQ
	RabbitMQ
	Artemis
)

// Of returns the kind of the broker whose CONNECTED frame carried the
// server header server.
func Of(server string) Kind {
	s := strings.ToLower(server)
	switch {
	case strings.Contains(s, "rabbitmq"):
		return RabbitMQ
	case strings.Contains(s, "artemis"):
		return Artemis
	case strings.Contains(s, "activemq"):
		return ActiveMQ
	case strings.HasPrefix(s, "stompest/"):
		return Stompest
	}
	return Unknown
}

// String returns the kind's name as users know it.
func (k Kind) String() string {
	switch k {
	case Stompest:
		return "stompest"
	case ActiveMQ:
		return "ActiveMQ"
	case RabbitMQ:
		return "RabbitMQ"
	case Artemis:
		return "Artemis"
	}
	return "unknown"
}

// Prefetch adds to h the headers that limit the unacknowledged messages
// the broker sends ahead to n: ActiveMQ's activemq.prefetchSize and
// RabbitMQ's prefetch-count (both for a broker of unknown kind; the
// embedded broker honours both).
func (k Kind) Prefetch(h *protocol.Headers, n int) {
	v := strconv.Itoa(n)
	if k != RabbitMQ {
		h.Add("activemq.prefetchSize", v)
	}
	if k != ActiveMQ {
		h.Add("prefetch-count", v)
	}
}

// Durable adds to h the SUBSCRIBE headers of the durable topic
// subscription name: ActiveMQ's activemq.subscriptionName (with CONNECT's
// client-id), RabbitMQ's durable:true and auto-delete:false.
func (k Kind) Durable(h *protocol.Headers, name string) {
	h.Add(protocol.HdrID, name)
	if k != RabbitMQ {
		h.Add("activemq.subscriptionName", name)
	}
	if k != ActiveMQ {
		h.Add("durable", "true")
		h.Add("auto-delete", "false")
	}
}

// DurableRemoval returns the UNSUBSCRIBE headers that destroy the durable
// subscription name with its messages.
func (k Kind) DurableRemoval(name string) protocol.Headers {
	var h protocol.Headers
	if k != RabbitMQ {
		h.Add("activemq.subscriptionName", name)
	}
	if k != ActiveMQ {
		h.Add("durable", "true")
	}
	return h
}

// Browses reports whether the broker browses a queue (browser:true ...
// browser:end) without consuming and without marking messages redelivered.
func (k Kind) Browses() bool { return k == ActiveMQ || k == Stompest }

// Browse adds to h the SUBSCRIBE header of a browsing subscription
// (ActiveMQ's browser:true, which the embedded broker follows).
func Browse(h *protocol.Headers) { h.Add("browser", "true") }

// BrowseEnd reports whether f is the MESSAGE that ends a browse
// (browser:end, no body of its own).
func BrowseEnd(f *protocol.Frame) bool { return f.Header("browser") == "end" }

// Selectors reports whether the broker implements SUBSCRIBE selectors.
// RabbitMQ ignores them and would deliver everything.
func (k Kind) Selectors() bool { return k != RabbitMQ }

// StableMessageIDs reports whether a message keeps its message-id across
// deliveries and sessions. RabbitMQ's are per delivery.
func (k Kind) StableMessageIDs() bool { return k != RabbitMQ }

// Identity names the message of f across its deliveries: its message-id
// where the broker keeps it stable, else a digest of its destination, the
// headers a copy keeps and its body (RabbitMQ numbers deliveries, not
// messages; two messages alike in all of these are one to stompest).
func (k Kind) Identity(f *protocol.Frame) string {
	if id := f.Header(protocol.HdrMessageID); id != "" && k.StableMessageIDs() {
		return "id:" + id
	}
	h := sha256.New()
	h.Write([]byte(f.Header(protocol.HdrDestination)))
	for _, hd := range Copy(f.Headers, false) {
		fmt.Fprintf(h, "\x00%s\x00%s", hd.Name, hd.Value)
	}
	h.Write([]byte{0})
	h.Write(f.Body)
	return "sum:" + hex.EncodeToString(h.Sum(nil))
}

// Again reports whether f, whose Identity is id, is a redelivery of a
// message seen before under id. A digest alone could be another message
// alike: then only a delivery the broker marks redelivered counts.
func Again(f *protocol.Frame, id string) bool {
	return strings.HasPrefix(id, "id:") || f.Header("redelivered") == "true"
}

// DeliveryCount returns how often the broker says it delivered f's
// message before, where it says so: RabbitMQ's x-delivery-count (quorum
// queues).
func DeliveryCount(f *protocol.Frame) (int, bool) {
	n, err := strconv.Atoi(f.Header("x-delivery-count"))
	return n, err == nil && n >= 0
}

// MessageIDSelector returns a selector that picks the messages with the
// given ids on the broker, where the broker can ("" elsewhere: stompest
// then matches them itself).
func (k Kind) MessageIDSelector(ids []string) string {
	if k != ActiveMQ || len(ids) == 0 {
		return ""
	}
	terms := make([]string, len(ids))
	for i, id := range ids {
		terms[i] = "JMSMessageID = '" + strings.ReplaceAll(id, "'", "''") + "'"
	}
	return strings.Join(terms, " OR ")
}

// CreatesTempQueueSubscription reports whether the broker subscribes a
// connection to a /temp-queue/ named in a SEND's reply-to by itself
// (RabbitMQ), instead of waiting for a SUBSCRIBE.
func (k Kind) CreatesTempQueueSubscription() bool { return k == RabbitMQ }

// frameHeaders belong to the frame that carried a message, not to the
// message: a copy never takes them. RabbitMQ passes a SEND's receipt header
// on to the MESSAGE it delivers; sending it again would ask for a receipt
// nobody asked for.
var frameHeaders = map[string]bool{
	protocol.HdrReceipt: true, protocol.HdrTransaction: true,
	protocol.HdrContentLength: true, protocol.HdrDestination: true,
}

// brokerHeaders are set by the broker on delivery: a copy sent anew
// leaves them to the broker that takes it, unless they are kept on
// purpose (--keep-headers).
var brokerHeaders = map[string]bool{
	protocol.HdrMessageID: true, protocol.HdrSubscription: true, protocol.HdrAck: true,
	"redelivered": true, "timestamp": true, "expires": true,
}

// Copied reports whether a copy of a message sent anew (move, --on-error
// forward, send --input jsonl, transaction records) keeps the header name:
// never the frame's own headers; the broker-stamped ones only when keep.
func Copied(name string, keep bool) bool {
	return !frameHeaders[name] && (keep || !brokerHeaders[name])
}

// Copy returns the headers of hs that a copy keeps, in order.
func Copy(hs protocol.Headers, keep bool) protocol.Headers {
	out := make(protocol.Headers, 0, len(hs)+2)
	for _, h := range hs {
		if Copied(h.Name, keep) {
			out = append(out, h)
		}
	}
	return out
}

// DeadLetter is what a broker says of a message it dead-lettered: the
// destination the message died in, and why, where it says so.
type DeadLetter struct {
	Origin string // a destination to send to, "" when the broker named none
	Reason string // "" when the broker gives none
}

// The headers of dead letters, per broker. ActiveMQ (and the embedded
// broker, which follows it) names the origin as a STOMP destination;
// RabbitMQ names the queue of the first death (its x-death table is not
// carried over STOMP), sent back through /amq/queue/ so that the queue is
// used as it is, never declared again with other arguments; Artemis names
// the address.
const (
	hdrOriginalDestination = "original-destination"    // ActiveMQ, stompest
	hdrDeadLetterReason    = "dead-letter-reason"      // stompest
	hdrActiveMQCause       = "dlqDeliveryFailureCause" // ActiveMQ, where it passes it on
	hdrRabbitFirstQueue    = "x-first-death-queue"     // RabbitMQ
	hdrRabbitFirstReason   = "x-first-death-reason"    // RabbitMQ
	hdrArtemisOrigAddress  = "_AMQ_ORIG_ADDRESS"       // Artemis
	hdrStompestMoves       = "stompest-moves"          // move's own count
	hdrStompestMoveRun     = "stompest-move-run"       // the run of move that moved it last
)

// deadLetterHeaders are the headers brokers add to a dead letter: a
// message sent back to its origin leaves them behind, alive again.
var deadLetterHeaders = map[string]bool{
	hdrOriginalDestination: true, hdrDeadLetterReason: true, hdrActiveMQCause: true,
	"originalExpiration": true, "original-message-id": true,
	hdrRabbitFirstQueue: true, hdrRabbitFirstReason: true, "x-first-death-exchange": true,
	"x-last-death-queue": true, "x-last-death-reason": true, "x-last-death-exchange": true, "x-death": true,
	hdrArtemisOrigAddress: true, "_AMQ_ORIG_QUEUE": true, "_AMQ_ORIG_MESSAGE_ID": true, "_AMQ_ORIG_ROUTING_TYPE": true,
}

// DeadLetterOf reads the origin and the reason of a dead letter in the
// broker's dialect (every dialect in turn for a broker of unknown kind).
func (k Kind) DeadLetterOf(f *protocol.Frame) DeadLetter {
	var d DeadLetter
	if k == ActiveMQ || k == Stompest || k == Unknown {
		d.Origin = f.Header(hdrOriginalDestination)
		d.Reason = f.Header(hdrDeadLetterReason)
		if d.Reason == "" {
			d.Reason = f.Header(hdrActiveMQCause)
		}
	}
	if (k == RabbitMQ || k == Unknown) && d.Origin == "" {
		if q := f.Header(hdrRabbitFirstQueue); q != "" {
			d.Origin = "/amq/queue/" + q
			d.Reason = f.Header(hdrRabbitFirstReason)
		}
	}
	if (k == Artemis || k == Unknown) && d.Origin == "" {
		d.Origin = f.Header(hdrArtemisOrigAddress)
	}
	return d
}

// Revived returns the headers of hs that a dead letter sent back to its
// origin keeps: those a copy keeps, without the broker's dead-letter marks.
func Revived(hs protocol.Headers, keep bool) protocol.Headers {
	out := Copy(hs, keep)
	return slices.DeleteFunc(out, func(h protocol.Header) bool { return deadLetterHeaders[h.Name] })
}

// Moves returns how often move moved f's message before, by the header it
// stamps on every copy it sends.
func Moves(f *protocol.Frame) int {
	n, err := strconv.Atoi(f.Header(hdrStompestMoves))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// StampMove marks a copy of f, in hs, as moved by the run of move named
// run: the move count one more than f's, and the run.
func StampMove(hs *protocol.Headers, f *protocol.Frame, run string) {
	hs.Set(hdrStompestMoves, strconv.Itoa(Moves(f)+1))
	hs.Set(hdrStompestMoveRun, run)
}

// MovedBy reports whether f's message was last moved by the run of move
// named run: it came back to where that run takes messages from.
func MovedBy(f *protocol.Frame, run string) bool {
	return f.Header(hdrStompestMoveRun) == run
}

// Canary returns a private destination for a round trip of one message
// on one connection, and the headers its SUBSCRIBE needs. Most brokers
// take a /temp-queue/ as a destination of their own; RabbitMQ accepts one
// in reply-to only, so there it is a queue that RabbitMQ deletes when the
// subscription ends.
func (k Kind) Canary(id string) (dest string, subscribe protocol.Headers) {
	if k == RabbitMQ {
		return "/queue/stompest.canary." + id, protocol.Headers{
			{Name: "auto-delete", Value: "true"}, {Name: "durable", Value: "false"}, {Name: "exclusive", Value: "true"},
		}
	}
	return "/temp-queue/stompest-canary-" + id, nil
}
