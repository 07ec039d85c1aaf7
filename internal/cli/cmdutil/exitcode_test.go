package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// TestExitCode checks one error of each kind against its exit code.
func TestExitCode(t *testing.T) {
	t.Parallel()
	frameErr := &protocol.FrameError{Offset: 3, Line: 1, Err: protocol.ErrInvalidCommand}
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{WithCode(ExitFailed, errors.New("message not found")), 1},
		{UsageErrorf("--color %q: want auto, always or never", "x"), 64},
		{fmt.Errorf("send: %w", WithCode(ExitDataErr, errors.New("line 3: bad JSON"))), 65},
		{fmt.Errorf("open in.txt: %w", fs.ErrNotExist), 66},
		{WithCode(ExitUnavailable, errors.New("no broker reachable")), 69},
		{fmt.Errorf("connect: %w", &client.UnreachableError{Reason: "timeout after 1s"}), 69},
		{fmt.Errorf("probe: %w", &failover.URIError{Err: failover.ErrUnknownOption, Part: "x"}), 64},
		{fmt.Errorf("send: %w", client.ErrConnectionLost), 75},
		{fmt.Errorf("send: %w", client.ErrReceiptTimeout), 75},
		{&client.BrokerError{Frame: protocol.NewFrame(protocol.CmdError, "message", "no")}, 76},
		{fmt.Errorf("subscribe: %w", client.ErrHeartBeatLost), 76},
		{&client.RefusedError{Frame: protocol.NewFrame(protocol.CmdError, "version", "1.2")}, 76},
		{&client.RefusedError{Frame: protocol.NewFrame(protocol.CmdError, "message", "bad login")}, 77},
		{errors.New("something unforeseen"), 70},
		{WithCode(ExitIOErr, errors.New("write stdout: disk full")), 74},
		{fmt.Errorf("receipt: %w", context.DeadlineExceeded), 75},
		{fmt.Errorf("read: %w", frameErr), 76},
		{fmt.Errorf("connect: %w", protocol.ErrVersionMismatch), 76},
		{WithCode(ExitNoPerm, errors.New("connect refused")), 77},
		{ConfigErrorf("config x.yaml: unknown key %q", "sever"), 78},
		{&Interrupted{os.Interrupt}, 130},
		{&Interrupted{syscall.SIGHUP}, 129},
		{fmt.Errorf("subscribe: %w", &Interrupted{syscall.SIGTERM}), 143},
	}
	for _, tc := range tests {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestExitCodesDocumented checks that every exit code constant is listed
// by `stompest help exit-codes`.
func TestExitCodesDocumented(t *testing.T) {
	t.Parallel()
	listed := map[int]bool{}
	for _, c := range ExitCodes {
		listed[c.Code] = true
	}
	for _, code := range []int{ExitOK, ExitFailed, ExitUsage, ExitDataErr, ExitNoInput, ExitUnavailable,
		ExitSoftware, ExitIOErr, ExitTempFail, ExitProtocol, ExitNoPerm, ExitConfig, ExitSIGHUP, ExitSIGINT, ExitSIGTERM} {
		if !listed[code] {
			t.Errorf("exit code %d is not documented", code)
		}
	}
}
