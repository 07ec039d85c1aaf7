package failover

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, tt := range parseErrorTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			var ue *URIError
			if !errors.As(err, &ue) || !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("Parse(%q) error %v (%T) is not a *URIError matching ErrInvalidURI", s, err, err)
			}
			if err.Error() == "" {
				t.Fatalf("Parse(%q): empty error message", s)
			}
			return
		}
		if len(u.Brokers) == 0 {
			t.Fatalf("Parse(%q) gave no brokers", s)
		}
		for _, b := range u.Brokers {
			if b.Port < 1 || b.Port > 65535 || b.Host == "" {
				t.Fatalf("Parse(%q) gave broker %#v", s, b)
			}
			addr := b
			addr.User, addr.Password = "", ""
			if c, err := ParseBroker(b.String()); err != nil || c != addr {
				t.Fatalf("broker %s re-parses to %#v, %v", b, c, err)
			}
		}
		assertRoundTrip(t, u)

		// Its schedules are well-formed.
		maxDelay := millis(max(u.Options.MaxReconnectDelay, 0))
		for _, sch := range []*Schedule{u.Startup(&splitMix{state: 1}, nil), u.Reconnect(&splitMix{state: 2}, nil)} {
			for _, a := range collect(sch, 2*len(u.Brokers)+3) {
				if a.Delay < 0 || a.Delay > maxDelay {
					t.Fatalf("Parse(%q): attempt %d waits %v", s, a.Number, a.Delay)
				}
			}
		}
	})
}
