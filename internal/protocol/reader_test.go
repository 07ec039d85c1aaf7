package protocol

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// readCase is one row of the wire table: raw bytes read with a version,
// and either the frames they hold or the error of the first bad frame.
type readCase struct {
	name    string
	version Version
	wire    string
	want    []*Frame // HeartBeat frames stand for heart-beats
	err     error    // sentinel of the error after the frames in want
	offset  int64    // FrameError.Offset when err is set
	line    int      // FrameError.Line when err is set
	limits  *Limits
}

func hb() *Frame { return &Frame{Command: HeartBeat} }

func fr(cmd Command, body string, nv ...string) *Frame {
	f := NewFrame(cmd, nv...)
	if body != "" {
		f.Body = []byte(body)
	}
	return f
}

var readCases = []readCase{
	{name: "minimal", version: V12, wire: "DISCONNECT\n\n\x00",
		want: []*Frame{fr(CmdDisconnect, "")}},
	{name: "message with headers and body", version: V12,
		wire: "MESSAGE\ndestination:/queue/a\nmessage-id:7\nsubscription:0\n\nhello\x00",
		want: []*Frame{fr(CmdMessage, "hello", "destination", "/queue/a", "message-id", "7", "subscription", "0")}},
	{name: "content-length body holding NUL", version: V12,
		wire: "SEND\ndestination:/q\ncontent-length:5\n\na\x00b\x00c\x00",
		want: []*Frame{fr(CmdSend, "a\x00b\x00c", "destination", "/q", "content-length", "5")}},
	{name: "content-length zero", version: V11,
		wire: "SEND\ncontent-length:0\n\n\x00",
		want: []*Frame{fr(CmdSend, "", "content-length", "0")}},
	{name: "content-length with spaces", version: V12,
		wire: "SEND\ncontent-length: 2 \n\nab\x00",
		want: []*Frame{fr(CmdSend, "ab", "content-length", " 2 ")}},
	{name: "repeated headers kept in order", version: V12,
		wire: "MESSAGE\nfoo:1\nfoo:2\nbar:\n:empty-name\n\n\x00",
		want: []*Frame{fr(CmdMessage, "", "foo", "1", "foo", "2", "bar", "", "", "empty-name")}},
	{name: "first content-length wins", version: V12,
		wire: "SEND\ncontent-length:1\ncontent-length:3\n\nx\x00",
		want: []*Frame{fr(CmdSend, "x", "content-length", "1", "content-length", "3")}},
	{name: "heart-beats between frames 1.2", version: V12,
		wire: "\n\r\nRECEIPT\nreceipt-id:1\n\n\x00\n\r\n\n",
		want: []*Frame{hb(), hb(), fr(CmdReceipt, "", "receipt-id", "1"), hb(), hb(), hb()}},
	{name: "heart-beats 1.1", version: V11, wire: "\n\nRECEIPT\n\n\x00\n",
		want: []*Frame{hb(), hb(), fr(CmdReceipt, ""), hb()}},
	{name: "EOLs skipped in 1.0", version: V10, wire: "\n\r\nRECEIPT\n\n\x00\n\n",
		want: []*Frame{fr(CmdReceipt, "")}},
	{name: "CRLF lines 1.2", version: V12,
		wire: "MESSAGE\r\ndestination:/q\r\nk:v\r\n\r\nbody\x00",
		want: []*Frame{fr(CmdMessage, "body", "destination", "/q", "k", "v")}},
	{name: "CRLF before version is known", version: VersionUnknown,
		wire: "CONNECTED\r\nversion:1.2\r\n\r\n\x00",
		want: []*Frame{fr(CmdConnected, "", "version", "1.2")}},
	{name: "CRLF lines tolerated in 1.0", version: V10,
		wire: "SEND\r\ndestination:/q\r\n\r\nx\x00",
		want: []*Frame{fr(CmdSend, "x", "destination", "/q")}},
	{name: "CR is content in 1.1", version: V11,
		wire: "MESSAGE\nk:v\r\n\n\x00",
		want: []*Frame{fr(CmdMessage, "", "k", "v\r")}},
	{name: "escapes 1.2", version: V12,
		wire: "MESSAGE\na\\cb:x\\\\y\\nz\\rw\\c\n\n\x00",
		want: []*Frame{fr(CmdMessage, "", "a:b", "x\\y\nz\rw:")}},
	{name: "escapes 1.1", version: V11,
		wire: "MESSAGE\nk:x\\\\y\\nz\\c\n\n\x00",
		want: []*Frame{fr(CmdMessage, "", "k", "x\\y\nz:")}},
	{name: "no escaping in 1.0", version: V10,
		wire: "MESSAGE\nk:a\\nb\\q\n\n\x00",
		want: []*Frame{fr(CmdMessage, "", "k", "a\\nb\\q")}},
	{name: "CONNECT never unescaped", version: V12,
		wire: "CONNECT\npasscode:a\\qb\\c\n\n\x00",
		want: []*Frame{fr(CmdConnect, "", "passcode", "a\\qb\\c")}},
	{name: "CONNECTED never unescaped", version: V12,
		wire: "CONNECTED\nserver:x\\y\n\n\x00",
		want: []*Frame{fr(CmdConnected, "", "server", "x\\y")}},
	{name: "STOMP is unescaped", version: V12,
		wire: "STOMP\nlogin:a\\cb\n\n\x00",
		want: []*Frame{fr(CmdStomp, "", "login", "a:b")}},
	{name: "undefined escape kept before the version is known", version: VersionUnknown,
		wire: "ERROR\nmessage:C\\temp\\c\n\n\x00",
		want: []*Frame{fr(CmdError, "", "message", "C\\temp:")}},
	{name: "raw colon in a value", version: V12,
		wire: "MESSAGE\nmessage-id:ID:host-1:2\n\n\x00",
		want: []*Frame{fr(CmdMessage, "", "message-id", "ID:host-1:2")}},
	{name: "utf-8 header", version: V12,
		wire: "MESSAGE\nnom:café ☕\n\n\x00",
		want: []*Frame{fr(CmdMessage, "", "nom", "café ☕")}},
	{name: "binary body without content-length", version: V12,
		wire: "SEND\n\n\xff\xfe\n\x00",
		want: []*Frame{fr(CmdSend, "\xff\xfe\n")}},
	{name: "two frames back to back", version: V12,
		wire: "SEND\n\na\x00SEND\ncontent-length:1\n\nb\x00",
		want: []*Frame{fr(CmdSend, "a"), fr(CmdSend, "b", "content-length", "1")}},
	{name: "header value with spaces kept", version: V12,
		wire: "MESSAGE\n k : v \n\n\x00",
		want: []*Frame{fr(CmdMessage, "", " k ", " v ")}},

	// Errors: offset of the offending byte, line within the frame.
	{name: "unknown command", version: V12, wire: "FOO\n\n\x00",
		err: ErrInvalidCommand, offset: 0, line: 1},
	{name: "lower-case command", version: V12, wire: "\nsend\n\n\x00",
		want: []*Frame{hb()}, err: ErrInvalidCommand, offset: 1, line: 1},
	{name: "NACK is not 1.0", version: V10, wire: "NACK\n\n\x00",
		err: ErrInvalidCommand, offset: 0, line: 1},
	{name: "STOMP is not 1.0", version: V10, wire: "STOMP\n\n\x00",
		err: ErrInvalidCommand, offset: 0, line: 1},
	{name: "command with CR in 1.1", version: V11, wire: "SEND\r\n\n\x00",
		err: ErrInvalidCommand, offset: 0, line: 1},
	{name: "lone CR between frames", version: V12, wire: "\rSEND\n\n\x00",
		err: ErrInvalidCommand, offset: 0, line: 1},
	{name: "header without colon", version: V12, wire: "SEND\nfoo\n\n\x00",
		err: ErrMalformedHeader, offset: 5, line: 2},
	{name: "undefined escape", version: V12, wire: "SEND\nk:a\\tb\n\n\x00",
		err: ErrInvalidEscape, offset: 8, line: 2},
	{name: "trailing backslash", version: V12, wire: "SEND\nk:ab\\\n\n\x00",
		err: ErrInvalidEscape, offset: 9, line: 2},
	{name: "CR escape is not 1.1", version: V11, wire: "SEND\nx:1\nk:\\r\n\n\x00",
		err: ErrInvalidEscape, offset: 11, line: 3},
	{name: "undefined escape in a name", version: V11, wire: "SEND\n\\x:1\n\n\x00",
		err: ErrInvalidEscape, offset: 5, line: 2},
	{name: "invalid utf-8", version: V12, wire: "SEND\nk:\xff\n\n\x00",
		err: ErrInvalidEncoding, offset: 5, line: 2},
	{name: "non-numeric content-length", version: V12, wire: "SEND\ncontent-length:5x\n\nabcde\x00",
		err: ErrInvalidContentLength, offset: 20, line: 2},
	{name: "negative content-length", version: V12, wire: "SEND\ncontent-length:-1\n\n\x00",
		err: ErrInvalidContentLength, offset: 20, line: 2},
	{name: "empty content-length", version: V12, wire: "SEND\ncontent-length:\n\n\x00",
		err: ErrInvalidContentLength, offset: 20, line: 2},
	{name: "content-length too large", version: V12, wire: "SEND\ncontent-length:10000000000\n\n\x00",
		err: ErrFrameTooLarge, offset: 20, line: 2},
	{name: "no NUL after content-length body", version: V12, wire: "SEND\ncontent-length:1\n\nab\x00",
		err: ErrMissingNul, offset: 24, line: 3},
	{name: "body not allowed on SUBSCRIBE", version: V12, wire: "SUBSCRIBE\nid:1\n\nx\x00",
		err: ErrBodyNotAllowed, offset: 16, line: 3},
	{name: "body not allowed with content-length", version: V11, wire: "ACK\ncontent-length:1\n\nx\x00",
		err: ErrBodyNotAllowed, offset: 22, line: 3},
	{name: "body allowed on any command in 1.0", version: V10, wire: "ACK\n\nx\x00",
		want: []*Frame{fr(CmdAck, "x")}},
	{name: "header line too long", version: V12, wire: "SEND\nk:" + strings.Repeat("v", 40) + "\n\n\x00",
		limits: &Limits{MaxLineSize: 16}, err: ErrLineTooLong, offset: 5, line: 2},
	{name: "command line too long", version: V12, wire: strings.Repeat("S", 40),
		limits: &Limits{MaxLineSize: 16}, err: ErrLineTooLong, offset: 0, line: 1},
	{name: "too many headers", version: V12, wire: "SEND\na:1\nb:2\nc:3\n\n\x00",
		limits: &Limits{MaxHeaders: 2}, err: ErrTooManyHeaders, offset: 13, line: 4},
	{name: "body without NUL too large", version: V12, wire: "SEND\n\n" + strings.Repeat("x", 40),
		limits: &Limits{MaxBodySize: 16}, err: ErrFrameTooLarge, offset: 6 + 16, line: 2},
	{name: "content-length over a small limit", version: V12, wire: "SEND\ncontent-length:17\n\n",
		limits: &Limits{MaxBodySize: 16}, err: ErrFrameTooLarge, offset: 20, line: 2},
	{name: "end inside a frame", version: V12, wire: "SEND\nk:v\n",
		err: io.ErrUnexpectedEOF},
	{name: "end inside a body", version: V12, wire: "SEND\ncontent-length:4\n\nab",
		err: io.ErrUnexpectedEOF},
}

