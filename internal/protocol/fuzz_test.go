package protocol

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzReader feeds arbitrary bytes to the Reader in every version. It must
// never panic or get stuck, every error must be a *FrameError or the end of
// the stream, and every frame it reads must survive a round trip through
// the Writer unchanged.
func FuzzReader(f *testing.F) {
	for _, tc := range readCases {
		f.Add(uint8(tc.version), tc.wire)
	}
	f.Add(uint8(V12), benchMessage)
	f.Fuzz(func(t *testing.T, v uint8, wire string) {
		version := Version(v % 4)
		r := NewReader(iotest.HalfReader(bytes.NewReader([]byte(wire))))
		r.SetVersion(version)
		r.SetLimits(Limits{MaxBodySize: 1 << 12, MaxLineSize: 1 << 10, MaxHeaders: 32})
		for calls := 0; ; calls++ {
			if calls > 2*len(wire)+2 {
				t.Fatalf("reader stuck after %d calls at offset %d", calls, r.Offset())
			}
			fr, err := r.Read()
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return
			}
			var fe *FrameError
			if errors.As(err, &fe) {
				if fe.Offset < 0 || fe.Offset > int64(len(wire)) || fe.Line < 1 {
					t.Fatalf("error position out of range: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if fr.IsHeartBeat() {
				continue
			}
			roundTrip(t, version, fr)
		}
	})
}

func roundTrip(t *testing.T, v Version, f *Frame) {
	t.Helper()
	data, err := Encode(f, v)
	if errors.Is(err, ErrUnencodable) {
		return // a frame the version cannot express is refused, not broken
	}
	if err != nil {
		t.Fatalf("encode %v: %v", f, err)
	}
	r := NewReader(bytes.NewReader(data))
	r.SetVersion(v)
	g, err := r.Read()
	if err != nil {
		t.Fatalf("re-read %q of %v: %v", data, f, err)
	}
	want, got := withoutContentLength(f), withoutContentLength(g)
	if !framesEqual([]*Frame{got}, []*Frame{want}) {
		t.Fatalf("round trip changed the frame:\n got %v\nwant %v\nwire %q", got, want, data)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("trailing data after re-read of %q: %v", data, err)
	}
}
