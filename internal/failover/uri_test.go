package failover

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// withOpts returns the default options changed by f.
func withOpts(f func(o *Options)) Options {
	o := DefaultOptions()
	if f != nil {
		f(&o)
	}
	return o
}

func tcp(host string, port int) Broker { return Broker{Scheme: SchemeTCP, Host: host, Port: port} }

var parseTests = []struct {
	name     string
	in       string
	failover bool
	brokers  []Broker
	opts     Options
	warnings []string
	str      string // the normalized String()
}{
	{
		name:    "plain",
		in:      "tcp://localhost:61613",
		brokers: []Broker{tcp("localhost", 61613)},
		opts:    withOpts(nil),
		str:     "tcp://localhost:61613",
	},
	{
		name:     "activemq style",
		in:       "failover:(tcp://a:61613,ssl://b:61614)?randomize=false&maxReconnectAttempts=3",
		failover: true,
		brokers:  []Broker{tcp("a", 61613), {Scheme: SchemeSSL, Host: "b", Port: 61614, Path: ""}},
		opts: withOpts(func(o *Options) {
			o.Randomize = false
			o.MaxReconnectAttempts = 3
		}),
		str: "failover:(tcp://a:61613,ssl://b:61614)?maxReconnectAttempts=3&randomize=false",
	},
	{
		name:     "prefix without parentheses",
		in:       "failover:tcp://a:1,tcp://b:2",
		failover: true,
		brokers:  []Broker{tcp("a", 1), tcp("b", 2)},
		opts:     withOpts(nil),
		str:      "failover:(tcp://a:1,tcp://b:2)",
	},
	{
		name:    "parentheses without prefix",
		in:      "(tcp://a:1,tcp://b:2)",
		brokers: []Broker{tcp("a", 1), tcp("b", 2)},
		opts:    withOpts(nil),
		str:     "tcp://a:1,tcp://b:2",
	},
	{
		name:     "single broker in parentheses",
		in:       "failover:(stomp://a:1)",
		failover: true,
		brokers:  []Broker{{Scheme: SchemeStomp, Host: "a", Port: 1, Path: ""}},
		opts:     withOpts(nil),
		str:      "failover:(stomp://a:1)",
	},
	{
		name:    "ipv6 loopback",
		in:      "tcp://[::1]:61613",
		brokers: []Broker{tcp("::1", 61613)},
		opts:    withOpts(nil),
		str:     "tcp://[::1]:61613",
	},
	{
		name:    "ipv6 normalized",
		in:      "stomp+ssl://[0:0:0:0:0:0:0:1]:61614",
		brokers: []Broker{{Scheme: SchemeStompSSL, Host: "::1", Port: 61614, Path: ""}},
		opts:    withOpts(nil),
		str:     "stomp+ssl://[::1]:61614",
	},
	{
		name:    "ipv6 upper case and zone",
		in:      "tcp://[FE80::1%eth0]:61613",
		brokers: []Broker{tcp("fe80::1%eth0", 61613)},
		opts:    withOpts(nil),
		str:     "tcp://[fe80::1%eth0]:61613",
	},
	{
		name:    "ipv4-mapped ipv6",
		in:      "tcp://[::ffff:127.0.0.1]:1",
		brokers: []Broker{tcp("::ffff:127.0.0.1", 1)},
		opts:    withOpts(nil),
		str:     "tcp://[::ffff:127.0.0.1]:1",
	},
	{
		name:    "host name lowercased",
		in:      "stomp://Broker-1.Example.COM:61613",
		brokers: []Broker{{Scheme: SchemeStomp, Host: "broker-1.example.com", Port: 61613, Path: ""}},
		opts:    withOpts(nil),
		str:     "stomp://broker-1.example.com:61613",
	},
	{
		name:    "fqdn with final dot and underscore",
		in:      "tcp://my_host.example.:1",
		brokers: []Broker{tcp("my_host.example.", 1)},
		opts:    withOpts(nil),
		str:     "tcp://my_host.example.:1",
	},
	{
		name:    "longest label and name",
		in:      "tcp://" + strings.Repeat("a", 63) + "." + strings.Repeat("b.", 94) + "c:1",
		brokers: []Broker{tcp(strings.Repeat("a", 63)+"."+strings.Repeat("b.", 94)+"c", 1)},
		opts:    withOpts(nil),
		str:     "tcp://" + strings.Repeat("a", 63) + "." + strings.Repeat("b.", 94) + "c:1",
	},
	{
		name:    "port with leading zeros and the bounds",
		in:      "tcp://10.0.0.1:0061613,tcp://10.0.0.2:1,tcp://10.0.0.3:65535",
		brokers: []Broker{tcp("10.0.0.1", 61613), tcp("10.0.0.2", 1), tcp("10.0.0.3", 65535)},
		opts:    withOpts(nil),
		str:     "tcp://10.0.0.1:61613,tcp://10.0.0.2:1,tcp://10.0.0.3:65535",
	},
	{
		name:     "comma separated options keep priorityURIs lists",
		in:       "failover:(tcp://a:1,tcp://b:2,tcp://c:3)?priorityURIs=tcp://c:3,tcp://b:2,randomize=false",
		failover: true,
		brokers:  []Broker{tcp("a", 1), tcp("b", 2), tcp("c", 3)},
		opts: withOpts(func(o *Options) {
			o.Randomize = false
			o.PriorityURIs = []Broker{tcp("c", 3), tcp("b", 2)}
		}),
		str: "failover:(tcp://a:1,tcp://b:2,tcp://c:3)?randomize=false&priorityURIs=tcp://c:3,tcp://b:2",
	},
	{
		name:     "ampersand separated options with a priorityURIs list",
		in:       "failover:(tcp://a:1,tcp://b:2)?priorityURIs=tcp://b:2,tcp://a:1&priorityBackup=true",
		failover: true,
		brokers:  []Broker{tcp("a", 1), tcp("b", 2)},
		opts: withOpts(func(o *Options) {
			o.PriorityBackup = true
			o.PriorityURIs = []Broker{tcp("b", 2), tcp("a", 1)}
		}),
		str: "failover:(tcp://a:1,tcp://b:2)?priorityBackup=true&priorityURIs=tcp://b:2,tcp://a:1",
	},
	{
		name:     "single priorityURIs option re-parses in comma mode",
		in:       "failover:(tcp://a:1,tcp://b:2)?priorityURIs=tcp://b:2,tcp://a:1",
		failover: true,
		brokers:  []Broker{tcp("a", 1), tcp("b", 2)},
		opts:     withOpts(func(o *Options) { o.PriorityURIs = []Broker{tcp("b", 2), tcp("a", 1)} }),
		str:      "failover:(tcp://a:1,tcp://b:2)?priorityURIs=tcp://b:2,tcp://a:1",
	},
	{
		name:     "priorityURIs normalized and deduplicated",
		in:       "failover:(tcp://a:1,tcp://[::1]:2)?priorityURIs=tcp://[0::1]:02,tcp://[::1]:2",
		failover: true,
		brokers:  []Broker{tcp("a", 1), tcp("::1", 2)},
		opts:     withOpts(func(o *Options) { o.PriorityURIs = []Broker{tcp("::1", 2)} }),
		str:      "failover:(tcp://a:1,tcp://[::1]:2)?priorityURIs=tcp://[::1]:2",
	},
	{
		name:     "empty priorityURIs resets an earlier one",
		in:       "failover:tcp://a:1?priorityURIs=tcp://a:1&priorityURIs=",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(nil),
		str:      "failover:(tcp://a:1)",
	},
	{
		name:     "later duplicates win",
		in:       "failover:tcp://a:1?randomize=false&initialReconnectDelay=5&randomize=true&initialReconnectDelay=7",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(func(o *Options) { o.InitialReconnectDelay = 7 }),
		str:      "failover:(tcp://a:1)?initialReconnectDelay=7",
	},
	{
		name:     "later duplicates win in comma mode",
		in:       "failover:tcp://a:1?maxReconnectAttempts=1,maxReconnectAttempts=0",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(func(o *Options) { o.MaxReconnectAttempts = 0 }),
		str:      "failover:(tcp://a:1)?maxReconnectAttempts=0",
	},
	{
		name:     "alias reconnectDelayExponent",
		in:       "failover:tcp://a:1?reconnectDelayExponent=1.5",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(func(o *Options) { o.BackOffMultiplier = 1.5 }),
		str:      "failover:(tcp://a:1)?backOffMultiplier=1.5",
	},
	{
		name:     "alias and name: the later wins",
		in:       "failover:tcp://a:1?backOffMultiplier=3&reconnectDelayExponent=1e1",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(func(o *Options) { o.BackOffMultiplier = 10 }),
		str:      "failover:(tcp://a:1)?backOffMultiplier=10",
	},
	{
		name:     "negative milliseconds accepted",
		in:       "failover:tcp://a:1?initialReconnectDelay=-5&maxReconnectDelay=-1&reconnectDelayJitter=-3",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts: withOpts(func(o *Options) {
			o.InitialReconnectDelay = -5
			o.MaxReconnectDelay = -1
			o.ReconnectDelayJitter = -3
		}),
		str: "failover:(tcp://a:1)?initialReconnectDelay=-5&maxReconnectDelay=-1&reconnectDelayJitter=-3",
	},
	{
		name: "every option",
		in: "failover:(tcp://a:1,ssl://b:2)?initialReconnectDelay=100&maxReconnectDelay=5000&useExponentialBackOff=false" +
			"&backOffMultiplier=3.5&maxReconnectAttempts=7&startupMaxReconnectAttempts=0&reconnectDelayJitter=20" +
			"&randomize=false&priorityBackup=true&priorityURIs=ssl://b:2",
		failover: true,
		brokers:  []Broker{tcp("a", 1), {Scheme: SchemeSSL, Host: "b", Port: 2, Path: ""}},
		opts: Options{
			InitialReconnectDelay:       100,
			MaxReconnectDelay:           5000,
			UseExponentialBackOff:       false,
			BackOffMultiplier:           3.5,
			MaxReconnectAttempts:        7,
			StartupMaxReconnectAttempts: 0,
			ReconnectDelayJitter:        20,
			Randomize:                   false,
			PriorityBackup:              true,
			PriorityURIs:                []Broker{{Scheme: SchemeSSL, Host: "b", Port: 2, Path: ""}},
		},
		str: "failover:(tcp://a:1,ssl://b:2)?initialReconnectDelay=100&maxReconnectDelay=5000&useExponentialBackOff=false" +
			"&backOffMultiplier=3.5&maxReconnectAttempts=7&startupMaxReconnectAttempts=0&reconnectDelayJitter=20" +
			"&randomize=false&priorityBackup=true&priorityURIs=ssl://b:2",
	},
	{
		name:     "defaults written out are dropped",
		in:       "failover:tcp://a:1?initialReconnectDelay=10&maxReconnectDelay=30000&useExponentialBackOff=true&backOffMultiplier=2&maxReconnectAttempts=-1&startupMaxReconnectAttempts=-1&reconnectDelayJitter=0&randomize=true&priorityBackup=false",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(nil),
		str:      "failover:(tcp://a:1)",
	},
	{
		name:     "ignored activemq options warn",
		in:       "failover:tcp://a:1?backup=true&timeout=3000&trackMessages=true&maxCacheSize=1&updateURIsSupported=false&reconnectSupported=true&warnAfterReconnectAttempts=10&nested.wireFormat.maxInactivityDuration=0&backup=false",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(nil),
		warnings: []string{
			"failover option backup is ignored: it means nothing to a STOMP client",
			"failover option timeout is ignored: it means nothing to a STOMP client",
			"failover option trackMessages is ignored: it means nothing to a STOMP client",
			"failover option maxCacheSize is ignored: it means nothing to a STOMP client",
			"failover option updateURIsSupported is ignored: it means nothing to a STOMP client",
			"failover option reconnectSupported is ignored: it means nothing to a STOMP client",
			"failover option warnAfterReconnectAttempts is ignored: it means nothing to a STOMP client",
			"failover option nested.wireFormat.maxInactivityDuration is ignored: it means nothing to a STOMP client",
		},
		str: "failover:(tcp://a:1)",
	},
	{
		name:     "ignored option without value and its continuation in comma mode",
		in:       "failover:tcp://a:1?backup,nested.x=a,b,randomize=false",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(func(o *Options) { o.Randomize = false }),
		warnings: []string{
			"failover option backup is ignored: it means nothing to a STOMP client",
			"failover option nested.x is ignored: it means nothing to a STOMP client",
		},
		str: "failover:(tcp://a:1)?randomize=false",
	},
	{
		name:     "duplicate broker kept once",
		in:       "failover:(tcp://a:1,tcp://A:01,tcp://b:2)",
		failover: true,
		brokers:  []Broker{tcp("a", 1), tcp("b", 2)},
		opts:     withOpts(nil),
		warnings: []string{"broker tcp://a:1 is listed twice; it is tried once per pass"},
		str:      "failover:(tcp://a:1,tcp://b:2)",
	},
	{
		name:     "empty query",
		in:       "failover:(tcp://a:1)?",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts:     withOpts(nil),
		str:      "failover:(tcp://a:1)",
	},
	{
		name:    "plain URI with options",
		in:      "tcp://a:1?startupMaxReconnectAttempts=2",
		brokers: []Broker{tcp("a", 1)},
		opts:    withOpts(func(o *Options) { o.StartupMaxReconnectAttempts = 2 }),
		str:     "tcp://a:1?startupMaxReconnectAttempts=2",
	},
	{
		name:     "float spellings",
		in:       "failover:tcp://a:1?backOffMultiplier=+0.5e1&maxReconnectAttempts=+4",
		failover: true,
		brokers:  []Broker{tcp("a", 1)},
		opts: withOpts(func(o *Options) {
			o.BackOffMultiplier = 5
			o.MaxReconnectAttempts = 4
		}),
		str: "failover:(tcp://a:1)?backOffMultiplier=5&maxReconnectAttempts=4",
	},
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if u.Failover != tt.failover {
				t.Errorf("Failover = %v, want %v", u.Failover, tt.failover)
			}
			if !reflect.DeepEqual(u.Brokers, tt.brokers) {
				t.Errorf("Brokers = %v, want %v", u.Brokers, tt.brokers)
			}
			if !reflect.DeepEqual(u.Options, tt.opts) {
				t.Errorf("Options = %+v, want %+v", u.Options, tt.opts)
			}
			if !reflect.DeepEqual(u.Warnings, tt.warnings) {
				t.Errorf("Warnings = %q, want %q", u.Warnings, tt.warnings)
			}
			if got := u.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			assertRoundTrip(t, u)
		})
	}
}

