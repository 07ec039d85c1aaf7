package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Rabbit reads RabbitMQ's management HTTP API (the rabbitmq_management
// plugin): GET /api/queues/{vhost}, with the STOMP login. Its figures are
// as fresh as the plugin's collection interval (5 s by default).
type Rabbit struct {
	Base     string // http://host:15672
	VHost    string // "/" by default
	User     string
	Password string
	Client   *http.Client
}

// Channel names the channel.
func (r *Rabbit) Channel() string { return "RabbitMQ management API at " + r.Base }

// rabbitQueue is what stat reads of a queue in the management API.
type rabbitQueue struct {
	Name         string `json:"name"`
	Messages     *int64 `json:"messages"`
	Consumers    *int64 `json:"consumers"`
	HeadTS       *int64 `json:"head_message_timestamp"`
	MessageStats *struct {
		Publish    *int64 `json:"publish"`
		DeliverGet *int64 `json:"deliver_get"`
	} `json:"message_stats"`
}

// Stat lists the queues of the virtual host and keeps those that match.
// A queue is named as a STOMP client sends to it: /queue/NAME.
func (r *Rabbit) Stat(ctx context.Context, patterns []string) ([]Figures, error) {
	vhost := r.VHost
	if vhost == "" {
		vhost = "/"
	}
	u := strings.TrimRight(r.Base, "/") + "/api/queues/" + url.PathEscape(vhost) +
		"?columns=name,messages,consumers,head_message_timestamp,message_stats.publish,message_stats.deliver_get"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Channel(), err)
	}
	req.SetBasicAuth(r.User, r.Password)
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &ChannelError{Channel: r.Channel(), Err: err, Hint: "is the rabbitmq_management plugin enabled? (rabbitmq-plugins enable rabbitmq_management; --mgmt-url names another address)"}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, &ChannelError{Channel: r.Channel(), Err: fmt.Errorf("%s", resp.Status), Hint: "the user needs the management (or monitoring) tag", Refused: true}
	case http.StatusNotFound:
		return nil, &ChannelError{Channel: r.Channel(), Err: fmt.Errorf("virtual host %q: %s", vhost, resp.Status)}
	default:
		return nil, &ChannelError{Channel: r.Channel(), Err: fmt.Errorf("%s", resp.Status)}
	}
	var queues []rabbitQueue
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&queues); err != nil {
		return nil, &ChannelError{Channel: r.Channel(), Err: fmt.Errorf("unreadable answer: %v", err)}
	}
	now := time.Now()
	all := make([]Figures, 0, len(queues))
	for _, q := range queues {
		f := Figures{Destination: "/queue/" + q.Name, Depth: q.Messages, Consumers: q.Consumers}
		if q.MessageStats != nil {
			f.Enqueued, f.Dequeued = q.MessageStats.Publish, q.MessageStats.DeliverGet
		}
		if q.HeadTS != nil && *q.HeadTS > 0 {
			// The AMQP timestamp property of the head message, in seconds.
			f.OldestMS = ptr(max(0, now.Sub(time.Unix(*q.HeadTS, 0)).Milliseconds()))
		}
		all = append(all, f)
	}
	return selected(all, patterns, r.Channel())
}

// ChannelError is a statistics channel that could not be used: not
// reachable, refused, or switched off on the broker. Hint says what to do.
type ChannelError struct {
	Channel string
	Err     error
	Hint    string
	Refused bool // the broker refused the login
}

func (e *ChannelError) Error() string {
	s := e.Channel + ": " + e.Err.Error()
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *ChannelError) Unwrap() error { return e.Err }
