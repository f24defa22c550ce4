package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
)

// Store is one new, empty store under test.
type Store struct {
	// Client returns a client of the store. Each call should return a new
	// client (a new connection pool, a new handle on the same directory)
	// where the store has such a notion, so that ownership is checked
	// across clients as across processes.
	Client func() rollback.Checkpointer
	// WriteRaw, when set, stores record as key's raw stored form (the JSON
	// that Save would write), bypassing every check, so that the suite can
	// plant corrupt and unknown-version records. Stores that keep no
	// serialized form leave it nil and those checks are skipped.
	WriteRaw func(key string, record []byte) error
}

// t0 is the suite's clock: leases are judged on the times the caller
// passes, so no test sleeps.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Run runs the suite; open makes a new, empty store for each test.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"MissingKey", testMissing},
		{"PhasesOnlyForward", testForward},
		{"OneOwnerAcrossClients", testOwnership},
		{"SaveByNonOwnerRefused", testForeignSave},
		{"LeaseExpiryAndTakeover", testExpiry},
		{"SaveRenewsLease", testRenewal},
		{"ReleaseKeepsCheckpoint", testRelease},
		{"ReleaseOfClaimOnly", testReleaseClaim},
		{"ConcurrentClaimants", testConcurrentClaims},
		{"ConcurrentTakeover", testConcurrentTakeover},
		{"ConcurrentWriters", testConcurrentWriters},
		{"CorruptRecord", testCorrupt},
		{"UnknownVersion", testUnknownVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func sample(key string, phase rollback.Phase, owner string, now time.Time) *rollback.Checkpoint {
	return &rollback.Checkpoint{
		Key:     key,
		Request: rollback.Request{Region: "ap-guangzhou", InstanceID: "lhins-1", DiskID: "lhdisk-1", SnapshotID: "lhsnap-1", ClientToken: "tok-1", OperationKey: key},
		Phase:   phase,
		Before: &rollback.Snapshot{Provider: "tencent", ID: "lhsnap-1", LastRollbackAt: t0.Add(-time.Hour),
			LatestOperation: rollback.Operation{Kind: rollback.OpCreateSnapshot, Name: "CreateInstanceSnapshot", RequestID: "req-0"}},
		Result:           &rollback.Result{Provider: "tencent", RequestID: "req-1", ClientToken: "tok-1", Attempts: 2, InstanceID: "lhins-1"},
		SafetySnapshotID: "lhsnap-2",
		Updated:          now,
		Owner:            owner,
		LeaseUntil:       now.Add(time.Minute),
	}
}

func lease(owner string, now time.Time) rollback.Lease {
	return rollback.Lease{Owner: owner, Now: now, TTL: time.Minute}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantKind(t *testing.T, err, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got %v, want an error matching %v", what, err, kind)
	}
}

func testRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	c := s.Client()
	_, err := c.Acquire(ctx, "k", lease("a", t0))
	must(t, err, "Acquire")
	want := sample("k", rollback.PhaseRollbackSent, "a", t0)
	must(t, c.Save(ctx, want), "Save")
	got, err := s.Client().Load(ctx, "k")
	must(t, err, "Load")
	if got == nil {
		t.Fatal("Load after Save: nil")
	}
	if got.Version != rollback.CheckpointVersion {
		t.Errorf("Version = %d, want %d (the schema version is stored)", got.Version, rollback.CheckpointVersion)
	}
	if got.Key != "k" || got.Phase != want.Phase || got.Request != want.Request || got.SafetySnapshotID != "lhsnap-2" ||
		!got.Updated.Equal(want.Updated) || got.Owner != "a" || !got.LeaseUntil.Equal(want.LeaseUntil) {
		t.Errorf("loaded %+v, want %+v", got, want)
	}
	if got.Before == nil || got.Before.LatestOperation.RequestID != "req-0" || !got.Before.LastRollbackAt.Equal(want.Before.LastRollbackAt) {
		t.Errorf("Before = %+v", got.Before)
	}
	if got.Result == nil || got.Result.RequestID != "req-1" || got.Result.Attempts != 2 {
		t.Errorf("Result = %+v", got.Result)
	}
	// The store keeps its own copy.
	got.Phase = rollback.PhaseDone
	again, err := c.Load(ctx, "k")
	must(t, err, "Load")
	if again.Phase != rollback.PhaseRollbackSent {
		t.Errorf("changing a loaded checkpoint changed the store: phase %q", again.Phase)
	}
}

