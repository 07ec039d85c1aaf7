package failover

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// splitMix is a Rand under the test's control (SplitMix64), so the pinned
// schedules below do not depend on the standard library's generators.
type splitMix struct{ state uint64 }

func (s *splitMix) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (s *splitMix) Float64() float64 { return float64(s.next()>>11) / (1 << 53) }
func (s *splitMix) IntN(n int) int   { return int(s.next() % uint64(n)) }

// scripted is a Rand that replays fixed values, cycling.
type scripted struct {
	ints   []int
	floats []float64
	i, f   int
}

func (s *scripted) IntN(n int) int {
	v := s.ints[s.i%len(s.ints)]
	s.i++
	if v >= n {
		panic(fmt.Sprintf("scripted IntN(%d) = %d", n, v))
	}
	return v
}

func (s *scripted) Float64() float64 {
	v := s.floats[s.f%len(s.floats)]
	s.f++
	return v
}

// step is one expected attempt: broker host and delay.
type step struct {
	host  string
	delay time.Duration
}

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// collect returns up to n attempts of s.
func collect(s *Schedule, n int) []Attempt {
	var out []Attempt
	for len(out) < n {
		a, ok := s.Next()
		if !ok {
			break
		}
		out = append(out, a)
	}
	return out
}

func steps(as []Attempt) []step {
	out := make([]step, len(as))
	for i, a := range as {
		out[i] = step{a.Broker.Host, a.Delay}
	}
	return out
}

// localTest is the injected "is local" predicate of the tests.
var localTest = LocalHosts("myhost", "10.1.2.3")

func TestScheduleTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		uri       string
		reconnect bool // Reconnect instead of Startup
		rand      Rand
		n         int // attempts to take; fewer means the schedule ends
		want      []step
		pinned    string // the schedule as formatSteps writes it, instead of want
	}{
		{
			name: "defaults without randomize: exponential from 10ms",
			uri:  "failover:(tcp://a:1,tcp://b:1,tcp://c:1)?randomize=false",
			n:    8,
			want: []step{{"a", 0}, {"b", ms(10)}, {"c", ms(20)}, {"a", ms(40)}, {"b", ms(80)}, {"c", ms(160)}, {"a", ms(320)}, {"b", ms(640)}},
		},
		{
			name: "capped by maxReconnectDelay",
			uri:  "failover:(tcp://a:1,tcp://b:1)?randomize=false&initialReconnectDelay=1000&maxReconnectDelay=3000",
			n:    6,
			want: []step{{"a", 0}, {"b", ms(1000)}, {"a", ms(2000)}, {"b", ms(3000)}, {"a", ms(3000)}, {"b", ms(3000)}},
		},
		{
			name: "constant without exponential back-off",
			uri:  "failover:(tcp://a:1)?useExponentialBackOff=false&initialReconnectDelay=250&backOffMultiplier=5",
			n:    4,
			want: []step{{"a", 0}, {"a", ms(250)}, {"a", ms(250)}, {"a", ms(250)}},
		},
		{
			name: "sub-millisecond precision",
			uri:  "failover:(tcp://a:1)?backOffMultiplier=1.5",
			n:    5,
			want: []step{{"a", 0}, {"a", 10 * time.Millisecond}, {"a", 15 * time.Millisecond}, {"a", 22500 * time.Microsecond}, {"a", 33750 * time.Microsecond}},
		},
		{
			name: "float noise rounded to the nanosecond",
			uri:  "failover:(tcp://a:1)?backOffMultiplier=1.1",
			n:    5,
			want: []step{{"a", 0}, {"a", 10 * time.Millisecond}, {"a", 11 * time.Millisecond}, {"a", 12100 * time.Microsecond}, {"a", 13310 * time.Microsecond}},
		},
		{
			name: "multiplier below one shrinks the delay",
			uri:  "failover:(tcp://a:1)?initialReconnectDelay=8&backOffMultiplier=0.5",
			n:    5,
			want: []step{{"a", 0}, {"a", ms(8)}, {"a", ms(4)}, {"a", ms(2)}, {"a", ms(1)}},
		},
		{
			name: "negative initial delay clamps to zero",
			uri:  "failover:(tcp://a:1)?initialReconnectDelay=-5",
			n:    3,
			want: []step{{"a", 0}, {"a", 0}, {"a", 0}},
		},
		{
			name: "negative maximum clamps to zero",
			uri:  "failover:(tcp://a:1)?maxReconnectDelay=-1",
			n:    3,
			want: []step{{"a", 0}, {"a", 0}, {"a", 0}},
		},
		{
			name: "jitter is added before the cap",
			uri:  "failover:(tcp://a:1)?reconnectDelayJitter=100&maxReconnectDelay=70",
			rand: &scripted{floats: []float64{0.5, 0, 0.25, 0.999}},
			n:    5,
			want: []step{{"a", 0}, {"a", ms(60)}, {"a", ms(20)}, {"a", ms(65)}, {"a", ms(70)}},
		},
		{
			name: "negative jitter subtracts",
			uri:  "failover:(tcp://a:1)?reconnectDelayJitter=-100&initialReconnectDelay=80&useExponentialBackOff=false",
			rand: &scripted{floats: []float64{0.5, 0.9}},
			n:    3,
			want: []step{{"a", 0}, {"a", ms(30)}, {"a", 0}},
		},
		{
			name: "startup limit 0: a single attempt",
			uri:  "failover:(tcp://a:1,tcp://b:1)?randomize=false&startupMaxReconnectAttempts=0&maxReconnectAttempts=5",
			n:    10,
			want: []step{{"a", 0}},
		},
		{
			name: "startup limit 2: two retries over the brokers",
			uri:  "failover:(tcp://a:1,tcp://b:1)?randomize=false&startupMaxReconnectAttempts=2&maxReconnectAttempts=0",
			n:    10,
			want: []step{{"a", 0}, {"b", ms(10)}, {"a", ms(20)}},
		},
		{
			name:      "reconnect limit from maxReconnectAttempts",
			uri:       "failover:(tcp://a:1,tcp://b:1)?randomize=false&startupMaxReconnectAttempts=0&maxReconnectAttempts=3",
			reconnect: true,
			n:         10,
			want:      []step{{"a", 0}, {"b", ms(10)}, {"a", ms(20)}, {"b", ms(40)}},
		},
		{
			name:      "reconnect limit 0: a single attempt",
			uri:       "failover:(tcp://a:1,tcp://b:1)?randomize=false&maxReconnectAttempts=0",
			reconnect: true,
			n:         10,
			want:      []step{{"a", 0}},
		},
		{
			name: "randomize: Fisher-Yates with the injected values, every pass",
			uri:  "failover:(tcp://a:1,tcp://b:1,tcp://c:1)?useExponentialBackOff=false",
			// pass 1: i=2 j=0 -> c b a; i=1 j=1 -> c b a
			// pass 2: i=2 j=1 -> a c b; i=1 j=0 -> c a b
			rand: &scripted{ints: []int{0, 1, 1, 0}},
			n:    6,
			want: []step{{"c", 0}, {"b", ms(10)}, {"a", ms(10)}, {"c", ms(10)}, {"a", ms(10)}, {"b", ms(10)}},
		},
		{
			name: "priorityBackup: local hosts first, stable",
			uri:  "failover:(tcp://r1:1,tcp://localhost:1,tcp://r2:1,tcp://127.0.0.5:1,tcp://[::1]:1,tcp://myhost:1,tcp://10.1.2.3:1)?randomize=false&priorityBackup=true&useExponentialBackOff=false&initialReconnectDelay=0",
			n:    8,
			want: []step{{"localhost", 0}, {"127.0.0.5", 0}, {"::1", 0}, {"myhost", 0}, {"10.1.2.3", 0}, {"r1", 0}, {"r2", 0}, {"localhost", 0}},
		},
		{
			name: "priorityBackup after the shuffle",
			uri:  "failover:(tcp://r1:1,tcp://localhost:1,tcp://r2:1)?priorityBackup=true&initialReconnectDelay=0",
			// shuffle: i=2 j=0 -> r2 localhost r1; i=1 j=0 -> localhost r2 r1
			rand: &scripted{ints: []int{0, 0}},
			n:    3,
			want: []step{{"localhost", 0}, {"r2", 0}, {"r1", 0}},
		},
		{
			name: "priorityURIs first in their order, then the rest",
			uri:  "failover:(tcp://a:1,tcp://b:1,tcp://c:1,tcp://d:1)?randomize=false&priorityURIs=tcp://c:1,tcp://a:1&initialReconnectDelay=0",
			n:    8,
			want: []step{{"c", 0}, {"a", 0}, {"b", 0}, {"d", 0}, {"c", 0}, {"a", 0}, {"b", 0}, {"d", 0}},
		},
		{
			name: "priorityURIs before local hosts",
			uri:  "failover:(tcp://localhost:1,tcp://b:1,tcp://c:1)?randomize=false&priorityBackup=true&priorityURIs=tcp://c:1&initialReconnectDelay=0",
			n:    3,
			want: []step{{"c", 0}, {"localhost", 0}, {"b", 0}},
		},
		{
			name: "priorityURIs with randomize: the rest is shuffled",
			uri:  "failover:(tcp://a:1,tcp://b:1,tcp://c:1)?priorityURIs=tcp://b:1&initialReconnectDelay=0",
			// shuffle: i=2 j=0 -> c b a; i=1 j=0 -> b c a; then b first
			rand: &scripted{ints: []int{0, 0}},
			n:    3,
			want: []step{{"b", 0}, {"c", 0}, {"a", 0}},
		},
		{
			name: "fixed seed: shuffle and jitter",
			uri:  "failover:(tcp://a:1,tcp://b:1,tcp://c:1)?reconnectDelayJitter=10&startupMaxReconnectAttempts=4",
			rand: &splitMix{state: 42},
			n:    10,
			// Two passes (a c b, c a b); each delay is its base plus [0, 10ms).
			pinned: "a 0s, c 12.786011ms, b 23.441907ms, c 42.184052ms, a 88.006319ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := Parse(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			var s *Schedule
			if tt.reconnect {
				s = u.Reconnect(tt.rand, localTest)
			} else {
				s = u.Startup(tt.rand, localTest)
			}
			got := collect(s, tt.n)
			if tt.pinned != "" {
				if g := formatSteps(got); g != tt.pinned {
					t.Errorf("schedule\n got %s\nwant %s", g, tt.pinned)
				}
			} else if !reflect.DeepEqual(steps(got), tt.want) {
				t.Errorf("schedule\n got %s\nwant %s", formatSteps(got), formatWant(tt.want))
			}
			for i, a := range got {
				if a.Number != i+1 {
					t.Errorf("attempt %d has Number %d", i+1, a.Number)
				}
			}
		})
	}
}

