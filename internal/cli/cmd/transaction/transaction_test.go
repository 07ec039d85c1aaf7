package transaction

import (
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what transaction makes of its argument and flags,
// without running it: no FILE means stdin.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want Options
	}{
		{nil, Options{path: "-", output: "text", wait: 5 * time.Second}},
		{[]string{"batch.jsonl", "-o", "json", "--keep-headers", "--wait", "1s"}, Options{path: "batch.jsonl", output: "json", keepHeaders: true, wait: time.Second}},
	} {
		got := cmdtest.Parse(t, nil, NewCmd, tc.args...)
		if got.path != tc.want.path || got.output != tc.want.output || got.keepHeaders != tc.want.keepHeaders || got.wait != tc.want.wait {
			t.Errorf("%q: options %+v, want %+v", tc.args, got, tc.want)
		}
	}
}