// assertRoundTrip checks that the normalized form of u parses back to u,
// warnings aside (String leaves ignored options out).
func assertRoundTrip(t *testing.T, u *URI) {
	t.Helper()
	s := u.String()
	v, err := Parse(s)
	if err != nil {
		t.Fatalf("re-parse of %q: %v", s, err)
	}
	a, b := *u, *v
	a.Warnings, b.Warnings = nil, nil
	// String masks passwords.
	a.Brokers = slices.Clone(a.Brokers)
	for i := range a.Brokers {
		if a.Brokers[i].Password != "" {
			a.Brokers[i].Password = Mask
		}
	}
	a.Options.PriorityURIs = slices.Clone(a.Options.PriorityURIs)
	for i := range a.Options.PriorityURIs {
		if a.Options.PriorityURIs[i].Password != "" {
			a.Options.PriorityURIs[i].Password = Mask
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("re-parse of %q = %+v, want %+v", s, b, a)
	}
	if s2 := v.String(); s2 != s {
		t.Fatalf("String() not stable: %q then %q", s, s2)
	}
}

var parseErrorTests = []struct {
	name string
	in   string
	kind error
	want string
}{
	// The URI as a whole.
	{"empty", "", ErrInvalidURI, `invalid failover URI "": empty broker list`},
	{"prefix only", "failover:", ErrInvalidURI, `invalid failover URI "failover:": empty broker list`},
	{"empty parentheses", "failover:()?randomize=false", ErrInvalidURI, `invalid failover URI "failover:()?randomize=false": empty broker list`},
	{"options only", "?randomize=false", ErrInvalidURI, `invalid failover URI "?randomize=false": empty broker list`},
	{"unclosed parenthesis", "failover:(tcp://a:1,tcp://b:2", ErrInvalidURI, `invalid failover URI "(tcp://a:1,tcp://b:2": unbalanced parentheses around the broker list`},
	{"unopened parenthesis", "failover:tcp://a:1)", ErrInvalidURI, `invalid failover URI "tcp://a:1)": unbalanced parentheses around the broker list`},
	{"lone parenthesis", "failover:(", ErrInvalidURI, `invalid failover URI "(": unbalanced parentheses around the broker list`},
	{"broker option splits the list", "failover:(tcp://a:1?x=1,tcp://b:2)", ErrInvalidURI, `invalid failover URI "(tcp://a:1": unbalanced parentheses around the broker list`},
	{"upper-case prefix", "FAILOVER:(tcp://a:1)", ErrInvalidURI, `invalid failover URI "FAILOVER:": the prefix must be lowercase failover:`},
	{"trailing comma", "failover:(tcp://a:1,)", ErrInvalidURI, `invalid failover URI "(tcp://a:1,)": empty entry in the broker list`},
	{"double comma", "tcp://a:1,,tcp://b:2", ErrInvalidURI, `invalid failover URI "tcp://a:1,,tcp://b:2": empty entry in the broker list`},
	{"empty option", "failover:tcp://a:1?randomize=false&&priorityBackup=true", ErrInvalidURI, `invalid failover URI "?randomize=false&&priorityBackup=true": empty option`},
	{"trailing ampersand", "failover:tcp://a:1?randomize=false&", ErrInvalidURI, `invalid failover URI "?randomize=false&": empty option`},
	{"trailing comma in options", "failover:tcp://a:1?randomize=false,", ErrInvalidURI, `invalid failover URI "?randomize=false,": empty option`},

	// Brokers.
	{"no scheme", "localhost:61613", ErrInvalidBroker, `invalid broker "localhost:61613": missing scheme (want tcp://, ssl://, stomp://, stomp+ssl://, ws:// or wss://)`},
	{"unknown scheme", "failover:(tcp://a:1,ftp://b:2)", ErrInvalidBroker, `invalid broker "ftp://b:2": unsupported scheme ftp (want tcp, ssl, stomp, stomp+ssl, ws or wss)`},
	{"websocket path with a space", "ws://a:1/x y", ErrInvalidBroker, `invalid broker "ws://a:1/x y": invalid character " " in the path`},
	{"websocket path with a fragment", "ws://a:1/x#y", ErrInvalidBroker, `invalid broker "ws://a:1/x#y": invalid character "#" in the path`},
	{"websocket without host", "ws:///ws", ErrInvalidBroker, `invalid broker "ws:///ws": missing host`},
	{"path on a tcp broker", "tcp://a:1/x", ErrInvalidBroker, `invalid broker "tcp://a:1/x": invalid port "1/x"`},
	{"upper-case scheme", "TCP://a:1", ErrInvalidBroker, `invalid broker "TCP://a:1": scheme TCP must be lowercase`},
	{"upper-case unknown scheme", "FTP://a:1", ErrInvalidBroker, `invalid broker "FTP://a:1": unsupported scheme FTP (want tcp, ssl, stomp, stomp+ssl, ws or wss)`},
	{"host too long", "tcp://" + strings.Repeat("a.", 127) + "a:1", ErrInvalidBroker, `invalid broker "tcp://` + strings.Repeat("a.", 127) + `a:1": host name longer than 253 characters`},
	{"label too long", "tcp://" + strings.Repeat("a", 64) + ".com:1", ErrInvalidBroker, `invalid broker "tcp://` + strings.Repeat("a", 64) + `.com:1": invalid host ` + strings.Repeat("a", 64) + `.com`},
	{"empty scheme", "://a:1", ErrInvalidBroker, `invalid broker "://a:1": unsupported scheme "" (want tcp, ssl, stomp, stomp+ssl, ws or wss)`},
	{"nested failover", "failover:failover:(tcp://a:1)", ErrInvalidURI, `invalid failover URI "failover:failover:(tcp://a:1)": nested failover URIs are not supported`},
	{"nested failover in parentheses", "failover:(failover:(tcp://a:1))", ErrInvalidURI, `invalid failover URI "failover:(failover:(tcp://a:1))": nested failover URIs are not supported`},
	{"missing port", "tcp://a", ErrInvalidBroker, `invalid broker "tcp://a": missing port`},
	{"empty port", "tcp://a:", ErrInvalidBroker, `invalid broker "tcp://a:": missing port`},
	{"port zero", "tcp://a:0", ErrInvalidBroker, `invalid broker "tcp://a:0": port 0 out of range 1-65535`},
	{"port too large", "tcp://a:65536", ErrInvalidBroker, `invalid broker "tcp://a:65536": port 65536 out of range 1-65535`},
	{"port far too large", "tcp://a:99999999999999999999999", ErrInvalidBroker, `invalid broker "tcp://a:99999999999999999999999": port 99999999999999999999999 out of range 1-65535`},
	{"negative port", "tcp://a:-1", ErrInvalidBroker, `invalid broker "tcp://a:-1": invalid port -1`},
	{"port with path", "tcp://a:1/x", ErrInvalidBroker, `invalid broker "tcp://a:1/x": invalid port "1/x"`},
	{"missing host", "tcp://:1", ErrInvalidBroker, `invalid broker "tcp://:1": missing host`},
	{"space in list", "failover:(tcp://a:1, tcp://b:2)", ErrInvalidBroker, `invalid broker " tcp://b:2": unsupported scheme " tcp" (want tcp, ssl, stomp, stomp+ssl, ws or wss)`},
	{"space in host", "tcp://a b:1", ErrInvalidBroker, `invalid broker "tcp://a b:1": invalid host "a b"`},
	{"user info, no host", "tcp://user:secret@:1", ErrInvalidBroker, `invalid broker "tcp://user:***@:1": missing host`},
	{"bad escape in the password", "failover:(tcp://a:1,tcp://u:s%zz@b:2)", ErrInvalidBroker, `invalid broker "tcp://u:***@b:2": invalid percent-encoding in the password`},
	{"password in a bad list", "failover:(tcp://u:secret@a:1", ErrInvalidURI, `invalid failover URI "(tcp://u:***@a:1": unbalanced parentheses around the broker list`},
	{"empty label", "tcp://a..b:1", ErrInvalidBroker, `invalid broker "tcp://a..b:1": invalid host a..b`},
	{"bad ipv4", "tcp://123.456.789.0:1", ErrInvalidBroker, `invalid broker "tcp://123.456.789.0:1": invalid IPv4 address 123.456.789.0`},
	{"numeric host", "tcp://1234:1", ErrInvalidBroker, `invalid broker "tcp://1234:1": invalid IPv4 address 1234`},
	{"ipv4 leading zero", "tcp://127.000.0.1:1", ErrInvalidBroker, `invalid broker "tcp://127.000.0.1:1": invalid IPv4 address 127.000.0.1`},
	{"ipv6 without brackets", "tcp://::1:61613", ErrInvalidBroker, `invalid broker "tcp://::1:61613": IPv6 address "::1" must be in brackets, as in tcp://[::1]:61613`},
	{"colon in host", "tcp://a:b:1", ErrInvalidBroker, `invalid broker "tcp://a:b:1": invalid host "a:b"`},
	{"ipv6 unclosed", "tcp://[::1:61613", ErrInvalidBroker, `invalid broker "tcp://[::1:61613": unclosed [ around the IPv6 address`},
	{"ipv6 missing port", "tcp://[::1]", ErrInvalidBroker, `invalid broker "tcp://[::1]": missing port`},
	{"ipv6 text after bracket", "tcp://[::1]x:1", ErrInvalidBroker, `invalid broker "tcp://[::1]x:1": unexpected "x:1" after the IPv6 address`},
	{"ipv6 invalid", "tcp://[::g]:1", ErrInvalidBroker, `invalid broker "tcp://[::g]:1": invalid IPv6 address "::g"`},
	{"ipv4 in brackets", "tcp://[127.0.0.1]:1", ErrInvalidBroker, `invalid broker "tcp://[127.0.0.1]:1": invalid IPv6 address 127.0.0.1`},
	{"empty brackets", "tcp://[]:1", ErrInvalidBroker, `invalid broker "tcp://[]:1": missing host`},
	{"bad zone", "tcp://[fe80::1%a/b]:1", ErrInvalidBroker, `invalid broker "tcp://[fe80::1%a/b]:1": invalid IPv6 zone "a/b"`},

	// Options.
	{"unknown option with suggestion", "failover:tcp://a:1?randomise=false", ErrUnknownOption, `unknown failover option randomise (did you mean randomize?)`},
	{"unknown option wrong case", "failover:tcp://a:1?MaxReconnectAttempts=1", ErrUnknownOption, `unknown failover option MaxReconnectAttempts (did you mean maxReconnectAttempts?)`},
	{"unknown option typo", "failover:tcp://a:1?initalReconnectDelay=1", ErrUnknownOption, `unknown failover option initalReconnectDelay (did you mean initialReconnectDelay?)`},
	{"unknown option no suggestion", "failover:tcp://a:1?foo=1", ErrUnknownOption, `unknown failover option foo`},
	{"unknown option without value", "failover:tcp://a:1?jitter", ErrUnknownOption, `unknown failover option jitter`},
	{"unknown option after a good one", "failover:tcp://a:1?randomize=false&wireFormat.x=1", ErrUnknownOption, `unknown failover option wireFormat.x`},
	{"unknown option in comma mode", "failover:tcp://a:1?randomize=false,priorityUris=tcp://a:1", ErrUnknownOption, `unknown failover option priorityUris (did you mean priorityURIs?)`},
	{"missing name", "failover:tcp://a:1?=5", ErrInvalidOption, `invalid failover option "=5": missing option name`},
	{"missing value", "failover:tcp://a:1?randomize", ErrInvalidOption, `invalid failover option randomize: missing =value`},
	{"missing value in ampersand mode", "failover:tcp://a:1?randomize=true&priorityBackup", ErrInvalidOption, `invalid failover option priorityBackup: missing =value`},
	{"bool 1", "failover:tcp://a:1?randomize=1", ErrInvalidOption, `invalid failover option "randomize=1": want true or false`},
	{"bool True", "failover:tcp://a:1?priorityBackup=True", ErrInvalidOption, `invalid failover option "priorityBackup=True": want true or false`},
	{"bool empty", "failover:tcp://a:1?useExponentialBackOff=", ErrInvalidOption, `invalid failover option "useExponentialBackOff=": want true or false`},
	{"bool continued in comma mode", "failover:tcp://a:1?randomize=false,true", ErrInvalidOption, `invalid failover option "randomize=false,true": want true or false`},
	{"fractional milliseconds", "failover:tcp://a:1?initialReconnectDelay=7.5", ErrInvalidOption, `invalid failover option "initialReconnectDelay=7.5": want a whole number of milliseconds`},
	{"milliseconds with unit", "failover:tcp://a:1?maxReconnectDelay=5s", ErrInvalidOption, `invalid failover option "maxReconnectDelay=5s": want a whole number of milliseconds`},
	{"milliseconds with space", "failover:tcp://a:1?reconnectDelayJitter= 5", ErrInvalidOption, `invalid failover option "reconnectDelayJitter= 5": want a whole number of milliseconds`},
	{"milliseconds overflow", "failover:tcp://a:1?maxReconnectDelay=99999999999999999999", ErrInvalidOption, `invalid failover option "maxReconnectDelay=99999999999999999999": out of range`},
	{"attempts not a number", "failover:tcp://a:1?maxReconnectAttempts=x", ErrInvalidOption, `invalid failover option "maxReconnectAttempts=x": want an integer`},
	{"attempts overflow", "failover:tcp://a:1?maxReconnectAttempts=99999999999999999999", ErrInvalidOption, `invalid failover option "maxReconnectAttempts=99999999999999999999": out of range`},
	{"float not a number", "failover:tcp://a:1?backOffMultiplier=two", ErrInvalidOption, `invalid failover option "backOffMultiplier=two": want a number`},
	{"float NaN", "failover:tcp://a:1?backOffMultiplier=NaN", ErrInvalidOption, `invalid failover option "backOffMultiplier=NaN": want a finite number`},
	{"float infinite", "failover:tcp://a:1?reconnectDelayExponent=Inf", ErrInvalidOption, `invalid failover option "reconnectDelayExponent=Inf": want a finite number`},
	{"float overflow", "failover:tcp://a:1?backOffMultiplier=1e999", ErrInvalidOption, `invalid failover option "backOffMultiplier=1e999": want a finite number`},
	{"priority broker invalid", "failover:tcp://a:1?priorityURIs=tcp://a", ErrInvalidOption, `invalid failover option "priorityURIs=tcp://a": invalid broker "tcp://a": missing port`},
	{"priority list empty entry", "failover:tcp://a:1?priorityURIs=tcp://a:1,,tcp://a:1", ErrInvalidURI, `invalid failover URI "?priorityURIs=tcp://a:1,,tcp://a:1": empty option`},
	{"priority list empty entry in ampersand mode", "failover:tcp://a:1?priorityURIs=tcp://a:1,&randomize=true", ErrInvalidOption, `invalid failover option "priorityURIs=tcp://a:1,": empty entry in the list`},
	{"priority broker not listed", "failover:(tcp://a:1,tcp://b:2)?priorityURIs=tcp://b:2,tcp://c:3", ErrInvalidOption, `invalid failover option "priorityURIs=tcp://b:2,tcp://c:3": tcp://c:3 is not in the broker list`},
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range parseErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %q", tt.in, u, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got %s\nwant %s", tt.in, err, tt.want)
			}
			if !errors.Is(err, ErrInvalidURI) {
				t.Errorf("errors.Is(%v, ErrInvalidURI) = false", err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.kind)
			}
			var ue *URIError
			if !errors.As(err, &ue) {
				t.Fatalf("error %T is not a *URIError", err)
			}
			if ue.Part == "" && tt.in != "" {
				t.Errorf("error %q names no part of the URI", err)
			}
			if strings.HasSuffix(err.Error(), ".") {
				t.Errorf("error %q ends with a period", err)
			}
		})
	}
}

