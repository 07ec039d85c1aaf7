package protocol

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func headersOf(nv ...string) Headers { return NewFrame(CmdSend, nv...).Headers }

func TestConnect(t *testing.T) {
	t.Parallel()
	hb := &HeartBeatSpec{Send: 10 * time.Second, Receive: 1500 * time.Microsecond}
	tests := []struct {
		name string
		opts ConnectOptions
		want *Frame
		err  error
	}{
		{"defaults offer every version", ConnectOptions{Host: "/"},
			NewFrame(CmdConnect, "accept-version", "1.0,1.1,1.2", "host", "/"), nil},
		{"versions sorted and deduplicated", ConnectOptions{Versions: []Version{V12, V11, V12}},
			NewFrame(CmdConnect, "accept-version", "1.1,1.2", "host", ""), nil},
		{"login and heart-beat in ms, rounded up", ConnectOptions{Login: "u", Passcode: "p", HeartBeat: hb, Host: "vh"},
			NewFrame(CmdConnect, "accept-version", "1.0,1.1,1.2", "host", "vh", "login", "u", "passcode", "p", "heart-beat", "10000,2"), nil},
		{"only 1.0: no accept-version", ConnectOptions{Versions: []Version{V10}},
			NewFrame(CmdConnect), nil},
		{"only 1.0 keeps a given host", ConnectOptions{Versions: []Version{V10}, Host: "h"},
			NewFrame(CmdConnect, "host", "h"), nil},
		{"STOMP command", ConnectOptions{Stomp: true, Versions: []Version{V12}, Host: "h"},
			NewFrame(CmdStomp, "accept-version", "1.2", "host", "h"), nil},
		{"extra headers after, standard ones win", ConnectOptions{Versions: []Version{V12}, Headers: headersOf("client-id", "c1", "host", "other")},
			NewFrame(CmdConnect, "accept-version", "1.2", "host", "", "client-id", "c1"), nil},
		{"heart-beat refused on 1.0", ConnectOptions{Versions: []Version{V10}, HeartBeat: hb}, nil, ErrNotSupported},
		{"STOMP refused on 1.0", ConnectOptions{Versions: []Version{V10}, Stomp: true}, nil, ErrNotSupported},
		{"negative heart-beat", ConnectOptions{HeartBeat: &HeartBeatSpec{Send: -time.Second}}, nil, ErrInvalidHeartBeat},
		{"unknown version", ConnectOptions{Versions: []Version{Version(9)}}, nil, ErrUnsupportedVersion},
	}
	for _, tc := range tests {
		got, err := Connect(tc.opts)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			continue
		}
		if tc.want != nil && !framesEqual([]*Frame{got}, []*Frame{tc.want}) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

func TestParseConnected(t *testing.T) {
	t.Parallel()
	all := []Version{V10, V11, V12}
	tests := []struct {
		name    string
		frame   *Frame
		offered []Version
		want    Connected
		err     error
	}{
		{"1.2 with everything", NewFrame(CmdConnected, "version", "1.2", "server", "x/1", "session", "s1", "heart-beat", "0, 5000"), all,
			Connected{Version: V12, Server: "x/1", Session: "s1", HeartBeat: HeartBeatSpec{0, 5 * time.Second}}, nil},
		{"no version header means 1.0", NewFrame(CmdConnected, "session", "s"), all,
			Connected{Version: V10, Session: "s"}, nil},
		{"1.0 ignores server and heart-beat", NewFrame(CmdConnected, "version", "1.0", "server", "x", "heart-beat", "1,1"), all,
			Connected{Version: V10}, nil},
		{"only 1.0 offered: version header ignored", NewFrame(CmdConnected, "version", "1.2"), []Version{V10},
			Connected{Version: V10}, nil},
		{"missing version when 1.0 not offered", NewFrame(CmdConnected), []Version{V11, V12}, Connected{}, ErrVersionMismatch},
		{"version not offered", NewFrame(CmdConnected, "version", "1.1"), []Version{V12}, Connected{}, ErrVersionMismatch},
		{"unknown version", NewFrame(CmdConnected, "version", "1.3"), all, Connected{}, ErrVersionMismatch},
		{"bad heart-beat", NewFrame(CmdConnected, "version", "1.1", "heart-beat", "x,1"), all, Connected{}, ErrInvalidHeartBeat},
		{"one-value heart-beat", NewFrame(CmdConnected, "version", "1.1", "heart-beat", "10"), all, Connected{}, ErrInvalidHeartBeat},
		{"negative heart-beat", NewFrame(CmdConnected, "version", "1.1", "heart-beat", "-1,0"), all, Connected{}, ErrInvalidHeartBeat},
		{"ERROR instead", NewFrame(CmdError, "message", "no"), all, Connected{}, ErrUnexpectedCommand},
	}
	for _, tc := range tests {
		got, err := ParseConnected(tc.frame, tc.offered)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestNegotiateHeartBeat(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		client, server HeartBeatSpec
		send, expect   time.Duration
	}{
		{HeartBeatSpec{10 * s, 10 * s}, HeartBeatSpec{5 * s, 20 * s}, 20 * s, 10 * s},
		{HeartBeatSpec{0, 10 * s}, HeartBeatSpec{5 * s, 20 * s}, 0, 10 * s},
		{HeartBeatSpec{10 * s, 0}, HeartBeatSpec{5 * s, 20 * s}, 20 * s, 0},
		{HeartBeatSpec{10 * s, 10 * s}, HeartBeatSpec{0, 0}, 0, 0},
		{HeartBeatSpec{1 * s, 1 * s}, HeartBeatSpec{3 * s, 2 * s}, 2 * s, 3 * s},
	}
	for _, tc := range tests {
		send, expect := NegotiateHeartBeat(tc.client, tc.server)
		if send != tc.send || expect != tc.expect {
			t.Errorf("%v vs %v: send %v expect %v, want %v %v", tc.client, tc.server, send, expect, tc.send, tc.expect)
		}
	}
}

func TestSendAndSubscribe(t *testing.T) {
	t.Parallel()
	f := Send("/queue/a", []byte("x"), headersOf("destination", "/other", "content-length", "9", "k", "v", "receipt", "old"), "r1")
	want := NewFrame(CmdSend, "destination", "/queue/a", "k", "v", "receipt", "r1")
	want.Body = []byte("x")
	if !framesEqual([]*Frame{f}, []*Frame{want}) {
		t.Errorf("Send: got %v, want %v", f, want)
	}

	f, id := Subscribe("/topic/t", headersOf("id", "mine", "ack", "client"), "")
	if id != "mine" || !framesEqual([]*Frame{f}, []*Frame{NewFrame(CmdSubscribe, "destination", "/topic/t", "id", "mine", "ack", "client")}) {
		t.Errorf("Subscribe with id: %v %q", f, id)
	}
	f1, id1 := Subscribe("/q", nil, "r")
	_, id2 := Subscribe("/q", nil, "")
	if id1 == "" || id1 == id2 || f1.Header("id") != id1 || f1.Header("receipt") != "r" {
		t.Errorf("generated ids %q %q in %v", id1, id2, f1)
	}

	if _, err := Unsubscribe("", ""); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("Unsubscribe without id: %v", err)
	}
	if f, _ := Unsubscribe("s1", "r"); !reflect.DeepEqual(f.Headers, headersOf("id", "s1", "receipt", "r")) {
		t.Errorf("Unsubscribe: %v", f)
	}
	if _, err := UnsubscribeDestination("/q", "", V11); !errors.Is(err, ErrNotSupported) {
		t.Errorf("UnsubscribeDestination on 1.1: %v", err)
	}
	if f, _ := UnsubscribeDestination("/q", "", V10); f.Header("destination") != "/q" {
		t.Errorf("UnsubscribeDestination on 1.0: %v", f)
	}
}

func TestAckNack(t *testing.T) {
	t.Parallel()
	msg := NewFrame(CmdMessage, "destination", "/q", "message-id", "m1", "subscription", "s1", "ack", "a1", "k", "v")
	tests := []struct {
		name string
		fn   func(*Frame, Version, string, string) (*Frame, error)
		msg  *Frame
		v    Version
		tx   string
		want *Frame
		err  error
	}{
		{"ACK 1.2 sends the ack header as id", Ack, msg, V12, "", NewFrame(CmdAck, "id", "a1"), nil},
		{"ACK 1.1", Ack, msg, V11, "", NewFrame(CmdAck, "message-id", "m1", "subscription", "s1"), nil},
		{"ACK 1.0", Ack, msg, V10, "t1", NewFrame(CmdAck, "message-id", "m1", "subscription", "s1", "transaction", "t1"), nil},
		{"ACK 1.0 without subscription", Ack, NewFrame(CmdMessage, "message-id", "m"), V10, "", NewFrame(CmdAck, "message-id", "m"), nil},
		{"NACK 1.2 in a transaction", Nack, msg, V12, "t", NewFrame(CmdNack, "id", "a1", "transaction", "t"), nil},
		{"NACK 1.0 refused", Nack, msg, V10, "", nil, ErrNotSupported},
		{"1.2 needs the ack header", Ack, NewFrame(CmdMessage, "message-id", "m", "subscription", "s"), V12, "", nil, ErrMissingHeader},
		{"1.1 needs subscription", Ack, NewFrame(CmdMessage, "message-id", "m"), V11, "", nil, ErrMissingHeader},
		{"needs message-id", Ack, NewFrame(CmdMessage, "subscription", "s"), V11, "", nil, ErrMissingHeader},
		{"only a MESSAGE", Ack, NewFrame(CmdReceipt), V12, "", nil, ErrUnexpectedCommand},
	}
	for _, tc := range tests {
		got, err := tc.fn(tc.msg, tc.v, tc.tx, "")
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			continue
		}
		if tc.want != nil && !framesEqual([]*Frame{got}, []*Frame{tc.want}) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTransactionsAndDisconnect(t *testing.T) {
	t.Parallel()
	for _, fn := range []func(string, string) (*Frame, error){Begin, Commit, Abort} {
		if _, err := fn("", ""); !errors.Is(err, ErrMissingHeader) {
			t.Errorf("empty transaction: %v", err)
		}
		f, err := fn("t1", "r1")
		if err != nil || !reflect.DeepEqual(f.Headers, headersOf("transaction", "t1", "receipt", "r1")) {
			t.Errorf("%v %v", f, err)
		}
	}
	if f := Disconnect("bye"); f.Command != CmdDisconnect || f.Header("receipt") != "bye" {
		t.Errorf("Disconnect: %v", f)
	}
	if f := Disconnect(""); len(f.Headers) != 0 {
		t.Errorf("Disconnect without receipt: %v", f)
	}
}

func TestServerFrames(t *testing.T) {
	t.Parallel()
	if sub, err := Message(NewFrame(CmdMessage, "destination", "/q", "message-id", "1", "subscription", "s"), V12); err != nil || sub != "s" {
		t.Errorf("Message: %q %v", sub, err)
	}
	if _, err := Message(NewFrame(CmdMessage, "destination", "/q", "message-id", "1"), V11); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("Message without subscription on 1.1: %v", err)
	}
	if sub, err := Message(NewFrame(CmdMessage, "destination", "/q", "message-id", "1"), V10); err != nil || sub != "" {
		t.Errorf("Message without subscription on 1.0: %q %v", sub, err)
	}
	if _, err := Message(NewFrame(CmdMessage, "message-id", "1", "subscription", "s"), V12); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("Message without destination: %v", err)
	}
	if id, err := Receipt(NewFrame(CmdReceipt, "receipt-id", "r9")); err != nil || id != "r9" {
		t.Errorf("Receipt: %q %v", id, err)
	}
	if _, err := Receipt(NewFrame(CmdReceipt)); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("Receipt without id: %v", err)
	}
	e := NewFrame(CmdError, "message", "Virtual host '/x' access denied")
	e.Body = []byte("\n  details here\nmore\n")
	if got := ErrorText(e); got != "Virtual host '/x' access denied: details here" {
		t.Errorf("ErrorText: %q", got)
	}
	if got := ErrorText(NewFrame(CmdError)); got != "" {
		t.Errorf("ErrorText of an empty ERROR: %q", got)
	}
}
