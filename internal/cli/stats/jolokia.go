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

// Jolokia reads ActiveMQ's MBeans through Jolokia, the JMX-over-HTTP
// agent of its web console (http://host:8161/api/jolokia, the console's
// login in the URL): the channel where the statistics plugin is off.
type Jolokia struct {
	URL    string // with user:password@ where the console asks for a login
	Client *http.Client
}

// Channel names the channel, without the password.
func (j *Jolokia) Channel() string {
	u, err := url.Parse(j.URL)
	if err != nil {
		return "Jolokia"
	}
	u.User = nil
	return "Jolokia at " + u.String()
}

// jolokiaAttributes are the destination MBean attributes stat reads.
const jolokiaAttributes = "QueueSize,ConsumerCount,EnqueueCount,DequeueCount"

// Stat reads every queue's and topic's MBean and keeps those that match.
func (j *Jolokia) Stat(ctx context.Context, patterns []string) ([]Figures, error) {
	var all []Figures
	for _, kind := range []string{"Queue", "Topic"} {
		mbean := "org.apache.activemq:type=Broker,brokerName=*,destinationType=" + kind + ",destinationName=*"
		figs, err := j.read(ctx, mbean)
		if err != nil {
			return nil, err
		}
		all = append(all, figs...)
	}
	return selected(all, patterns, j.Channel())
}

// read asks for the attributes of the MBeans that match pattern.
func (j *Jolokia) read(ctx context.Context, pattern string) ([]Figures, error) {
	base, err := url.Parse(strings.TrimRight(j.URL, "/"))
	if err != nil {
		return nil, &ChannelError{Channel: j.Channel(), Err: err}
	}
	user := base.User
	base.User = nil
	// Jolokia's GET form: /read/MBEAN/ATTRIBUTES, a slash in a name as !/.
	u := base.String() + "/read/" + strings.ReplaceAll(pattern, "/", "!/") + "/" + jolokiaAttributes + "?ignoreErrors=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &ChannelError{Channel: j.Channel(), Err: err}
	}
	if user != nil {
		pass, _ := user.Password()
		req.SetBasicAuth(user.Username(), pass)
	}
	client := j.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &ChannelError{Channel: j.Channel(), Err: err, Hint: "is ActiveMQ's web console running? (--jolokia http://user:password@host:8161/api/jolokia)"}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, &ChannelError{Channel: j.Channel(), Err: fmt.Errorf("%s", resp.Status), Hint: "give the web console's login in the URL: http://user:password@host:8161/api/jolokia", Refused: true}
	default:
		return nil, &ChannelError{Channel: j.Channel(), Err: fmt.Errorf("%s", resp.Status)}
	}
	var answer struct {
		Status int                        `json:"status"`
		Error  string                     `json:"error"`
		Value  map[string]json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&answer); err != nil {
		return nil, &ChannelError{Channel: j.Channel(), Err: fmt.Errorf("unreadable answer: %v", err)}
	}
	switch {
	case answer.Status == http.StatusNotFound:
		return nil, nil // no MBean matches: no destination of that kind
	case answer.Status != http.StatusOK:
		return nil, &ChannelError{Channel: j.Channel(), Err: fmt.Errorf("status %d: %s", answer.Status, answer.Error)}
	}
	var figs []Figures
	for name, raw := range answer.Value {
		dest, ok := mbeanDestination(name)
		if !ok {
			continue
		}
		var attrs struct {
			QueueSize, ConsumerCount, EnqueueCount, DequeueCount *int64
		}
		if json.Unmarshal(raw, &attrs) != nil {
			continue
		}
		figs = append(figs, Figures{Destination: dest, Depth: attrs.QueueSize, Consumers: attrs.ConsumerCount,
			Enqueued: attrs.EnqueueCount, Dequeued: attrs.DequeueCount})
	}
	return figs, nil
}

// mbeanDestination is the STOMP destination of a destination MBean's
// name ("org.apache.activemq:brokerName=b,destinationName=orders,
// destinationType=Queue,type=Broker" is /queue/orders); ok is false for
// the ones stat does not show (advisory topics, temporary destinations).
func mbeanDestination(name string) (string, bool) {
	_, props, _ := strings.Cut(name, ":")
	var dest, kind string
	for _, kv := range strings.Split(props, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "destinationName":
			dest = v
		case "destinationType":
			kind = v
		}
	}
	switch {
	case dest == "" || strings.HasPrefix(dest, "ActiveMQ.Advisory.") || strings.HasPrefix(dest, "ActiveMQ.Statistics."):
		return "", false
	case kind == "Queue":
		return "/queue/" + dest, true
	case kind == "Topic":
		return "/topic/" + dest, true
	}
	return "", false
}
