package cli

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
	exitOK          = 0
	exitFailed      = 1   // what the user asked for did not happen
	exitUsage       = 64  // bad flag, argument, URI or combination
	exitDataErr     = 65  // bad input data
	exitNoInput     = 66  // input file missing or unreadable
	exitUnavailable = 69  // no broker reachable before CONNECTED
	exitSoftware    = 70  // internal error
	exitIOErr       = 74  // I/O error on stdin or stdout
	exitTempFail    = 75  // timeout or loss after CONNECTED
	exitProtocol    = 76  // ERROR after CONNECTED, malformed frame, version mismatch, heart-beat lost
	exitNoPerm      = 77  // an ERROR frame answered CONNECT
	exitConfig      = 78  // bad configuration
	exitSIGHUP      = 129 // interrupted by SIGHUP after a clean shutdown
	exitSIGINT      = 130 // interrupted by SIGINT after a clean shutdown
	exitSIGTERM     = 143 // interrupted by SIGTERM after a clean shutdown
)

// exitCodes documents every exit code; `stompest help exit-codes` prints it.
var exitCodes = []struct {
	code int
	when string
}{
	{exitOK, "done"},
	{exitFailed, "what was asked for did not happen (message not found, expectation unmet, handler failed with --on-error stop)"},
	{exitUsage, "usage: bad flag or argument, malformed URI, unknown failover option, refused combination"},
	{exitDataErr, "bad input data: malformed JSON line, NUL body with --text, oversize record"},
	{exitNoInput, "input file missing or unreadable"},
	{exitUnavailable, "no broker reachable before the first CONNECTED, or its TLS certificate failed verification; stompest broker cannot listen"},
	{exitSoftware, "internal error"},
	{exitIOErr, "I/O error on stdin or stdout (not a closed pipe)"},
	{exitTempFail, "timeout or loss after CONNECTED: receipt not confirmed, --count not reached, connection lost"},
	{exitProtocol, "protocol: ERROR frame after CONNECTED, malformed frame, version mismatch, heart-beat lost"},
	{exitNoPerm, "an ERROR frame answered CONNECT (refused login, unknown vhost, not authorized)"},
	{exitConfig, "configuration: unreadable or invalid config, unknown profile or key, unreadable TLS files"},
	{exitSIGHUP, "interrupted by SIGHUP (the terminal went away) after a clean shutdown"},
	{exitSIGINT, "interrupted by SIGINT after a clean shutdown"},
	{exitSIGTERM, "interrupted by SIGTERM after a clean shutdown"},
}

// exitError gives an error its exit code where the error's type alone
// does not decide it (a missing input file is 66, a missing config file 78).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code, err}
}

func usageErrorf(format string, a ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, a...))
}

func configErrorf(format string, a ...any) error {
	return withCode(exitConfig, fmt.Errorf(format, a...))
}

// exitCode maps an error to its exit code. It is the one place where exit
// codes are decided.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var coded *exitError
	if errors.As(err, &coded) {
		return coded.code
	}
	var sig *interrupted
	if errors.As(err, &sig) {
		return exitCodeOf(sig.signal)
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
			return exitProtocol
		}
		return exitNoPerm
	case errors.As(err, &unreachable):
		return exitUnavailable
	case errors.Is(err, failover.ErrInvalidURI):
		return exitUsage
	case errors.As(err, &brokerErr), errors.Is(err, client.ErrHeartBeatLost):
		return exitProtocol
	case errors.Is(err, client.ErrConnectionLost), errors.Is(err, client.ErrReceiptTimeout), errors.Is(err, client.ErrTransactionLost):
		return exitTempFail
	case errors.As(err, &frameErr),
		errors.Is(err, protocol.ErrVersionMismatch),
		errors.Is(err, protocol.ErrUnexpectedCommand),
		errors.Is(err, protocol.ErrInvalidHeartBeat):
		return exitProtocol
	case errors.Is(err, context.DeadlineExceeded):
		return exitTempFail
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return exitNoInput
	}
	return exitSoftware
}
