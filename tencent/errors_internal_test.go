package tencent

import (
	"errors"
	"testing"

	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/cloudsnap/rollback"
)

// Every code of the ApplyInstanceSnapshot page is in the table by name, not
// only through a prefix.
func TestSeedCodesAreExplicit(t *testing.T) {
	for _, code := range []string{
		"FailedOperation.DescribeInstanceStatus", "FailedOperation.SnapshotOperationFailed",
		"InternalError.DescribeInstanceStatus", "InvalidParameterValue.DiskSizeNotMatch",
		"InvalidParameterValue.InstanceIdMalformed", "InvalidParameterValue.SnapshotIdMalformed",
		"OperationDenied.InstanceCreating", "OperationDenied.InstanceOperationInProgress",
		"ResourceNotFound.DiskNotFound", "ResourceNotFound.InstanceIdNotFound",
		"ResourceNotFound.SnapshotIdNotFound", "ResourceNotFound.SnapshotNotFound",
		"UnauthorizedOperation.NoPermission", "UnsupportedOperation.DiskBusy",
		"UnsupportedOperation.DiskLatestOperationUnfinished", "UnsupportedOperation.InvalidInstanceState",
		"UnsupportedOperation.InvalidSnapshotState", "UnsupportedOperation.LatestOperationUnfinished",
		"UnsupportedOperation.SnapshotBusy", "UnsupportedOperation.SystemBusy",
	} {
		if _, ok := codes.Exact[code]; !ok {
			t.Errorf("%s is not in the table", code)
		}
	}
}

// The SDK's exact texts (sdk-notes §6, probes T3, T5, T6, T7).
func TestClassifySDKTexts(t *testing.T) {
	id := func(s string) string { return s }
	tests := []struct {
		name      string
		err       *sdkerrors.TencentCloudSDKError
		kind      error
		code      string
		status    int
		rid       string
		ambiguous bool
	}{
		{"T3 500 envelope", &sdkerrors.TencentCloudSDKError{Code: "ClientError.HttpStatusCodeError",
			Message: `Request fail with http status code: 500 Internal Server Error, with body: {"Response":{"Error":{"Code":"InternalError","Message":"boom"},"RequestId":"rid-500"}}`},
			rollback.ErrInternal, "InternalError", 500, "rid-500", true},
		{"T5 parse", &sdkerrors.TencentCloudSDKError{Code: "ClientError.ParseJsonError",
			Message: "Fail to parse json content: <html>gateway</html>, because: invalid character '<' looking for beginning of value"},
			rollback.ErrInternal, "ClientError.ParseJsonError", 200, "", true},
		{"T6 timeout", &sdkerrors.TencentCloudSDKError{Code: "ClientError.NetworkError",
			Message: `Fail to get response because Post "http://127.0.0.1:38357/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`},
			rollback.ErrNetwork, "ClientError.NetworkError", 0, "", true},
		{"T7 refused", &sdkerrors.TencentCloudSDKError{Code: "ClientError.NetworkError",
			Message: `Fail to get response because Post "http://127.0.0.1:44633/": dial tcp 127.0.0.1:44633: connect: connection refused`},
			rollback.ErrNetwork, "ClientError.NetworkError", 0, "", false},
		{"T4 throttled", &sdkerrors.TencentCloudSDKError{Code: "RequestLimitExceeded", Message: "slow", RequestId: "rid-rl"},
			rollback.ErrThrottled, "RequestLimitExceeded", 200, "rid-rl", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := classify("ApplyInstanceSnapshot", tt.err, id)
			if !errors.Is(e, tt.kind) || e.Code != tt.code || e.HTTPStatus != tt.status || e.RequestID != tt.rid || e.Ambiguous != tt.ambiguous {
				t.Errorf("got %+v", e)
			}
		})
	}
}
