package stat

import (
	"errors"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/stats"
)

// TestNewCmd checks what stat makes of its arguments and flags, without
// running it.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, nil, NewCmd, "/queue/a", "/queue/b.*", "--until-empty", "--timeout", "1m", "-o", "json", "--mgmt-url", "http://mq:15672")
	if len(got.patterns) != 2 || !got.untilEmpty || got.timeout != time.Minute || got.out.Format != "json" || got.mgmtURL != "http://mq:15672" {
		t.Errorf("options %+v", got)
	}
	got = cmdtest.Parse(t, nil, NewCmd, "--watch", "2s", "--format", "{{.depth}}")
	if got.watch != 2*time.Second || got.out.Template != "{{.depth}}" || got.out.Format != "" {
		t.Errorf("--watch: options %+v", got)
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	a, b := int64(10), int64(30)
	if r := rate(&a, &b, 2); r == nil || *r != 10 {
		t.Errorf("rate 10 -> 30 in 2s: %v", r)
	}
	if rate(&b, &a, 2) != nil || rate(nil, &a, 2) != nil || rate(&a, &b, 0) != nil {
		t.Error("a rate from a counter that went back, is missing, or no time")
	}
}

func TestStatError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		code int
	}{
		{&stats.ChannelError{Channel: "api", Err: errors.New("connection refused")}, cmdutil.ExitUnavailable},
		{&stats.ChannelError{Channel: "api", Err: errors.New("401"), Refused: true}, cmdutil.ExitNoPerm},
		{&stats.UnknownError{Destination: "/queue/x"}, cmdutil.ExitFailed},
	} {
		if got := cmdutil.ExitCode(statError(c.err)); got != c.code {
			t.Errorf("%v: exit %d, want %d", c.err, got, c.code)
		}
	}
}
