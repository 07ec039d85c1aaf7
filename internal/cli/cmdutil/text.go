package cmdutil

import (
	"fmt"
	"strconv"
	"strings"
)

// Printable escapes the control characters of s (ESC, BEL, CR, DEL, the
// C1 controls, ...) as \xHH, so that text a broker supplied (an ERROR's
// message, CONNECTED's server) cannot drive the terminal it is printed
// on. Tabs, and newlines where keepNewlines, stay.
func Printable(s string) string { return EscapeControls(s, false) }

func EscapeControls(s string, keepNewlines bool) string {
	clean := true
	for _, r := range s {
		if isControl(r, keepNewlines) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r, keepNewlines) {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune, keepNewlines bool) bool {
	switch {
	case r == '\t', r == '\n' && keepNewlines:
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	}
	return false
}

// OneLine folds a message onto one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// Count is n and the noun, in the plural unless n is 1: "1 message",
// "3 messages".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
