package dialect

import (
	"testing"

	"github.com/stompest/stompest/internal/protocol"
)

func TestOf(t *testing.T) {
	for server, want := range map[string]Kind{
		"RabbitMQ/3.10.8":                  RabbitMQ,
		"ActiveMQ/5.17.2":                  ActiveMQ,
		"ActiveMQ-Artemis/2.31.0 ActiveMQ": Artemis,
		"stompest/1.2.0":                   Stompest,
		"":                                 Unknown,
		"some-broker/1":                    Unknown,
	} {
		if got := Of(server); got != want {
			t.Errorf("Of(%q) = %v, want %v", server, got, want)
		}
	}
}

// TestPrefetchAndDurable: each broker gets its own headers, an unknown one
// both dialects.
func TestPrefetchAndDurable(t *testing.T) {
	for _, tc := range []struct {
		kind          Kind
		prefetch, dur string
	}{
		{RabbitMQ, "prefetch-count:5", "id:d durable:true auto-delete:false"},
		{ActiveMQ, "activemq.prefetchSize:5", "id:d activemq.subscriptionName:d"},
		{Unknown, "activemq.prefetchSize:5 prefetch-count:5", "id:d activemq.subscriptionName:d durable:true auto-delete:false"},
	} {
		var p, d protocol.Headers
		tc.kind.Prefetch(&p, 5)
		tc.kind.Durable(&d, "d")
		if got := flat(p); got != tc.prefetch {
			t.Errorf("%v prefetch: %q, want %q", tc.kind, got, tc.prefetch)
		}
		if got := flat(d); got != tc.dur {
			t.Errorf("%v durable: %q, want %q", tc.kind, got, tc.dur)
		}
	}
	if sel := ActiveMQ.MessageIDSelector([]string{"ID:a", "it's"}); sel != "JMSMessageID = 'ID:a' OR JMSMessageID = 'it''s'" {
		t.Errorf("ActiveMQ id selector: %q", sel)
	}
	if sel := Stompest.MessageIDSelector([]string{"ID:a"}); sel != "" {
		t.Errorf("the embedded broker got an id selector: %q", sel)
	}
}

// TestCopy: a copy never keeps the frame's headers, keeps the broker's
// only when asked, and keeps the sender's.
func TestCopy(t *testing.T) {
	hs := protocol.Headers{
		{Name: "destination", Value: "/queue/a"}, {Name: "message-id", Value: "m1"},
		{Name: "subscription", Value: "s"}, {Name: "receipt", Value: "r"}, {Name: "content-length", Value: "3"},
		{Name: "timestamp", Value: "1"}, {Name: "expires", Value: "0"}, {Name: "priority", Value: "4"},
		{Name: "persistent", Value: "true"}, {Name: "order-id", Value: "42"},
	}
	if got := flat(Copy(hs, false)); got != "priority:4 persistent:true order-id:42" {
		t.Errorf("Copy: %q", got)
	}
	if got := flat(Copy(hs, true)); got != "message-id:m1 subscription:s timestamp:1 expires:0 priority:4 persistent:true order-id:42" {
		t.Errorf("Copy keeping broker headers: %q", got)
	}
}

func flat(hs protocol.Headers) string {
	s := ""
	for i, h := range hs {
		if i > 0 {
			s += " "
		}
		s += h.Name + ":" + h.Value
	}
	return s
}

// TestBrowse checks the browse headers: the SUBSCRIBE header, and the end
// of a browse told from an ordinary message.
func TestBrowse(t *testing.T) {
	var h protocol.Headers
	Browse(&h)
	if got := flat(h); got != "browser:true" {
		t.Errorf("Browse: %s, want browser:true", got)
	}
	end := &protocol.Frame{Command: protocol.CmdMessage}
	end.Headers.Add("browser", "end")
	if !BrowseEnd(end) || BrowseEnd(&protocol.Frame{Command: protocol.CmdMessage}) {
		t.Error("BrowseEnd does not tell the end of a browse from a message")
	}
}

func TestDeadLetterOf(t *testing.T) {
	amq := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/ActiveMQ.DLQ", "original-destination", "/queue/orders", "dlqDeliveryFailureCause", "poison")
	rabbit := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/dlq", "x-first-death-queue", "orders", "x-first-death-reason", "expired")
	artemis := protocol.NewFrame(protocol.CmdMessage, "destination", "DLQ", "_AMQ_ORIG_ADDRESS", "orders")
	own := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/DLQ", "original-destination", "/queue/a", "dead-letter-reason", "NACKed 1 time")
	none := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/DLQ")
	for _, c := range []struct {
		kind Kind
		f    *protocol.Frame
		want DeadLetter
	}{
		{ActiveMQ, amq, DeadLetter{"/queue/orders", "poison"}},
		{RabbitMQ, rabbit, DeadLetter{"/amq/queue/orders", "expired"}},
		{Artemis, artemis, DeadLetter{"orders", ""}},
		{Stompest, own, DeadLetter{"/queue/a", "NACKed 1 time"}},
		{Unknown, rabbit, DeadLetter{"/amq/queue/orders", "expired"}},
		{Unknown, artemis, DeadLetter{"orders", ""}},
		{RabbitMQ, amq, DeadLetter{}}, // another broker's header means nothing here
		{ActiveMQ, none, DeadLetter{}},
	} {
		if got := c.kind.DeadLetterOf(c.f); got != c.want {
			t.Errorf("%v.DeadLetterOf(%v) = %+v, want %+v", c.kind, c.f.Headers, got, c.want)
		}
	}
}

func TestRevivedAndMoves(t *testing.T) {
	f := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/dlq", "message-id", "m1", "order-id", "7",
		"x-first-death-queue", "orders", "x-first-death-reason", "expired", "original-destination", "/queue/o", "stompest-moves", "2")
	hs := Revived(f.Headers, false)
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	if len(names) != 2 || names[0] != "order-id" || names[1] != "stompest-moves" {
		t.Errorf("Revived kept %v, want order-id and stompest-moves", names)
	}
	if Moves(f) != 2 || MovedBy(f, "r1") {
		t.Errorf("Moves %d, MovedBy %v", Moves(f), MovedBy(f, "r1"))
	}
	StampMove(&hs, f, "r1")
	moved := protocol.NewFrame(protocol.CmdMessage)
	moved.Headers = hs
	if Moves(moved) != 3 || !MovedBy(moved, "r1") || MovedBy(moved, "r2") || len(hs) != 3 {
		t.Errorf("after StampMove: %v", hs)
	}
	if Moves(protocol.NewFrame(protocol.CmdMessage, "stompest-moves", "x")) != 0 {
		t.Error("a malformed stompest-moves counts")
	}
}
