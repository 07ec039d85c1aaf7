package broker

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/stompest/stompest/internal/protocol"
	"github.com/stompest/stompest/internal/wsconn"
)

// dialBytes opens a connection that speaks STOMP as raw bytes, as the
// clients of PHP, Perl and Ruby do, and writes greeting.
func dialBytes(t *testing.T, addr, greeting string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := nc.Write([]byte(greeting)); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	return nc, bufio.NewReader(nc)
}

// TestHeaderWithNewlineTo10: a header a STOMP 1.0 frame cannot carry
// reaches a 1.0 subscriber escaped, and its connection lives on.
func TestHeaderWithNewlineTo10(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	_, br := dialBytes(t, b.Addr(), "CONNECT\nlogin:x\n\n\x00SUBSCRIBE\ndestination:/queue/nl\nreceipt:r\n\n\x00")
	readFrame := func() string {
		t.Helper()
		s, err := br.ReadString(0)
		if err != nil {
			t.Fatalf("read: %v (after %q)", err, s)
		}
		return strings.TrimLeft(s, "\n")
	}
	if f := readFrame(); !strings.HasPrefix(f, "CONNECTED\n") {
		t.Fatalf("got %q", f)
	}
	if f := readFrame(); !strings.HasPrefix(f, "RECEIPT\n") {
		t.Fatalf("got %q", f)
	}
	prod := connect(t, b, protocol.V12)
	prod.send(sendTo("/queue/nl", "one", "multi", "a\nb\\c:d", "we\nird", "x", "plain", "a:b\\c"))
	prod.send(sendTo("/queue/nl", "two"))
	first := readFrame()
	for _, line := range []string{"\nmulti:a\\nb\\\\c\\cd\n", "\nwe\\nird:x\n", "\nplain:a:b\\c\n"} {
		if !strings.Contains(first, line) {
			t.Errorf("first message %q lacks %q", first, line)
		}
	}
	if !strings.HasSuffix(first, "\n\none\x00") {
		t.Errorf("first message %q", first)
	}
	if second := readFrame(); !strings.HasPrefix(second, "MESSAGE\n") || !strings.HasSuffix(second, "\n\ntwo\x00") {
		t.Fatalf("second message %q", second)
	}
}

// TestFramesEndWithEOL: every frame the broker sends (CONNECTED, MESSAGE,
// RECEIPT, ERROR) ends with a NUL and an EOL, in every version, as PECL
// stomp expects: read up to the NUL, then the next byte.
func TestFramesEndWithEOL(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	prod := connect(t, b, protocol.V12)
	for _, v := range []string{"1.0", "1.1", "1.2"} {
		nc, br := dialBytes(t, b.Addr(), "CONNECT\naccept-version:"+v+"\n\n\x00")
		expect := func(cmd string) string {
			t.Helper()
			s, err := br.ReadString(0)
			if err != nil {
				t.Fatalf("%s: %s: %v", v, cmd, err)
			}
			if !strings.HasPrefix(s, cmd+"\n") {
				t.Fatalf("%s: got %q, want %s", v, s, cmd)
			}
			if c, err := br.ReadByte(); err != nil || c != '\n' {
				t.Fatalf("%s: after %s's NUL: %q %v, want an EOL", v, cmd, c, err)
			}
			return s
		}
		dest := "/queue/eol-" + v
		expect("CONNECTED")
		nc.Write([]byte("SUBSCRIBE\nid:s\ndestination:" + dest + "\nreceipt:r\n\n\x00"))
		expect("RECEIPT")
		prod.send(sendTo(dest, "small"))
		expect("MESSAGE")
		prod.send(sendTo(dest, strings.Repeat("L", arenaOwn+1)))
		if m := expect("MESSAGE"); !strings.HasSuffix(m, strings.Repeat("L", arenaOwn+1)+"\x00") {
			t.Fatalf("%s: the large message is cut", v)
		}
		nc.Write([]byte("BOGUS\n\n\x00"))
		expect("ERROR")
	}
	// Over WebSocket the EOL goes in the frame's message.
	b2 := start(t, Config{WSAddr: "127.0.0.1:0"})
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+b2.WSAddr()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte("CONNECT\naccept-version:1.2\n\n\x00"))
	if _, msg, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(msg, []byte("CONNECTED\n")) || !bytes.HasSuffix(msg, []byte("\x00\n")) {
		t.Fatalf("over WebSocket: %q %v", msg, err)
	}
}

