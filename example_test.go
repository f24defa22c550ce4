package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// emulated returns a Lighthouse client over an in-process emulator with one
// instance in the given state and a snapshot of its system disk, on a
// virtual clock: minutes of cloud time pass in microseconds. Real programs
// call tencent.New with a region and credentials from the environment.
func emulated(state string) (*tencent.Client, *tencenttest.Server, clock.Clock) {
	clk := clock.NewAutoVirtual(time.Time{})
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	if _, err := srv.AddInstance(tencenttest.Instance{ID: "lhins-web00001", DiskID: "lhdisk-web00001", State: state}); err != nil {
		panic(err)
	}
	if _, err := srv.AddSnapshot(tencenttest.Snapshot{ID: "lhsnap-nightly1", InstanceID: "lhins-web00001"}); err != nil {
		panic(err)
	}
	p, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, rollback.WithClock(clk))
	if err != nil {
		panic(err)
	}
	return p, srv, clk
}

// Run rolls a running server back safely: it stops it, snapshots the
// current disk so the rollback can be undone, rolls back exactly once,
// waits, and starts it again.
func ExampleRun() {
	p, srv, clk := emulated("RUNNING")
	defer srv.Close()

	rep, err := rollback.Run(context.Background(), p, rollback.Request{
		Region:       "ap-guangzhou",
		InstanceID:   "lhins-web00001",
		SnapshotID:   "lhsnap-nightly1",
		OperationKey: "incident-4711", // run again after a crash: resumed, never applied twice
	}, rollback.RunOptions{
		StopIfRunning:  true,
		SafetySnapshot: true,
		StartAfter:     true,
		Clock:          clk, // the emulator's clock; omit it in real use
	})
	if err != nil {
		fmt.Println("rollback failed:", err)
		return
	}
	for _, st := range rep.Steps {
		fmt.Println(st.Step, st.Outcome)
	}
	fmt.Println("instance:", rep.InstanceBefore.State, "->", rep.InstanceAfter.State)
	fmt.Println("rollbacks applied:", srv.Rollbacks())
	// Output:
	// check done
	// stop done
	// safety-snapshot done
	// rollback done
	// wait-rollback done
	// start done
	// instance: running -> running
	// rollbacks applied: 1
}

// A dry run makes every check and returns the plan, changing nothing.
func ExampleRun_dryRun() {
	p, srv, clk := emulated("RUNNING")
	defer srv.Close()

	rep, err := rollback.Run(context.Background(), p, rollback.Request{
		Region: "ap-guangzhou", InstanceID: "lhins-web00001", SnapshotID: "lhsnap-nightly1",
		OperationKey: "incident-4711",
	}, rollback.RunOptions{StopIfRunning: true, DryRun: true, Clock: clk})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, step := range rep.Plan {
		fmt.Printf("%d. %s\n", i+1, step)
	}
	// Output:
	// 1. stop instance lhins-web00001 and wait until it is stopped
	// 2. roll back disk lhdisk-web00001 of instance lhins-web00001 to snapshot lhsnap-nightly1 (operation rb-421839ab9fbd2a4b3fe77b89c4f27d886b8252f7)
	// 3. wait until the rollback has finished
}

// Errors say what went wrong and what to do, and match sentinels with
// errors.Is. Here the instance is running and Run was not asked to stop it:
// nothing is changed.
func ExampleRun_errors() {
	p, srv, clk := emulated("RUNNING")
	defer srv.Close()

	_, err := rollback.Run(context.Background(), p, rollback.Request{
		Region: "ap-guangzhou", InstanceID: "lhins-web00001", SnapshotID: "lhsnap-nightly1",
	}, rollback.RunOptions{Clock: clk})
	fmt.Println(errors.Is(err, rollback.ErrInstanceState), rollback.KindOf(err) == rollback.ErrInstanceState)
	fmt.Println(err)
	// Output:
	// true true
	// rollback: check: tencent: instance in wrong state: instance lhins-web00001 is running; stop it first, or let Run stop it with RunOptions.StopIfRunning (the rollback command: -stop)
}

// RunBatch rolls back many servers at once: each gets Run's checks and
// guarantees, and their reads are batched.
func ExampleRunBatch() {
	clk := clock.NewScaled(1000) // many goroutines: a scaled clock, not a virtual one
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	defer srv.Close()
	p, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}, rollback.WithClock(clk))
	if err != nil {
		panic(err)
	}
	var reqs []rollback.Request
	for i := range 20 {
		in, _ := srv.AddInstance(tencenttest.Instance{State: "STOPPED"})
		sn, _ := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
		reqs = append(reqs, rollback.Request{Region: "ap-guangzhou", InstanceID: in.ID, SnapshotID: sn.ID,
			OperationKey: fmt.Sprintf("wave-1/%d", i)})
	}
	ok := 0
	for _, r := range rollback.RunBatch(context.Background(), p, reqs, rollback.RunOptions{Clock: clk}, rollback.BatchOptions{}) {
		if r.Err == nil {
			ok++
		}
	}
	fmt.Printf("%d of %d rolled back, %d applied\n", ok, len(reqs), srv.Rollbacks())
	// Output:
	// 20 of 20 rolled back, 20 applied
}
