// Package protocol is the STOMP wire layer: frames, a streaming Reader and a
// buffered Writer for STOMP 1.0, 1.1 and 1.2, and one stateless function per
// STOMP command. It performs no network I/O of its own and knows nothing of
// sessions or connections.
package protocol

import (
	"fmt"
	"strings"
)

// Command is a STOMP frame command (STOMP 1.2 "Frames and Headers").
type Command string

// Client commands (STOMP 1.2 "Client Frames").
const (
	CmdConnect     Command = "CONNECT"
	CmdStomp       Command = "STOMP"
	CmdSend        Command = "SEND"
	CmdSubscribe   Command = "SUBSCRIBE"
	CmdUnsubscribe Command = "UNSUBSCRIBE"
	CmdAck         Command = "ACK"
	CmdNack        Command = "NACK"
	CmdBegin       Command = "BEGIN"
	CmdCommit      Command = "COMMIT"
	CmdAbort       Command = "ABORT"
	CmdDisconnect  Command = "DISCONNECT"
)

// Server commands (STOMP 1.2 "Server Frames").
const (
	CmdConnected Command = "CONNECTED"
	CmdMessage   Command = "MESSAGE"
	CmdReceipt   Command = "RECEIPT"
	CmdError     Command = "ERROR"
)

// HeartBeat is the pseudo-command of a heart-beat: an EOL received between
// frames (STOMP 1.2 "Heart-beating"). It never appears on the wire as a
// command; the Reader reports heart-beats with it so that a heart-beat is
// never mistaken for an empty frame.
const HeartBeat Command = "heart-beat"

// Header names used by the protocol (STOMP 1.2 "Standard Headers").
const (
	HdrAcceptVersion = "accept-version"
	HdrAck           = "ack"
	HdrContentLength = "content-length"
	HdrContentType   = "content-type"
	HdrDestination   = "destination"
	HdrHeartBeat     = "heart-beat"
	HdrHost          = "host"
	HdrID            = "id"
	HdrLogin         = "login"
	HdrMessage       = "message"
	HdrMessageID     = "message-id"
	HdrPasscode      = "passcode"
	HdrReceipt       = "receipt"
	HdrReceiptID     = "receipt-id"
	HdrSelector      = "selector"
	HdrServer        = "server"
	HdrSession       = "session"
	HdrSubscription  = "subscription"
	HdrTransaction   = "transaction"
	HdrVersion       = "version"
)

// Ack modes of a subscription (STOMP 1.2 "SUBSCRIBE ack Header").
const (
	AckAuto             = "auto"
	AckClient           = "client"
	AckClientIndividual = "client-individual"
)

// Version is a STOMP protocol version. The zero value, VersionUnknown, is
// the state of a connection before CONNECTED: the Reader then accepts every
// command and either line ending, and the Writer escapes as 1.2 does.
type Version uint8

// Protocol versions, in ascending order.
const (
	VersionUnknown Version = iota
	V10
	V11
	V12
)

// Versions lists the supported versions in ascending order.
var Versions = []Version{V10, V11, V12}

// String returns the version as it appears on the wire ("1.2").
func (v Version) String() string {
	switch v {
	case V10:
		return "1.0"
	case V11:
		return "1.1"
	case V12:
		return "1.2"
	}
	return "unknown"
}

// ParseVersion parses "1.0", "1.1" or "1.2".
func ParseVersion(s string) (Version, error) {
	switch s {
	case "1.0":
		return V10, nil
	case "1.1":
		return V11, nil
	case "1.2":
		return V12, nil
	}
	return VersionUnknown, fmt.Errorf("%w: %q", ErrUnsupportedVersion, s)
}

// Header is one header line of a frame, unescaped.
type Header struct {
	Name  string
	Value string
}

// Headers is the ordered header list of a frame. Duplicates are kept as
// they came; lookups return the first occurrence (STOMP 1.2 "Repeated
// Header Entries").
type Headers []Header

// Get returns the value of the first header called name and whether there
// is one.
func (h Headers) Get(name string) (string, bool) {
	for i := range h {
		if h[i].Name == name {
			return h[i].Value, true
		}
	}
	return "", false
}

// Value returns the value of the first header called name, or "".
func (h Headers) Value(name string) string {
	v, _ := h.Get(name)
	return v
}

// Has reports whether a header called name is present.
func (h Headers) Has(name string) bool {
	_, ok := h.Get(name)
	return ok
}

// Add appends a header, keeping any earlier one of the same name.
func (h *Headers) Add(name, value string) {
	*h = append(*h, Header{name, value})
}

