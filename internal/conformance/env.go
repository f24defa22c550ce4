// Package conformance is the one suite of rollback.Run scenarios that every
// provider must pass, run against each provider's wire-level emulator
// through the official SDK (see aliyun_test.go and tencent_test.go). A
// provider is correct when the same table passes for it unchanged.
package conformance

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// Target is a seeded instance, its system disk and a ready snapshot of it.
type Target struct {
	InstanceID, DiskID, SnapshotID string
}

// Durations are how long the emulator's operations take.
type Durations struct {
	Stop, Start, Rollback, Snapshot time.Duration
}

// Call kinds counted by Env.Calls.
const (
	CallRollback = "rollback"
	CallStop     = "stop"
	CallStart    = "start"
	CallSnapshot = "snapshot"
	CallDescribe = "describe" // every read of instances, disks and snapshots
)

// Env is one provider client over its emulator, with the seeding and fault
// knobs the scenarios need.
type Env interface {
	Name() string
	Provider() rollback.Provider
	Region() string
	Durations() Durations
	// Request returns the provider's minimal request for tg.
	Request(tg Target) rollback.Request
	// NewTarget seeds an instance (running or stopped) with a ready
	// snapshot of its system disk.
	NewTarget(t *testing.T, running bool) Target
	// OtherDiskSnapshot seeds another instance and returns a ready
	// snapshot of its disk.
	OtherDiskSnapshot(t *testing.T) string
	// CreatingSnapshot seeds a snapshot of tg's disk that is still being
	// created.
	CreatingSnapshot(t *testing.T, tg Target) string
	// MakeBusy puts an operation in progress on the instance for d.
	MakeBusy(t *testing.T, tg Target, d time.Duration)
	FailNextRollback()
	// LoseNextRollbackResponse applies the next rollback call, then drops
	// the connection without a reply.
	LoseNextRollbackResponse()
	// Rollbacks counts rollbacks applied to tg.
	Rollbacks(tg Target) int
	// Calls counts calls of a kind received by the emulator.
	Calls(kind string) int
	// ForgetTokens makes the emulator forget every client token it has
	// seen (a no-op for clouds without tokens), as the cloud does after a
	// while.
	ForgetTokens()
	// OtherActorStart starts the instance as someone else would (the
	// console, another tool).
	OtherActorStart(t *testing.T, tg Target)
}

// Factory builds an Env on a fresh emulator with the given clock; opts go
// to the provider client.
type Factory func(t *testing.T, clk clock.Clock, opts ...rollback.Option) Env
