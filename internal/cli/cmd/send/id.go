package send

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
)

var errNotSeekable = errors.New("a body that cannot be read twice")

// messageID is the stable id `send --id-header` gives the seq-th message
// of a run: its sequence number and the start of the SHA-256 of its
// destination and body, so that a rerun of the same input gives the same
// ids. A streamed body is read once for the hash and rewound.
func messageID(seq int, m *outgoing) (string, error) {
	h := sha256.New()
	io.WriteString(h, m.dest)
	h.Write([]byte{0})
	if m.stream != nil {
		s, ok := m.stream.(io.ReadSeeker)
		if !ok {
			return "", errNotSeekable
		}
		if _, err := io.CopyN(h, s, m.size); err != nil {
			return "", err
		}
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
	} else {
		h.Write(m.body)
	}
	return strconv.Itoa(seq) + "-" + hex.EncodeToString(h.Sum(nil)[:8]), nil
}
