package tencent_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// seedCodes are the twenty codes of the ApplyInstanceSnapshot API page.
var seedCodes = map[string]error{
	"FailedOperation.DescribeInstanceStatus":             rollback.ErrInternal,
	"FailedOperation.SnapshotOperationFailed":            rollback.ErrInternal,
	"InternalError.DescribeInstanceStatus":               rollback.ErrInternal,
	"InvalidParameterValue.DiskSizeNotMatch":             rollback.ErrSnapshotMismatch,
	"InvalidParameterValue.InstanceIdMalformed":          rollback.ErrInvalidArgument,
	"InvalidParameterValue.SnapshotIdMalformed":          rollback.ErrInvalidArgument,
	"OperationDenied.InstanceCreating":                   rollback.ErrInstanceState,
	"OperationDenied.InstanceOperationInProgress":        rollback.ErrBusy,
	"ResourceNotFound.DiskNotFound":                      rollback.ErrDiskNotFound,
	"ResourceNotFound.InstanceIdNotFound":                rollback.ErrInstanceNotFound,
	"ResourceNotFound.SnapshotIdNotFound":                rollback.ErrSnapshotNotFound,
	"ResourceNotFound.SnapshotNotFound":                  rollback.ErrSnapshotNotFound,
	"UnauthorizedOperation.NoPermission":                 rollback.ErrPermissionDenied,
	"UnsupportedOperation.DiskBusy":                      rollback.ErrBusy,
	"UnsupportedOperation.DiskLatestOperationUnfinished": rollback.ErrBusy,
	"UnsupportedOperation.InvalidInstanceState":          rollback.ErrInstanceState,
	"UnsupportedOperation.InvalidSnapshotState":          rollback.ErrSnapshotState,
	"UnsupportedOperation.LatestOperationUnfinished":     rollback.ErrBusy,
	"UnsupportedOperation.SnapshotBusy":                  rollback.ErrBusy,
	"UnsupportedOperation.SystemBusy":                    rollback.ErrBusy,
}

// extraCodes are the common and related codes the issue names.
var extraCodes = map[string]error{
	"RequestLimitExceeded":                         rollback.ErrThrottled,
	"AuthFailure.SignatureFailure":                 rollback.ErrUnauthenticated,
	"AuthFailure.SignatureExpire":                  rollback.ErrUnauthenticated,
	"AuthFailure.SecretIdNotFound":                 rollback.ErrUnauthenticated,
	"AuthFailure.InvalidSecretId":                  rollback.ErrUnauthenticated,
	"AuthFailure.TokenFailure":                     rollback.ErrUnauthenticated,
	"AuthFailure.UnauthorizedOperation":            rollback.ErrPermissionDenied,
	"InternalError":                                rollback.ErrInternal,
	"InternalError.GetSnapshotAllocQuotaLockError": rollback.ErrInternal,
	"LimitExceeded.SnapshotQuotaLimitExceeded":     rollback.ErrQuotaExceeded,
	"InvalidParameter":                             rollback.ErrInvalidArgument,
	"InvalidParameter.FilterValueLimitExceeded":    rollback.ErrInvalidArgument,
	"InvalidParameterValue.LimitExceeded":          rollback.ErrInvalidArgument,
	"MissingParameter":                             rollback.ErrInvalidArgument,
	"UnknownParameter":                             rollback.ErrInvalidArgument,
	"InvalidAction":                                rollback.ErrInvalidArgument,
	"UnsupportedRegion":                            rollback.ErrInvalidArgument,
	"ResourceNotFound.InstanceNotFound":            rollback.ErrInstanceNotFound,
	"ResourceNotFound.Whatever":                    rollback.ErrNotFound,
}

// ambiguousCodes may have been applied when they come back.
var ambiguousCodes = map[string]bool{
	"InternalError": true, "InternalError.DescribeInstanceStatus": true, "InternalError.GetSnapshotAllocQuotaLockError": true,
}

// Each code, injected into DescribeInstances over the wire, comes back as
// its sentinel with the cloud's code, message and request ID.
func TestErrorCodesOnTheWire(t *testing.T) {
	f := newFixture(t, fixtureOpts{opts: []rollback.Option{rollback.WithMaxAttempts(1)}})
	in := f.instance(tencenttest.Instance{})
	all := map[string]error{}
	for c, k := range seedCodes {
		all[c] = k
	}
	for c, k := range extraCodes {
		all[c] = k
	}
	for code, kind := range all {
		t.Run(code, func(t *testing.T) {
			f.srv.AddFault(tencenttest.Fault{Action: "DescribeInstances", Code: code, Message: "msg for " + code})
			_, err := f.c.Instance(context.Background(), "", in.ID)
			f.note(err)
			e := asError(t, err)
			if !errors.Is(err, kind) {
				t.Errorf("err = %v, want %v", err, kind)
			}
			if e.Code != code || e.Message != "msg for "+code || len(e.RequestID) != 36 || e.Provider != "tencent" || e.Op != "DescribeInstances" || e.HTTPStatus != 200 {
				t.Errorf("fields: %+v", e)
			}
			if e.Ambiguous != ambiguousCodes[code] {
				t.Errorf("Ambiguous = %v", e.Ambiguous)
			}
			var se *sdkerrors.TencentCloudSDKError
			if !errors.As(err, &se) || se.Code != code {
				t.Errorf("errors.As to the SDK error: %v", se)
			}
			if kind == rollback.ErrQuotaExceeded && !strings.Contains(e.Hint, "DeleteSnapshots") {
				t.Errorf("quota hint = %q", e.Hint)
			}
		})
	}
}

