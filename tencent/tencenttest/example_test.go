package tencenttest_test

import (
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// Another actor stops the instance while reads lag: the test's own view
// shows the change at once, DescribeInstances only after the lag.
func ExampleServer_ActorStopInstance() {
	clk := clock.NewVirtual(time.Time{})
	srv := tencenttest.New(tencenttest.WithClock(clk), tencenttest.WithReadLag(30*time.Second))
	in, _ := srv.AddInstance(tencenttest.Instance{State: tencenttest.StateRunning})
	if err := srv.ActorStopInstance(in.ID); err != nil {
		fmt.Println(err)
	}
	got, _ := srv.Instance(in.ID)
	fmt.Println(got.State, got.LatestOperation)
	// A second stop is refused as the API would refuse it.
	fmt.Println(srv.ActorStopInstance(in.ID) != nil)
	// Output:
	// STOPPING StopInstances
	// true
}

// Before runs test code at a chosen request, here to start the instance
// just before the client's first ApplyInstanceSnapshot is handled.
func ExampleServer_Before() {
	srv := tencenttest.New()
	in, _ := srv.AddInstance(tencenttest.Instance{State: tencenttest.StateStopped})
	srv.Before("ApplyInstanceSnapshot", 1, func() {
		_ = srv.ActorStartInstance(in.ID)
	})
	// ... point a client at the server and roll back ...
	fmt.Println("armed")
	// Output: armed
}
