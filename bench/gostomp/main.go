// Command gostomp does stompest's benchmark jobs with the go-stomp client
// (github.com/go-stomp/stomp/v3), for side-by-side measurements: send N
// messages with a receipt on the last, or receive N messages with
// ack:auto, and print the elapsed time and the rate.
//
//	go run ./gostomp -server 127.0.0.1:61613 -mode send -n 1000000
//	go run ./gostomp -server 127.0.0.1:61613 -mode receive -n 1000000
package main

import (
	"flag"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/go-stomp/stomp/v3"
	"github.com/go-stomp/stomp/v3/frame"
)

func main() {
	server := flag.String("server", "127.0.0.1:61613", "broker host:port")
	dest := flag.String("dest", "/queue/bench", "destination")
	mode := flag.String("mode", "send", "send or receive")
	n := flag.Int("n", 1000000, "messages")
	size := flag.Int("size", 100, "body size")
	flag.Parse()

	start := time.Now()
	conn, err := stomp.Dial("tcp", *server, stomp.ConnOpt.HeartBeat(0, 0),
		stomp.ConnOpt.Login("guest", "guest"), stomp.ConnOpt.Host("/"))
	if err != nil {
		log.Fatal(err)
	}
	switch *mode {
	case "send":
		body := []byte(strings.Repeat("x", *size))
		for i := 1; i <= *n; i++ {
			var opts []func(*frame.Frame) error
			if i == *n {
				opts = append(opts, stomp.SendOpt.Receipt)
			}
			if err := conn.Send(*dest, "", body, opts...); err != nil {
				log.Fatalf("message %d: %v", i, err)
			}
		}
	case "receive":
		sub, err := conn.Subscribe(*dest, stomp.AckAuto)
		if err != nil {
			log.Fatal(err)
		}
		for i := 1; i <= *n; i++ {
			m := <-sub.C
			if m == nil || m.Err != nil {
				log.Fatalf("message %d: %v", i, m)
			}
		}
	default:
		log.Fatalf("-mode %q: want send or receive", *mode)
	}
	conn.Disconnect()
	d := time.Since(start)
	fmt.Printf("go-stomp %s %d messages: %.3f s, %.0f msg/s\n", *mode, *n, d.Seconds(), float64(*n)/d.Seconds())
}
