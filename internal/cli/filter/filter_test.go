package filter

import (
	"strings"
	"testing"

	"github.com/stompest/stompest/internal/protocol"
)

func msg(body string, kv ...string) *protocol.Frame {
	f := protocol.NewFrame(protocol.CmdMessage, append([]string{"destination", "/queue/orders"}, kv...)...)
	f.Body = []byte(body)
	return f
}

func TestMatch(t *testing.T) {
	t.Parallel()
	order := msg(`{"amount": 150, "customer": {"name": "acme"}, "tags": ["eu", "vip"]}`, "order-id", "42", "order-id", "43")
	plain := msg("not json", "order-id", "42")
	for _, c := range []struct {
		src         string
		order, text bool
	}{
		{`headers["order-id"] == "42" && body.amount > 100`, true, false},
		{`headers["order-id"] == "43"`, false, false}, // a repeated header: the first value
		{`headers["order-id"] == "42"`, true, true},
		{`headers.missing == "" && !("missing" in headers) && "order-id" in headers`, true, true},
		{`body.amount == 150`, true, false},
		{`body.amount >= 150.5`, false, false},
		{`body.customer.name startsWith "ac"`, true, false},
		{`"vip" in body.tags`, true, false},
		{`body == nil`, false, true},
		{`(body?.amount ?? 0) > 100`, true, false},
		{`text contains "json"`, false, true},
		{`destination == "/queue/orders"`, true, true},
		{`body.missing > 1`, false, false}, // nil > 1 fails: no match
	} {
		f, err := Compile(c.src)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		if got := f.Match(order); got != c.order {
			t.Errorf("%q on the JSON order: %v, want %v (%v)", c.src, got, c.order, f.LastErr)
		}
		if got := f.Match(plain); got != c.text {
			t.Errorf("%q on a text body: %v, want %v (%v)", c.src, got, c.text, f.LastErr)
		}
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	f, err := Compile(`body.amount > 100`)
	if err != nil {
		t.Fatal(err)
	}
	if f.Match(msg("[1, 2]")) || f.Failures != 1 || f.LastErr == nil || strings.Contains(f.LastErr.Error(), "\n") {
		t.Errorf("a failed evaluation: failures %d, error %v", f.Failures, f.LastErr)
	}
	g := f.Clone()
	if !g.Match(msg(`{"amount": 101}`)) || g.Failures != 0 {
		t.Errorf("clone: failures %d", g.Failures)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`headers["a"] == && true`: "at column 17",
		`headers["a"] == "1" &&`:  "at column",
		`colour == "red"`:         "unknown name colour at column 1",
		`headers["a"]`:            "expected bool",
		`body.amount +`:           "at column",
		"   ":                     "empty expression",
		"true &&\n(":              "at line 2, column",
	} {
		_, err := Compile(src)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "--filter: ") {
			t.Errorf("Compile(%q) = %v, want one line with %q", src, err, want)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, c := range []struct{ name, src, body string }{
		{"header", `headers["order-id"] == "42"`, `{"amount": 150}`},
		{"json-body", `headers["order-id"] == "42" && body.amount > 100`, `{"amount": 150, "customer": "acme", "lines": [1, 2, 3]}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			f, err := Compile(c.src)
			if err != nil {
				b.Fatal(err)
			}
			m := msg(c.body, "order-id", "42", "priority", "4", "message-id", "ID:1", "subscription", "0")
			b.ReportAllocs()
			for b.Loop() {
				if !f.Match(m) {
					b.Fatal("no match")
				}
			}
		})
	}
}
