package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

func TestRoffText(t *testing.T) {
	for in, want := range map[string]string{
		`a\b`:              `a\eb`,
		"--count N":        `\-\-count N`,
		".hidden\n'quoted": "\\&.hidden\n\\&'quoted",
		"mid.dle":          "mid.dle",
		"a — b":            `a \[u2014] b`,
	} {
		if got := roffText(in); got != want {
			t.Errorf("roffText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestManPage writes the page of a small command tree and checks that
// what the text holds cannot be read as roff requests.
func TestManPage(t *testing.T) {
	root := &cobra.Command{Use: "tool", Short: "A tool"}
	root.PersistentFlags().StringP("server", "s", "tcp://h:1", "broker `URI`")
	sub := &cobra.Command{
		Use:     "do DEST",
		Short:   "Do it",
		Long:    "do does it.\n.SH not a section\n\nA second paragraph with a \\ backslash.",
		Example: "  tool do /queue/a",
		Run:     func(*cobra.Command, []string) {},
	}
	sub.Flags().IntP("count", "n", 0, "stop after `N` messages")
	sub.Flags().Bool("all", false, "all of them")
	root.AddCommand(sub)
	var b bytes.Buffer
	manPages{source: "tool 1.0", date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}.write(&b, sub)
	page := b.String()
	for _, want := range []string{
		".TH \"TOOL\" \"1\" \"Dec 2026\" \"tool 1.0\" \"tool manual\"\n",
		".SH NAME\ntool\\-do \\- Do it\n",
		".SH SYNOPSIS\n.B tool do DEST [flags]\n",
		"\\&.SH not a section\n.PP\nA second paragraph with a \\e backslash.\n",
		".TP\n\\fB\\-n\\fR, \\fB\\-\\-count\\fR \\fIN\\fR\nstop after N messages\n",
		".TP\n\\fB\\-\\-all\\fR\nall of them\n",
		".SH OPTIONS INHERITED FROM PARENT COMMANDS\n.TP\n\\fB\\-s\\fR, \\fB\\-\\-server\\fR \\fIURI\\fR\nbroker URI (default tcp://h:1)\n",
		".SH EXAMPLE\n.PP\n.RS\n.nf\n  tool do /queue/a\n.fi\n.RE\n",
		".SH SEE ALSO\n.BR tool (1)\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	// NAME, SYNOPSIS, DESCRIPTION, OPTIONS, the inherited ones, EXAMPLE,
	// SEE ALSO; the .SH in the text is escaped.
	if n := strings.Count(page, "\n.SH "); n != 7 {
		t.Errorf("%d sections, want 7:\n%s", n, page)
	}
}
