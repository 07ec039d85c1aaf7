//go:build unix

package main

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/protocol"
)

// TestInterrupted checks that SIGINT and SIGTERM end a subscribe cleanly
// with 130 and 143: what was written is acknowledged, the rest handed back.
// It signals the test process itself, so it does not run in parallel.
func TestInterrupted(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, exitSIGINT}, {syscall.SIGTERM, exitSIGTERM}} {
		acked := make(chan struct{}, 1)
		b := broker.New(broker.Config{Addr: "127.0.0.1:0", OnFrame: func(f *protocol.Frame) {
			if f.Command == protocol.CmdAck {
				select {
				case acked <- struct{}{}:
				default:
				}
			}
		}})
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		t.Setenv("STOMPEST_SERVER", "tcp://"+b.Addr())
		t.Setenv("XDG_CONFIG_HOME", t.TempDir())
		var out, errOut bytes.Buffer
		s := streams{In: bytes.NewReader(nil), Out: &out, ErrOut: &errOut}
		if code := run([]string{"send", "/queue/sig", "one"}, s); code != 0 {
			t.Fatalf("send: %d %s", code, errOut.String())
		}
		done := make(chan int, 1)
		go func() { done <- run([]string{"subscribe", "/queue/sig", "/queue/other"}, s) }()
		select {
		case <-acked:
		case <-time.After(10 * time.Second):
			t.Fatal("the message was not acknowledged")
		}
		syscall.Kill(os.Getpid(), tc.sig)
		select {
		case code := <-done:
			if code != tc.code {
				t.Errorf("%v: exit %d, want %d (%s)", tc.sig, code, tc.code, errOut.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: subscribe did not end", tc.sig)
		}
		if out.String() != "one\n" {
			t.Errorf("%v: output %q", tc.sig, out.String())
		}
		if n := b.QueueDepth("/queue/sig"); n != 0 {
			t.Errorf("%v: %d messages left: the written one was not acknowledged", tc.sig, n)
		}
		b.Close()
	}
}
