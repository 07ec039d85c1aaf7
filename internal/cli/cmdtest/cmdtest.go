// Package cmdtest helps the unit tests of the command packages: a factory
// on buffers, and a command line parsed by a command whose run is
// replaced.
package cmdtest

import (
	"bytes"
	"context"
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

// NewCmd is the shape of a command package's constructor: the factory,
// and the function that runs instead of the command when not nil.
type NewCmd[O any] func(*cmdutil.Factory, func(context.Context, *O) error) *cobra.Command

// Parse builds a command with newCmd on factory f (a factory on empty
// buffers when nil), runs the command line args without running the
// command, and returns the options it parsed. It fails t when the command
// line is refused.
func Parse[O any](t *testing.T, f *cmdutil.Factory, newCmd NewCmd[O], args ...string) *O {
	t.Helper()
	if f == nil {
		f, _, _ = Factory("")
	}
	var got *O
	cmd := newCmd(f, func(_ context.Context, o *O) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%s %q: %v", cmd.Name(), args, err)
	}
	if got == nil {
		t.Fatalf("%s %q: the command did not reach its run", cmd.Name(), args)
	}
	return got
}
