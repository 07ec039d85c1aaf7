// Command peer is a STOMP peer that is never the bottleneck, to measure a
// client alone: it answers CONNECT with CONNECTED (STOMP 1.2, no
// heart-beats), confirms every frame that asks for a receipt, discards
// everything else it is sent, and on each SUBSCRIBE sends -messages MESSAGE
// frames with a body of -size bytes as fast as the socket takes them.
//
//	go run ./peer -listen 127.0.0.1:61800 -messages 1000000 -size 100
package main

import (
	"bufio"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/stompest/stompest/internal/protocol"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:61800", "address to listen on")
	messages := flag.Int("messages", 1000000, "MESSAGE frames to send for each SUBSCRIBE")
	size := flag.Int("size", 100, "body size of each MESSAGE")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("peer listening on %s", ln.Addr())
	body := strings.Repeat("x", *size)
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(conn, *messages, body)
	}
}

// conn is one client's connection; mu guards w, which the reading loop
// (receipts) and the senders of subscriptions share.
type conn struct {
	nc net.Conn
	mu sync.Mutex
	w  *bufio.Writer
}

func serve(nc net.Conn, messages int, body string) {
	defer nc.Close()
	c := &conn{nc: nc, w: bufio.NewWriterSize(nc, 256<<10)}
	r := protocol.NewReader(nc)
	var f protocol.Frame
	for {
		if err := r.ReadFrame(&f); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				log.Printf("%s: %v", nc.RemoteAddr(), err)
			}
			return
		}
		switch f.Command {
		case protocol.CmdConnect, protocol.CmdStomp:
			r.SetVersion(protocol.V12)
			c.write("CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:peer\n\n\x00", true)
			continue
		case protocol.CmdSubscribe:
			go c.source(f.Header(protocol.HdrID), f.Header(protocol.HdrDestination), messages, body)
		}
		if id := f.Header(protocol.HdrReceipt); id != "" {
			c.write("RECEIPT\nreceipt-id:"+id+"\n\n\x00", r.Buffered() == 0)
		}
		if f.Command == protocol.CmdDisconnect {
			return
		}
	}
}

func (c *conn) write(s string, flush bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.WriteString(s)
	if flush {
		c.w.Flush()
	}
}

// source sends n MESSAGE frames of subscription sub, in bursts.
func (c *conn) source(sub, dest string, n int, body string) {
	head := "MESSAGE\nsubscription:" + sub + "\ndestination:" + dest + "\ncontent-length:" + strconv.Itoa(len(body)) + "\nmessage-id:"
	var buf []byte
	for i := 1; i <= n; {
		buf = buf[:0]
		for end := min(i+256, n+1); i < end; i++ {
			buf = append(buf, head...)
			buf = strconv.AppendInt(buf, int64(i), 10)
			buf = append(buf, "\nack:"...)
			buf = strconv.AppendInt(buf, int64(i), 10)
			buf = append(buf, "\n\n"...)
			buf = append(buf, body...)
			buf = append(buf, 0)
		}
		c.mu.Lock()
		_, err := c.w.Write(buf)
		if err == nil {
			err = c.w.Flush()
		}
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}
