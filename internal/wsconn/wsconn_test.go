package wsconn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/stompest/stompest/internal/protocol"
)

func TestSubprotocols(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, []string{"v12.stomp", "v11.stomp", "v10.stomp"}},
		{[]string{"1.0", "1.1", "1.2"}, []string{"v12.stomp", "v11.stomp", "v10.stomp"}},
		{[]string{"1.1"}, []string{"v11.stomp"}},
		{[]string{"1.2", "1.0"}, []string{"v12.stomp", "v10.stomp"}},
		{[]string{"2.0"}, nil},
	}
	for _, tt := range tests {
		if got := Subprotocols(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Subprotocols(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type wsMessage struct {
	typ  int
	data []byte
}

// peer is a raw WebSocket server: it sends script, then records what it
// receives until the client goes away.
func peer(t *testing.T, script []wsMessage) (url string, got <-chan []wsMessage) {
	t.Helper()
	ch := make(chan []wsMessage, 1)
	up := websocket.Upgrader{Subprotocols: Subprotocols(nil)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for _, m := range script {
			if m.typ == websocket.CloseMessage {
				ws.WriteControl(m.typ, m.data, time.Now().Add(time.Second))
				continue
			}
			if err := ws.WriteMessage(m.typ, m.data); err != nil {
				t.Errorf("peer write: %v", err)
			}
		}
		var recv []wsMessage
		for {
			typ, data, err := ws.ReadMessage()
			if err != nil {
				break
			}
			recv = append(recv, wsMessage{typ, data})
		}
		ch <- recv
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/", ch
}

func dialPeer(t *testing.T, url string, versions []string) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, Subprotocols(versions), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestReadStream reads frames however the peer cuts them into messages:
// one frame split over three, two frames and a heart-beat in one, text and
// binary alike.
func TestReadStream(t *testing.T) {
	t.Parallel()
	url, _ := peer(t, []wsMessage{
		{websocket.TextMessage, []byte("MESS")},
		{websocket.BinaryMessage, []byte("AGE\ndestination:/q\ncontent-length:3\n\na\x00")},
		{websocket.TextMessage, []byte("b\x00")},
		{websocket.TextMessage, []byte("\n")},
		{websocket.TextMessage, []byte("RECEIPT\nreceipt-id:1\n\n\x00\nERROR\nmessage:x\n\nboom\x00")},
		{websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")},
	})
	c := dialPeer(t, url, nil)
	if c.Subprotocol() != "v12.stomp" {
		t.Errorf("subprotocol %q, want v12.stomp", c.Subprotocol())
	}
	r := protocol.NewReader(c)
	r.SetVersion(protocol.V12)
	var got []string
	for {
		f, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, string(f.Command)+" "+f.Header("destination")+f.Header("receipt-id")+f.Header("message")+" "+string(f.Body))
	}
	want := []string{"MESSAGE /q a\x00b", "heart-beat  ", "RECEIPT 1 ", "heart-beat  ", "ERROR x boom"}
	if !slices.Equal(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
}

// TestWriteMessages sends each frame and heart-beat as one message: text
// when it is UTF-8, binary otherwise or when it is too large to hold.
func TestWriteMessages(t *testing.T) {
	t.Parallel()
	url, got := peer(t, nil)
	c := dialPeer(t, url, []string{"1.1"})
	if c.Subprotocol() != "v11.stomp" {
		t.Errorf("subprotocol %q, want v11.stomp", c.Subprotocol())
	}
	w := protocol.NewWriter(c)
	w.SetVersion(protocol.V11)
	large := bytes.Repeat([]byte("0123456789abcdef"), holdLimit/16*3+1)
	frames := []*protocol.Frame{
		{Command: protocol.CmdSend, Headers: protocol.Headers{{Name: "destination", Value: "/q/ü"}}, Body: []byte("text ☕")},
		{Command: protocol.HeartBeat},
		{Command: protocol.CmdSend, Headers: protocol.Headers{{Name: "destination", Value: "/q"}}, Body: []byte("bin\xff\x00")},
		{Command: protocol.CmdSend, Headers: protocol.Headers{{Name: "destination", Value: "/big"}}, Body: large},
		{Command: protocol.CmdDisconnect},
	}
	var want []wsMessage
	for _, f := range frames {
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
		wire := []byte("\n")
		if !f.IsHeartBeat() {
			var err error
			if wire, err = protocol.Encode(f, protocol.V11); err != nil {
				t.Fatal(err)
			}
		}
		typ := websocket.TextMessage
		if f.Body != nil && (f.Body[0] == 'b') {
			typ = websocket.BinaryMessage
		}
		if len(wire) > holdLimit {
			typ = websocket.BinaryMessage
		}
		want = append(want, wsMessage{typ, wire})
	}
	if w.Buffered() != 0 {
		t.Errorf("%d bytes left buffered: each frame must leave at once", w.Buffered())
	}
	c.Close()
	recv := <-got
	if len(recv) != len(want) {
		t.Fatalf("peer got %d messages, want %d", len(recv), len(want))
	}
	for i := range want {
		if recv[i].typ != want[i].typ || !bytes.Equal(recv[i].data, want[i].data) {
			t.Errorf("message %d: type %d, %d bytes %.40q; want type %d, %d bytes %.40q",
				i, recv[i].typ, len(recv[i].data), recv[i].data, want[i].typ, len(want[i].data), want[i].data)
		}
	}
}

// TestPeerGoesAway: a close message or a dropped connection is the end of
// the stream; a close with an error code is an error naming it.
func TestPeerGoesAway(t *testing.T) {
	t.Parallel()
	url, _ := peer(t, []wsMessage{
		{websocket.TextMessage, []byte("\n")},
		{websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "overloaded")},
	})
	c := dialPeer(t, url, nil)
	buf := make([]byte, 10)
	if n, err := c.Read(buf); n != 1 || err != nil {
		t.Fatalf("Read = %d, %v; want the heart-beat", n, err)
	}
	if _, err := c.Read(buf); err == nil || err == io.EOF || !strings.Contains(err.Error(), "overloaded") {
		t.Errorf("Read after an error close = %v, want an error naming it", err)
	}

	url, _ = peer(t, []wsMessage{{websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")}})
	c = dialPeer(t, url, nil)
	if _, err := c.Read(buf); err != io.EOF {
		t.Errorf("Read after a normal close = %v, want io.EOF", err)
	}
}

func TestHandshakeRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/stomp", nil, nil, nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != "404 Not Found" {
		t.Fatalf("Dial to a plain HTTP server: %v, want a HandshakeError with 404", err)
	}
	if got := err.Error(); got != "WebSocket handshake refused: HTTP 404 Not Found" {
		t.Errorf("error text %q", got)
	}
}

// TestHandler serves the STOMP subprotocols and hands each connection to
// its serve function as a Conn.
func TestHandler(t *testing.T) {
	t.Parallel()
	conns := make(chan net.Conn, 1)
	srv := httptest.NewServer(Handler(func(c net.Conn) { conns <- c }))
	defer srv.Close()
	c := dialPeer(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/", []string{"1.0"})
	if c.Subprotocol() != "v10.stomp" {
		t.Errorf("subprotocol %q, want v10.stomp", c.Subprotocol())
	}
	sc := <-conns
	defer sc.Close()
	w := protocol.NewWriter(sc)
	if err := w.WriteFrame(&protocol.Frame{Command: protocol.CmdConnected, Headers: protocol.Headers{{Name: "version", Value: "1.0"}}}); err != nil {
		t.Fatal(err)
	}
	f, err := protocol.NewReader(c).Read()
	if err != nil || f.Command != protocol.CmdConnected || f.Header("version") != "1.0" {
		t.Errorf("client read %v, %v; want CONNECTED version 1.0", f, err)
	}
}

// TestHandlerPlainStomp: a client that offers only the subprotocol
// "stomp" (as some browser clients do) has it, as from ActiveMQ.
func TestHandlerPlainStomp(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler(func(c net.Conn) { c.Close() }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/", []string{"stomp"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Subprotocol() != "stomp" {
		t.Errorf("subprotocol %q, want stomp", c.Subprotocol())
	}
}