// Set makes value the one value of name: the first occurrence is replaced in
// place and later duplicates are removed; a missing header is appended. Like
// Del it rewrites h's backing array, so a slice sharing it sees the change.
func (h *Headers) Set(name, value string) {
	hs := *h
	for i := range hs {
		if hs[i].Name == name {
			hs[i].Value = value
			out := hs[:i+1]
			for _, x := range hs[i+1:] {
				if x.Name != name {
					out = append(out, x)
				}
			}
			*h = out
			return
		}
	}
	*h = append(hs, Header{name, value})
}

// Del removes every header called name, compacting h in place.
func (h *Headers) Del(name string) {
	out := (*h)[:0]
	for _, x := range *h {
		if x.Name != name {
			out = append(out, x)
		}
	}
	*h = out
}

// Clone returns a copy that shares no storage with h.
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	out := make(Headers, len(h))
	for i, x := range h {
		out[i] = Header{strings.Clone(x.Name), strings.Clone(x.Value)}
	}
	return out
}

// Frame is one STOMP frame: a command, its ordered headers and a body.
//
// A frame filled by Reader.ReadFrame shares storage with the Reader's
// buffers; that storage is never overwritten, so the frame stays valid as
// long as it is referenced. Clone compacts it into storage of its own.
type Frame struct {
	Command Command
	Headers Headers
	Body    []byte
}

// NewFrame returns a frame with the given command and headers given as
// name, value pairs.
func NewFrame(cmd Command, nameValues ...string) *Frame {
	f := &Frame{Command: cmd}
	if len(nameValues) > 0 {
		f.Headers = make(Headers, 0, len(nameValues)/2)
		for i := 0; i+1 < len(nameValues); i += 2 {
			f.Headers = append(f.Headers, Header{nameValues[i], nameValues[i+1]})
		}
	}
	return f
}

// IsHeartBeat reports whether f stands for a heart-beat rather than a frame.
func (f *Frame) IsHeartBeat() bool { return f.Command == HeartBeat }

// Header returns the value of the first header called name, or "".
func (f *Frame) Header(name string) string { return f.Headers.Value(name) }

// Lookup returns the value of the first header called name and whether
// there is one.
func (f *Frame) Lookup(name string) (string, bool) { return f.Headers.Get(name) }

// Clone returns a deep copy of f that shares no storage with it.
func (f *Frame) Clone() *Frame {
	c := &Frame{Command: f.Command, Headers: f.Headers.Clone()}
	if f.Body != nil {
		c.Body = append([]byte(nil), f.Body...)
	}
	return c
}

// Reset empties f for reuse, keeping the capacity of its header list.
func (f *Frame) Reset() {
	f.Command = ""
	f.Headers = f.Headers[:0]
	f.Body = nil
}

// String summarises f for logs: the command, the headers and at most the
// first 20 bytes of the body.
func (f *Frame) String() string {
	if f.IsHeartBeat() {
		return "heart-beat"
	}
	var b strings.Builder
	b.WriteString(string(f.Command))
	for _, h := range f.Headers {
		fmt.Fprintf(&b, " %s:%q", h.Name, h.Value)
	}
	if len(f.Body) > 0 {
		const show = 20
		if len(f.Body) > show {
			fmt.Fprintf(&b, " body=%q... (%d bytes)", f.Body[:show], len(f.Body))
		} else {
			fmt.Fprintf(&b, " body=%q", f.Body)
		}
	}
	return b.String()
}

// commands10 and commands11 are the commands of STOMP 1.0 and of 1.1 and
// 1.2.
var (
	commands10 = []Command{CmdConnect, CmdSend, CmdSubscribe, CmdUnsubscribe, CmdAck,
		CmdBegin, CmdCommit, CmdAbort, CmdDisconnect, CmdConnected, CmdMessage, CmdReceipt, CmdError}
	commands11 = append([]Command{CmdStomp, CmdNack}, commands10...)
)

// ValidCommand reports whether cmd is a command of version v (every command
// when v is VersionUnknown).
func ValidCommand(v Version, cmd Command) bool {
	list := commands11
	if v == V10 {
		list = commands10
	}
	for _, c := range list {
		if c == cmd {
			return true
		}
	}
	return false
}

// BodyAllowed reports whether a frame of cmd may carry a body in version v.
// In 1.0 every frame may; from 1.1 only SEND, MESSAGE and ERROR (STOMP 1.2
// "Body").
func BodyAllowed(v Version, cmd Command) bool {
	if v == V10 {
		return true
	}
	return cmd == CmdSend || cmd == CmdMessage || cmd == CmdError
}

// escaped reports whether the headers of cmd are escaped in version v: never
// in 1.0, never for CONNECT and CONNECTED (STOMP 1.2 "Value Encoding").
func escaped(v Version, cmd Command) bool {
	return v != V10 && cmd != CmdConnect && cmd != CmdConnected
}
