package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stompest/stompest/internal/broker"
	"github.com/stompest/stompest/internal/cli/cmdutil"
)

// TestRecordAndReplay records three messages with subscribe --record and
// replays a recording whose gaps are 400 ms at --speed 2: the replay
// cannot end before 400 ms (the sum of the halved gaps), and the messages
// arrive in the recorded order with their headers.
func TestRecordAndReplay(t *testing.T) {
	b := broker.New(broker.Config{Addr: "127.0.0.1:0"})
	serve(t, b, false)
	var out, errOut bytes.Buffer
	s := cmdutil.Streams{In: strings.NewReader("a\nb\nc\n"), Out: &out, ErrOut: &errOut}
	if code := run([]string{"send", "/queue/rec", "--lines", "-H", "k:v"}, s, nil); code != 0 {
		t.Fatalf("send: exit %d: %s", code, errOut.String())
	}
	before := time.Now().UTC()
	if code := run([]string{"subscribe", "/queue/rec", "--count", "3", "-o", "jsonl", "--record"}, s, nil); code != 0 {
		t.Fatalf("subscribe: exit %d: %s", code, errOut.String())
	}
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3:\n%s", len(recs), out.String())
	}
	last := before
	for _, r := range recs {
		at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["received_at"]))
		if err != nil || at.Before(last) || at.Location() != time.UTC || len(fmt.Sprint(r["received_at"])) != len("2006-01-02T15:04:05.000000000Z") {
			t.Errorf("received_at %v (%v): want a UTC time with nine fraction digits, not before %v", r["received_at"], err, last)
		}
		last = at
	}

	// A recording with gaps of 200 ms and 600 ms, replayed twice as fast.
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var rec strings.Builder
	for i, gap := range []time.Duration{0, 200 * time.Millisecond, 800 * time.Millisecond} {
		fmt.Fprintf(&rec, `{"destination":"/queue/replayed","headers":{"n":"%d"},"body":"m%d","received_at":"%s"}`+"\n", i, i, t0.Add(gap).Format(time.RFC3339Nano))
	}
	out.Reset()
	s.In = strings.NewReader(rec.String())
	start := time.Now()
	if code := run([]string{"send", "--input", "jsonl", "--replay", "--speed", "2"}, s, nil); code != 0 {
		t.Fatalf("send --replay: exit %d: %s", code, errOut.String())
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("the replay took %v: its gaps (400 ms in all at speed 2) were not kept", took)
	}
	if code := run([]string{"subscribe", "/queue/replayed", "--count", "3", "--format", `{{.body}} {{index .headers "n"}}\n`}, s, nil); code != 0 {
		t.Fatalf("subscribe: exit %d: %s", code, errOut.String())
	}
	if got, want := out.String(), "m0 0\nm1 1\nm2 2\n"; got != want {
		t.Errorf("replayed %q, want %q", got, want)
	}
}