// TestHeartBeatSchedule: a beat leaves once nothing was written for half
// the interval, and the writer looks often enough that no gap reaches
// 3/4 of it.
func TestHeartBeatSchedule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ send, expect time.Duration }{
		{time.Second, 0}, {time.Second, 10 * time.Second}, {10 * time.Second, time.Second}, {2 * time.Millisecond, 0},
	} {
		p := beatPeriod(tc.send, tc.expect)
		if worst := tc.send/2 + p; worst > tc.send*3/4 && tc.send > 8*time.Millisecond {
			t.Errorf("send %v expect %v: a beat may leave %v after the last write", tc.send, tc.expect, worst)
		}
		if tc.expect > 0 && p > tc.expect/4 {
			t.Errorf("expect %v: silence checked every %v", tc.expect, p)
		}
	}
	if beatDue(499*time.Millisecond, time.Second) || !beatDue(500*time.Millisecond, time.Second) || beatDue(time.Hour, 0) {
		t.Error("beatDue: want a beat at half the interval")
	}
}

// TestHeartBeatsEarly reads a broker's heart-beats as a strict client
// does, the time between the bytes it receives: none comes later than the
// negotiated interval (a beat is due at half of it; 17/20 leaves room for
// a busy machine). Not parallel, so that the package's load tests do not
// delay the broker's writer.
func TestHeartBeatsEarly(t *testing.T) {
	const interval = time.Second
	b := start(t, Config{HeartBeat: protocol.HeartBeatSpec{Send: interval}})
	_, br := dialBytes(t, b.Addr(), "CONNECT\naccept-version:1.2\nheart-beat:0,1000\n\n\x00")
	if _, err := br.ReadString(0); err != nil {
		t.Fatal(err)
	}
	last := time.Now()
	var worst time.Duration
	for range 5 { // the EOL after CONNECTED, then four beats
		if _, err := br.ReadByte(); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		worst = max(worst, now.Sub(last))
		last = now
	}
	// Beats are due at 5/8 of the interval; what a client measuring
	// strictly must never see is a gap of the whole interval (beats sent
	// at the interval itself, as before, always showed one).
	if worst >= interval {
		t.Fatalf("a heart-beat came %v after the previous byte; negotiated %v", worst, interval)
	}
}

