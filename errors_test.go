package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

var allSentinels = []error{
	rollback.ErrInvalidArgument, rollback.ErrNotFound, rollback.ErrInstanceNotFound,
	rollback.ErrDiskNotFound, rollback.ErrSnapshotNotFound, rollback.ErrInstanceState,
	rollback.ErrSnapshotState, rollback.ErrSnapshotMismatch, rollback.ErrBusy,
	rollback.ErrThrottled, rollback.ErrQuotaExceeded, rollback.ErrUnauthenticated,
	rollback.ErrPermissionDenied, rollback.ErrInternal, rollback.ErrNetwork,
	rollback.ErrRollbackFailed, rollback.ErrOutcomeUnknown, rollback.ErrTimeout,
}

func TestSentinelHierarchy(t *testing.T) {
	for _, child := range []error{rollback.ErrInstanceNotFound, rollback.ErrDiskNotFound, rollback.ErrSnapshotNotFound} {
		if !errors.Is(child, rollback.ErrNotFound) {
			t.Errorf("errors.Is(%v, ErrNotFound) = false", child)
		}
	}
	// No sentinel matches another one, apart from the not-found family.
	for _, a := range allSentinels {
		for _, b := range allSentinels {
			want := a == b || b == rollback.ErrNotFound && strings.HasSuffix(a.Error(), "not found")
			if got := errors.Is(a, b); got != want {
				t.Errorf("errors.Is(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
	if errors.Is(rollback.ErrNotFound, rollback.ErrSnapshotNotFound) {
		t.Error("the parent must not match its child")
	}
}

type sdkError struct{ code string }

func (e *sdkError) Error() string { return "sdk: " + e.code }

func TestErrorIsAsAndMessage(t *testing.T) {
	cause := &sdkError{code: "InvalidSnapshotId.NotFound"}
	err := error(&rollback.Error{
		Provider: "aliyun", Op: "ResetDisk", Kind: rollback.ErrSnapshotNotFound,
		Code: "InvalidSnapshotId.NotFound", Message: "The specified SnapshotId\ndoes not exist.",
		RequestID: "REQ-1", HTTPStatus: 404, Hint: "check the snapshot ID and region", Err: cause,
	})
	wrapped := fmt.Errorf("step rollback: %w", err)

	if !errors.Is(wrapped, rollback.ErrSnapshotNotFound) || !errors.Is(wrapped, rollback.ErrNotFound) {
		t.Error("errors.Is misses the sentinel or its parent")
	}
	if errors.Is(wrapped, rollback.ErrDiskNotFound) {
		t.Error("errors.Is matches a sibling sentinel")
	}
	var sdk *sdkError
	if !errors.As(wrapped, &sdk) || sdk != cause {
		t.Error("errors.As does not reach the SDK error")
	}
	var re *rollback.Error
	if !errors.As(wrapped, &re) || re.RequestID != "REQ-1" {
		t.Error("errors.As does not reach *rollback.Error")
	}
	want := "rollback: aliyun ResetDisk: snapshot not found (InvalidSnapshotId.NotFound, HTTP 404, request REQ-1): The specified SnapshotId does not exist.; check the snapshot ID and region"
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n %s\nwant\n %s", got, want)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Error("Error() spans lines")
	}
}

func TestErrorAttempts(t *testing.T) {
	err := &rollback.Error{Provider: "tencent", Op: "DescribeInstances", Kind: rollback.ErrThrottled, Code: "RequestLimitExceeded", Attempts: 5}
	if !strings.HasSuffix(err.Error(), "(gave up after 5 attempts)") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestIsRetryable(t *testing.T) {
	mk := func(k error) error { return &rollback.Error{Kind: k} }
	retryable := map[error]bool{
		rollback.ErrThrottled: true, rollback.ErrInternal: true, rollback.ErrNetwork: true, rollback.ErrBusy: true,
	}
	for _, s := range allSentinels {
		if got := rollback.IsRetryable(mk(s)); got != retryable[s] {
			t.Errorf("IsRetryable(%v) = %v, want %v", s, got, retryable[s])
		}
	}
	for _, err := range []error{nil, context.Canceled, context.DeadlineExceeded, errors.New("plain"),
		&rollback.InterruptedError{Ctx: context.Canceled, Last: mk(rollback.ErrThrottled)}} {
		if rollback.IsRetryable(err) {
			t.Errorf("IsRetryable(%v) = true", err)
		}
	}
}

func TestIsAmbiguous(t *testing.T) {
	if !rollback.IsAmbiguous(fmt.Errorf("x: %w", &rollback.Error{Kind: rollback.ErrNetwork, Ambiguous: true})) {
		t.Error("wrapped ambiguous error not recognised")
	}
	if rollback.IsAmbiguous(&rollback.Error{Kind: rollback.ErrNetwork}) || rollback.IsAmbiguous(errors.New("x")) {
		t.Error("unambiguous error reported ambiguous")
	}
}

func TestInterruptedErrorMatchesBoth(t *testing.T) {
	last := &rollback.Error{Provider: "aliyun", Op: "ResetDisk", Kind: rollback.ErrThrottled, Code: "Throttling.User"}
	err := error(&rollback.InterruptedError{Ctx: context.DeadlineExceeded, Last: last})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, rollback.ErrThrottled) {
		t.Error("InterruptedError must match the context error and the last provider error")
	}
	if !strings.Contains(err.Error(), "Throttling.User") || !strings.HasPrefix(err.Error(), "context deadline exceeded") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestInvalidArgument(t *testing.T) {
	err := provider.InvalidArgument("tencent", "ApplyInstanceSnapshot", "InstanceID", "%q is not a Lighthouse instance ID", "i-1")
	var re *rollback.Error
	if !errors.As(err, &re) || re.Field != "InstanceID" || !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Fatalf("bad error %#v", err)
	}
	if !strings.Contains(err.Error(), `InstanceID "i-1" is not a Lighthouse instance ID`) || !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestIsRetryableJudgesTheOutermostError(t *testing.T) {
	network := &rollback.Error{Provider: "tencent", Op: "ApplyInstanceSnapshot", Kind: rollback.ErrNetwork, Ambiguous: true}
	unknown := &rollback.Error{Provider: "tencent", Op: "ApplyInstanceSnapshot", Kind: rollback.ErrOutcomeUnknown, Err: network}
	if !errors.Is(unknown, rollback.ErrNetwork) {
		t.Fatal("test premise: the cause is reachable")
	}
	if rollback.IsRetryable(unknown) {
		t.Error("an unknown outcome wrapping a network error must not be retried: it could roll back twice")
	}
	failed := fmt.Errorf("wait: %w", &rollback.Error{Kind: rollback.ErrRollbackFailed, Err: &rollback.Error{Kind: rollback.ErrInternal}})
	if rollback.IsRetryable(failed) {
		t.Error("a failed rollback must not be retried blindly")
	}
	if !rollback.IsRetryable(fmt.Errorf("step: %w", network)) {
		t.Error("a wrapped network error is retryable")
	}
	if rollback.IsRetryable(rollback.ErrOutcomeUnknown) || !rollback.IsRetryable(rollback.ErrBusy) {
		t.Error("bare sentinels misjudged")
	}
}

func TestIsRetryableAttemptTimeout(t *testing.T) {
	// A provider error whose cause is a (per-attempt) deadline is a network
	// error: retryable. The caller's own context error is not.
	attempt := &rollback.Error{Kind: rollback.ErrNetwork, Ambiguous: true, Err: context.DeadlineExceeded}
	if !rollback.IsRetryable(attempt) {
		t.Error("an attempt timeout is not retryable")
	}
	if rollback.IsRetryable(fmt.Errorf("wait: %w", context.DeadlineExceeded)) {
		t.Error("the caller's deadline is retryable")
	}
	if rollback.IsRetryable(&rollback.InterruptedError{Ctx: context.Canceled, Last: attempt}) {
		t.Error("an interrupted retry is retryable")
	}
}

func TestKindOf(t *testing.T) {
	notFound := &rollback.Error{Kind: rollback.ErrSnapshotNotFound}
	tests := []struct {
		err  error
		want error
	}{
		{nil, nil},
		{errors.New("plain"), nil},
		{fmt.Errorf("step: %w", notFound), rollback.ErrSnapshotNotFound},
		{&rollback.StepError{Step: rollback.StepWaitRollback, Err: &rollback.TimeoutError{What: "x"}}, rollback.ErrTimeout},
		{&rollback.InterruptedError{Ctx: context.Canceled, Last: notFound}, context.Canceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), context.DeadlineExceeded},
		{&rollback.Error{Kind: rollback.ErrOutcomeUnknown, Err: &rollback.Error{Kind: rollback.ErrNetwork}}, rollback.ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		if got := rollback.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
