package tencent

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/errmap"
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
		"FailedOperation.DescribeInstanceStatus":             {Kind: provider.ErrInternal, Hint: hintInternal},
		"FailedOperation.SnapshotOperationFailed":            {Kind: provider.ErrInternal, Hint: hintInternal},
		"InternalError.DescribeInstanceStatus":               {Kind: provider.ErrInternal, Ambiguous: true, Hint: hintInternal},
		"InvalidParameterValue.DiskSizeNotMatch":             {Kind: provider.ErrSnapshotMismatch, Hint: "the system disk was resized after the snapshot was taken; Lighthouse cannot roll back across a resize"},
		"InvalidParameterValue.InstanceIdMalformed":          {Kind: provider.ErrInvalidArgument},
		"InvalidParameterValue.SnapshotIdMalformed":          {Kind: provider.ErrInvalidArgument},
		"OperationDenied.InstanceCreating":                   {Kind: provider.ErrInstanceState, Hint: "the instance is still being created"},
		"OperationDenied.InstanceOperationInProgress":        {Kind: provider.ErrBusy, Hint: hintBusy},
		"ResourceNotFound.DiskNotFound":                      {Kind: provider.ErrDiskNotFound},
		"ResourceNotFound.InstanceIdNotFound":                {Kind: provider.ErrInstanceNotFound, Hint: "check the instance ID and the region"},
		"ResourceNotFound.SnapshotIdNotFound":                {Kind: provider.ErrSnapshotNotFound, Hint: "check the snapshot ID and the region"},
		"ResourceNotFound.SnapshotNotFound":                  {Kind: provider.ErrSnapshotNotFound, Hint: "check the snapshot ID, the region, and that the snapshot is of this instance's system disk"},
		"UnauthorizedOperation.NoPermission":                 {Kind: provider.ErrPermissionDenied, Hint: "grant the CAM user lighthouse:ApplyInstanceSnapshot (and the Describe actions)"},
		"UnsupportedOperation.DiskBusy":                      {Kind: provider.ErrBusy, Hint: hintBusy},
		"UnsupportedOperation.DiskLatestOperationUnfinished": {Kind: provider.ErrBusy, Hint: hintBusy},
		"UnsupportedOperation.InvalidInstanceState":          {Kind: provider.ErrInstanceState, Hint: hintState},
		"UnsupportedOperation.InvalidSnapshotState":          {Kind: provider.ErrSnapshotState, Hint: "the snapshot must be NORMAL; wait until it is created or its rollback ends"},
		"UnsupportedOperation.LatestOperationUnfinished":     {Kind: provider.ErrBusy, Hint: hintBusy},
		"UnsupportedOperation.SnapshotBusy":                  {Kind: provider.ErrBusy, Hint: hintBusy},
		"UnsupportedOperation.SystemBusy":                    {Kind: provider.ErrBusy, Hint: hintBusy},

		// Common codes and the other actions'.
		"RequestLimitExceeded":                     {Kind: provider.ErrThrottled, Hint: "slow down: Lighthouse allows 20 calls per second per action"},
		"InternalError":                            {Kind: provider.ErrInternal, Ambiguous: true, Hint: hintInternal},
		"LimitExceeded.SnapshotQuotaLimitExceeded": {Kind: provider.ErrQuotaExceeded, Hint: hintQuota},
		"MissingParameter":                         {Kind: provider.ErrInvalidArgument},
		"UnknownParameter":                         {Kind: provider.ErrInvalidArgument},
		"InvalidAction":                            {Kind: provider.ErrInvalidArgument},
		"NoSuchVersion":                            {Kind: provider.ErrInvalidArgument},
		"UnsupportedRegion":                        {Kind: provider.ErrInvalidArgument, Hint: "this region does not offer the action"},
		"UnsupportedProtocol":                      {Kind: provider.ErrInvalidArgument},
		"AuthFailure.UnauthorizedOperation":        {Kind: provider.ErrPermissionDenied, Hint: "the CAM policy does not allow this action"},
		"ResourceNotFound.InstanceNotFound":        {Kind: provider.ErrInstanceNotFound, Hint: "check the instance ID and the region"},
		"UnsupportedOperation.InstanceExpired":     {Kind: provider.ErrInstanceState, Hint: "the instance has expired and is isolated: renew it, then retry"},
		"ClientError.ParseJsonError":               {Kind: provider.ErrInternal, Ambiguous: true, Hint: "the reply was not the API's JSON (a proxy or gateway page?)"},
		"ClientError.IOError":                      {Kind: provider.ErrNetwork, Ambiguous: true},
	},
	Prefix: map[string]errmap.Rule{
		"AuthFailure":           {Kind: provider.ErrUnauthenticated, Hint: hintAuth},
		"InternalError":         {Kind: provider.ErrInternal, Ambiguous: true, Hint: hintInternal},
		"FailedOperation":       {Kind: provider.ErrInternal, Hint: hintInternal},
		"InvalidParameter":      {Kind: provider.ErrInvalidArgument},
		"InvalidParameterValue": {Kind: provider.ErrInvalidArgument},
		"LimitExceeded":         {Kind: provider.ErrQuotaExceeded, Hint: "an account limit was reached"},
		"RequestLimitExceeded":  {Kind: provider.ErrThrottled},
		"ResourceNotFound":      {Kind: provider.ErrNotFound},
		"UnauthorizedOperation": {Kind: provider.ErrPermissionDenied},
		"ResourceUnavailable":   {Kind: provider.ErrInternal, Hint: hintInternal},
		"ResourceInsufficient":  {Kind: provider.ErrInternal, Hint: hintInternal},
	},
}

// mapError turns an SDK error of op into a redacted *provider.Error. Errors
// that already are one (raised by our own checks) pass through.
func (c *Client) mapError(op string, err error) error {
	var re *provider.Error
	if errors.As(err, &re) {
		return err
	}
	var se *sdkerrors.TencentCloudSDKError
	if !errors.As(err, &se) {
		// Not from the SDK's call path (client construction): nothing sent.
		return &provider.Error{Provider: provider.ProviderTencent, Op: op, Kind: provider.ErrInternal,
			Message: errmap.CleanMessage(err.Error(), c.red.String), Err: c.red.Error(err)}
	}
	return classify(op, se, c.red.String)
}

// classify maps one SDK error; redact removes secrets from text. Messages
// are cut as on SWAS (errmap.CleanMessage), redacting only what is kept.
func classify(op string, se *sdkerrors.TencentCloudSDKError, redact func(string) string) *provider.Error {
	clean := func(s string) string { return errmap.CleanMessage(s, redact) }
	sdkErr := &sdkerrors.TencentCloudSDKError{Code: se.Code, Message: clean(se.Message), RequestId: se.RequestId}
	e := &provider.Error{
		Provider: provider.ProviderTencent, Op: op,
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
			rule = errmap.NoCode(status)
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
	if e.Ambiguous && e.Kind == provider.ErrNetwork && strings.HasPrefix(op, "Describe") {
		// "The call may have been applied" is true only of a change: a
		// read that lost its reply changed nothing (as on SWAS).
		e.Hint = "no reply arrived; reads change nothing and are safe to retry"
	}
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
