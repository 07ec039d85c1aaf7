// Command sink is the least a consumer can do, to measure the ceiling that
// bench/peer and the loopback set for consuming: it connects, subscribes
// with ack:auto, and reads into one buffer, counting the NUL bytes that end
// frames without parsing them, until -n MESSAGE frames have arrived. It
// prints the elapsed time, the rate in frames and in bytes.
//
//	go run ./sink -server 127.0.0.1:61800 -n 1000000
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"time"
)

func main() {
	server := flag.String("server", "127.0.0.1:61800", "peer host:port")
	n := flag.Int("n", 1000000, "MESSAGE frames to read (bodies must hold no NUL)")
	flag.Parse()

	start := time.Now()
	nc, err := net.Dial("tcp", *server)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	const hello = "CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\x00" +
		"SUBSCRIBE\nid:1\ndestination:/queue/sink\nack:auto\n\n\x00"
	if _, err := nc.Write([]byte(hello)); err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	var total int64
	for want := *n + 1; want > 0; { // CONNECTED, then the messages
		k, err := nc.Read(buf)
		if err != nil {
			log.Fatalf("after %d bytes: %v", total, err)
		}
		total += int64(k)
		want -= bytes.Count(buf[:k], []byte{0})
	}
	d := time.Since(start).Seconds()
	fmt.Printf("sink %d frames, %d bytes: %.3f s, %.0f frames/s, %.2f GB/s\n",
		*n, total, d, float64(*n)/d, float64(total)/d/1e9)
}
