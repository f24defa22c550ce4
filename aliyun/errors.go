package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/errmap"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

const (
	hintStop      = "stop the instance and wait until it is Stopped before rolling back (rollback.Run can do both)"
	hintToken     = "this ClientToken was already used for a different request; use a new token or OperationKey for a different rollback"
	hintAmbiguous = "the call may or may not have been applied; retrying with the same ClientToken is safe"
)

// codes maps SWAS error codes to rollback's sentinels. Exact codes come from
// the ResetDisk page and the Alibaba Cloud gateway; prefixes catch their
// families. Unknown codes are classified by HTTP status.
var codes = errmap.Table{
	Exact: map[string]errmap.Rule{
		// The ResetDisk error table.
		"InvalidDiskId.NotFound":            {Kind: provider.ErrDiskNotFound, Hint: "check the disk ID and the region"},
		"InvalidSnapshotId.NotFound":        {Kind: provider.ErrSnapshotNotFound, Hint: "check the snapshot ID and the region"},
		"InternalError":                     {Kind: provider.ErrInternal, Ambiguous: true, Hint: hintAmbiguous},
		"IncorrectInstanceStatus.ResetDisk": {Kind: provider.ErrInstanceState, Hint: hintStop},

		"InvalidInstanceId.NotFound":  {Kind: provider.ErrInstanceNotFound, Hint: "check the instance ID and the region"},
		"ServiceUnavailable":          {Kind: provider.ErrInternal, Ambiguous: true, Hint: hintAmbiguous},
		"IdempotentParameterMismatch": {Kind: provider.ErrInvalidArgument, Hint: hintToken},
		// A replayed nonce is refused before anything happens; a resend
		// signs with a fresh one.
		"SignatureNonceUsed":             {Kind: provider.ErrInternal, Hint: "the request was refused as a replay and not applied"},
		"SignatureDoesNotMatch":          {Kind: provider.ErrUnauthenticated, Hint: "check the access key secret"},
		"IncompleteSignature":            {Kind: provider.ErrUnauthenticated, Hint: "check the access key secret"},
		"InvalidAccessKeyId.NotFound":    {Kind: provider.ErrUnauthenticated, Hint: "check the access key ID"},
		"InvalidAccessKeyId.Inactive":    {Kind: provider.ErrUnauthenticated, Hint: "the access key is disabled"},
		"Forbidden.RAM":                  {Kind: provider.ErrPermissionDenied, Hint: "grant the RAM user or role the swas-open permission for this action"},
		"InvalidRegionId":                {Kind: provider.ErrInvalidArgument, Hint: "check the region"},
		"InvalidSnapshotId.NotReady":     {Kind: provider.ErrSnapshotState, Hint: "wait until the snapshot is Accomplished"},
		"InvalidSnapshotId.DiskMismatch": {Kind: provider.ErrSnapshotMismatch, Hint: "use a snapshot of this disk"},
		"IncorrectSnapshotStatus":        {Kind: provider.ErrSnapshotState},

		// Raised by the SDK itself.
		"SDK.JsonUnmarshalError":    {Kind: provider.ErrInternal, Ambiguous: true, Hint: "a success reply could not be read; " + hintAmbiguous},
		"SDK.TimeoutError":          {Kind: provider.ErrNetwork, Ambiguous: true},
		"SDK.CanNotResolveEndpoint": {Kind: provider.ErrInvalidArgument, Hint: "set Config.Endpoint"},
	},
	Prefix: map[string]errmap.Rule{
		"Throttling":              {Kind: provider.ErrThrottled, Hint: "SWAS allows 10 calls per minute per account for mutating actions"},
		"InvalidAccessKeyId":      {Kind: provider.ErrUnauthenticated, Hint: "check the access key ID"},
		"InvalidSecurityToken":    {Kind: provider.ErrUnauthenticated, Hint: "the STS token is invalid or expired; refresh it"},
		"InvalidTimeStamp":        {Kind: provider.ErrUnauthenticated, Hint: "check this machine's clock"},
		"Forbidden":               {Kind: provider.ErrPermissionDenied},
		"IncorrectInstanceStatus": {Kind: provider.ErrInstanceState, Hint: "wait until the instance is in a state that allows this"},
		"Missing":                 {Kind: provider.ErrInvalidArgument},
		"InvalidParameter":        {Kind: provider.ErrInvalidArgument},
		"InvalidClientToken":      {Kind: provider.ErrInvalidArgument},
		"QuotaExceed":             {Kind: provider.ErrQuotaExceeded, Hint: "delete a snapshot of this server first (SWAS keeps 3 per server)"},
	},
}

