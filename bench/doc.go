// Package bench compares stompest with other STOMP implementations on
// identical input. It is a module of its own so that the clients it
// compares with never become dependencies of the stompest binary.
package bench
