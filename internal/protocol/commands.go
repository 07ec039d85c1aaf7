package protocol

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// HeartBeatSpec is the heart-beat intervals of one side (STOMP 1.2
// "Heart-beating"): Send is the
// smallest interval at which that side can send heart-beats (cx or sx),
// Receive the interval at which it wants to receive them (cy or sy). Zero
// means never.
type HeartBeatSpec struct {
	Send, Receive time.Duration
}

// String returns the header value, "cx,cy" in milliseconds.
func (h HeartBeatSpec) String() string {
	return strconv.FormatInt(millis(h.Send), 10) + "," + strconv.FormatInt(millis(h.Receive), 10)
}

// millis rounds d up to whole milliseconds, so that a positive interval
// never becomes 0 (which would mean "never").
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// ParseHeartBeat parses a heart-beat header value: two non-negative
// integers in milliseconds separated by a comma; spaces around them are
// tolerated.
func ParseHeartBeat(s string) (HeartBeatSpec, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return HeartBeatSpec{}, fmt.Errorf("%w: %q: want two integers", ErrInvalidHeartBeat, s)
	}
	x, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 31)
	y, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 31)
	if err1 != nil || err2 != nil {
		return HeartBeatSpec{}, fmt.Errorf("%w: %q: want two non-negative integers", ErrInvalidHeartBeat, s)
	}
	return HeartBeatSpec{time.Duration(x) * time.Millisecond, time.Duration(y) * time.Millisecond}, nil
}

// NegotiateHeartBeat returns the negotiated intervals from the client's
// view: send is how often the client must send something, expect how often
// it may expect something from the server; 0 means not at all. Each is
// 0 when either side says 0, else the larger of the two values.
func NegotiateHeartBeat(client, server HeartBeatSpec) (send, expect time.Duration) {
	return negotiate(client.Send, server.Receive), negotiate(client.Receive, server.Send)
}

// HeartBeatTolerance is how many negotiated intervals a peer may stay
// silent before it is declared dead; see SilenceLimit.
const HeartBeatTolerance = 2

// SilenceLimit is how long a peer that should beat every interval may stay
// silent: HeartBeatTolerance intervals after a heart-beat, half an interval
// more after a frame. Peers beat when a tick of their own interval timer
// finds that they wrote nothing since the last one, so after a frame their
// next beat may come up to two intervals later (ActiveMQ, RabbitMQ): two
// would be the very limit, and a busy peer oversteps it.
func SilenceLimit(interval time.Duration, afterFrame bool) time.Duration {
	if afterFrame {
		return HeartBeatTolerance*interval + interval/2
	}
	return HeartBeatTolerance * interval
}

// FrameEnd reports whether a heart-beat read sinceFrame after a frame is
// that frame's own end rather than a beat: peers such as ActiveMQ write an
// EOL after a frame's NUL, which reads as a heart-beat. A peer beats only
// when a tick of its interval found nothing written since the tick before
// (the embedded broker: once nothing was written for half an interval), so
// a real beat never follows a frame by less than half an interval. Such an
// EOL leaves the silence limit at its after-a-frame value.
func FrameEnd(sinceFrame, interval time.Duration) bool {
	return interval > 0 && sinceFrame < interval/2
}

func negotiate(a, b time.Duration) time.Duration {
	if a == 0 || b == 0 {
		return 0
	}
	return max(a, b)
}

// ConnectOptions are the parameters of a CONNECT or STOMP frame.
type ConnectOptions struct {
	Versions  []Version      // offered versions; nil offers 1.0, 1.1 and 1.2
	Host      string         // the host header (a virtual host)
	Login     string         // login; passcode is sent when either is set
	Passcode  string         // passcode
	HeartBeat *HeartBeatSpec // nil: no heart-beat header
	Headers   Headers        // further headers, written after the standard ones
	Stomp     bool           // use the STOMP command instead of CONNECT (1.1+)
}

