// Package cli is what the rollback and fleet commands share, so that they
// agree: one table of exit codes, one JSON schema for -json, one way to
// tell a terminal, one way to print durations, and -version. All the
// example programs share its -cloud flag (CloudFlags, CloudURL).
package cli