// readAll reads frames until an error, copying each so that later reads
// cannot disturb them.
func readAll(r *Reader) ([]*Frame, error) {
	var got []*Frame
	for {
		f, err := r.Read()
		if err != nil {
			return got, err
		}
		got = append(got, f)
	}
}

func checkCase(t *testing.T, tc readCase, rd io.Reader) {
	t.Helper()
	r := NewReader(rd)
	r.SetVersion(tc.version)
	if tc.limits != nil {
		r.SetLimits(*tc.limits)
	}
	got, err := readAll(r)
	if !framesEqual(got, tc.want) {
		t.Fatalf("frames:\n got %v\nwant %v", got, tc.want)
	}
	want := tc.err
	if want == nil {
		want = io.EOF
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	var fe *FrameError
	if errors.As(err, &fe) {
		if fe.Offset != tc.offset || fe.Line != tc.line {
			t.Fatalf("error at offset %d line %d, want offset %d line %d (%v)", fe.Offset, fe.Line, tc.offset, tc.line, err)
		}
	} else if tc.err != nil && tc.err != io.ErrUnexpectedEOF {
		t.Fatalf("error %v is not a *FrameError", err)
	}
}

func TestReaderTable(t *testing.T) {
	t.Parallel()
	readers := map[string]func(string) io.Reader{
		"whole":   func(s string) io.Reader { return strings.NewReader(s) },
		"onebyte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"half":    func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
		"dataerr": func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) },
	}
	for _, tc := range readCases {
		for rname, mk := range readers {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				t.Parallel()
				checkCase(t, tc, mk(tc.wire))
			})
		}
	}
}

