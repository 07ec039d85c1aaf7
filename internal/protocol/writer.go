package protocol

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// writeBufferSize is the Writer's buffer: a burst of small frames leaves in
// one write(2).
const writeBufferSize = 64 << 10

// Writer encodes frames onto a byte stream. It buffers: nothing reaches the
// stream before Flush, or before the buffer fills.
//
// Every frame that may carry a body gets a content-length header computed
// by the Writer (any content-length among the frame's headers is ignored),
// so bodies may hold NUL. In text mode no content-length is written and a
// body holding NUL is refused.
type Writer struct {
	bw      *bufio.Writer
	msg     MessageWriter // nil on a byte stream
	version Version
	text    bool
	num     [20]byte
}

// MessageWriter is a stream made of messages, such as a WebSocket
// connection: EndMessage sends what was written since the previous one as
// one message.
type MessageWriter interface {
	io.Writer
	EndMessage() error
}

// NewWriter returns a Writer onto w with VersionUnknown, which escapes
// headers as 1.2 does. When w is a MessageWriter, each frame and each
// heart-beat is one message, flushed as soon as it is written.
func NewWriter(w io.Writer) *Writer {
	mw, _ := w.(MessageWriter)
	return &Writer{bw: bufio.NewWriterSize(w, writeBufferSize), msg: mw}
}

// endMessage ends a frame or heart-beat of a message stream.
func (w *Writer) endMessage(err error) error {
	if w.msg == nil || err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	return w.msg.EndMessage()
}

// SetVersion sets the version whose escaping applies to the next frames.
func (w *Writer) SetVersion(v Version) { w.version = v }

// Version returns the version whose escaping the Writer applies.
func (w *Writer) Version() Version { return w.version }

// SetText turns text mode on or off: in text mode content-length is not
// written and bodies holding NUL are refused with ErrNulInBody.
func (w *Writer) SetText(on bool) { w.text = on }

// Buffered returns the number of bytes written but not yet flushed.
func (w *Writer) Buffered() int { return w.bw.Buffered() }

// Flush writes the buffered frames to the stream.
func (w *Writer) Flush() error { return w.bw.Flush() }

// WriteHeartBeat writes one heart-beat EOL (STOMP 1.2 "Heart-beating").
func (w *Writer) WriteHeartBeat() error { return w.endMessage(w.bw.WriteByte('\n')) }

// WriteFrame encodes f. A frame that cannot be encoded (a header that the
// version cannot express, a body the command may not carry, NUL in a text
// body) is refused before any of it is written.
func (w *Writer) WriteFrame(f *Frame) error {
	if f.IsHeartBeat() {
		return w.WriteHeartBeat()
	}
	if err := w.check(f, int64(len(f.Body))); err != nil {
		return err
	}
	if w.text && bytes.IndexByte(f.Body, 0) >= 0 {
		return fmt.Errorf("%s: %w", f.Command, ErrNulInBody)
	}
	w.head(f, int64(len(f.Body)))
	w.bw.Write(f.Body)
	return w.endMessage(w.bw.WriteByte(0))
}

// WriteStream encodes f with a body of exactly size bytes read from body,
// which is copied through without being held in memory; f.Body is ignored.
// If body ends early the frame is left incomplete on the stream and the
// error is io.ErrUnexpectedEOF: the connection must then be dropped.
func (w *Writer) WriteStream(f *Frame, body io.Reader, size int64) error {
	if w.text {
		return fmt.Errorf("%s: a streamed body needs content-length, not text mode", f.Command)
	}
	if err := w.check(f, size); err != nil {
		return err
	}
	w.head(f, size)
	n, err := io.CopyN(w.bw, body, size)
	if err == io.EOF || (err == nil && n < size) {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	return w.endMessage(w.bw.WriteByte(0))
}

// check refuses what cannot be encoded.
func (w *Writer) check(f *Frame, size int64) error {
	if f.Command == "" || !ValidCommand(w.version, f.Command) {
		return fmt.Errorf("%w: %q in STOMP %s", ErrInvalidCommand, f.Command, w.version)
	}
	if size > 0 && !BodyAllowed(w.version, f.Command) {
		return fmt.Errorf("%w: %s", ErrBodyNotAllowed, f.Command)
	}
	esc := escaped(w.version, f.Command)
	for _, h := range f.Headers {
		if bad := unencodable(h.Name, esc, true); bad >= 0 {
			return fmt.Errorf("%s header %q: %w: byte %q", f.Command, h.Name, ErrUnencodable, h.Name[bad])
		}
		if bad := unencodable(h.Value, esc, false); bad >= 0 {
			return fmt.Errorf("%s header %q: %w: byte %q in its value", f.Command, h.Name, ErrUnencodable, h.Value[bad])
		}
	}
	return nil
}

// unencodable returns the index of the first byte of s that cannot be
// written, or -1. NUL can never be written in a head; without escaping,
// neither can LF or CR, nor a colon in a name.
func unencodable(s string, esc, name bool) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0:
			return i
		case '\n':
			if !esc {
				return i
			}
		case '\r':
			if !esc {
				return i
			}
		case ':':
			if name && !esc {
				return i
			}
		}
	}
	return -1
}

// head writes the command, the headers and the blank line.
func (w *Writer) head(f *Frame, size int64) {
	bw := w.bw
	bw.WriteString(string(f.Command))
	bw.WriteByte('\n')
	if !w.text && (size > 0 || f.Command == CmdSend || f.Command == CmdMessage || f.Command == CmdError) {
		bw.WriteString(HdrContentLength + ":")
		bw.Write(strconv.AppendInt(w.num[:0], size, 10))
		bw.WriteByte('\n')
	}
	esc := escaped(w.version, f.Command)
	for _, h := range f.Headers {
		if h.Name == HdrContentLength {
			continue
		}
		if esc {
			w.escape(h.Name)
			bw.WriteByte(':')
			w.escape(h.Value)
		} else {
			bw.WriteString(h.Name)
			bw.WriteByte(':')
			bw.WriteString(h.Value)
		}
		bw.WriteByte('\n')
	}
	bw.WriteByte('\n')
}

// escape writes s with the escapes of the Writer's version (STOMP 1.2
// "Value Encoding"): a backslash, colon and LF in 1.1; CR too in 1.2.
func (w *Writer) escape(s string) {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == ':' || c == '\n' || (c == '\r' && w.version != V11) {
			break
		}
	}
	if i == len(s) {
		w.bw.WriteString(s)
		return
	}
	w.bw.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			w.bw.WriteString(`\\`)
		case ':':
			w.bw.WriteString(`\c`)
		case '\n':
			w.bw.WriteString(`\n`)
		case '\r':
			if w.version == V11 {
				w.bw.WriteByte(c)
			} else {
				w.bw.WriteString(`\r`)
			}
		default:
			w.bw.WriteByte(c)
		}
	}
}

// Encode returns the wire bytes of f in version v, with content-length, as
// a Writer would write them.
func Encode(f *Frame, v Version) ([]byte, error) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.SetVersion(v)
	if err := w.WriteFrame(f); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
