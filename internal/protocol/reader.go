package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"slices"
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

// pad is how many bytes at the end of a read buffer are never filled, so
// that the head scanner can read a word at r.w, where more() keeps an LF
// that stops the scan.
const pad = 8

// maxRead bounds one read from the stream, so that most of a large body
// is read straight into its own buffer instead of passing through a chunk.
// Small frames arrive in reads of this size: one read(2) per ~150 frames.
const maxRead = 32 << 10

// directBody is the body size from which a body announced by content-length
// is read straight into a buffer of its own rather than through a chunk.
const directBody = chunkSize / 2

// OwnBody is the size from which a body announced by content-length is read
// into a buffer of its own, which no later read touches: such a body stays
// valid after the next ReadFrame too.
const OwnBody = directBody

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
	pending *Frame
	off     int64 // stream offset of buf[r]
	version Version
	limits  Limits
	resync  bool // skip to the next NUL before reading the next frame
	err     error
	pool    *chunkPool // RecycleChunks: where chunk-sized buffers come from
	chunk   *Chunk     // buf, when it came from pool
	holds   int32      // HoldChunk calls on chunk (see Chunk)
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

// Ready reports whether the next frame is probably buffered whole, so that
// reading it will not wait for the stream: the buffered bytes hold a NUL.
// A NUL inside a body announced by content-length can make it answer yes
// too early; it never answers no when a whole frame is buffered. (EOLs
// alone do not count: in 1.0 they are skipped, not returned, and reading
// goes on to wait for the next frame.)
func (r *Reader) Ready() bool {
	return bytes.IndexByte(r.buf[r.r:r.w], 0) >= 0
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
	a := new(frameAlloc)
	a.f.Headers = a.h[:0]
	if err := r.ReadTo(&a.f); err != nil {
		return nil, err
	}
	return &a.f, nil
}

// ReadTo is Read into a frame the caller allocated, such as one inside a
// larger struct: the headers go into f.Headers' storage (grown when it is
// too small), and the frame stays valid, as Read's does. f must not alias
// a frame read before.
func (r *Reader) ReadTo(f *Frame) error {
	f.Reset()
	hb, err := r.start()
	if err != nil {
		return err
	}
	if hb {
		f.Command = HeartBeat
		return nil
	}
	if err := r.read(f); err != nil {
		return err
	}
	if r.aliased {
		r.shared = true
	}
	return nil
}

// ReadFrame is Read into a caller's frame, reusing its header list, and
// allocates nothing in the steady state. The frame is valid only until the
// next call to Read or ReadFrame, which may overwrite the buffer it aliases
// (all but a body of OwnBody bytes or more); use Clone to keep it longer.
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
	head, line, bodyLength, err := r.readHead(f)
	if err != nil {
		return err
	}
	cmd := f.Command
	if bodyLength > 0 && !BodyAllowed(r.version, cmd) {
		return r.fail(head, line, ErrBodyNotAllowed, string(cmd))
	}

	// The body, then the NUL.
	var (
		body []byte
		pos  int // relative offset of the next frame
	)
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
			return limited(r.fail(head+int(r.limits.MaxBodySize), line, ErrFrameTooLarge,
				"no NUL within "+strconv.FormatInt(r.limits.MaxBodySize, 10)+" bytes"), r.limits.MaxBodySize)
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

// The head scanner looks at eight bytes at a time: each byte of x^rep is
// zero where x holds the byte repeated in rep.
const (
	lsbs     = 0x0101010101010101
	msbs     = 0x8080808080808080
	repLF    = '\n' * lsbs
	repColon = ':' * lsbs
)

// zeros sets the top bit of every zero byte of x. The borrow of the
// subtraction may also flag a byte of 0x01 right above a flagged byte, but
// the lowest flagged byte is always a zero byte, and none is missed.
func zeros(x uint64) uint64 { return (x - lsbs) &^ x & msbs }

