package reqrep

import (
	"slices"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewRequestCmd checks what request makes of its arguments and flags,
// without running it: an explicit empty BODY is a body, no BODY means
// stdin.
func TestNewRequestCmd(t *testing.T) {
	t.Parallel()
	flags := []string{"--replies", "3", "--timeout", "5s", "-H", "k:v", "--reply-to", "/queue/me"}
	for _, tc := range []struct {
		args []string
		body []byte
	}{
		{[]string{"/queue/rpc", "ping"}, []byte("ping")},
		{[]string{"/queue/rpc", ""}, []byte{}},
		{[]string{"/queue/rpc"}, nil},
	} {
		got := cmdtest.Parse(t, nil, NewRequestCmd, append(tc.args, flags...)...)
		if got.dest != "/queue/rpc" || (got.body == nil) != (tc.body == nil) || string(got.body) != string(tc.body) ||
			got.replies != 3 || got.timeout != 5*time.Second || !slices.Equal(got.headers, []string{"k:v"}) || got.replyTo != "/queue/me" {
			t.Errorf("%q: options %+v", tc.args, got)
		}
	}
}

// TestNewReplyCmd checks what reply makes of its argument and flags.
func TestNewReplyCmd(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, nil, NewReplyCmd, "/queue/rpc", "--exec", "tr a-z A-Z", "--count", "2", "--concurrency", "4", "--exec-timeout", "1s")
	if got.dest != "/queue/rpc" || got.exec != "tr a-z A-Z" || got.echo || got.count != 2 || got.concurrency != 4 || got.timeout != time.Second {
		t.Errorf("options %+v", got)
	}
}
