package session_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/protocol"
	"github.com/stompest/stompest/internal/session"
)

// frame builds an expected frame from a command and name, value pairs.
func frame(cmd protocol.Command, nameValues ...string) *protocol.Frame {
	return protocol.NewFrame(cmd, nameValues...)
}

// show renders frames by command and headers, the parts the tests compare.
func show(frames []*protocol.Frame) string {
	var b strings.Builder
	for _, f := range frames {
		b.WriteString(string(f.Command))
		for _, h := range f.Headers {
			fmt.Fprintf(&b, " %s:%s", h.Name, h.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func checkFrames(t *testing.T, got, want []*protocol.Frame) {
	t.Helper()
	if g, w := show(got), show(want); g != w {
		t.Errorf("frames:\n%s\nwant:\n%s", g, w)
	}
}

// result holds a value and an error returned together, so that a test can
// write try(s.Connect(o)).must(t).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

// try2 is try for methods returning two values and an error; it keeps the
// first.
func try2[T, U any](v T, _ U, err error) result[T] { return result[T]{v, err} }

// must returns the value, or ends the test when there was an error.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func heartBeat(send, receive time.Duration) *protocol.HeartBeatSpec {
	return &protocol.HeartBeatSpec{Send: send, Receive: receive}
}

var (
	connectOpts = protocol.ConnectOptions{Host: "/", Login: "u", Passcode: "p", HeartBeat: heartBeat(time.Second, 2*time.Second)}
	connected12 = frame(protocol.CmdConnected, "version", "1.2", "session", "sess-1", "server", "test/1", "heart-beat", "3000,4000")
	// msg1 is a MESSAGE of subscription s1 in every version.
	msg1 = frame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m1", "subscription", "s1", "ack", "a1")
)

// connectedSession returns a session connected with the given CONNECTED frame.
func connectedSession(t *testing.T, opts protocol.ConnectOptions, f *protocol.Frame) *session.Session {
	t.Helper()
	s := session.New()
	try(s.Connect(opts)).must(t)
	if replay := try(s.Connected(f)).must(t); len(replay) != 0 {
		t.Fatalf("replay on a fresh session: %s", show(replay))
	}
	return s
}

// fixture returns a session in state st. From Connected on it holds the
// subscription s1 (client-individual) and the outstanding receipt r1 of a
// SEND; in Connected also the active transaction t1; in Disconnecting the
// outstanding receipt rd of the DISCONNECT.
func fixture(t *testing.T, st session.State) *session.Session {
	t.Helper()
	s := session.New()
	if st == session.Disconnected {
		return s
	}
	try(s.Connect(connectOpts)).must(t)
	if st == session.Connecting {
		return s
	}
	try(s.Connected(connected12)).must(t)
	if _, _, err := s.Subscribe("/queue/a", protocol.Headers{{Name: "id", Value: "s1"}, {Name: "ack", Value: "client-individual"}}, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Begin("t1"); err != nil {
		t.Fatal(err)
	}
	try(s.Send("/queue/a", []byte("x"), nil, "r1", "")).must(t)
	if st == session.Connected {
		return s
	}
	try(s.Disconnect("rd")).must(t)
	return s
}

// one adapts a method returning one frame to the events' signature.
func one(f *protocol.Frame, err error) ([]*protocol.Frame, error) {
	if f == nil {
		return nil, err
	}
	return []*protocol.Frame{f}, err
}

// events are the inputs of the state machine, each with arguments that are
// valid for the Connected fixture.
var events = []struct {
	name string
	do   func(s *session.Session) ([]*protocol.Frame, error)
}{
	{"connect", func(s *session.Session) ([]*protocol.Frame, error) { return one(s.Connect(connectOpts)) }},
	{"connected", func(s *session.Session) ([]*protocol.Frame, error) { return s.Connected(connected12) }},
	{"error-on-connect", func(s *session.Session) ([]*protocol.Frame, error) {
		return nil, s.Refused(frame(protocol.CmdError, "message", "bad login"))
	}},
	{"send", func(s *session.Session) ([]*protocol.Frame, error) {
		return one(s.Send("/queue/b", []byte("x"), protocol.Headers{{Name: "k", Value: "v"}}, "", "t1"))
	}},
	{"subscribe", func(s *session.Session) ([]*protocol.Frame, error) {
		f, _, err := s.Subscribe("/queue/b", protocol.Headers{{Name: "id", Value: "s2"}}, "")
		return one(f, err)
	}},
	{"unsubscribe", func(s *session.Session) ([]*protocol.Frame, error) { return one(s.Unsubscribe("s1")) }},
	{"ack", func(s *session.Session) ([]*protocol.Frame, error) { return one(s.Ack(msg1, "")) }},
	{"nack", func(s *session.Session) ([]*protocol.Frame, error) { return one(s.Nack(msg1, "t1")) }},
	{"begin", func(s *session.Session) ([]*protocol.Frame, error) {
		f, _, err := s.Begin("t2")
		return one(f, err)
	}},
	{"commit", func(s *session.Session) ([]*protocol.Frame, error) { return one(s.Commit("t1")) }},
	{"abort", func(s *session.Session) ([]*protocol.Frame, error) { return one(s.Abort("t1")) }},
	{"message", func(s *session.Session) ([]*protocol.Frame, error) {
		sub, err := s.Message(msg1)
		if err == nil && (sub.ID != "s1" || sub.Ack != protocol.AckClientIndividual) {
			err = fmt.Errorf("message matched %+v", sub)
		}
		return nil, err
	}},
	{"receipt", func(s *session.Session) ([]*protocol.Frame, error) {
		c, err := s.Receipt(frame(protocol.CmdReceipt, "receipt-id", "r1"))
		if err == nil && c != (session.Confirmation{ID: "r1", Command: protocol.CmdSend}) {
			err = fmt.Errorf("receipt confirmed %+v", c)
		}
		return nil, err
	}},
	{"disconnect-receipt", func(s *session.Session) ([]*protocol.Frame, error) {
		c, err := s.Receipt(frame(protocol.CmdReceipt, "receipt-id", "rd"))
		if err == nil && c != (session.Confirmation{ID: "rd", Command: protocol.CmdDisconnect}) {
			err = fmt.Errorf("receipt confirmed %+v", c)
		}
		return nil, err
	}},
	{"disconnect", func(s *session.Session) ([]*protocol.Frame, error) { return s.Disconnect("rd") }},
	{"close", func(s *session.Session) ([]*protocol.Frame, error) { s.Close(); return nil, nil }},
	{"lost", func(s *session.Session) ([]*protocol.Frame, error) { s.Lost(); return nil, nil }},
}

type outcome struct {
	frames []*protocol.Frame
	state  session.State
	err    error // a sentinel for errors.Is
}

func to(st session.State, frames ...*protocol.Frame) outcome {
	return outcome{frames: frames, state: st}
}

func fails(st session.State, err error) outcome { return outcome{state: st, err: err} }

var (
	disconnected  = session.Disconnected
	connecting    = session.Connecting
	connected     = session.Connected
	disconnecting = session.Disconnecting
	illegal       = session.ErrIllegalTransition
)

// transitions is the whole table: every state with every event.
var transitions = map[session.State]map[string]outcome{
	session.Disconnected: {
		"connect": to(connecting, frame(protocol.CmdConnect,
			"accept-version", "1.0,1.1,1.2", "host", "/", "login", "u", "passcode", "p", "heart-beat", "1000,2000")),
		"connected":          fails(disconnected, illegal),
		"error-on-connect":   fails(disconnected, illegal),
		"send":               fails(disconnected, illegal),
		"subscribe":          fails(disconnected, illegal),
		"unsubscribe":        fails(disconnected, illegal),
		"ack":                fails(disconnected, illegal),
		"nack":               fails(disconnected, illegal),
		"begin":              fails(disconnected, illegal),
		"commit":             fails(disconnected, illegal),
		"abort":              fails(disconnected, illegal),
		"message":            fails(disconnected, illegal),
		"receipt":            fails(disconnected, illegal),
		"disconnect-receipt": fails(disconnected, illegal),
		"disconnect":         fails(disconnected, illegal),
		"close":              to(disconnected),
		"lost":               to(disconnected),
	},
	session.Connecting: {
		"connect":            fails(connecting, illegal),
		"connected":          to(connected),
		"error-on-connect":   fails(disconnected, session.ErrRefused),
		"send":               fails(connecting, illegal),
		"subscribe":          fails(connecting, illegal),
		"unsubscribe":        fails(connecting, illegal),
		"ack":                fails(connecting, illegal),
		"nack":               fails(connecting, illegal),
		"begin":              fails(connecting, illegal),
		"commit":             fails(connecting, illegal),
		"abort":              fails(connecting, illegal),
		"message":            fails(connecting, illegal),
		"receipt":            fails(connecting, illegal),
		"disconnect-receipt": fails(connecting, illegal),
		"disconnect":         fails(connecting, illegal),
		"close":              to(disconnected),
		"lost":               to(disconnected),
	},
	session.Connected: {
		"connect":          fails(connected, illegal),
		"connected":        fails(connected, illegal),
		"error-on-connect": fails(connected, illegal),
		"send":             to(connected, frame(protocol.CmdSend, "destination", "/queue/b", "k", "v", "transaction", "t1")),
		"subscribe":        to(connected, frame(protocol.CmdSubscribe, "destination", "/queue/b", "id", "s2")),
		"unsubscribe":      to(connected, frame(protocol.CmdUnsubscribe, "id", "s1")),
		"ack":              to(connected, frame(protocol.CmdAck, "id", "a1")),
		"nack":             to(connected, frame(protocol.CmdNack, "id", "a1", "transaction", "t1")),
		"begin":            to(connected, frame(protocol.CmdBegin, "transaction", "t2")),
		"commit":           to(connected, frame(protocol.CmdCommit, "transaction", "t1")),
		"abort":            to(connected, frame(protocol.CmdAbort, "transaction", "t1")),
		"message":          to(connected),
		"receipt":          to(connected),
		// rd is not outstanding before DISCONNECT.
		"disconnect-receipt": fails(connected, session.ErrUnknownReceipt),
		"disconnect": to(disconnecting,
			frame(protocol.CmdAbort, "transaction", "t1"),
			frame(protocol.CmdDisconnect, "receipt", "rd")),
		"close": to(disconnected),
		"lost":  to(disconnected),
	},
	session.Disconnecting: {
		"connect":            fails(disconnecting, illegal),
		"connected":          fails(disconnecting, illegal),
		"error-on-connect":   fails(disconnecting, illegal),
		"send":               fails(disconnecting, illegal),
		"subscribe":          fails(disconnecting, illegal),
		"unsubscribe":        fails(disconnecting, illegal),
		"ack":                fails(disconnecting, illegal),
		"nack":               fails(disconnecting, illegal),
		"begin":              fails(disconnecting, illegal),
		"commit":             fails(disconnecting, illegal),
		"abort":              fails(disconnecting, illegal),
		"message":            fails(disconnecting, illegal),
		"receipt":            to(disconnecting),
		"disconnect-receipt": to(disconnected),
		"disconnect":         fails(disconnecting, illegal),
		"close":              to(disconnected),
		"lost":               to(disconnected),
	},
}

// snapshot is the observable bookkeeping of a session.
type snapshot struct {
	State         session.State
	Version       protocol.Version
	Subscriptions []session.Subscription
	Transactions  []string
	Outstanding   []session.Confirmation
}

func snap(s *session.Session) snapshot {
	return snapshot{s.State(), s.Version(), s.Subscriptions(), s.Transactions(), s.Outstanding()}
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	states := []session.State{session.Disconnected, session.Connecting, session.Connected, session.Disconnecting}
	for _, st := range states {
		if len(transitions[st]) != len(events) {
			t.Errorf("state %s: %d rows for %d events", st, len(transitions[st]), len(events))
		}
		for _, ev := range events {
			want, ok := transitions[st][ev.name]
			if !ok {
				t.Errorf("state %s: no row for event %s", st, ev.name)
				continue
			}
			t.Run(st.String()+"/"+ev.name, func(t *testing.T) {
				t.Parallel()
				s := fixture(t, st)
				before := snap(s)
				frames, err := ev.do(s)
				switch {
				case want.err == nil && err != nil:
					t.Fatalf("error %v, want none", err)
				case want.err != nil && !errors.Is(err, want.err):
					t.Fatalf("error %v, want %v", err, want.err)
				}
				checkFrames(t, frames, want.frames)
				if got := s.State(); got != want.state {
					t.Errorf("state %s, want %s", got, want.state)
				}
				if errors.Is(err, session.ErrIllegalTransition) || errors.Is(err, session.ErrUnknownReceipt) {
					if after := snap(s); !reflect.DeepEqual(after, before) {
						t.Errorf("a refused event changed the session:\n%+v\nwas\n%+v", after, before)
					}
				}
			})
		}
	}
}

func TestStateErrorText(t *testing.T) {
	t.Parallel()
	s := session.New()
	_, err := s.Send("/queue/a", nil, nil, "", "")
	if got, want := fmt.Sprint(err), "cannot send in state disconnected (only in connected)"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	var se *session.StateError
	if !errors.As(err, &se) || se.Op != "send" || se.State != session.Disconnected {
		t.Errorf("error %#v, want a *StateError for send in disconnected", err)
	}
	_, err = s.Receipt(frame(protocol.CmdReceipt, "receipt-id", "r1"))
	if got, want := fmt.Sprint(err), "cannot handle RECEIPT in state disconnected (only in connected or disconnecting)"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if got := session.State(9).String(); got != "state(9)" {
		t.Errorf("State(9) = %q", got)
	}
}

func TestReplayAfterLoss(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, connectOpts, connected12)
	_, a, err := s.Subscribe("/queue/a", protocol.Headers{{Name: "ack", Value: "client"}, {Name: "x", Value: "1"}}, "r-a")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Subscribe("/queue/b", protocol.Headers{{Name: "id", Value: "b"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Subscribe("/topic/c", protocol.Headers{{Name: "id", Value: "c"}, {Name: "receipt", Value: "r-c"}, {Name: "selector", Value: "k = 'v'"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Subscribe("/queue/d", protocol.Headers{{Name: "id", Value: "d"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	try(s.Unsubscribe("b")).must(t)

	want := []*protocol.Frame{
		frame(protocol.CmdSubscribe, "destination", "/queue/a", "id", a, "ack", "client", "x", "1"),
		frame(protocol.CmdSubscribe, "destination", "/topic/c", "id", "c", "selector", "k = 'v'"),
		frame(protocol.CmdSubscribe, "destination", "/queue/d", "id", "d"),
	}

	s.Lost()
	if len(s.Outstanding()) != 0 || s.Version() != protocol.VersionUnknown {
		t.Errorf("after Lost: outstanding %v, version %s", s.Outstanding(), s.Version())
	}
	// A failed reconnect keeps them too.
	try(s.Connect(connectOpts)).must(t)
	s.Lost()
	try(s.Connect(connectOpts)).must(t)
	checkFrames(t, try(s.Connected(connected12)).must(t), want)

	// They stay known: messages match, and a second loss replays them again.
	if sub := try(s.Message(frame(protocol.CmdMessage, "destination", "/topic/c", "message-id", "m", "subscription", "c"))).must(t); sub.ID != "c" {
		t.Errorf("message matched %q", sub.ID)
	}
	s.Lost()
	try(s.Connect(connectOpts)).must(t)
	checkFrames(t, try(s.Connected(connected12)).must(t), want)

	// A refused connect keeps them for the next broker.
	s.Lost()
	try(s.Connect(connectOpts)).must(t)
	if err := s.Refused(frame(protocol.CmdError, "message", "no")); !errors.Is(err, session.ErrRefused) {
		t.Fatalf("Refused: %v", err)
	}
	try(s.Connect(connectOpts)).must(t)
	checkFrames(t, try(s.Connected(connected12)).must(t), want)
}

func TestCleanDisconnectForgets(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"receipt", "close", "close-after-lost"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			s := fixture(t, session.Disconnecting)
			switch how {
			case "receipt":
				c := try(s.Receipt(frame(protocol.CmdReceipt, "receipt-id", "rd"))).must(t)
				if c.Command != protocol.CmdDisconnect {
					t.Errorf("confirmed %s, want DISCONNECT", c.Command)
				}
			case "close":
				s.Close()
			case "close-after-lost":
				s.Lost()
				s.Close()
			}
			if got := snap(s); !reflect.DeepEqual(got, snapshot{State: session.Disconnected, Subscriptions: []session.Subscription{}, Outstanding: []session.Confirmation{}}) {
				t.Errorf("after a clean disconnect: %+v", got)
			}
			try(s.Connect(connectOpts)).must(t)
			checkFrames(t, try(s.Connected(connected12)).must(t), nil)
		})
	}
}

func TestDisconnectAbortsOpenTransactions(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, connectOpts, connected12)
	var ids []string
	for range 3 {
		_, id, err := s.Begin("")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if !slices.Equal(ids, []string{"tx-1", "tx-2", "tx-3"}) {
		t.Errorf("generated ids %v", ids)
	}
	try(s.Commit("tx-2")).must(t)
	_, mine, err := s.Begin("mine")
	if err != nil || mine != "mine" {
		t.Fatalf("Begin(mine) = %q, %v", mine, err)
	}
	frames := try(s.Disconnect("")).must(t)
	checkFrames(t, frames, []*protocol.Frame{
		frame(protocol.CmdAbort, "transaction", "tx-1"),
		frame(protocol.CmdAbort, "transaction", "tx-3"),
		frame(protocol.CmdAbort, "transaction", "mine"),
		frame(protocol.CmdDisconnect),
	})
	if s.State() != session.Disconnecting || len(s.Transactions()) != 0 {
		t.Errorf("state %s, transactions %v", s.State(), s.Transactions())
	}
}

func TestTransactions(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, connectOpts, connected12)
	if _, _, err := s.Begin("tx-1"); err != nil {
		t.Fatal(err)
	}
	// A generated id skips active ones.
	if _, id, _ := s.Begin(""); id != "tx-2" {
		t.Errorf("generated %q, want tx-2", id)
	}
	var ie *session.IDError
	if _, _, err := s.Begin("tx-1"); !errors.Is(err, session.ErrTransactionActive) || !errors.As(err, &ie) || ie.ID != "tx-1" {
		t.Errorf("Begin of an active id: %v", err)
	}
	for name, do := range map[string]func() error{
		"commit": func() error { _, err := s.Commit("nope"); return err },
		"abort":  func() error { _, err := s.Abort("nope"); return err },
		"send":   func() error { _, err := s.Send("/q", nil, nil, "", "nope"); return err },
		"send-header": func() error {
			_, err := s.Send("/q", nil, protocol.Headers{{Name: "transaction", Value: "nope"}}, "", "")
			return err
		},
		"ack": func() error {
			_, _, err := s.Subscribe("/queue/a", protocol.Headers{{Name: "id", Value: "s1"}, {Name: "ack", Value: "client"}}, "")
			if err != nil {
				return err
			}
			_, err = s.Ack(msg1, "nope")
			return err
		},
	} {
		if err := do(); !errors.Is(err, session.ErrUnknownTransaction) {
			t.Errorf("%s in an unknown transaction: %v", name, err)
		}
	}
	try(s.Commit("tx-1")).must(t)
	if _, err := s.Commit("tx-1"); !errors.Is(err, session.ErrUnknownTransaction) {
		t.Errorf("second commit: %v", err)
	}
	if got := fmt.Sprint(&session.IDError{Err: session.ErrUnknownTransaction, ID: "t1"}); got != `unknown transaction "t1"` {
		t.Errorf("IDError text %q", got)
	}
	// Lost forgets transactions: the broker rolled them back.
	s.Lost()
	try(s.Connect(connectOpts)).must(t)
	try(s.Connected(connected12)).must(t)
	if got := s.Transactions(); len(got) != 0 {
		t.Errorf("transactions after a loss: %v", got)
	}
}

func TestSendHeaders(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, connectOpts, connected12)
	try2(s.Begin("t1")).must(t)
	h := make(protocol.Headers, 0, 8)
	h = append(h, protocol.Header{Name: "receipt", Value: "from-header"}, protocol.Header{Name: "k", Value: "v"})
	orig := slices.Clone(h)
	f := try(s.Send("/q", []byte("b"), h, "", "t1")).must(t)
	checkFrames(t, []*protocol.Frame{f}, []*protocol.Frame{
		frame(protocol.CmdSend, "destination", "/q", "k", "v", "transaction", "t1", "receipt", "from-header"),
	})
	if !slices.Equal(h, orig) || !slices.Equal(h[:cap(h)][:2], orig) {
		t.Errorf("the caller's headers were modified: %v", h)
	}
	// The argument wins over a header.
	f = try(s.Send("/q", nil, protocol.Headers{{Name: "receipt", Value: "x"}}, "arg", "")).must(t)
	checkFrames(t, []*protocol.Frame{f}, []*protocol.Frame{frame(protocol.CmdSend, "destination", "/q", "receipt", "arg")})
	if string(f.Body) != "" {
		t.Errorf("body %q", f.Body)
	}
	got := s.Outstanding()
	want := []session.Confirmation{{ID: "from-header", Command: protocol.CmdSend}, {ID: "arg", Command: protocol.CmdSend}}
	if !slices.Equal(got, want) {
		t.Errorf("outstanding %v, want %v", got, want)
	}
}

func TestReceipts(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, connectOpts, connected12)
	try(s.Send("/q", nil, nil, "r1", "")).must(t)
	var ie *session.IDError
	if _, err := s.Send("/q", nil, nil, "r1", ""); !errors.Is(err, session.ErrDuplicateReceipt) || !errors.As(err, &ie) || ie.ID != "r1" {
		t.Errorf("duplicate receipt on SEND: %v", err)
	}
	if _, _, err := s.Subscribe("/q", nil, "r1"); !errors.Is(err, session.ErrDuplicateReceipt) {
		t.Errorf("duplicate receipt on SUBSCRIBE: %v", err)
	}
	if len(s.Subscriptions()) != 0 {
		t.Errorf("a refused SUBSCRIBE was kept: %v", s.Subscriptions())
	}
	if _, err := s.Disconnect("r1"); !errors.Is(err, session.ErrDuplicateReceipt) || s.State() != session.Connected {
		t.Errorf("duplicate receipt on DISCONNECT: %v, state %s", err, s.State())
	}
	if _, err := s.Receipt(frame(protocol.CmdReceipt, "receipt-id", "r9")); !errors.Is(err, session.ErrUnknownReceipt) {
		t.Errorf("unknown receipt: %v", err)
	}
	if _, err := s.Receipt(frame(protocol.CmdReceipt)); !errors.Is(err, protocol.ErrMissingHeader) {
		t.Errorf("RECEIPT without receipt-id: %v", err)
	}

	// AddReceipt: a given id, generated ids, refusals.
	sub, _, err := s.Subscribe("/q", protocol.Headers{{Name: "id", Value: "s1"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if id := try(s.AddReceipt(sub, "receipt-1")).must(t); id != "receipt-1" {
		t.Errorf("AddReceipt(receipt-1) = %q", id)
	}
	if _, err := s.AddReceipt(sub, ""); !errors.Is(err, session.ErrDuplicateReceipt) {
		t.Errorf("a second receipt on one frame: %v", err)
	}
	begin, _, _ := s.Begin("t")
	if id := try(s.AddReceipt(begin, "")).must(t); id != "receipt-2" {
		t.Errorf("generated %q, want receipt-2 (receipt-1 is outstanding)", id)
	}
	commit := try(s.Commit("t")).must(t)
	if _, err := s.AddReceipt(commit, "r1"); !errors.Is(err, session.ErrDuplicateReceipt) || commit.Headers.Has("receipt") {
		t.Errorf("AddReceipt of an outstanding id: %v, %v", err, commit)
	}
	if _, err := s.AddReceipt(frame(protocol.CmdConnect), ""); !errors.Is(err, protocol.ErrUnexpectedCommand) {
		t.Errorf("AddReceipt on CONNECT: %v", err)
	}
	// Replayed SUBSCRIBEs never carry the receipt.
	if h := s.Subscriptions()[0].Headers(); h.Has("receipt") {
		t.Errorf("subscription headers %v", h)
	}
	got := s.Outstanding()
	want := []session.Confirmation{{ID: "r1", Command: protocol.CmdSend}, {ID: "receipt-1", Command: protocol.CmdSubscribe}, {ID: "receipt-2", Command: protocol.CmdBegin}}
	if !slices.Equal(got, want) {
		t.Errorf("outstanding %v, want %v", got, want)
	}
	for _, w := range want {
		c := try(s.Receipt(frame(protocol.CmdReceipt, "receipt-id", w.ID))).must(t)
		if c != w {
			t.Errorf("Receipt(%s) = %v, want %v", w.ID, c, w)
		}
	}
	if _, err := s.Receipt(frame(protocol.CmdReceipt, "receipt-id", "r1")); !errors.Is(err, session.ErrUnknownReceipt) {
		t.Errorf("a receipt received twice: %v", err)
	}

	// A DISCONNECT receipt added afterwards ends the session too.
	frames := try(s.Disconnect("")).must(t)
	id := try(s.AddReceipt(frames[len(frames)-1], "")).must(t)
	if c := try(s.Receipt(frame(protocol.CmdReceipt, "receipt-id", id))).must(t); c.Command != protocol.CmdDisconnect || s.State() != session.Disconnected {
		t.Errorf("DISCONNECT receipt: %v, state %s", c, s.State())
	}
}

func TestSubscriptions(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, connectOpts, connected12)
	_, id, err := s.Subscribe("/queue/a", nil, "")
	if err != nil || id == "" {
		t.Fatalf("Subscribe without id: %q, %v", id, err)
	}
	if _, _, err := s.Subscribe("/queue/b", protocol.Headers{{Name: "id", Value: id}}, ""); !errors.Is(err, session.ErrDuplicateSubscription) {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := s.Unsubscribe("nope"); !errors.Is(err, session.ErrUnknownSubscription) {
		t.Errorf("Unsubscribe(nope): %v", err)
	}
	subs := s.Subscriptions()
	if len(subs) != 1 || subs[0].ID != id || subs[0].Destination != "/queue/a" || subs[0].Ack != protocol.AckAuto {
		t.Errorf("subscriptions %+v", subs)
	}
	// A message of an auto subscription needs no ACK.
	msg := frame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m", "subscription", id)
	if _, err := s.Ack(msg, ""); !errors.Is(err, session.ErrAutoAck) {
		t.Errorf("Ack in mode auto: %v", err)
	}
	try(s.Unsubscribe(id)).must(t)
	if _, err := s.Message(msg); !errors.Is(err, session.ErrUnknownSubscription) {
		t.Errorf("message after unsubscribe: %v", err)
	}
	if _, err := s.Ack(msg, ""); !errors.Is(err, session.ErrUnknownSubscription) {
		t.Errorf("ack after unsubscribe: %v", err)
	}
	if _, err := s.Message(frame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m")); !errors.Is(err, protocol.ErrMissingHeader) {
		t.Errorf("1.2 message without subscription: %v", err)
	}
	if _, err := s.Message(frame(protocol.CmdReceipt)); !errors.Is(err, protocol.ErrUnexpectedCommand) {
		t.Errorf("message of the wrong command: %v", err)
	}
}

func TestMessage10ByDestination(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, protocol.ConnectOptions{Versions: []protocol.Version{protocol.V10}}, frame(protocol.CmdConnected, "session", "x"))
	try2(s.Subscribe("/queue/a", protocol.Headers{{Name: "id", Value: "a1"}, {Name: "ack", Value: "client"}}, "")).must(t)
	try2(s.Subscribe("/queue/b", protocol.Headers{{Name: "id", Value: "b1"}}, "")).must(t)
	try2(s.Subscribe("/queue/a", protocol.Headers{{Name: "id", Value: "a2"}}, "")).must(t)
	sub := try(s.Message(frame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m"))).must(t)
	if sub.ID != "a1" || sub.Ack != protocol.AckClient {
		t.Errorf("matched %+v, want the first subscription to /queue/a", sub)
	}
	if sub := try(s.Message(frame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m", "subscription", "a2"))).must(t); sub.ID != "a2" {
		t.Errorf("matched %q, want a2 named by the header", sub.ID)
	}
	_, err := s.Message(frame(protocol.CmdMessage, "destination", "/queue/c", "message-id", "m"))
	if !errors.Is(err, session.ErrUnknownSubscription) {
		t.Errorf("unknown destination: %v", err)
	}
}

func TestAckNackByVersion(t *testing.T) {
	t.Parallel()
	only10 := protocol.ConnectOptions{Versions: []protocol.Version{protocol.V10}}
	tests := []struct {
		name      string
		opts      protocol.ConnectOptions
		connected *protocol.Frame
		msg       *protocol.Frame
		tx        string
		ack, nack *protocol.Frame // nil: want wantErr
		wantErr   error
	}{
		{
			name:      "1.0",
			opts:      only10,
			connected: frame(protocol.CmdConnected, "version", "1.2"), // ignored: only 1.0 offered
			msg:       msg1,
			ack:       frame(protocol.CmdAck, "message-id", "m1", "subscription", "s1"),
			wantErr:   protocol.ErrNotSupported,
		},
		{
			name:      "1.0 without subscription",
			opts:      connectOpts,
			connected: frame(protocol.CmdConnected), // no version header: 1.0
			msg:       frame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m1"),
			tx:        "t1",
			ack:       frame(protocol.CmdAck, "message-id", "m1", "transaction", "t1"),
			wantErr:   protocol.ErrNotSupported,
		},
		{
			name:      "1.1",
			opts:      connectOpts,
			connected: frame(protocol.CmdConnected, "version", "1.1"),
			msg:       msg1,
			ack:       frame(protocol.CmdAck, "message-id", "m1", "subscription", "s1"),
			nack:      frame(protocol.CmdNack, "message-id", "m1", "subscription", "s1"),
		},
		{
			name:      "1.1 in a transaction",
			opts:      connectOpts,
			connected: frame(protocol.CmdConnected, "version", "1.1"),
			msg:       msg1,
			tx:        "t1",
			ack:       frame(protocol.CmdAck, "message-id", "m1", "subscription", "s1", "transaction", "t1"),
			nack:      frame(protocol.CmdNack, "message-id", "m1", "subscription", "s1", "transaction", "t1"),
		},
		{
			name:      "1.2",
			opts:      connectOpts,
			connected: connected12,
			msg:       msg1,
			ack:       frame(protocol.CmdAck, "id", "a1"),
			nack:      frame(protocol.CmdNack, "id", "a1"),
		},
		{
			name:      "1.2 in a transaction",
			opts:      connectOpts,
			connected: connected12,
			msg:       msg1,
			tx:        "t1",
			ack:       frame(protocol.CmdAck, "id", "a1", "transaction", "t1"),
			nack:      frame(protocol.CmdNack, "id", "a1", "transaction", "t1"),
		},
		{
			name:      "1.2 without ack header",
			opts:      connectOpts,
			connected: connected12,
			msg:       frame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m1", "subscription", "s1"),
			wantErr:   protocol.ErrMissingHeader,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := connectedSession(t, tt.opts, tt.connected)
			try2(s.Subscribe("/queue/a", protocol.Headers{{Name: "id", Value: "s1"}, {Name: "ack", Value: "client-individual"}}, "")).must(t)
			if tt.tx != "" {
				try2(s.Begin(tt.tx)).must(t)
			}
			for _, c := range []struct {
				name string
				do   func(*protocol.Frame, string) (*protocol.Frame, error)
				want *protocol.Frame
			}{{"ack", s.Ack, tt.ack}, {"nack", s.Nack, tt.nack}} {
				f, err := c.do(tt.msg, tt.tx)
				if c.want == nil {
					if !errors.Is(err, tt.wantErr) {
						t.Errorf("%s: error %v, want %v", c.name, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
					continue
				}
				checkFrames(t, []*protocol.Frame{f}, []*protocol.Frame{c.want})
			}
		})
	}
}

func TestHeartBeatNegotiation(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name         string
		client       *protocol.HeartBeatSpec
		connected    *protocol.Frame
		send, expect time.Duration
	}{
		{"both sides", heartBeat(1000*ms, 2000*ms), frame(protocol.CmdConnected, "version", "1.2", "heart-beat", "3000,4000"), 4000 * ms, 3000 * ms},
		{"client larger", heartBeat(5000*ms, 6000*ms), frame(protocol.CmdConnected, "version", "1.2", "heart-beat", "1000,1000"), 5000 * ms, 6000 * ms},
		{"client zeros", heartBeat(0, 0), frame(protocol.CmdConnected, "version", "1.2", "heart-beat", "3000,4000"), 0, 0},
		{"server zeros", heartBeat(1000*ms, 2000*ms), frame(protocol.CmdConnected, "version", "1.2", "heart-beat", "0,0"), 0, 0},
		{"we send only", heartBeat(1000*ms, 0), frame(protocol.CmdConnected, "version", "1.2", "heart-beat", "0,500"), 1000 * ms, 0},
		{"server sends only", heartBeat(0, 2000*ms), frame(protocol.CmdConnected, "version", "1.1", "heart-beat", "500,0"), 0, 2000 * ms},
		{"no client header", nil, frame(protocol.CmdConnected, "version", "1.2", "heart-beat", "3000,4000"), 0, 0},
		{"no server header", heartBeat(1000*ms, 2000*ms), frame(protocol.CmdConnected, "version", "1.2"), 0, 0},
		{"negotiated 1.0", heartBeat(1000*ms, 2000*ms), frame(protocol.CmdConnected, "heart-beat", "3000,4000"), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := connectedSession(t, protocol.ConnectOptions{HeartBeat: tt.client}, tt.connected)
			if s.SendInterval() != tt.send || s.ExpectInterval() != tt.expect {
				t.Errorf("send %v expect %v, want %v %v", s.SendInterval(), s.ExpectInterval(), tt.send, tt.expect)
			}
			s.Close()
			if s.SendInterval() != 0 || s.ExpectInterval() != 0 {
				t.Errorf("after Close: send %v expect %v", s.SendInterval(), s.ExpectInterval())
			}
		})
	}
}

func TestConnectedNegotiation(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, connectOpts, connected12)
	if s.Version() != protocol.V12 || s.Server() != "test/1" || s.ID() != "sess-1" {
		t.Errorf("version %s server %q id %q", s.Version(), s.Server(), s.ID())
	}
	s.Close()
	if s.Version() != protocol.VersionUnknown || s.Server() != "" || s.ID() != "" {
		t.Errorf("after Close: version %s server %q id %q", s.Version(), s.Server(), s.ID())
	}

	// A version that was not offered is refused; the state stays Connecting.
	s = session.New()
	try(s.Connect(protocol.ConnectOptions{Versions: []protocol.Version{protocol.V11, protocol.V12}})).must(t)
	if _, err := s.Connected(frame(protocol.CmdConnected)); !errors.Is(err, protocol.ErrVersionMismatch) || s.State() != session.Connecting {
		t.Errorf("1.0 answer to 1.1,1.2: %v, state %s", err, s.State())
	}
	if _, err := s.Connected(frame(protocol.CmdError)); !errors.Is(err, protocol.ErrUnexpectedCommand) {
		t.Errorf("ERROR given to Connected: %v", err)
	}

	// A bad CONNECT changes nothing.
	s = session.New()
	if _, err := s.Connect(protocol.ConnectOptions{Versions: []protocol.Version{protocol.V10}, HeartBeat: heartBeat(0, 0)}); err == nil || s.State() != session.Disconnected {
		t.Errorf("heart-beat with 1.0 only: %v, state %s", err, s.State())
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	s := session.New()
	try(s.Connect(connectOpts)).must(t)
	if err := s.Refused(frame(protocol.CmdConnected)); !errors.Is(err, protocol.ErrUnexpectedCommand) || s.State() != session.Connecting {
		t.Errorf("Refused(CONNECTED): %v, state %s", err, s.State())
	}
	errFrame := frame(protocol.CmdError, "message", "Virtual host '/x' access denied")
	errFrame.Body = []byte("details\n")
	err := s.Refused(errFrame)
	var re *session.RefusedError
	if !errors.As(err, &re) || re.Frame != errFrame {
		t.Fatalf("Refused: %#v, want a *RefusedError carrying the frame", err)
	}
	if got, want := err.Error(), "connect refused: Virtual host '/x' access denied: details"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if got := (&session.RefusedError{Frame: frame(protocol.CmdError)}).Error(); got != "connect refused" {
		t.Errorf("error without text %q", got)
	}
	if s.State() != session.Disconnected {
		t.Errorf("state %s", s.State())
	}
}

// TestExpect: a subscription the server made (RabbitMQ's reply-to
// temp-queues) takes its MESSAGE frames, but is never sent or replayed.
func TestExpect(t *testing.T) {
	t.Parallel()
	s := connectedSession(t, connectOpts, connected12)
	if err := s.Expect("/temp-queue/r"); err != nil {
		t.Fatal(err)
	}
	if err := s.Expect("/temp-queue/r"); !errors.Is(err, session.ErrDuplicateSubscription) {
		t.Errorf("a second Expect: %v", err)
	}
	sub := try(s.Message(frame(protocol.CmdMessage, "destination", "/reply-queue/x", "message-id", "m", "subscription", "/temp-queue/r", "ack", "a"))).must(t)
	if sub.ID != "/temp-queue/r" || sub.Ack != protocol.AckAuto {
		t.Errorf("message matched %+v", sub)
	}
	s.Lost()
	try(s.Connect(connectOpts)).must(t)
	if replay := try(s.Connected(connected12)).must(t); len(replay) != 0 {
		t.Errorf("replayed %v", replay)
	}
}
