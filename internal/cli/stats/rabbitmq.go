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
		Publish      *int64 `json:"publish"`
		Ack          *int64 `json:"ack"`
		DeliverNoAck *int64 `json:"deliver_no_ack"`
		GetNoAck     *int64 `json:"get_no_ack"`
	} `json:"message_stats"`
}

// Stat reads the queues that patterns name: one by one when every
// pattern names one queue (/queue/NAME or /amq/queue/NAME; their figures
// are then current), else from the list of the virtual host's queues,
// kept where they match. A queue is named as a STOMP client sends to it:
// /queue/NAME.
func (r *Rabbit) Stat(ctx context.Context, patterns []string) ([]Figures, error) {
	vhost := r.VHost
	if vhost == "" {
		vhost = "/"
	}
	base := strings.TrimRight(r.Base, "/") + "/api/queues/" + url.PathEscape(vhost)
	names := make([]string, 0, len(patterns))
	for _, p := range patterns {
		name, ok := queueName(p)
		if !ok || IsGlob(p) {
			names = nil
			break
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		var queues []rabbitQueue
		if err := r.get(ctx, base+"?columns=name,messages,consumers,head_message_timestamp,message_stats", vhost, &queues); err != nil {
			return nil, err
		}
		all := make([]Figures, 0, len(queues))
		for _, q := range queues {
			all = append(all, q.figures())
		}
		return selected(all, patterns, r.Channel())
	}
	out := make([]Figures, 0, len(names))
	for i, name := range names {
		var q rabbitQueue
		err := r.get(ctx, base+"/"+url.PathEscape(name), vhost, &q)
		if errors.Is(err, errNotFound) {
			return nil, &UnknownError{Destination: patterns[i], Channel: r.Channel()}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, q.figures())
	}
	return out, nil
}

// queueName is the RabbitMQ queue a STOMP destination names.
func queueName(dest string) (string, bool) {
	for _, prefix := range []string{"/queue/", "/amq/queue/"} {
		if name, ok := strings.CutPrefix(dest, prefix); ok && name != "" {
			return name, true
		}
	}
	return "", false
}

var errNotFound = errors.New("not found")

// get reads one answer of the API into v.
func (r *Rabbit) get(ctx context.Context, u, vhost string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Channel(), err)
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
		return &ChannelError{Channel: r.Channel(), Err: err, Hint: "is the rabbitmq_management plugin enabled? (rabbitmq-plugins enable rabbitmq_management; --mgmt-url names another address)"}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return &ChannelError{Channel: r.Channel(), Err: fmt.Errorf("%s", resp.Status), Hint: "the user needs the management (or monitoring) tag", Refused: true}
	case http.StatusNotFound:
		if strings.Contains(u, "?") { // the list of the virtual host: it is unknown
			return &ChannelError{Channel: r.Channel(), Err: fmt.Errorf("virtual host %q: %s", vhost, resp.Status)}
		}
		return errNotFound
	default:
		return &ChannelError{Channel: r.Channel(), Err: fmt.Errorf("%s", resp.Status)}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return &ChannelError{Channel: r.Channel(), Err: fmt.Errorf("unreadable answer: %v", err)}
	}
	return nil
}

// figures are what stat shows of a queue.
func (q rabbitQueue) figures() Figures {
	f := Figures{Destination: "/queue/" + q.Name, Depth: q.Messages, Consumers: q.Consumers}
	if ms := q.MessageStats; ms != nil {
		// The API leaves out a counter that never moved. A message leaves
		// the queue when it is acknowledged, or when it is delivered to
		// a consumer that does not acknowledge (deliver_get would count
		// redeliveries too).
		n := func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		}
		f.Enqueued = ptr(n(ms.Publish))
		f.Dequeued = ptr(n(ms.Ack) + n(ms.DeliverNoAck) + n(ms.GetNoAck))
	}
	if q.HeadTS != nil && *q.HeadTS > 0 {
		// The AMQP timestamp property of the head message, in seconds.
		f.OldestMS = ptr(max(0, time.Since(time.Unix(*q.HeadTS, 0)).Milliseconds()))
	}
	return f
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
