package protocol

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unsafe"
)

// writeBufferSize is the Writer's buffer: a burst of small frames leaves in
// one write(2).
const writeBufferSize = 64 << 10

// directWrite is the body size from which a body bypasses the buffer: the
// buffered bytes are written, then the body straight from the frame.
const directWrite = 16 << 10

// Writer encodes frames onto a byte stream. It buffers: nothing reaches the
// stream before Flush, or before the buffer fills.
//
// Every frame that may carry a body gets a content-length header computed
// by the Writer (any content-length among the frame's headers is ignored),
// so bodies may hold NUL. In text mode no content-length is written and a
// body holding NUL is refused.
//
// A frame is encoded straight into the buffer, and a frame that cannot be
// encoded is taken out of it again: nothing of a refused frame is written.
type Writer struct {
	wr      io.Writer
	buf     []byte        // the buffered bytes; cap is the buffer's size
	err     error         // a failed write: every later one fails the same way
	msg     MessageWriter // nil on a byte stream
	version Version
	text    bool
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
	return &Writer{wr: w, buf: make([]byte, 0, writeBufferSize), msg: mw}
}

// endMessage ends a frame or heart-beat of a message stream.
func (w *Writer) endMessage() error {
	if w.msg == nil {
		return nil
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := w.msg.EndMessage(); err != nil {
		// The message did not leave whole: the stream is broken, as
		// after a failed Flush.
		w.err = err
		return err
	}
	return nil
}

// SetVersion sets the version whose escaping applies to the next frames.
func (w *Writer) SetVersion(v Version) { w.version = v }

// Version returns the version whose escaping the Writer applies.
func (w *Writer) Version() Version { return w.version }

// SetText turns text mode on or off: in text mode content-length is not
// written and bodies holding NUL are refused with ErrNulInBody.
func (w *Writer) SetText(on bool) { w.text = on }

// Err returns the error of a failed write to the stream, or nil. Once a
// write failed, every later one fails with it.
func (w *Writer) Err() error { return w.err }

// Buffered returns the number of bytes written but not yet flushed.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes the buffered frames to the stream. After a failed write
// the Writer keeps failing with the same error.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.wr.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		// What was not written stays buffered, as bufio.Writer keeps it.
		if n > 0 && n < len(w.buf) {
			w.buf = w.buf[:copy(w.buf, w.buf[n:])]
		}
		w.err = err
		return err
	}
	if cap(w.buf) > 2*writeBufferSize {
		// A huge head grew the buffer; let it go.
		w.buf = make([]byte, 0, writeBufferSize)
	} else {
		w.buf = w.buf[:0]
	}
	return nil
}

// room flushes the buffer when fewer than n bytes are free.
func (w *Writer) room(n int) error {
	if cap(w.buf)-len(w.buf) < n {
		return w.Flush()
	}
	return w.err
}

// WriteHeartBeat writes one heart-beat EOL (STOMP 1.2 "Heart-beating").
func (w *Writer) WriteHeartBeat() error {
	if err := w.room(1); err != nil {
		return err
	}
	w.buf = append(w.buf, '\n')
	return w.endMessage()
}