// Connect builds a CONNECT frame, or a STOMP frame with o.Stomp (STOMP 1.2
// "CONNECT or STOMP Frame"). accept-version and host are sent unless only
// 1.0 is offered; heart-beating and the STOMP command need a version
// above 1.0.
func Connect(o ConnectOptions) (*Frame, error) {
	versions := o.Versions
	if len(versions) == 0 {
		versions = Versions
	}
	for _, v := range versions {
		if v < V10 || v > V12 {
			return nil, fmt.Errorf("%w: %s", ErrUnsupportedVersion, v)
		}
	}
	versions = slices.Compact(slices.Sorted(slices.Values(versions)))
	only10 := len(versions) == 1 && versions[0] == V10
	cmd := CmdConnect
	if o.Stomp {
		if only10 {
			return nil, fmt.Errorf("STOMP command: %w (1.0)", ErrNotSupported)
		}
		cmd = CmdStomp
	}
	f := &Frame{Command: cmd, Headers: make(Headers, 0, 6+len(o.Headers))}
	if !only10 {
		names := make([]string, len(versions))
		for i, v := range versions {
			names[i] = v.String()
		}
		f.Headers.Add(HdrAcceptVersion, strings.Join(names, ","))
		f.Headers.Add(HdrHost, o.Host)
	} else if o.Host != "" {
		f.Headers.Add(HdrHost, o.Host)
	}
	if o.Login != "" || o.Passcode != "" {
		f.Headers.Add(HdrLogin, o.Login)
		f.Headers.Add(HdrPasscode, o.Passcode)
	}
	if o.HeartBeat != nil {
		if only10 {
			return nil, fmt.Errorf("heart-beating: %w (1.0)", ErrNotSupported)
		}
		if o.HeartBeat.Send < 0 || o.HeartBeat.Receive < 0 {
			return nil, fmt.Errorf("%w: negative interval", ErrInvalidHeartBeat)
		}
		f.Headers.Add(HdrHeartBeat, o.HeartBeat.String())
	}
	for _, h := range o.Headers {
		if !f.Headers.Has(h.Name) {
			f.Headers = append(f.Headers, h)
		}
	}
	return f, nil
}

// Connected is what a CONNECTED frame says.
type Connected struct {
	Version   Version
	Server    string
	Session   string
	HeartBeat HeartBeatSpec // the server's sx, sy
}

// ParseConnected reads the broker's answer to CONNECT (STOMP 1.2 "Protocol
// Negotiation"). When only 1.0 was offered the version is 1.0 whatever the
// frame says; otherwise a missing version header means 1.0, and a version
// that was not offered is ErrVersionMismatch.
func ParseConnected(f *Frame, offered []Version) (Connected, error) {
	if f.Command != CmdConnected {
		return Connected{}, fmt.Errorf("%w: %s, expected CONNECTED", ErrUnexpectedCommand, f.Command)
	}
	if len(offered) == 0 {
		offered = Versions
	}
	c := Connected{Version: V10, Session: f.Header(HdrSession)}
	if slices.Max(offered) == V10 {
		return c, nil
	}
	if s, ok := f.Lookup(HdrVersion); ok {
		v, err := ParseVersion(s)
		if err != nil {
			return Connected{}, fmt.Errorf("%w: server chose %q, offered %s", ErrVersionMismatch, s, versionList(offered))
		}
		c.Version = v
	}
	if !slices.Contains(offered, c.Version) {
		return Connected{}, fmt.Errorf("%w: server chose %s, offered %s", ErrVersionMismatch, c.Version, versionList(offered))
	}
	if c.Version == V10 {
		return c, nil
	}
	c.Server = f.Header(HdrServer)
	if s, ok := f.Lookup(HdrHeartBeat); ok {
		hb, err := ParseHeartBeat(s)
		if err != nil {
			return Connected{}, err
		}
		c.HeartBeat = hb
	}
	return c, nil
}

func versionList(vs []Version) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.String()
	}
	return strings.Join(names, ",")
}

// withReceipt makes receipt the frame's one receipt header when it is set.
func withReceipt(f *Frame, receipt string) *Frame {
	if receipt != "" {
		f.Headers.Set(HdrReceipt, receipt)
	}
	return f
}

// Send builds a SEND frame (STOMP 1.2 "SEND"). dest replaces any
// destination among headers; the Writer computes content-length.
func Send(dest string, body []byte, headers Headers, receipt string) *Frame {
	a := new(frameAlloc) // the frame and up to eight headers in one allocation
	a.f.Headers = a.h[:0]
	SendTo(&a.f, dest, body, headers, receipt)
	return &a.f
}

