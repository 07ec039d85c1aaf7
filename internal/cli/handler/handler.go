// Package handler runs the handler commands of subscribe --exec and reply
// --exec: the body on stdin from an unlinked file, the message in the
// environment, the process group killed on a timeout or at shutdown.
package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// secretEnv are stompest's own credential variables: a handler never
// sees them (a reply handler running env would send the passcode back to
// whoever asked).
var secretEnv = []string{"STOMPEST_PASSWORD", "STOMPEST_BROKER_PASSWORD"}

// Env is the environment of a handler: ours without stompest's
// credentials, plus the message's destination, id, subscription and every
// header as STOMP_HEADER_<NAME>.
func Env(m *client.Message) []string {
	env := make([]string, 0, len(os.Environ())+len(m.Headers)+3)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(secretEnv, name) {
			env = append(env, kv)
		}
	}
	env = append(env,
		"STOMP_DESTINATION="+m.Header(protocol.HdrDestination),
		"STOMP_MESSAGE_ID="+m.Header(protocol.HdrMessageID),
		"STOMP_SUBSCRIPTION="+m.Subscription.ID)
	seen := map[string]bool{}
	for _, h := range m.Headers {
		name := envName(h.Name)
		if seen[name] {
			continue // a repeated header keeps its first value
		}
		seen[name] = true
		env = append(env, "STOMP_HEADER_"+name+"="+h.Value)
	}
	return env
}

// envName upper-cases a header name and turns every character that is not
// a letter or digit into _.
func envName(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// bodyFile returns a file holding body, read from its start and already
// unlinked: a handler reads its body from it, so the body is whole before
// the handler starts, and a handler outliving stompest (kill -9) never
// reads a truncated body as if it were whole, as it could from a pipe.
func bodyFile(body []byte) (*os.File, error) {
	f, err := os.CreateTemp("", "stompest-body-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	if _, err = f.Write(body); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Run runs line with /bin/sh -c (cmd /C on Windows) for m, as
// subscribe --exec and reply --exec do: the body on stdin, the message in
// the environment (Env), killed with its process group after
// timeout (0: none) or when ctx ends. It returns the handler's stdout and
// why it failed, in words for the user.
func Run(ctx context.Context, line string, m *client.Message, timeout time.Duration, stderr io.Writer) ([]byte, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := ShellCommand(ctx, line)
	body, err := bodyFile(m.Body)
	if err != nil {
		return nil, fmt.Errorf("handler: %v", err)
	}
	defer body.Close()
	cmd.Stdin = body
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = stderr
	cmd.Env = Env(m)
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded):
		err = fmt.Errorf("handler timed out after %v", timeout)
	case errors.Is(err, context.Canceled):
		err = errors.New("handler stopped at shutdown")
	default:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("handler %s", ee.ProcessState.String())
		} else {
			err = fmt.Errorf("handler: %v", err)
		}
	}
	return out.Bytes(), err
}
