//go:build race

package temporal

// raceEnabled: the race detector slows the Temporal test environment about
// fourfold, so the race run rolls back a smaller fleet (TestFleet1000).
const raceEnabled = true