func testMissing(t *testing.T, s Store) {
	cp, err := s.Client().Load(context.Background(), "nobody")
	if cp != nil || err != nil {
		t.Fatalf("Load of a missing key = %+v, %v; want nil, nil", cp, err)
	}
}

func testForward(t *testing.T, s Store) {
	ctx := context.Background()
	c := s.Client()
	_, err := c.Acquire(ctx, "k", lease("a", t0))
	must(t, err, "Acquire")
	must(t, c.Save(ctx, sample("k", rollback.PhaseRollbackSent, "a", t0)), "Save rollback-sent")
	must(t, c.Save(ctx, sample("k", rollback.PhaseRollbackSent, "a", t0.Add(time.Second))), "Save the same phase again")
	err = c.Save(ctx, sample("k", rollback.PhaseChecked, "a", t0.Add(2*time.Second)))
	wantKind(t, err, rollback.ErrCheckpointConflict, "Save of an earlier phase")
	got, err := c.Load(ctx, "k")
	must(t, err, "Load")
	if got.Phase != rollback.PhaseRollbackSent {
		t.Errorf("phase after a refused backwards Save: %q", got.Phase)
	}
	must(t, c.Save(ctx, sample("k", rollback.PhaseDone, "a", t0.Add(3*time.Second))), "Save done")
}

func testOwnership(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := s.Client(), s.Client()
	if cp, err := a.Acquire(ctx, "k", lease("a", t0)); err != nil || cp != nil {
		t.Fatalf("first Acquire = %+v, %v; want nil, nil", cp, err)
	}
	_, err := b.Acquire(ctx, "k", lease("b", t0.Add(time.Second)))
	wantKind(t, err, rollback.ErrKeyHeld, "Acquire of a held key by another client")
	if !errors.Is(err, rollback.ErrBusy) || rollback.KindOf(err) != rollback.ErrKeyHeld {
		t.Errorf("ErrKeyHeld is ErrBusy and KindOf says so: %v (kind %v)", err, rollback.KindOf(err))
	}
	// The holder may acquire again (renew).
	_, err = a.Acquire(ctx, "k", lease("a", t0.Add(2*time.Second)))
	must(t, err, "Acquire by the holder")
	must(t, a.Save(ctx, sample("k", rollback.PhaseStopped, "a", t0.Add(3*time.Second))), "Save by the holder")
	must(t, a.Release(ctx, "k", "a"), "Release")
	cp, err := b.Acquire(ctx, "k", lease("b", t0.Add(4*time.Second)))
	must(t, err, "Acquire after Release")
	if cp == nil || cp.Phase != rollback.PhaseStopped || cp.Owner != "b" {
		t.Fatalf("Acquire after Release returned %+v; want the stored checkpoint, now owned by b", cp)
	}
	_, err = a.Acquire(ctx, "k", lease("a", t0.Add(5*time.Second)))
	wantKind(t, err, rollback.ErrKeyHeld, "Acquire by the former holder")
}

func testForeignSave(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := s.Client(), s.Client()
	_, err := a.Acquire(ctx, "k", lease("a", t0))
	must(t, err, "Acquire")
	must(t, a.Save(ctx, sample("k", rollback.PhaseRollbackSending, "a", t0)), "Save")
	err = b.Save(ctx, sample("k", rollback.PhaseDone, "b", t0.Add(time.Second)))
	wantKind(t, err, rollback.ErrCheckpointConflict, "Save by a client that does not hold the key")
	wantKind(t, err, rollback.ErrKeyHeld, "Save by a client that does not hold the key")
	err = b.Save(ctx, sample("k", rollback.PhaseDone, "", t0.Add(time.Second)))
	wantKind(t, err, rollback.ErrCheckpointConflict, "Save with no owner while the key is held")
	got, err := a.Load(ctx, "k")
	must(t, err, "Load")
	if got.Phase != rollback.PhaseRollbackSending || got.Owner != "a" {
		t.Errorf("a refused Save changed the record: %+v", got)
	}
}

