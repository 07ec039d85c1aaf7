package failover

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalidURI is the error every parse failure matches with errors.Is: a
// malformed URI, broker or option. The command line maps it to exit code 64.
// On its own it marks a problem with the URI as a whole (an empty broker list,
// unbalanced parentheses).
var ErrInvalidURI = errors.New("invalid failover URI")

// Kinds of parse failure. A *URIError wraps one of them, and every one of
// them also matches ErrInvalidURI.
var (
	ErrInvalidBroker = errors.New("invalid broker")
	ErrInvalidOption = errors.New("invalid failover option")
	ErrUnknownOption = errors.New("unknown failover option")
)

// URIError is a parse failure. It names the offending part of the URI as
// written, says what is wrong with it and, where one helps, suggests a fix.
// It reads "<kind> <part>: <detail> (<hint>)", the part quoted unless it is
// a plain word, for example `invalid broker "tcp://a": missing port` or
// "unknown failover option randomise (did you mean randomize?)".
type URIError struct {
	Err    error  // ErrInvalidURI, ErrInvalidBroker, ErrInvalidOption or ErrUnknownOption
	Part   string // the offending part of the URI, as written
	Detail string // what is wrong with it; may be empty
	Hint   string // a suggestion; may be empty
}

// Error returns the message "<kind> <part>: <detail> (<hint>)".
func (e *URIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	b.WriteByte(' ')
	b.WriteString(quotePart(e.Part))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap returns the kind of the failure.
func (e *URIError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidURI, which every URIError matches.
func (e *URIError) Is(target error) bool { return target == ErrInvalidURI }

// quotePart quotes a part of a URI in a message unless it is a plain word
// (letters, digits, ".", "_", "-"), so that its bounds are clear even when it
// is empty, ends with ":" or holds spaces.
func quotePart(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-')
	}) {
		return strconv.Quote(s)
	}
	return s
}
