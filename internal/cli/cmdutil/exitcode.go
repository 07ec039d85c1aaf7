package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// Exit codes (PRODUCT.md §8; sysexits.h where one fits).
const (
	ExitOK          = 0
	ExitFailed      = 1   // what the user asked for did not happen
	ExitUsage       = 64  // bad flag, argument, URI or combination
	ExitDataErr     = 65  // bad input data
	ExitNoInput     = 66  // input file missing or unreadable
	ExitUnavailable = 69  // no broker reachable before CONNECTED
	ExitSoftware    = 70  // internal error
	ExitIOErr       = 74  // I/O error on stdin or stdout
	ExitTempFail    = 75  // timeout or loss after CONNECTED
	ExitProtocol    = 76  // ERROR after CONNECTED, malformed frame, version mismatch, heart-beat lost
	ExitNoPerm      = 77  // an ERROR frame answered CONNECT
	ExitConfig      = 78  // bad configuration
	ExitSIGHUP      = 129 // interrupted by SIGHUP after a clean shutdown
	ExitSIGINT      = 130 // interrupted by SIGINT after a clean shutdown
	ExitSIGTERM     = 143 // interrupted by SIGTERM after a clean shutdown
)

// ExitCodes documents every exit code; `stompest help exit-codes` prints it.
var ExitCodes = []struct {
	Code int
	When string
}{
	{ExitOK, "done"},
	{ExitFailed, "what was asked for did not happen (message not found, expectation unmet, handler failed with --on-error stop, a bench --fail-if condition met)"},
	{ExitUsage, "usage: bad flag or argument, malformed URI, unknown failover option, refused combination"},
	{ExitDataErr, "bad input data: malformed JSON line, NUL body with --text, oversize record"},
	{ExitNoInput, "input file missing or unreadable"},
	{ExitUnavailable, "no broker reachable before the first CONNECTED, or its TLS certificate failed verification; stompest broker cannot listen"},
	{ExitSoftware, "internal error"},
	{ExitIOErr, "I/O error on stdin or stdout (not a closed pipe), or on a file written (bench --histogram, man)"},
	{ExitTempFail, "timeout or loss after CONNECTED: receipt not confirmed, --count not reached, connection lost"},
	{ExitProtocol, "protocol: ERROR frame after CONNECTED, malformed frame, version mismatch, heart-beat lost"},
	{ExitNoPerm, "an ERROR frame answered CONNECT (refused login, unknown vhost, not authorized)"},
	{ExitConfig, "configuration: unreadable or invalid config, unknown profile or key, unreadable TLS files"},
	{ExitSIGHUP, "interrupted by SIGHUP (the terminal went away) after a clean shutdown"},
	{ExitSIGINT, "interrupted by SIGINT after a clean shutdown"},
	{ExitSIGTERM, "interrupted by SIGTERM after a clean shutdown"},
}

// ExitError gives an error its exit code where the error's type alone
// does not decide it (a missing input file is 66, a missing config file 78).
type ExitError struct {
	code int
	err  error
}

func (e *ExitError) Error() string { return e.err.Error() }
func (e *ExitError) Unwrap() error { return e.err }

func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{code, err}
}

func UsageErrorf(format string, a ...any) error {
	return WithCode(ExitUsage, fmt.Errorf(format, a...))
}

func ConfigErrorf(format string, a ...any) error {
	return WithCode(ExitConfig, fmt.Errorf(format, a...))
}

// ExitCode maps an error to its exit code. It is the one place where exit
// codes are decided.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var coded *ExitError
	if errors.As(err, &coded) {
		return coded.code
	}
	var sig *Interrupted
	if errors.As(err, &sig) {
		return ExitCodeOf(sig.signal)
	}
	var (
		frameErr    *protocol.FrameError
		refused     *client.RefusedError
		unreachable *client.UnreachableError
		brokerErr   *client.BrokerError
	)
	switch {
	case errors.As(err, &refused):
		if refused.VersionRefused() {
			return ExitProtocol
		}
		return ExitNoPerm
	case errors.As(err, &unreachable):
		return ExitUnavailable
	case errors.Is(err, failover.ErrInvalidURI):
		return ExitUsage
	case errors.As(err, &brokerErr), errors.Is(err, client.ErrHeartBeatLost):
		return ExitProtocol
	case errors.Is(err, client.ErrConnectionLost), errors.Is(err, client.ErrReceiptTimeout), errors.Is(err, client.ErrTransactionLost):
		return ExitTempFail
	case errors.As(err, &frameErr),
		errors.Is(err, protocol.ErrVersionMismatch),
		errors.Is(err, protocol.ErrUnexpectedCommand),
		errors.Is(err, protocol.ErrInvalidHeartBeat):
		return ExitProtocol
	case errors.Is(err, context.DeadlineExceeded):
		return ExitTempFail
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return ExitNoInput
	}
	return ExitSoftware
}
