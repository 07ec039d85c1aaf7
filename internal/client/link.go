package client

import (
	"context"
	"strconv"
)

// LinkState is the state of a Client's connection to its broker.
type LinkState uint8

// The states of a link. A client without Config.Reconnect goes from
// LinkUp to LinkClosed; with it, every loss is LinkReconnecting until the
// connection is back (LinkUp) or the reconnect policy gave up
// (LinkClosed).
const (
	LinkConnecting   LinkState = iota // the first connect, inside Dial
	LinkUp                            // connected: frames flow and the subscriptions are in place
	LinkReconnecting                  // the connection was lost; the failover schedule is being walked
	LinkClosed                        // the client ended (Done is closed)
)

// String returns the state's name in lower case ("reconnecting").
func (s LinkState) String() string {
	switch s {
	case LinkConnecting:
		return "connecting"
	case LinkUp:
		return "up"
	case LinkReconnecting:
		return "reconnecting"
	case LinkClosed:
		return "closed"
	}
	return "link(" + strconv.Itoa(int(s)) + ")"
}

// LinkEvent is a change of a Client's link, as Config.OnLink receives it.
//
// OnLink is called in order, once per change, from the goroutine that made
// the change (inside Dial for the first LinkUp, then the client's reader
// goroutine). It must return quickly and must not call the Client's
// methods that wait (WaitReceipt, Subscribe, Commit, Disconnect, ...);
// sending the event on a buffered channel is the usual way out. A
// consumer's idle timer, for one, should stop at LinkReconnecting and
// start again at LinkUp: while the client reconnects the broker cannot
// deliver anything.
type LinkEvent struct {
	State  LinkState
	Broker string // the broker connected to (LinkUp) or lost (LinkReconnecting), as scheme://host:port
	Conn   uint64 // the connection's number: 1 for the first, one more at every reconnect
	Err    error  // why the link was lost (LinkReconnecting) or the client ended (LinkClosed; nil after a clean end)
}

// Link returns the state of the client's link and the number of the
// current (or last) connection: 1 for the first, one more at every
// reconnect. Only LinkUp means that frames can be sent now.
func (c *Client) Link() (LinkState, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link, c.gen
}

// setLink records a change of the link and reports it to Config.OnLink.
func (c *Client) setLink(s LinkState, err error) {
	c.mu.Lock()
	if c.link == s || c.link == LinkClosed {
		c.mu.Unlock()
		return
	}
	c.link = s
	close(c.linkCh)
	c.linkCh = make(chan struct{})
	ev := LinkEvent{State: s, Broker: c.broker, Conn: c.gen, Err: err}
	c.mu.Unlock()
	if c.cfg.OnLink != nil {
		c.cfg.OnLink(ev)
	}
}

// waitNewConn waits until the client is connected over a connection newer
// than connection number gen. It returns the client's error when the
// client ends instead, ErrClosed after a clean end, or ctx's.
func (c *Client) waitNewConn(ctx context.Context, gen uint64) error {
	for {
		c.mu.Lock()
		link, now, changed, err := c.link, c.gen, c.linkCh, c.err
		c.mu.Unlock()
		switch {
		case err != nil:
			return err
		case link == LinkClosed:
			return ErrClosed
		case link == LinkUp && now > gen:
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
