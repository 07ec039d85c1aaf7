package cmdutil

import (
	"testing"

	"github.com/stompest/stompest/internal/protocol"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"64MiB": 64 << 20, "10": 10, "1K": 1024, "2 GiB": 2 << 30, "7B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "-1", "1TB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestParseHeaderFlags(t *testing.T) {
	t.Parallel()
	hs, err := ParseHeaderFlags([]string{"a:1", "b:x:y", "a:2", "empty:"})
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.Headers{{Name: "a", Value: "2"}, {Name: "b", Value: "x:y"}, {Name: "empty", Value: ""}}
	if len(hs) != len(want) {
		t.Fatalf("got %v", hs)
	}
	for i := range want {
		if hs[i] != want[i] {
			t.Fatalf("got %v, want %v", hs, want)
		}
	}
	for _, bad := range []string{"novalue", ":v", "destination:/q", "content-length:3"} {
		if _, err := ParseHeaderFlags([]string{bad}); ExitCode(err) != ExitUsage {
			t.Errorf("-H %q: %v", bad, err)
		}
	}
}

func TestParsePerSecond(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"100/s": 100, "2.5/s": 2.5, "20000": 20000} {
		if got, err := ParsePerSecond(in); err != nil || got != want {
			t.Errorf("ParsePerSecond(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "/s", "x/s", "0/s", "-5/s", "NaN/s", "Inf/s", "+inf"} {
		if _, err := ParsePerSecond(bad); err == nil || ExitCode(err) != ExitUsage {
			t.Errorf("ParsePerSecond(%q): %v, want a usage error", bad, err)
		}
	}
}
