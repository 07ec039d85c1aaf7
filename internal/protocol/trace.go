package protocol

import (
	"bufio"
	"strconv"
	"unicode/utf8"
)

// traceBody is how many body bytes a trace line shows.
const traceBody = 200

// WriteTrace writes f for a person reading a trace: each line of the head
// prefixed by prefix (">>> " for frames sent, "<<< " for frames received),
// the content-length the Writer computes, the passcode masked as ***, and
// the body on one line, quoted when it is not plain text and cut after 200
// bytes. A heart-beat is one line, "heart-beat".
func WriteTrace(w *bufio.Writer, prefix string, f *Frame) error {
	if f.IsHeartBeat() {
		w.WriteString(prefix)
		w.WriteString("heart-beat\n")
		return w.Flush()
	}
	w.WriteString(prefix)
	w.WriteString(string(f.Command))
	w.WriteByte('\n')
	if len(f.Body) > 0 || f.Command == CmdSend || f.Command == CmdMessage || f.Command == CmdError {
		w.WriteString(prefix)
		w.WriteString(HdrContentLength + ":" + strconv.Itoa(len(f.Body)) + "\n")
	}
	for _, h := range f.Headers {
		if h.Name == HdrContentLength {
			continue
		}
		value := h.Value
		if h.Name == HdrPasscode && (f.Command == CmdConnect || f.Command == CmdStomp) {
			value = "***"
		}
		w.WriteString(prefix)
		w.WriteString(traceText(h.Name))
		w.WriteByte(':')
		w.WriteString(traceText(value))
		w.WriteByte('\n')
	}
	if len(f.Body) > 0 {
		body := f.Body
		cut := len(body) > traceBody
		if cut {
			body = body[:traceBody]
		}
		w.WriteString(prefix)
		w.WriteString(traceText(string(body)))
		if cut {
			w.WriteString("... (" + strconv.Itoa(len(f.Body)) + " bytes)")
		}
		w.WriteByte('\n')
	}
	return w.Flush()
}

// traceText returns s as is when it is printable text on one line, else
// quoted.
func traceText(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return strconv.Quote(s)
		}
	}
	return s
}
