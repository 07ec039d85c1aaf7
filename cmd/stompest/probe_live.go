package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/fatih/color"

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
	DialMS    float64 `json:"tcp_connect_ms"`
	ConnectMS float64 `json:"connect_ms"`
	Version   string  `json:"version,omitempty"`
	Server    string  `json:"server,omitempty"`
	HeartBeat string  `json:"heart_beat,omitempty"`
	Session   string  `json:"session,omitempty"`
	Error     string  `json:"error,omitempty"`
	refused   bool
}

// probeLive connects to every broker of u at once and reports each.
func (a *app) probeLive(u *failover.URI, o probeOptions) error {
	cfg, err := a.clientConfig(false, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.ConnectTimeout)
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
				p.Error = oneLine(res.Err.Error())
				var refused *client.RefusedError
				p.refused = errors.As(res.Err, &refused)
				if errors.Is(res.Err, context.DeadlineExceeded) {
					p.Error = "no answer within --connect-timeout " + a.opts.ConnectTimeout.String()
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
		enc := json.NewEncoder(a.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(report); err != nil {
			return withCode(exitIOErr, err)
		}
	} else if err := a.printProbe(report); err != nil {
		return withCode(exitIOErr, err)
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
		return withCode(exitNoPerm, fmt.Errorf("failover-probe: every broker refused the connection"))
	case up == 0:
		return withCode(exitUnavailable, fmt.Errorf("failover-probe: no broker is up"))
	}
	return withCode(exitTempFail, fmt.Errorf("failover-probe: %d of %d brokers down", n-up, n))
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func (a *app) printProbe(r probeReport) error {
	head := a.outColor(color.Bold)
	good := a.outColor(color.FgGreen)
	bad := a.outColor(color.FgRed)
	fmt.Fprintf(a.Out, "%s %s\n", head.Sprint("URI"), r.URI)
	for _, p := range r.Brokers {
		if p.Up {
			fmt.Fprintf(a.Out, "%s %s  tcp %sms  connect %sms  STOMP %s  server %q  heart-beat %s  session %q\n",
				good.Sprint("up  "), p.Broker, fmtMS(p.DialMS), fmtMS(p.ConnectMS), p.Version, p.Server, p.HeartBeat, p.Session)
		} else {
			fmt.Fprintf(a.Out, "%s %s  %s\n", bad.Sprint("down"), p.Broker, p.Error)
		}
	}
	return nil
}

func fmtMS(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