// mapError turns whatever the SDK returned into a *provider.Error whose
// texts, and every error in its chain, carry no credential or signature.
func (c *Client) mapError(op string, err error) error {
	var re *provider.Error
	if errors.As(err, &re) {
		return err // already ours (the engine's verdicts, a nested read)
	}
	e := &provider.Error{Provider: provider.ProviderAliyun, Op: op}
	var (
		se *sdkerrors.ServerError
		ce *sdkerrors.ClientError
		ue *url.Error
	)
	switch {
	case errors.As(err, &se):
		e.Code, e.HTTPStatus, e.RequestID = se.ErrorCode(), se.HttpStatus(), se.RequestId()
		e.Message = errmap.CleanMessage(se.Message(), c.redactor.String)
		e.Err = c.cleanServerError(se)
		c.apply(e, e.Code, e.HTTPStatus)
	case errors.As(err, &ce):
		e.Code = ce.ErrorCode()
		e.Message = errmap.CleanMessage(ce.Message(), c.redactor.String)
		origin := c.cleanTransport(ce.OriginError())
		e.Err = sdkerrors.NewClientError(e.Code, e.Message, origin)
		c.apply(e, e.Code, ce.HttpStatus())
	case errors.As(err, &ue):
		rule := errmap.Transport(err, err.Error())
		e.Kind, e.Ambiguous, e.Hint = rule.Kind, rule.Ambiguous, rule.Hint
		e.Err = c.cleanTransport(err)
		e.Message = e.Err.Error()
		if e.Ambiguous {
			e.Hint = hintAmbiguous
		}
	default:
		// Local failures (building the SDK client or the request).
		e.Kind = provider.ErrInternal
		e.Err = c.redactor.Error(err)
		e.Message = errmap.CleanMessage(err.Error(), c.redactor.String)
	}
	var withID requestIDError
	if e.RequestID == "" && errors.As(err, &withID) {
		e.RequestID = withID.id
	}
	fitHint(e)
	return e
}

// fitHint makes the table's hint true of the call that failed: reads carry
// no ClientToken and no quota, and a caller of StopInstance or StartInstance
// never sees the token the client sends on its behalf.
func fitHint(e *provider.Error) {
	read := strings.HasPrefix(e.Op, "List")
	switch {
	case e.Ambiguous && read:
		e.Hint = "no reply arrived; reads change nothing and are safe to retry"
	case e.Ambiguous && e.Op != opResetDisk:
		e.Hint = "the call may or may not have been applied; the client resends it with the same ClientToken, so it cannot apply twice"
	case errors.Is(e, provider.ErrThrottled) && read:
		e.Hint = "SWAS is limiting this account's calls; the client backs off and retries"
	}
}

func (c *Client) apply(e *provider.Error, code string, status int) {
	rule, _ := codes.Lookup(code, status)
	e.Kind, e.Hint, e.Ambiguous = rule.Kind, rule.Hint, rule.Ambiguous
}

// cleanServerError rebuilds the SDK's server error from redacted fields, so
// that errors.As still finds a *sdkerrors.ServerError while its text (and
// the SignatureDoesNotMatch message, which quotes the string to sign with the
// AccessKeyId) carries no secret. Response headers are dropped.
func (c *Client) cleanServerError(se *sdkerrors.ServerError) error {
	fields := map[string]any{
		"RequestId": se.RequestId(),
		"HostId":    se.HostId(),
		"Code":      se.ErrorCode(),
		"Message":   errmap.CleanMessage(se.Message(), c.redactor.String),
		"Recommend": se.Recommend(),
	}
	if d := se.AccessDeniedDetail(); d != nil {
		fields["AccessDeniedDetail"] = d
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return redactedText(errmap.CleanMessage(se.Error(), c.redactor.String))
	}
	return sdkerrors.NewServerError(se.HttpStatus(), c.redactor.String(string(raw)), "")
}

// cleanTransport returns a transport error without the signed URL's query.
// An attempt's timeout (ours, or the SDK's backstop http.Client timeout,
// which wraps context.DeadlineExceeded) is rebuilt so that it matches
// sdkhttp.ErrAttemptTimeout but not context.DeadlineExceeded: only the
// caller's own deadline may read as that, and it stops the retries.
func (c *Client) cleanTransport(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		inner := ue.Err
		if errors.Is(inner, sdkhttp.ErrAttemptTimeout) || errors.Is(inner, context.DeadlineExceeded) {
			inner = attemptTimeout{c.redactor.String(inner.Error())}
		}
		return c.redactor.Error(&url.Error{Op: ue.Op, URL: ue.URL, Err: inner})
	}
	return c.redactor.Error(err)
}

// attemptTimeout is one HTTP attempt running out of time.
type attemptTimeout struct{ msg string }

func (e attemptTimeout) Error() string        { return e.msg }
func (e attemptTimeout) Timeout() bool        { return true }
func (e attemptTimeout) Is(target error) bool { return target == sdkhttp.ErrAttemptTimeout }

type redactedText string

func (e redactedText) Error() string { return string(e) }

// clip cuts a message as every message is cut (errmap.Clip).
func clip(s string) string { return errmap.Clip(s) }
