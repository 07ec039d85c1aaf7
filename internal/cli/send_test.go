package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// TestSendNeedsABody: with no BODY, no --file and a terminal on stdin,
// send is a usage error instead of waiting for a body typed at the
// terminal (or sending an empty one).
func TestSendNeedsABody(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var errOut bytes.Buffer
	s := cmdutil.Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut, InTTY: true}
	if code := run([]string{"--server", "tcp://127.0.0.1:1", "send", "hi"}, s, nil); code != cmdutil.ExitUsage {
		t.Fatalf("exit %d, want %d (%s)", code, cmdutil.ExitUsage, errOut.String())
	}
	if !strings.Contains(errOut.String(), "no body: give BODY, --file, or pipe one into stdin") {
		t.Errorf("stderr %q", errOut.String())
	}
}
