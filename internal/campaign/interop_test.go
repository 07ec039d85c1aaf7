//go:build interop

package campaign

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

var flagInterop = flag.Int("campaign.interop", 20, "schedules per real broker (TestInteropCampaign)")

// quiet is how long a real broker's queues must stay silent before the
// drain takes them as empty: a real broker cannot be asked whether it
// holds a message, and it delivers again at once what a closed connection
// left unacknowledged.
const quiet = 1500 * time.Millisecond

// realBroker is a broker that scripts/brokers.sh starts on loopback.
type realBroker struct {
	name   string
	port   string
	limits []Avoided // combinations it does not support
}

func realBrokers() []realBroker {
	return []realBroker{
		{"rabbitmq", envOr("RABBITMQ_STOMP_PORT", "61613"), RabbitMQLimits},
		{"activemq", envOr("ACTIVEMQ_STOMP_PORT", "61623"), ActiveMQLimits},
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// TestInteropCampaign runs schedules of the campaign against RabbitMQ and
// ActiveMQ, with the proxy between the command and the real broker (the
// outages are the proxy's). Each schedule has queues of its own, named
// after the run and its seed, and the invariants are checked on what a
// clean client drains from them:
//
//	scripts/brokers.sh up && go test -tags interop -run TestInteropCampaign ./internal/campaign -campaign.interop=20
//
// A broker that does not answer fails the test: nothing is skipped.
func TestInteropCampaign(t *testing.T) {
	bin := stompestBinary(t)
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()%1_000_000_000) + 1
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, rb := range realBrokers() {
		t.Run(rb.name, func(t *testing.T) {
			t.Parallel()
			addr := net.JoinHostPort("127.0.0.1", rb.port)
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatalf("no broker on %s (start it with scripts/brokers.sh up): %v", addr, err)
			}
			c.Close()
			tg := target{addr: addr, user: "guest", password: "guest", empty: func(last time.Time) bool { return time.Since(last) > quiet }}
			tot := &totals{byCommand: map[Command]int{}, exitCodes: map[int]int{}}
			start := time.Now()
			var mu sync.Mutex // one schedule at a time per broker
			for i := range *flagInterop {
				s, redrawn := Draw(seed+uint64(i), rb.limits...)
				if *flagOnly != "" && string(s.Command) != *flagOnly {
					continue
				}
				s.Namespace = fmt.Sprintf("campaign-%s-%d-", run, s.Seed)
				t.Run(fmt.Sprintf("seed=%d", s.Seed), func(t *testing.T) {
					mu.Lock()
					defer mu.Unlock()
					r, violations := runOn(t, bin, s, tg, time.Now())
					tot.add(s, redrawn, r, len(violations))
					report(t, s, r, violations, "-tags interop -run TestInteropCampaign/"+rb.name+" -campaign.seed=%d -campaign.interop=1")
				})
			}
			t.Logf("%s: campaign from seed %d in %v: %s", rb.name, seed, time.Since(start).Round(time.Second), tot)
		})
	}
}