func TestErrorKindsAreDistinct(t *testing.T) {
	t.Parallel()
	_, err := Parse("failover:tcp://a:1?randomise=true")
	if errors.Is(err, ErrInvalidOption) || errors.Is(err, ErrInvalidBroker) {
		t.Errorf("unknown option error %v matches another kind", err)
	}
	if errors.Is(ErrInvalidBroker, ErrInvalidURI) {
		t.Error("the kind sentinels must not match each other outside a URIError")
	}
}

func TestParseBroker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		want      Broker
		str, addr string
		tls       bool
	}{
		{"tcp://h:61613", tcp("h", 61613), "tcp://h:61613", "h:61613", false},
		{"ssl://h:61614", Broker{Scheme: SchemeSSL, Host: "h", Port: 61614, Path: ""}, "ssl://h:61614", "h:61614", true},
		{"stomp://h:1", Broker{Scheme: SchemeStomp, Host: "h", Port: 1, Path: ""}, "stomp://h:1", "h:1", false},
		{"stomp+ssl://h:1", Broker{Scheme: SchemeStompSSL, Host: "h", Port: 1, Path: ""}, "stomp+ssl://h:1", "h:1", true},
		{"tcp://[::1]:61613", tcp("::1", 61613), "tcp://[::1]:61613", "[::1]:61613", false},
		{"tcp://[fe80::1%eth0]:1", tcp("fe80::1%eth0", 1), "tcp://[fe80::1%eth0]:1", "[fe80::1%eth0]:1", false},
		{"tcp://192.168.0.1:1", tcp("192.168.0.1", 1), "tcp://192.168.0.1:1", "192.168.0.1:1", false},
		{"ws://h:15674/ws", Broker{Scheme: SchemeWS, Host: "h", Port: 15674, Path: "/ws"}, "ws://h:15674/ws", "h:15674", false},
		{"ws://h:1", Broker{Scheme: SchemeWS, Host: "h", Port: 1, Path: "/"}, "ws://h:1/", "h:1", false},
		{"ws://H/stomp/v1", Broker{Scheme: SchemeWS, Host: "h", Port: 80, Path: "/stomp/v1"}, "ws://h:80/stomp/v1", "h:80", false},
		{"wss://h/", Broker{Scheme: SchemeWSS, Host: "h", Port: 443, Path: "/"}, "wss://h:443/", "h:443", true},
		{"wss://[::1]/ws", Broker{Scheme: SchemeWSS, Host: "::1", Port: 443, Path: "/ws"}, "wss://[::1]:443/ws", "[::1]:443", true},
		{"ws://[::1]:8080", Broker{Scheme: SchemeWS, Host: "::1", Port: 8080, Path: "/"}, "ws://[::1]:8080/", "[::1]:8080", false},
	}
	for _, tt := range tests {
		b, err := ParseBroker(tt.in)
		if err != nil {
			t.Fatalf("ParseBroker(%q): %v", tt.in, err)
		}
		if b != tt.want || b.String() != tt.str || b.Addr() != tt.addr || b.TLS() != tt.tls || b.WebSocket() != (tt.want.Path != "") {
			t.Errorf("ParseBroker(%q) = %#v (%s, %s, tls %v), want %#v (%s, %s, tls %v)",
				tt.in, b, b, b.Addr(), b.TLS(), tt.want, tt.str, tt.addr, tt.tls)
		}
	}
	if _, err := ParseBroker("failover:tcp://a:1"); !errors.Is(err, ErrInvalidBroker) {
		t.Errorf("ParseBroker of a failover URI: %v, want ErrInvalidBroker", err)
	}
}

