//go:build interop

package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdutil"
)

var updateMatrix = flag.Bool("update-matrix", false, "rewrite the compatibility matrix in README.md from this run")

// errNotApplicable marks a feature that a STOMP version does not have.
var errNotApplicable = fmt.Errorf("not in this STOMP version")

// matrixFeature is one column of the compatibility matrix.
type matrixFeature struct {
	name string
	run  func(m *matrixCell) error
}

// matrixCell runs stompest in this process against one broker in one
// version, on destinations of its own.
type matrixCell struct {
	t        *testing.T
	server   string
	version  string
	prefix   string
	password string // a file holding the passcode
}

// st runs stompest with the cell's server and version; it returns stdout
// and, when the exit code is not want, an error with stderr.
func (m *matrixCell) st(want int, stdin string, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	s := cmdutil.Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	all := append([]string{"-s", m.server, "--stomp-version", m.version, "-u", "guest", "--password-file", m.password, "-q"}, args...)
	if code := run(all, s, nil); code != want {
		return out.String(), fmt.Errorf("stompest %s: exit %d, want %d: %s", strings.Join(args, " "), code, want, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

func (m *matrixCell) q(name string) string { return "/queue/" + m.prefix + "-" + name }

var matrixFeatures = []matrixFeature{
	{"send, subscribe", func(m *matrixCell) error {
		if _, err := m.st(0, "a\nü\n", "send", m.q("rt"), "--lines"); err != nil {
			return err
		}
		out, err := m.st(0, "", "subscribe", m.q("rt"), "--count", "2", "--timeout", "10s")
		if err == nil && out != "a\nü\n" {
			err = fmt.Errorf("got %q", out)
		}
		return err
	}},
	{"binary body", func(m *matrixCell) error {
		body := "\x00\x01bin\xff\x00"
		path := filepath.Join(m.t.TempDir(), "bin")
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := m.st(0, "", "send", m.q("bin"), "-f", path); err != nil {
			return err
		}
		out, err := m.st(0, "", "subscribe", m.q("bin"), "--count", "1", "--timeout", "10s", "--format", "{{.body}}")
		if err == nil && out != body {
			err = fmt.Errorf("got %q", out)
		}
		return err
	}},
	{"escaped headers", func(m *matrixCell) error {
		if m.version == "1.0" {
			return errNotApplicable
		}
		if _, err := m.st(0, "", "send", m.q("hdr"), "x", "-H", `k:a:b\c`, "-H", "n:x\ny"); err != nil {
			return err
		}
		out, err := m.st(0, "", "subscribe", m.q("hdr"), "--count", "1", "--timeout", "10s", "-o", "jsonl")
		if err == nil && (!strings.Contains(out, `"k":"a:b\\c"`) || !strings.Contains(out, `"n":"x\ny"`)) {
			err = fmt.Errorf("got %s", out)
		}
		return err
	}},
	{"ack client", func(m *matrixCell) error { return m.acked("client") }},
	{"ack client-individual", func(m *matrixCell) error { return m.acked("client-individual") }},
	{"nack", func(m *matrixCell) error {
		if m.version == "1.0" {
			return errNotApplicable
		}
		if _, err := m.st(0, "", "send", m.q("nack"), "n", "--persistent=false"); err != nil {
			return err
		}
		out, err := m.st(0, "", "nack", m.q("nack"), "--count", "1", "-o", "body")
		if err == nil && out != "n\n" {
			err = fmt.Errorf("nack printed %q", out)
		}
		return err
	}},
	{"transaction", func(m *matrixCell) error {
		if _, err := m.st(0, "", "send", m.q("tx"), "t", "--transaction", "--count", "2"); err != nil {
			return err
		}
		out, err := m.st(0, "", "subscribe", m.q("tx"), "--count", "2", "--timeout", "10s")
		if err == nil && out != "t\nt\n" {
			err = fmt.Errorf("got %q", out)
		}
		return err
	}},
	{"receipt each", func(m *matrixCell) error {
		_, err := m.st(0, "", "send", m.q("rc"), "r", "--receipt", "each", "--count", "3")
		if err == nil {
			_, err = m.st(0, "", "subscribe", m.q("rc"), "--count", "3", "--timeout", "10s")
		}
		return err
	}},
	{"heart-beats 1s, 5s idle", func(m *matrixCell) error {
		if m.version == "1.0" {
			return errNotApplicable
		}
		_, err := m.st(0, "", "--heartbeat", "1s,1s", "subscribe", m.q("hb"), "--idle", "5s")
		return err
	}},
}

// acked: messages acknowledged in mode are gone from the queue.
func (m *matrixCell) acked(mode string) error {
	q := m.q("ack-" + mode)
	if _, err := m.st(0, "", "send", q, "k", "--count", "2"); err != nil {
		return err
	}
	if _, err := m.st(0, "", "subscribe", q, "--ack", mode, "--count", "2", "--timeout", "10s"); err != nil {
		return err
	}
	_, err := m.st(75, "", "subscribe", q, "--count", "1", "--timeout", "500ms")
	return err
}

// TestInteropMatrix runs every feature against every broker in every
// version and checks that README.md's compatibility matrix says what this
// run found (go test -tags interop -run TestInteropMatrix ./internal/cli
// -update-matrix rewrites it).
func TestInteropMatrix(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, k := range []string{"STOMPEST_SERVER", "STOMPEST_USER", "STOMPEST_PASSWORD", "STOMPEST_CONFIG", "STOMPEST_PROFILE"} {
		t.Setenv(k, "")
	}
	brokers := []struct{ name, server string }{
		{"RabbitMQ 3.10", "tcp://127.0.0.1:" + envOr("RABBITMQ_STOMP_PORT", "61613")},
		{"RabbitMQ 3.10 Web-STOMP", "ws://127.0.0.1:" + envOr("RABBITMQ_WS_PORT", "15674") + "/ws"},
		{"ActiveMQ 5.17", "tcp://127.0.0.1:" + envOr("ACTIVEMQ_STOMP_PORT", "61623")},
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	password := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(password, []byte("guest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("| broker | STOMP |")
	for _, f := range matrixFeatures {
		table.WriteString(" " + f.name + " |")
	}
	table.WriteString("\n|---|---|" + strings.Repeat("---|", len(matrixFeatures)) + "\n")
	for bi, b := range brokers {
		for _, v := range []string{"1.0", "1.1", "1.2"} {
			fmt.Fprintf(&table, "| %s | %s |", b.name, v)
			for fi, f := range matrixFeatures {
				cell := &matrixCell{t: t, server: b.server, version: v, prefix: fmt.Sprintf("mx-%s-%d-%s-%d", run, bi, strings.ReplaceAll(v, ".", ""), fi), password: password}
				err := f.run(cell)
				switch {
				case err == errNotApplicable:
					table.WriteString(" — |")
				case err != nil:
					t.Errorf("%s, STOMP %s, %s: %v", b.name, v, f.name, err)
					table.WriteString(" ✗ |")
				default:
					table.WriteString(" ✓ |")
				}
			}
			table.WriteString("\n")
		}
	}
	const begin, end = "<!-- matrix:begin (generated by TestInteropMatrix) -->\n", "<!-- matrix:end -->"
	readme := filepath.Join("..", "..", "README.md")
	doc, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(begin)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("README.md has no matrix markers")
	}
	current := string(doc[i+len(begin) : j])
	if current == table.String() {
		return
	}
	if *updateMatrix && !t.Failed() {
		out := append(append(append([]byte{}, doc[:i+len(begin)]...), table.String()...), doc[j:]...)
		if err := os.WriteFile(readme, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's compatibility matrix is not what this run found; rerun with -update-matrix:\n%s", table.String())
}
