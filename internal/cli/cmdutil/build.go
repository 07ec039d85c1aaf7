package cmdutil

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

// BuildInfo is what `stompest version` reports.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date,omitempty"`
	Go      string `json:"go"`
}

// Info returns the link-time version, falling back to the module and VCS
// information Go records (go install, go build).
func (l Build) Info() BuildInfo {
	b := BuildInfo{Version: l.Version, Commit: l.Commit, Date: l.Date, Go: runtime.Version()}
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
