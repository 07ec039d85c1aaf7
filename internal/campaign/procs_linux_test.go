package campaign

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hangCommand returns the shell command a hanging handler runs: it blocks
// in the shell itself, opening a FIFO that no one ever writes, so that the
// handler's pid stays the shell's, whose command line names dir.
func hangCommand(dir string) (string, error) {
	fifo := filepath.Join(dir, "never")
	if err := unix.Mkfifo(fifo, 0o600); err != nil && !os.IsExist(err) {
		return "", err
	}
	return fmt.Sprintf("read x < '%s'", fifo), nil
}

// leftBehind returns the handler processes (each wrote its pid to the
// file pids of dir) that still run once the command has ended, and kills
// them. A handler killed as the command ended may take a moment to go:
// each is waited for (pidfd) up to a second.
func leftBehind(dir string) []int {
	data, _ := os.ReadFile(filepath.Join(dir, "pids"))
	var alive []int
	deadline := time.Now().Add(time.Second)
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // gone
		}
		if handlerOf(pid, dir) && !exits(fd, time.Until(deadline)) && handlerOf(pid, dir) {
			alive = append(alive, pid)
			unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		}
		unix.Close(fd)
	}
	return alive
}

// exits reports whether the process of pidfd fd ends within d.
func exits(fd int, d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(max(d, 0).Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// handlerOf reports whether pid is a live process (not a zombie) whose
// command line names dir: a handler of this schedule, not a process that
// took its pid since.
func handlerOf(pid int, dir string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || bytes.HasPrefix(stat[i:], []byte(") Z")) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(cmdline, []byte(dir))
}

// TestLeftBehind: a handler still running after the command is found and
// killed; one that ended, or a process whose command line does not name
// the schedule's directory, is not reported.
func TestLeftBehind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hang, err := hangCommand(dir)
	if err != nil {
		t.Fatal(err)
	}
	running := exec.Command("/bin/sh", "-c", hang, dir)
	other := exec.Command("sleep", "30")
	ended := exec.Command("/bin/sh", "-c", "exit 0", dir)
	for _, c := range []*exec.Cmd{running, other, ended} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	ended.Wait()
	pids := fmt.Sprintf("%d\n%d\n%d\n", running.Process.Pid, other.Process.Pid, ended.Process.Pid)
	if err := os.WriteFile(filepath.Join(dir, "pids"), []byte(pids), 0o600); err != nil {
		t.Fatal(err)
	}
	got := leftBehind(dir)
	if len(got) != 1 || got[0] != running.Process.Pid {
		t.Errorf("left behind %v; want [%d]", got, running.Process.Pid)
	}
	if err := running.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("the handler left behind ended with %v; want it killed", err)
	}
}