// SendTo is Send into f, reusing the storage of its headers: a sender of
// many messages builds each in the same frame.
func SendTo(f *Frame, dest string, body []byte, headers Headers, receipt string) {
	f.Reset()
	f.Command, f.Body = CmdSend, body
	f.Headers = slices.Grow(f.Headers, len(headers)+2)
	f.Headers.Add(HdrDestination, dest)
	for _, h := range headers {
		if h.Name != HdrDestination && h.Name != HdrContentLength {
			f.Headers = append(f.Headers, h)
		}
	}
	withReceipt(f, receipt)
}

var idCounter atomic.Uint64

// NewID returns a process-unique identifier: prefix, a dash and a number.
func NewID(prefix string) string {
	return prefix + "-" + strconv.FormatUint(idCounter.Add(1), 10)
}

// Subscribe builds a SUBSCRIBE frame (STOMP 1.2 "SUBSCRIBE") and returns it
// with the subscription id: the id among headers, or a generated one when
// there is none (in every version, so that MESSAGE frames always name their
// subscription).
func Subscribe(dest string, headers Headers, receipt string) (*Frame, string) {
	id, ok := headers.Get(HdrID)
	if !ok || id == "" {
		id = NewID("sub")
	}
	f := &Frame{Command: CmdSubscribe, Headers: make(Headers, 0, len(headers)+3)}
	f.Headers.Add(HdrDestination, dest)
	f.Headers.Add(HdrID, id)
	for _, h := range headers {
		if h.Name != HdrDestination && h.Name != HdrID {
			f.Headers = append(f.Headers, h)
		}
	}
	return withReceipt(f, receipt), id
}

// Unsubscribe builds an UNSUBSCRIBE frame for subscription id (STOMP 1.2
// "UNSUBSCRIBE").
func Unsubscribe(id, receipt string) (*Frame, error) {
	if id == "" {
		return nil, fmt.Errorf("UNSUBSCRIBE: %w: id", ErrMissingHeader)
	}
	return withReceipt(NewFrame(CmdUnsubscribe, HdrID, id), receipt), nil
}

// UnsubscribeDestination builds a 1.0 UNSUBSCRIBE by destination, for a
// subscription made without an id; 1.1 and later need the id.
func UnsubscribeDestination(dest, receipt string, v Version) (*Frame, error) {
	if v != V10 {
		return nil, fmt.Errorf("UNSUBSCRIBE by destination: %w (%s)", ErrNotSupported, v)
	}
	return withReceipt(NewFrame(CmdUnsubscribe, HdrDestination, dest), receipt), nil
}

// Ack builds the ACK of a received MESSAGE in version v (STOMP 1.2 "ACK"):
// 1.0 and 1.1 name message-id and subscription, 1.2 sends the MESSAGE's ack
// header as id. transaction, when set, puts the ACK in that transaction.
func Ack(msg *Frame, v Version, transaction, receipt string) (*Frame, error) {
	return settle(CmdAck, msg, v, transaction, receipt)
}

// Nack is Ack for NACK, which 1.0 does not have.
func Nack(msg *Frame, v Version, transaction, receipt string) (*Frame, error) {
	if v == V10 {
		return nil, fmt.Errorf("NACK: %w (1.0)", ErrNotSupported)
	}
	return settle(CmdNack, msg, v, transaction, receipt)
}

