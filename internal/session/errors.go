package session

import (
	"errors"
	"strconv"
	"strings"

	"github.com/stompest/stompest/internal/protocol"
)

// Sentinel errors of the session. The methods return them wrapped in a
// *StateError, an *IDError or a *RefusedError; match them with errors.Is.
var (
	ErrIllegalTransition     = errors.New("illegal transition")
	ErrDuplicateReceipt      = errors.New("duplicate receipt")
	ErrUnknownReceipt        = errors.New("unknown receipt")
	ErrDuplicateSubscription = errors.New("duplicate subscription")
	ErrUnknownSubscription   = errors.New("unknown subscription")
	ErrTransactionActive     = errors.New("transaction already active")
	ErrUnknownTransaction    = errors.New("unknown transaction")
	ErrAutoAck               = errors.New("subscription has ack mode auto")
	ErrRefused               = errors.New("connect refused")
)

// StateError is an operation attempted in a state that does not allow it.
// It matches ErrIllegalTransition.
type StateError struct {
	Op      string  // what was attempted: "send", "handle RECEIPT", ...
	State   State   // the state the session was in
	Allowed []State // the states in which Op is allowed
}

func (e *StateError) Error() string {
	names := make([]string, len(e.Allowed))
	for i, s := range e.Allowed {
		names[i] = s.String()
	}
	return "cannot " + e.Op + " in state " + e.State.String() + " (only in " + strings.Join(names, " or ") + ")"
}

// Is reports whether target is ErrIllegalTransition.
func (e *StateError) Is(target error) bool { return target == ErrIllegalTransition }

// IDError is a bookkeeping error about one receipt, subscription or
// transaction: Err is one of the sentinels (ErrDuplicateReceipt,
// ErrUnknownSubscription, ...) and ID names the culprit.
type IDError struct {
	Err error
	ID  string
}

func (e *IDError) Error() string { return e.Err.Error() + " " + strconv.Quote(e.ID) }

// Unwrap returns the sentinel error.
func (e *IDError) Unwrap() error { return e.Err }

// RefusedError is an ERROR frame that answered CONNECT (STOMP 1.2
// "CONNECTED Frame": the server may reject the connection attempt). It
// matches ErrRefused.
type RefusedError struct {
	Frame *protocol.Frame
}

func (e *RefusedError) Error() string {
	if text := protocol.ErrorText(e.Frame); text != "" {
		return ErrRefused.Error() + ": " + text
	}
	return ErrRefused.Error()
}

// Is reports whether target is ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
