// Package client is the only package of stompest that dials: TCP and TLS
// transports, the reader goroutine, heart-beat timers, receipts with their
// time-outs, and reconnects that walk the failover schedule and replay
// subscriptions. It is built on the protocol, session and failover
// packages; docs/ARCHITECTURE.md describes the layers.
package client