func settle(cmd Command, msg *Frame, v Version, transaction, receipt string) (*Frame, error) {
	if msg.Command != CmdMessage {
		return nil, fmt.Errorf("%s: %w: %s, expected MESSAGE", cmd, ErrUnexpectedCommand, msg.Command)
	}
	f := &Frame{Command: cmd, Headers: make(Headers, 0, 4)}
	if v == V12 {
		id, ok := msg.Lookup(HdrAck)
		if !ok {
			return nil, fmt.Errorf("%s: %w: the MESSAGE has no ack header", cmd, ErrMissingHeader)
		}
		f.Headers.Add(HdrID, id)
	} else {
		id, ok := msg.Lookup(HdrMessageID)
		if !ok {
			return nil, fmt.Errorf("%s: %w: the MESSAGE has no message-id", cmd, ErrMissingHeader)
		}
		f.Headers.Add(HdrMessageID, id)
		sub, ok := msg.Lookup(HdrSubscription)
		if !ok && v != V10 {
			return nil, fmt.Errorf("%s: %w: the MESSAGE has no subscription", cmd, ErrMissingHeader)
		}
		if ok {
			f.Headers.Add(HdrSubscription, sub)
		}
	}
	if transaction != "" {
		f.Headers.Add(HdrTransaction, transaction)
	}
	return withReceipt(f, receipt), nil
}

// Begin builds BEGIN of transaction tx (STOMP 1.2 "BEGIN").
func Begin(tx, receipt string) (*Frame, error) { return txFrame(CmdBegin, tx, receipt) }

// Commit builds COMMIT of transaction tx (STOMP 1.2 "COMMIT").
func Commit(tx, receipt string) (*Frame, error) { return txFrame(CmdCommit, tx, receipt) }

// Abort builds ABORT of transaction tx (STOMP 1.2 "ABORT").
func Abort(tx, receipt string) (*Frame, error) { return txFrame(CmdAbort, tx, receipt) }

func txFrame(cmd Command, tx, receipt string) (*Frame, error) {
	if tx == "" {
		return nil, fmt.Errorf("%s: %w: transaction", cmd, ErrMissingHeader)
	}
	return withReceipt(NewFrame(cmd, HdrTransaction, tx), receipt), nil
}

// Disconnect builds DISCONNECT (STOMP 1.2 "DISCONNECT").
func Disconnect(receipt string) *Frame {
	return withReceipt(NewFrame(CmdDisconnect), receipt)
}

// Message checks a MESSAGE frame (STOMP 1.2 "MESSAGE") and returns the
// subscription it belongs to. A 1.0 MESSAGE may lack the subscription
// header; then "" is returned.
func Message(f *Frame, v Version) (subscription string, err error) {
	if f.Command != CmdMessage {
		return "", fmt.Errorf("%w: %s, expected MESSAGE", ErrUnexpectedCommand, f.Command)
	}
	// One pass over the headers: this runs for every message received.
	var dest, id, named bool
	var sub string
	for i := range f.Headers {
		switch h := &f.Headers[i]; h.Name {
		case HdrDestination:
			dest = true
		case HdrMessageID:
			id = true
		case HdrSubscription:
			if !named {
				sub, named = h.Value, true
			}
		}
	}
	switch {
	case !dest:
		return "", fmt.Errorf("MESSAGE: %w: %s", ErrMissingHeader, HdrDestination)
	case !id:
		return "", fmt.Errorf("MESSAGE: %w: %s", ErrMissingHeader, HdrMessageID)
	case !named && v != V10:
		return "", fmt.Errorf("MESSAGE: %w: %s", ErrMissingHeader, HdrSubscription)
	}
	return sub, nil
}

// Receipt checks a RECEIPT frame (STOMP 1.2 "RECEIPT") and returns its
// receipt-id.
func Receipt(f *Frame) (string, error) {
	if f.Command != CmdReceipt {
		return "", fmt.Errorf("%w: %s, expected RECEIPT", ErrUnexpectedCommand, f.Command)
	}
	id, ok := f.Lookup(HdrReceiptID)
	if !ok {
		return "", fmt.Errorf("RECEIPT: %w: %s", ErrMissingHeader, HdrReceiptID)
	}
	return id, nil
}

// ErrorText summarises an ERROR frame in one line (STOMP 1.2 "ERROR"): its
// message header and the first non-empty line of its body, or "" when the
// frame is not an ERROR.
func ErrorText(f *Frame) string {
	if f.Command != CmdError {
		return ""
	}
	msg := strings.TrimSpace(f.Header(HdrMessage))
	var first string
	for line := range strings.SplitSeq(string(f.Body), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			first = line
			break
		}
	}
	switch {
	case msg == "":
		return first
	case first == "" || first == msg:
		return msg
	}
	return msg + ": " + first
}
