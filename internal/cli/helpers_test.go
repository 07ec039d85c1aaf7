package cli

import (
	"testing"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// serve starts b for a test, closed when the test ends, and points
// stompest at it (through a failover: URI that reconnects at once when
// failover) with a configuration of its own.
func serve(t *testing.T, b *broker.Broker, failover bool) {
	t.Helper()
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	server := "tcp://" + b.Addr()
	if failover {
		server = "failover:(" + server + ")?initialReconnectDelay=0"
	}
	t.Setenv("STOMPEST_SERVER", server)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
}

// run runs the command line args in this process, as a binary without
// link-time version, and returns its exit code.
func run(args []string, s cmdutil.Streams, exit func(int)) int {
	return execute(cmdutil.Build{}, args, s, exit)
}
