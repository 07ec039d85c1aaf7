package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// newExitCodesTopic is the help topic `stompest help exit-codes`.
func newExitCodesTopic() *cobra.Command {
	var b strings.Builder
	b.WriteString("Every terminal state of stompest has an exit code (sysexits where one fits):\n\n")
	for _, c := range cmdutil.ExitCodes {
		fmt.Fprintf(&b, "  %3d  %s\n", c.Code, c.When)
	}
	b.WriteString("\nErrors print one line on stderr: 'stompest: <what failed>: <cause>'.")
	return &cobra.Command{
		Use:         "exit-codes",
		Short:       "The exit codes of stompest and when each is used",
		Long:        b.String(),
		Annotations: map[string]string{cmdutil.NoConfig: ""},
	}
}

// newJSONLTopic is the help topic `stompest help jsonl`: the JSON Lines
// record of `-o jsonl`, `send --input jsonl` and `transaction`.
func newJSONLTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "jsonl",
		Short: "The JSON Lines message record: -o jsonl, --input jsonl, transaction",
		Long: `One message per line, as a JSON object with these fields (names frozen):

  seq            the message's number in this run, from 1 (output only)
  command        MESSAGE (output); on input MESSAGE or SEND, or omitted
  destination    where it came from (output); where it goes (input, unless DEST is given)
  headers        an object of strings, unescaped; a repeated header keeps its first value
  body           the body: UTF-8 text, or base64 when body_encoding says so
  body_encoding  utf8 (the default on input), or base64 when the body is not
                 valid UTF-8 or holds NUL
  received_at    with --record: when stompest received the message, RFC 3339
                 in UTC with nine fraction digits; send --replay keeps the gaps
                 between these times

  {"seq":1,"command":"MESSAGE","destination":"/queue/a","headers":{"k":"v"},"body":"hello","body_encoding":"utf8"}

On input, unknown fields are refused, headers may be omitted, and the headers
the broker manages (message-id, subscription, ack, redelivered,
content-length, destination) are dropped unless --keep-headers. A bad line
stops send (exit 65) after the receipts of what was sent, naming the line.
transaction records may also carry "op": "send" (the default), "ack" or
"nack", with destination and count.`,
		Annotations: map[string]string{cmdutil.NoConfig: ""},
	}
}
