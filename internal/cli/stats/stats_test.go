package stats

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"/queue/orders.*", "/queue/orders.eu", true},
		{"/queue/orders.*", "/queue/orders", false},
		{"/queue/*", "/queue/a.b", true},
		{"/queue/*", "/topic/a", false},
		{"/queue/orders", "/queue/orders", true},
		{"/*/a", "/topic/a", true},
	} {
		if got := Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
	if ValidPattern("/queue/[") == nil {
		t.Error("a malformed glob is valid")
	}
}

func TestSelected(t *testing.T) {
	t.Parallel()
	all := []Figures{{Destination: "/queue/a"}, {Destination: "/queue/b.1"}, {Destination: "/queue/b.2"}}
	got, err := selected(all, []string{"/queue/b.*"}, "ch")
	if err != nil || len(got) != 2 {
		t.Errorf("glob: %v %v", got, err)
	}
	if got, err := selected(all, []string{"/queue/z.*"}, "ch"); err != nil || len(got) != 0 {
		t.Errorf("a glob matching nothing: %v %v", got, err)
	}
	var ue *UnknownError
	if _, err := selected(all, []string{"/queue/a", "/queue/zz"}, "ch"); !errors.As(err, &ue) || ue.Destination != "/queue/zz" {
		t.Errorf("an unknown name: %v", err)
	}
}

func TestMapJSON(t *testing.T) {
	t.Parallel()
	body := `{"map":{"entry":[{"string":"size","long":3},{"string":"consumerCount","long":1},` +
		`{"string":["destinationName","queue://orders.eu"]},{"string":"averageEnqueueTime","double":1.5}]}}`
	m, err := mapJSON([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if m["size"] != "3" || m["consumerCount"] != "1" || m["destinationName"] != "queue://orders.eu" || m["averageEnqueueTime"] != "1.5" {
		t.Errorf("fields %v", m)
	}
	f, ok := figuresOf(m)
	if !ok || f.Destination != "/queue/orders.eu" || *f.Depth != 3 || *f.Consumers != 1 || f.Enqueued != nil {
		t.Errorf("figures %+v %v", f, ok)
	}
	one, err := mapJSON([]byte(`{"map":{"entry":{"string":["brokerName","b"]}}}`))
	if err != nil || one["brokerName"] != "b" {
		t.Errorf("one entry: %v %v", one, err)
	}
	if m, err := mapJSON([]byte(`{"map":""}`)); err != nil || len(m) != 0 {
		t.Errorf("an empty map: %v %v", m, err)
	}
	if _, err := mapJSON([]byte(`not json`)); err == nil {
		t.Error("a body that is not JSON is a map")
	}
	for _, name := range []string{"temp-queue://ID:x", "topic://ActiveMQ.Advisory.Queue", "queue://ActiveMQ.Statistics.Destination.x", ""} {
		if _, ok := figuresOf(map[string]string{"destinationName": name}); ok {
			t.Errorf("%q is shown", name)
		}
	}
}

func TestRabbit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "guest" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.EscapedPath() != "/api/queues/%2F" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Write([]byte(`[{"name":"idle","messages":0,"consumers":0},{"name":"jobs","messages":7,"consumers":2,"message_stats":{"publish":10,"ack":2,"deliver_no_ack":1,"deliver_get":9}}]`))
	}))
	defer srv.Close()
	r := &Rabbit{Base: srv.URL, User: "guest", Password: "secret"}
	figs, err := r.Stat(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 2 || figs[1].Destination != "/queue/jobs" || *figs[1].Depth != 7 || *figs[1].Consumers != 2 ||
		*figs[1].Enqueued != 10 || *figs[1].Dequeued != 3 || figs[1].OldestMS != nil || figs[0].Enqueued != nil {
		t.Errorf("figures %+v", figs)
	}
	var ce *ChannelError
	r.Password = "wrong"
	if _, err := r.Stat(context.Background(), nil); !errors.As(err, &ce) || !ce.Refused {
		t.Errorf("a refused login: %v", err)
	}
	r.Password, r.VHost = "secret", "other"
	if _, err := r.Stat(context.Background(), nil); !errors.As(err, &ce) || ce.Refused {
		t.Errorf("an unknown vhost: %v", err)
	}
	dead := &Rabbit{Base: "http://127.0.0.1:1"}
	if _, err := dead.Stat(context.Background(), nil); !errors.As(err, &ce) || ce.Hint == "" {
		t.Errorf("no API: %v", err)
	}
}

