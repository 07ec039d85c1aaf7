package broker

import (
	"slices"
	"testing"

	embedded "github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what broker makes of its flags, without running it.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, nil, NewCmd)
	if got.listen != "127.0.0.1:61613" || got.listenSet || got.maxPending != embedded.DefaultMaxPending || got.runCmd != "" ||
		got.maxRedeliveries != -1 || got.deadLetterQueue != embedded.DefaultDeadLetterQueue || got.dlqSet {
		t.Errorf("defaults: options %+v", got)
	}
	got = cmdtest.Parse(t, nil, NewCmd, "--listen", "127.0.0.1:0", "--run", "make test", "--ws-allow-origin", "*.example", "--max-pending", "0")
	if got.listen != "127.0.0.1:0" || !got.listenSet || got.runCmd != "make test" || got.maxPending != 0 ||
		!slices.Equal(got.wsAllowOrigins, []string{"*.example"}) {
		t.Errorf("options %+v", got)
	}
	got = cmdtest.Parse(t, nil, NewCmd, "--max-redeliveries", "0", "--dead-letter-queue", "/queue/dead")
	if got.maxRedeliveries != 0 || got.deadLetterQueue != "/queue/dead" || !got.dlqSet {
		t.Errorf("dead letters: options %+v", got)
	}
}
