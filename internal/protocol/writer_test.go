package protocol

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestWriterEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version Version
		frame   *Frame
		text    bool
		want    string
		err     error
	}{
		{"content-length on every SEND", V12, fr(CmdSend, "", "destination", "/q"), false,
			"SEND\ncontent-length:0\ndestination:/q\n\n\x00", nil},
		{"a given content-length is replaced", V12, fr(CmdSend, "abc", "content-length", "99", "k", "v"), false,
			"SEND\ncontent-length:3\nk:v\n\nabc\x00", nil},
		{"no content-length where no body may be", V12, fr(CmdSubscribe, "", "id", "1"), false,
			"SUBSCRIBE\nid:1\n\n\x00", nil},
		{"escapes 1.2", V12, fr(CmdSend, "", "a:b", "x\\y\nz\rw"), false,
			"SEND\ncontent-length:0\na\\cb:x\\\\y\\nz\\rw\n\n\x00", nil},
		{"escapes 1.1 leave CR raw", V11, fr(CmdSend, "", "k", "a\rb:c"), false,
			"SEND\ncontent-length:0\nk:a\rb\\cc\n\n\x00", nil},
		{"no escaping in 1.0", V10, fr(CmdSend, "", "k", "a\\b:c"), false,
			"SEND\ncontent-length:0\nk:a\\b:c\n\n\x00", nil},
		{"CONNECT is never escaped", V12, fr(CmdConnect, "", "passcode", "p:w\\"), false,
			"CONNECT\npasscode:p:w\\\n\n\x00", nil},
		{"before the version is known 1.2 escaping applies", VersionUnknown, fr(CmdError, "", "message", "a:b"), false,
			"ERROR\ncontent-length:0\nmessage:a\\cb\n\n\x00", nil},
		{"text mode omits content-length", V12, fr(CmdSend, "hi", "destination", "/q", "content-length", "2"), true,
			"SEND\ndestination:/q\n\nhi\x00", nil},
		{"text mode refuses NUL", V12, fr(CmdSend, "a\x00b"), true, "", ErrNulInBody},
		{"LF in a 1.0 value", V10, fr(CmdSend, "", "k", "a\nb"), false, "", ErrUnencodable},
		{"colon in a 1.0 name", V10, fr(CmdSend, "", "a:b", "v"), false, "", ErrUnencodable},
		{"LF in a CONNECT value", V12, fr(CmdConnect, "", "login", "a\nb"), false, "", ErrUnencodable},
		{"NUL in a header", V12, fr(CmdSend, "", "k", "a\x00"), false, "", ErrUnencodable},
		{"body on a 1.2 ACK", V12, fr(CmdAck, "x", "id", "1"), false, "", ErrBodyNotAllowed},
		{"NACK is not 1.0", V10, fr(CmdNack, ""), false, "", ErrInvalidCommand},
		{"unknown command", V12, fr(Command("FOO"), ""), false, "", ErrInvalidCommand},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		w.SetVersion(tc.version)
		w.SetText(tc.text)
		err := w.WriteFrame(tc.frame)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			continue
		}
		w.Flush()
		if buf.String() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, buf.String(), tc.want)
		}
	}
}

func TestWriterBuffersUntilFlush(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SetVersion(V12)
	for range 10 {
		if err := w.WriteFrame(fr(CmdSend, "x", "destination", "/q")); err != nil {
			t.Fatal(err)
		}
	}
	w.WriteHeartBeat()
	if buf.Len() != 0 || w.Buffered() == 0 {
		t.Fatalf("wrote %d bytes before Flush", buf.Len())
	}
	w.Flush()
	r := NewReader(&buf)
	r.SetVersion(V12)
	got, err := readAll(r)
	if err != io.EOF || len(got) != 11 || !got[10].IsHeartBeat() {
		t.Fatalf("read back %d frames, %v", len(got), err)
	}
}

func TestWriteStream(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789", 10000)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SetVersion(V12)
	if err := w.WriteStream(fr(CmdSend, "", "destination", "/q"), iotest.OneByteReader(strings.NewReader(body)), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	r := NewReader(&buf)
	r.SetVersion(V12)
	f, err := r.Read()
	if err != nil || string(f.Body) != body || f.Header("content-length") != "100000" {
		t.Fatalf("read back: %v", err)
	}
	// A body that ends early leaves the frame unfinished and says so.
	if err := w.WriteStream(fr(CmdSend, ""), strings.NewReader("short"), 10); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short body: %v", err)
	}
}

// refHead is the plain byte-by-byte encoding of one header line that the
// Writer's word-at-a-time path must match, or false where the version
// cannot express the header.
func refHead(name, value string, esc bool, v Version) (string, bool) {
	var b strings.Builder
	for k, s := range []string{name, value} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == 0:
				return "", false
			case !esc && (c == '\n' || c == '\r' || (c == ':' && k == 0)):
				return "", false
			case esc && c == '\\':
				b.WriteString(`\\`)
			case esc && c == ':':
				b.WriteString(`\c`)
			case esc && c == '\n':
				b.WriteString(`\n`)
			case esc && c == '\r' && v != V11:
				b.WriteString(`\r`)
			default:
				b.WriteByte(c)
			}
		}
		if k == 0 {
			b.WriteByte(':')
		}
	}
	return b.String(), true
}

