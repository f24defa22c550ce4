// Package pgtest starts a throwaway PostgreSQL server for tests: initdb in
// a temporary directory, pg_ctl start on 127.0.0.1 and a free port, and a
// new database per test. One server serves a whole test binary (start it
// in TestMain); Stop removes it with its directory.
//
// The server runs without durability (fsync off): it exists for a test
// run. initdb refuses to run as root, so when the tests run as root (CI,
// containers) the server runs as the "postgres" system user the PostgreSQL
// packages create, through runuser.
package pgtest
