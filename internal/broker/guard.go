package broker

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// authentic compares a login and passcode with the configured ones in
// constant time: hashing first hides their lengths too.
func (b *Broker) authentic(login, passcode string) bool {
	l, u := sha256.Sum256([]byte(login)), sha256.Sum256([]byte(b.cfg.User))
	p, w := sha256.Sum256([]byte(passcode)), sha256.Sum256([]byte(b.cfg.Password))
	return subtle.ConstantTimeCompare(l[:], u[:])&subtle.ConstantTimeCompare(p[:], w[:]) == 1
}

// remoteHost returns the address a connection comes from, without port.
func remoteHost(nc net.Conn) string {
	a := nc.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(a); err == nil {
		return host
	}
	return a
}

// throttle slows down failed logins, per source address: the n-th failure
// in a row is answered after base·2ⁿ⁻¹ (at most maxDelay), and the answers
// to one address are spaced by those delays (so that parallel attempts
// gain nothing), waiting maxWait at most. An address is forgotten after
// forget without failures. Correct logins are never delayed.
type throttle struct {
	mu       sync.Mutex
	addrs    map[string]*failures
	base     time.Duration
	maxDelay time.Duration
	maxWait  time.Duration
	forget   time.Duration
}

// failures are the recent failed logins of one address.
type failures struct {
	n    int
	last time.Time // the last failure
	next time.Time // when the last failure is answered
}

// maxAddrs bounds the addresses a throttle remembers.
const maxAddrs = 4096

func newThrottle() *throttle {
	return &throttle{
		addrs: map[string]*failures{}, base: 50 * time.Millisecond, maxDelay: 2 * time.Second,
		maxWait: 10 * time.Second, forget: time.Minute,
	}
}

// fail records a failed login from addr at now and returns how long to
// wait before answering it.
func (t *throttle) fail(addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.addrs[addr]
	if f == nil || now.Sub(f.last) > t.forget {
		if len(t.addrs) >= maxAddrs {
			t.prune(now)
		}
		f = &failures{}
		t.addrs[addr] = f
	}
	f.n++
	f.last = now
	d := min(t.base<<min(f.n-1, 20), t.maxDelay)
	at := now
	if f.next.After(at) {
		at = f.next
	}
	at = at.Add(d)
	if at.Sub(now) > t.maxWait {
		at = now.Add(t.maxWait)
	}
	f.next = at
	return at.Sub(now)
}

// prune forgets the addresses whose failures are old, or all when that is
// not enough.
func (t *throttle) prune(now time.Time) {
	for a, f := range t.addrs {
		if now.Sub(f.last) > t.forget {
			delete(t.addrs, a)
		}
	}
	if len(t.addrs) >= maxAddrs {
		clear(t.addrs)
	}
}

// checkOrigin refuses a WebSocket handshake from a browser page of
// another site (see originAllowed) with 403: a page on any site could
// otherwise read the broker's queues through a browser on the same
// machine. A request without Origin (not from a browser) passes.
func (b *Broker) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && !b.originAllowed(origin, r) {
			b.logf("websocket: origin %q refused (allow it with --ws-allow-origin)", origin)
			http.Error(w, "origin "+origin+" not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originAllowed reports whether a WebSocket handshake with origin may
// proceed: the origin's host is the listen host (any port; with a loopback
// listen address, any loopback name; with an unspecified one, the address
// the client connected to), or it matches a Config.WSAllowOrigins pattern.
func (b *Broker) originAllowed(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	for _, p := range b.cfg.WSAllowOrigins {
		if p == "*" {
			return true
		}
		if ok, _ := path.Match(p, origin); ok {
			return true
		}
		if err == nil && u.Host != "" {
			if ok, _ := path.Match(p, u.Host); ok {
				return true
			}
			if ok, _ := path.Match(p, u.Hostname()); ok {
				return true
			}
		}
	}
	if err != nil || u.Host == "" {
		return false // "null", from a file or a sandbox
	}
	host := u.Hostname()
	var listen []string
	if h, _, err := net.SplitHostPort(b.cfg.WSAddr); err == nil {
		listen = append(listen, h)
	}
	if h, _, err := net.SplitHostPort(b.wln.Addr().String()); err == nil {
		listen = append(listen, h)
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if h, _, err := net.SplitHostPort(la.String()); err == nil {
			if ip := net.ParseIP(listen[len(listen)-1]); ip != nil && ip.IsUnspecified() {
				listen = append(listen, h)
			}
		}
	}
	for _, l := range listen {
		if sameHost(host, l) {
			return true
		}
		if isLoopback(l) && isLoopback(host) {
			return true
		}
	}
	return false
}

// sameHost compares two host names or addresses.
func sameHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	x, y := net.ParseIP(a), net.ParseIP(b)
	return x != nil && y != nil && x.Equal(y)
}

// isLoopback reports whether host names the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
