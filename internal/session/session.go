// Package session is the STOMP connection state machine: it knows which
// frames may be sent in which state, builds them with the stateless
// functions of package protocol, and keeps the bookkeeping of one logical
// connection: the negotiated version and heart-beats, the subscriptions,
// the outstanding receipts and the open transactions.
//
// It performs no I/O: it reads and writes no socket, starts no goroutine
// and reads no clock. Each method returns the frames the caller must write,
// in order, or an error; after an error there is nothing to write and the
// session is unchanged, unless the method says otherwise.
//
// The life cycle:
//
//	Disconnected --Connect--> Connecting --Connected--> Connected
//	Connected --Disconnect--> Disconnecting --Receipt of the DISCONNECT--> Disconnected
//	Connecting --Refused--> Disconnected
//	any state --Close or Lost--> Disconnected
//
// Close ends the session cleanly and forgets its subscriptions. Lost
// records an unexpected loss of the connection: the subscriptions are kept,
// and the next Connected returns the SUBSCRIBE frames that restore them.
//
// A Session is not safe for concurrent use: it must be used from one
// goroutine only (the client's connection loop). It does no locking.
package session

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/stompest/stompest/internal/protocol"
)

// State is the state of a session.
type State uint8

// The states of a session. The zero value is Disconnected.
const (
	Disconnected  State = iota // no connection, or a connection before CONNECT
	Connecting                 // CONNECT written, CONNECTED awaited
	Connected                  // CONNECTED received: the session is usable
	Disconnecting              // DISCONNECT written, its RECEIPT or the close awaited
)

