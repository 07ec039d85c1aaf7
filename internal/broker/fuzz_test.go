package broker

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/protocol"
)

// FuzzBroker writes arbitrary bytes to a broker connection and half-closes
// it: the broker must never panic, and must always end the connection.
func FuzzBroker(f *testing.F) {
	seeds := []string{
		"CONNECT\naccept-version:1.2\n\n\x00SEND\ndestination:/queue/a\n\nx\x00",
		"CONNECT\naccept-version:1.0,1.1,1.2\nheart-beat:1,1\n\n\x00SUBSCRIBE\ndestination:/queue/a\nid:1\nack:client\n\n\x00",
		"CONNECT\n\n\x00BEGIN\ntransaction:t\n\n\x00SEND\ndestination:/topic/x\ntransaction:t\n\nb\x00COMMIT\ntransaction:t\n\n\x00",
		"STOMP\naccept-version:1.2\n\n\x00SUBSCRIBE\ndestination:/queue/b\nid:1\nbrowser:true\nselector:a = 'x' OR (b <> 2)\n\n\x00",
		"CONNECT\naccept-version:1.2\n\n\x00ACK\nid:x\n\n\x00NACK\nid:y\n\n\x00UNSUBSCRIBE\nid:z\n\n\x00",
		"CONNECT\naccept-version:1.1\n\n\x00SEND\ndestination:/q\ncontent-length:3\n\na\x00b\x00DISCONNECT\nreceipt:r\n\n\x00",
		"\n\r\n\x00\x00garbage",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	b := New(Config{Addr: "127.0.0.1:0", Limits: protocol.Limits{MaxBodySize: 1 << 16}})
	if err := b.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { b.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		nc.Write(data)
		nc.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, nc); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the broker did not end the connection after %q", data)
			}
		}
	})
}
