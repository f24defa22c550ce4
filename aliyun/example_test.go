package aliyun_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
)

// Roll a disk back against the emulator. The client and the emulator share
// a virtual clock, so the 45-second rollback takes no real time.
func Example() {
	clk := clock.NewAutoVirtual(time.Time{})
	srv := aliyuntest.NewServer(aliyuntest.WithClock(clk))
	defer srv.Close()
	server := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	snap := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: server.SystemDiskID}))

	key := srv.Credential()
	c, err := aliyun.New(aliyun.Config{
		Region:          srv.Region(),
		Endpoint:        srv.URL, // empty in production: https://swas.<region>.aliyuncs.com
		AccessKeyID:     key.AccessKeyID,
		AccessKeySecret: key.AccessKeySecret,
	}, rollback.WithClock(clk))
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseIdleConnections()

	ctx := context.Background()
	res, err := c.Rollback(ctx, rollback.Request{
		Region:       srv.Region(),
		DiskID:       server.SystemDiskID,
		SnapshotID:   snap.ID,
		OperationKey: "ticket-1234", // a retry of this operation can never roll back twice
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("instance found from the disk:", res.InstanceID == server.ID)
	in, _ := c.Instance(ctx, srv.Region(), res.InstanceID)
	fmt.Println("now:", in.State)

	clk.Advance(srv.Durations().Rollback)
	in, _ = c.Instance(ctx, srv.Region(), res.InstanceID)
	after, _ := c.Snapshot(ctx, srv.Region(), snap.ID)
	fmt.Println("then:", in.State, "- rolled back:", after.LastRollbackAt.After(res.Before.LastRollbackAt))

	// SWAS rolls back only Stopped servers.
	running := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusRunning}))
	snap2 := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: running.SystemDiskID}))
	_, err = c.Rollback(ctx, rollback.Request{Region: srv.Region(), DiskID: running.SystemDiskID, SnapshotID: snap2.ID})
	fmt.Println("running server refused:", errors.Is(err, rollback.ErrInstanceState))
	// Output:
	// instance found from the disk: true
	// now: rolling-back
	// then: stopped - rolled back: true
	// running server refused: true
}
