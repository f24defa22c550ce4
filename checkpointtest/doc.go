// Package checkpointtest checks a rollback.Checkpointer against the
// contract rollback.Run relies on for exactly-once: round trips, phases
// that only move forward, one owner per key across clients, leases that
// end and are taken over, concurrent writers, and records that cannot be
// trusted (corrupt, or of an unknown version). Run it from a store's own
// tests, in the manner of gocloud.dev's drivertest:
//
//	func TestConformance(t *testing.T) {
//		checkpointtest.Run(t, func(t *testing.T) checkpointtest.Store {
//			dir := t.TempDir()
//			return checkpointtest.Store{
//				Client: func() rollback.Checkpointer { return rollback.FileCheckpoints{Dir: dir} },
//			}
//		})
//	}
//
// The in-memory store, FileCheckpoints and the PostgreSQL store pass it.
package checkpointtest
