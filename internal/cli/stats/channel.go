package stats

import (
	"fmt"
	"net/url"

	"github.com/stompest/stompest/internal/cli/dialect"
	"github.com/stompest/stompest/internal/client"
)

// Login is what an HTTP channel logs in with, and where it is.
type Login struct {
	MgmtURL  string // RabbitMQ's management API; "" for the broker's host, port 15672
	User     string // "" for the broker URI's user, else RabbitMQ's guest
	Password string
	VHost    string
	Jolokia  string // ActiveMQ's Jolokia URL: read there, whatever the broker
}

// For returns the statistics channel of the broker c is connected to,
// picked by the server header of its CONNECTED frame.
func For(c *client.Client, l Login) (Source, error) {
	if l.Jolokia != "" {
		return &Jolokia{URL: l.Jolokia}, nil
	}
	server, _ := c.Server()
	switch dialect.Of(server) {
	case dialect.Stompest:
		return &Plugin{C: c, Name: "the embedded broker", Hint: "a stompest broker older than its statistics destinations"}, nil
	case dialect.ActiveMQ:
		return &Plugin{C: c, MapJSON: true, Name: "ActiveMQ",
			Hint: "enable its statistics plugin (<plugins><statisticsBrokerPlugin/></plugins> in the <broker> of activemq.xml), or read its web console's Jolokia with --jolokia URL"}, nil
	case dialect.RabbitMQ:
		broker, err := url.Parse(c.Broker())
		if err != nil {
			return nil, err
		}
		base := l.MgmtURL
		if base == "" {
			base = "http://" + broker.Hostname() + ":15672"
		}
		user, pass := l.User, l.Password
		if user == "" && broker.User != nil {
			user = broker.User.Username()
			pass, _ = broker.User.Password()
		}
		if user == "" {
			user, pass = "guest", "guest" // RabbitMQ's default, as its STOMP adapter's
		}
		return &Rabbit{Base: base, VHost: l.VHost, User: user, Password: pass}, nil
	}
	return nil, &ChannelError{Channel: c.Broker(), Err: fmt.Errorf("server %q: no statistics channel known for this broker", server),
		Hint: "stat reads the embedded broker, ActiveMQ (statistics plugin) and RabbitMQ (management API)"}
}
