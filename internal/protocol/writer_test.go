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
