package cmdutil

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// ReadFirstLine reads the first line of r without its line end (one
// trailing "\n" or "\r\n").
func ReadFirstLine(r io.Reader) ([]byte, error) {
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}
