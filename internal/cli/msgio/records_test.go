package msgio

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stompest/stompest/internal/protocol"
)

func TestParseDelimiter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{`\n`, "\n", false},
		{`\r\n`, "\r\n", false},
		{`\t`, "\t", false},
		{`\0`, "\x00", false},
		{`\\`, `\`, false},
		{`\x1e`, "\x1e", false},
		{`--\xFF--`, "--\xff--", false},
		{`,`, ",", false},
		{``, "", true},
		{`\`, "", true},
		{`\q`, "", true},
		{`\x1`, "", true},
		{`\xzz`, "", true},
	}
	for _, tc := range tests {
		got, err := ParseDelimiter(tc.in)
		if (err != nil) != tc.err || string(got) != tc.want {
			t.Errorf("parseDelimiter(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestSplitter(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200<<10) // longer than any buffer
	tests := []struct {
		input string
		delim string
		want  []string
	}{
		{"a\nb\n", "\n", []string{"a", "b"}},
		{"a\n\nb", "\n", []string{"a", "", "b"}},
		{"", "\n", nil},
		{"\n", "\n", []string{""}},
		{long + "\nz", "\n", []string{long, "z"}},
		{"a\x00b\x00", "\x00", []string{"a", "b"}},
		{"a--b-c--", "--", []string{"a", "b-c"}},
		{"a\r\nb\r\n", "\r\n", []string{"a", "b"}},
	}
	for _, tc := range tests {
		sp := NewSplitter(iotest.HalfReader(strings.NewReader(tc.input)), []byte(tc.delim))
		var got []string
		for {
			rec, err := sp.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(rec))
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q split on %q: %d records, want %d", trunc(tc.input), tc.delim, len(got), len(tc.want))
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q split on %q: record %d = %q", trunc(tc.input), tc.delim, i, trunc(got[i]))
			}
		}
	}
}

func trunc(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// TestRecordRoundTrip checks that a frame turned into a JSON Lines record
// and back keeps its body (binary too) and headers (with colons,
// backslashes, newlines, unicode).
func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	bodies := [][]byte{[]byte("hello"), {0, 1, 2, 0xff}, []byte("ünïcode ☕"), {}, []byte("a\x00b")}
	for _, body := range bodies {
		f := protocol.NewFrame(protocol.CmdMessage, "destination", "/queue/a", "message-id", "m1",
			"k", "a:b\\c\nd", "ü", "☕", "k", "second")
		f.Body = body
		r := RecordOf(3, f)
		if r.Headers["k"] != "a:b\\c\nd" {
			t.Errorf("first value of a repeated header: %q", r.Headers["k"])
		}
		var buf bytes.Buffer
		if err := JSONLine(&buf, r); err != nil {
			t.Fatal(err)
		}
		back, err := DecodeRecord(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		got, err := back.Bytes()
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("body %q came back as %q (%v)", body, got, err)
		}
		hs := back.HeaderList(false)
		if hs.Has("message-id") || hs.Has("destination") || hs.Value("k") != "a:b\\c\nd" || hs.Value("ü") != "☕" {
			t.Errorf("headers came back as %v", hs)
		}
		if back.HeaderList(true).Value("message-id") != "m1" {
			t.Errorf("--keep-headers lost message-id")
		}
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		`{"body": 3}`,
		`{"body": "x", "bogus": 1}`,
		`{"body": "x"} {"body": "y"}`,
		`not json`,
	} {
		if _, err := DecodeRecord([]byte(line)); err == nil {
			t.Errorf("%s: no error", line)
		}
	}
	r, _ := DecodeRecord([]byte(`{"body": "@@", "body_encoding": "base64"}`))
	if _, err := r.Bytes(); err == nil {
		t.Error("invalid base64 accepted")
	}
	r, _ = DecodeRecord([]byte(`{"body": "x", "body_encoding": "hex"}`))
	if _, err := r.Bytes(); err == nil {
		t.Error("unknown encoding accepted")
	}
}
