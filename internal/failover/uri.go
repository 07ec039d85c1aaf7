package failover

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Prefix starts a failover URI. Only a URI with this prefix reconnects after
// the connection is lost.
const Prefix = "failover:"

// URI is a parsed broker URI: a failover URI or a plain broker list.
type URI struct {
	// Failover reports whether the URI began with the failover: prefix.
	Failover bool
	// Brokers is the broker list in the order written, without duplicates.
	// It is never empty.
	Brokers []Broker
	// Options are the failover options, each resolved to its value or default.
	Options Options
	// Warnings are messages about accepted but ignored parts of the URI,
	// for the caller to show; Parse prints nothing.
	Warnings []string
}

// Parse parses a broker URI: tcp://h:61613, a bare list of brokers, or a
// failover URI such as failover:(tcp://a:61613,ssl://b:61614)?randomize=false.
// Every failure is a *URIError that matches ErrInvalidURI; it never shows
// a password the URI holds (see Broker).
func Parse(s string) (*URI, error) {
	u, err := parse(s)
	var ue *URIError
	if errors.As(err, &ue) {
		ue.Part = Redact(ue.Part)
	}
	return u, err
}

func parse(s string) (*URI, error) {
	u := &URI{Options: DefaultOptions()}
	rest := s
	if strings.HasPrefix(rest, Prefix) {
		u.Failover = true
		rest = rest[len(Prefix):]
	} else if len(rest) >= len(Prefix) && strings.EqualFold(rest[:len(Prefix)], Prefix) {
		return nil, &URIError{Err: ErrInvalidURI, Part: rest[:len(Prefix)], Detail: "the prefix must be lowercase failover:"}
	}
	if u.Failover && strings.HasPrefix(strings.TrimPrefix(rest, "("), Prefix) {
		return nil, &URIError{Err: ErrInvalidURI, Part: s, Detail: "nested failover URIs are not supported"}
	}
	list, query, _ := strings.Cut(rest, "?")

	written := list
	if strings.HasPrefix(list, "(") || strings.HasSuffix(list, ")") {
		if len(list) < 2 || !strings.HasPrefix(list, "(") || !strings.HasSuffix(list, ")") {
			return nil, &URIError{Err: ErrInvalidURI, Part: written, Detail: "unbalanced parentheses around the broker list"}
		}
		list = list[1 : len(list)-1]
	}
	if list == "" {
		return nil, &URIError{Err: ErrInvalidURI, Part: s, Detail: "empty broker list"}
	}
	for _, elem := range strings.Split(list, ",") {
		if elem == "" {
			return nil, &URIError{Err: ErrInvalidURI, Part: written, Detail: "empty entry in the broker list"}
		}
		b, err := ParseBroker(elem)
		if err != nil {
			return nil, err
		}
		if containsBroker(u.Brokers, b) {
			u.Warnings = append(u.Warnings, fmt.Sprintf("broker %s is listed twice; it is tried once per pass", b))
			continue
		}
		u.Brokers = append(u.Brokers, b)
	}

	if query != "" {
		warnings, err := applyOptions(&u.Options, query)
		if err != nil {
			return nil, err
		}
		u.Warnings = append(u.Warnings, warnings...)
	}
	for i, p := range u.Options.PriorityURIs {
		if k := slices.IndexFunc(u.Brokers, func(b Broker) bool { return b.String() == p.String() }); k >= 0 {
			u.Options.PriorityURIs[i] = u.Brokers[k] // with its credentials
			continue
		}
		uris := make([]string, len(u.Options.PriorityURIs))
		for i, b := range u.Options.PriorityURIs {
			uris[i] = b.String()
		}
		return nil, &URIError{
			Err:    ErrInvalidOption,
			Part:   optPriorityURIs + "=" + strings.Join(uris, ","),
			Detail: fmt.Sprintf("%s is not in the broker list", p),
		}
	}
	return u, nil
}

// String returns the URI normalized: a failover URI as
// failover:(b1,b2)?options, a plain one as b1,b2?options, with normalized
// brokers (Broker.Redacted: passwords masked) and only the options that
// differ from their defaults. Ignored options are left out. Parsing the
// result gives the same brokers and options, except that a password reads
// as Mask.
func (u *URI) String() string {
	var b strings.Builder
	if u.Failover {
		b.WriteString(Prefix)
		b.WriteByte('(')
	}
	for i, br := range u.Brokers {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(br.Redacted())
	}
	if u.Failover {
		b.WriteByte(')')
	}
	if q := u.Options.encode(); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}
