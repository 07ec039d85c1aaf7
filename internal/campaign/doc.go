// Package campaign is a randomized fault campaign against the at-least-once
// promises of docs/RELIABILITY.md. Each schedule, drawn from a seed, runs
// one stompest command (send, subscribe, move, reply, request, in their
// modes) as a process against an embedded broker, through a TCP Proxy of
// this package that resets connections after a number of bytes, stalls a
// direction, or plays a broker that is down; the process may get a signal,
// the reader of its stdout may go away, and --exec handlers may fail or
// hang. After each schedule the broker is drained and the invariants of
// the command are checked against what it printed and its exit code.
//
// The package holds the proxy and the schedules; the campaign itself is
// TestCampaign:
//
//	go test ./internal/campaign -run TestCampaign -campaign.runs=200 -v
//	go test ./internal/campaign -run TestCampaign -campaign.seed=N -campaign.runs=1 -v
package campaign
