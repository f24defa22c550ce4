package providertest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

type scenario struct {
	name string
	run  func(t *testing.T, f Factory)
}

// groups is every scenario of the suite, by what it tests.
func groups() []struct {
	name      string
	scenarios []scenario
} {
	return []struct {
		name      string
		scenarios []scenario
	}{
		{"Run", []scenario{
			{"HappyPath", happyPath},
			{"RunningWithoutStopRefused", runningWithoutStop},
			{"RunningWithStopAndStart", runningWithStopAndStart},
			{"BusyInstanceIsWaitedOut", busyWaitedOut},
			{"BusyTooLongIsErrBusy", busyTooLong},
			{"SnapshotNotReady", snapshotNotReady},
			{"SnapshotOfAnotherDisk", snapshotOfAnotherDisk},
			{"SafetySnapshot", safetySnapshot},
			{"Timeout", timeout},
			{"CancellationIsPrompt", cancellation},
			{"CancelledMidWaitReportsWhatWasSent", cancelledMidWait},
			{"OperationKeyReusedForAnotherRollback", keyReused},
			{"DryRun", dryRun},
			{"DryRunStillChecks", dryRunChecks},
			{"DryRunNeverResumes", dryRunNeverResumes},
			{"DryRunPlansAroundABusyInstance", dryRunBusy},
			{"ProgressEventsAndReport", progressEvents},
		}},
		{"Faults", []scenario{
			{"FailedRollback", failedRollback},
			{"LostResponseAppliesOnce", lostResponse},
			{"ThrottledRollbackIsRetried", throttledRollbackIsRetried},
			{"PermissionDeniedIsFinal", permissionDeniedIsFinal},
		}},
		{"Evidence", []scenario{
			{"AmbiguousAttemptThatDidNotLandAppliesOnce", ambiguousNotLanded},
			{"LostReplyUnderReadLagAppliesOnce", lostReplyUnderReadLag},
			{"ReadLagBeyondGraceNeverAppliesTwice", readLagBeyondGrace},
			{"ForeignRollbackIsNotOurs", foreignRollbackIsNotOurs},
			{"ResumeWhileSendingAfterOthersStartedIt", resumeWhileOthersAct},
		}},
		{"Resume", []scenario{
			{"ResumeWithCheckpointAfterAccept", resumeCheckpointAfterAccept},
			{"ResumeWithCheckpointWhileSending", resumeCheckpointWhileSending},
			{"ResumeInProcessWhileRollingBack", resumeFromStateRunning},
			{"ResumeInProcessAfterDone", resumeFromStateDone},
			{"ResumeFromStateWhileRollingBack", resumeNoCheckpointsRunning},
			{"ResumeFromStateAfterDoneNeverGuesses", resumeNoCheckpointsDone},
		}},
		{"Ownership", []scenario{
			{"OverlappingRunOfOneKeyRefused", overlappingRun},
			{"OverlappingRunAcrossProcesses", overlappingProcesses},
			{"CrashedRunHoldsKeyUntilLeaseEnds", crashedOwner},
			{"CorruptCheckpointSendsNothing", corruptCheckpoint},
		}},
		{"LostCheckpoint", []scenario{
			{"LostCheckpointAfterStartNeverRollsBackTwice", lostCheckpointAfterStart},
			{"LostCheckpointAfterCrashWhileSending", lostCheckpointWhileSending},
			{"NewKeyOnSnapshotNeverRolledBackTo", newKeyFreshSnapshot},
			{"NewKeyOnSnapshotRolledBackToBefore", newKeyUsedSnapshot},
			{"DurableStoreTrustsAMissingCheckpoint", durableStoreNewKey},
		}},
		{"Waiters", []scenario{
			{"WaitStopAndStart", waitStopAndStart},
			{"WaitSnapshot", waitSnapshot},
			{"WaitRollback", waitRollback},
			{"WaitRollbackFailed", waitRollbackFailed},
			{"WaitTimeout", waitTimeout},
			{"WaitMany", waitMany},
		}},
		{"Capabilities", []scenario{
			{"BadRequestsSendNothing", badRequestsSendNothing},
			{"AbsentResourcesAreNotFound", absentResources},
			{"BatchInstanceReadsAgreeWithSingleReads", batchInstancesAgree},
			{"BatchSnapshotReadsAgreeWithSingleReads", batchSnapshotsAgree},
			{"DiskReads", diskReads},
			{"PreflightMakesNoReadsOfItsOwn", preflightMakesNoReads},
			{"PreflightStillChecks", preflightStillChecks},
			{"WitnessVerdicts", witnessVerdicts},
			{"OperationMarks", operationMarks},
			{"PriorsAreSane", priorsSane},
			{"OwnCheckpoints", ownCheckpoints},
			{"QuotasAreKept", quotasKept},
		}},
		{"Batch", []scenario{
			{"BatchItemsEndOnTheirOwn", batchItemsEndOnTheirOwn},
			{"BatchBatchesReads", batchBatchesReads},
		}},
	}
}