// TestReaderRoundTrip writes every frame of the table and reads it back.
func TestReaderRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range readCases {
		if tc.version == VersionUnknown {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w := NewWriter(&buf)
			w.SetVersion(tc.version)
			var want []*Frame
			for _, f := range tc.want {
				if err := w.WriteFrame(f); err != nil {
					// Frames the version cannot express (a raw CR in a 1.1 value
					// ends up as content, a 1.0 header with a colon in its name)
					// are refused, never written broken.
					if !errors.Is(err, ErrUnencodable) {
						t.Fatalf("write %v: %v", f, err)
					}
					continue
				}
				want = append(want, withoutContentLength(f))
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r := NewReader(iotest.HalfReader(&buf))
			r.SetVersion(tc.version)
			got, err := readAll(r)
			if err != io.EOF {
				t.Fatalf("reading back %q: %v", buf.String(), err)
			}
			for i := range got {
				got[i] = withoutContentLength(got[i])
			}
			if !framesEqual(got, want) {
				t.Fatalf("round trip of %q:\n got %v\nwant %v", buf.String(), got, want)
			}
		})
	}
}

func withoutContentLength(f *Frame) *Frame {
	c := f.Clone()
	c.Headers.Del(HdrContentLength)
	return c
}

func framesEqual(a, b []*Frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Command != b[i].Command || !bytes.Equal(a[i].Body, b[i].Body) {
			return false
		}
		if len(a[i].Headers) != len(b[i].Headers) || (len(a[i].Headers) > 0 && !reflect.DeepEqual(a[i].Headers, b[i].Headers)) {
			return false
		}
	}
	return true
}

