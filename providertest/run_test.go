package providertest

import "testing"

// The scenarios of internal/conformance, which this suite replaced: none
// may be lost.
var original = []string{
	"HappyPath", "RunningWithoutStopRefused", "RunningWithStopAndStart", "BusyInstanceIsWaitedOut",
	"BusyTooLongIsErrBusy", "SnapshotNotReady", "SnapshotOfAnotherDisk", "SafetySnapshot", "FailedRollback",
	"Timeout", "CancellationIsPrompt", "LostResponseAppliesOnce", "ResumeWithCheckpointAfterAccept",
	"ResumeWithCheckpointWhileSending", "ResumeInProcessWhileRollingBack", "ResumeInProcessAfterDone",
	"ResumeFromStateWhileRollingBack", "ResumeFromStateAfterDoneNeverGuesses", "OperationKeyReusedForAnotherRollback",
	"DryRun", "DryRunStillChecks", "DryRunNeverResumes", "DryRunPlansAroundABusyInstance", "ProgressEventsAndReport",
	"BatchBatchesReads", "OverlappingRunOfOneKeyRefused", "OverlappingRunAcrossProcesses",
	"CrashedRunHoldsKeyUntilLeaseEnds", "CorruptCheckpointSendsNothing", "LostCheckpointAfterStartNeverRollsBackTwice",
	"LostCheckpointAfterCrashWhileSending", "NewKeyOnSnapshotNeverRolledBackTo", "NewKeyOnSnapshotRolledBackToBefore",
	"DurableStoreTrustsAMissingCheckpoint",
}

func TestNoScenarioLost(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range groups() {
		for _, sc := range g.scenarios {
			if seen[sc.name] {
				t.Errorf("scenario %s listed twice", sc.name)
			}
			seen[sc.name] = true
			if sc.run == nil {
				t.Errorf("scenario %s has no body", sc.name)
			}
		}
	}
	for _, name := range original {
		if !seen[name] {
			t.Errorf("scenario %s was lost", name)
		}
	}
	t.Logf("%d scenarios (%d from internal/conformance)", len(seen), len(original))
}