// Run runs every scenario of the suite against the provider that f
// builds, each on a fresh Harness, as subtests of t grouped by what they
// test (Run, Faults, Evidence, Resume, Ownership, LostCheckpoint,
// Waiters, Capabilities, Batch). Scenarios that need a capability the provider
// lacks, or a knob the harness lacks, are skipped and say which.
func Run(t *testing.T, f Factory) {
	t.Helper()
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, sc := range g.scenarios {
				t.Run(sc.name, func(t *testing.T) { sc.run(t, f) })
			}
		})
	}
}

// need returns the harness as the optional knob K, or skips the scenario.
func need[K any](t *testing.T, h Harness) K {
	t.Helper()
	k, ok := h.(K)
	if !ok {
		t.Skipf("the harness has no providertest.%s", reflect.TypeFor[K]().Name())
	}
	return k
}

// name is the provider's name, for messages.
func name(h Harness) string { return capabilitiesOf(h.Provider()).name }

// region is the region of tg's requests.
func region(h Harness, tg Target) string { return h.Request(tg).Region }

// refuseNextRollback arms the harness's refusal of kind, or skips.
func refuseNextRollback(t *testing.T, h Harness, kind error) {
	t.Helper()
	if !need[Refuser](t, h).RefuseNextRollback(kind) {
		t.Skipf("the harness's Refuser cannot produce %v", kind)
	}
}

func forgetTokens(t *testing.T, h Harness) { need[TokenForgetter](t, h).ForgetTokens() }

func otherActorStart(t *testing.T, h Harness, tg Target) {
	t.Helper()
	if err := need[OtherActor](t, h).OtherActorStart(tg); err != nil {
		t.Fatalf("another actor could not start the instance: %v", err)
	}
}

// auto returns an auto-advancing virtual clock: waits take no real time.
func auto() *clock.Virtual { return clock.NewAutoVirtual(time.Time{}) }

func opts(clk clock.Clock) rollback.RunOptions {
	return rollback.RunOptions{Clock: clk, Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}}
}

func mustRun(t *testing.T, h Harness, req rollback.Request, o rollback.RunOptions) *rollback.Report {
	t.Helper()
	rep, err := rollback.Run(context.Background(), h.Provider(), req, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
}

func wantRollbacks(t *testing.T, h Harness, tg Target, n int) {
	t.Helper()
	if got := h.Rollbacks(tg); got != n {
		t.Fatalf("%d rollbacks applied, want %d", got, n)
	}
}

// sent counts every call the client made that changes something.
func sent(h Harness) int {
	return h.Calls(CallRollback) + h.Calls(CallStop) + h.Calls(CallStart) + h.Calls(CallSnapshot)
}

func steps(rep *rollback.Report) string {
	var s []string
	for _, st := range rep.Steps {
		s = append(s, string(st.Step)+":"+st.Outcome)
	}
	return strings.Join(s, " ")
}