func formatSteps(as []Attempt) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprintf("%s %v", a.Broker.Host, a.Delay)
	}
	return strings.Join(parts, ", ")
}

func formatWant(ss []step) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = fmt.Sprintf("%s %v", s.host, s.delay)
	}
	return strings.Join(parts, ", ")
}

func TestSchedulePassesAndLimits(t *testing.T) {
	t.Parallel()
	u, err := Parse("failover:(tcp://a:1,tcp://b:1)?randomize=false&startupMaxReconnectAttempts=4&maxReconnectAttempts=1")
	if err != nil {
		t.Fatal(err)
	}
	st := u.Startup(nil, nil)
	if st.MaxAttempts() != 5 {
		t.Errorf("startup MaxAttempts = %d, want 5", st.MaxAttempts())
	}
	var passes []int
	for a := range st.All() {
		passes = append(passes, a.Pass)
	}
	if want := []int{1, 1, 2, 2, 3}; !slices.Equal(passes, want) {
		t.Errorf("passes = %v, want %v", passes, want)
	}
	for range 3 {
		if a, ok := st.Next(); ok {
			t.Fatalf("Next after exhaustion = %+v, true", a)
		}
	}
	if st.Attempts() != 5 {
		t.Errorf("Attempts = %d, want 5", st.Attempts())
	}

	// A reconnect schedule from the same URI starts afresh with its own limit.
	rc := u.Reconnect(nil, nil)
	got := collect(rc, 10)
	if len(got) != 2 || got[0].Delay != 0 || got[1].Delay != ms(10) {
		t.Errorf("reconnect = %s, want a 0s, b 10ms", formatSteps(got))
	}
	if rc.MaxAttempts() != 2 {
		t.Errorf("reconnect MaxAttempts = %d, want 2", rc.MaxAttempts())
	}

	unlimited := mustParse(t, "failover:tcp://a:1").Startup(nil, nil)
	if unlimited.MaxAttempts() != -1 {
		t.Errorf("default MaxAttempts = %d, want -1", unlimited.MaxAttempts())
	}
	if n := len(collect(unlimited, 10000)); n != 10000 {
		t.Errorf("unlimited schedule ended after %d attempts", n)
	}

	huge := mustParse(t, fmt.Sprintf("failover:tcp://a:1?maxReconnectAttempts=%d", math.MaxInt)).Reconnect(nil, nil)
	if huge.MaxAttempts() != math.MaxInt {
		t.Errorf("MaxAttempts with maxReconnectAttempts=MaxInt = %d", huge.MaxAttempts())
	}

	// All stops when the loop does.
	it := mustParse(t, "failover:tcp://a:1").Startup(nil, nil)
	for a := range it.All() {
		if a.Number == 3 {
			break
		}
	}
	if it.Attempts() != 3 {
		t.Errorf("Attempts after breaking out of All = %d, want 3", it.Attempts())
	}
}

