package tencent

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/errmap"
)

// Hints shared by several codes.
const (
	hintBusy     = "another operation is in progress; wait for it to finish and retry"
	hintState    = "check the instance's state with DescribeInstances; it must be STOPPED (or RUNNING with Config.AllowForcedStop)"
	hintAuth     = "check the SecretId/SecretKey (and token), and that the machine's clock is right"
	hintQuota    = "the snapshot quota is used up: delete an old snapshot (DeleteSnapshots) or raise the quota"
	hintInternal = "the cloud failed; retry later"
)

// codes maps Lighthouse error codes to sentinels: the twenty of the
// ApplyInstanceSnapshot page first, then the common and related ones.
var codes = errmap.Table{
	Exact: map[string]errmap.Rule{
		// ApplyInstanceSnapshot's own table.
		"FailedOperation.DescribeInstanceStatus":             {Kind: rollback.ErrInternal, Hint: hintInternal},
		"FailedOperation.SnapshotOperationFailed":            {Kind: rollback.ErrInternal, Hint: hintInternal},
		"InternalError.DescribeInstanceStatus":               {Kind: rollback.ErrInternal, Ambiguous: true, Hint: hintInternal},
		"InvalidParameterValue.DiskSizeNotMatch":             {Kind: rollback.ErrSnapshotMismatch, Hint: "the system disk was resized after the snapshot was taken; Lighthouse cannot roll back across a resize"},
		"InvalidParameterValue.InstanceIdMalformed":          {Kind: rollback.ErrInvalidArgument},
		"InvalidParameterValue.SnapshotIdMalformed":          {Kind: rollback.ErrInvalidArgument},
		"OperationDenied.InstanceCreating":                   {Kind: rollback.ErrInstanceState, Hint: "the instance is still being created"},
		"OperationDenied.InstanceOperationInProgress":        {Kind: rollback.ErrBusy, Hint: hintBusy},
		"ResourceNotFound.DiskNotFound":                      {Kind: rollback.ErrDiskNotFound},
		"ResourceNotFound.InstanceIdNotFound":                {Kind: rollback.ErrInstanceNotFound, Hint: "check the instance ID and the region"},
		"ResourceNotFound.SnapshotIdNotFound":                {Kind: rollback.ErrSnapshotNotFound, Hint: "check the snapshot ID and the region"},
		"ResourceNotFound.SnapshotNotFound":                  {Kind: rollback.ErrSnapshotNotFound, Hint: "check the snapshot ID, the region, and that the snapshot is of this instance's system disk"},
		"UnauthorizedOperation.NoPermission":                 {Kind: rollback.ErrPermissionDenied, Hint: "grant the CAM user lighthouse:ApplyInstanceSnapshot (and the Describe actions)"},
		"UnsupportedOperation.DiskBusy":                      {Kind: rollback.ErrBusy, Hint: hintBusy},
		"UnsupportedOperation.DiskLatestOperationUnfinished": {Kind: rollback.ErrBusy, Hint: hintBusy},
		"UnsupportedOperation.InvalidInstanceState":          {Kind: rollback.ErrInstanceState, Hint: hintState},
		"UnsupportedOperation.InvalidSnapshotState":          {Kind: rollback.ErrSnapshotState, Hint: "the snapshot must be NORMAL; wait until it is created or its rollback ends"},
		"UnsupportedOperation.LatestOperationUnfinished":     {Kind: rollback.ErrBusy, Hint: hintBusy},
		"UnsupportedOperation.SnapshotBusy":                  {Kind: rollback.ErrBusy, Hint: hintBusy},
		"UnsupportedOperation.SystemBusy":                    {Kind: rollback.ErrBusy, Hint: hintBusy},

		// Common codes and the other actions'.
		"RequestLimitExceeded":                     {Kind: rollback.ErrThrottled, Hint: "slow down: Lighthouse allows 20 calls per second per action"},
		"InternalError":                            {Kind: rollback.ErrInternal, Ambiguous: true, Hint: hintInternal},
		"LimitExceeded.SnapshotQuotaLimitExceeded": {Kind: rollback.ErrQuotaExceeded, Hint: hintQuota},
		"MissingParameter":                         {Kind: rollback.ErrInvalidArgument},
		"UnknownParameter":                         {Kind: rollback.ErrInvalidArgument},
		"InvalidAction":                            {Kind: rollback.ErrInvalidArgument},
		"NoSuchVersion":                            {Kind: rollback.ErrInvalidArgument},
		"UnsupportedRegion":                        {Kind: rollback.ErrInvalidArgument, Hint: "this region does not offer the action"},
		"UnsupportedProtocol":                      {Kind: rollback.ErrInvalidArgument},
		"AuthFailure.UnauthorizedOperation":        {Kind: rollback.ErrPermissionDenied, Hint: "the CAM policy does not allow this action"},
		"ResourceNotFound.InstanceNotFound":        {Kind: rollback.ErrInstanceNotFound, Hint: "check the instance ID and the region"},
		"UnsupportedOperation.InstanceExpired":     {Kind: rollback.ErrInstanceState, Hint: "the instance has expired and is isolated: renew it, then retry"},
		"ClientError.ParseJsonError":               {Kind: rollback.ErrInternal, Ambiguous: true, Hint: "the reply was not the API's JSON (a proxy or gateway page?)"},
		"ClientError.IOError":                      {Kind: rollback.ErrNetwork, Ambiguous: true},
	},
	Prefix: map[string]errmap.Rule{
		"AuthFailure":           {Kind: rollback.ErrUnauthenticated, Hint: hintAuth},
		"InternalError":         {Kind: rollback.ErrInternal, Ambiguous: true, Hint: hintInternal},
		"FailedOperation":       {Kind: rollback.ErrInternal, Hint: hintInternal},
		"InvalidParameter":      {Kind: rollback.ErrInvalidArgument},
		"InvalidParameterValue": {Kind: rollback.ErrInvalidArgument},
		"LimitExceeded":         {Kind: rollback.ErrQuotaExceeded, Hint: "an account limit was reached"},
		"RequestLimitExceeded":  {Kind: rollback.ErrThrottled},
		"ResourceNotFound":      {Kind: rollback.ErrNotFound},
		"UnauthorizedOperation": {Kind: rollback.ErrPermissionDenied},
		"ResourceUnavailable":   {Kind: rollback.ErrInternal, Hint: hintInternal},
		"ResourceInsufficient":  {Kind: rollback.ErrInternal, Hint: hintInternal},
	},
}

