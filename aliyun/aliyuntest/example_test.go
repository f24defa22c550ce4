package aliyuntest_test

import (
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
)

// Another actor resets the disk; the server counts it like any applied
// ResetDisk, and refuses a start while the disk is being reset.
func ExampleServer_ActorResetDisk() {
	clk := clock.NewVirtual(time.Time{})
	srv := aliyuntest.NewHandler(aliyuntest.WithClock(clk), aliyuntest.WithTokenWindow(time.Hour))
	in := aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	snap := aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
	if _, err := srv.ActorResetDisk(in.SystemDiskID, snap.ID); err != nil {
		fmt.Println(err)
	}
	fmt.Println(srv.RollbacksOf(in.SystemDiskID), srv.Calls(aliyuntest.ActionResetDisk))
	err := srv.ActorStartInstance(in.ID)
	fmt.Println(err.(*aliyuntest.ActorError).Code)
	// Output:
	// 1 0
	// IncorrectInstanceStatus
}
