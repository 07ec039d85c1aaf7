package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Limits bound what a Reader accepts from its peer. Each limit is checked
// before the memory it guards is allocated.
type Limits struct {
	MaxBodySize int64 // bytes of one body
	MaxLineSize int   // bytes of the command line or of one header line
	MaxHeaders  int   // header lines in one frame
}

// DefaultLimits are the limits of a new Reader: a 64 MiB body, a 64 KiB
// header line and 1000 headers.
var DefaultLimits = Limits{MaxBodySize: 64 << 20, MaxLineSize: 64 << 10, MaxHeaders: 1000}

// chunkSize is the size of the Reader's read buffers. Frames alias a chunk,
// so a chunk is never overwritten once a frame refers to it; a new chunk is
// allocated instead.
const chunkSize = 64 << 10

// maxRead bounds one read from the stream, so that most of a large body
// is read straight into its own buffer instead of passing through a chunk.
const maxRead = 16 << 10

// directBody is the body size from which a body announced by content-length
// is read straight into a buffer of its own rather than through a chunk.
const directBody = chunkSize / 2

// Reader reads STOMP frames and heart-beats from a byte stream of any
// fragmentation. It never reads more than the frame it returns plus what
// its last read(2) brought.
//
// The frames it returns alias its read buffers without copying; those
// buffers are never overwritten, so a frame stays valid while referenced.
type Reader struct {
	rd      io.Reader
	buf     []byte
	r, w    int  // unread bytes are buf[r:w]
	shared  bool // a frame handed out by Read refers to buf
	aliased bool // the last frame read refers to buf
	pinned  bool // consumed bytes of buf are still referenced by the frame being read
	pending *Frame
	off     int64 // stream offset of buf[r]
	version Version
	limits  Limits
	resync  bool // skip to the next NUL before reading the next frame
	err     error
}

// NewReader returns a Reader of rd with DefaultLimits and VersionUnknown,
// the state before CONNECTED: every command and CRLF line ends are accepted.
func NewReader(rd io.Reader) *Reader {
	return &Reader{rd: rd, limits: DefaultLimits}
}

// SetVersion sets the version whose rules apply to the next frames; call it
// once the version is negotiated.
func (r *Reader) SetVersion(v Version) { r.version = v }

// Version returns the version whose rules the Reader applies.
func (r *Reader) Version() Version { return r.version }

// SetLimits replaces the Reader's limits. Zero fields keep their defaults.
func (r *Reader) SetLimits(l Limits) {
	if l.MaxBodySize <= 0 {
		l.MaxBodySize = DefaultLimits.MaxBodySize
	}
	if l.MaxLineSize <= 0 {
		l.MaxLineSize = DefaultLimits.MaxLineSize
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultLimits.MaxHeaders
	}
	r.limits = l
}

// Offset returns how many bytes of the stream the Reader has consumed.
func (r *Reader) Offset() int64 { return r.off }

// Buffered returns how many bytes have been read from the stream but not
// yet consumed.
func (r *Reader) Buffered() int { return r.w - r.r }

// frameAlloc puts a frame and room for its first headers in one allocation.
type frameAlloc struct {
	f Frame
	h [8]Header
}

// Read returns the next frame, or a frame whose Command is HeartBeat for
// each EOL between frames (STOMP 1.1 and later; in 1.0 they are skipped).
// The frame stays valid for as long as it is referenced: it aliases a read
// buffer that is never written again. At the end of the stream Read returns
// io.EOF, or io.ErrUnexpectedEOF when the stream ends inside a frame. A
// malformed frame yields a *FrameError; the Reader then skips to the next
// NUL and can go on reading.
func (r *Reader) Read() (*Frame, error) {
	hb, err := r.start()
	if err != nil {
		return nil, err
	}
	if hb {
		return &Frame{Command: HeartBeat}, nil
	}
	a := new(frameAlloc)
	a.f.Headers = a.h[:0]
	if err := r.read(&a.f); err != nil {
		return nil, err
	}
	if r.aliased {
		r.shared = true
	}
	return &a.f, nil
}

// ReadFrame is Read into a caller's frame, reusing its header list, and
// allocates nothing in the steady state. The frame is valid only until the
// next call to Read or ReadFrame, which may overwrite the buffer it aliases;
// use Clone to keep it longer.
func (r *Reader) ReadFrame(f *Frame) error {
	f.Reset()
	hb, err := r.start()
	if err != nil {
		return err
	}
	if hb {
		f.Command = HeartBeat
		return nil
	}
	return r.read(f)
}

