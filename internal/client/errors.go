package client

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stompest/stompest/internal/protocol"
)

// Sentinel errors of the client. Match them with errors.Is.
var (
	// ErrConnectionLost: the connection ended after CONNECTED and was not
	// recovered.
	ErrConnectionLost = errors.New("connection lost")
	// ErrHeartBeatLost: nothing came from the broker for twice the
	// negotiated heart-beat interval.
	ErrHeartBeatLost = errors.New("heart-beat lost")
	// ErrReceiptTimeout: a RECEIPT did not come in time.
	ErrReceiptTimeout = errors.New("receipt not confirmed in time")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("client closed")
	// ErrConnectedTimeout: the broker accepted the connection but did not
	// answer CONNECT in time.
	ErrConnectedTimeout = errors.New("no CONNECTED in time")
	// ErrTransactionLost: the connection a transaction was begun on was
	// lost, and the transaction with it: the broker aborted it, nothing of
	// it takes effect, and it cannot go on over another connection.
	ErrTransactionLost = errors.New("its connection was lost, and the transaction with it")
	// ErrCommitUnconfirmed: a COMMIT was sent and its receipt did not
	// come (a loss, a timeout, the caller gave up): whether the broker
	// committed is unknown. Never follow it with ABORT.
	ErrCommitUnconfirmed = errors.New("COMMIT sent but not confirmed")
)

// BrokerError is an ERROR frame the broker sent after CONNECTED.
type BrokerError struct {
	Frame *protocol.Frame
}

func (e *BrokerError) Error() string {
	text := protocol.ErrorText(e.Frame)
	if text == "" {
		text = "no message"
	}
	return "broker error: " + text
}

// RefusedError is an ERROR frame that answered CONNECT: the broker refused
// the connection (bad login, unknown virtual host, not authorized, or no
// common version when the frame carries a version header).
type RefusedError struct {
	Broker  string
	Frame   *protocol.Frame
	Offered []protocol.Version // the versions CONNECT offered
}

func (e *RefusedError) Error() string {
	text := protocol.ErrorText(e.Frame)
	if text == "" {
		text = "no message"
	}
	msg := "connect refused by " + e.Broker + ": " + text
	if hint := e.Hint(); hint != "" {
		msg += " (hint: " + hint + ")"
	}
	return msg
}

// VersionRefused reports whether the refusal is the spec's failed version
// negotiation: an ERROR whose version header lists none of the versions
// offered. RabbitMQ puts its versions on every ERROR answering CONNECT, a
// refused login too, so the header alone does not tell.
func (e *RefusedError) VersionRefused() bool {
	list, ok := e.Frame.Headers.Get(protocol.HdrVersion)
	if !ok {
		return false
	}
	for _, s := range strings.Split(list, ",") {
		v, err := protocol.ParseVersion(strings.TrimSpace(s))
		if err == nil && slices.Contains(e.Offered, v) {
			return false
		}
	}
	return true
}

// Hint suggests a fix for a refusal whose cause is recognisable.
func (e *RefusedError) Hint() string {
	text := strings.ToLower(protocol.ErrorText(e.Frame))
	switch {
	case strings.Contains(text, "virtual host") || strings.Contains(text, "vhost"):
		return "--vhost /"
	case e.VersionRefused():
		return "--stomp-version " + e.Frame.Header(protocol.HdrVersion)
	}
	return ""
}

// Attempt is one failed connection attempt of the initial connect.
type Attempt struct {
	Broker string
	Err    error
}

// UnreachableError is the end of the initial connect: no broker answered
// CONNECT before the budget or the attempts ran out.
type UnreachableError struct {
	Attempts []Attempt
	Reason   string // why the connect stopped: "timeout after 30s", "3 attempts"
}

func (e *UnreachableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no broker reachable (%s)", e.Reason)
	// One entry per broker: its last error and how often it was tried.
	type tally struct {
		err   error
		times int
	}
	var order []string
	last := map[string]*tally{}
	for _, a := range e.Attempts {
		t, ok := last[a.Broker]
		if !ok {
			t = &tally{}
			last[a.Broker] = t
			order = append(order, a.Broker)
		}
		t.err, t.times = a.Err, t.times+1
	}
	for i, broker := range order {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		t := last[broker]
		fmt.Fprintf(&b, "%s%s: %v", sep, broker, t.err)
		if t.times > 1 {
			fmt.Fprintf(&b, " (%d attempts)", t.times)
		}
	}
	return b.String()
}

// TLSVerifyFailed reports whether the last attempts failed on the broker's
// certificate.
func (e *UnreachableError) TLSVerifyFailed() bool {
	for _, a := range e.Attempts {
		if isCertError(a.Err) {
			return true
		}
	}
	return false
}
