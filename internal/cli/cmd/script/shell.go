package script

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/chzyer/readline"
	"github.com/spf13/cobra"
	"mvdan.cc/sh/v3/shell"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// shellCommands are the commands of `stompest shell`: the steps and its
// own.
func shellCommands() []string {
	names := make([]string, 0, len(steps)+2)
	for _, s := range steps {
		names = append(names, s.name)
	}
	return append(names, "help", "exit")
}

// NewShellCmd returns shell; runF, when not nil, runs instead of the
// command (tests check the parsed options with it).
func NewShellCmd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "shell",
		Short: "Talk STOMP interactively on one connection",
		Long: `shell reads the steps of 'stompest run' from a prompt, with line editing,
history ($XDG_STATE_HOME/stompest/history) and tab completion of commands,
of the destinations seen and of the ids of messages received and not yet
settled. Messages are printed above the prompt as they arrive. A failing
step prints its error and the shell goes on; 'help' and 'help COMMAND'
explain the commands; exit or Ctrl-D leaves (with DISCONNECT).

` + stepsHelp(),
		Example: `  stompest shell
  stompest -s failover:(tcp://mq1:61613,tcp://mq2:61613) shell -o jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdutil.Run(cmd.Context(), o, runF, o.runShell)
		},
	}
	o.out.AddMessages(cmd, "incoming messages")
	o.out.Format = "pretty"
	cmd.Flag("output").DefValue = "pretty"
	cmd.Flag("output").Usage = "how to print incoming messages: body, pretty or jsonl"
	return cmd
}

// historyPath is where the shell keeps its history.
func historyPath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "stompest", "history")
}

func (o *Options) runShell(ctx context.Context) error {
	hist := historyPath()
	if hist != "" {
		os.MkdirAll(filepath.Dir(hist), 0o700)
	}
	sc := &shellCompleter{dests: map[string]bool{}}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:          "stomp> ",
		HistoryFile:     hist,
		AutoComplete:    sc,
		InterruptPrompt: "^C",
		EOFPrompt:       "exit",
		Stdin:           io.NopCloser(o.In),
		Stdout:          o.Out,
		Stderr:          o.ErrOut,
	})
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("shell: %w", err))
	}
	defer rl.Close()
	// The output goes through readline, which redraws the prompt below it.
	out, err := msgio.NewWriterTo(o.Factory, rl.Stdout(), o.out, []byte("\n"))
	if err != nil {
		return err
	}
	c, err := o.Dial(ctx, "shell", true, nil)
	if err != nil {
		return err
	}
	server, session := c.Server()
	fmt.Fprintf(rl.Stderr(), "connected to %s (%s, session %s, STOMP %s); 'help' lists the commands\n", c.Broker(), cmdutil.Printable(server), cmdutil.Printable(session), c.Version())
	r := &scriptRun{Factory: o.Factory, c: c, out: out, arrived: map[string]int{}, base: map[string]int{}, wake: make(chan struct{}, 1)}
	r.live = func(m *client.Message) {
		sc.saw(m)
		r.print()
	}
	sc.r = r
	go r.receive()
	for {
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			if line == "" {
				fmt.Fprintln(rl.Stderr(), "(exit or Ctrl-D to leave)")
			}
			continue
		}
		if err != nil { // io.EOF: Ctrl-D
			break
		}
		words, err := shell.Fields(line, nil)
		if err != nil {
			fmt.Fprintf(rl.Stderr(), "error: %v\n", err)
			continue
		}
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "exit", "quit":
			words = nil
		case "help":
			fmt.Fprintln(rl.Stderr(), shellHelp(words[1:]))
			continue
		}
		if words == nil {
			break
		}
		for _, w := range words[1:] {
			if strings.HasPrefix(w, "/") {
				sc.addDest(w)
			}
		}
		s := runStep{words: words}
		if err := checkStep(s); err != nil {
			fmt.Fprintf(rl.Stderr(), "error: unknown command %q ('help' lists them)\n", words[0])
			continue
		}
		if err := r.step(ctx, s); err != nil {
			fmt.Fprintf(rl.Stderr(), "error: %s: %v\n", words[0], err)
		}
		if err := c.Err(); err != nil {
			return o.Finish(c, "shell", fmt.Errorf("shell: %w", err))
		}
	}
	r.print()
	return o.Finish(c, "shell", nil)
}

// shellHelp explains all commands, or those named.
func shellHelp(names []string) string {
	if len(names) == 0 {
		return stepsHelp() + "\n" + stepLine("help [COMMAND]", "") + "\n" + stepLine("exit", "(or Ctrl-D)")
	}
	var lines []string
	for _, n := range names {
		if def := findStep(n); def != nil {
			lines = append(lines, def.line())
		}
	}
	if len(lines) == 0 {
		return fmt.Sprintf("no command %s; 'help' lists them", strings.Join(names, ", "))
	}
	return strings.Join(lines, "\n")
}

// shellCompleter completes commands, destinations seen, and the ids of
// messages received and not yet settled.
type shellCompleter struct {
	mu    sync.Mutex
	dests map[string]bool
	r     *scriptRun
}

func (sc *shellCompleter) addDest(d string) {
	sc.mu.Lock()
	sc.dests[d] = true
	sc.mu.Unlock()
}

func (sc *shellCompleter) saw(m *client.Message) {
	sc.addDest(m.Subscription.Destination)
}

// Do implements readline.AutoCompleter: the candidates' remaining runes
// for the word under the cursor.
func (sc *shellCompleter) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	words := strings.Fields(head)
	word := ""
	if len(words) > 0 && !strings.HasSuffix(head, " ") {
		word = words[len(words)-1]
		words = words[:len(words)-1]
	}
	var candidates []string
	switch {
	case len(words) == 0:
		candidates = shellCommands()
	case words[0] == "ack" || words[0] == "nack":
		candidates = append([]string{"last"}, sc.r.pending()...)
	case words[0] == "help":
		candidates = shellCommands()
	default:
		sc.mu.Lock()
		for d := range sc.dests {
			candidates = append(candidates, d)
		}
		sc.mu.Unlock()
		sort.Strings(candidates)
	}
	var out [][]rune
	for _, c := range candidates {
		if strings.HasPrefix(c, word) {
			out = append(out, []rune(c[len(word):]+" "))
		}
	}
	return out, len([]rune(word))
}

// pending returns the message-ids of the messages received in a client ack
// mode and not settled by this run.
func (r *scriptRun) pending() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, m := range r.received {
		if m.Subscription.Ack != protocol.AckAuto && !r.settled[m] {
			ids = append(ids, m.Header(protocol.HdrMessageID))
		}
	}
	return ids
}
