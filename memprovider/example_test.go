package memprovider_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/memprovider"
)

// A user's unit test of code that calls rollback.Run: seed a server, run
// the rollback on a virtual clock (the minute it takes passes at once),
// then assert what the cloud saw and what the Report says.
func Example() {
	clk := clock.NewAutoVirtual(time.Time{})
	cloud := memprovider.New(memprovider.WithClock(clk))
	srv, err := cloud.AddServer(memprovider.ServerSpec{Running: true})
	if err != nil {
		panic(err)
	}

	rep, err := rollback.Run(context.Background(), cloud, srv.Request(), rollback.RunOptions{
		Clock: clk, StopIfRunning: true, StartAfter: true,
	})
	if err != nil {
		panic(err)
	}

	fmt.Println("rollbacks applied:", cloud.RollbacksOf(srv.InstanceID))
	fmt.Println("rollback calls:", cloud.Calls(memprovider.ActionRollback))
	for _, st := range rep.Steps {
		fmt.Println(st.Step, st.Outcome)
	}
	snap, _ := cloud.ViewSnapshot(srv.SnapshotID)
	fmt.Println("the snapshot names the rollback:", snap.LatestOperation.RequestID == rep.Result.RequestID)
	fmt.Println("instance after:", rep.InstanceAfter.State)
	// Output:
	// rollbacks applied: 1
	// rollback calls: 1
	// check done
	// stop done
	// rollback done
	// wait-rollback done
	// start done
	// the snapshot names the rollback: true
	// instance after: running
}

// The rollback call is applied but its reply is lost: the client cannot
// know, reads the cloud after the read grace, finds its own rollback (the
// snapshot's operation carries a new request ID) and adopts it instead of
// sending it again.
func Example_exactlyOnce() {
	clk := clock.NewAutoVirtual(time.Time{})
	cloud := memprovider.New(memprovider.WithClock(clk))
	srv, _ := cloud.AddServer(memprovider.ServerSpec{})
	if err := cloud.LoseNextReply(memprovider.ActionRollback); err != nil {
		panic(err)
	}

	rep, err := rollback.Run(context.Background(), cloud, srv.Request(), rollback.RunOptions{Clock: clk})
	if err != nil {
		panic(err)
	}
	fmt.Println("rollbacks applied:", cloud.RollbacksOf(srv.InstanceID))
	fmt.Println("rollback calls:", cloud.Calls(memprovider.ActionRollback))
	fmt.Println("adopted:", rep.Result.Adopted)
	// Output:
	// rollbacks applied: 1
	// rollback calls: 1
	// adopted: true
}

// Faults are injected per action with the sentinel a test expects its code
// to handle; the library retries what is worth retrying.
func Example_faults() {
	clk := clock.NewAutoVirtual(time.Time{})
	cloud := memprovider.New(memprovider.WithClock(clk))
	srv, _ := cloud.AddServer(memprovider.ServerSpec{})

	// Two throttled replies are retried; a permission error is not.
	_ = cloud.FailNext(memprovider.ActionRollback, 2, rollback.ErrThrottled)
	_, err := rollback.Run(context.Background(), cloud, srv.Request(), rollback.RunOptions{Clock: clk})
	fmt.Println("throttled twice:", err, "- calls:", cloud.Calls(memprovider.ActionRollback))

	other, _ := cloud.AddServer(memprovider.ServerSpec{})
	_ = cloud.FailNext(memprovider.ActionRollback, 1, rollback.ErrPermissionDenied)
	_, err = rollback.Run(context.Background(), cloud, other.Request(), rollback.RunOptions{Clock: clk})
	fmt.Println("denied:", errors.Is(err, rollback.ErrPermissionDenied), rollback.IsRetryable(err))
	// Output:
	// throttled twice: <nil> - calls: 3
	// denied: true false
}

// Open serves "mem://" URLs: the host is the region, servers=N seeds N
// stopped servers with a snapshot each.
func ExampleOpen() {
	u, _ := url.Parse("mem://eu-1?servers=2")
	p, err := memprovider.Open(context.Background(), u)
	if err != nil {
		panic(err)
	}
	in, err := p.Instance(context.Background(), "eu-1", "ins-000003")
	if err != nil {
		panic(err)
	}
	fmt.Println(in.ID, in.State, in.SystemDiskID)
	// Output: ins-000003 stopped disk-000003
}

// Someone else starts the server between Run's stop and its rollback: the
// rollback is not sent to a server that is starting, and the error says
// so (nothing was sent).
func Example_otherActor() {
	clk := clock.NewAutoVirtual(time.Time{})
	cloud := memprovider.New(memprovider.WithClock(clk))
	srv, _ := cloud.AddServer(memprovider.ServerSpec{Running: true})

	_, err := rollback.Run(context.Background(), cloud, srv.Request(), rollback.RunOptions{
		Clock: clk, StopIfRunning: true,
		Progress: func(ev rollback.Event) {
			if ev.Kind == rollback.EventStepStarted && ev.Step == rollback.StepRollback {
				_ = cloud.ActorStart(srv.InstanceID) // the console, a colleague
			}
		},
	})
	fmt.Println("error:", rollback.KindOf(err), "-", strings.Contains(err.Error(), "nothing was sent"))
	fmt.Println("rollbacks applied:", cloud.RollbacksOf(srv.InstanceID), "- rollback calls:", cloud.Calls(memprovider.ActionRollback))
	// Output:
	// error: resource busy - true
	// rollbacks applied: 0 - rollback calls: 0
}