// load returns the eight bytes at p as a little-endian word. They must lie
// in one allocation.
func load(p unsafe.Pointer) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(p)[:])
}

// readHead reads the head of a frame into f: the command line, the header
// lines and the empty line that ends them (STOMP 1.2 "Augmented BNF"). It
// returns the offset of the body relative to the frame, the number of the
// empty line and the content-length, or -1 when there is none.
//
// scanHeaders does the work on the header lines; readHead takes the
// command line and whatever scanHeaders stops at. Header strings alias
// r.buf; when more() moves the unread bytes, it moves the strings of the
// pending frame with them, and every offset here is relative to r.r.
func (r *Reader) readHead(f *Frame) (head, line int, bodyLength int64, err error) {
	crlf := r.version != V11
	maxLine := r.limits.MaxLineSize
	b := r.buf[r.r:r.w]

	// The command line.
	var (
		j, p int
		high uint64
	)
	for {
		j, p, high = lineEnd(b, p, high)
		if j < len(b) {
			break
		}
		if len(b) > maxLine {
			return 0, 0, 0, r.failLimit(0, 1, ErrLineTooLong, int64(maxLine), "bytes")
		}
		if err := r.more(true); err != nil {
			return 0, 0, 0, err
		}
		b = r.buf[r.r:r.w]
	}
	if j > maxLine {
		return 0, 0, 0, r.failLimit(0, 1, ErrLineTooLong, int64(maxLine), "bytes")
	}
	end := j
	if crlf && end > 0 && b[end-1] == '\r' {
		end--
	}
	cmd := commandOf(b[:end])
	if cmd == "" || (r.version == V10 && (cmd == CmdStomp || cmd == CmdNack)) {
		return 0, 0, 0, r.fail(0, 1, ErrInvalidCommand, strconv.Quote(string(b[:end])))
	}
	f.Command = cmd

	// The header lines.
	first := j + 1
	start, p, c0 := first, first, -1
	hs := f.Headers
	bodyLength = -1
	for {
		var (
			more  Headers
			colon int
			why   int
			h     uint64
		)
		opts := uint(0)
		if crlf {
			opts |= scanCRLF
		}
		if bodyLength < 0 {
			opts |= scanLength
		}
		var length int64
		more, start, j, colon, h, length, why = scanHeaders(unsafe.Pointer(unsafe.SliceData(b)), len(b),
			hs[:len(hs):min(cap(hs), r.limits.MaxHeaders)], start, p, c0, maxLine, opts, r.limits.MaxBodySize)
		if length >= 0 {
			bodyLength = length
		}
		hs = hs[:len(more)]
		high |= h
		line = 2 + len(hs)
		end := j
		if why != atMore && crlf && end > start && b[end-1] == '\r' {
			end--
		}
		switch why {
		case atEnd:
			f.Headers = hs
			if len(hs) > 0 {
				if err := r.checkHead(hs, cmd, first, j+1, high); err != nil {
					return 0, 0, 0, err
				}
			}
			return j + 1, line, bodyLength, nil
		case atMore:
			if len(b)-start > maxLine {
				return 0, 0, 0, r.failLimit(start, line, ErrLineTooLong, int64(maxLine), "bytes")
			}
			f.Headers = hs
			if err := r.more(true); err != nil {
				return 0, 0, 0, err
			}
			b = r.buf[r.r:r.w]
			p, c0 = j, colon
			continue
		case atLong:
			return 0, 0, 0, r.failLimit(start, line, ErrLineTooLong, int64(maxLine), "bytes")
		case atFull:
			if len(hs) >= r.limits.MaxHeaders {
				return 0, 0, 0, r.failLimit(start, line, ErrTooManyHeaders, int64(r.limits.MaxHeaders), "headers")
			}
			hs = slices.Grow(hs, max(len(hs), 8))
		case atNoColon:
			return 0, 0, 0, r.fail(start, line, ErrMalformedHeader, "no colon in "+strconv.Quote(string(b[start:end])))
		case atLength:
			n, ok := parseLength(b[colon+1 : end])
			if !ok {
				return 0, 0, 0, r.fail(colon+1, line, ErrInvalidContentLength, strconv.Quote(string(b[colon+1:end])))
			}
			if n > r.limits.MaxBodySize {
				return 0, 0, 0, limited(r.fail(colon+1, line, ErrFrameTooLarge,
					strconv.FormatInt(n, 10)+" bytes announced, limit "+strconv.FormatInt(r.limits.MaxBodySize, 10)), r.limits.MaxBodySize)
			}
			bodyLength = n
			hs = append(hs, Header{aliasString(b[start:colon]), aliasString(b[colon+1 : end])})
			start = j + 1
		}
		p, c0 = start, -1
	}
}