// The seed codes coming back from ApplyInstanceSnapshot itself: the
// sentinel, and no rollback applied.
func TestApplyInstanceSnapshotCodes(t *testing.T) {
	f := newFixture(t, fixtureOpts{opts: []rollback.Option{rollback.WithMaxAttempts(1)}})
	in, sn := f.stopped()
	for code, kind := range seedCodes {
		t.Run(code, func(t *testing.T) {
			f.srv.AddFault(tencenttest.Fault{Action: "ApplyInstanceSnapshot", Code: code})
			_, err := f.c.Rollback(context.Background(), req(in, sn))
			f.note(err)
			if !errors.Is(err, kind) || asError(t, err).Code != code {
				t.Errorf("err = %v, want %v", err, kind)
			}
		})
	}
	if f.srv.Rollbacks() != 0 {
		t.Errorf("rollbacks = %d", f.srv.Rollbacks())
	}
}

func TestUnknownCodeIsStillAnError(t *testing.T) {
	f := newFixture(t, fixtureOpts{opts: []rollback.Option{rollback.WithMaxAttempts(1)}})
	in := f.instance(tencenttest.Instance{})
	f.srv.AddFault(tencenttest.Fault{Action: "DescribeInstances", Code: "Brand.NewCode", Message: "new"})
	_, err := f.c.Instance(context.Background(), "", in.ID)
	f.note(err)
	e := asError(t, err)
	if e.Code != "Brand.NewCode" || e.Kind == nil || e.RequestID == "" {
		t.Errorf("err = %+v", e)
	}
}

func TestNon200Replies(t *testing.T) {
	tests := []struct {
		name      string
		fault     tencenttest.Fault
		kind      error
		code      string
		status    int
		ambiguous bool
		requestID bool
	}{
		{"500 with envelope", tencenttest.Fault{Code: "InternalError", Message: "boom", HTTPStatus: 500}, rollback.ErrInternal, "InternalError", 500, true, true},
		{"400 with envelope", tencenttest.Fault{Code: "InvalidParameter", HTTPStatus: 400}, rollback.ErrInvalidArgument, "InvalidParameter", 400, false, true},
		{"503 with busy envelope", tencenttest.Fault{Code: "UnsupportedOperation.SystemBusy", HTTPStatus: 503}, rollback.ErrBusy, "UnsupportedOperation.SystemBusy", 503, true, true},
		{"502 page", tencenttest.Fault{HTTPStatus: 502, Body: "<html>bad gateway</html>"}, rollback.ErrInternal, "ClientError.HttpStatusCodeError", 502, true, false},
		{"429 page", tencenttest.Fault{HTTPStatus: 429, Body: "slow down"}, rollback.ErrThrottled, "ClientError.HttpStatusCodeError", 429, false, false},
		{"404 page", tencenttest.Fault{HTTPStatus: 404, Body: "no"}, rollback.ErrInvalidArgument, "ClientError.HttpStatusCodeError", 404, false, false},
		{"200 page", tencenttest.Fault{Body: "<html>portal</html>"}, rollback.ErrInternal, "ClientError.ParseJsonError", 200, true, false},
		{"reset", tencenttest.Fault{Reset: true}, rollback.ErrNetwork, "ClientError.NetworkError", 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{opts: []rollback.Option{rollback.WithMaxAttempts(1)}})
			in := f.instance(tencenttest.Instance{})
			tt.fault.Action = "DescribeInstances"
			f.srv.AddFault(tt.fault)
			_, err := f.c.Instance(context.Background(), "", in.ID)
			f.note(err)
			e := asError(t, err)
			if !errors.Is(err, tt.kind) || e.Code != tt.code || e.HTTPStatus != tt.status || e.Ambiguous != tt.ambiguous || (e.RequestID != "") != tt.requestID {
				t.Errorf("err = %v\n%+v", err, e)
			}
			if tt.name == "reset" && !strings.Contains(e.Hint, "reads change nothing") {
				t.Errorf("a read that lost its reply is said to have maybe been applied: %v", err)
			}
			if tt.name == "404 page" && (errors.Is(err, rollback.ErrNotFound) || !strings.Contains(e.Hint, "check the endpoint")) {
				t.Errorf("a web server's 404 page is not a missing instance: %v", err)
			}
			if tt.name == "500 with envelope" && e.Message != "boom" {
				t.Errorf("message = %q", e.Message)
			}
		})
	}
}

func TestConnectionRefusedIsNotAmbiguous(t *testing.T) {
	dead := httptest.NewServer(nil)
	url := dead.URL
	dead.Close()
	c, err := tencent.New(tencent.Config{Region: "ap-guangzhou", Endpoint: url, SecretID: testID, SecretKey: testKey},
		rollback.WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Instance(context.Background(), "", "lhins-abc12345")
	e := asError(t, err)
	if !errors.Is(err, rollback.ErrNetwork) || e.Ambiguous {
		t.Errorf("err = %v (ambiguous %v)", err, e.Ambiguous)
	}
}

func TestAuthFailuresOnTheWire(t *testing.T) {
	f := newFixture(t, fixtureOpts{
		cfg:  func(c *tencent.Config) { c.SecretKey = "not-the-key" },
		opts: []rollback.Option{rollback.WithMaxAttempts(1)},
	})
	_, err := f.c.Instance(context.Background(), "", "lhins-abc12345")
	f.note(err)
	if !errors.Is(err, rollback.ErrUnauthenticated) || asError(t, err).Code != "AuthFailure.SignatureFailure" {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(err.Error(), "not-the-key") {
		t.Error("secret key in the error")
	}
}
