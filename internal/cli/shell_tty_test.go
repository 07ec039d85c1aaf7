//go:build tty

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
)

// TestShellInTerminal uses `stompest shell` as a person would, in a real
// terminal: tmux types the keys and shows the screen. Run it with
//
//	go test -tags tty -run TestShellInTerminal ./internal/cli
//
// (it needs tmux; .ci/run installs it).
func TestShellInTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is needed: apt-get install tmux")
	}
	dir := t.TempDir()
	bin := buildStompest(t, filepath.Join(dir, "bin"))
	b := broker.New(broker.Config{Addr: "127.0.0.1:0"})
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	server := "tcp://" + b.Addr()
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	screen := func() string { return tmux("capture-pane", "-p", "-t", "sh") }
	// waitFor polls the screen until want shows: a terminal has nothing
	// else to wait on.
	waitFor := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s := screen()
			if strings.Contains(s, want) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%q never showed; the screen:\n%s", want, s)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// waitLine waits until the line being edited (the last one shown) is
	// want; the screen drops trailing blanks.
	waitLine := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			lines := strings.Split(strings.TrimRight(screen(), "\n "), "\n")
			last := lines[len(lines)-1]
			if last == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the line being edited is %q, want %q", last, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	env := "env XDG_STATE_HOME=" + dir + " XDG_CONFIG_HOME=" + dir + " STOMPEST_SERVER=" + server
	tmux("new-session", "-d", "-s", "sh", "-x", "100", "-y", "30", env+" "+bin+" shell -o body; echo EXIT=$?; sleep 60")
	defer exec.Command("tmux", "-S", sock, "kill-server").Run()
	waitFor("'help' lists the commands")

	tmux("send-keys", "-t", "sh", "subscribe /topic/live", "Enter")
	waitFor("stomp> subscribe /topic/live\nstomp>")
	// A message that arrives while a line is being typed prints above the
	// prompt, and the line typed so far stays as it was.
	tmux("send-keys", "-t", "sh", "-l", `send /queue/q "half`)
	waitFor(`stomp> send /queue/q "half`)
	if out, err := exec.Command(bin, "-s", server, "send", "/topic/live", "from outside").CombinedOutput(); err != nil {
		t.Fatalf("send: %v %s", err, out)
	}
	s := waitFor("from outside\nstomp> send /queue/q \"half")
	if strings.Count(s, "half") != 1 {
		t.Errorf("the typed line is garbled:\n%s", s)
	}
	tmux("send-keys", "-t", "sh", "-l", ` done"`)
	tmux("send-keys", "-t", "sh", "Enter")
	waitFor("stomp> send /queue/q \"half done\"\nstomp>")

	// Tab completes commands, destinations seen and pending message ids.
	tmux("send-keys", "-t", "sh", "subsc", "Tab")
	waitLine("stomp> subscribe")
	tmux("send-keys", "-t", "sh", "/queue/", "Tab")
	waitLine("stomp> subscribe /queue/q")
	tmux("send-keys", "-t", "sh", "-l", "--", "--ack client-individual")
	tmux("send-keys", "-t", "sh", "Enter")
	waitFor("half done\nstomp>")
	tmux("send-keys", "-t", "sh", "ack ", "Tab")
	waitFor("ID:stompest-")
	tmux("send-keys", "-t", "sh", "C-u", "ack last", "Enter")
	// help per command, a bad command, history, and Ctrl-D.
	tmux("send-keys", "-t", "sh", "help expect", "Enter")
	waitFor("expect DEST count=N [timeout=D]")
	tmux("send-keys", "-t", "sh", "bogus", "Enter")
	waitFor(`error: unknown command "bogus"`)
	tmux("send-keys", "-t", "sh", "Up")
	waitLine("stomp> bogus")
	tmux("send-keys", "-t", "sh", "C-u", "C-d")
	waitFor("EXIT=0")
	if n := b.QueueDepth("/queue/q"); n != 0 {
		t.Errorf("/queue/q holds %d messages: the ack last did not take", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "stompest", "history")); err != nil {
		t.Errorf("no history file: %v", err)
	}
}

// TestWaitingLineInTerminal: on a terminal, a connect that keeps failing
// says at once what it waits for, on one line that the final error
// replaces.
func TestWaitingLineInTerminal(t *testing.T) {
	dir := t.TempDir()
	bin := buildStompest(t, filepath.Join(dir, "bin"))
	sock := filepath.Join(dir, "tmux.sock")
	cmd := bin + " -s tcp://127.0.0.1:1 --connect-timeout 5s send /queue/a x; echo EXIT=$?; sleep 60"
	if out, err := exec.Command("tmux", "-S", sock, "new-session", "-d", "-s", "w", "-x", "160", "-y", "10", cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	defer exec.Command("tmux", "-S", sock, "kill-server").Run()
	screen := func() string {
		out, _ := exec.Command("tmux", "-S", sock, "capture-pane", "-p", "-t", "w").Output()
		return string(out)
	}
	want := "stompest: tcp://127.0.0.1:1: connection refused; retrying until --connect-timeout (5s)"
	for deadline := time.Now().Add(4 * time.Second); !strings.Contains(screen(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%q did not show within the connect timeout; the screen:\n%s", want, screen())
		}
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(screen(), "EXIT=69"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("send did not end with 69; the screen:\n%s", screen())
		}
	}
	if s := screen(); strings.Contains(s, "retrying") || !strings.Contains(s, "no broker reachable") {
		t.Errorf("the waiting line was not replaced by the error:\n%s", s)
	}
}
