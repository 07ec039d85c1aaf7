package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/fatih/color"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/failover"
)

// probeReport is the JSON form of a live failover-probe.
type probeReport struct {
	URI     string        `json:"uri"`
	Brokers []brokerProbe `json:"brokers"`
}

type brokerProbe struct {
	Broker    string  `json:"broker"`
	Up        bool    `json:"up"`
	DialMS    float64 `json:"tcp_ms"`
	ConnectMS float64 `json:"stomp_ms"`
	Version   string  `json:"version"`
	Server    string  `json:"server"`
	HeartBeat string  `json:"heart_beat"`
	Session   string  `json:"session"`
	Error     string  `json:"error"`
	refused   bool
}

// probeLive connects to every broker of u at once and reports each.
func (o *Options) probeLive(u *failover.URI) error {
	cfg, err := o.ClientConfig(false, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Opts.ConnectTimeout)
	defer cancel()
	report := probeReport{URI: u.String(), Brokers: make([]brokerProbe, len(u.Brokers))}
	var wg sync.WaitGroup
	for i, b := range u.Brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := client.Probe(ctx, cfg, b)
			p := brokerProbe{Broker: res.Broker, Up: res.Err == nil, DialMS: ms(res.Dial), ConnectMS: ms(res.Connect)}
			if res.Err != nil {
				p.Error = cmdutil.OneLine(res.Err.Error())
				var refused *client.RefusedError
				p.refused = errors.As(res.Err, &refused)
				if errors.Is(res.Err, context.DeadlineExceeded) {
					p.Error = "no answer within --connect-timeout " + o.Opts.ConnectTimeout.String()
				}
			} else {
				p.Version, p.Server, p.Session = res.Version.String(), res.Server, res.Session
				p.HeartBeat = res.HeartBeat.String()
			}
			report.Brokers[i] = p
		}()
	}
	wg.Wait()
	if o.output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(report); err != nil {
			return cmdutil.WithCode(cmdutil.ExitIOErr, err)
		}
	} else if err := o.printProbe(report); err != nil {
		return cmdutil.WithCode(cmdutil.ExitIOErr, err)
	}
	up, refused := 0, 0
	for _, p := range report.Brokers {
		if p.Up {
			up++
		} else if p.refused {
			refused++
		}
	}
	n := len(report.Brokers)
	switch {
	case up == n:
		return nil
	case refused == n:
		return cmdutil.WithCode(cmdutil.ExitNoPerm, fmt.Errorf("failover-probe: every broker refused the connection"))
	case up == 0:
		return cmdutil.WithCode(cmdutil.ExitUnavailable, fmt.Errorf("failover-probe: no broker is up"))
	}
	return cmdutil.WithCode(cmdutil.ExitTempFail, fmt.Errorf("failover-probe: %d of %d brokers down", n-up, n))
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func (o *Options) printProbe(r probeReport) error {
	head := o.OutColor(color.Bold)
	good := o.OutColor(color.FgGreen, color.Bold)
	bad := o.OutColor(color.FgRed, color.Bold)
	fmt.Fprintf(o.Out, "%s %s\n", head.Sprint("URI"), r.URI)
	rows := [][]string{{"", "BROKER", "TCP", "STOMP", "VERSION", "SERVER", "HEART-BEAT", "SESSION / ERROR"}}
	for _, p := range r.Brokers {
		if p.Up {
			rows = append(rows, []string{"up", p.Broker, fmtMS(p.DialMS) + "ms", fmtMS(p.ConnectMS) + "ms", p.Version, p.Server, p.HeartBeat, p.Session})
		} else {
			rows = append(rows, []string{"down", p.Broker, "", "", "", "", "", p.Error})
		}
	}
	return cmdutil.Table(o.Out, rows, func(r, c int, cell string) string {
		switch {
		case r == 0:
			return head.Sprint(cell)
		case c == 0 && cell == "up":
			return good.Sprint(cell)
		case c == 0:
			return bad.Sprint(cell)
		}
		return cell
	})
}

func fmtMS(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
