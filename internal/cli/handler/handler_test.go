//go:build !windows

package handler

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
	"github.com/stompest/stompest/internal/session"
)

func message(body string, hs ...string) *client.Message {
	f := &protocol.Frame{Command: protocol.CmdMessage, Body: []byte(body)}
	for i := 0; i < len(hs); i += 2 {
		f.Headers.Add(hs[i], hs[i+1])
	}
	return &client.Message{Frame: f, Subscription: &session.Subscription{ID: "sub-1"}}
}

// TestEnv checks a handler's environment: stompest's credentials are
// gone, the message's headers are there (a repeated one with its first
// value, names upper-cased with _ for what is not a letter or digit).
func TestEnv(t *testing.T) {
	t.Setenv("STOMPEST_PASSWORD", "secret")
	t.Setenv("STOMPEST_BROKER_PASSWORD", "secret2")
	t.Setenv("STOMPEST_KEEP", "kept")
	env := Env(message("", protocol.HdrDestination, "/queue/a", protocol.HdrMessageID, "m-1", "order-id", "42", "order-id", "43"))
	has := map[string]bool{}
	for _, kv := range env {
		has[kv] = true
		if strings.HasPrefix(kv, "STOMPEST_PASSWORD=") || strings.HasPrefix(kv, "STOMPEST_BROKER_PASSWORD=") {
			t.Errorf("the handler's environment holds %s", kv)
		}
	}
	for _, want := range []string{"STOMPEST_KEEP=kept", "STOMP_DESTINATION=/queue/a", "STOMP_MESSAGE_ID=m-1", "STOMP_SUBSCRIPTION=sub-1", "STOMP_HEADER_ORDER_ID=42"} {
		if !has[want] {
			t.Errorf("the handler's environment lacks %s", want)
		}
	}
	if has["STOMP_HEADER_ORDER_ID=43"] {
		t.Error("a repeated header's second value reached the handler")
	}
}

// TestRun checks a handler's run: the body on stdin, its stdout returned,
// its failure, a timeout and a cancelled context in words for the user.
func TestRun(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	out, err := Run(context.Background(), `tr a-z A-Z; echo oops >&2`, message("hello"), 0, &stderr)
	if err != nil || string(out) != "HELLO" || stderr.String() != "oops\n" {
		t.Errorf("Run: stdout %q, stderr %q, %v; want HELLO, oops and no error", out, stderr.String(), err)
	}
	if _, err := Run(context.Background(), "exit 3", message(""), 0, &stderr); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("a failing handler: %v, want its exit status", err)
	}
	if _, err := Run(context.Background(), "sleep 30", message(""), 50*time.Millisecond, &stderr); err == nil || !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Errorf("a handler past its timeout: %v, want a time-out", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, "sleep 30", message(""), 0, &stderr); err == nil || !strings.Contains(err.Error(), "stopped at shutdown") {
		t.Errorf("a handler at shutdown: %v, want it stopped", err)
	}
}
