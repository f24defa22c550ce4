package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/checkpointtest"
	"github.com/cloudsnap/rollback/pgstore"
	"github.com/cloudsnap/rollback/pgstore/pgtest"
)

// pool opens a connection pool closed when the test ends.
func pool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestConformance runs the public Checkpointer suite; every client is a
// store with its own connection pool, as a replica would have.
func TestConformance(t *testing.T) {
	url := pgtest.Database(t, server, startErr)
	admin := pool(t, url)
	n := 0
	checkpointtest.Run(t, func(t *testing.T) checkpointtest.Store {
		// A new table per test: cheaper than a new database.
		n++
		opts := pgstore.Options{Table: fmt.Sprintf("cp_%d", n)}
		return checkpointtest.Store{
			Client: func() rollback.Checkpointer {
				p, err := pgxpool.New(context.Background(), url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(p.Close)
				return pgstore.New(p, opts)
			},
			WriteRaw: func(key string, rec []byte) error {
				if err := pgstore.New(admin, opts).Migrate(context.Background()); err != nil {
					return err
				}
				var v struct{ Version int }
				_ = json.Unmarshal(rec, &v) // a corrupt record keeps version 0
				_, err := admin.Exec(context.Background(),
					"INSERT INTO "+opts.Table+" (key, version, record) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET version = $2, record = $3",
					key, v.Version, string(rec))
				return err
			},
		}
	})
}

// TestMigrate: an explicit Migrate, concurrent with first use elsewhere,
// and again, all succeed; the named table is the one used.
func TestMigrate(t *testing.T) {
	url := pgtest.Database(t, server, startErr)
	ctx := context.Background()
	s, err := pgstore.Open(ctx, url, pgstore.Options{Table: "public.ops_checkpoints", RateTable: "ops_slots"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- s.Migrate(ctx) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	if _, err := s.Acquire(ctx, "k", rollback.Lease{Owner: "a", TTL: 1}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool(t, url).QueryRow(ctx, "SELECT count(*) FROM ops_checkpoints WHERE owner = 'a'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows in ops_checkpoints: %d, %v", n, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestUnreachable: a database that does not answer is a clear error from
// Open, without the password.
func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	_, err := pgstore.Open(ctx, "postgres://u:s3cret-pw@127.0.0.1:1/db?connect_timeout=2", pgstore.Options{})
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if msg := err.Error(); contains(msg, "s3cret-pw") {
		t.Errorf("error shows the password: %s", msg)
	}
	if errors.Is(err, rollback.ErrCheckpointCorrupt) {
		t.Errorf("unreachable is not corrupt: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
