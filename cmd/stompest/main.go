// Command stompest is a command-line toolkit for STOMP messaging.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], systemStreams())) }