// lineEnd scans b from the word at p for an LF, ORing the words it reads
// into high. It returns the offset of the LF, or len(b) for the one more()
// keeps at r.buf[r.w], and the offset of the word that holds it.
func lineEnd(b []byte, p int, high uint64) (int, int, uint64) {
	base := unsafe.Pointer(unsafe.SliceData(b))
	for {
		x := load(unsafe.Add(base, p))
		high |= x
		if lfs := zeros(x ^ repLF); lfs != 0 {
			return p + bits.TrailingZeros64(lfs)>>3, p, high
		}
		p += 8
	}
}

// Where scanHeaders stops.
const (
	atEnd     = iota // at the empty line that ends the head
	atMore           // in a line that goes on past what has been read
	atLong           // at a line longer than the limit
	atFull           // at a header line when hs is full
	atNoColon        // at a line without a colon
	atLength         // at the first content-length header, when asked to
)

// contentLength is HdrContentLength as two overlapping little-endian words,
// of its bytes 0 to 7 and 6 to 13.
var contentLength = [2]uint64{
	binary.LittleEndian.Uint64([]byte(HdrContentLength[:8])),
	binary.LittleEndian.Uint64([]byte(HdrContentLength[6:])),
}

// rawHeader is the memory layout of a Header: two strings, each a pointer
// to its bytes and a length.
type rawHeader struct {
	name     unsafe.Pointer
	nameLen  int
	value    unsafe.Pointer
	valueLen int
}

// Options of scanHeaders.
const (
	scanCRLF   = 1 << iota // a CR before an LF belongs to the line end
	scanLength             // take the first content-length header
)