// mapError turns an SDK error of op into a redacted *rollback.Error. Errors
// that already are one (raised by our own checks) pass through.
func (c *Client) mapError(op string, err error) error {
	var re *rollback.Error
	if errors.As(err, &re) {
		return err
	}
	var se *sdkerrors.TencentCloudSDKError
	if !errors.As(err, &se) {
		// Not from the SDK's call path (client construction): nothing sent.
		return &rollback.Error{Provider: rollback.ProviderTencent, Op: op, Kind: rollback.ErrInternal,
			Message: errmap.CleanMessage(err.Error(), c.red.String), Err: c.red.Error(err)}
	}
	return classify(op, se, c.red.String)
}

// classify maps one SDK error; redact removes secrets from text. Messages
// are cut as on SWAS (errmap.CleanMessage), redacting only what is kept.
func classify(op string, se *sdkerrors.TencentCloudSDKError, redact func(string) string) *rollback.Error {
	clean := func(s string) string { return errmap.CleanMessage(s, redact) }
	sdkErr := &sdkerrors.TencentCloudSDKError{Code: se.Code, Message: clean(se.Message), RequestId: se.RequestId}
	e := &rollback.Error{
		Provider: rollback.ProviderTencent, Op: op,
		Code: se.Code, Message: sdkErr.Message, RequestID: se.RequestId, Err: sdkErr,
	}
	var rule errmap.Rule
	switch se.Code {
	case "ClientError.NetworkError":
		rule = errmap.Transport(nil, se.Message)
	case "ClientError.HttpStatusCodeError":
		status, body := parseStatusError(se.Message)
		e.HTTPStatus = status
		if env, ok := parseEnvelope(body); ok {
			e.Code, e.Message, e.RequestID = env.Code, clean(env.Message), env.RequestID
			rule, _ = codes.Lookup(env.Code, status)
		} else {
			rule = errmap.ByStatus(status)
		}
		if status >= 500 {
			rule.Ambiguous = true
		}
	case "ClientError.IOError":
		rule, _ = codes.Lookup(se.Code, 0)
	default:
		// The cloud's envelope, or a body that was not JSON: the SDK
		// decodes both only from an HTTP 200 reply.
		e.HTTPStatus = 200
		rule, _ = codes.Lookup(se.Code, 200)
	}
	e.Kind, e.Hint, e.Ambiguous = rule.Kind, rule.Hint, rule.Ambiguous
	return e
}

var statusPattern = regexp.MustCompile(`status code: (\d{3})`)

// parseStatusError reads "Request fail with http status code: 500 Internal
// Server Error, with body: {...}" (common/http/response.go).
func parseStatusError(msg string) (status int, body string) {
	if m := statusPattern.FindStringSubmatch(msg); m != nil {
		status, _ = strconv.Atoi(m[1])
	}
	if _, b, ok := strings.Cut(msg, ", with body: "); ok {
		body = b
	}
	return status, body
}

type envelope struct {
	Code, Message, RequestID string
}

// parseEnvelope reads the cloud's error envelope from a body.
func parseEnvelope(body string) (envelope, bool) {
	var v struct {
		Response struct {
			Error struct {
				Code    string
				Message string
			}
			RequestId string
		}
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &v); err != nil || v.Response.Error.Code == "" {
		return envelope{}, false
	}
	return envelope{v.Response.Error.Code, v.Response.Error.Message, v.Response.RequestId}, true
}