// TestUserinfo checks that credentials in broker URIs are taken, decoded,
// and never shown: String leaves them out, Redacted, URI.String, Redact
// and parse errors mask the password.
func TestUserinfo(t *testing.T) {
	t.Parallel()
	u, err := Parse("failover:(tcp://alice:s%2Cecret@a:1,ws://bob:p@ss:w%40rd@b:2/ws,tcp://c:3)?priorityURIs=tcp://a:1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Broker{
		{Scheme: SchemeTCP, Host: "a", Port: 1, User: "alice", Password: "s,ecret"},
		{Scheme: SchemeWS, Host: "b", Port: 2, Path: "/ws", User: "bob", Password: "p@ss:w@rd"},
		tcp("c", 3),
	}
	if !reflect.DeepEqual(u.Brokers, want) {
		t.Fatalf("Brokers = %#v, want %#v", u.Brokers, want)
	}
	if p := u.Options.PriorityURIs; len(p) != 1 || p[0] != want[0] {
		t.Errorf("PriorityURIs = %#v, want the listed broker with its credentials", p)
	}
	if got := want[0].String(); got != "tcp://a:1" {
		t.Errorf("String() = %q", got)
	}
	if got := want[1].Redacted(); got != "ws://bob:***@b:2/ws" {
		t.Errorf("Redacted() = %q", got)
	}
	if got := (Broker{Scheme: SchemeTCP, Host: "h", Port: 1, User: "a b"}).Redacted(); got != "tcp://a%20b@h:1" {
		t.Errorf("Redacted() of a user without password = %q", got)
	}
	if got, want := u.String(), "failover:(tcp://alice:***@a:1,ws://bob:***@b:2/ws,tcp://c:3)?priorityURIs=tcp://a:1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	assertRoundTrip(t, u)
	for in, want := range map[string]string{
		"tcp://u:secret@h:1":                       "tcp://u:***@h:1",
		"failover:(tcp://u:s@h:1,ssl://v:t@g:2)?x": "failover:(tcp://u:***@h:1,ssl://v:***@g:2)?x",
		"tcp://user@h:1 tcp://h:2":                 "tcp://user@h:1 tcp://h:2",
		"ws://u:p/q@h:1/path":                      "ws://u:***@h:1/path",
		"no uri":                                   "no uri",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"tcp://u:topsecret@h", "failover:(tcp://u:topsecret@h:1)?randomise=true", "ws://u:topsecret@h:0/ws"} {
		_, err := Parse(in)
		if err == nil || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("Parse(%q) = %v, want an error without the password", in, err)
		}
	}
}

