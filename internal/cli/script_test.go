package cli

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// update rewrites the files that scripts compare output with (cmp stdout
// want.json) from what the commands print: go test ./internal/cli -run
// TestScripts -update. Read the diff before committing it.
var update = flag.Bool("update", false, "rewrite the golden files of the scripts from the output")

func TestMain(m *testing.M) {
	// The scripts run the command as it ships: main, with its runtime
	// settings.
	testscript.Main(m, map[string]func(){"stompest": func() {
		Execute(cmdutil.Build{}, os.Args[1:], cmdutil.SystemStreams(), os.Exit)
	}})
}

// TestScripts runs testdata/scripts/*.txtar against the real binary.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, scriptParams(filepath.Join("..", "..", "testdata", "scripts")))
}

// buildStompest builds the binary into dir, for tests that run it as a
// process of its own (in a terminal, or to kill it), and returns its path.
func buildStompest(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "stompest")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/stompest").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// scriptParams are the settings and commands of the scripts in dir.
func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			env.Values["brokers"] = brokers{}
			// Hermetic: no config file or setting of the developer's leaks in.
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			for _, kv := range os.Environ() {
				if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "STOMPEST_") || name == "NO_COLOR" {
					env.Setenv(name, "")
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":      cmdExitcode,
			"broker":        cmdBroker,
			"broker-stop":   cmdBrokerStop,
			"broker-frames": cmdBrokerFrames,
			"broker-fault":  cmdBrokerFault,
		},
	}
}

// cmdExitcode runs `exitcode N cmd args...`: the command must exit with
// exactly N (testscript's own `! exec` only checks for non-zero).
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		code, ok := exitStatus(err)
		if !ok {
			ts.Fatalf("exitcode: %v", err)
		}
		got = code
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