// start skips what a malformed frame left and reports a heart-beat, or
// stops at the first byte of a frame.
func (r *Reader) start() (heartBeat bool, err error) {
	if r.resync {
		if err := r.skipPastNul(); err != nil {
			return false, err
		}
	}
	for {
		if r.r == r.w {
			if err := r.more(false); err != nil {
				return false, err
			}
		}
		c := r.buf[r.r]
		if c != '\n' && c != '\r' {
			return false, nil
		}
		n := 1
		if c == '\r' {
			for r.w-r.r < 2 {
				if err := r.more(true); err != nil {
					return false, err
				}
			}
			if r.buf[r.r+1] != '\n' {
				return false, r.fail(0, 1, ErrInvalidCommand, `"\r"`)
			}
			n = 2
		}
		r.consume(n)
		if r.version != V10 {
			return true, nil
		}
	}
}

// read reads one frame into f, keeping f's header strings valid when the
// buffer moves.
func (r *Reader) read(f *Frame) error {
	r.pending = f
	err := r.readFrame(f)
	r.pending = nil
	return err
}

func (r *Reader) readFrame(f *Frame) error {
	r.aliased = true
	crlf := r.version != V11
	// The head: the command line, header lines, an empty line. Header
	// strings alias r.buf; when more() moves the unread bytes, it moves
	// the strings of the pending frame with them.
	var (
		pos        int // relative offset of the next line
		line       int
		cmd        Command
		bodyLength = int64(-1)
	)
	for {
		line++
		start := pos
		nl := bytes.IndexByte(r.buf[r.r+start:r.w], '\n')
		for nl < 0 {
			seen := r.w - r.r - start
			if seen > r.limits.MaxLineSize {
				return r.fail(start, line, ErrLineTooLong, "")
			}
			if err := r.more(true); err != nil {
				return err
			}
			if nl = bytes.IndexByte(r.buf[r.r+start+seen:r.w], '\n'); nl >= 0 {
				nl += seen
			}
		}
		if nl > r.limits.MaxLineSize {
			return r.fail(start, line, ErrLineTooLong, "")
		}
		end := start + nl
		pos = end + 1
		if crlf && end > start && r.buf[r.r+end-1] == '\r' {
			end--
		}
		base := r.buf[r.r:]
		if line == 1 {
			cmd = commandOf(base[start:end])
			if cmd == "" || (r.version == V10 && (cmd == CmdStomp || cmd == CmdNack)) {
				return r.fail(start, line, ErrInvalidCommand, strconv.Quote(string(base[start:end])))
			}
			f.Command = cmd
			continue
		}
		if end == start {
			break
		}
		if len(f.Headers) == r.limits.MaxHeaders {
			return r.fail(start, line, ErrTooManyHeaders, "")
		}
		colon := bytes.IndexByte(base[start:end], ':')
		if colon < 0 {
			return r.fail(start, line, ErrMalformedHeader, "no colon in "+strconv.Quote(string(base[start:end])))
		}
		colon += start
		if bodyLength < 0 && colon-start == len(HdrContentLength) && string(base[start:colon]) == HdrContentLength {
			n, ok := parseLength(base[colon+1 : end])
			if !ok {
				return r.fail(colon+1, line, ErrInvalidContentLength, strconv.Quote(string(base[colon+1:end])))
			}
			if n > r.limits.MaxBodySize {
				return r.fail(colon+1, line, ErrFrameTooLarge,
					strconv.FormatInt(n, 10)+" bytes announced, limit "+strconv.FormatInt(r.limits.MaxBodySize, 10))
			}
			bodyLength = n
		}
		f.Headers = append(f.Headers, Header{aliasString(base[start:colon]), aliasString(base[colon+1 : end])})
	}
	// Encoding and escapes, checked over the whole head at once: the
	// common head is ASCII without a backslash.
	if len(f.Headers) > 0 {
		first := len(f.Command) + 1
		if crlf && r.buf[r.r+len(f.Command)] == '\r' {
			first++
		}
		hd := r.buf[r.r+first : r.r+pos]
		if r.version != V10 && !isASCII(hd) {
			for i, h := range f.Headers {
				if !utf8.ValidString(h.Name) || !utf8.ValidString(h.Value) {
					return r.fail(r.lineStart(h), i+2, ErrInvalidEncoding, strconv.Quote(h.Name+":"+h.Value))
				}
			}
		}
		if escaped(r.version, cmd) {
			if err := r.unescapeHeaders(f.Headers, hd, first); err != nil {
				return err
			}
		}
	}
	head := pos
	if bodyLength > 0 && !BodyAllowed(r.version, cmd) {
		return r.fail(head, line, ErrBodyNotAllowed, string(cmd))
	}

	// The body, then the NUL.
	var body []byte
	switch {
	case bodyLength >= directBody:
		// The head moves to storage of its own, so that the buffer can be
		// reused while the body is read past it.
		r.aliased = false
		own := make([]byte, head)
		copy(own, r.buf[r.r:r.r+head])
		rebase(f.Headers, r.buf[r.r:r.r+head], own)
		r.consume(head)
		body = make([]byte, bodyLength)
		n := copy(body, r.buf[r.r:r.w])
		r.consume(n)
		if n < len(body) {
			if r.err != nil {
				return r.ioError(r.err, true)
			}
			m, err := io.ReadFull(r.rd, body[n:])
			r.off += int64(m)
			if err != nil {
				return r.ioError(err, true)
			}
		}
		for r.r == r.w {
			if err := r.more(true); err != nil {
				return err
			}
		}
		if r.buf[r.r] != 0 {
			return r.fail(0, line, ErrMissingNul, "found "+strconv.QuoteRune(rune(r.buf[r.r])))
		}
		r.consume(1)
		f.Body = body
		return nil
	case bodyLength >= 0:
		end := head + int(bodyLength)
		for r.w-r.r <= end {
			if err := r.more(true); err != nil {
				return err
			}
		}
		if r.buf[r.r+end] != 0 {
			return r.fail(end, line, ErrMissingNul, "found "+strconv.QuoteRune(rune(r.buf[r.r+end])))
		}
		body = r.buf[r.r+head : r.r+end : r.r+end]
		pos = end + 1
	default:
		scan := head
		for {
			i := bytes.IndexByte(r.buf[r.r+scan:r.w], 0)
			if i >= 0 {
				scan += i
				break
			}
			scan = r.w - r.r
			if int64(scan-head) > r.limits.MaxBodySize {
				break
			}
			if err := r.more(true); err != nil {
				return err
			}
		}
		if int64(scan-head) > r.limits.MaxBodySize {
			return r.fail(head+int(r.limits.MaxBodySize), line, ErrFrameTooLarge,
				"no NUL within "+strconv.FormatInt(r.limits.MaxBodySize, 10)+" bytes")
		}
		if scan > head && !BodyAllowed(r.version, cmd) {
			r.consume(scan + 1)
			return r.errorAt(head-scan-1, line, ErrBodyNotAllowed, string(cmd))
		}
		body = r.buf[r.r+head : r.r+scan : r.r+scan]
		pos = scan + 1
	}
	if len(body) > 0 {
		f.Body = body
	}
	r.consume(pos)
	return nil
}