// TestReaderRecovers checks that a malformed frame never leaves the Reader
// stuck: the next frame after it is read.
func TestReaderRecovers(t *testing.T) {
	t.Parallel()
	bad := []string{
		"FOO\nk:v\n\nbody\x00",
		"SEND\nk:a\\tb\n\nbody\x00",
		"SEND\nnocolon\n\n\x00",
		"SEND\ncontent-length:x\n\nbody\x00",
		"SEND\ncontent-length:2\n\nabc\x00",
		"SUBSCRIBE\n\nbody\x00",
		"SEND\nk:\xff\n\n\x00",
	}
	for _, b := range bad {
		r := NewReader(iotest.OneByteReader(strings.NewReader(b + "\nSEND\ndestination:/q\n\nok\x00")))
		r.SetVersion(V12)
		var fe *FrameError
		if _, err := r.Read(); !errors.As(err, &fe) {
			t.Fatalf("%q: want a FrameError, got %v", b, err)
		}
		f, err := r.Read()
		for err == nil && f.IsHeartBeat() {
			f, err = r.Read()
		}
		if err != nil || f.Command != CmdSend || string(f.Body) != "ok" {
			t.Fatalf("%q: after the error got %v, %v; want the next SEND", b, f, err)
		}
	}
}

// TestReaderNoAllocationBeyondLimit checks that an announced body over the
// limit is refused without allocating it.
func TestReaderNoAllocationBeyondLimit(t *testing.T) {
	wire := "MESSAGE\ncontent-length:10000000000\n\n"
	allocs := testing.AllocsPerRun(10, func() {
		r := NewReader(strings.NewReader(wire))
		if _, err := r.Read(); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("got %v", err)
		}
	})
	// The reader, its first chunk, the frame and the error; nothing sized
	// by the announced length.
	if allocs > 8 {
		t.Fatalf("%v allocations", allocs)
	}
}

