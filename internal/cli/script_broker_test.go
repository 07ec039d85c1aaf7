package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/protocol"
)

// brokers are the embedded brokers a script started, by name.
type brokers map[string]*broker.Broker

func scriptBrokers(ts *testscript.TestScript) brokers {
	return ts.Value("brokers").(brokers)
}

// cmdBroker starts an embedded broker on 127.0.0.1:0 and exports its URI
// as $NAME and its address as $NAME_ADDR: `broker NAME [--user U
// --password P] [--heartbeat SX,SY] [--max-body N] [--ws] [--refuse]
// [--drop-after N] [--drop-once-after N]`.
// With --ws it also serves WebSocket, whose URI is $NAME_WS.
func cmdBroker(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: broker NAME [flags]")
	}
	name := args[0]
	cfg := broker.Config{Addr: "127.0.0.1:0", Record: true}
	var refuse bool
	dropAfter, dropOnce := 0, 0
	for i := 1; i < len(args); i++ {
		flag := args[i]
		value := func() string {
			if i+1 >= len(args) {
				ts.Fatalf("broker: %s needs a value", flag)
			}
			i++
			return args[i]
		}
		switch flag {
		case "--user":
			cfg.User = value()
		case "--password":
			cfg.Password = value()
		case "--heartbeat":
			hb, err := protocol.ParseHeartBeat(value())
			ts.Check(err)
			cfg.HeartBeat = hb
		case "--max-body":
			n, err := strconv.ParseInt(value(), 10, 64)
			ts.Check(err)
			cfg.Limits.MaxBodySize = n
		case "--max-redeliveries":
			n, err := strconv.Atoi(value())
			ts.Check(err)
			cfg.DeadLetter, cfg.MaxRedeliveries = true, n
		case "--ws":
			cfg.WSAddr = "127.0.0.1:0"
		case "--refuse":
			refuse = true
		case "--drop-after":
			n, err := strconv.Atoi(value())
			ts.Check(err)
			dropAfter = n
		case "--drop-once-after":
			n, err := strconv.Atoi(value())
			ts.Check(err)
			dropOnce = n
		default:
			ts.Fatalf("broker: unknown flag %s", flag)
		}
	}
	b := broker.New(cfg)
	ts.Check(b.Start())
	if refuse {
		b.RefuseConnects(true)
	}
	if dropAfter > 0 {
		b.DropAfter(dropAfter)
	}
	if dropOnce > 0 {
		b.DropOnceAfter(dropOnce)
	}
	scriptBrokers(ts)[name] = b
	ts.Setenv(name, "tcp://"+b.Addr())
	ts.Setenv(name+"_ADDR", b.Addr())
	if ws := b.WSAddr(); ws != "" {
		ts.Setenv(name+"_WS", "ws://"+ws+"/")
	}
	ts.Defer(func() { b.Close() })
}

// cmdBrokerStop stops a broker: `broker-stop NAME`.
func cmdBrokerStop(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: broker-stop NAME")
	}
	b, ok := scriptBrokers(ts)[args[0]]
	if !ok {
		ts.Fatalf("no broker %s", args[0])
	}
	ts.Check(b.Close())
}

// cmdBrokerFrames prints the frames a broker received, one per line with
// its headers and body, NUL shown as ^@: `broker-frames NAME [COMMAND]`.
func cmdBrokerFrames(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: broker-frames NAME [COMMAND]")
	}
	b, ok := scriptBrokers(ts)[args[0]]
	if !ok {
		ts.Fatalf("no broker %s", args[0])
	}
	var out strings.Builder
	for _, f := range b.Frames() {
		if len(args) == 2 && string(f.Command) != args[1] {
			continue
		}
		out.WriteString(string(f.Command))
		for _, h := range f.Headers {
			fmt.Fprintf(&out, " %s:%s", h.Name, h.Value)
		}
		if len(f.Body) > 0 {
			out.WriteString(" body=" + strings.ReplaceAll(string(f.Body), "\x00", "^@"))
		}
		out.WriteString("\n")
	}
	ts.Stdout().Write([]byte(out.String()))
}

// cmdBrokerFault switches a fault of a broker on:
// `broker-fault NAME no-heartbeats|blackhole|refuse|clear`.
func cmdBrokerFault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: broker-fault NAME no-heartbeats|blackhole|refuse|clear")
	}
	b, ok := scriptBrokers(ts)[args[0]]
	if !ok {
		ts.Fatalf("no broker %s", args[0])
	}
	switch args[1] {
	case "no-heartbeats":
		b.StopHeartBeats(true)
	case "blackhole":
		b.Blackhole(true)
	case "refuse":
		b.RefuseConnects(true)
	case "clear":
		b.StopHeartBeats(false)
		b.Blackhole(false)
		b.RefuseConnects(false)
	default:
		ts.Fatalf("broker-fault: unknown fault %s", args[1])
	}
}
