package pick

import (
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/dialect"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// TestNew checks the combinations of selection and stop flags that are
// refused (usage errors naming the problem) and accepted.
func TestNew(t *testing.T) {
	t.Parallel()
	idle := flags.Stop{Idle: time.Second}
	for _, tc := range []struct {
		sel  flags.Selection
		stop flags.Stop
		want string // "" when accepted
	}{
		{flags.Selection{}, idle, "say which messages"},
		{flags.Selection{All: true}, flags.Stop{Count: 2, Idle: time.Second}, "--all and --count"},
		{flags.Selection{All: true}, flags.Stop{Count: -1, Idle: time.Second}, "--count -1"},
		{flags.Selection{All: true}, flags.Stop{}, "--idle must be positive"},
		{flags.Selection{All: true}, flags.Stop{Idle: time.Second, Timeout: -time.Second}, "--timeout"},
		{flags.Selection{Match: []string{"novalue"}}, idle, "novalue"},
		{flags.Selection{All: true}, idle, ""},
		{flags.Selection{MessageIDs: []string{"m1"}}, idle, ""},
		{flags.Selection{Match: []string{"k=v"}}, idle, ""},
		{flags.Selection{}, flags.Stop{Count: 3, Idle: time.Second}, ""},
	} {
		_, err := New("ack", tc.sel, tc.stop)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v %+v: %v, want it accepted", tc.sel, tc.stop, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v %+v: %v, want an error saying %q", tc.sel, tc.stop, err, tc.want)
		case tc.want != "" && cmdutil.ExitCode(err) != cmdutil.ExitUsage:
			t.Errorf("%+v %+v: exit %d, want %d", tc.sel, tc.stop, cmdutil.ExitCode(err), cmdutil.ExitUsage)
		}
	}
}

// TestSelected checks that a message is picked only when it has an id
// asked for and every --match header.
func TestSelected(t *testing.T) {
	t.Parallel()
	p, err := New("ack", flags.Selection{MessageIDs: []string{"m1", "m2"}, Match: []string{"k=v", "x=1"}}, flags.Stop{Idle: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(id string, hs ...string) *client.Message {
		f := &protocol.Frame{Command: protocol.CmdMessage}
		f.Headers.Set(protocol.HdrMessageID, id)
		for i := 0; i < len(hs); i += 2 {
			f.Headers.Set(hs[i], hs[i+1])
		}
		return &client.Message{Frame: f}
	}
	for _, tc := range []struct {
		m    *client.Message
		want bool
	}{
		{msg("m1", "k", "v", "x", "1"), true},
		{msg("m2", "x", "1", "k", "v"), true},
		{msg("m3", "k", "v", "x", "1"), false},
		{msg("m1", "k", "v"), false},
		{msg("m1", "k", "w", "x", "1"), false},
	} {
		if got := p.selected(tc.m); got != tc.want {
			t.Errorf("selected(%v) = %v, want %v", tc.m.Headers, got, tc.want)
		}
	}
}

// TestOnce checks how a redelivery of a message acted on is recognised:
// by its message-id where the broker keeps it stable, else by a digest of
// the message that only counts on a delivery marked redelivered.
func TestOnce(t *testing.T) {
	t.Parallel()
	msg := func(id, body string, redelivered bool) *client.Message {
		f := &protocol.Frame{Command: protocol.CmdMessage, Body: []byte(body)}
		f.Headers.Set(protocol.HdrDestination, "/queue/a")
		f.Headers.Set(protocol.HdrMessageID, id)
		f.Headers.Set("order-id", "43")
		if redelivered {
			f.Headers.Set("redelivered", "true")
		}
		return &client.Message{Frame: f}
	}
	for _, tc := range []struct {
		kind dialect.Kind
		m    *client.Message
		want bool
	}{
		{dialect.Stompest, msg("m-1", "x", true), true},
		{dialect.Stompest, msg("m-1", "x", false), true},
		{dialect.Stompest, msg("m-2", "x", true), false},
		{dialect.RabbitMQ, msg("T_1@@session-2", "x", true), true},
		{dialect.RabbitMQ, msg("T_1@@session-2", "x", false), false},
		{dialect.RabbitMQ, msg("T_1@@session-2", "y", true), false},
	} {
		p, err := New("nack", flags.Selection{All: true}, flags.Stop{Idle: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		p.Once, p.kind = true, tc.kind
		p.acted = map[string]bool{p.identity(msg("m-1", "x", false)): true}
		if got := p.again(tc.m, p.identity(tc.m)); got != tc.want {
			t.Errorf("%v, %s %q redelivered=%s: again %v, want %v", tc.kind, tc.m.Header(protocol.HdrMessageID), tc.m.Body, tc.m.Header("redelivered"), got, tc.want)
		}
	}
}
