package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/stats"
)

func (o *Options) print(r report) error {
	switch o.output {
	case "json":
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	case "prometheus":
		return prometheus(o.Out, r)
	}
	_, err := fmt.Fprintln(o.Out, nagios(r))
	return err
}

// nagios is the plugin output: "STOMP STATE - summary | perfdata".
func nagios(r report) string {
	up := 0
	for _, b := range r.Brokers {
		if b.Up {
			up++
		}
	}
	summary := strings.Join(r.Problems, "; ")
	if summary == "" {
		summary = fmt.Sprintf("%d of %s up", up, cmdutil.Count(len(r.Brokers), "broker"))
	}
	var perf []string
	many := len(r.Brokers) > 1
	label := func(what, broker, dest string) string {
		l := what
		if dest != "" {
			l += " " + dest
		}
		if many {
			l += " " + broker
		}
		return "'" + strings.ReplaceAll(l, "'", "''") + "'"
	}
	for _, b := range r.Brokers {
		if !b.Up {
			continue
		}
		perf = append(perf, fmt.Sprintf("%s=%sms;;;0", label("connect", b.Broker, ""), num(b.ConnectMS)))
		if b.CanaryMS != nil {
			perf = append(perf, fmt.Sprintf("%s=%sms;;;0", label("canary", b.Broker, ""), num(*b.CanaryMS)))
		}
		for i, t := range r.plan.thresholds {
			what := "depth"
			if i >= r.plan.depths {
				what = "consumers"
			}
			for _, f := range b.Destinations {
				n := f.Depth
				if what == "consumers" {
					n = f.Consumers
				}
				if n != nil && stats.Match(t.dest, f.Destination) {
					perf = append(perf, fmt.Sprintf("%s=%d;%s;0", label(what, b.Broker, f.Destination), *n, t.levels()))
				}
			}
		}
	}
	line := "STOMP " + r.Status + " - " + cmdutil.OneLine(summary)
	if len(perf) > 0 {
		line += " | " + strings.Join(perf, " ")
	}
	return line
}

// prometheus writes the text exposition format.
func prometheus(w io.Writer, r report) error {
	var b strings.Builder
	metric := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	metric("stompest_check_status", "The state of the check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")
	fmt.Fprintf(&b, "stompest_check_status %d\n", r.Code)
	metric("stompest_check_up", "Whether the broker answered CONNECT (1) or not (0).")
	for _, br := range r.Brokers {
		fmt.Fprintf(&b, "stompest_check_up{broker=%s} %d\n", quote(br.Broker), boolInt(br.Up))
	}
	metric("stompest_check_connect_seconds", "From dialling to CONNECTED.")
	for _, br := range r.Brokers {
		if br.Up {
			fmt.Fprintf(&b, "stompest_check_connect_seconds{broker=%s} %s\n", quote(br.Broker), seconds(br.ConnectMS))
		}
	}
	metric("stompest_check_canary_seconds", "The round trip of one message through a private destination.")
	for _, br := range r.Brokers {
		if br.CanaryMS != nil {
			fmt.Fprintf(&b, "stompest_check_canary_seconds{broker=%s} %s\n", quote(br.Broker), seconds(*br.CanaryMS))
		}
	}
	metric("stompest_check_cert_expiry_timestamp_seconds", "When the broker's TLS certificate expires (Unix time).")
	for _, br := range r.Brokers {
		if br.CertExpires != nil {
			fmt.Fprintf(&b, "stompest_check_cert_expiry_timestamp_seconds{broker=%s} %d\n", quote(br.Broker), br.CertExpires.Unix())
		}
	}
	metric("stompest_check_depth", "Messages a destination holds.")
	each(&b, r, "stompest_check_depth", func(f stats.Figures) *int64 { return f.Depth })
	metric("stompest_check_consumers", "Consumers of a destination.")
	each(&b, r, "stompest_check_consumers", func(f stats.Figures) *int64 { return f.Consumers })
	_, err := io.WriteString(w, b.String())
	return err
}

func each(b *strings.Builder, r report, name string, figure func(stats.Figures) *int64) {
	for _, br := range r.Brokers {
		for _, f := range br.Destinations {
			if n := figure(f); n != nil {
				fmt.Fprintf(b, "%s{broker=%s,destination=%s} %d\n", name, quote(br.Broker), quote(f.Destination), *n)
			}
		}
	}
}

// quote is a Prometheus label value.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// seconds writes milliseconds as seconds, to the microsecond they were
// measured in.
func seconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'g', 6, 64) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
