package pgstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tables are the quoted, schema-qualified table names.
type tables struct {
	cp, slots, windows string
	slotIndex          string // the slots index, unqualified (it lives in its table's schema)
}

func (o Options) tables() tables {
	cp, rate := o.Table, o.RateTable
	if cp == "" {
		cp = DefaultTable
	}
	if rate == "" {
		rate = DefaultRateTable
	}
	return tables{cp: ident(cp), slots: ident(rate), windows: ident(rate + "_windows"), slotIndex: strings.ReplaceAll(rate, ".", "_") + "_key_slot"}
}

// ident quotes a possibly schema-qualified name, so that any name is safe
// to put in SQL.
func ident(name string) string { return pgx.Identifier(strings.Split(name, ".")).Sanitize() }

// schemaLock serialises concurrent migrations of one database (CREATE ...
// IF NOT EXISTS can still collide in the catalog when two run at once).
const schemaLock = 0x726f6c6c6261636b // "rollback"

func migrate(ctx context.Context, db DB, t tables) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return dbError("creating tables", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	stmts := []string{
		"SELECT pg_advisory_xact_lock(" + fmt.Sprint(schemaLock) + ")",
		`CREATE TABLE IF NOT EXISTS ` + t.cp + ` (
			key         text PRIMARY KEY,
			version     integer NOT NULL,
			record      text NOT NULL,
			phase       text NOT NULL DEFAULT '',
			owner       text NOT NULL DEFAULT '',
			lease_until timestamptz,
			updated     timestamptz NOT NULL DEFAULT now()
		)`,
		`CREATE TABLE IF NOT EXISTS ` + t.windows + ` (
			key text PRIMARY KEY
		)`,
		`CREATE TABLE IF NOT EXISTS ` + t.slots + ` (
			key  text NOT NULL,
			slot timestamptz NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS ` + ident(t.slotIndex) + ` ON ` + t.slots + ` (key, slot)`,
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return dbError("creating tables", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return dbError("creating tables", err)
	}
	return nil
}
