package cmdutil

import (
	"context"
	"errors"

	"github.com/stompest/stompest/internal/client"
)

// InTransaction is the transaction machinery that send --transaction, the
// transaction command and move share: BEGIN, then body with the
// transaction's id, then COMMIT with a receipt. The frames body sends carry
// no receipts of their own (RabbitMQ answers those only after COMMIT).
// When body fails (it returns ctx's error when a signal stops it), the
// transaction is aborted, so the broker drops whatever body sent in it. A
// COMMIT that is not confirmed is a *commitError and is not followed by an
// ABORT: its outcome is unknown, and an ABORT of a transaction the broker
// committed only draws an ERROR. begun, when not nil, learns the id once
// BEGIN is written. A COMMIT that left is work in flight: a signal cuts
// its receipt wait short only after --disconnect-timeout, so that an
// interrupted command can still tell that the transaction took effect.
func (a *Factory) InTransaction(ctx context.Context, c *client.Client, begun func(tx string), body func(tx string) error) (committed bool, err error) {
	tx, err := c.Begin("")
	if err != nil {
		return false, err
	}
	if begun != nil {
		begun(tx)
	}
	if err := body(tx); err != nil {
		c.Abort(tx)
		return false, err
	}
	if err := a.Commit(ctx, c, tx); err != nil {
		return false, err
	}
	return true, nil
}

// Commit commits tx with a receipt. A COMMIT that left is work in flight:
// a signal (ctx's end) cuts its receipt wait short only after
// --disconnect-timeout. A COMMIT sent but not confirmed is a *CommitError
// (the outcome is unknown: no ABORT follows); one that could not be sent
// is followed by an ABORT.
func (a *Factory) Commit(ctx context.Context, c *client.Client, tx string) error {
	commitCtx, cancel := a.InFlight(ctx)
	defer cancel()
	if err := c.Commit(commitCtx, tx); err != nil {
		if errors.Is(err, client.ErrCommitUnconfirmed) {
			return &CommitError{err}
		}
		c.Abort(tx) // no COMMIT left
		return err
	}
	return nil
}

// CommitError is a COMMIT that was sent but not confirmed.
type CommitError struct{ err error }

func (e *CommitError) Error() string { return "commit: " + e.err.Error() }
func (e *CommitError) Unwrap() error { return e.err }
