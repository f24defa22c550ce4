package acmetest_test

import (
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/providertest"

	"example.com/acmecloud/acmetest"
)

// TestConformance runs the library's conformance suite against the Acme
// client over its emulator.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T, clk clock.Clock, opts ...rollback.Option) providertest.Harness {
		return suiteHarness{acmetest.NewHarness(t, clk, opts...)}
	})
}

// suiteHarness converts acmetest.Harness's types to providertest's.
type suiteHarness struct{ *acmetest.Harness }

func (h suiteHarness) Request(tg providertest.Target) rollback.Request {
	return h.Harness.Request(acmetest.Target(tg))
}
func (h suiteHarness) NewTarget(t testing.TB, running bool) providertest.Target {
	return providertest.Target(h.Harness.NewTarget(t, running))
}
func (h suiteHarness) Durations() providertest.Durations {
	return providertest.Durations(h.Harness.Durations())
}
func (h suiteHarness) Rollbacks(tg providertest.Target) int {
	return h.Harness.Rollbacks(acmetest.Target(tg))
}
func (h suiteHarness) Calls(kind providertest.Call) int { return h.Harness.Calls(string(kind)) }
func (h suiteHarness) CreatingSnapshot(t testing.TB, tg providertest.Target) string {
	return h.Harness.CreatingSnapshot(t, acmetest.Target(tg))
}
func (h suiteHarness) MakeBusy(t testing.TB, tg providertest.Target, d time.Duration) {
	h.Harness.MakeBusy(t, acmetest.Target(tg), d)
}
func (h suiteHarness) OtherActorStart(tg providertest.Target) error {
	return h.Server.ActorStart(tg.InstanceID)
}
func (h suiteHarness) OtherActorRollback(tg providertest.Target) error {
	return h.Harness.OtherActorRollback(acmetest.Target(tg))
}
func (h suiteHarness) AbsentTarget() providertest.Target {
	return providertest.Target(h.Harness.AbsentTarget())
}
