package rollbacksvc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/cloudsnap/rollback"
)

// sentinels say, for each of the library's errors, what to call it, which
// HTTP status refuses a request with it, and what the caller can do. First
// match wins: an operation cut short by a shutdown is that, whatever its
// last provider error was, and the specific not-found kinds come before
// ErrNotFound.
var sentinels = []struct {
	err    error
	name   string
	status int
	advice string
}{
	{context.Canceled, "context.Canceled", http.StatusServiceUnavailable, "the service stopped while it ran: send the same request with the same key to resume it"},
	{rollback.ErrOutcomeUnknown, "ErrOutcomeUnknown", http.StatusBadGateway, "the rollback may or may not have happened: check the instance before doing anything else"},
	{rollback.ErrRollbackFailed, "ErrRollbackFailed", http.StatusBadGateway, "the disk may be partly restored: check the instance; a safety snapshot (backup) restores it as it was"},
	{rollback.ErrInvalidArgument, "ErrInvalidArgument", http.StatusBadRequest, "fix the request; nothing was sent"},
	{rollback.ErrInstanceNotFound, "ErrInstanceNotFound", http.StatusNotFound, "check the instance ID and the region"},
	{rollback.ErrDiskNotFound, "ErrDiskNotFound", http.StatusNotFound, "check the disk ID and the region"},
	{rollback.ErrSnapshotNotFound, "ErrSnapshotNotFound", http.StatusNotFound, "check the snapshot ID and the region"},
	{rollback.ErrNotFound, "ErrNotFound", http.StatusNotFound, "check the IDs and the region"},
	{rollback.ErrInstanceState, "ErrInstanceState", http.StatusConflict, `the instance must be stopped: stop it, or send the request again with "stop": true`},
	{rollback.ErrSnapshotState, "ErrSnapshotState", http.StatusConflict, "wait until the snapshot is ready, then send the request again"},
	{rollback.ErrSnapshotMismatch, "ErrSnapshotMismatch", http.StatusUnprocessableEntity, "the snapshot is of another disk or instance: pick one of this disk"},
	{rollback.ErrKeyHeld, "ErrKeyHeld", http.StatusConflict, "another replica of the service is running this operation: GET /rollbacks/{key} follows it; send the same request again later to see its outcome"},
	{rollback.ErrBusy, "ErrBusy", http.StatusConflict, "another operation is running on the instance: send the same request with the same key later"},
	{rollback.ErrThrottled, "ErrThrottled", http.StatusTooManyRequests, "the cloud is rate limiting: send the same request with the same key later"},
	{rollback.ErrQuotaExceeded, "ErrQuotaExceeded", http.StatusConflict, `delete an old snapshot, or send "backup": false with a new key`},
	{rollback.ErrUnauthenticated, "ErrUnauthenticated", http.StatusBadGateway, "the cloud refused the service's credentials: an operator must fix them"},
	{rollback.ErrPermissionDenied, "ErrPermissionDenied", http.StatusBadGateway, "the service's credentials may not do this: an operator must grant it"},
	{rollback.ErrInternal, "ErrInternal", http.StatusBadGateway, "a fault at the cloud: send the same request with the same key later"},
	{rollback.ErrNetwork, "ErrNetwork", http.StatusBadGateway, "the cloud did not answer: send the same request with the same key later"},
	{rollback.ErrTimeout, "ErrTimeout", http.StatusGatewayTimeout, "a wait ran out; the operation may still finish: send the same request with the same key to wait again"},
	{context.DeadlineExceeded, "context.DeadlineExceeded", http.StatusGatewayTimeout, "a time limit ran out: send the same request with the same key to resume"},
}

// resumable reports whether the same request with the same key should run
// again rather than replay the failure: the error is worth retrying, or a
// wait ran out on an operation that may still finish. Run resumes from the
// checkpoint, so nothing is done twice.
func resumable(err error) bool {
	return rollback.IsRetryable(err) || errors.Is(err, rollback.ErrTimeout) || errors.Is(err, context.Canceled)
}

// describe turns err into an ErrorInfo and the status that refuses a
// request with it.
func describe(err error) (*ErrorInfo, int) {
	info := &ErrorInfo{Message: strings.TrimPrefix(err.Error(), "rollback: "), Retryable: resumable(err)}
	status := http.StatusInternalServerError
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			info.Sentinel, info.Advice, status = s.name, s.advice, s.status
			break
		}
	}
	var e *rollback.Error
	if errors.As(err, &e) {
		info.Field, info.CloudCode, info.RequestID = fieldNames[e.Field], e.Code, e.RequestID
		if info.Field == "" {
			info.Field = e.Field
		}
	}
	return info, status
}

// fieldNames name the library's Request fields as the JSON body does.
var fieldNames = map[string]string{
	"Region": "region", "InstanceID": "instance", "DiskID": "disk", "SnapshotID": "snapshot",
	"OperationKey": "Idempotency-Key", "ClientToken": "Idempotency-Key",
}