// WriteFrame encodes f. A frame that cannot be encoded (a header that the
// version cannot express, a body the command may not carry, NUL in a text
// body) is refused before any of it is written.
func (w *Writer) WriteFrame(f *Frame) error {
	if f.IsHeartBeat() {
		return w.WriteHeartBeat()
	}
	size := len(f.Body)
	if err := w.check(f, int64(size)); err != nil {
		return err
	}
	if w.text && bytes.IndexByte(f.Body, 0) >= 0 {
		return fmt.Errorf("%s: %w", f.Command, ErrNulInBody)
	}
	if err := w.head(f, int64(size)); err != nil {
		return err
	}
	if size >= directWrite {
		if err := w.Flush(); err != nil {
			return err
		}
		if _, err := w.wr.Write(f.Body); err != nil {
			w.err = err
			return err
		}
	} else {
		w.buf = append(w.buf, f.Body...)
	}
	w.buf = append(w.buf, 0)
	return w.endMessage()
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
	if err := w.head(f, size); err != nil {
		return err
	}
	for size > 0 {
		if err := w.room(1); err != nil {
			return err
		}
		free := w.buf[len(w.buf):cap(w.buf)]
		if int64(len(free)) > size {
			free = free[:size]
		}
		n, err := body.Read(free)
		w.buf = w.buf[:len(w.buf)+n]
		size -= int64(n)
		if err == io.EOF {
			if size > 0 {
				return io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			return err
		}
	}
	if err := w.room(1); err != nil {
		return err
	}
	w.buf = append(w.buf, 0)
	return w.endMessage()
}

// check refuses a command the version does not have and a body the
// command may not carry; head checks the headers.
func (w *Writer) check(f *Frame, size int64) error {
	if f.Command == "" || !ValidCommand(w.version, f.Command) {
		return fmt.Errorf("%w: %q in STOMP %s", ErrInvalidCommand, f.Command, w.version)
	}
	if size > 0 && !BodyAllowed(w.version, f.Command) {
		return fmt.Errorf("%w: %s", ErrBodyNotAllowed, f.Command)
	}
	return w.err
}

// head appends the command, the headers and the blank line to the buffer.
// A header that cannot be encoded leaves the buffer as it was and is
// reported.
func (w *Writer) head(f *Frame, size int64) error {
	if len(w.buf) > cap(w.buf)-1024 {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	b, err := appendHead(w.buf, f, size, w.version, !w.text)
	if err != nil {
		return err
	}
	w.buf = b
	return nil
}

// WriteEncoded writes a frame that is already encoded, given in parts
// (such as a head of its own and a tail shared by many frames), as it is.
func (w *Writer) WriteEncoded(parts ...[]byte) error {
	for _, p := range parts {
		if len(p) >= directWrite {
			if err := w.Flush(); err != nil {
				return err
			}
			if _, err := w.wr.Write(p); err != nil {
				w.err = err
				return err
			}
			continue
		}
		if err := w.room(len(p)); err != nil {
			return err
		}
		w.buf = append(w.buf, p...)
	}
	return w.endMessage()
}

// AppendFrame appends the wire bytes of f in version v, with
// content-length, to b, as a Writer would write them.
func AppendFrame(b []byte, f *Frame, v Version) ([]byte, error) {
	if f.Command == "" || !ValidCommand(v, f.Command) {
		return b, fmt.Errorf("%w: %q in STOMP %s", ErrInvalidCommand, f.Command, v)
	}
	if len(f.Body) > 0 && !BodyAllowed(v, f.Command) {
		return b, fmt.Errorf("%w: %s", ErrBodyNotAllowed, f.Command)
	}
	b, err := appendHead(b, f, int64(len(f.Body)), v, true)
	if err != nil {
		return b, err
	}
	b = append(b, f.Body...)
	return append(b, 0), nil
}

// AppendHeader appends the header line name:value of a cmd frame in
// version v, with its escapes and its LF, to b.
func AppendHeader(b []byte, cmd Command, name, value string, v Version) ([]byte, error) {
	return appendHeader(b, cmd, name, value, escaped(v, cmd), v != V11)
}

// HeaderLineSize returns the size in bytes of the header line name:value
// of a cmd frame in version v, with its escapes and without its EOL: what a
// Reader compares with Limits.MaxLineSize. A header longer than the limit
// of whoever reads it back (a consumer reading the MESSAGE that carries it,
// escaped as the SEND was) is refused there, so a sender can refuse it
// before sending. Escaping is the longest in 1.2, which escapes CR too.
func HeaderLineSize(cmd Command, name, value string, v Version) (int, error) {
	b, err := AppendHeader(nil, cmd, name, value, v)
	if err != nil {
		return 0, err
	}
	return len(b) - 1, nil
}

// appendHeader appends a header line, escaped when esc is set (CR too when
// cr is set). On an error the bytes of b up to its length are unchanged.
func appendHeader(b []byte, cmd Command, name, value string, esc, cr bool) ([]byte, error) {
	// The common header needs no escape: it goes in as it is, and is
	// checked where it landed, eight bytes at a time (the room left after
	// it lets the last word be read whole).
	if n := len(name) + len(value) + 2; cap(b)-len(b) < n+8 {
		b = slices.Grow(b, n+8)
	}
	start := len(b)
	b = append(b, name...)
	b = append(b, ':')
	b = append(b, value...)
	b = append(b, '\n')
	if plain(unsafe.Pointer(&b[start]), len(b)-start, len(name)) {
		return b, nil
	}
	b = b[:start]
	b, bad := encode(b, name, esc, true, cr)
	if bad >= 0 {
		return b[:start], fmt.Errorf("%s header %q: %w: byte %q", cmd, name, ErrUnencodable, name[bad])
	}
	b = append(b, ':')
	if b, bad = encode(b, value, esc, false, cr); bad >= 0 {
		return b[:start], fmt.Errorf("%s header %q: %w: byte %q in its value", cmd, name, ErrUnencodable, value[bad])
	}
	return append(b, '\n'), nil
}

// appendHead appends the command line of f, its headers (a content-length
// of size first, when length is set and the command may carry a body) and
// the blank line to b, escaped as version v wants. On an error the bytes
// of b up to its length are unchanged.
func appendHead(b []byte, f *Frame, size int64, v Version, length bool) ([]byte, error) {
	start := len(b)
	b = append(b, f.Command...)
	b = append(b, '\n')
	if length && (size > 0 || f.Command == CmdSend || f.Command == CmdMessage || f.Command == CmdError) {
		b = append(b, HdrContentLength+":"...)
		b = strconv.AppendInt(b, size, 10)
		b = append(b, '\n')
	}
	esc, cr := escaped(v, f.Command), v != V11
	for _, h := range f.Headers {
		at := len(b)
		var err error
		if b, err = appendHeader(b, f.Command, h.Name, h.Value, esc, cr); err != nil {
			return b[:start], err
		}
		if h.Name == HdrContentLength {
			b = b[:at] // the Writer's own goes first
		}
	}
	return append(b, '\n'), nil
}

// Repeated bytes for the eight-at-a-time test of plain.
const (
	repBelow     = 0x0e * lsbs // NUL, LF and CR are below it
	repBackslash = '\\' * lsbs
)

// plain reports whether the header line of n bytes at p, its colon at
// offset colon and its LF last, holds none of the bytes that a head may
// need to escape or cannot hold: NUL, LF, CR, colon and backslash. Other
// control bytes below 0x0e and a few neighbours of a flagged byte answer
// false too, which only costs the slow path. It reads eight bytes at a
// time, up to seven bytes past the line: they must be readable.
func plain(p unsafe.Pointer, n, colon int) bool {
	for i := 0; i < n; i += 8 {
		x := load(unsafe.Add(p, i))
		found := (x-repBelow)&^x&msbs | zeros(x^repColon) | zeros(x^repBackslash)
		if c := colon - i; c >= 0 && c < 8 {
			found &^= 0x80 << (8 * c)
		}
		if rest := n - i; rest <= 8 {
			// The LF ends the line; bytes past it are ignored (a borrow
			// runs from lower bytes to higher ones only).
			found &= 1<<(8*rest-8) - 1
		}
		if found != 0 {
			return false
		}
	}
	return true
}

// encode appends s to b with the escapes of STOMP 1.2 "Value Encoding"
// when esc is set (a backslash, colon and LF; CR too when cr is set), and
// returns the index of the first byte of s that cannot be written, or -1.
// NUL can never be written in a head; without escaping, neither can LF or
// CR, nor a colon in a name.
func encode(b []byte, s string, esc, name, cr bool) ([]byte, int) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case 0:
			return b, i
		case '\n':
			rep = `\n`
		case '\r':
			if !cr && esc {
				continue
			}
			rep = `\r`
		case ':':
			if !esc && !name {
				continue
			}
			rep = `\c`
		case '\\':
			rep = `\\`
		default:
			continue
		}
		if !esc {
			if s[i] != '\\' {
				return b, i
			}
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, rep...)
		last = i + 1
	}
	return append(b, s[last:]...), -1
}

// Encode returns the wire bytes of f in version v, with content-length, as
// a Writer would write them.
func Encode(f *Frame, v Version) ([]byte, error) {
	b, err := AppendFrame(nil, f, v)
	if err != nil {
		return nil, err
	}
	return b, nil
}
