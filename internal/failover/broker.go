package failover

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Scheme is the scheme of a broker URI.
type Scheme string

// The schemes a broker URI may have. They are lowercase only.
const (
	SchemeTCP      Scheme = "tcp"       // STOMP over TCP
	SchemeSSL      Scheme = "ssl"       // STOMP over TLS
	SchemeStomp    Scheme = "stomp"     // STOMP over TCP
	SchemeStompSSL Scheme = "stomp+ssl" // STOMP over TLS
	SchemeWS       Scheme = "ws"        // STOMP over WebSocket
	SchemeWSS      Scheme = "wss"       // STOMP over WebSocket over TLS
)

// Broker is one broker of a URI, normalized: a lowercase host name, or an IP
// address in its canonical form (IPv6 without brackets, with its zone if
// any), and a port in 1-65535. A WebSocket broker also has the path of its
// endpoint ("/" when the URI has none); the others have none.
//
// A broker URI may carry credentials, as in tcp://user:secret@h:61613
// (percent-encoded: a ',', '@', ':', '/' or '%' in them must be written
// %2C, %40, %3A, %2F, %25): User and Password, decoded, "" when absent.
// They are the CONNECT login and passcode unless the caller has its own.
// String never shows them; Redacted shows the user and masks the password.
type Broker struct {
	Scheme   Scheme
	Host     string
	Port     int
	Path     string
	User     string
	Password string
}

// Mask is what Redacted, URI.String and Redact write in place of a
// password.
const Mask = "***"

// ParseBroker parses a single broker URI such as tcp://h:61613 or
// ssl://[::1]:61614, or a WebSocket endpoint such as ws://h:15674/ws
// (the port defaults to 80 for ws and 443 for wss). It fails with a *URIError wrapping ErrInvalidBroker.
//
// Credentials before the host (tcp://user:secret@h:61613) are taken as
// User and Password; errors never show the password.
func ParseBroker(s string) (Broker, error) {
	b, detail := parseBroker(s)
	if detail != "" {
		return Broker{}, &URIError{Err: ErrInvalidBroker, Part: Redact(s), Detail: detail}
	}
	return b, nil
}

// String returns the normalized URI of the broker: scheme://host:port, with
// an IPv6 address in brackets, and the path of a WebSocket endpoint. It
// names the broker and never holds its credentials.
func (b Broker) String() string {
	return string(b.Scheme) + "://" + b.Addr() + b.Path
}

// Redacted returns the normalized URI of the broker with its user, when it
// has one, and its password masked: scheme://user:***@host:port. It is
// what may be shown of a broker URI with credentials.
func (b Broker) Redacted() string {
	if b.User == "" && b.Password == "" {
		return b.String()
	}
	userinfo := escapeUserinfo(b.User)
	if b.Password != "" {
		userinfo += ":" + Mask
	}
	return string(b.Scheme) + "://" + userinfo + "@" + b.Addr() + b.Path
}

// escapeUserinfo percent-encodes every byte of s but the unreserved ones
// (RFC 3986), so that the result holds none of the separators of a
// failover URI.
func escapeUserinfo(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Redact masks the passwords of the broker URIs in s, which need not
// parse: every user:password@ after a scheme:// becomes user:***@. Use it
// on URIs as the user wrote them before showing them.
func Redact(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, ",()? \t")
		if end < 0 {
			end = len(s)
		}
		at := strings.LastIndexByte(s[:end], '@')
		if at < 0 {
			continue
		}
		colon := strings.IndexByte(s[:at], ':')
		if colon < 0 {
			continue
		}
		b.WriteString(s[:colon+1])
		b.WriteString(Mask)
		s = s[at:]
	}
}

// Addr returns host:port, with an IPv6 address in brackets, as net.Dial
// expects it.
func (b Broker) Addr() string {
	return net.JoinHostPort(b.Host, strconv.Itoa(b.Port))
}

// TLS reports whether the broker is reached over TLS (ssl, stomp+ssl and
// wss).
func (b Broker) TLS() bool {
	return b.Scheme == SchemeSSL || b.Scheme == SchemeStompSSL || b.Scheme == SchemeWSS
}

// WebSocket reports whether the broker is reached over WebSocket (ws and
// wss).
func (b Broker) WebSocket() bool {
	return b.Scheme == SchemeWS || b.Scheme == SchemeWSS
}

// MarshalText returns the normalized URI of the broker, so that a Broker is a
// JSON string.
func (b Broker) MarshalText() ([]byte, error) {
	return []byte(b.String()), nil
}

// UnmarshalText parses a broker URI as ParseBroker does.
func (b *Broker) UnmarshalText(text []byte) error {
	p, err := ParseBroker(string(text))
	if err != nil {
		return err
	}
	*b = p
	return nil
}

