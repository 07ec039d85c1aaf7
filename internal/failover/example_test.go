package failover_test

import (
	"fmt"

	"github.com/stompest/stompest/internal/failover"
)

func ExampleParse() {
	u, err := failover.Parse("failover:(tcp://a:61613,ssl://[::1]:61614)?randomize=false,maxReconnectAttempts=3,backup=true")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u.Failover, u.Brokers[1].TLS(), u.Brokers[1].Addr())
	fmt.Println(u)
	fmt.Println(u.Warnings)

	_, err = failover.Parse("failover:(tcp://a:61613)?randomise=false")
	fmt.Println(err)
	// Output:
	// true true [::1]:61614
	// failover:(tcp://a:61613,ssl://[::1]:61614)?maxReconnectAttempts=3&randomize=false
	// [failover option backup is ignored: it means nothing to a STOMP client]
	// unknown failover option randomise (did you mean randomize?)
}

func ExampleURI_Startup() {
	u, _ := failover.Parse("failover:(tcp://a:1,tcp://b:2)?randomize=false&startupMaxReconnectAttempts=3")
	s := u.Startup(nil, nil) // no randomness needed: randomize=false, no jitter
	for a := range s.All() {
		fmt.Println(a.Number, a.Broker, a.Delay)
	}
	// Output:
	// 1 tcp://a:1 0s
	// 2 tcp://b:2 10ms
	// 3 tcp://a:1 20ms
	// 4 tcp://b:2 40ms
}
