package chaos

import (
	"fmt"
	"sort"

	"github.com/cloudsnap/rollback"
)

// runFacts are what the judge knows about one Run (or one batch item).
type runFacts struct {
	profile       Profile
	running, stop bool
	start         bool
	failRollback  bool // a rollback failure was armed (for this run, or the batch)
	fired         map[FaultKind]bool
	readFaulted   bool // a fault fired on a read
	ambiguousMut  bool // an ambiguous fault (5xx, reset, lost or slow reply) fired on a mutation
	// shortTimeout: the unit's client has the short per-attempt timeout of
	// slow-reply units (soakSlowTimeout), which a loaded machine can trip
	// on a call no fault slowed.
	shortTimeout bool
	batch        bool // an item of RunBatch (on a scaled clock)
	resumed      bool // a Run resumed after a crashed one (the facts are the resumed Run's)
	// cannotTell: a keyed Run with no checkpoint that outlives the process,
	// on a snapshot rolled back to before (by another operation, or by its
	// own crashed Run), on a cloud with no operation mark
	// (Traits.NoOperationMark): it must refuse with ErrOutcomeUnknown
	// rather than risk a second rollback.
	cannotTell bool
	fromState  bool // resumed without checkpoints: only the cloud's state to go by
	err        error
	rep        *rollback.Report
	applied    int
	succeeded  bool // the cloud finished a rollback of the target successfully
	state      rollback.InstanceState
}

// resentAfterFailure says whether a second rollback is the documented
// exception: the crashed Run's rollback ended FAILED in the cloud, and the
// Run resumed from state sent it again (Run ignores failed operations when
// it looks for an earlier attempt's rollback; with checkpoints it reports
// ErrRollbackFailed instead). One rollback still succeeded at most.
func (f runFacts) resentAfterFailure() bool {
	return f.applied == 2 && f.fromState && f.fired[FaultFailRollback]
}

