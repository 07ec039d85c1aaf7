package protocol

import (
	"errors"
	"fmt"
)

// Sentinel errors of the wire layer. A *FrameError wraps one of the first
// group; the command functions return the second group, wrapped with detail.
// Match them with errors.Is.
var (
	ErrInvalidCommand       = errors.New("invalid command")
	ErrMalformedHeader      = errors.New("malformed header")
	ErrInvalidEscape        = errors.New("undefined escape sequence")
	ErrInvalidEncoding      = errors.New("header is not valid UTF-8")
	ErrInvalidContentLength = errors.New("invalid content-length")
	ErrBodyNotAllowed       = errors.New("body not allowed")
	ErrMissingNul           = errors.New("frame not terminated by NUL")
	ErrFrameTooLarge        = errors.New("frame body too large")
	ErrLineTooLong          = errors.New("header line too long")
	ErrTooManyHeaders       = errors.New("too many headers")
	ErrUnencodable          = errors.New("header cannot be encoded")
	ErrNulInBody            = errors.New("body holds NUL and has no content-length")
)

// Errors of the command functions.
var (
	ErrUnsupportedVersion = errors.New("unsupported STOMP version")
	ErrVersionMismatch    = errors.New("server version incompatible with accepted versions")
	ErrNotSupported       = errors.New("not supported in this STOMP version")
	ErrMissingHeader      = errors.New("missing header")
	ErrUnexpectedCommand  = errors.New("unexpected command")
	ErrInvalidHeartBeat   = errors.New("invalid heart-beat")
)

// FrameError is a malformed frame found by the Reader. Offset is the byte
// offset in the stream where the problem was found, Line the 1-based line of
// the frame on which it lies (the command is line 1).
//
// When a limit of the Reader was exceeded (ErrLineTooLong, ErrTooManyHeaders,
// ErrFrameTooLarge), Limit is that limit, as Limits holds it, and Detail
// says it, so that the error can name the setting that raises it.
type FrameError struct {
	Offset int64
	Line   int
	Err    error  // one of the sentinels above
	Detail string // the offending text or value, quoted, or the limit exceeded
	Limit  int64  // the limit exceeded; 0 when the frame is malformed
}

func (e *FrameError) Error() string {
	msg := fmt.Sprintf("malformed frame at offset %d, line %d: %v", e.Offset, e.Line, e.Err)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel error.
func (e *FrameError) Unwrap() error { return e.Err }
