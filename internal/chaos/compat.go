package chaos

import pchaos "github.com/cloudsnap/rollback/providertest/chaos"

// The outcome judging and the secret scan are public (providertest/chaos);
// these names keep the tests that use them from here (otel, credtest)
// unchanged.
type (
	// Capture is pchaos.Capture.
	Capture = pchaos.Capture
	// Scanner is pchaos.Scanner.
	Scanner = pchaos.Scanner
	// Outcome is pchaos.Outcome.
	Outcome = pchaos.Outcome
	// Target is pchaos.Target: a seeded instance, its disk and a ready
	// snapshot of it. Its Prior is an earlier rollback to the snapshot
	// (NewRolledBackTarget): its RollbackTime (SWAS, RFC 3339) or request
	// ID (Lighthouse).
	Target = pchaos.Target
	// Durations is pchaos.Durations.
	Durations = pchaos.Durations
)

var (
	// NewCapture is pchaos.NewCapture.
	NewCapture = pchaos.NewCapture
	// NewScanner is pchaos.NewScanner.
	NewScanner = pchaos.NewScanner
	// ErrorTexts is pchaos.ErrorTexts.
	ErrorTexts = pchaos.ErrorTexts
	// Sentinel is pchaos.Sentinel.
	Sentinel = pchaos.Sentinel
	// Observe is pchaos.Observe.
	Observe = pchaos.Observe
	// ParseOutcome is pchaos.ParseOutcome.
	ParseOutcome = pchaos.ParseOutcome
)
