package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stompest/stompest/internal/cli/cmdutil"
)

func newManCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "man DIR",
		Short: "Write the man pages, one per command, into DIR",
		Long: `man writes a man page in section 1 for stompest and for each of its commands
(stompest.1, stompest-send.1, ...) into DIR, creating it. Release archives
carry them under man/; to read one without installing: man ./DIR/stompest-send.1`,
		Example: `  stompest man ./man && man ./man/stompest-subscribe.1
  sudo stompest man /usr/local/share/man/man1`,
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{cmdutil.NoConfig: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("man: %w", err))
			}
			m := manPages{source: "stompest " + f.Build.Info().Version, date: manDate()}
			if err := m.writeTree(cmd.Root(), dir); err != nil {
				return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("man: %w", err))
			}
			return nil
		},
	}
	return cmd
}

// manDate is the month of the pages: SOURCE_DATE_EPOCH's where it is set
// (reproducible builds), else this month.
func manDate() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(sec, 0).UTC()
		}
	}
	return time.Now()
}

// manPages writes man pages in section 1 (roff, the man macros) from the
// command tree: one page per command that is not hidden, each with the
// command's flags, the flags it inherits, its examples and its relatives.
type manPages struct {
	source string
	date   time.Time
}

func (m manPages) writeTree(c *cobra.Command, dir string) error {
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := m.writeTree(sub, dir); err != nil {
			return err
		}
	}
	name := manName(c) + ".1"
	file, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(file)
	m.write(w, c)
	if err := w.Flush(); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

func (m manPages) write(w io.Writer, c *cobra.Command) {
	c.InitDefaultHelpFlag()
	fmt.Fprintf(w, ".nh\n.TH %s \"1\" %s %s %s\n",
		roffQuote(strings.ToUpper(c.Root().Name())), roffQuote(m.date.Format("Jan 2006")), roffQuote(m.source), roffQuote(c.Root().Name()+" manual"))
	fmt.Fprintf(w, ".SH NAME\n%s \\- %s\n", roffText(manName(c)), roffText(c.Short))
	fmt.Fprintf(w, ".SH SYNOPSIS\n.B %s\n", roffText(c.UseLine()))
	long := c.Long
	if long == "" {
		long = c.Short
	}
	fmt.Fprintf(w, ".SH DESCRIPTION\n")
	for i, para := range strings.Split(strings.TrimSpace(long), "\n\n") {
		if i > 0 {
			fmt.Fprintln(w, ".PP")
		}
		if strings.Contains("\n"+para, "\n ") {
			// An indented table or command line: kept as it is laid out.
			fmt.Fprintf(w, ".nf\n%s\n.fi\n", roffText(para))
			continue
		}
		fmt.Fprintln(w, roffText(para))
	}
	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		fmt.Fprintln(w, ".SH OPTIONS")
		manFlags(w, fs)
	}
	if fs := c.InheritedFlags(); fs.HasAvailableFlags() {
		fmt.Fprintln(w, ".SH OPTIONS INHERITED FROM PARENT COMMANDS")
		manFlags(w, fs)
	}
	if c.Example != "" {
		fmt.Fprintf(w, ".SH EXAMPLE\n.PP\n.RS\n.nf\n%s\n.fi\n.RE\n", roffText(c.Example))
	}
	var related []string
	if c.HasParent() {
		related = append(related, manName(c.Parent()))
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
			related = append(related, manName(sub))
		}
	}
	if len(related) > 0 {
		fmt.Fprintln(w, ".SH SEE ALSO")
		for i, r := range related {
			sep := ","
			if i == len(related)-1 {
				sep = ""
			}
			fmt.Fprintf(w, ".BR %s (1)%s\n", roffText(r), sep)
		}
	}
}

// manName is the page name of c: "stompest-config-init".
func manName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-")
}

// manFlags writes one tagged paragraph per flag that is not hidden:
// "-n, --count N" and its usage, with the default where it says something.
func manFlags(w io.Writer, fs *pflag.FlagSet) {
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden {
			return
		}
		varname, usage := pflag.UnquoteUsage(fl)
		tag := `\fB\-\-` + roffText(fl.Name) + `\fR`
		if fl.Shorthand != "" {
			tag = `\fB\-` + roffText(fl.Shorthand) + `\fR, ` + tag
		}
		if varname != "" && fl.NoOptDefVal == "" {
			tag += ` \fI` + roffText(varname) + `\fR`
		}
		if d := fl.DefValue; d != "" && d != "false" && d != "0" && d != "[]" && fl.Value.Type() != "count" {
			usage += " (default " + d + ")"
		}
		fmt.Fprintf(w, ".TP\n%s\n%s\n", tag, roffText(usage))
	})
}

// roffText escapes s for the body of a roff page: backslashes, hyphens,
// a period or apostrophe that would start a line and be read as a
// request, and every character beyond ASCII (as \[uXXXX], which troff
// reads without a preprocessor).
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	s = strings.Join(lines, "\n")
	if !isASCII(s) {
		var b strings.Builder
		for _, r := range s {
			if r < 0x80 {
				b.WriteRune(r)
			} else {
				fmt.Fprintf(&b, `\[u%04X]`, r)
			}
		}
		s = b.String()
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// roffQuote is s as one quoted argument of a roff request.
func roffQuote(s string) string {
	return `"` + strings.ReplaceAll(roffText(s), `"`, `\(dq`) + `"`
}