// TestErrorReceiptID: an ERROR answering a frame with a receipt header
// carries its receipt-id, as STOMP 1.2 asks ("the ERROR frame SHOULD set
// the receipt-id header"), so that a client can tell which frame failed;
// also for a frame that waited behind a SEND held for memory.
func TestErrorReceiptID(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	p := connect(t, b, protocol.V12)
	p.send(protocol.NewFrame(protocol.CmdSend, "receipt", "r:77"))
	f := p.read()
	if f.Command != protocol.CmdError || f.Header("receipt-id") != "r:77" || f.Header("message") != "SEND without a destination" {
		t.Fatalf("got %v, want ERROR with receipt-id r:77", f)
	}

	held := start(t, Config{MaxMemory: 4 << 10})
	p = connect(t, held, protocol.V12)
	p.send(sendTo("/queue/full", strings.Repeat("x", 4<<10))) // over the budget: the next SEND waits
	p.send(sendTo("/queue/full", "held"))
	p.send(protocol.NewFrame(protocol.CmdCommit, "transaction", "none", "receipt", "behind"))
	c := connect(t, held, protocol.V12)
	c.send(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/full", "id", "s"))
	for f = p.read(); f.Command != protocol.CmdError; f = p.read() {
	}
	if f.Header("receipt-id") != "behind" || !strings.Contains(f.Header("message"), "unknown transaction") {
		t.Fatalf("got %v, want ERROR with receipt-id behind", f)
	}
}

// TestConnectErrorUnescaped: an ERROR answering a CONNECT is written as
// STOMP 1.0 writes it, without escapes: no version is agreed yet (clients
// show "\c" in the message otherwise), and a 1.0 client has none anyway.
func TestConnectErrorUnescaped(t *testing.T) {
	t.Parallel()
	b := start(t, Config{User: "admin", Password: "secret"})
	for _, accept := range []string{"", "accept-version:1.2\n"} {
		_, br := dialBytes(t, b.Addr(), "CONNECT\n"+accept+"login:admin\npasscode:bad\nreceipt:c:1\n\n\x00")
		frame, err := br.ReadString(0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(frame, "ERROR\n") || !strings.Contains(frame, "\nmessage:Authentication failed: bad login") ||
			!strings.Contains(frame, "\nreceipt-id:c:1\n") {
			t.Errorf("%q: the broker answered %q", accept, frame)
		}
	}
}

// TestWebSocketBeats: over WebSocket, whose writer sends each frame and
// beat as it goes, the broker beats as often as over TCP, once nothing
// was written for half the interval: about 2 s / 200 ms = 10 beats in two
// seconds with a 400 ms interval, not one every eighth of it.
func TestWebSocketBeats(t *testing.T) {
	t.Parallel()
	const interval = 400 * time.Millisecond
	b := start(t, Config{WSAddr: "127.0.0.1:0", HeartBeat: protocol.HeartBeatSpec{Send: interval}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsconn.Dial(ctx, "ws://"+b.WSAddr()+"/", wsconn.Subprotocols(nil), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := protocol.NewWriter(c)
	if err := w.WriteFrame(protocol.NewFrame(protocol.CmdConnect, "accept-version", "1.2", "heart-beat", "0,400")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := protocol.NewReader(c)
	if f, err := r.Read(); err != nil || f.Command != protocol.CmdConnected {
		t.Fatalf("CONNECT answered with %v, %v", f, err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	beats := 0
	for {
		f, err := r.Read()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				break
			}
			t.Fatal(err)
		}
		if !f.IsHeartBeat() {
			t.Fatalf("got %v", f)
		}
		beats++
	}
	if beats < 2 || beats > 12 {
		t.Fatalf("%d heart-beats in 2s with an interval of %v, want about 10", beats, interval)
	}
}

// TestAck10EscapedMessageID: a 1.0 client that escapes its headers as 1.2
// does (go-stomp) acknowledges ID:stompest-1 as ID\cstompest-1; the broker
// takes it, as the message it means.
func TestAck10EscapedMessageID(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	p := connect(t, b, protocol.V10)
	p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/esc", "ack", "client"), "sub")
	msgs := p.sync(sendTo("/queue/esc", "m"), "sent")
	if len(msgs) == 0 {
		msgs = append(msgs, p.read())
	}
	m := msgs[0]
	mid := m.Header("message-id")
	if !strings.Contains(mid, ":") {
		t.Fatalf("message-id %q has no colon to escape", mid)
	}
	p.sync(protocol.NewFrame(protocol.CmdAck, "message-id", strings.ReplaceAll(mid, ":", `\c`)), "acked")
	if held := b.MemoryHeld(); held != 0 {
		t.Fatalf("%d bytes held after the ACK", held)
	}
}

// TestHeaders10Trimmed: on a STOMP 1.0 connection, spaces around header
// names and values are dropped, as ActiveMQ and Artemis read 1.0 (stomper
// writes "destination: /queue/a"); from 1.1 on they are the value's.
func TestHeaders10Trimmed(t *testing.T) {
	t.Parallel()
	b := start(t, Config{})
	nc, br := dialBytes(t, b.Addr(), "CONNECT\n\n\x00"+
		"SUBSCRIBE\ndestination: /queue/trim \nack: client\nreceipt: sub\n\n\x00"+
		"SEND\ndestination:\t/queue/trim\nkeep: a value \nreceipt:sent\n\nm\x00")
	r := protocol.NewReader(br)
	var m *protocol.Frame
	for m == nil {
		f, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		switch f.Command {
		case protocol.CmdError:
			t.Fatalf("got %v", f)
		case protocol.CmdMessage:
			m = f.Clone()
		}
	}
	if m.Header("destination") != "/queue/trim" || m.Header("keep") != "a value" {
		t.Fatalf("MESSAGE %v", m)
	}
	if _, err := nc.Write([]byte("ACK\nmessage-id: " + m.Header("message-id") + "\nreceipt:acked\n\n\x00")); err != nil {
		t.Fatal(err)
	}
	for f, err := r.Read(); f == nil || f.Header("receipt-id") != "acked"; f, err = r.Read() {
		if err != nil || f.Command == protocol.CmdError {
			t.Fatalf("after the ACK: %v %v", f, err)
		}
	}
	if held := b.MemoryHeld(); held != 0 {
		t.Fatalf("%d bytes held after the ACK", held)
	}

	// A 1.0 CONNECT (no accept-version) too.
	auth := start(t, Config{User: "admin", Password: "secret"})
	_, ar := dialBytes(t, auth.Addr(), "CONNECT\nlogin: admin\npasscode:\tsecret\n\n\x00")
	if frame, err := ar.ReadString(0); err != nil || !strings.HasPrefix(frame, "CONNECTED\n") {
		t.Fatalf("a padded 1.0 CONNECT answered %q, %v", frame, err)
	}

	p := connect(t, b, protocol.V12)
	msgs := p.sync(protocol.NewFrame(protocol.CmdSubscribe, "destination", "/queue/kept", "id", "s"), "s")
	p.send(sendTo("/queue/kept", "m", "keep", " a value "))
	if len(msgs) == 0 {
		msgs = append(msgs, p.read())
	}
	if v := msgs[0].Header("keep"); v != " a value " {
		t.Fatalf("1.2: header %q, want it as sent", v)
	}
}
