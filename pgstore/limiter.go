package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// Limiter is a rollback.Limiter whose windows live in PostgreSQL, so that
// every replica sharing the database shares the cloud's quota. Make it
// with Store.Limiter or NewLimiter and give it to every client of the
// account (rollback.WithLimiter). Safe for concurrent use.
type Limiter struct {
	// Scope separates the windows of different cloud accounts: clients of
	// one account share a scope, clients of another use another.
	Scope string
	// Clock places the slots and paces the waits (nil: the wall clock).
	// Give it the clients' clock (rollback.WithClock).
	Clock clock.Clock

	db      DB
	tables  tables
	migrate func(context.Context) error
}

var _ rollback.Limiter = (*Limiter)(nil)

// NewLimiter returns a limiter on db for the account named by scope; its
// tables are created on first use.
func NewLimiter(db DB, scope string, opts Options) *Limiter {
	s := New(db, opts)
	return s.Limiter(scope)
}

// The window is wider than the cloud's by Per/marginFraction, at least
// minMargin, as in the clients' own limiter (whose minimum is 50ms): the
// cloud counts arrivals, and network jitter (more of it between replicas,
// plus their clocks' skew) moves an arrival by a few milliseconds, enough
// for one call too many to land in a window.
const (
	marginFraction = 20 // 5%
	minMargin      = 100 * time.Millisecond
)

// Wait implements rollback.Limiter: it reserves call's slot in one short
// transaction and sleeps until it. The slot is the earliest time at or
// after now at which the call `Calls` places back has left the window, so
// reservations are served in the order they commit and nobody starves. A
// caller whose ctx ends while it sleeps keeps its slot used, which errs on
// the safe side.
func (l *Limiter) Wait(ctx context.Context, call rollback.LimitedCall) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if call.Calls <= 0 || call.Per <= 0 {
		return nil
	}
	clk := clock.Or(l.Clock)
	at, err := l.reserve(ctx, clk, call)
	if err != nil {
		return err
	}
	return clock.Sleep(ctx, clk, at.Sub(clk.Now()))
}

func (l *Limiter) reserve(ctx context.Context, clk clock.Clock, call rollback.LimitedCall) (time.Time, error) {
	if err := l.migrate(ctx); err != nil {
		return time.Time{}, err
	}
	key := l.Scope + "/" + call.Provider + "/" + call.Op
	window := call.Per + max(call.Per/marginFraction, minMargin)
	tx, err := l.db.Begin(ctx)
	if err != nil {
		return time.Time{}, limitError(call, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The window's row is the lock that orders its reservations.
	if _, err := tx.Exec(ctx, "INSERT INTO "+l.tables.windows+" (key) VALUES ($1) ON CONFLICT (key) DO NOTHING", key); err != nil {
		return time.Time{}, limitError(call, err)
	}
	if _, err := tx.Exec(ctx, "SELECT key FROM "+l.tables.windows+" WHERE key = $1 FOR UPDATE", key); err != nil {
		return time.Time{}, limitError(call, err)
	}
	// Now is read under the lock, so slots are placed in lock order.
	now := clk.Now()
	at := now
	var back time.Time
	err = tx.QueryRow(ctx, "SELECT slot FROM "+l.tables.slots+" WHERE key = $1 ORDER BY slot DESC OFFSET $2 LIMIT 1", key, call.Calls-1).Scan(&back)
	switch {
	case err == nil:
		if free := back.Add(window); free.After(at) {
			at = free
		}
	case !isNoRows(err):
		return time.Time{}, limitError(call, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+l.tables.slots+" (key, slot) VALUES ($1, $2)", key, at); err != nil {
		return time.Time{}, limitError(call, err)
	}
	// Slots that left the window can no longer delay anyone.
	if _, err := tx.Exec(ctx, "DELETE FROM "+l.tables.slots+" WHERE key = $1 AND slot < $2", key, now.Add(-window)); err != nil {
		return time.Time{}, limitError(call, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return time.Time{}, limitError(call, err)
	}
	return at, nil
}

func limitError(call rollback.LimitedCall, err error) error {
	return fmt.Errorf("pgstore: rate limit of %s %s: %w", call.Provider, call.Op, err)
}
