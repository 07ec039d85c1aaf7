package campaign

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Direction is one way through the proxy.
type Direction int

// The two directions: Up from the client to the broker, Down from the
// broker to the client.
const (
	Up Direction = iota
	Down
)

func (d Direction) String() string {
	if d == Up {
		return "up"
	}
	return "down"
}

// FaultKind is what happens to a connection once a direction has carried
// its bytes.
type FaultKind int

// The faults of one connection.
const (
	NoFault FaultKind = iota
	Reset             // both sides are reset (RST), in the middle of whatever was on its way
	Stall             // the direction carries nothing for a while, then goes on
)

// ConnFault is the fault of one connection through the proxy: after After
// bytes went in direction Dir, Kind happens; a Stall lasts For.
type ConnFault struct {
	Kind  FaultKind
	Dir   Direction
	After int64
	For   time.Duration
}

// Stats counts what a proxy did.
type Stats struct {
	Conns   int // connections accepted while up
	Refused int // connections reset at once while down
	Resets  int // connections reset by their fault
	Cut     int // connections reset when the proxy went down
	Stalls  int // stalls that began
}

// Proxy is a TCP proxy between a client and a broker that applies a fault
// to each connection, by its number, and can play a broker that is down.
type Proxy struct {
	ln     net.Listener
	target string
	plan   func(n int) ConnFault

	mu     sync.Mutex
	down   bool
	closed bool
	links  map[*link]bool
	n      int
	stats  Stats
	wg     sync.WaitGroup
	stalls atomic.Int64
}

// NewProxy listens on 127.0.0.1 and forwards each connection to target,
// with the fault plan(n) for the n-th connection (from 0); plan may be nil.
func NewProxy(target string, plan func(n int) ConnFault) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if plan == nil {
		plan = func(int) ConnFault { return ConnFault{} }
	}
	p := &Proxy{ln: ln, target: target, plan: plan, links: map[*link]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stats returns what the proxy did so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Stalls = int(p.stalls.Load())
	return s
}

// SetDown plays a broker that is down (on) or up again: going down resets
// every open connection, and while down every new connection is reset as
// soon as it is accepted.
func (p *Proxy) SetDown(on bool) {
	p.mu.Lock()
	p.down = on
	var cut []*link
	if on {
		for l := range p.links {
			cut = append(cut, l)
		}
		p.stats.Cut += len(cut)
	}
	p.mu.Unlock()
	for _, l := range cut {
		l.reset()
	}
}

// Close stops listening, closes every connection and waits until the
// proxy's goroutines have ended.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	ls := make([]*link, 0, len(p.links))
	for l := range p.links {
		ls = append(ls, l)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	for _, l := range ls {
		l.close()
	}
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed || p.down {
			if p.down {
				p.stats.Refused++
			}
			p.mu.Unlock()
			resetConn(c)
			continue
		}
		n := p.n
		p.n++
		p.stats.Conns++
		l := &link{p: p, client: c, fault: p.plan(n), stop: make(chan struct{})}
		p.links[l] = true
		p.wg.Add(1)
		p.mu.Unlock()
		go l.run()
	}
}

// link is one connection through the proxy.
type link struct {
	p      *Proxy
	client net.Conn
	broker net.Conn // set by run before the pumps start
	fault  ConnFault
	once   sync.Once
	stop   chan struct{} // closed when the link ends
	mu     sync.Mutex    // guards broker until it is set
}

func (l *link) run() {
	defer l.p.wg.Done()
	defer func() {
		l.p.mu.Lock()
		delete(l.p.links, l)
		l.p.mu.Unlock()
	}()
	b, err := net.DialTimeout("tcp", l.p.target, 5*time.Second)
	if err != nil {
		resetConn(l.client)
		return
	}
	l.mu.Lock()
	select {
	case <-l.stop: // reset or closed while dialling
		l.mu.Unlock()
		resetConn(b)
		return
	default:
	}
	l.broker = b
	l.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.pump(Up, l.client, b) }()
	go func() { defer wg.Done(); l.pump(Down, b, l.client) }()
	wg.Wait()
}

// pump copies from src to dst, applying the link's fault when it is on
// this direction. When either side ends, the link ends.
func (l *link) pump(dir Direction, src, dst net.Conn) {
	f := l.fault
	armed := f.Kind != NoFault && f.Dir == dir
	var carried int64
	buf := make([]byte, 16<<10)
	for {
		n, rerr := src.Read(buf)
		chunk := buf[:n]
		for len(chunk) > 0 {
			if !armed {
				if _, err := dst.Write(chunk); err != nil {
					l.close()
					return
				}
				break
			}
			first := chunk
			if left := f.After - carried; int64(len(first)) > left {
				first = first[:left]
			}
			if len(first) > 0 {
				if _, err := dst.Write(first); err != nil {
					l.close()
					return
				}
				carried += int64(len(first))
				chunk = chunk[len(first):]
			}
			if carried < f.After {
				break
			}
			armed = false
			switch f.Kind {
			case Reset:
				l.p.mu.Lock()
				l.p.stats.Resets++
				l.p.mu.Unlock()
				l.reset()
				return
			case Stall:
				l.p.stalls.Add(1)
				t := time.NewTimer(f.For)
				select {
				case <-t.C:
				case <-l.stop:
					t.Stop()
					return
				}
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				l.close()
			} else {
				l.reset()
			}
			return
		}
	}
}

// close ends the link: both sides are closed.
func (l *link) close() { l.end(false) }

// reset ends the link with a reset of both sides.
func (l *link) reset() { l.end(true) }

func (l *link) end(rst bool) {
	l.once.Do(func() {
		l.mu.Lock()
		close(l.stop)
		b := l.broker
		l.mu.Unlock()
		for _, c := range []net.Conn{l.client, b} {
			if c == nil {
				continue
			}
			if rst {
				resetConn(c)
			} else {
				c.Close()
			}
		}
	})
}

// resetConn closes c with a TCP reset rather than an orderly FIN.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
