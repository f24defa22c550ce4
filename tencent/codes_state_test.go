package tencent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// The seed page's codes that the emulator produces from state (not from an
// injected fault) reach the caller of Rollback as their sentinels, with the
// cloud's code, and nothing is rolled back. Three states Rollback's own
// reads catch first (nothing is sent): their codes' mapping is held by
// TestStateCodesClassify.
func TestSeedPageCodesFromStateMapToSentinels(t *testing.T) {
	const limitedID, limitedKey = "AKIDlimitedProvider00000000000000001", "limitedProviderKey00000000000001"
	f := newFixture(t, fixtureOpts{
		emu: []tencenttest.Option{tencenttest.WithConcurrentRollbacks(1),
			tencenttest.WithCredentials(limitedID, limitedKey), tencenttest.WithDeniedActions(limitedID, "ApplyInstanceSnapshot")},
		opts: []rollback.Option{rollback.WithMaxAttempts(1)},
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	seed := func(in tencenttest.Instance) (tencenttest.Instance, tencenttest.Snapshot) {
		i := f.instance(in)
		return i, f.snapshot(tencenttest.Snapshot{InstanceID: i.ID})
	}
	stopped := tencenttest.Instance{State: tencenttest.StateStopped}
	tests := []struct {
		code string // "" when Rollback refuses before sending
		kind error
		arm  func() (tencenttest.Instance, tencenttest.Snapshot)
	}{
		{"", rollback.ErrSnapshotMismatch, func() (tencenttest.Instance, tencenttest.Snapshot) {
			in, sn := seed(stopped)
			_, err := f.srv.ReplaceSystemDisk(in.ID)
			must(err)
			return in, sn
		}},
		{"UnsupportedOperation.DiskBusy", rollback.ErrBusy, func() (tencenttest.Instance, tencenttest.Snapshot) {
			in, sn := seed(stopped)
			f.snapshot(tencenttest.Snapshot{InstanceID: in.ID, State: tencenttest.SnapshotCreating})
			return in, sn
		}},
		{"UnsupportedOperation.DiskLatestOperationUnfinished", rollback.ErrBusy, func() (tencenttest.Instance, tencenttest.Snapshot) {
			in, sn := seed(stopped)
			must(f.srv.SetDiskBusy(in.ID, "ResizeDisks", time.Hour))
			return in, sn
		}},
		{"", rollback.ErrSnapshotState, func() (tencenttest.Instance, tencenttest.Snapshot) {
			in := f.instance(stopped)
			return in, f.snapshot(tencenttest.Snapshot{InstanceID: in.ID,
				LatestOperation: tencenttest.OpCreateInstanceSnapshot, LatestOperationState: tencenttest.OperationFailed})
		}},
		{"", rollback.ErrInstanceState, func() (tencenttest.Instance, tencenttest.Snapshot) {
			now := f.clk.Now()
			return seed(tencenttest.Instance{State: tencenttest.StateStopped, CreatedTime: now.AddDate(-1, 0, 0), ExpiredTime: now.Add(-time.Hour)})
		}},
		{"UnsupportedOperation.SystemBusy", rollback.ErrBusy, func() (tencenttest.Instance, tencenttest.Snapshot) {
			other, otherSnap := seed(stopped)
			if _, err := f.c.Rollback(context.Background(), req(other, otherSnap)); err != nil {
				t.Fatal(err)
			}
			return seed(stopped)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.kind.Error()+tt.code, func(t *testing.T) {
			in, sn := tt.arm()
			before, sent := f.srv.Rollbacks(), f.srv.Calls("ApplyInstanceSnapshot")
			_, err := f.c.Rollback(context.Background(), req(in, sn))
			f.note(err)
			if !errors.Is(err, tt.kind) || asError(t, err).Code != tt.code {
				t.Errorf("case %d: err = %v, want %v with code %q", i, err, tt.kind, tt.code)
			}
			if f.srv.Rollbacks() != before {
				t.Error("a rollback was applied")
			}
			if tt.code == "" && f.srv.Calls("ApplyInstanceSnapshot") != sent {
				t.Error("sent a rollback its reads should have refused")
			}
		})
	}

	t.Run("UnauthorizedOperation.NoPermission", func(t *testing.T) {
		in, sn := seed(stopped)
		c, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: f.srv.URL, SecretID: limitedID, SecretKey: limitedKey},
			rollback.WithClock(f.clk), rollback.WithMaxAttempts(1))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Rollback(context.Background(), req(in, sn))
		if !errors.Is(err, rollback.ErrPermissionDenied) || asError(t, err).Code != "UnauthorizedOperation.NoPermission" {
			t.Errorf("err = %v", err)
		}
	})
}