// parseBroker parses one broker; on failure it returns what is wrong.
func parseBroker(s string) (Broker, string) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return Broker{}, "missing scheme (want tcp://, ssl://, stomp://, stomp+ssl://, ws:// or wss://)"
	}
	var b Broker
	switch sc := Scheme(scheme); sc {
	case SchemeTCP, SchemeSSL, SchemeStomp, SchemeStompSSL, SchemeWS, SchemeWSS:
		b.Scheme = sc
	default:
		detail := fmt.Sprintf("unsupported scheme %s (want tcp, ssl, stomp, stomp+ssl, ws or wss)", quotePart(scheme))
		if lower := Scheme(strings.ToLower(scheme)); lower != sc && isScheme(lower) {
			detail = fmt.Sprintf("scheme %s must be lowercase", quotePart(scheme))
		}
		return Broker{}, detail
	}

	auth := rest
	if b.WebSocket() {
		auth, _, _ = strings.Cut(rest, "/")
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		user, password, _ := strings.Cut(auth[:at], ":")
		var err error
		if b.User, err = url.PathUnescape(user); err != nil {
			return Broker{}, "invalid percent-encoding in the user name"
		}
		if b.Password, err = url.PathUnescape(password); err != nil {
			return Broker{}, "invalid percent-encoding in the password"
		}
		rest = rest[at+1:]
	}

	if b.WebSocket() {
		b.Path = "/"
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest, b.Path = rest[:i], rest[i:]
			if i := strings.IndexAny(b.Path, " \t\r\n#?\"<>\\^`{|}"); i >= 0 {
				return Broker{}, fmt.Sprintf("invalid character %s in the path", quotePart(b.Path[i:i+1]))
			}
		}
		hasPort := strings.Contains(rest, ":")
		if strings.HasPrefix(rest, "[") {
			hasPort = !strings.HasSuffix(rest, "]")
		}
		if !hasPort {
			if b.Scheme == SchemeWS {
				rest += ":80"
			} else {
				rest += ":443"
			}
		}
	}

	var host, port string
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return Broker{}, "unclosed [ around the IPv6 address"
		}
		host, port = rest[1:end], rest[end+1:]
		if port == "" {
			return Broker{}, "missing port"
		}
		if port[0] != ':' {
			return Broker{}, fmt.Sprintf("unexpected %s after the IPv6 address", quotePart(port))
		}
		port = port[1:]
		h, detail := parseIPv6(host)
		if detail != "" {
			return Broker{}, detail
		}
		b.Host = h
	} else {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return Broker{}, "missing port"
		}
		host, port = rest[:i], rest[i+1:]
		h, detail := parseHost(host)
		if detail != "" {
			return Broker{}, detail
		}
		b.Host = h
	}
	p, detail := parsePort(port)
	if detail != "" {
		return Broker{}, detail
	}
	b.Port = p
	return b, ""
}

func isScheme(s Scheme) bool {
	switch s {
	case SchemeTCP, SchemeSSL, SchemeStomp, SchemeStompSSL, SchemeWS, SchemeWSS:
		return true
	}
	return false
}

// parseIPv6 validates the text between brackets.
func parseIPv6(s string) (string, string) {
	if s == "" {
		return "", "missing host"
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return "", fmt.Sprintf("invalid IPv6 address %s", quotePart(s))
	}
	if z := a.Zone(); !isZone(z) {
		return "", fmt.Sprintf("invalid IPv6 zone %s", quotePart(z))
	}
	return a.String(), ""
}

// isZone accepts the zones of interface names and numbers.
func isZone(z string) bool {
	for i := 0; i < len(z); i++ {
		if !isNameByte(z[i]) && z[i] != '.' {
			return false
		}
	}
	return true
}

// parseHost validates a host name or IPv4 address and normalizes it.
func parseHost(s string) (string, string) {
	if s == "" {
		return "", "missing host"
	}
	if strings.Contains(s, ":") {
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
			return "", fmt.Sprintf("IPv6 address %s must be in brackets, as in tcp://[::1]:61613", quotePart(s))
		}
		return "", fmt.Sprintf("invalid host %s", quotePart(s))
	}
	if len(s) > 253 {
		return "", "host name longer than 253 characters"
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", fmt.Sprintf("invalid host %s", quotePart(s))
		}
		for i := 0; i < len(l); i++ {
			if !isNameByte(l[i]) {
				return "", fmt.Sprintf("invalid host %s", quotePart(s))
			}
		}
	}
	// A name whose last label is numeric would be taken for an IPv4 address
	// by some resolvers; only a dotted quad is accepted.
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return "", fmt.Sprintf("invalid IPv4 address %s", quotePart(s))
		}
		return a.String(), ""
	}
	return strings.ToLower(s), ""
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// parsePort accepts decimal digits only, leading zeros included, in 1-65535.
func parsePort(s string) (int, string) {
	if s == "" {
		return 0, "missing port"
	}
	if strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Sprintf("invalid port %s", quotePart(s))
	}
	digits := strings.TrimLeft(s, "0")
	if len(digits) > 5 {
		return 0, fmt.Sprintf("port %s out of range 1-65535", s)
	}
	p, _ := strconv.Atoi("0" + digits)
	if p < 1 || p > 65535 {
		return 0, fmt.Sprintf("port %s out of range 1-65535", s)
	}
	return p, ""
}
