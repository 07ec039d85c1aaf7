package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// TestCommandList checks that the names of each entry of the command list
// are the names of the command it builds, and that the whole tree holds
// nothing else but help and completion.
func TestCommandList(t *testing.T) {
	f := cmdutil.New(Build{}, Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, nil)
	defer f.Sig.Stop()
	listed := map[string]bool{}
	for _, c := range commands() {
		cmd := c.build(f)
		if want := append([]string{cmd.Name()}, cmd.Aliases...); !slices.Equal(c.names, want) {
			t.Errorf("entry %v builds a command called %v", c.names, want)
		}
		listed[cmd.Name()] = true
	}
	for _, cmd := range newRootCmd(f, nil).Commands() {
		if !listed[cmd.Name()] && cmd.Name() != "help" && cmd.Name() != "completion" {
			t.Errorf("command %q is not in the list", cmd.Name())
		}
	}
}

// TestOnlyTheCommandRun checks which command lines build one command and
// which the whole tree.
func TestOnlyTheCommandRun(t *testing.T) {
	f := cmdutil.New(Build{}, Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, nil)
	defer f.Sig.Stop()
	for _, tc := range []struct {
		args string
		only string // "" for the whole tree
	}{
		{"send /queue/a hi", "send"},
		{"-s tcp://h:1 send /queue/a", "send"},
		{"-stcp://h:1 sub /queue/a", "subscribe"},
		{"--server tcp://h:1 -vq tx", "transaction"},
		{"--server=tcp://h:1 -v -v version", "version"},
		{"--trace --color always probe x", "failover-probe"},
		{"-u guest --password-file - ack /queue/a", "ack"},
		{"man ./pages", ""},
		{"help send", ""},
		{"completion bash", ""},
		{"__complete send --", ""},
		{"", ""},
		{"--nosuch send", ""},
		{"-X send", ""},
		{"sned /queue/a", ""},
		{"-- send", ""},
	} {
		root := newRootCmd(f, strings.Fields(tc.args))
		var got []string
		for _, c := range root.Commands() {
			if c.Name() != "help" {
				got = append(got, c.Name())
			}
		}
		if tc.only != "" && !slices.Equal(got, []string{tc.only}) {
			t.Errorf("%q builds %v, want only %s", tc.args, got, tc.only)
		}
		if tc.only == "" && len(got) < len(commands()) {
			t.Errorf("%q builds %v, want the whole tree", tc.args, got)
		}
	}
}