func mustParse(t *testing.T, s string) *URI {
	t.Helper()
	u, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestScheduleExtremes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri  string
		at   int // attempt number to look at
		want time.Duration
	}{
		{fmt.Sprintf("tcp://a:1?initialReconnectDelay=%d&maxReconnectDelay=%d", math.MaxInt, math.MaxInt), 2, time.Duration(math.MaxInt64)},
		{"tcp://a:1?backOffMultiplier=1e300&maxReconnectDelay=5000", 4, ms(5000)},
		{"tcp://a:1?backOffMultiplier=1e300&initialReconnectDelay=-1&maxReconnectDelay=5000", 4, 0},
		{"tcp://a:1?backOffMultiplier=1e300&initialReconnectDelay=0", 4, 0},
		{"tcp://a:1?backOffMultiplier=-2&initialReconnectDelay=10", 3, 0},
		{"tcp://a:1?backOffMultiplier=-2&initialReconnectDelay=10", 4, ms(40)},
		{"tcp://a:1?backOffMultiplier=0&initialReconnectDelay=10", 2, ms(10)},
		{"tcp://a:1?backOffMultiplier=0&initialReconnectDelay=10", 3, 0},
		{"tcp://a:1", 5000, ms(30000)},
	}
	for _, tt := range tests {
		s := mustParse(t, tt.uri).Startup(nil, nil)
		got := collect(s, tt.at)
		if len(got) != tt.at {
			t.Fatalf("%s: only %d attempts", tt.uri, len(got))
		}
		if d := got[tt.at-1].Delay; d != tt.want {
			t.Errorf("%s: attempt %d waits %v, want %v", tt.uri, tt.at, d, tt.want)
		}
	}
}

func TestNewScheduleRand(t *testing.T) {
	t.Parallel()
	needs := []string{
		"failover:(tcp://a:1,tcp://b:1)",
		"failover:(tcp://a:1)?reconnectDelayJitter=5",
	}
	for _, uri := range needs {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewSchedule with a nil Rand did not panic", uri)
				}
			}()
			mustParse(t, uri).Startup(nil, nil)
		}()
	}
	// A single broker needs no shuffle.
	if n := len(collect(mustParse(t, "failover:tcp://a:1").Startup(nil, nil), 3)); n != 3 {
		t.Errorf("got %d attempts", n)
	}
	if n := len(collect(NewSchedule(nil, DefaultOptions(), -1, nil, nil), 3)); n != 0 {
		t.Errorf("empty broker list gave %d attempts", n)
	}
}

func TestScheduleCopiesItsInput(t *testing.T) {
	t.Parallel()
	u := mustParse(t, "failover:(tcp://a:1,tcp://b:1)?randomize=false&priorityURIs=tcp://b:1")
	s := u.Startup(nil, nil)
	u.Brokers[0].Host = "x"
	u.Options.PriorityURIs[0].Host = "y"
	u.Options.InitialReconnectDelay = 999
	got := collect(s, 3)
	if formatSteps(got) != "b 0s, a 10ms, b 20ms" {
		t.Errorf("schedule = %s, changed by the URI after NewSchedule", formatSteps(got))
	}
}

func TestLocalHosts(t *testing.T) {
	t.Parallel()
	local := LocalHosts("MyHost.example.com.", "192.168.1.7", "[fe80::1]")
	tests := map[string]bool{
		"localhost":              true,
		"LOCALHOST":              true,
		"localhost.":             true,
		"127.0.0.1":              true,
		"127.255.0.9":            true,
		"::1":                    true,
		"::ffff:127.0.0.1":       true,
		"myhost.example.com":     true,
		"MYHOST.EXAMPLE.COM.":    true,
		"192.168.1.7":            true,
		"fe80::1":                true,
		"fe80:0::1":              true,
		"myhost":                 false,
		"128.0.0.1":              false,
		"192.168.1.8":            false,
		"::2":                    false,
		"example.com":            false,
		"localhost.example.com":  false,
		"notlocalhost":           false,
		"":                       false,
		"127.0.0.1.example.com.": false,
	}
	for host, want := range tests {
		if got := local(host); got != want {
			t.Errorf("local(%q) = %v, want %v", host, got, want)
		}
	}
	if LocalHosts()("myhost.example.com") {
		t.Error("LocalHosts() treats an undeclared name as local")
	}
}