func TestOptionsJSON(t *testing.T) {
	t.Parallel()
	u, err := Parse("failover:(tcp://a:1,tcp://[::1]:2)?priorityURIs=tcp://[::1]:2&backOffMultiplier=1.5")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(u.Options)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"initialReconnectDelay":10,"maxReconnectDelay":30000,"useExponentialBackOff":true,` +
		`"backOffMultiplier":1.5,"maxReconnectAttempts":-1,"startupMaxReconnectAttempts":-1,` +
		`"reconnectDelayJitter":0,"randomize":true,"priorityBackup":false,"priorityURIs":["tcp://[::1]:2"]}`
	if string(got) != want {
		t.Errorf("json\n got %s\nwant %s", got, want)
	}
	var back Options
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, u.Options) {
		t.Errorf("json round trip = %+v, want %+v", back, u.Options)
	}

	d, _ := json.Marshal(DefaultOptions())
	if !strings.Contains(string(d), `"priorityURIs":[]`) {
		t.Errorf("default options json %s: priorityURIs should be []", d)
	}
	var bad Options
	if err := json.Unmarshal([]byte(`{"priorityURIs":["tcp://a"]}`), &bad); !errors.Is(err, ErrInvalidBroker) {
		t.Errorf("unmarshal of a bad broker: %v, want ErrInvalidBroker", err)
	}
}

func TestSuggestOption(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"randomise":                  "randomize",
		"RANDOMIZE":                  "randomize",
		"maxReconnectAttempt":        "maxReconnectAttempts",
		"startupMaxReconnectAttempt": "startupMaxReconnectAttempts",
		"backoffMultiplier":          "backOffMultiplier",
		"priorityURI":                "priorityURIs",
		"timeOut":                    "timeout",
		"x":                          "",
		"foo":                        "",
		"connectionTimeout":          "",
	}
	for in, want := range tests {
		if got := suggestOption(in); got != want {
			t.Errorf("suggestOption(%q) = %q, want %q", in, got, want)
		}
	}
}
