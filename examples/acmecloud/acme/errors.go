package acme

import (
	"errors"
	"net/http"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/errmap"
)

// Acme's error codes.
const (
	CodeServerNotFound     = "ServerNotFound"
	CodeSnapshotNotFound   = "SnapshotNotFound"
	CodeInvalidServerState = "InvalidServerState"
	CodeSnapshotNotReady   = "SnapshotNotReady"
	CodeServerBusy         = "ServerBusy"
	CodeSnapshotMismatch   = "SnapshotMismatch"
	CodeThrottled          = "Throttled"
	CodeInternalError      = "InternalError"
	CodeUnavailable        = "ServiceUnavailable"
	CodeAuthFailed         = "AuthFailed"
	CodeAccessDenied       = "AccessDenied"
	CodeInvalidParameter   = "InvalidParameter"
	CodeQuotaExceeded      = "QuotaExceeded"
)

const hintBusy = "another operation is in progress on the server; wait for it to finish"

// codes maps Acme's codes to the library's sentinels.
var codes = errmap.Table{
	Exact: map[string]errmap.Rule{
		CodeServerNotFound:     {Kind: provider.ErrInstanceNotFound, Hint: "check the server ID and the region"},
		CodeSnapshotNotFound:   {Kind: provider.ErrSnapshotNotFound, Hint: "check the snapshot ID and the region"},
		CodeInvalidServerState: {Kind: provider.ErrInstanceState, Hint: "RestoreSnapshot needs the server stopped (StopServer first)"},
		CodeSnapshotNotReady:   {Kind: provider.ErrSnapshotState, Hint: "wait until the snapshot is available"},
		CodeServerBusy:         {Kind: provider.ErrBusy, Hint: hintBusy},
		CodeSnapshotMismatch:   {Kind: provider.ErrSnapshotMismatch, Hint: "pick a snapshot of this server's system disk"},
		CodeThrottled:          {Kind: provider.ErrThrottled, Hint: "slow down: Acme allows 20 calls per second per action"},
		CodeInternalError:      {Kind: provider.ErrInternal, Ambiguous: true, Hint: "Acme failed; retry later"},
		CodeUnavailable:        {Kind: provider.ErrInternal, Ambiguous: true, Hint: "Acme is unavailable; retry later"},
		CodeAuthFailed:         {Kind: provider.ErrUnauthenticated, Hint: "check the key ID and secret, and the machine's clock"},
		CodeAccessDenied:       {Kind: provider.ErrPermissionDenied, Hint: "the key is not allowed this action"},
		CodeInvalidParameter:   {Kind: provider.ErrInvalidArgument},
		CodeQuotaExceeded:      {Kind: provider.ErrQuotaExceeded, Hint: "delete an old snapshot or raise the quota"},
	},
}

// mapError turns an attempt's error into a *provider.Error whose texts
// carry no secret. Errors that already are one pass through.
func (c *Client) mapError(op string, err error) error {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return err
	}
	clean := func(s string) string { return errmap.CleanMessage(s, c.redactor.String) }
	e := &provider.Error{Provider: Name, Op: op}
	var ae *apiError
	var br *badReply
	switch {
	case errors.As(err, &ae):
		rule, _ := codes.Lookup(ae.Code, ae.Status)
		if ae.Status >= 500 {
			rule.Ambiguous = true
		}
		e.Kind, e.Hint, e.Ambiguous = rule.Kind, rule.Hint, rule.Ambiguous
		e.Code, e.Message, e.RequestID, e.HTTPStatus = ae.Code, clean(ae.Message), ae.RequestID, ae.Status
		e.Err = &apiError{Status: ae.Status, Code: ae.Code, Message: e.Message, RequestID: ae.RequestID}
	case errors.As(err, &br):
		e.Kind, e.Ambiguous, e.HTTPStatus = provider.ErrInternal, true, http.StatusOK
		e.Message = clean(br.msg)
		e.Hint = "a proxy or gateway may be answering instead of the API; the call may have been applied"
	default:
		rule := errmap.Transport(err, err.Error())
		e.Kind, e.Hint, e.Ambiguous = rule.Kind, rule.Hint, rule.Ambiguous
		e.Message = clean(err.Error())
		e.Err = errors.New(e.Message)
	}
	return e
}