// randomOptions draws options for the property tests.
func randomOptions(r *rand.Rand, brokers []Broker) Options {
	o := DefaultOptions()
	o.InitialReconnectDelay = r.IntN(5100) - 100
	o.MaxReconnectDelay = r.IntN(60100) - 100
	o.UseExponentialBackOff = r.IntN(2) == 0
	o.BackOffMultiplier = r.Float64()*8 - 3
	o.ReconnectDelayJitter = r.IntN(600) - 50
	o.Randomize = r.IntN(4) != 0
	o.PriorityBackup = r.IntN(2) == 0
	o.MaxReconnectAttempts = r.IntN(12) - 1
	o.StartupMaxReconnectAttempts = r.IntN(12) - 1
	if r.IntN(3) == 0 {
		for _, b := range brokers {
			if r.IntN(3) == 0 {
				o.PriorityURIs = append(o.PriorityURIs, b)
			}
		}
		r.Shuffle(len(o.PriorityURIs), func(i, j int) {
			o.PriorityURIs[i], o.PriorityURIs[j] = o.PriorityURIs[j], o.PriorityURIs[i]
		})
	}
	return o
}

var propertyHosts = []string{"a", "b", "localhost", "c", "127.0.0.2", "d", "::1", "myhost"}

// randomURI draws a valid URI with 1 to 8 brokers and random options.
func randomURI(r *rand.Rand) *URI {
	n := 1 + r.IntN(len(propertyHosts))
	hosts := slices.Clone(propertyHosts)
	r.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	brokers := make([]Broker, n)
	for i := range brokers {
		brokers[i] = Broker{Scheme: SchemeTCP, Host: hosts[i], Port: 1 + r.IntN(65535)}
	}
	return &URI{Failover: true, Brokers: brokers, Options: randomOptions(r, brokers)}
}

const propertySeeds = 2000

func TestPropertyDelaysBounded(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		r := rand.New(rand.NewPCG(seed, 1))
		u := randomURI(r)
		maxDelay := millis(max(u.Options.MaxReconnectDelay, 0))
		for _, s := range []*Schedule{u.Startup(r, localTest), u.Reconnect(r, localTest)} {
			for a := range s.All() {
				if a.Delay < 0 || a.Delay > maxDelay {
					t.Fatalf("seed %d, %s: attempt %d waits %v, outside [0, %v]", seed, u, a.Number, a.Delay, maxDelay)
				}
				if a.Number == 1 && a.Delay != 0 {
					t.Fatalf("seed %d, %s: first attempt waits %v", seed, u, a.Delay)
				}
				if a.Number > 200 {
					break
				}
			}
		}
	}
}

func TestPropertyDelaysGrowWithoutJitter(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		r := rand.New(rand.NewPCG(seed, 2))
		u := randomURI(r)
		u.Options.ReconnectDelayJitter = 0
		u.Options.InitialReconnectDelay = r.IntN(1000)
		u.Options.BackOffMultiplier = 1 + r.Float64()*3
		var prev time.Duration
		for _, a := range collect(u.Reconnect(r, localTest), 100) {
			if a.Number > 2 && a.Delay < prev {
				t.Fatalf("seed %d, %s: attempt %d waits %v, less than %v before", seed, u, a.Number, a.Delay, prev)
			}
			prev = a.Delay
		}
	}
}

func TestPropertyPassesArePermutations(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		r := rand.New(rand.NewPCG(seed, 3))
		u := randomURI(r)
		u.Options.StartupMaxReconnectAttempts = -1
		n := len(u.Brokers)
		attempts := collect(u.Startup(r, localTest), 5*n)
		for p := range 5 {
			pass := attempts[p*n : (p+1)*n]
			got := make([]Broker, n)
			for i, a := range pass {
				if a.Pass != p+1 {
					t.Fatalf("seed %d: attempt %d is in pass %d, want %d", seed, a.Number, a.Pass, p+1)
				}
				got[i] = a.Broker
			}
			checkPass(t, seed, u, got)
		}
	}
}

