// Package cmdtest helps the unit tests of the command packages: a factory
// on buffers, and a command line parsed by a command whose run is
// replaced.
package cmdtest

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"

	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// Factory returns the factory of a run whose stdin is in, and whose
// stdout and stderr are buffers.
func Factory(in string) (f *cmdutil.Factory, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	return &cmdutil.Factory{Streams: cmdutil.Streams{In: bytes.NewBufferString(in), Out: out, ErrOut: errOut}}, out, errOut
}

// Parse runs cmd on args; the command's runF is expected to record its
// options. It fails t when the command line is refused.
func Parse(t *testing.T, cmd *cobra.Command, args ...string) {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%s %q: %v", cmd.Name(), args, err)
	}
}
