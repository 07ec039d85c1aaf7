// Command stompest is a command-line toolkit for STOMP messaging.
package main

import (
	"os"

	"github.com/stompest/stompest/internal/cli"
)

// Set at link time by the release build (-ldflags "-X main.version=...").
var version, commit, date string

func main() {
	cli.Execute(cli.Build{Version: version, Commit: commit, Date: date}, os.Args[1:], cli.SystemStreams(), os.Exit)
}
