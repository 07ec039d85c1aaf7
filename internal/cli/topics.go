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
	b.WriteString("\nErrors print one line on stderr: 'stompest: <what failed>: <cause>'.\n")
	b.WriteString("\nOne exception: 'stompest check -o nagios' exits as Nagios plugins do:\n0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")
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

// newFilterTopic is the help topic `stompest help filter`: the --filter
// expressions of subscribe, ack, nack and move.
func newFilterTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "filter",
		Short: "--filter expressions: select messages by headers and JSON body fields",
		Long: `--filter EXPR (subscribe, subscribe --peek, ack, nack, move) selects the
messages for which EXPR is true. It is evaluated by stompest, on each
message it receives, so it works on every broker, RabbitMQ included;
--selector is the broker-side option where the broker has selectors.

An expression is written in the expr language (https://expr-lang.org) over:

  headers      the headers, a map of strings: headers["order-id"], headers.priority;
               a missing header is "" ("k" in headers tells whether it is there)
  body         the body parsed as JSON, nil when it is not JSON: body.amount,
               body.customer.name, body.lines[0], "vip" in body.tags
  text         the body as a string: text contains "timeout", text matches "^ERR"
  destination  the destination header

Operators: == != < <= > >= && || ! and or not in contains startsWith
endsWith matches (regular expression), ?. and ?? for what may be missing,
arithmetic, len(), lower(), upper(), and more (see the language page).
JSON numbers compare with whole and decimal numbers alike.

  --filter 'headers["order-id"] == "42"'
  --filter 'body.amount > 100 && body.currency == "EUR"'
  --filter '(body?.customer?.country ?? "") in ["DE", "AT"]'
  --filter 'text matches "^ERROR" || headers.priority == "9"'

A malformed expression, an unknown name or one that is not true or false is
a usage error (64) naming the column. A message on which the expression
fails (body.amount > 100 on a body without amount compares nothing with a
number) does not match; -v counts them. A message that does not match is not
consumed: subscribe leaves it unacknowledged, and the broker delivers it
again once subscribe ended; ack, nack and move leave it in the queue.`,
		Annotations: map[string]string{cmdutil.NoConfig: ""},
	}
}
