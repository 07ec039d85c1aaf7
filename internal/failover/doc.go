// Package failover parses stompest's broker URIs and computes the schedule of
// connection attempts of the failover transport (PRODUCT.md §6). It is pure:
// it opens no connection, reads no clock and draws randomness only from the
// Rand its caller injects, so a (URI, seed) pair always gives the same
// attempts.
//
// # Grammar
//
//	uri     = [ "failover:" ] brokers [ "?" options ]   ; split at the first "?"
//	brokers = "(" list ")" / list
//	list    = broker *( "," broker )
//	broker  = scheme "://" [ userinfo "@" ] host ":" port [ path ] ; scheme: tcp, ssl, stomp, stomp+ssl, ws, wss
//	userinfo = user [ ":" password ]                     ; percent-encoded
//	host    = name / IPv4 / "[" IPv6 [ "%" zone ] "]"
//	port    = 1*DIGIT                                    ; 1-65535
//	options = option *( "&" option )                     ; or "," when the query holds no "&"
//
// When options are separated by ",", an element without "=" continues the
// value of the option before it, so priorityURIs=tcp://a:1,tcp://b:2 keeps
// both brokers. Later duplicates of an option win. A broker listed twice is
// kept once, with a warning. The path is a WebSocket broker's (ws, wss).
//
// A broker's userinfo gives its login and passcode (Broker.User and
// Password). Nothing this package prints shows the password: Broker.String
// leaves the credentials out, Broker.Redacted, URI.String and every
// URIError mask the password as "***", and Redact does the same to a URI
// as written, parsed or not.
//
// # Schedule
//
// The first attempt has no delay; attempt k >= 2 waits
// min(initialReconnectDelay * m^(k-2) + jitter, maxReconnectDelay), clamped at
// 0, with jitter drawn uniformly from [0, reconnectDelayJitter) and m the
// backOffMultiplier when useExponentialBackOff is true, 1 otherwise. The
// attempt number k counts over all brokers and passes. Each pass through the
// broker list is shuffled when randomize is true; priorityBackup then moves
// the local brokers to the front, keeping their order, and priorityURIs moves
// the brokers it lists to the very front, in the order given. A startup
// schedule allows startupMaxReconnectAttempts retries after the first attempt,
// a reconnect schedule maxReconnectAttempts; -1 means no limit.
//
// # Differences from the original stompest
//
//   - Options are separated by "&" as in ActiveMQ; the original's "," still
//     works when the query holds no "&".
//   - The schemes stomp and stomp+ssl, IPv6 literals in brackets and port
//     range checks are new; host names and IP addresses are validated.
//   - startupMaxReconnectAttempts defaults to -1, as in ActiveMQ: the first
//     connect retries without limit (the command line still bounds it with
//     --connect-timeout). The original's default, 0, tried a single broker at
//     startup.
//   - priorityURIs and the ActiveMQ options that mean nothing to a STOMP
//     client (backup, timeout, trackMessages, maxCacheSize,
//     updateURIsSupported, reconnectSupported, warnAfterReconnectAttempts,
//     nested.*) are accepted; the latter only with a warning.
//   - reconnectDelayExponent is an alias of backOffMultiplier.
//   - maxReconnectAttempts and startupMaxReconnectAttempts below -1 are
//     errors; the original treated them as 0.
//
// # Differences from ActiveMQ
//
//   - priorityBackup follows the original: local hosts (localhost,
//     127.0.0.0/8, ::1 and the names the caller declares local) go first in
//     every pass. ActiveMQ instead treats the first URI (or the priorityURIs)
//     as the priority broker and switches back to it when it returns; there
//     is no switch-back here.
//   - priorityURIs orders every pass whether or not priorityBackup is set,
//     and each of its brokers must appear in the broker list. In ActiveMQ it
//     only names the priority brokers of priorityBackup.
//   - Options on the individual brokers of the list are not supported.
//   - As in the original, jitter is only ever added to a delay.
package failover
