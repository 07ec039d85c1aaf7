package cmdutil

import (
	"testing"
)

// TestPrintable: control characters from a broker are shown escaped, never
// passed to the terminal; ordinary text, tabs and non-ASCII letters stay.
func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"tab\there, ünïcödé", "tab\there, ünïcödé"},
		{"\x1b]0;pwned\x07title", `\x1b]0;pwned\x07title`},
		{"bell\x07 cr\r del\x7f", `bell\x07 cr\x0d del\x7f`},
		{"c1 \u009b31m", `c1 \x9b31m`},
		{"line\nbreak", `line\x0abreak`},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := EscapeControls("a\nb\x1b", true); got != "a\nb\\x1b" {
		t.Errorf("escapeControls keeping newlines: %q", got)
	}
}
