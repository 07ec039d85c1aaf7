package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
)

// TestHandlerDiesWithStompest kills subscribe with SIGKILL while its
// handler runs: the handler must not run on as an orphan.
func TestHandlerDiesWithStompest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildStompest(t, filepath.Join(dir, "bin"))
	b := broker.New(broker.Config{Addr: "127.0.0.1:0"})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	server := "tcp://" + b.Addr()
	if out, err := exec.Command(bin, "-s", server, "send", "/queue/orphan", "x").CombinedOutput(); err != nil {
		t.Fatalf("send: %v\n%s", err, out)
	}
	fifo := filepath.Join(dir, "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The handler writes its pid into the FIFO, then becomes a long sleep
	// (exec keeps the pid).
	sub := exec.Command(bin, "-s", server, "subscribe", "/queue/orphan", "--exec", `echo $$ > "$FIFO"; exec sleep 60`)
	sub.Env = append(os.Environ(), "FIFO="+fifo, "XDG_CONFIG_HOME="+dir)
	var errOut syncBuffer
	sub.Stderr = &errOut
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sub.Wait() }()
	started := make(chan []byte, 1)
	go func() {
		data, _ := os.ReadFile(fifo) // returns once the handler wrote and closed it
		started <- data
	}()
	var data []byte
	select {
	case data = <-started:
	case err := <-exited:
		os.WriteFile(fifo, nil, 0) // let the reader go
		t.Fatalf("subscribe ended before its handler started: %v %s", err, errOut.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("handler pid %q: %v", data, err)
	}
	sub.Process.Kill()
	<-exited
	// The kernel delivers the handler's death signal as stompest exits;
	// give it a bounded while to be reaped by init.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return
		}
		if state, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); strings.Contains(string(state), ") Z ") {
			return // dead, waiting to be reaped
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("handler %d still runs after stompest was killed", pid)
		}
	}
}
