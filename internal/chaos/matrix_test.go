package chaos

import (
	"testing"

	"github.com/cloudsnap/rollback"
	pchaos "github.com/cloudsnap/rollback/providertest/chaos"
)

// The fault matrix (pchaos.Matrix): every API call that rollback.Run makes (with
// StopIfRunning, SafetySnapshot and StartAfter, on a running instance) x
// every fault kind, injected once (the first such call) and persistently
// (every such call), on both clouds. Each cell is the outcome the library
// must produce:
//
//	ok                  success; exactly one rollback applied, instance running
//	step:Sentinel/N     Run failed in step with that sentinel; N rollbacks applied
//
// Fault kinds:
//
//	5xx         the cloud's internal error (SWAS InternalError, HTTP 500;
//	            Lighthouse InternalError) instead of applying the call
//	gateway-502 an HTML page with HTTP 502 from a gateway in front of the
//	            API, instead of applying the call
//	throttle    the rate-limit refusal (Throttling.User; RequestLimitExceeded)
//	busy        the refusal for an operation in progress (SWAS has no such
//	            code: IncorrectInstanceStatus, as for a transitional state;
//	            Lighthouse UnsupportedOperation.LatestOperationUnfinished)
//	reset       the connection is reset before the server applies anything
//	lost-reply  the server applies the call, then drops the connection
//	slow-reply  the reply comes later than the client's per-attempt
//	            timeout (SWAS still applies the call; Lighthouse does not)
//
// A persistent fault outlasts the client's five attempts. What a cell
// expects follows from three rules: a read that keeps failing fails its
// step with the fault's sentinel (retried faults that stop in time do not
// matter); a mutation that is refused keeps nothing applied; a mutation
// that may have landed is resolved by its token (SWAS) or by reading state
// (Lighthouse), so it is applied exactly once, never reported as a plain
// transient error while it landed. The combined cells (more than one
// fault) and their outcomes are the harness's, the same for every cloud.
var matrixSpec = map[string]string{
	"aliyun": `
# call          fault       once                        persistent
ListSnapshots   5xx         ok                          check:ErrInternal/0
ListSnapshots   gateway-502 ok                          check:ErrInternal/0
ListSnapshots   throttle    ok                          check:ErrThrottled/0
ListSnapshots   busy        check:ErrInstanceState/0    check:ErrInstanceState/0
ListSnapshots   reset       ok                          check:ErrNetwork/0
ListSnapshots   lost-reply  ok                          check:ErrNetwork/0
ListSnapshots   slow-reply  ok                          check:ErrNetwork/0
ListInstances   5xx         ok                          check:ErrInternal/0
ListInstances   gateway-502 ok                          check:ErrInternal/0
ListInstances   throttle    ok                          check:ErrThrottled/0
ListInstances   busy        check:ErrInstanceState/0    check:ErrInstanceState/0
ListInstances   reset       ok                          check:ErrNetwork/0
ListInstances   lost-reply  ok                          check:ErrNetwork/0
ListInstances   slow-reply  ok                          check:ErrNetwork/0
StopInstance    5xx         ok                          stop:ErrInternal/0
StopInstance    gateway-502 ok                          stop:ErrInternal/0
StopInstance    throttle    ok                          stop:ErrThrottled/0
StopInstance    busy        stop:ErrInstanceState/0     stop:ErrInstanceState/0
StopInstance    reset       ok                          stop:ErrNetwork/0
StopInstance    lost-reply  ok                          stop:ErrNetwork/0
StopInstance    slow-reply  ok                          stop:ErrNetwork/0
CreateSnapshot  5xx         ok                          safety-snapshot:ErrInternal/0
CreateSnapshot  gateway-502 ok                          safety-snapshot:ErrInternal/0
CreateSnapshot  throttle    ok                          safety-snapshot:ErrThrottled/0
CreateSnapshot  busy        safety-snapshot:ErrInstanceState/0  safety-snapshot:ErrInstanceState/0
CreateSnapshot  reset       ok                          safety-snapshot:ErrNetwork/0
CreateSnapshot  lost-reply  ok                          safety-snapshot:ErrNetwork/0
CreateSnapshot  slow-reply  ok                          safety-snapshot:ErrNetwork/0
ResetDisk       5xx         ok                          rollback:ErrInternal/0
ResetDisk       gateway-502 ok                          rollback:ErrInternal/0
ResetDisk       throttle    ok                          rollback:ErrThrottled/0
ResetDisk       busy        rollback:ErrInstanceState/0 rollback:ErrInstanceState/0
ResetDisk       reset       ok                          rollback:ErrNetwork/0
ResetDisk       lost-reply  ok                          ok
ResetDisk       slow-reply  ok                          ok
StartInstance   5xx         ok                          start:ErrInternal/1
StartInstance   gateway-502 ok                          start:ErrInternal/1
StartInstance   throttle    ok                          start:ErrThrottled/1
StartInstance   busy        start:ErrInstanceState/1    start:ErrInstanceState/1
StartInstance   reset       ok                          start:ErrNetwork/1
StartInstance   lost-reply  ok                          start:ErrNetwork/1
StartInstance   slow-reply  ok                          start:ErrNetwork/1
`,
	// A data disk's snapshot does not name its instance: Run finds it with
	// ListDisks, the one call the system-disk Run above does not make
	// (its other calls behave as above).
	"aliyun/data-disk": `
# call          fault       once                        persistent
ListDisks       5xx         ok                          check:ErrInternal/0
ListDisks       gateway-502 ok                          check:ErrInternal/0
ListDisks       throttle    ok                          check:ErrThrottled/0
ListDisks       busy        check:ErrInstanceState/0    check:ErrInstanceState/0
ListDisks       reset       ok                          check:ErrNetwork/0
ListDisks       lost-reply  ok                          check:ErrNetwork/0
ListDisks       slow-reply  ok                          check:ErrNetwork/0
`,
	"tencent": `
# call                  fault       once    persistent
DescribeSnapshots       5xx         ok      check:ErrInternal/0
DescribeSnapshots       gateway-502 ok      check:ErrInternal/0
DescribeSnapshots       throttle    ok      check:ErrThrottled/0
DescribeSnapshots       busy        ok      check:ErrBusy/0
DescribeSnapshots       reset       ok      check:ErrNetwork/0
DescribeSnapshots       lost-reply  ok      check:ErrNetwork/0
DescribeSnapshots       slow-reply  ok      check:ErrNetwork/0
DescribeInstances       5xx         ok      check:ErrInternal/0
DescribeInstances       gateway-502 ok      check:ErrInternal/0
DescribeInstances       throttle    ok      check:ErrThrottled/0
DescribeInstances       busy        ok      check:ErrBusy/0
DescribeInstances       reset       ok      check:ErrNetwork/0
DescribeInstances       lost-reply  ok      check:ErrNetwork/0
DescribeInstances       slow-reply  ok      check:ErrNetwork/0
StopInstances           5xx         ok      stop:ErrInternal/0
StopInstances           gateway-502 ok      stop:ErrInternal/0
StopInstances           throttle    ok      stop:ErrThrottled/0
StopInstances           busy        ok      stop:ErrBusy/0
StopInstances           reset       ok      stop:ErrNetwork/0
StopInstances           lost-reply  ok      ok
StopInstances           slow-reply  ok      stop:ErrNetwork/0
CreateInstanceSnapshot  5xx         ok      safety-snapshot:ErrInternal/0
CreateInstanceSnapshot  gateway-502 ok      safety-snapshot:ErrInternal/0
CreateInstanceSnapshot  throttle    ok      safety-snapshot:ErrThrottled/0
CreateInstanceSnapshot  busy        ok      safety-snapshot:ErrBusy/0
CreateInstanceSnapshot  reset       ok      safety-snapshot:ErrNetwork/0
CreateInstanceSnapshot  lost-reply  ok      ok
CreateInstanceSnapshot  slow-reply  ok      safety-snapshot:ErrNetwork/0
ApplyInstanceSnapshot   5xx         ok      rollback:ErrInternal/0
ApplyInstanceSnapshot   gateway-502 ok      rollback:ErrInternal/0
ApplyInstanceSnapshot   throttle    ok      rollback:ErrThrottled/0
ApplyInstanceSnapshot   busy        ok      rollback:ErrBusy/0
ApplyInstanceSnapshot   reset       ok      rollback:ErrNetwork/0
ApplyInstanceSnapshot   lost-reply  ok      ok
ApplyInstanceSnapshot   slow-reply  ok      rollback:ErrNetwork/0
StartInstances          5xx         ok      start:ErrInternal/1
StartInstances          gateway-502 ok      start:ErrInternal/1
StartInstances          throttle    ok      start:ErrThrottled/1
StartInstances          busy        ok      start:ErrBusy/1
StartInstances          reset       ok      start:ErrNetwork/1
StartInstances          lost-reply  ok      ok
StartInstances          slow-reply  ok      start:ErrNetwork/1
`,
}

// matrixWorkers run cells at once, split between the clouds: slow-reply
// cells mostly wait, so more of them than cores keeps the matrix short.
const matrixWorkers = 8

func TestFaultMatrix(t *testing.T) {
	specs := map[string]map[string]string{
		rollback.ProviderAliyun:  {"": matrixSpec["aliyun"], VariantDataDisk: matrixSpec["aliyun/data-disk"]},
		rollback.ProviderTencent: {"": matrixSpec["tencent"]},
	}
	for _, provider := range []string{rollback.ProviderAliyun, rollback.ProviderTencent} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			pchaos.Matrix(t, Factory(provider), pchaos.MatrixConfig{Specs: specs[provider], Workers: matrixWorkers / 2})
		})
	}
}
