// Command hello is the yardstick of bench/startup.sh: the smallest Go
// program that writes a line, built the same way as stompest.
package main

import (
	"fmt"
	"os"
)

func main() { fmt.Fprintln(os.Stdout, "hello") }