func testExpiry(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := s.Client(), s.Client()
	_, err := a.Acquire(ctx, "k", lease("a", t0)) // until t0+1m
	must(t, err, "Acquire")
	must(t, a.Save(ctx, sample("k", rollback.PhaseRollbackSending, "a", t0)), "Save")
	_, err = b.Acquire(ctx, "k", lease("b", t0.Add(59*time.Second)))
	wantKind(t, err, rollback.ErrKeyHeld, "Acquire before the lease ends")
	cp, err := b.Acquire(ctx, "k", lease("b", t0.Add(61*time.Second)))
	must(t, err, "Acquire after the lease ended")
	if cp == nil || cp.Phase != rollback.PhaseRollbackSending || cp.Request.SnapshotID != "lhsnap-1" {
		t.Fatalf("takeover returned %+v; want the dead owner's checkpoint", cp)
	}
	// The former owner, back from a long pause, can no longer write...
	err = a.Save(ctx, sample("k", rollback.PhaseRollbackSent, "a", t0.Add(62*time.Second)))
	wantKind(t, err, rollback.ErrKeyHeld, "Save by the owner whose lease was taken over")
	// ...nor release the new owner's claim.
	must(t, a.Release(ctx, "k", "a"), "Release by the former owner")
	_, err = a.Acquire(ctx, "k", lease("c", t0.Add(63*time.Second)))
	wantKind(t, err, rollback.ErrKeyHeld, "Acquire after a former owner's Release")
}

func testRenewal(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := s.Client(), s.Client()
	_, err := a.Acquire(ctx, "k", lease("a", t0))
	must(t, err, "Acquire")
	must(t, a.Save(ctx, sample("k", rollback.PhaseStopped, "a", t0.Add(50*time.Second))), "Save (renews to t0+110s)")
	_, err = b.Acquire(ctx, "k", lease("b", t0.Add(100*time.Second)))
	wantKind(t, err, rollback.ErrKeyHeld, "Acquire within the renewed lease")
	_, err = a.Acquire(ctx, "k", lease("a", t0.Add(105*time.Second))) // renews to t0+165s
	must(t, err, "Acquire by the holder (renewal)")
	_, err = b.Acquire(ctx, "k", lease("b", t0.Add(160*time.Second)))
	wantKind(t, err, rollback.ErrKeyHeld, "Acquire within the lease renewed by Acquire")
}

func testRelease(t *testing.T, s Store) {
	ctx := context.Background()
	c := s.Client()
	_, err := c.Acquire(ctx, "k", lease("a", t0))
	must(t, err, "Acquire")
	must(t, c.Save(ctx, sample("k", rollback.PhaseDone, "a", t0)), "Save")
	must(t, c.Release(ctx, "k", "a"), "Release")
	got, err := s.Client().Load(ctx, "k")
	must(t, err, "Load")
	if got == nil || got.Phase != rollback.PhaseDone || got.Owner != "" {
		t.Fatalf("after Release: %+v; want the checkpoint kept with no owner", got)
	}
	must(t, c.Release(ctx, "k", "a"), "a second Release")
	must(t, c.Release(ctx, "nobody", "a"), "Release of a missing key")
}

func testReleaseClaim(t *testing.T, s Store) {
	ctx := context.Background()
	c := s.Client()
	_, err := c.Acquire(ctx, "k", lease("a", t0))
	must(t, err, "Acquire")
	got, err := c.Load(ctx, "k")
	must(t, err, "Load of a claimed key")
	if got == nil || got.Phase != "" || got.Owner != "a" {
		t.Fatalf("Load of a claim = %+v; want an empty phase owned by a", got)
	}
	must(t, c.Release(ctx, "k", "a"), "Release")
	if got, err := c.Load(ctx, "k"); got != nil || err != nil {
		t.Fatalf("Load after releasing a bare claim = %+v, %v; want nil, nil", got, err)
	}
}

func testConcurrentClaims(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	won := make(chan string, n)
	errs := make(chan error, n)
	for i := range n {
		c := s.Client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("o%d", i)
			_, err := c.Acquire(ctx, "k", lease(owner, t0))
			switch {
			case err == nil:
				won <- owner
			case !errors.Is(err, rollback.ErrKeyHeld):
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(won)
	close(errs)
	for err := range errs {
		t.Errorf("Acquire: %v", err)
	}
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d claimants won the same key at once: %v; want exactly one", len(winners), winners)
	}
	// Different keys never contend.
	var wg2 sync.WaitGroup
	for i := range n {
		c := s.Client()
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			key := fmt.Sprintf("key-%d", i)
			if _, err := c.Acquire(ctx, key, lease("o", t0)); err != nil {
				t.Errorf("Acquire %s: %v", key, err)
			}
		}()
	}
	wg2.Wait()
}

