// Package wsconn carries STOMP over WebSocket: it turns a WebSocket
// connection into the byte stream the protocol package reads and writes,
// for the client (Dial) and for the embedded broker (Handler).
//
// Incoming messages, text or binary, are read as one stream: a STOMP frame
// split across messages and several frames in one message both parse, and
// a message holding a single EOL is a heart-beat like any other. Outgoing,
// each STOMP frame or heart-beat is one message, as brokers that parse one
// frame per message (ActiveMQ) require: the protocol Writer calls
// EndMessage after each. A message is sent as text when it is valid UTF-8
// and as binary otherwise, so that browsers' STOMP clients can read every
// text frame as a string; a frame too large to hold goes as a binary
// message streamed in fragments.
//
// The subprotocols v12.stomp, v11.stomp and v10.stomp (STOMP 1.2 "Frames
// and Headers" of the WebSocket mapping) are offered and accepted; the
// Handler also accepts plain "stomp", as ActiveMQ does, for clients that
// offer only that (the version is then the CONNECT's accept-version).
package wsconn

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// holdLimit is the size up to which an outgoing message is held to choose
// between text and binary; a larger one is streamed as binary.
const holdLimit = 64 << 10

// Subprotocols returns the WebSocket subprotocols for the STOMP versions
// vs (as "1.0", "1.1", "1.2"), highest first; all three when vs is empty.
func Subprotocols(vs []string) []string {
	all := []string{"v12.stomp", "v11.stomp", "v10.stomp"}
	if len(vs) == 0 {
		return all
	}
	var out []string
	for _, p := range all {
		for _, v := range vs {
			if p == "v"+strings.ReplaceAll(v, ".", "")+".stomp" {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Conn is a WebSocket connection seen as a net.Conn. One goroutine may
// read while another writes; Close may be called at any time.
type Conn struct {
	ws     *websocket.Conn
	r      io.Reader // the message being read, nil between messages
	server string    // the Server header of the handshake's answer (Dial)

	hold []byte         // the outgoing message, while it is small
	w    io.WriteCloser // the outgoing message, once it is streamed
}

// New wraps an established WebSocket connection.
func New(ws *websocket.Conn) *Conn { return &Conn{ws: ws} }

// Subprotocol returns the subprotocol the peers agreed on, or "".
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// Server returns the Server header of the server's answer to the
// WebSocket handshake, or "" (always "" on the server side). It names the
// web server before any STOMP frame does: RabbitMQ's Web-STOMP answers
// "Cowboy".
func (c *Conn) Server() string { return c.server }

// Read reads the incoming messages as one stream. A close message from the
// peer, or a connection that ends, is io.EOF.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			_, r, err := c.ws.NextReader()
			if err != nil {
				return 0, readError(err)
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if err == io.EOF {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		if err != nil {
			err = readError(err)
		}
		return n, err
	}
}

// readError maps the end of the WebSocket conversation to io.EOF and keeps
// every other error, timeouts included, as it is.
func readError(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF) {
		if ce != nil && ce.Code != websocket.CloseNormalClosure && ce.Code != websocket.CloseGoingAway && ce.Code != websocket.CloseNoStatusReceived {
			return err
		}
		return io.EOF
	}
	return err
}

// Write adds p to the outgoing message, which EndMessage sends.
func (c *Conn) Write(p []byte) (int, error) {
	if c.w == nil {
		if len(c.hold)+len(p) <= holdLimit {
			c.hold = append(c.hold, p...)
			return len(p), nil
		}
		w, err := c.ws.NextWriter(websocket.BinaryMessage)
		if err != nil {
			return 0, err
		}
		c.w = w
		if _, err := w.Write(c.hold); err != nil {
			return 0, err
		}
		c.hold = c.hold[:0]
	}
	return c.w.Write(p)
}

// EndMessage sends what was written since the previous EndMessage as one
// WebSocket message; it sends nothing when nothing was written.
func (c *Conn) EndMessage() error {
	if c.w != nil {
		w := c.w
		c.w = nil
		return w.Close()
	}
	if len(c.hold) == 0 {
		return nil
	}
	typ := websocket.TextMessage
	if !utf8.Valid(c.hold) {
		typ = websocket.BinaryMessage
	}
	err := c.ws.WriteMessage(typ, c.hold)
	if cap(c.hold) > holdLimit {
		c.hold = nil
	} else {
		c.hold = c.hold[:0]
	}
	return err
}

// Close sends a close message, without waiting for the peer's, and closes
// the connection.
func (c *Conn) Close() error {
	c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return c.ws.Close()
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.ws.LocalAddr() }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.ws.RemoteAddr() }

// SetDeadline sets the read and write deadlines. A read that times out
// leaves the connection unusable, as WebSocket framing is then lost.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.ws.SetReadDeadline(t); err != nil {
		return err
	}
	return c.ws.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }

// Dial opens a WebSocket connection to url (ws:// or wss://) offering
// subprotocols, over a TCP connection made by dial (nil: a net.Dialer) and,
// for wss://, TLS with tlsConfig.
func Dial(ctx context.Context, url string, subprotocols []string,
	dial func(ctx context.Context, network, addr string) (net.Conn, error), tlsConfig *tls.Config) (*Conn, error) {
	d := websocket.Dialer{
		NetDialContext:  dial,
		TLSClientConfig: tlsConfig,
		Subprotocols:    subprotocols,
		ReadBufferSize:  32 << 10,
		WriteBufferSize: 32 << 10,
	}
	if d.NetDialContext == nil {
		var nd net.Dialer
		d.NetDialContext = nd.DialContext
	}
	ws, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil {
			return nil, &HandshakeError{Status: resp.Status}
		}
		return nil, err
	}
	c := New(ws)
	c.server = resp.Header.Get("Server")
	return c, nil
}

// HandshakeError is an HTTP answer that was not the switch to WebSocket:
// a wrong path, or a server that does not speak WebSocket there.
type HandshakeError struct {
	Status string // as "404 Not Found"
}

func (e *HandshakeError) Error() string {
	return "WebSocket handshake refused: HTTP " + e.Status
}

// Handler returns an HTTP handler that upgrades every request to a
// WebSocket connection speaking one of the STOMP subprotocols and passes
// it to serve, which owns it from then on. Browsers' requests from any
// origin are accepted: the broker it serves is meant for local work.
func Handler(serve func(net.Conn)) http.Handler {
	up := websocket.Upgrader{
		Subprotocols:    append(Subprotocols(nil), "stomp"),
		ReadBufferSize:  32 << 10,
		WriteBufferSize: 32 << 10,
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // the Upgrader answered with an HTTP error
		}
		serve(New(ws))
	})
}