// scanHeaders appends to hs the headers of the lines of the n bytes at
// base, from the line at start on, until it meets a line it leaves to its
// caller, and says why it stopped. It returns hs, the start, LF and colon
// offsets of that line (for atMore, the offset of the word to go on
// scanning from instead of the LF, and the colon found so far or -1), the
// bytes it scanned, ORed, and the content-length it took, or -1. The scan
// of the first line goes on from the word at p, with its first colon at c0
// if it was found already, else -1. With scanLength, it takes the first content-length header
// when its value is plain digits up to maxBody, and stops at it otherwise.
//
// It calls nothing, so that its loop keeps everything in registers. Lines
// are scanned eight bytes at a time with no bound: more() keeps pad bytes
// after the unread ones and an LF at r.buf[r.w], where any line ends at the
// latest.
func scanHeaders(base unsafe.Pointer, n int, hs Headers, start, p, c0, maxLine int, opts uint, maxBody int64) (_ Headers, _, _, colon int, high uint64, length int64, why int) {
	length = -1
	colon = c0
	for {
		// The words up to the first colon or LF are searched for both,
		// the words after a colon for the LF alone.
		var lfs uint64
		for colon < 0 {
			x := load(unsafe.Add(base, p))
			high |= x
			lfs = zeros(x ^ repLF)
			if cs := zeros(x ^ repColon); cs != 0 && (lfs == 0 || cs&-cs < lfs&-lfs) {
				colon = p + bits.TrailingZeros64(cs)>>3
			}
			if lfs != 0 {
				break
			}
			p += 8
		}
		for lfs == 0 {
			x := load(unsafe.Add(base, p))
			high |= x
			if lfs = zeros(x ^ repLF); lfs != 0 {
				break
			}
			p += 8
		}
		j := p + bits.TrailingZeros64(lfs)>>3
		if j >= n {
			return hs, start, p, colon, high, length, atMore
		}
		if j-start > maxLine {
			return hs, start, j, 0, high, length, atLong
		}
		end := j
		if *(*byte)(unsafe.Add(base, j-1)) == '\r' && opts&scanCRLF != 0 && end > start {
			end--
		}
		if end == start {
			return hs, start, j, 0, high, length, atEnd
		}
		if len(hs) == cap(hs) {
			return hs, start, j, 0, high, length, atFull
		}
		if colon < 0 {
			colon = end
		}
		if colon >= end {
			return hs, start, j, colon, high, length, atNoColon
		}
		if opts&scanLength != 0 && colon-start == len(HdrContentLength) &&
			load(unsafe.Add(base, start)) == contentLength[0] && load(unsafe.Add(base, start+6)) == contentLength[1] {
			q := colon + 1
			if q == end || end-q > 18 {
				return hs, start, j, colon, high, length, atLength
			}
			var v int64
			for ; q < end; q++ {
				d := *(*byte)(unsafe.Add(base, q)) - '0'
				if d > 9 {
					return hs, start, j, colon, high, length, atLength
				}
				v = v*10 + int64(d)
			}
			if v > maxBody {
				return hs, start, j, colon, high, length, atLength
			}
			length = v
			opts &^= scanLength
		}
		// start <= colon < end < n: both strings lie in the buffer, and
		// both point into it even when empty. They are written as the
		// string headers they are, which skips the checks of unsafe.String
		// that these bounds make moot.
		hs = hs[:len(hs)+1]
		*(*rawHeader)(unsafe.Pointer(&hs[len(hs)-1])) = rawHeader{
			unsafe.Add(base, start), colon - start,
			unsafe.Add(base, colon+1), end - colon - 1,
		}
		start, p, colon = j+1, j+1, -1
	}
}

// checkHead validates the encoding of the headers hs of a cmd frame and
// undoes their escapes (STOMP 1.2 "Value Encoding"). The header lines run
// from offset first to head, and high has no top bit set if they are
// ASCII.
func (r *Reader) checkHead(hs Headers, cmd Command, first, head int, high uint64) error {
	hd := r.buf[r.r+first : r.r+head]
	if high&msbs != 0 && r.version != V10 && !isASCII(hd) {
		for i, h := range hs {
			if !utf8.ValidString(h.Name) || !utf8.ValidString(h.Value) {
				return r.fail(r.valueAt(h)-1-len(h.Name), i+2, ErrInvalidEncoding, strconv.Quote(h.Name+":"+h.Value))
			}
		}
	}
	if !escaped(r.version, cmd) {
		return nil
	}
	next := bytes.IndexByte(hd, '\\')
	if next < 0 {
		return nil
	}
	next += first
	for i := range hs {
		h := &hs[i]
		valueAt := r.valueAt(*h)
		end := valueAt + len(h.Value)
		if next >= end {
			continue
		}
		bad := -1
		if at := valueAt - 1 - len(h.Name); next < valueAt {
			n, e := r.unescape(unsafe.Slice(unsafe.StringData(h.Name), len(h.Name)), next-at)
			if e >= 0 {
				bad = at + e
			} else {
				h.Name = h.Name[:n]
				next = valueAt + strings.IndexByte(h.Value, '\\')
			}
		}
		if bad < 0 && next >= valueAt {
			n, e := r.unescape(unsafe.Slice(unsafe.StringData(h.Value), len(h.Value)), next-valueAt)
			if e >= 0 {
				bad = valueAt + e
			} else {
				h.Value = h.Value[:n]
			}
		}
		if bad >= 0 {
			return r.fail(bad, i+2, ErrInvalidEscape, strconv.Quote(string(r.buf[r.r+bad:r.r+bad+2])))
		}
		if next = bytes.IndexByte(r.buf[r.r+end:r.r+head], '\\'); next < 0 {
			return nil
		}
		next += end
	}
	return nil
}

