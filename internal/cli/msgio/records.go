package msgio

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stompest/stompest/internal/cli/dialect"
	"github.com/stompest/stompest/internal/protocol"
)

// MaxRecord is the largest JSON Lines record accepted (PRODUCT.md §11).
const MaxRecord = 96 << 20

// Record is one JSON Lines message (PRODUCT.md §7). Field names are frozen.
type Record struct {
	Seq          int64             `json:"seq,omitempty"`
	Command      string            `json:"command,omitempty"`
	Destination  string            `json:"destination,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"`
	Body         string            `json:"body"`
	BodyEncoding string            `json:"body_encoding,omitempty"`
	ReceivedAt   string            `json:"received_at,omitempty"`
	Op           string            `json:"op,omitempty"`
	Count        int               `json:"count,omitempty"`
}

// RecordOf builds the JSON Lines record of a received frame: headers
// unescaped, a repeated header keeps its first value, the body in UTF-8
// unless it is not valid UTF-8 or holds NUL.
func RecordOf(seq int64, f *protocol.Frame) Record {
	r := Record{Seq: seq, Command: string(f.Command), Destination: f.Header(protocol.HdrDestination), Headers: map[string]string{}}
	for _, h := range f.Headers {
		if _, seen := r.Headers[h.Name]; !seen {
			r.Headers[h.Name] = h.Value
		}
	}
	if utf8.Valid(f.Body) && bytes.IndexByte(f.Body, 0) < 0 {
		r.Body, r.BodyEncoding = string(f.Body), "utf8"
	} else {
		r.Body, r.BodyEncoding = base64.StdEncoding.EncodeToString(f.Body), "base64"
	}
	return r
}

// TimeFormat is the layout of received_at: RFC 3339 in UTC with nine
// fraction digits, so that records sort by time as strings.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Received parses received_at; ok is false when the record has none.
func (r *Record) Received() (t time.Time, ok bool, err error) {
	if r.ReceivedAt == "" {
		return time.Time{}, false, nil
	}
	t, err = time.Parse(time.RFC3339Nano, r.ReceivedAt)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("received_at %q: want an RFC 3339 time such as 2026-12-05T10:04:05.123456789Z", r.ReceivedAt)
	}
	return t, true, nil
}

// Bytes decodes the record's Bytes.
func (r *Record) Bytes() ([]byte, error) {
	switch r.BodyEncoding {
	case "", "utf8":
		return []byte(r.Body), nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return nil, fmt.Errorf("body: invalid base64: %v", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("body_encoding %q: want utf8 or base64", r.BodyEncoding)
}

// HeaderList returns the record's headers in name order, without the
// broker-managed ones unless keep.
func (r *Record) HeaderList(keep bool) protocol.Headers {
	names := make([]string, 0, len(r.Headers))
	for name := range r.Headers {
		if dialect.Copied(name, keep) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	hs := make(protocol.Headers, 0, len(names))
	for _, name := range names {
		hs = append(hs, protocol.Header{Name: name, Value: r.Headers[name]})
	}
	return hs
}

// jsonError says what is wrong with a JSON Lines record in the words of
// the record format, not of Go's decoder.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		want := map[reflect.Kind]string{
			reflect.String: "a string", reflect.Int: "a whole number", reflect.Int64: "a whole number",
			reflect.Map: "an object of strings",
		}[typeErr.Type.Kind()]
		if want == "" {
			want = typeErr.Type.String()
		}
		field, _, _ := strings.Cut(typeErr.Field, ".")
		if field == "" {
			return fmt.Errorf("want a JSON object, not %s", article(typeErr.Value))
		}
		if field == "headers" && typeErr.Type.Kind() == reflect.String {
			return fmt.Errorf("headers: each value must be a string, not %s", article(typeErr.Value))
		}
		return fmt.Errorf("%s: want %s, not %s", field, want, article(typeErr.Value))
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON at column %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: the record ends too early")
	}
	return fmt.Errorf("invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// article puts "a" or "an" before a JSON type name.
func article(name string) string {
	if name != "" && strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// DecodeRecord parses one JSON line strictly: unknown fields are refused.
func DecodeRecord(line []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, jsonError(err)
	}
	if dec.More() {
		return r, errors.New("invalid JSON: more than one value on the line")
	}
	return r, nil
}

// Splitter reads records separated by a delimiter, of any length: the
// delimiter is removed, an empty record is kept, and a last record without
// a delimiter is still returned.
type Splitter struct {
	br    *bufio.Reader
	delim []byte
	buf   []byte
	n     int // records read
}

func NewSplitter(r io.Reader, delim []byte) *Splitter {
	return &Splitter{br: bufio.NewReaderSize(r, 64<<10), delim: delim}
}

// Next returns the Next record, valid until the following call, or io.EOF.
func (s *Splitter) Next() ([]byte, error) {
	last := s.delim[len(s.delim)-1]
	s.buf = s.buf[:0]
	for {
		chunk, err := s.br.ReadSlice(last)
		s.buf = append(s.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(s.buf) > 0 {
				s.n++
				return s.buf, nil
			}
			return nil, err
		}
		if bytes.HasSuffix(s.buf, s.delim) {
			s.n++
			return s.buf[:len(s.buf)-len(s.delim)], nil
		}
	}
}

// More reports whether input is already buffered, so that the next record
// comes without waiting.
func (s *Splitter) More() bool { return s.br.Buffered() > 0 }

// ParseDelimiter decodes a --delimiter sequence: \n \r \t \0 \\ and \xHH
// escapes, anything else literally.
func ParseDelimiter(seq string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(seq); i++ {
		c := seq[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 == len(seq) {
			return nil, errors.New("a lone backslash at the end")
		}
		i++
		switch seq[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '0':
			out = append(out, 0)
		case '\\':
			out = append(out, '\\')
		case 'x':
			if i+2 >= len(seq) {
				return nil, errors.New(`\x needs two hex digits`)
			}
			v, err := strconv.ParseUint(seq[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf(`\x%s: not two hex digits`, seq[i+1:i+3])
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf(`unknown escape \%c (want \n \r \t \0 \\ or \xHH)`, seq[i])
		}
	}
	if len(out) == 0 {
		return nil, errors.New("empty")
	}
	return out, nil
}

// SpoolStdin makes a piped body of unknown length into a file of known
// size: stdin itself when it is a regular file, else a private temporary
// file, removed by the returned cleanup, so that memory stays small.
func SpoolStdin(in io.Reader) (f *os.File, size int64, cleanup func(), err error) {
	if file, ok := in.(*os.File); ok {
		if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
			pos, err := file.Seek(0, io.SeekCurrent)
			if err == nil {
				return file, st.Size() - pos, func() {}, nil
			}
		}
	}
	tmp, err := os.CreateTemp("", "stompest-body-*")
	if err != nil {
		return nil, 0, nil, err
	}
	cleanup = func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	size, err = io.Copy(tmp, in)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	return tmp, size, cleanup, nil
}

// JSONLine writes r as one JSON line, with <, > and & as they are.
func JSONLine(w io.Writer, r Record) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Records returns how many records Next has returned.
func (s *Splitter) Records() int { return s.n }