// String returns the state's name in lower case ("connected").
func (s State) String() string {
	switch s {
	case Disconnected:
		return "disconnected"
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Disconnecting:
		return "disconnecting"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Subscription is a subscription the session knows of.
type Subscription struct {
	ID          string // the id header, given or generated
	Destination string // the destination subscribed to
	Ack         string // protocol.AckAuto (the default), AckClient or AckClientIndividual
	headers     protocol.Headers
	implicit    bool // made by the server (Expect): never sent, never replayed
}

// Headers returns a copy of the headers of the subscription's SUBSCRIBE
// frame (destination and id included, receipt excluded): the headers that
// a replay sends again.
func (s Subscription) Headers() protocol.Headers { return s.headers.Clone() }

// Confirmation is an outstanding or resolved receipt: its id and the command
// of the frame that asked for it.
type Confirmation struct {
	ID      string           // the receipt header, the RECEIPT's receipt-id
	Command protocol.Command // SEND, SUBSCRIBE, ..., DISCONNECT
}

type pending struct {
	cmd protocol.Command
	seq uint64
}

// Session is the state of one logical STOMP connection, which may span
// several transport connections when the caller reconnects after Lost. The
// zero value is a Disconnected session ready for use.
type Session struct {
	state State

	offered []protocol.Version     // as given to Connect
	client  protocol.HeartBeatSpec // our cx, cy
	conn    protocol.Connected     // what CONNECTED said
	send    time.Duration
	expect  time.Duration

	subs  []*Subscription // in subscribe order
	byID  map[string]*Subscription
	txs   []string // active transactions, in begin order
	rcpts map[string]pending

	rcptSeq        uint64 // orders the outstanding receipts
	rcptGen, txGen uint64 // counters of generated ids, never reset
}

// New returns a Disconnected session.
func New() *Session { return new(Session) }

// State returns the current state.
func (s *Session) State() State { return s.state }

// Version returns the negotiated version, or protocol.VersionUnknown before
// CONNECTED and after the session was closed.
func (s *Session) Version() protocol.Version { return s.conn.Version }

// ServerHeartBeat returns the heart-beat header of CONNECTED: the broker's
// sx and sy, zero when it sent none.
func (s *Session) ServerHeartBeat() protocol.HeartBeatSpec { return s.conn.HeartBeat }

// Server returns the server header of CONNECTED (1.1 and later), or "".
func (s *Session) Server() string { return s.conn.Server }

// ID returns the session header of CONNECTED, or "".
func (s *Session) ID() string { return s.conn.Session }

// SendInterval returns how often the client must send something, a frame
// or a heart-beat, so that the server does not declare it dead: max(cx, sy),
// or 0 (never) when either is 0 (STOMP 1.2 "Heart-beating").
func (s *Session) SendInterval() time.Duration { return s.send }

// ExpectInterval returns how often the server will send something:
// max(cy, sx), or 0 (never) when either is 0 (STOMP 1.2 "Heart-beating").
func (s *Session) ExpectInterval() time.Duration { return s.expect }

// require returns a *StateError unless the session is in one of allowed.
func (s *Session) require(op string, allowed ...State) error {
	if slices.Contains(allowed, s.state) {
		return nil
	}
	return &StateError{Op: op, State: s.state, Allowed: slices.Clone(allowed)} // allowed stays on the stack
}

// Connect returns the CONNECT (or STOMP) frame of o and moves to
// Connecting. It is allowed in Disconnected only.
func (s *Session) Connect(o protocol.ConnectOptions) (*protocol.Frame, error) {
	if err := s.require("connect", Disconnected); err != nil {
		return nil, err
	}
	f, err := protocol.Connect(o)
	if err != nil {
		return nil, err
	}
	s.offered = slices.Clone(o.Versions)
	s.client = protocol.HeartBeatSpec{}
	if o.HeartBeat != nil {
		s.client = *o.HeartBeat
	}
	s.state = Connecting
	return f, nil
}

// Connected handles the CONNECTED frame that answers CONNECT (STOMP 1.2
// "Protocol Negotiation", "Heart-beating"): it negotiates the version among
// those offered (no version header means 1.0) and the heart-beat intervals,
// and moves to Connected. It returns the SUBSCRIBE frames that restore the
// subscriptions kept after Lost, in their original order with their
// original ids and headers and without receipts; nil after a clean start.
// It is allowed in Connecting only; when the frame is refused (a version
// that was not offered, a malformed heart-beat) the state stays Connecting
// and the caller should Close or Lost.
func (s *Session) Connected(f *protocol.Frame) ([]*protocol.Frame, error) {
	if err := s.require("handle CONNECTED", Connecting); err != nil {
		return nil, err
	}
	c, err := protocol.ParseConnected(f, s.offered)
	if err != nil {
		return nil, err
	}
	s.conn = c
	s.send, s.expect = protocol.NegotiateHeartBeat(s.client, c.HeartBeat)
	s.state = Connected
	var replay []*protocol.Frame
	for _, sub := range s.subs {
		if sub.implicit {
			continue
		}
		f, _ := protocol.Subscribe(sub.Destination, sub.headers, "")
		replay = append(replay, f)
	}
	return replay, nil
}

// Expect registers a subscription that the server made itself, so that
// its MESSAGE frames are accepted: RabbitMQ delivers the replies sent to a
// reply-to:/temp-queue/NAME on a subscription whose id is that
// destination, without a SUBSCRIBE. It produces no frame and is not
// replayed after a loss. The ack mode is auto.
func (s *Session) Expect(dest string) error {
	if err := s.require("expect a subscription", Connected); err != nil {
		return err
	}
	if _, ok := s.byID[dest]; ok {
		return &IDError{Err: ErrDuplicateSubscription, ID: dest}
	}
	sub := &Subscription{ID: dest, Destination: dest, Ack: protocol.AckAuto, implicit: true}
	if s.byID == nil {
		s.byID = make(map[string]*Subscription)
	}
	s.subs = append(s.subs, sub)
	s.byID[dest] = sub
	return nil
}

// Refused handles an ERROR frame that answers CONNECT. It moves to
// Disconnected, as Lost does (subscriptions kept after a loss are still
// kept for the next broker; Close forgets them), and returns a
// *RefusedError carrying the frame. It is allowed in Connecting only; a
// frame that is not an ERROR is refused and changes nothing.
func (s *Session) Refused(f *protocol.Frame) error {
	if err := s.require("handle ERROR", Connecting); err != nil {
		return err
	}
	if f.Command != protocol.CmdError {
		return fmt.Errorf("%w: %s, expected ERROR", protocol.ErrUnexpectedCommand, f.Command)
	}
	s.Lost()
	return &RefusedError{Frame: f}
}

// Close ends the session cleanly: it moves to Disconnected and forgets the
// negotiated values, the subscriptions, the outstanding receipts and the
// active transactions (the broker rolls those back). It is allowed in every
// state and returns no frame: the caller closes the transport.
func (s *Session) Close() {
	s.Lost()
	s.subs, s.byID = nil, nil
}

// Lost records an unexpected loss of the connection. It is Close, except
// that the subscriptions are kept: the next Connected returns the frames
// that replay them. Outstanding receipts and active transactions are
// forgotten, as the broker forgets them. It is allowed in every state.
func (s *Session) Lost() {
	s.state = Disconnected
	s.offered = nil
	s.client = protocol.HeartBeatSpec{}
	s.conn = protocol.Connected{}
	s.send, s.expect = 0, 0
	s.txs = nil
	s.rcpts = nil
}

// Disconnect returns an ABORT frame for every active transaction, in begin
// order, followed by the DISCONNECT frame (STOMP 1.2 "DISCONNECT"), with
// receipt when it is not empty, and moves to Disconnecting. The RECEIPT of
// that receipt moves to Disconnected; without a receipt the caller Closes
// once the frames are written. It is allowed in Connected only.
func (s *Session) Disconnect(receipt string) ([]*protocol.Frame, error) {
	if err := s.require("disconnect", Connected); err != nil {
		return nil, err
	}
	if err := s.checkReceipt(receipt); err != nil {
		return nil, err
	}
	frames := make([]*protocol.Frame, 0, len(s.txs)+1)
	for _, tx := range s.txs {
		f, err := protocol.Abort(tx, "")
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
	}
	f := protocol.Disconnect(receipt)
	frames = append(frames, f)
	s.track(receipt, f.Command)
	s.txs = nil
	s.state = Disconnecting
	return frames, nil
}

// take returns headers without any header called name, and the value to
// use for name: arg when it is set, else the first such header's value.
// headers itself is never modified.
func take(headers protocol.Headers, name, arg string) (protocol.Headers, string) {
	v, ok := headers.Get(name)
	if !ok {
		return headers, arg
	}
	h := headers.Clone()
	h.Del(name)
	if arg == "" {
		arg = v
	}
	return h, arg
}

// Send returns a SEND frame to dest (STOMP 1.2 "SEND"), with receipt and
// in transaction tx when they are not empty. A receipt or transaction
// header among headers is used when the argument is empty and dropped
// otherwise. tx must be active. It is allowed in Connected only.
func (s *Session) Send(dest string, body []byte, headers protocol.Headers, receipt, tx string) (*protocol.Frame, error) {
	headers, receipt, err := s.sendHeaders(headers, receipt, tx)
	if err != nil {
		return nil, err
	}
	f := protocol.Send(dest, body, headers, receipt)
	s.track(receipt, f.Command)
	return f, nil
}

// SendTo is Send into f, reusing its storage (protocol.SendTo).
func (s *Session) SendTo(f *protocol.Frame, dest string, body []byte, headers protocol.Headers, receipt, tx string) error {
	headers, receipt, err := s.sendHeaders(headers, receipt, tx)
	if err != nil {
		return err
	}
	protocol.SendTo(f, dest, body, headers, receipt)
	s.track(receipt, f.Command)
	return nil
}

// sendHeaders checks a SEND and returns its headers, with the
// transaction's, and its receipt.
func (s *Session) sendHeaders(headers protocol.Headers, receipt, tx string) (protocol.Headers, string, error) {
	if err := s.require("send", Connected); err != nil {
		return nil, "", err
	}
	headers, receipt = take(headers, protocol.HdrReceipt, receipt)
	headers, tx = take(headers, protocol.HdrTransaction, tx)
	if err := s.checkTx(tx); err != nil {
		return nil, "", err
	}
	if err := s.checkReceipt(receipt); err != nil {
		return nil, "", err
	}
	if tx != "" {
		// The full slice expression makes append copy: the caller's
		// headers are never written.
		headers = append(headers[:len(headers):len(headers)], protocol.Header{Name: protocol.HdrTransaction, Value: tx})
	}
	return headers, receipt, nil
}

// Subscribe returns a SUBSCRIBE frame to dest (STOMP 1.2 "SUBSCRIBE") and
// the subscription id: the id header among headers, or a generated one. A
// receipt header among headers is used when receipt is empty and dropped
// otherwise. The ack header, if any, is the subscription's ack mode (auto
// by default). An id already in use is ErrDuplicateSubscription. It is
// allowed in Connected only.
func (s *Session) Subscribe(dest string, headers protocol.Headers, receipt string) (*protocol.Frame, string, error) {
	if err := s.require("subscribe", Connected); err != nil {
		return nil, "", err
	}
	headers, receipt = take(headers, protocol.HdrReceipt, receipt)
	if err := s.checkReceipt(receipt); err != nil {
		return nil, "", err
	}
	f, id := protocol.Subscribe(dest, headers, receipt)
	if _, ok := s.byID[id]; ok {
		return nil, "", &IDError{Err: ErrDuplicateSubscription, ID: id}
	}
	kept := f.Headers.Clone()
	kept.Del(protocol.HdrReceipt)
	sub := &Subscription{ID: id, Destination: dest, Ack: protocol.AckAuto, headers: kept}
	if ack, ok := kept.Get(protocol.HdrAck); ok {
		sub.Ack = ack
	}
	if s.byID == nil {
		s.byID = make(map[string]*Subscription)
	}
	s.subs = append(s.subs, sub)
	s.byID[id] = sub
	s.track(receipt, f.Command)
	return f, id, nil
}

// Unsubscribe returns the UNSUBSCRIBE frame of subscription id (STOMP 1.2
// "UNSUBSCRIBE") and forgets the subscription. It is allowed in Connected
// only.
func (s *Session) Unsubscribe(id string) (*protocol.Frame, error) {
	if err := s.require("unsubscribe", Connected); err != nil {
		return nil, err
	}
	if _, ok := s.byID[id]; !ok {
		return nil, &IDError{Err: ErrUnknownSubscription, ID: id}
	}
	f, err := protocol.Unsubscribe(id, "")
	if err != nil {
		return nil, err
	}
	delete(s.byID, id)
	s.subs = slices.DeleteFunc(s.subs, func(sub *Subscription) bool { return sub.ID == id })
	return f, nil
}

// Subscriptions returns the known subscriptions in subscribe order.
func (s *Session) Subscriptions() []Subscription {
	out := make([]Subscription, len(s.subs))
	for i, sub := range s.subs {
		out[i] = *sub
	}
	return out
}

// Message checks an incoming MESSAGE frame (STOMP 1.2 "MESSAGE") and
// returns the subscription it belongs to: the one named by its subscription
// header or, for a 1.0 MESSAGE without one, the first subscription to its
// destination. A MESSAGE of no known subscription is ErrUnknownSubscription.
// It is allowed in Connected only. The subscription is shared, not copied:
// it never changes once made.
func (s *Session) Message(f *protocol.Frame) (*Subscription, error) {
	if err := s.require("handle MESSAGE", Connected); err != nil {
		return nil, err
	}
	return s.subscriptionOf(f)
}

func (s *Session) subscriptionOf(f *protocol.Frame) (*Subscription, error) {
	id, err := protocol.Message(f, s.conn.Version)
	if err != nil {
		return nil, err
	}
	if id == "" && !f.Headers.Has(protocol.HdrSubscription) {
		dest := f.Header(protocol.HdrDestination)
		for _, sub := range s.subs {
			if sub.Destination == dest {
				return sub, nil
			}
		}
		return nil, &IDError{Err: ErrUnknownSubscription, ID: "destination:" + dest}
	}
	sub, ok := s.byID[id]
	if !ok {
		return nil, &IDError{Err: ErrUnknownSubscription, ID: id}
	}
	return sub, nil
}

// Ack returns the ACK frame of a received MESSAGE in the negotiated version
// (STOMP 1.2 "ACK"; protocol.Ack), inside transaction tx when it is not
// empty. The MESSAGE must belong to a known subscription whose ack mode is
// not auto, and tx must be active. It is allowed in Connected only.
func (s *Session) Ack(msg *protocol.Frame, tx string) (*protocol.Frame, error) {
	return s.settle("ack", protocol.Ack, msg, tx)
}

// Nack is Ack for NACK (STOMP 1.2 "NACK"), which STOMP 1.0 does not have:
// there it returns an error matching protocol.ErrNotSupported.
func (s *Session) Nack(msg *protocol.Frame, tx string) (*protocol.Frame, error) {
	return s.settle("nack", protocol.Nack, msg, tx)
}

type settleFunc func(msg *protocol.Frame, v protocol.Version, transaction, receipt string) (*protocol.Frame, error)

func (s *Session) settle(op string, build settleFunc, msg *protocol.Frame, tx string) (*protocol.Frame, error) {
	if err := s.require(op, Connected); err != nil {
		return nil, err
	}
	sub, err := s.subscriptionOf(msg)
	if err != nil {
		return nil, err
	}
	if sub.Ack == protocol.AckAuto {
		return nil, &IDError{Err: ErrAutoAck, ID: sub.ID}
	}
	if err := s.checkTx(tx); err != nil {
		return nil, err
	}
	return build(msg, s.conn.Version, tx, "")
}

// Begin returns the BEGIN frame of transaction tx (STOMP 1.2 "BEGIN") and
// its id: tx, or a generated "tx-N" when tx is empty. An active tx is
// ErrTransactionActive. It is allowed in Connected only.
func (s *Session) Begin(tx string) (*protocol.Frame, string, error) {
	if err := s.require("begin", Connected); err != nil {
		return nil, "", err
	}
	if tx == "" {
		for tx == "" || slices.Contains(s.txs, tx) {
			s.txGen++
			tx = "tx-" + strconv.FormatUint(s.txGen, 10)
		}
	}
	if slices.Contains(s.txs, tx) {
		return nil, "", &IDError{Err: ErrTransactionActive, ID: tx}
	}
	f, err := protocol.Begin(tx, "")
	if err != nil {
		return nil, "", err
	}
	s.txs = append(s.txs, tx)
	return f, tx, nil
}

// Commit returns the COMMIT frame of the active transaction tx (STOMP 1.2
// "COMMIT"), which then ends. It is allowed in Connected only.
func (s *Session) Commit(tx string) (*protocol.Frame, error) {
	return s.end("commit", protocol.Commit, tx)
}

// Abort returns the ABORT frame of the active transaction tx (STOMP 1.2
// "ABORT"), which then ends. It is allowed in Connected only.
func (s *Session) Abort(tx string) (*protocol.Frame, error) {
	return s.end("abort", protocol.Abort, tx)
}

func (s *Session) end(op string, build func(tx, receipt string) (*protocol.Frame, error), tx string) (*protocol.Frame, error) {
	if err := s.require(op, Connected); err != nil {
		return nil, err
	}
	if err := s.checkTx(tx); err != nil {
		return nil, err
	}
	f, err := build(tx, "")
	if err != nil {
		return nil, err
	}
	s.txs = slices.DeleteFunc(s.txs, func(t string) bool { return t == tx })
	return f, nil
}

// Transactions returns the active transactions in begin order.
func (s *Session) Transactions() []string { return slices.Clone(s.txs) }

// checkTx returns ErrUnknownTransaction unless tx is empty or active.
func (s *Session) checkTx(tx string) error {
	if tx != "" && !slices.Contains(s.txs, tx) {
		return &IDError{Err: ErrUnknownTransaction, ID: tx}
	}
	return nil
}

// checkReceipt returns ErrDuplicateReceipt when id is outstanding.
func (s *Session) checkReceipt(id string) error {
	if _, ok := s.rcpts[id]; ok && id != "" {
		return &IDError{Err: ErrDuplicateReceipt, ID: id}
	}
	return nil
}

// track records receipt id, if any, as outstanding for a frame of cmd.
func (s *Session) track(id string, cmd protocol.Command) {
	if id == "" {
		return
	}
	if s.rcpts == nil {
		s.rcpts = make(map[string]pending)
	}
	s.rcptSeq++
	s.rcpts[id] = pending{cmd: cmd, seq: s.rcptSeq}
}

// AddReceipt asks for a receipt for f, a frame built by this session
// (STOMP 1.2 "Header receipt"): it adds a receipt header with id, or with a
// generated "receipt-N" when id is empty, records it as outstanding and
// returns it. A frame that already carries a receipt, or an outstanding id,
// is ErrDuplicateReceipt; CONNECT and frames the server sends are refused.
// It is allowed in Connected and Disconnecting.
func (s *Session) AddReceipt(f *protocol.Frame, id string) (string, error) {
	if err := s.require("add a receipt", Connected, Disconnecting); err != nil {
		return "", err
	}
	switch f.Command {
	case protocol.CmdSend, protocol.CmdSubscribe, protocol.CmdUnsubscribe, protocol.CmdAck, protocol.CmdNack,
		protocol.CmdBegin, protocol.CmdCommit, protocol.CmdAbort, protocol.CmdDisconnect:
	default:
		return "", fmt.Errorf("receipt on %s: %w", f.Command, protocol.ErrUnexpectedCommand)
	}
	if have, ok := f.Lookup(protocol.HdrReceipt); ok {
		return "", &IDError{Err: ErrDuplicateReceipt, ID: have}
	}
	if id == "" {
		for id == "" || s.rcpts[id].cmd != "" {
			s.rcptGen++
			id = "receipt-" + strconv.FormatUint(s.rcptGen, 10)
		}
	}
	if err := s.checkReceipt(id); err != nil {
		return "", err
	}
	f.Headers.Add(protocol.HdrReceipt, id)
	s.track(id, f.Command)
	return id, nil
}

// Receipt handles a RECEIPT frame (STOMP 1.2 "RECEIPT"): it resolves the
// outstanding receipt it names and returns it with the command it
// confirmed. The receipt of DISCONNECT ends the session as Close does. An
// id that is not outstanding is ErrUnknownReceipt. It is allowed in
// Connected and Disconnecting.
func (s *Session) Receipt(f *protocol.Frame) (Confirmation, error) {
	if err := s.require("handle RECEIPT", Connected, Disconnecting); err != nil {
		return Confirmation{}, err
	}
	id, err := protocol.Receipt(f)
	if err != nil {
		return Confirmation{}, err
	}
	p, ok := s.rcpts[id]
	if !ok {
		return Confirmation{}, &IDError{Err: ErrUnknownReceipt, ID: id}
	}
	delete(s.rcpts, id)
	if p.cmd == protocol.CmdDisconnect {
		s.Close()
	}
	return Confirmation{ID: id, Command: p.cmd}, nil
}

// Outstanding returns the receipts asked for and not yet received, in the
// order they were asked for.
func (s *Session) Outstanding() []Confirmation {
	type entry struct {
		Confirmation
		seq uint64
	}
	all := make([]entry, 0, len(s.rcpts))
	for id, p := range s.rcpts {
		all = append(all, entry{Confirmation{ID: id, Command: p.cmd}, p.seq})
	}
	slices.SortFunc(all, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]Confirmation, len(all))
	for i, e := range all {
		out[i] = e.Confirmation
	}
	return out
}
