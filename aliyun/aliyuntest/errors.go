package aliyuntest

import (
	"net/http"
	"strings"
)

// apiError is an error reply.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

// knownErrors are the emulator's codes with their HTTP status and default
// message. Injected faults use them when the Fault leaves those empty.
var knownErrors = map[string]apiError{
	"InternalError":                              {500, "", "An error occurred while processing your request."},
	"ServiceUnavailable":                         {503, "", "The request has failed due to a temporary failure of the server."},
	"Throttling.User":                            {400, "", "Request was denied due to user flow control."},
	"Throttling":                                 {400, "", "Request was denied due to request throttling."},
	"Throttling.Api":                             {400, "", "Request was denied due to api flow control."},
	"InvalidAccessKeyId.NotFound":                {404, "", "Specified access key is not found."},
	"InvalidAccessKeyId.Inactive":                {400, "", "Specified access key is disabled."},
	"SignatureDoesNotMatch":                      {400, "", "Specified signature is not matched with our calculation."},
	"IncompleteSignature":                        {400, "", "The request signature does not conform to Aliyun standards."},
	"SignatureNonceUsed":                         {400, "", "Specified signature nonce was used already."},
	"InvalidTimeStamp.Expired":                   {400, "", "Specified time stamp or date value is expired."},
	"InvalidTimeStamp.Format":                    {400, "", "Specified time stamp or date value is not well formatted."},
	"InvalidSecurityToken.Expired":               {400, "", "Specified SecurityToken is expired."},
	"InvalidSecurityToken.Malformed":             {400, "", "Specified SecurityToken is malformed."},
	"InvalidSecurityToken.MismatchWithAccessKey": {400, "", "Specified SecurityToken mismatch with the AccessKey."},
	"Forbidden.RAM":                              {403, "", "User not authorized to operate on the specified resource, or this API doesn't support RAM."},
	"Forbidden":                                  {403, "", "User not authorized to operate on the specified resource."},
	"InvalidAction.NotFound":                     {404, "", "Specified api is not found, please check your url and method."},
	"InvalidVersion":                             {400, "", "Specified parameter Version is not valid."},
	"UnsupportedHTTPMethod":                      {400, "", "This http method is not supported."},
	"MissingParameter":                           {400, "", "A required parameter is not supplied."},
	"InvalidParameter":                           {400, "", "The specified parameter is not valid."},
	"InvalidRegionId":                            {400, "", "The specified RegionId is not served here."},
	"IdempotentParameterMismatch":                {400, "", "The specified parameters differ from those of an earlier request with the same ClientToken."},
	"InvalidClientToken.ValueNotSupported":       {400, "", "The ClientToken must be ASCII and at most 64 characters long."},
	"InvalidDiskId.NotFound":                     {404, "", "The specified DiskId does not exist."},
	"InvalidSnapshotId.NotFound":                 {404, "", "The specified SnapshotId does not exist."},
	"InvalidInstanceId.NotFound":                 {404, "", "The specified InstanceId does not exist."},
	"InvalidSnapshotId.NotReady":                 {403, "", "The specified snapshot is not in the Accomplished state."},
	"InvalidSnapshotId.DiskMismatch":             {403, "", "The specified snapshot was not taken from the specified disk."},
	"IncorrectSnapshotStatus":                    {403, "", "The current status of the snapshot does not support this operation."},
	"IncorrectInstanceStatus":                    {403, "", "The current status of the resource does not support this operation."},
	"IncorrectInstanceStatus.ResetDisk":          {403, "", "Rolling back the disk requires the instance to operate in a stopped state."},
	"QuotaExceed.Snapshot":                       {403, "", "The number of snapshots of this server has reached the quota."},
}

// errorFor builds the reply for code with its usual status and message.
func errorFor(code string) *apiError {
	if k, ok := knownErrors[code]; ok {
		return &apiError{Status: k.Status, Code: code, Message: k.Message}
	}
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: "The request failed: " + code + "."}
}

func errorWithMessage(code, msg string) *apiError {
	e := errorFor(code)
	e.Message = msg
	return e
}

func missing(param string) *apiError {
	return errorWithMessage("MissingParameter",
		`The input parameter "`+param+`" that is mandatory for processing this request is not supplied.`)
}

// missingAction is the action-level form: MissingDiskId and the like.
func missingAction(param string) *apiError {
	return newError(http.StatusBadRequest, "Missing"+param, param+" is mandatory for this action.")
}

func invalidParam(param, why string) *apiError {
	return newError(http.StatusBadRequest, "InvalidParameter."+param, "The specified parameter "+param+" is not valid: "+why)
}

// recommend is the troubleshooting link real replies carry.
func recommend(code string) string {
	return "https://api.aliyun.com/troubleshoot?q=" + strings.ReplaceAll(code, " ", "") + "&product=SWAS-OPEN"
}