// unescapeString decodes the escapes of s in place (STOMP 1.2 "Value
// Encoding"); s must alias the Reader's buffer. It returns the decoded
// string and the offset in s of an undefined escape, or -1. Before the
// version is known an undefined escape is kept as it is.
func (r *Reader) unescapeString(s string) (string, int) {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s, -1
	}
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	w := i
	for j := i; j < len(b); j++ {
		c := b[j]
		if c != '\\' {
			b[w] = c
			w++
			continue
		}
		var d byte
		if j+1 < len(b) {
			switch b[j+1] {
			case '\\':
				d = '\\'
			case 'c':
				d = ':'
			case 'n':
				d = '\n'
			case 'r':
				if r.version != V11 {
					d = '\r'
				}
			}
		}
		if d == 0 {
			if r.version != VersionUnknown {
				return s, j
			}
			b[w] = c
			w++
			continue
		}
		b[w] = d
		w++
		j++
	}
	return s[:w], -1
}

// unescapeHeaders decodes the headers whose lines hold a backslash. hd is
// the head after the command line, at offset first in the frame.
func (r *Reader) unescapeHeaders(hs Headers, hd []byte, first int) error {
	next := bytes.IndexByte(hd, '\\')
	for i := 0; next >= 0 && i < len(hs); i++ {
		h := &hs[i]
		at := r.lineStart(*h)
		valueAt := at + len(h.Name) + 1
		if first+next >= valueAt+len(h.Value) {
			continue
		}
		var bad int
		if h.Name, bad = r.unescapeString(h.Name); bad >= 0 {
			bad += at
		} else if h.Value, bad = r.unescapeString(h.Value); bad >= 0 {
			bad += valueAt
		}
		if bad >= 0 {
			return r.fail(bad, i+2, ErrInvalidEscape, strconv.Quote(string(r.buf[r.r+bad:r.r+min(bad+2, first+len(hd))])))
		}
		rest := valueAt + len(h.Value) - first
		if next = bytes.IndexByte(hd[rest:], '\\'); next >= 0 {
			next += rest
		}
	}
	return nil
}

// lineStart returns the offset, relative to the frame, of the line that
// holds header h, which aliases the Reader's buffer.
func (r *Reader) lineStart(h Header) int {
	frame := uintptr(unsafe.Pointer(&r.buf[r.r]))
	if h.Name != "" {
		return int(uintptr(unsafe.Pointer(unsafe.StringData(h.Name))) - frame)
	}
	if h.Value != "" {
		return int(uintptr(unsafe.Pointer(unsafe.StringData(h.Value)))-frame) - 1
	}
	return 0
}

