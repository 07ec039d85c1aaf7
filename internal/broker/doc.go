// Package broker is the embedded in-memory STOMP broker of `stompest
// broker` and of the tests: queues, topics, acknowledgements,
// transactions, selectors and its own listeners, built on the protocol and
// session packages; docs/ARCHITECTURE.md describes the layers.
package broker
