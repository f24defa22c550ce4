package providertest_test

import (
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/providertest"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// harness is a provider client over its emulator: here the Lighthouse
// client over tencenttest; for your provider, your client over your
// emulator or in-memory fake.
type harness struct {
	srv *tencenttest.Server
	p   *tencent.Client
}

// newHarness is the Factory: a fresh emulator and client per scenario,
// both on the suite's clock.
func newHarness(t *testing.T, clk clock.Clock, opts ...rollback.Option) providertest.Harness {
	srv := tencenttest.NewServer(tencenttest.WithClock(clk))
	t.Cleanup(srv.Close)
	p, err := tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: srv.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey},
		append([]rollback.Option{rollback.WithClock(clk)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &harness{srv: srv, p: p}
}

// The six required methods.

func (h *harness) Provider() rollback.Provider { return h.p }

func (h *harness) Request(tg providertest.Target) rollback.Request {
	return rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

func (h *harness) NewTarget(t testing.TB, running bool) providertest.Target {
	state := tencenttest.StateStopped
	if running {
		state = tencenttest.StateRunning
	}
	in, err := h.srv.AddInstance(tencenttest.Instance{State: state})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := h.srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	return providertest.Target{InstanceID: in.ID, DiskID: in.DiskID, SnapshotID: sn.ID}
}

func (h *harness) Durations() providertest.Durations {
	d := tencenttest.DefaultDurations
	return providertest.Durations{Stop: d.Stop, Start: d.Start, Rollback: d.Rollback, Snapshot: d.CreateSnapshot}
}

func (h *harness) Rollbacks(tg providertest.Target) int { return h.srv.RollbacksOf(tg.InstanceID) }

func (h *harness) Calls(kind providertest.Call) int {
	switch kind {
	case providertest.CallDescribe:
		return h.srv.Journal().Count("DescribeInstances") + h.srv.Journal().Count("DescribeSnapshots")
	case providertest.CallRollback:
		return h.srv.Journal().Count("ApplyInstanceSnapshot")
	case providertest.CallStop:
		return h.srv.Journal().Count("StopInstances")
	case providertest.CallStart:
		return h.srv.Journal().Count("StartInstances")
	case providertest.CallSnapshot:
		return h.srv.Journal().Count("CreateInstanceSnapshot")
	}
	return 0
}

// An optional knob: with it, the scenarios of a lost reply run too.
func (h *harness) LoseNextRollbackReply() {
	h.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", DropResponse: true})
}

// In your provider's tests:
//
//	func TestConformance(t *testing.T) { providertest.Run(t, newHarness) }
//
// Run it with -v to see which scenarios were skipped and which knob or
// capability each would need.
func Example() {
	conformance := func(t *testing.T) { providertest.Run(t, newHarness) }
	_ = conformance
}