// skipPastNul discards input up to and including the next NUL: after a
// malformed frame, reading resumes at the next frame.
func (r *Reader) skipPastNul() error {
	for {
		if i := bytes.IndexByte(r.buf[r.r:r.w], 0); i >= 0 {
			r.consume(i + 1)
			r.resync = false
			return nil
		}
		r.consume(r.w - r.r)
		if err := r.more(false); err != nil {
			return err
		}
	}
}

// consume marks n unread bytes as read.
func (r *Reader) consume(n int) {
	r.r += n
	r.off += int64(n)
}

// fail reports a malformed frame at relative offset rel of the current
// frame and arranges for the Reader to skip the rest of it.
func (r *Reader) fail(rel, line int, err error, detail string) error {
	r.consume(rel)
	r.resync = true
	return r.errorAt(0, line, err, detail)
}

// errorAt builds a FrameError at rel bytes from the read position.
func (r *Reader) errorAt(rel, line int, err error, detail string) error {
	return &FrameError{Offset: r.off + int64(rel), Line: line, Err: err, Detail: detail}
}

// more reads at least one more byte into buf, making room first. inFrame
// says whether a frame has begun, which turns io.EOF into
// io.ErrUnexpectedEOF.
func (r *Reader) more(inFrame bool) error {
	if r.err != nil {
		return r.ioError(r.err, inFrame || r.r < r.w)
	}
	if r.w == len(r.buf) {
		old, unread := r.buf, r.w-r.r
		if !r.shared && r.r > 0 && unread <= len(r.buf)/2 {
			copy(r.buf, r.buf[r.r:r.w])
		} else {
			size := chunkSize
			for size < 2*unread {
				size *= 2
			}
			r.buf = make([]byte, size)
			copy(r.buf, old[r.r:r.w])
			r.shared = false
		}
		if r.pending != nil && unread > 0 {
			rebase(r.pending.Headers, old[r.r:r.w], r.buf)
		}
		r.r, r.w = 0, unread
	}
	for range 100 {
		n, err := r.rd.Read(r.buf[r.w:min(len(r.buf), r.w+maxRead)])
		r.w += n
		if err != nil {
			r.err = err
			if n > 0 {
				return nil
			}
			return r.ioError(err, inFrame || r.r < r.w)
		}
		if n > 0 {
			return nil
		}
	}
	r.err = io.ErrNoProgress
	return r.err
}

// rebase re-points the header strings that lie in from at the same
// offsets in to, where from's bytes were copied.
func rebase(hs Headers, from, to []byte) {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(from)))
	hi := lo + uintptr(len(from))
	move := func(s string) string {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); s != "" && p >= lo && p < hi {
			return unsafe.String(&to[p-lo], len(s))
		}
		return s
	}
	for i := range hs {
		hs[i].Name = move(hs[i].Name)
		hs[i].Value = move(hs[i].Value)
	}
}

// ioError reports a read error, turning an end of stream inside a frame
// into io.ErrUnexpectedEOF.
func (r *Reader) ioError(err error, inFrame bool) error {
	if inFrame && errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// commandOf maps a command line to its constant without allocating, or ""
// for an unknown command.
func commandOf(b []byte) Command {
	switch string(b) {
	case "MESSAGE":
		return CmdMessage
	case "SEND":
		return CmdSend
	case "ACK":
		return CmdAck
	case "NACK":
		return CmdNack
	case "RECEIPT":
		return CmdReceipt
	case "SUBSCRIBE":
		return CmdSubscribe
	case "UNSUBSCRIBE":
		return CmdUnsubscribe
	case "BEGIN":
		return CmdBegin
	case "COMMIT":
		return CmdCommit
	case "ABORT":
		return CmdAbort
	case "CONNECT":
		return CmdConnect
	case "STOMP":
		return CmdStomp
	case "CONNECTED":
		return CmdConnected
	case "DISCONNECT":
		return CmdDisconnect
	case "ERROR":
		return CmdError
	}
	return ""
}

// parseLength parses a content-length value: decimal digits, with
// surrounding spaces tolerated.
func parseLength(b []byte) (int64, bool) {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// isASCII reports whether b holds only 7-bit bytes.
func isASCII(b []byte) bool {
	const hi = 0x8080808080808080
	var acc uint64
	for len(b) >= 8 {
		acc |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		acc |= uint64(c)
	}
	return acc&hi == 0
}

// aliasString returns a string that shares b's storage. The Reader never
// writes to storage it has handed out this way.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
