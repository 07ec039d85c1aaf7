package client

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
)

// TestWebSocketTLS: wss:// verifies the broker's certificate like ssl://,
// and a message goes through once it is trusted.
func TestWebSocketTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	b := broker.New(broker.Config{Addr: "127.0.0.1:0", WSAddr: "127.0.0.1:0",
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	uri := "wss://" + b.WSAddr() + "/"

	c, err := dial(t, uri, Config{TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatalf("wss with the CA trusted: %v", err)
	}
	r, err := c.Send("/queue/wss", []byte("secure"), SendOptions{Receipt: true})
	if err == nil {
		err = c.Flush()
	}
	if err == nil {
		err = c.WaitReceipt(context.Background(), r)
	}
	if err != nil {
		t.Fatalf("send over wss: %v", err)
	}
	if err := c.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := b.QueueDepth("/queue/wss"); n != 1 {
		t.Errorf("the broker holds %d messages, want 1", n)
	}

	_, err = dial(t, uri, Config{ConnectTimeout: 300 * time.Millisecond})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !ue.TLSVerifyFailed() {
		t.Errorf("wss to an untrusted certificate: %v, want a verification failure", err)
	}
}
