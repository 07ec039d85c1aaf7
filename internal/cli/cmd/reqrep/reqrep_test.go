package reqrep

import (
	"context"
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
	for _, tc := range []struct {
		args []string
		body []byte
	}{
		{[]string{"/queue/rpc", "ping", "--replies", "3", "--timeout", "5s", "-H", "k:v", "--reply-to", "/queue/me"}, []byte("ping")},
		{[]string{"/queue/rpc", "", "--replies", "3", "--timeout", "5s", "-H", "k:v", "--reply-to", "/queue/me"}, []byte{}},
		{[]string{"/queue/rpc", "--replies", "3", "--timeout", "5s", "-H", "k:v", "--reply-to", "/queue/me"}, nil},
	} {
		f, _, _ := cmdtest.Factory("")
		var got *RequestOptions
		cmd := NewRequestCmd(f, func(_ context.Context, o *RequestOptions) error {
			got = o
			return nil
		})
		cmdtest.Parse(t, cmd, tc.args...)
		if got.dest != "/queue/rpc" || (got.body == nil) != (tc.body == nil) || string(got.body) != string(tc.body) ||
			got.replies != 3 || got.timeout != 5*time.Second || !slices.Equal(got.headers, []string{"k:v"}) || got.replyTo != "/queue/me" {
			t.Errorf("%q: options %+v", tc.args, got)
		}
	}
}

// TestNewReplyCmd checks what reply makes of its argument and flags.
func TestNewReplyCmd(t *testing.T) {
	t.Parallel()
	f, _, _ := cmdtest.Factory("")
	var got *ReplyOptions
	cmd := NewReplyCmd(f, func(_ context.Context, o *ReplyOptions) error {
		got = o
		return nil
	})
	cmdtest.Parse(t, cmd, "/queue/rpc", "--exec", "tr a-z A-Z", "--count", "2", "--concurrency", "4", "--exec-timeout", "1s")
	if got.dest != "/queue/rpc" || got.exec != "tr a-z A-Z" || got.echo || got.count != 2 || got.concurrency != 4 || got.timeout != time.Second {
		t.Errorf("options %+v", got)
	}
}