// TestReaderFramesStayValid checks that frames keep their contents after
// many more frames were read through the same Reader.
func TestReaderFramesStayValid(t *testing.T) {
	t.Parallel()
	// Read and ReadTo (into frames with room for fewer headers than some
	// frames have, and with none) both keep every frame valid.
	for _, mode := range []string{"Read", "ReadTo", "ReadTo-small", "ReadTo-nil"} {
		var wire bytes.Buffer
		for i := range 5000 {
			wire.WriteString("MESSAGE\nk:v\\c" + strings.Repeat("x", i%50) + "\n" + strings.Repeat("h:1\n", i%4) + "\n" + strings.Repeat("b", i%300) + "\x00\n")
		}
		r := NewReader(iotest.HalfReader(&wire))
		r.SetVersion(V12)
		var kept []*Frame
		for {
			var f *Frame
			var err error
			switch mode {
			case "Read":
				f, err = r.Read()
			case "ReadTo":
				f = &Frame{Headers: make(Headers, 0, 8)}
				err = r.ReadTo(f)
			case "ReadTo-small":
				f = &Frame{Headers: make(Headers, 0, 2)}
				err = r.ReadTo(f)
			default:
				f = &Frame{}
				err = r.ReadTo(f)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if !f.IsHeartBeat() {
				kept = append(kept, f)
			}
		}
		if len(kept) != 5000 {
			t.Fatalf("%s: %d frames", mode, len(kept))
		}
		for i, f := range kept {
			if f.Header("k") != "v:"+strings.Repeat("x", i%50) || len(f.Headers) != 1+i%4 || string(f.Body) != strings.Repeat("b", i%300) {
				t.Fatalf("%s: frame %d changed: %v", mode, i, f)
			}
		}
	}
}

func TestReaderReady(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	r := NewReader(pr)
	r.SetVersion(V12)
	if r.Ready() {
		t.Fatal("ready with nothing read")
	}
	frame := "MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:s\n\nhi\x00"
	go pw.Write([]byte(frame + "\n" + frame + frame[:10]))
	for i, want := range []bool{true, true, false} {
		f, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		// What Read got is the frame, then the heart-beat, then the
		// frame again with ten bytes of the next after it.
		if got := r.Ready(); got != want {
			t.Fatalf("after %v (read %d): Ready %v, want %v", f.Command, i, got, want)
		}
	}
	go pw.Write([]byte(frame[10:]))
	if f, err := r.Read(); err != nil || string(f.Body) != "hi" || r.Ready() {
		t.Fatalf("last frame %v, %v", f, err)
	}
}

func TestReaderLargeBodies(t *testing.T) {
	t.Parallel()
	for _, size := range []int{directBody - 1, directBody, chunkSize, 3*chunkSize + 7, 1 << 20} {
		body := bytes.Repeat([]byte{0, 1, 2, 'x'}, size/4+1)[:size]
		var buf bytes.Buffer
		w := NewWriter(&buf)
		w.SetVersion(V12)
		f := fr(CmdSend, "", "destination", "/q")
		f.Body = body
		for range 3 {
			if err := w.WriteFrame(f); err != nil {
				t.Fatal(err)
			}
			w.WriteHeartBeat()
		}
		w.Flush()
		r := NewReader(iotest.HalfReader(&buf))
		r.SetVersion(V12)
		n := 0
		for {
			g, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if g.IsHeartBeat() {
				continue
			}
			n++
			if !bytes.Equal(g.Body, body) || g.Header("destination") != "/q" {
				t.Fatalf("size %d: body or header differs", size)
			}
		}
		if n != 3 {
			t.Fatalf("size %d: %d frames", size, n)
		}
	}
}

// TestReadFrameReuse checks that reading into one frame allocates nothing
// once warmed up.
func TestReadFrameReuse(t *testing.T) {
	wire := []byte(benchMessage)
	src := &repeatReader{data: wire}
	r := NewReader(src)
	r.SetVersion(V12)
	var f Frame
	for range 1000 {
		if err := r.ReadFrame(&f); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := r.ReadFrame(&f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs >= 0.05 {
		t.Fatalf("%v allocations per frame", allocs)
	}
	if f.Command != CmdMessage || f.Header("destination") != "/queue/stompest.bench" || len(f.Body) != 100 {
		t.Fatalf("got %v", &f)
	}
}

func TestReaderOffset(t *testing.T) {
	t.Parallel()
	r := NewReader(strings.NewReader("\nSEND\n\nab\x00"))
	r.SetVersion(V12)
	r.Read()
	if r.Offset() != 1 {
		t.Fatalf("offset %d after a heart-beat", r.Offset())
	}
	r.Read()
	if r.Offset() != 10 {
		t.Fatalf("offset %d after the frame", r.Offset())
	}
}

func TestFrameErrorMessage(t *testing.T) {
	t.Parallel()
	r := NewReader(strings.NewReader("SEND\nfoo\n\n\x00"))
	_, err := r.Read()
	want := `malformed frame at offset 5, line 2: malformed header: no colon in "foo"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
}
