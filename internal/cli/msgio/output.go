// Package msgio is how messages come in and go out of the commands: the
// output formats of received messages (body, pretty, jsonl, --format), the
// JSON Lines record, the splitting of input into records, the stdin spool
// and the pipe gauge.
package msgio

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"syscall"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/flags"
	"github.com/stompest/stompest/internal/protocol"
)

// countingWriter counts the bytes its writer has taken, so that a message
// is known to have been written whole even when a later write fails.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// IsClosedPipe reports whether err is a write to a closed pipe (`| head`).
func IsClosedPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe)
}

// Writer writes received messages to stdout in one output format.
type Writer struct {
	count *countingWriter
	bw    *bufio.Writer
	write func(seq int64, f *protocol.Frame) error
}

// NewWriter builds the writer of --output, --format and the body
// separator, writing to the run's stdout.
func NewWriter(a *cmdutil.Factory, o flags.Output, sep []byte) (*Writer, error) {
	return NewWriterTo(a, a.Out, o, sep)
}

// NewWriterTo is NewWriter writing to w instead of stdout.
func NewWriterTo(a *cmdutil.Factory, w io.Writer, o flags.Output, sep []byte) (*Writer, error) {
	output, format := o.Format, o.Template
	if o.Record && format == "" && output != "jsonl" {
		return nil, cmdutil.UsageErrorf("--record needs -o jsonl or --format: only records carry received_at")
	}
	// stamp is the receive time of a record: the clock is read only with
	// --record.
	stamp := func() string { return "" }
	if o.Record {
		stamp = func() string { return time.Now().UTC().Format(TimeFormat) }
	}
	cw := &countingWriter{w: w}
	mw := &Writer{count: cw, bw: bufio.NewWriterSize(cw, 64<<10)}
	bw := mw.bw
	if format != "" {
		text, err := ParseDelimiter(format)
		if err != nil {
			return nil, cmdutil.UsageErrorf("--format: %v", err)
		}
		tpl, err := template.New("format").Option("missingkey=zero").Parse(string(text))
		if err != nil {
			return nil, cmdutil.UsageErrorf("--format: %v", err)
		}
		mw.write = func(seq int64, f *protocol.Frame) error {
			r := RecordOf(seq, f)
			data := map[string]any{
				"seq": r.Seq, "command": r.Command, "destination": r.Destination,
				"headers": r.Headers, "body": string(f.Body), "body_encoding": r.BodyEncoding,
				"received_at": stamp(),
			}
			return tpl.Execute(bw, data)
		}
		return mw, nil
	}
	if output == "" {
		output = "body"
		if a.OutTTY {
			output = "pretty"
		}
	}
	switch output {
	case "body":
		mw.write = func(_ int64, f *protocol.Frame) error {
			bw.Write(f.Body)
			_, err := bw.Write(sep)
			return err
		}
	case "jsonl":
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		mw.write = func(seq int64, f *protocol.Frame) error {
			r := RecordOf(seq, f)
			r.ReceivedAt = stamp()
			return enc.Encode(r)
		}
	case "pretty":
		head := a.OutColor(color.Bold, color.FgCyan)
		name := a.OutColor(color.FgYellow)
		mw.write = func(seq int64, f *protocol.Frame) error {
			// A view for people: control characters are shown escaped,
			// never sent to the terminal (body and jsonl stay exact).
			fmt.Fprintf(bw, "%s\n", head.Sprintf("#%d %s", seq, cmdutil.Printable(f.Header(protocol.HdrDestination))))
			names := make([]string, 0, len(f.Headers))
			seen := map[string]bool{}
			for _, h := range f.Headers {
				if !seen[h.Name] && h.Name != protocol.HdrDestination {
					seen[h.Name] = true
					names = append(names, h.Name)
				}
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(bw, "  %s %s\n", name.Sprint(cmdutil.Printable(n)+":"), cmdutil.Printable(f.Header(n)))
			}
			body := f.Body
			switch {
			case len(body) == 0:
				bw.WriteString("  (empty body)\n")
			case utf8.Valid(body) && !strings.ContainsRune(string(body), 0):
				bw.WriteString(cmdutil.EscapeControls(string(body), true))
				if body[len(body)-1] != '\n' {
					bw.WriteByte('\n')
				}
			default:
				fmt.Fprintf(bw, "  (%d bytes of binary body)\n", len(body))
			}
			_, err := bw.WriteString("\n")
			return err
		}
	default:
		return nil, cmdutil.UsageErrorf("-o %q: want body, pretty or jsonl", output)
	}
	return mw, nil
}

// Written returns how many bytes have left for stdout.
func (m *Writer) Written() int64 { return m.count.n }

// buffered returns the bytes written to the buffer so far, left or not.
func (m *Writer) Position() int64 { return m.count.n + int64(m.bw.Buffered()) }

// Write writes message number seq into the buffer.
func (m *Writer) Write(seq int64, f *protocol.Frame) error { return m.write(seq, f) }

// Flush writes what the buffer holds.
func (m *Writer) Flush() error { return m.bw.Flush() }
