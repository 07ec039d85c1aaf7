package flags

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEnum: a value outside the set is refused when set, naming the set;
// completion offers the values.
func TestEnum(t *testing.T) {
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	var mode string
	Enum(cmd, &mode, "mode", "m", "b", []string{"a", "b", "c"}, "the mode")
	if mode != "b" {
		t.Fatalf("default %q", mode)
	}
	if err := cmd.Flags().Set("mode", "c"); err != nil || mode != "c" {
		t.Fatalf("Set c: %v, mode %q", err, mode)
	}
	err := cmd.Flags().Set("mode", "z")
	if err == nil || !strings.Contains(err.Error(), "want a, b or c") {
		t.Fatalf("Set z: %v", err)
	}
	if mode != "c" {
		t.Errorf("a refused value changed the flag to %q", mode)
	}
	complete, ok := cmd.GetFlagCompletionFunc("mode")
	if !ok {
		t.Fatal("no completion registered")
	}
	if got, _ := complete(cmd, nil, ""); strings.Join(got, ",") != "a,b,c" {
		t.Errorf("completion %v", got)
	}
}

func TestSelectionAndStop(t *testing.T) {
	cmd := &cobra.Command{Use: "x"}
	var sel Selection
	var stop Stop
	sel.Add(cmd, "take")
	stop.Add(cmd, Stop{Idle: 7}, "taking")
	if err := cmd.ParseFlags([]string{"--match", "k=v=w", "--match", "a=", "--count", "3"}); err != nil {
		t.Fatal(err)
	}
	ms, err := sel.Matches()
	if err != nil || len(ms) != 2 || ms[0] != (HeaderMatch{"k", "v=w"}) || ms[1] != (HeaderMatch{"a", ""}) {
		t.Fatalf("Matches: %v %v", ms, err)
	}
	if !sel.Picks() || stop.Count != 3 || stop.Idle != 7 {
		t.Errorf("picks %v, count %d, idle %v", sel.Picks(), stop.Count, stop.Idle)
	}
	sel.Match = []string{"novalue"}
	if _, err := sel.Matches(); err == nil || !strings.Contains(err.Error(), "want HEADER=VALUE") {
		t.Errorf("a --match without = : %v", err)
	}
	stop.Idle = -1
	if err := stop.Check(); err == nil {
		t.Error("a negative --idle passed Check")
	}
}
