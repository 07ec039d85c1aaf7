package dlq

import (
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdtest"
)

// TestNewCmd checks what dlq makes of its arguments and flags, without
// running it.
func TestNewCmd(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, nil, NewCmd, "/queue/DLQ", "-o", "json", "--filter", `headers.k == "v"`, "--count", "5")
	if got.dest != "/queue/DLQ" || got.out.Format != "json" || got.filter != `headers.k == "v"` || got.stop.Count != 5 || got.stop.Idle != time.Second {
		t.Errorf("options %+v", got)
	}
	got = cmdtest.Parse(t, nil, NewCmd, "/queue/DLQ")
	if got.out.Format != "table" || got.stop.Count != 0 {
		t.Errorf("defaults: options %+v", got)
	}
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Time{
		"1796471232951": time.UnixMilli(1796471232951).UTC(), // ActiveMQ: milliseconds
		"1796471232":    time.Unix(1796471232, 0).UTC(),      // RabbitMQ: seconds
	} {
		if got, ok := timestamp(v); !ok || !got.Equal(want) {
			t.Errorf("timestamp(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "0", "-5", "soon"} {
		if _, ok := timestamp(v); ok {
			t.Errorf("timestamp(%q) is a time", v)
		}
	}
}
