package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

// DB is what the store needs of a database handle: a *pgxpool.Pool (or a
// *pgx.Conn used by one goroutine at a time).
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var _ DB = (*pgxpool.Pool)(nil)

// Default table names.
const (
	DefaultTable     = "rollback_checkpoints"
	DefaultRateTable = "rollback_rate_slots"
)

// Options names the tables. The zero value uses the defaults.
type Options struct {
	// Table holds the checkpoints (default DefaultTable). It may be
	// schema-qualified ("ops.rollback_checkpoints").
	Table string
	// RateTable holds the Limiter's call slots (default DefaultRateTable);
	// its windows' rows are in RateTable+"_windows".
	RateTable string
}

// Store is a rollback.Checkpointer in PostgreSQL. Make it with New or Open;
// it is safe for concurrent use, by any number of replicas.
type Store struct {
	db     DB
	pool   *pgxpool.Pool // owned (Open), closed by Close
	tables tables

	mu       sync.Mutex
	migrated bool
}

var _ rollback.Checkpointer = (*Store)(nil)

// New returns a store on db; its tables are created on first use (or by
// Migrate). The caller keeps db and closes it.
func New(db DB, opts Options) *Store {
	return &Store{db: db, tables: opts.tables()}
}

// Open connects to the database named by connString (a URL or a DSN, as
// pgxpool.New reads it; the PG* environment variables fill in what it
// leaves out) and returns a store that owns the connection pool: call
// Close when done.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	pool, err := pgxpool.New(ctx, connString)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connecting to PostgreSQL: %w", err)
	}
	s := New(pool, opts)
	s.pool = pool
	return s, nil
}

// Close closes the connection pool of a store made by Open; for one made
// by New it does nothing.
func (s *Store) Close() {
	if s.pool != nil {
		s.pool.Close()
	}
}

// Ping checks that the database answers (a service's readiness check).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	return nil
}

// Limiter returns a rate limiter sharing the store's database, for the
// cloud account named by scope (any label; "" is fine with one account).
func (s *Store) Limiter(scope string) *Limiter {
	return &Limiter{db: s.db, tables: s.tables, Scope: scope, migrate: s.migrate}
}

// Migrate creates the tables and indexes if they do not exist. It is safe
// to call concurrently and repeatedly, from any number of replicas.
func (s *Store) Migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.migrateLocked(ctx)
}

func (s *Store) migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migrated {
		return nil
	}
	return s.migrateLocked(ctx)
}

func (s *Store) migrateLocked(ctx context.Context) error {
	if err := migrate(ctx, s.db, s.tables); err != nil {
		return err
	}
	s.migrated = true
	return nil
}

// Load implements rollback.Checkpointer.
func (s *Store) Load(ctx context.Context, key string) (*rollback.Checkpoint, error) {
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	var rec string
	var version int
	err := s.db.QueryRow(ctx, "SELECT version, record FROM "+s.tables.cp+" WHERE key = $1", key).Scan(&version, &rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbError("reading checkpoint", err)
	}
	return s.decode(key, version, rec)
}

func (s *Store) decode(key string, version int, rec string) (*rollback.Checkpoint, error) {
	where := fmt.Sprintf("%q in table %s", key, s.tables.cp)
	if version != rollback.CheckpointVersion {
		// The column and the JSON agree unless someone wrote the row by
		// hand; either disagreeing is a record not to act on.
		return nil, &rollback.Error{Kind: rollback.ErrCheckpointCorrupt, Op: "checkpoint",
			Message: fmt.Sprintf("checkpoint %s has version %d; this library reads version %d", where, version, rollback.CheckpointVersion),
			Hint:    "use the library version that wrote it, or delete the row if you are sure the operation is not running; nothing was sent"}
	}
	return provider.DecodeCheckpoint([]byte(rec), key, where)
}

// Acquire implements rollback.Checkpointer.
func (s *Store) Acquire(ctx context.Context, key string, l rollback.Lease) (*rollback.Checkpoint, error) {
	var got *rollback.Checkpoint
	err := s.update(ctx, key, func(old *rollback.Checkpoint) (*rollback.Checkpoint, bool, error) {
		cp, err := provider.CheckAcquire(old, key, l)
		if err != nil {
			return nil, false, err
		}
		if old != nil {
			got = cp
		}
		return cp, false, nil
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}

// Save implements rollback.Checkpointer.
func (s *Store) Save(ctx context.Context, cp *rollback.Checkpoint) error {
	return s.update(ctx, cp.Key, func(old *rollback.Checkpoint) (*rollback.Checkpoint, bool, error) {
		if err := provider.CheckSave(old, cp); err != nil {
			return nil, false, err
		}
		cp.Version = rollback.CheckpointVersion
		return cp, false, nil
	})
}

// Release implements rollback.Checkpointer.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	return s.update(ctx, key, func(old *rollback.Checkpoint) (*rollback.Checkpoint, bool, error) {
		if old == nil || old.Owner != owner || owner == "" {
			return nil, false, nil
		}
		if old.Phase == "" {
			return nil, true, nil // a bare claim: nothing to keep
		}
		old.Owner, old.LeaseUntil = "", time.Time{}
		return old, false, nil
	})
}

// update runs fn on key's stored record (nil when none) in a transaction
// holding the row's lock, and stores what fn returns: the new record, or
// del to delete the row; nil and false change nothing. A key without a row
// is inserted with ON CONFLICT DO NOTHING: when another transaction
// inserted it first, this one waited for it to commit and now locks and
// reads that row, so two writers of a new key never both succeed.
func (s *Store) update(ctx context.Context, key string, fn func(old *rollback.Checkpoint) (*rollback.Checkpoint, bool, error)) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return dbError("starting a transaction", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after Commit
	for {
		var old *rollback.Checkpoint
		var rec string
		var version int
		err := tx.QueryRow(ctx, "SELECT version, record FROM "+s.tables.cp+" WHERE key = $1 FOR UPDATE", key).Scan(&version, &rec)
		found := err == nil
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return dbError("reading checkpoint", err)
		default:
			if old, err = s.decode(key, version, rec); err != nil {
				return err
			}
		}
		cp, del, err := fn(old)
		if err != nil {
			return err
		}
		switch {
		case del && found:
			if _, err := tx.Exec(ctx, "DELETE FROM "+s.tables.cp+" WHERE key = $1", key); err != nil {
				return dbError("removing checkpoint", err)
			}
		case cp == nil:
			return nil // nothing to write; the deferred Rollback ends tx
		case found:
			b, err := json.Marshal(cp)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE "+s.tables.cp+" SET version = $2, record = $3, phase = $4, owner = $5, lease_until = $6, updated = $7 WHERE key = $1",
				key, cp.Version, string(b), string(cp.Phase), cp.Owner, nullTime(cp.LeaseUntil), cp.Updated); err != nil {
				return dbError("writing checkpoint", err)
			}
		default:
			b, err := json.Marshal(cp)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, "INSERT INTO "+s.tables.cp+" (key, version, record, phase, owner, lease_until, updated) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING",
				key, cp.Version, string(b), string(cp.Phase), cp.Owner, nullTime(cp.LeaseUntil), cp.Updated)
			if err != nil {
				return dbError("writing checkpoint", err)
			}
			if tag.RowsAffected() == 0 {
				continue // another writer created the row first: judge against it
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return dbError("committing checkpoint", err)
		}
		return nil
	}
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// dbError wraps a database error with what the store was doing. The
// connection string (and its password) is never part of pgx's errors.
func dbError(doing string, err error) error {
	return fmt.Errorf("pgstore: %s: %w", doing, err)
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
