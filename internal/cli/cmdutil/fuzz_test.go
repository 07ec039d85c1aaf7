package cmdutil

import (
	"strings"
	"testing"
)

// FuzzHeaderFlag: -H NAME:VALUE splits at the first colon and takes both
// parts literally, or is a usage error; it never panics.
func FuzzHeaderFlag(f *testing.F) {
	for _, seed := range []string{"k:v", "k:a:b\\c", ":v", "k", "destination:/q", "k:", "ü:☕\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, flag string) {
		hs, err := ParseHeaderFlags([]string{flag})
		if err != nil {
			if ExitCode(err) != ExitUsage {
				t.Fatalf("-H %q: exit %d, want %d", flag, ExitCode(err), ExitUsage)
			}
			return
		}
		name, value, _ := strings.Cut(flag, ":")
		if len(hs) != 1 || hs[0].Name != name || hs[0].Value != value {
			t.Fatalf("-H %q gave %q", flag, hs)
		}
	})
}