// checkPass checks that one pass is a permutation of the brokers ordered as
// the options say: priorityURIs first in their order, then (priorityBackup)
// the local brokers, then the others; without randomize, in list order.
func checkPass(t *testing.T, seed uint64, u *URI, pass []Broker) {
	t.Helper()
	cmp := func(a, b Broker) int { return strings.Compare(a.String(), b.String()) }
	sorted, want := slices.Clone(pass), slices.Clone(u.Brokers)
	slices.SortFunc(sorted, cmp)
	slices.SortFunc(want, cmp)
	if !slices.Equal(sorted, want) {
		t.Fatalf("seed %d, %s: pass %v is not a permutation of %v", seed, u, pass, u.Brokers)
	}
	prio := u.Options.PriorityURIs
	if !slices.Equal(pass[:len(prio)], prio) {
		t.Fatalf("seed %d, %s: pass %v does not start with %v", seed, u, pass, prio)
	}
	rest := pass[len(prio):]
	if u.Options.PriorityBackup {
		seenRemote := false
		for _, b := range rest {
			local := localTest(b.Host)
			if local && seenRemote {
				t.Fatalf("seed %d, %s: pass %v has a local broker after a remote one", seed, u, pass)
			}
			seenRemote = seenRemote || !local
		}
	}
	if !u.Options.Randomize {
		var inOrder []Broker
		for _, b := range u.Brokers {
			if !slices.Contains(prio, b) {
				inOrder = append(inOrder, b)
			}
		}
		if u.Options.PriorityBackup {
			slices.SortStableFunc(inOrder, func(a, b Broker) int {
				return rank(localTest(a.Host)) - rank(localTest(b.Host))
			})
		}
		if !slices.Equal(rest, inOrder) {
			t.Fatalf("seed %d, %s: pass %v, want %v", seed, u, pass, inOrder)
		}
	}
}

func TestPropertyRandomizeVaries(t *testing.T) {
	t.Parallel()
	u := mustParse(t, "failover:(tcp://a:1,tcp://b:1,tcp://c:1,tcp://d:1)")
	firsts := map[string]int{}
	orders := map[string]bool{}
	for seed := range uint64(propertySeeds) {
		s := u.Startup(rand.New(rand.NewPCG(seed, 4)), nil)
		pass := collect(s, 4)
		firsts[pass[0].Broker.Host]++
		orders[formatSteps(pass)] = true
	}
	for _, h := range []string{"a", "b", "c", "d"} {
		if n := firsts[h]; n < propertySeeds/8 {
			t.Errorf("%s came first in %d of %d shuffles", h, n, propertySeeds)
		}
	}
	if len(orders) != 24 {
		t.Errorf("%d of 24 orders seen", len(orders))
	}
}

func TestPropertySameSeedSameSchedule(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		u := randomURI(rand.New(rand.NewPCG(seed, 5)))
		a := collect(u.Reconnect(rand.New(rand.NewPCG(seed, 6)), localTest), 60)
		b := collect(u.Reconnect(rand.New(rand.NewPCG(seed, 6)), localTest), 60)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d, %s: two schedules differ:\n%s\n%s", seed, u, formatSteps(a), formatSteps(b))
		}
	}
}

func TestPropertyAttemptLimits(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		r := rand.New(rand.NewPCG(seed, 7))
		u := randomURI(r)
		for _, tc := range []struct {
			s     *Schedule
			limit int
		}{
			{u.Startup(r, localTest), u.Options.StartupMaxReconnectAttempts},
			{u.Reconnect(r, localTest), u.Options.MaxReconnectAttempts},
		} {
			got := len(collect(tc.s, 1000))
			want := tc.limit + 1
			if tc.limit == -1 {
				want = 1000
			}
			if got != want {
				t.Fatalf("seed %d, %s: limit %d gave %d attempts, want %d", seed, u, tc.limit, got, want)
			}
			if _, ok := tc.s.Next(); ok && tc.limit != -1 {
				t.Fatalf("seed %d, %s: Next after the limit succeeded", seed, u)
			}
		}
	}
}

func TestPropertyRoundTrip(t *testing.T) {
	t.Parallel()
	for seed := range uint64(propertySeeds) {
		u := randomURI(rand.New(rand.NewPCG(seed, 8)))
		if u.Options.PriorityURIs == nil {
			u.Options.PriorityURIs = []Broker{}
		}
		if r := seed % 3; r == 1 {
			u.Failover = false
		}
		assertRoundTrip(t, u)
	}
}