// testConcurrentTakeover: claimants racing for a key whose owner died (its
// lease ended) — the path of an existing record, not of a new one, which a
// store may lock differently — still leave exactly one owner.
func testConcurrentTakeover(t *testing.T, s Store) {
	ctx := context.Background()
	dead := s.Client()
	_, err := dead.Acquire(ctx, "k", lease("dead", t0))
	must(t, err, "Acquire")
	must(t, dead.Save(ctx, sample("k", rollback.PhaseRollbackSending, "dead", t0)), "Save")
	const n = 8
	later := t0.Add(2 * time.Minute)
	var wg sync.WaitGroup
	won := make(chan string, n)
	for i := range n {
		c := s.Client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("o%d", i)
			cp, err := c.Acquire(ctx, "k", lease(owner, later))
			switch {
			case err == nil && (cp == nil || cp.Phase != rollback.PhaseRollbackSending):
				t.Errorf("%s took over and got %+v; want the dead owner's checkpoint", owner, cp)
			case err == nil:
				won <- owner
			case !errors.Is(err, rollback.ErrKeyHeld):
				t.Errorf("Acquire: %v", err)
			}
		}()
	}
	wg.Wait()
	close(won)
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d claimants took over the same key at once: %v; want exactly one", len(winners), winners)
	}
	got, err := dead.Load(ctx, "k")
	must(t, err, "Load")
	if got.Owner != winners[0] {
		t.Errorf("owner after the takeover: %q; want %q", got.Owner, winners[0])
	}
}

func testConcurrentWriters(t *testing.T, s Store) {
	ctx := context.Background()
	owner := s.Client()
	_, err := owner.Acquire(ctx, "k", lease("a", t0))
	must(t, err, "Acquire")
	phases := []rollback.Phase{rollback.PhaseChecked, rollback.PhaseStopped, rollback.PhaseBackedUp,
		rollback.PhaseRollbackSending, rollback.PhaseRollbackSent, rollback.PhaseRollbackDone, rollback.PhaseDone}
	// The owner's writes race stale writes by another client: whatever the
	// order, the record never moves back and ends at done.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i, p := range phases {
			if err := owner.Save(ctx, sample("k", p, "a", t0.Add(time.Duration(i)*time.Second))); err != nil {
				t.Errorf("owner Save %s: %v", p, err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		other := s.Client()
		for i := range phases {
			err := other.Save(ctx, sample("k", rollback.PhaseChecked, "z", t0.Add(time.Duration(i)*time.Second)))
			if !errors.Is(err, rollback.ErrCheckpointConflict) {
				t.Errorf("stale writer's Save: %v; want ErrCheckpointConflict", err)
			}
		}
	}()
	wg.Wait()
	got, err := owner.Load(ctx, "k")
	must(t, err, "Load")
	if got.Phase != rollback.PhaseDone || got.Owner != "a" {
		t.Errorf("after racing writers: phase %q owner %q; want done, a", got.Phase, got.Owner)
	}
}

func testCorrupt(t *testing.T, s Store) {
	if s.WriteRaw == nil {
		t.Skip("the store keeps no serialized form (Store.WriteRaw is nil)")
	}
	ctx := context.Background()
	must(t, s.WriteRaw("k", []byte("{not json")), "WriteRaw")
	c := s.Client()
	_, err := c.Load(ctx, "k")
	wantKind(t, err, rollback.ErrCheckpointCorrupt, "Load of a corrupt record")
	_, err = c.Acquire(ctx, "k", lease("a", t0))
	wantKind(t, err, rollback.ErrCheckpointCorrupt, "Acquire of a corrupt record")
	err = c.Save(ctx, sample("k", rollback.PhaseChecked, "a", t0))
	wantKind(t, err, rollback.ErrCheckpointCorrupt, "Save over a corrupt record")
}

func testUnknownVersion(t *testing.T, s Store) {
	if s.WriteRaw == nil {
		t.Skip("the store keeps no serialized form (Store.WriteRaw is nil)")
	}
	ctx := context.Background()
	rec := fmt.Sprintf(`{"version":%d,"key":"k","phase":"checked","request":{"Region":"ap-guangzhou","SnapshotID":"lhsnap-1"},"updated":"2026-01-01T00:00:00Z"}`,
		rollback.CheckpointVersion+1)
	must(t, s.WriteRaw("k", []byte(rec)), "WriteRaw")
	c := s.Client()
	_, err := c.Load(ctx, "k")
	wantKind(t, err, rollback.ErrCheckpointCorrupt, "Load of a record of an unknown version")
	_, err = c.Acquire(ctx, "k", lease("a", t0))
	wantKind(t, err, rollback.ErrCheckpointCorrupt, "Acquire of a record of an unknown version")
}
