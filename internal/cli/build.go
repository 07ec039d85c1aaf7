package cli

import (
	"runtime"
	"runtime/debug"
)

// Build is what the release build sets at link time (-ldflags "-X
// main.version=..."), handed over by main; empty fields fall back to what
// Go recorded in the binary.
type Build struct {
	Version, Commit, Date string
}

// build is the binary's Build, set once by Execute.
var build Build

// buildInfo is what `stompest version` reports.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date,omitempty"`
	Go      string `json:"go"`
}

// currentBuild returns the link-time version, falling back to the module
// and VCS information Go records (go install, go build).
func currentBuild() buildInfo {
	b := buildInfo{Version: build.Version, Commit: build.Commit, Date: build.Date, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}
