//go:build interop

package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestInterop runs testdata/interop/*.txtar against the real brokers that
// scripts/brokers.sh starts:
//
//	scripts/brokers.sh up && go test -tags interop -run TestInterop ./internal/cli
//
// The scripts find them in $RABBIT, $RABBIT_WS and $AMQ, and name their
// destinations after $RUN so that reruns do not meet old messages. A broker
// that does not answer fails the suite: nothing is skipped.
func TestInterop(t *testing.T) {
	ports := map[string]string{
		"RABBIT":    envOr("RABBITMQ_STOMP_PORT", "61613"),
		"RABBIT_WS": envOr("RABBITMQ_WS_PORT", "15674"),
		"AMQ":       envOr("ACTIVEMQ_STOMP_PORT", "61623"),
	}
	for name, port := range ports {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 5*time.Second)
		if err != nil {
			t.Fatalf("%s: no broker on 127.0.0.1:%s (start them with scripts/brokers.sh up): %v", name, port, err)
		}
		c.Close()
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	params := scriptParams(filepath.Join("..", "..", "testdata", "interop"))
	setup := params.Setup
	params.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		env.Setenv("RABBIT", "tcp://127.0.0.1:"+ports["RABBIT"])
		env.Setenv("RABBIT_WS", "ws://127.0.0.1:"+ports["RABBIT_WS"]+"/ws")
		env.Setenv("AMQ", "tcp://127.0.0.1:"+ports["AMQ"])
		env.Setenv("RUN", run+"-"+filepath.Base(env.WorkDir))
		env.Setenv("STOMPEST_USER", "guest")
		env.Setenv("STOMPEST_PASSWORD", "guest")
		return nil
	}
	testscript.Run(t, params)
	fmt.Fprintln(os.Stderr, "interop run", run)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