// fixed is a source of given figures.
type fixed []Figures

func (f fixed) Channel() string { return "fixed" }
func (f fixed) Stat(_ context.Context, patterns []string) ([]Figures, error) {
	return selected(f, patterns, "fixed")
}

func TestStatKnown(t *testing.T) {
	t.Parallel()
	src := fixed{{Destination: "/queue/a", Depth: ptr(3)}, {Destination: "/queue/b.1", Depth: ptr(1)}}
	figs, unknown, err := StatKnown(context.Background(), src, []string{"/queue/a", "/queue/*", "/queue/gone"})
	if err != nil || len(unknown) != 1 || unknown[0] != "/queue/gone" || len(figs) != 3 {
		t.Fatalf("figures %+v, unknown %v, %v", figs, unknown, err)
	}
	if g := figs[2]; g.Destination != "/queue/gone" || *g.Depth != 0 || *g.Consumers != 0 {
		t.Errorf("an unknown queue: %+v", g)
	}
}

// TestJolokia reads destination MBeans as Jolokia answers a read of a
// wildcard pattern (ActiveMQ 5.x, /api/jolokia).
func TestJolokia(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "admin" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch {
		case strings.Contains(r.URL.Path, "destinationType=Queue") && strings.HasSuffix(r.URL.Path, "/QueueSize,ConsumerCount,EnqueueCount,DequeueCount"):
			w.Write([]byte(`{"request":{"type":"read"},"status":200,"value":{` +
				`"org.apache.activemq:brokerName=mq,destinationName=orders,destinationType=Queue,type=Broker":{"QueueSize":4,"ConsumerCount":1,"EnqueueCount":9,"DequeueCount":5},` +
				`"org.apache.activemq:brokerName=mq,destinationName=ActiveMQ.DLQ,destinationType=Queue,type=Broker":{"QueueSize":2,"ConsumerCount":0,"EnqueueCount":2,"DequeueCount":0}}}`))
		case strings.Contains(r.URL.Path, "destinationType=Topic"):
			w.Write([]byte(`{"request":{"type":"read"},"status":200,"value":{` +
				`"org.apache.activemq:brokerName=mq,destinationName=ActiveMQ.Advisory.Queue,destinationType=Topic,type=Broker":{"QueueSize":0,"ConsumerCount":0,"EnqueueCount":1,"DequeueCount":0},` +
				`"org.apache.activemq:brokerName=mq,destinationName=prices,destinationType=Topic,type=Broker":{"QueueSize":0,"ConsumerCount":3,"EnqueueCount":7,"DequeueCount":21}}}`))
		default:
			w.Write([]byte(`{"status":404,"error":"javax.management.InstanceNotFoundException"}`))
		}
	}))
	defer srv.Close()
	j := &Jolokia{URL: strings.Replace(srv.URL, "http://", "http://admin:secret@", 1) + "/api/jolokia"}
	if strings.Contains(j.Channel(), "secret") {
		t.Errorf("the channel's name shows the password: %s", j.Channel())
	}
	figs, err := j.Stat(context.Background(), []string{"/queue/orders", "/topic/*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 2 || figs[0].Destination != "/queue/orders" || *figs[0].Depth != 4 || *figs[0].Consumers != 1 ||
		*figs[0].Enqueued != 9 || *figs[0].Dequeued != 5 || figs[1].Destination != "/topic/prices" || *figs[1].Consumers != 3 {
		t.Errorf("figures %+v", figs)
	}
	var ue *UnknownError
	if _, err := j.Stat(context.Background(), []string{"/queue/nope"}); !errors.As(err, &ue) {
		t.Errorf("an unknown queue: %v", err)
	}
	j.URL = srv.URL + "/api/jolokia"
	var ce *ChannelError
	if _, err := j.Stat(context.Background(), nil); !errors.As(err, &ce) || !ce.Refused {
		t.Errorf("no login: %v", err)
	}
	if d, ok := mbeanDestination("org.apache.activemq:brokerName=b,destinationName=a.b,destinationType=Queue,type=Broker"); !ok || d != "/queue/a.b" {
		t.Errorf("mbeanDestination: %q %v", d, ok)
	}
}