// FuzzWriterHeader checks the Writer's encoding of arbitrary headers
// against refHead, in every version, escaped and not, with the header
// between others so that the word-at-a-time scan meets every alignment.
func FuzzWriterHeader(f *testing.F) {
	for _, s := range []string{"", "a", "a:b", "x\\y\nz\rw", "12345678:", "1234567\x00", ";;;;;;;;", "\x0e\x0d\x0c", "dest:/q;a", "é:ü\\"} {
		f.Add(uint8(V12), uint8(0), s, s+"v")
	}
	f.Fuzz(func(t *testing.T, v, pad uint8, name, value string) {
		version := Version(v % 4)
		cmd := CmdSend
		if v&4 != 0 {
			cmd = CmdConnect
		}
		esc := escaped(version, cmd)
		filler := strings.Repeat("f", int(pad%9))
		f := fr(cmd, "", "p", filler, name, value, "z", filler)
		var buf bytes.Buffer
		w := NewWriter(&buf)
		w.SetVersion(version)
		err := w.WriteFrame(f)
		want, ok := refHead(name, value, esc, version)
		enc, lerr := AppendHeader([]byte("x"), cmd, name, value, version)
		if ok && (lerr != nil || string(enc) != "x"+want+"\n") || !ok && (!errors.Is(lerr, ErrUnencodable) || string(enc) != "x") {
			t.Fatalf("AppendHeader %q:%q in %s: %q, %v; want %q", name, value, version, enc, lerr, want)
		}
		if !ok {
			if !errors.Is(err, ErrUnencodable) {
				t.Fatalf("%q:%q in %s: error %v, want ErrUnencodable", name, value, version, err)
			}
			if w.Buffered() != 0 {
				t.Fatalf("a refused frame left %d bytes in the buffer", w.Buffered())
			}
			return
		}
		if err != nil {
			t.Fatalf("%q:%q in %s: %v", name, value, version, err)
		}
		w.Flush()
		head := string(cmd) + "\n"
		if cmd == CmdSend {
			head += "content-length:0\n"
		}
		line := want + "\n"
		if name == HdrContentLength {
			line = ""
		}
		head += "p:" + filler + "\n" + line + "z:" + filler + "\n\n\x00"
		if buf.String() != head {
			t.Fatalf("%q:%q in %s:\n got %q\nwant %q", name, value, version, buf.String(), head)
		}
	})
}

// failingMessages is a message stream whose messages fail to leave.
type failingMessages struct {
	bytes.Buffer
	err error
}

func (m *failingMessages) EndMessage() error { return m.err }

// TestWriterMessageFailure checks that a message that failed to leave
// breaks the Writer as a failed Flush does: Err reports it and every later
// write fails with it, so that the caller sees a broken stream.
func TestWriterMessageFailure(t *testing.T) {
	t.Parallel()
	reset := errors.New("connection reset by peer")
	w := NewWriter(&failingMessages{err: reset})
	if err := w.WriteFrame(NewFrame(CmdSend, "destination", "/queue/a")); !errors.Is(err, reset) {
		t.Fatalf("WriteFrame = %v, want %v", err, reset)
	}
	if !errors.Is(w.Err(), reset) {
		t.Errorf("Err() = %v after a failed message, want %v", w.Err(), reset)
	}
	if err := w.WriteHeartBeat(); !errors.Is(err, reset) {
		t.Errorf("a later write = %v, want %v", err, reset)
	}
}

// TestHeaderLineSize checks that HeaderLineSize is what a Reader compares
// with Limits.MaxLineSize: a header of exactly the limit is read, one byte
// more is refused, escapes included.
func TestHeaderLineSize(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 40) // longer than the frame's other lines
	for _, value := range []string{long, long + "a:b\\c\nd\re"} {
		for _, v := range []Version{V11, V12} {
			n, err := HeaderLineSize(CmdMessage, "x-h", value, v)
			if err != nil {
				t.Fatal(err)
			}
			f := NewFrame(CmdMessage, "destination", "/queue/a", "message-id", "1", "subscription", "s", "x-h", value)
			if v == V11 && strings.Contains(value, "\r") {
				continue // 1.1 cannot carry CR
			}
			wire, err := Encode(f, v)
			if err != nil {
				t.Fatal(err)
			}
			for _, limit := range []int{n, n - 1} {
				r := NewReader(bytes.NewReader(wire))
				r.SetVersion(v)
				r.SetLimits(Limits{MaxLineSize: limit})
				_, err := r.Read()
				if fits := limit >= n; fits != (err == nil) {
					t.Errorf("%q in %s, size %d, limit %d: %v", value, v, n, limit, err)
				}
				var fe *FrameError
				if err != nil && (!errors.As(err, &fe) || fe.Limit != int64(limit) || !errors.Is(err, ErrLineTooLong)) {
					t.Errorf("limit %d: %v, want ErrLineTooLong with the limit", limit, err)
				}
			}
		}
	}
}