// judge returns every invariant the outcome breaks:
//
//   - never more than one rollback applied to a target;
//   - success: exactly one applied, and the instance running if StartAfter,
//     else stopped;
//   - an accepted rollback (Report.Result) was applied exactly once;
//   - a rollback applied is never reported as failing before it was
//     accepted, unless as ErrOutcomeUnknown;
//   - a failure's sentinel is one the faults that fired can cause;
//     ErrRollbackFailed only when a rollback failure was injected and
//     applied; ErrOutcomeUnknown only when a mutation may have landed and
//     reads were faulted too (or the cloud's Traits say it cannot tell).
func judge(f runFacts) []string {
	var bad []string
	once := f.applied == 1 || f.resentAfterFailure()
	if f.applied > 1 && !f.resentAfterFailure() {
		bad = append(bad, fmt.Sprintf("DOUBLE ROLLBACK: %d applied", f.applied))
	}
	want := rollback.InstanceStopped
	if f.start {
		want = rollback.InstanceRunning
	}
	if f.err == nil {
		if !once {
			bad = append(bad, fmt.Sprintf("success with %d rollbacks applied", f.applied))
		}
		if !f.succeeded {
			bad = append(bad, "FALSE SUCCESS: the cloud's rollback did not succeed")
		}
		if f.state != want {
			bad = append(bad, fmt.Sprintf("success, but the instance is %s, want %s", f.state, want))
		}
		if f.rep != nil && (f.rep.InstanceAfter == nil || f.rep.InstanceAfter.State != want) {
			bad = append(bad, fmt.Sprintf("success, but the report's InstanceAfter is %+v", f.rep.InstanceAfter))
		}
		return bad
	}
	s := Sentinel(f.err)
	allowed := map[string]bool{}
	for k := range f.fired {
		for _, x := range f.profile.kindSentinels(k) {
			allowed[x] = true
		}
	}
	if f.readFaulted {
		allowed["ErrTimeout"], allowed["ErrBusy"] = true, true // a wait whose reads kept failing
	}
	if f.readFaulted && f.ambiguousMut {
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.profile.Traits.FailuresLeaveNoTrace && f.fired[FaultFailRollback] && (f.batch || f.ambiguousMut || f.readFaulted) {
		// A rollback that failed leaves no evidence that names the
		// snapshot: whether it was ours cannot be told when the Run did not
		// see it fail. In a batch, on a clock 200-400 times faster than
		// real time, it can fail before the first read of its wait (a few
		// milliseconds of real latency); its replies may have been lost
		// (an ambiguous mutation); or the wait's reads were held up
		// (throttled, faulted) until it had ended.
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.profile.Traits.FailuresLeaveNoTrace && f.fired[FaultFailRollback] && f.batch {
		// The same, when the scaled clock outran the wait's reads (a
		// loaded machine delays each by real milliseconds, hundreds of
		// times longer on the clock): its deadline came before it had
		// read enough to give up as ambiguous. The timeout says the
		// rollback may still finish, which is as true.
		allowed["ErrTimeout"] = true
	}
	if f.resumed && f.fired[FaultFailRollback] {
		// The crashed Run's rollback failed in the cloud while no Run
		// watched, which may look exactly like one never made: the resumed
		// Run cannot tell.
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.running && !f.stop {
		allowed["ErrInstanceState"] = true
	}
	if f.cannotTell {
		allowed["ErrOutcomeUnknown"] = true
	}
	if f.shortTimeout {
		// Wall-clock timeouts that short are the test's, not the cloud's:
		// under load they fire on unfaulted calls too. The invariants
		// above still hold them to exactly once.
		allowed["ErrNetwork"], allowed["ErrOutcomeUnknown"] = true, true
	}
	if !allowed[s] {
		bad = append(bad, fmt.Sprintf("sentinel %s not caused by the faults that fired %v", s, keys(f.fired)))
	}
	if s == "ErrRollbackFailed" && (!f.failRollback || !once) {
		bad = append(bad, fmt.Sprintf("ErrRollbackFailed with failure armed %v, %d applied", f.failRollback, f.applied))
	}
	accepted := f.rep != nil && f.rep.Result != nil
	if accepted && !once {
		bad = append(bad, fmt.Sprintf("the rollback was reported accepted, but %d applied", f.applied))
	}
	// A resumed Run may fail before it finds the crashed one's rollback;
	// and a rollback whose replies were lost and which then failed in the
	// cloud may leave nothing to see: the give-up is reported as what it
	// is, ambiguous (Error.Ambiguous).
	unseenFailure := f.fired[FaultFailRollback] && f.ambiguousMut && rollback.IsAmbiguous(f.err)
	if !accepted && f.applied == 1 && s != "ErrOutcomeUnknown" && !f.resumed && !unseenFailure {
		bad = append(bad, fmt.Sprintf("a rollback was applied, but Run reports %s before accepting it", s))
	}
	return bad
}

func keys[K ~string, V any](m map[K]V) []K {
	var out []K
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// firedFaults reads which faults fired from a journal slice.
func firedFaults(calls []Call, c Calls) (fired map[FaultKind]bool, read, ambiguousMut bool, count map[FaultKind]int) {
	fired, count = map[FaultKind]bool{}, map[FaultKind]int{}
	for _, e := range calls {
		if e.Throttled {
			// The emulator's own rate limit (which a fault that lets the
			// call through may run into): the cloud may throttle too.
			fired[serverThrottle] = true
			count[serverThrottle]++
			continue
		}
		if e.Fault == "" {
			continue
		}
		k := e.Fault
		fired[k] = true
		count[k]++
		if c.IsRead(e.Name) {
			read = true
		} else if k == Fault5xx || k == FaultGateway || k == FaultReset || k == FaultLostReply || k == FaultSlowReply {
			ambiguousMut = true
		}
	}
	return fired, read, ambiguousMut, count
}

func clipText(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
