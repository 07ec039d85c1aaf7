// Package broker is the embedded in-memory STOMP broker of `stompest
// broker` and of the tests: queues, topics, durable subscriptions,
// browsing, acknowledgements, transactions, selectors, heart-beats and its
// own listeners, built on the protocol package, with fault hooks for
// tests. docs/ARCHITECTURE.md describes the layers.
package broker
