package acme_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

// TestSoak runs seeded random Runs through the emulator's faults (lost
// replies, server errors, throttling, busy servers, failed restores, read
// lag, another actor starting the server or restoring it from another
// snapshot mid-run) and holds the exactly-once invariants after each: a
// restore is never applied twice, a success names the one applied, and
// every failure is a typed error. A small stand-in for the library's chaos
// soak until that is public (branch chaos).
func TestSoak(t *testing.T) {
	const runs = 60
	r := rand.New(rand.NewPCG(17, 1))
	clk := auto()
	h := acmetest.NewHarness(t, clk, rollback.WithMaxAttempts(4))
	srv := h.Server
	var current atomic.Int64 // hooks of an earlier run do nothing
	outcomes := map[string]int{}
	for i := range runs {
		current.Store(int64(i))
		tg := h.NewTarget(t, r.IntN(2) == 0)
		mutating := []string{acmetest.ActionRestoreSnapshot, acmetest.ActionStopServer, acmetest.ActionStartServer}
		busy := false
		for range r.IntN(3) {
			action := mutating[r.IntN(len(mutating))]
			switch r.IntN(6) {
			case 0:
				srv.DropNextReply(action)
			case 1:
				srv.FailNext(action, acme.CodeInternalError, 1+r.IntN(2))
			case 2:
				srv.FailNext(action, acme.CodeThrottled, 1+r.IntN(3))
			case 3:
				srv.FailNext(acmetest.ActionDescribeServers, acme.CodeUnavailable, 1)
			case 4:
				srv.FailNextRestores(1)
			case 5:
				if !busy {
					busy = true
					h.MakeBusy(t, tg, time.Duration(1+r.IntN(60))*time.Second)
				}
			}
		}
		if r.IntN(4) == 0 {
			h.SetReadLag(time.Duration(r.IntN(15)) * time.Second)
		}
		if r.IntN(6) == 0 {
			run, foreign := int64(i), r.IntN(2) == 0
			srv.After(acmetest.ActionRestoreSnapshot, srv.Calls(acmetest.ActionRestoreSnapshot)+1, func() {
				if current.Load() != run {
					return
				}
				if foreign {
					_ = h.OtherActorRollback(tg)
				} else {
					_ = srv.ActorStart(tg.InstanceID)
				}
			})
		}
		req := h.Request(tg)
		req.OperationKey = fmt.Sprintf("soak-%d", i)
		o := runOpts(clk)
		o.StopIfRunning, o.StartAfter = true, r.IntN(2) == 0
		rep, err := rollback.Run(context.Background(), h.Client, req, o)
		srv.ClearFaults()
		h.SetReadLag(0)

		ours := srv.ClientRestores(tg.InstanceID)
		switch {
		case len(ours) > 1:
			t.Fatalf("run %d: restored %d times (%v); err %v", i, len(ours), ours, err)
		case err == nil && (len(ours) != 1 || rep.Result == nil || rep.Result.RequestID != ours[0]):
			t.Fatalf("run %d: success, but the client's restores are %v and the result %+v", i, ours, rep.Result)
		case err != nil && rollback.KindOf(err) == nil:
			t.Fatalf("run %d: untyped error %v", i, err)
		}
		kind := "ok"
		if err != nil {
			kind = rollback.KindOf(err).Error()
			if testing.Verbose() && !errors.Is(err, rollback.ErrRollbackFailed) {
				t.Logf("run %d: %v", i, err)
			}
			var e *rollback.Error
			if !errors.As(err, &e) {
				t.Fatalf("run %d: %v is no *rollback.Error", i, err)
			}
		}
		outcomes[kind]++
	}
	var keys []string
	for k := range outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%3d %s", outcomes[k], k)
	}
	if outcomes["ok"] < runs/2 {
		t.Fatalf("only %d of %d runs succeeded", outcomes["ok"], runs)
	}
}
