package client

import (
	"context"
	"time"

	"github.com/stompest/stompest/internal/failover"
	"github.com/stompest/stompest/internal/protocol"
)

// ProbeResult is what one broker answered to a probe.
type ProbeResult struct {
	Broker    string
	Dial      time.Duration // TCP (and TLS) connect
	Connect   time.Duration // CONNECT to CONNECTED
	Version   protocol.Version
	Server    string
	Session   string
	HeartBeat protocol.HeartBeatSpec // the broker's sx, sy
	Err       error
}

// Probe connects once to broker b with cfg's credentials and options,
// measures the TCP connect and the CONNECT exchange, and disconnects. It
// never retries and never fails over; cfg.URI is ignored.
func Probe(ctx context.Context, cfg Config, b failover.Broker) ProbeResult {
	res := ProbeResult{Broker: b.String()}
	if cfg.ConnectedTimeout <= 0 {
		cfg.ConnectedTimeout = DefaultConnectedTimeout
	}
	if cfg.ReceiptTimeout <= 0 {
		cfg.ReceiptTimeout = DefaultReceiptTimeout
	}
	if len(cfg.Versions) == 0 {
		cfg.Versions = protocol.Versions
	}
	// A probe traces nothing, hands nothing over and reports no link.
	cfg.Trace, cfg.Batches, cfg.Buffer, cfg.OnLink = nil, false, 1, nil
	c := newClient(cfg)
	start := time.Now()
	conn, err := c.dial(ctx, b)
	res.Dial = time.Since(start)
	if err != nil {
		res.Err = err
		return res
	}
	start = time.Now()
	if err := c.handshakeOn(ctx, conn, b); err != nil {
		res.Err = err
		return res
	}
	res.Connect = time.Since(start)
	res.Version = c.sess.Version()
	res.Server = c.sess.Server()
	res.Session = c.sess.ID()
	res.HeartBeat = c.sess.ServerHeartBeat()
	c.start()
	c.Disconnect(ctx)
	return res
}
