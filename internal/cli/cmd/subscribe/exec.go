package subscribe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stompest/stompest/internal/cli/cmdutil"
	"github.com/stompest/stompest/internal/cli/dialect"
	"github.com/stompest/stompest/internal/cli/handler"
	"github.com/stompest/stompest/internal/cli/msgio"
	"github.com/stompest/stompest/internal/client"
	"github.com/stompest/stompest/internal/protocol"
)

// handled is the outcome of one handler run.
type handled struct {
	m      *client.Message
	stdout []byte
	err    error
	tries  int    // earlier failed deliveries of the message (--on-error nack)
	id     string // the message's identity across deliveries (--on-error nack)
}

// runHandler runs the handler command for m: body on stdin, its stdout
// kept to be written whole, its stderr passed through. A failure that
// --on-error nack will hand back waits for its back-off first, holding its
// handler slot, so that a failing message does not spin.
func (s *consumer) runHandler(ctx context.Context, m *client.Message, tries int, id string) handled {
	out, err := handler.Run(ctx, s.o.exec, m, s.o.execTimeout, s.ErrOut)
	if err != nil && s.o.onError == "nack" && !s.spent(tries) {
		t := time.NewTimer(backoff(tries))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return handled{m: m, stdout: out, err: err, tries: tries, id: id}
}

// backoff is the wait before a failed message is handed back for its
// tries+1-th redelivery: 100ms, doubling, at most 10s.
func backoff(tries int) time.Duration {
	return min(100*time.Millisecond<<min(tries, 10), 10*time.Second)
}

// forwards reports whether the failed r goes to --error-destination.
func (s *consumer) forwards(r handled) bool {
	return s.o.onError == "forward" || (s.o.onError == "nack" && s.spent(r.tries) && s.o.errorDest != "")
}

// spent reports whether a message that failed after tries redeliveries
// has used up --max-redeliveries.
func (s *consumer) spent(tries int) bool {
	return s.o.maxRedeliveries >= 0 && tries >= s.o.maxRedeliveries
}

// tries returns how often m was delivered before and failed, with its
// identity across deliveries: the broker's own count where it gives one,
// else what this run counted.
func (s *consumer) tries(m *client.Message) (int, string) {
	if s.o.onError != "nack" {
		return 0, ""
	}
	id := cmdutil.KindOf(s.c).Identity(m.Frame)
	n := 0
	if s.failures[id] > 0 && dialect.Again(m.Frame, id) {
		n = s.failures[id]
	}
	if bn, ok := dialect.DeliveryCount(m.Frame); ok {
		n = max(n, bn)
	}
	return n, id
}

// consumeExec hands each message to a handler process, up to --concurrency
// at once, and settles it by the handler's outcome.
func (s *consumer) consumeExec(ctx context.Context) error {
	o := s.o
	hctx, hcancel := context.WithCancel(context.Background())
	defer hcancel()
	results := make(chan handled)
	inflight := 0
	stopping := false
	var failure error
	var grace <-chan time.Time
	// --idle: no message came for that long while no handler ran (a
	// running handler holds the broker's prefetch, so silence then means
	// nothing).
	clock := cmdutil.NewStopClock(o.Stop)
	defer clock.Stop()
	taken := int64(0)
	var waiting []*client.Message // with --dedupe: their id is in a handler
	start := func(m *client.Message) {
		s.dedupe.start(m)
		taken++
		s.received++
		inflight++
		tries, id := s.tries(m)
		go func() { results <- s.runHandler(hctx, m, tries, id) }()
	}
	stop := func() {
		if !stopping {
			stopping = true
			t := time.NewTimer(s.Opts.DisconnectTimeout)
			grace = t.C
		}
	}
	repeat := func(m *client.Message) {
		s.repeats++
		if err := s.ack([]*client.Message{m}); err != nil && failure == nil {
			failure = err
			stop()
		}
	}
	for {
		if stopping && inflight == 0 {
			break
		}
		var msgs <-chan *client.Message
		if !stopping && inflight < o.concurrency && (o.Count == 0 || taken < int64(o.Count)) {
			msgs = s.c.Messages()
		}
		if !stopping && o.Count > 0 && taken >= int64(o.Count) && inflight == 0 {
			break
		}
		var done <-chan struct{}
		if !stopping {
			done = ctx.Done()
		}
		select {
		case m, ok := <-msgs:
			if !ok {
				stop()
				if err := s.c.Err(); err != nil && failure == nil {
					failure = fmt.Errorf("subscribe: %w", err)
				}
				continue
			}
			if !s.keep(m) {
				continue
			}
			if s.dedupe.inHandler(m) {
				waiting = append(waiting, m) // until the handler of its id ends
				continue
			}
			if s.dedupe.repeat(m) {
				repeat(m)
				continue
			}
			start(m)
		case <-clock.Idle():
			if inflight == 0 && !stopping {
				stop()
			} else {
				clock.Touch()
			}
		case r := <-results:
			inflight--
			clock.Touch()
			if len(r.stdout) > 0 {
				if _, err := s.Out.Write(r.stdout); err != nil && !msgio.IsClosedPipe(err) {
					return cmdutil.WithCode(cmdutil.ExitIOErr, fmt.Errorf("subscribe: write stdout: %w", err))
				}
			}
			err := s.settleHandled(ctx, r)
			s.dedupe.end(r.m, r.err == nil || (s.forwards(r) && err == nil))
			if err != nil {
				if failure == nil {
					failure = err
				}
				stop()
			}
			// A message that waited for the handler of its id is a repeat
			// now, or, when that one failed, is handled itself.
			for i := 0; i < len(waiting); i++ {
				m := waiting[i]
				switch {
				case s.dedupe.repeat(m):
					repeat(m)
				case stopping || s.dedupe.inHandler(m) || (o.Count > 0 && taken >= int64(o.Count)):
					continue // left unacknowledged at a stop: the broker delivers it again
				default:
					start(m)
				}
				waiting = slices.Delete(waiting, i, i+1)
				i--
			}
		case <-done:
			stop()
		case <-clock.Deadline():
			stop()
		case e := <-s.links:
			clock.Link(e)
		case <-grace:
			hcancel() // handlers that did not finish are killed, and not acked
		}
	}
	if failure != nil {
		return failure
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if o.Count > 0 && taken < int64(o.Count) {
		return fmt.Errorf("%w: %d of %d messages", errCountNotReached, taken, o.Count)
	}
	return errStop
}

// settleHandled acknowledges a message whose handler succeeded and applies
// --on-error to one whose handler failed.
func (s *consumer) settleHandled(ctx context.Context, r handled) error {
	if r.err == nil {
		delete(s.failures, r.id)
		return s.ack([]*client.Message{r.m})
	}
	id := r.m.Header(protocol.HdrMessageID)
	if s.o.onError != "stop" { // stop reports it once, as the run's error
		s.Warn(fmt.Sprintf("message %s: %v", id, r.err))
	}
	onError := s.o.onError
	if onError == "nack" && s.spent(r.tries) {
		delete(s.failures, r.id)
		if !s.forwards(r) {
			return cmdutil.WithCode(cmdutil.ExitFailed, fmt.Errorf("subscribe: message %s: %v; %d failed runs (--max-redeliveries %d): left unacknowledged", id, r.err, r.tries+1, s.o.maxRedeliveries))
		}
		onError = "forward"
	}
	switch onError {
	case "nack":
		if s.failures == nil {
			s.failures = map[string]int{}
		}
		s.failures[r.id] = r.tries + 1
		if s.c.Version() == protocol.V10 {
			return nil // 1.0 has no NACK: the message stays unacknowledged
		}
		err := s.c.Nack(r.m, "")
		if err == nil {
			err = s.c.Flush()
		}
		if errors.Is(err, client.ErrStaleMessage) || errors.Is(err, client.ErrConnectionLost) {
			return nil // its connection is gone: the broker delivers it again, as after an ACK (s.ack)
		}
		if err != nil {
			return fmt.Errorf("subscribe: nack: %w", err)
		}
		return nil
	case "forward":
		headers := dialect.Copy(r.m.Headers, false)
		headers.Set("persistent", "true")
		if !headers.Has("message-failed") {
			headers.Add("message-failed", r.err.Error())
		}
		rc, err := s.c.Send(s.o.errorDest, r.m.Body, client.SendOptions{Headers: headers, Receipt: true})
		if err == nil {
			if err = s.c.Flush(); err == nil {
				err = s.c.WaitReceipt(ctx, rc)
			}
		}
		if err != nil {
			return fmt.Errorf("subscribe: forward %s to %s: %w", id, s.o.errorDest, err)
		}
		s.forwarded++
		return s.ack([]*client.Message{r.m})
	}
	return cmdutil.WithCode(cmdutil.ExitFailed, fmt.Errorf("subscribe: message %s: %v (left unacknowledged for redelivery)", id, r.err))
}
