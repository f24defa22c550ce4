package tencent_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// Roll a stopped Lighthouse instance back to a snapshot, against the
// emulator. Against the cloud, leave Endpoint empty and give real
// credentials (or the TENCENTCLOUD_* environment variables).
func Example() {
	clk := clock.NewAutoVirtual(time.Time{}) // minutes of cloud time in microseconds
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	defer srv.Close()
	in, _ := srv.AddInstance(tencenttest.Instance{ID: "lhins-example1", State: tencenttest.StateStopped})
	sn, _ := srv.AddSnapshot(tencenttest.Snapshot{ID: "lhsnap-example1", InstanceID: in.ID})

	c, err := tencent.New(tencent.Config{
		Region:    "ap-guangzhou",
		Endpoint:  srv.URL,
		SecretID:  tencenttest.DefaultSecretID,
		SecretKey: tencenttest.DefaultSecretKey,
	}, rollback.WithClock(clk))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	ctx := context.Background()
	res, err := c.Rollback(ctx, rollback.Request{Region: "ap-guangzhou", InstanceID: in.ID, SnapshotID: sn.ID, OperationKey: "ticket-1234"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("accepted:", res.RequestID != "", "attempts:", res.Attempts)

	inst, _ := c.Instance(ctx, "", in.ID)
	fmt.Println(inst.State, inst.LatestOperation.Name, inst.LatestOperation.State)

	clk.Advance(5 * time.Minute)
	inst, _ = c.Instance(ctx, "", in.ID)
	fmt.Println(inst.State, inst.LatestOperation.State, inst.LatestOperation.RequestID == res.RequestID)
	// Output:
	// accepted: true attempts: 1
	// rolling-back ApplyInstanceSnapshot running
	// stopped succeeded true
}