// valueAt returns the offset, relative to the frame, of the value of h,
// which points into the frame even when empty.
func (r *Reader) valueAt(h Header) int {
	return int(uintptr(unsafe.Pointer(unsafe.StringData(h.Value))) - uintptr(unsafe.Pointer(&r.buf[r.r])))
}

// unescape decodes the escapes of b in place, from its first backslash at
// i on (STOMP 1.2 "Value Encoding"), and returns the decoded length and the
// offset of an undefined escape, or -1. Before the version is known an
// undefined escape is kept as it is.
func (r *Reader) unescape(b []byte, i int) (n, bad int) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	w := i
	for j := i; j < len(b); j++ {
		// w <= j < len(b): both bytes lie in b.
		c := *(*byte)(unsafe.Add(p, j))
		if c == '\\' {
			var d byte
			if j+1 < len(b) {
				switch *(*byte)(unsafe.Add(p, j+1)) {
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
			if d != 0 {
				c = d
				j++
			} else if r.version != VersionUnknown {
				return w, j
			}
		}
		*(*byte)(unsafe.Add(p, w)) = c
		w++
	}
	return w, -1
}

// isASCII reports whether b holds only 7-bit bytes.
func isASCII(b []byte) bool {
	var acc uint64
	for len(b) >= 8 {
		acc |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		acc |= uint64(c)
	}
	return acc&msbs == 0
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

// failLimit is fail for a limit exceeded: the error carries the limit and
// says it, with its unit.
func (r *Reader) failLimit(rel, line int, err error, limit int64, unit string) error {
	r.consume(rel)
	r.resync = true
	return &FrameError{Offset: r.off, Line: line, Err: err, Limit: limit,
		Detail: "limit " + strconv.FormatInt(limit, 10) + " " + unit}
}

// limited sets the Limit of a *FrameError.
func limited(err error, limit int64) error {
	if fe, ok := err.(*FrameError); ok {
		fe.Limit = limit
	}
	return err
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
	if r.w >= len(r.buf)-pad {
		old, unread, prev, holds := r.buf, r.w-r.r, r.chunk, r.holds
		if !r.shared && r.r > 0 && unread <= len(r.buf)/2 {
			copy(r.buf, r.buf[r.r:r.w])
		} else {
			size := chunkSize
			for size < 2*unread {
				size *= 2
			}
			if r.pool != nil && size == chunkSize {
				r.chunk = r.pool.get()
				r.buf = r.chunk.buf
			} else {
				r.chunk = nil
				r.buf = make([]byte, size)
			}
			r.holds = 0
			copy(r.buf, old[r.r:r.w])
			r.shared = false
		}
		if r.pending != nil && unread > 0 {
			rebase(r.pending.Headers, old[r.r:r.w], r.buf)
		}
		if prev != nil && r.chunk != prev {
			// The Reader is done with the previous chunk: it goes back
			// to the pool once no frame holds it.
			prev.drop(readerRef - holds)
		}
		r.r, r.w = 0, unread
		r.buf[r.w] = '\n'
	}
	for range 100 {
		n, err := r.rd.Read(r.buf[r.w:min(len(r.buf)-pad, r.w+maxRead)])
		r.w += n
		r.buf[r.w] = '\n'
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
		if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); p >= lo && p < hi {
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

// aliasString returns a string that shares b's storage. The Reader never
// writes to storage it has handed out this way.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
