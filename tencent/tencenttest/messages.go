package tencenttest

import "fmt"

// Error codes the emulator answers with. The ApplyInstanceSnapshot page lists
// the business codes; the rest are Tencent Cloud API 3.0 common codes.
const (
	CodeAuthFailureInvalidAuthorization = "AuthFailure.InvalidAuthorization"
	CodeAuthFailureSecretIDNotFound     = "AuthFailure.SecretIdNotFound"
	CodeAuthFailureSignatureExpire      = "AuthFailure.SignatureExpire"
	CodeAuthFailureSignatureFailure     = "AuthFailure.SignatureFailure"
	CodeAuthFailureTokenFailure         = "AuthFailure.TokenFailure"
	CodeInvalidAction                   = "InvalidAction"
	CodeInvalidParameter                = "InvalidParameter"
	CodeInvalidParameterConflict        = "InvalidParameter.ParameterConflict"
	CodeInvalidFilter                   = "InvalidParameter.InvalidFilter"
	CodeFilterValueLimitExceeded        = "InvalidParameter.FilterValueLimitExceeded"
	CodeInvalidParameterValue           = "InvalidParameterValue"
	CodeLimitExceeded                   = "InvalidParameterValue.LimitExceeded"
	CodeInstanceIDMalformed             = "InvalidParameterValue.InstanceIdMalformed"
	CodeSnapshotIDMalformed             = "InvalidParameterValue.SnapshotIdMalformed"
	CodeSnapshotNameTooLong             = "InvalidParameterValue.SnapshotNameTooLong"
	CodeDiskSizeNotMatch                = "InvalidParameterValue.DiskSizeNotMatch"
	CodeMissingParameter                = "MissingParameter"
	CodeUnknownParameter                = "UnknownParameter"
	CodeNoSuchVersion                   = "NoSuchVersion"
	CodeUnsupportedRegion               = "UnsupportedRegion"
	CodeUnsupportedProtocol             = "UnsupportedProtocol"
	CodeRequestLimitExceeded            = "RequestLimitExceeded"
	CodeInternalError                   = "InternalError"
	CodeInstanceCreating                = "OperationDenied.InstanceCreating"
	CodeInstanceOperationInProgress     = "OperationDenied.InstanceOperationInProgress"
	CodeInstanceIDNotFound              = "ResourceNotFound.InstanceIdNotFound"
	CodeSnapshotIDNotFound              = "ResourceNotFound.SnapshotIdNotFound"
	CodeSnapshotNotFound                = "ResourceNotFound.SnapshotNotFound"
	CodeInvalidInstanceState            = "UnsupportedOperation.InvalidInstanceState"
	CodeInvalidSnapshotState            = "UnsupportedOperation.InvalidSnapshotState"
	CodeLatestOperationUnfinished       = "UnsupportedOperation.LatestOperationUnfinished"
	CodeSnapshotQuotaLimitExceeded      = "LimitExceeded.SnapshotQuotaLimitExceeded"
	CodeNoPermission                    = "UnauthorizedOperation.NoPermission"
	CodeDiskNotFound                    = "ResourceNotFound.DiskNotFound"
	CodeDiskBusy                        = "UnsupportedOperation.DiskBusy"
	CodeDiskLatestOperationUnfinished   = "UnsupportedOperation.DiskLatestOperationUnfinished"
	CodeSnapshotBusy                    = "UnsupportedOperation.SnapshotBusy"
	CodeSystemBusy                      = "UnsupportedOperation.SystemBusy"
	CodeSnapshotOperationFailed         = "FailedOperation.SnapshotOperationFailed"
	CodeInstanceExpired                 = "UnsupportedOperation.InstanceExpired"
	// Only from injected faults: they report the cloud failing to read an
	// instance's status, which no state of an account causes.
	CodeFailedDescribeInstanceStatus   = "FailedOperation.DescribeInstanceStatus"
	CodeInternalDescribeInstanceStatus = "InternalError.DescribeInstanceStatus"
)

// messages holds the English and Chinese text of each code, as the cloud
// words them (X-TC-Language en-US or zh-CN).
var messages = map[string][2]string{
	"AuthFailure.InvalidAuthorization":                   [2]string{"The Authorization header is invalid.", "请求头部的 Authorization 不符合腾讯云标准。"},
	"AuthFailure.SecretIdNotFound":                       {"The SecretId does not exist or is disabled.", "密钥不存在或已被禁用。"},
	"AuthFailure.SignatureExpire":                        {"The signature has expired: the request timestamp is more than 5 minutes from the server time.", "签名过期。Timestamp 和服务器时间相差不得超过五分钟。"},
	"AuthFailure.SignatureFailure":                       {"The signature is incorrect.", "签名错误。"},
	"AuthFailure.TokenFailure":                           {"The token is invalid.", "token 错误。"},
	"InvalidAction":                                      {"The API does not exist.", "接口不存在。"},
	"InvalidParameter":                                   {"A parameter is invalid.", "参数错误。"},
	"InvalidParameter.ParameterConflict":                 {"Parameters conflict: IDs and Filters cannot be given together.", "参数冲突：不能同时指定 ID 列表和 Filters。"},
	"InvalidParameter.InvalidFilter":                     {"The filter is invalid.", "过滤器参数错误。"},
	"InvalidParameter.FilterValueLimitExceeded":          {"Too many filters or filter values.", "过滤器的值数量超过上限。"},
	"InvalidParameterValue":                              {"A parameter value is invalid.", "参数取值错误。"},
	"InvalidParameterValue.LimitExceeded":                {"The number of values exceeds the limit.", "参数值数量超过上限。"},
	"InvalidParameterValue.InstanceIdMalformed":          {"Invalid parameter value: the instance ID format is invalid.", "参数错误，实例 ID 格式非法。"},
	"InvalidParameterValue.SnapshotIdMalformed":          {"Invalid parametric value: the snapshot ID format is invalid.", "参数错误，快照 ID 格式非法。"},
	"InvalidParameterValue.SnapshotNameTooLong":          {"The snapshot name is too long.", "快照名称过长。"},
	"InvalidParameterValue.DiskSizeNotMatch":             {"The disk size has changed.", "磁盘大小已改变。"},
	"MissingParameter":                                   {"A required parameter is missing.", "缺少参数错误。"},
	"UnknownParameter":                                   {"An unknown parameter was given.", "未知参数错误。"},
	"NoSuchVersion":                                      {"The API version does not exist.", "接口版本不存在。"},
	"UnsupportedRegion":                                  {"The API does not support this region.", "接口不支持所传地域。"},
	"UnsupportedProtocol":                                {"Only GET and POST requests are supported.", "HTTP(S)请求协议错误，只支持 GET 和 POST 请求。"},
	"RequestLimitExceeded":                               {"The request frequency exceeds the limit.", "请求的次数超过了频率限制。"},
	"InternalError":                                      {"An internal error occurred.", "内部错误。"},
	"InternalError.DescribeInstanceStatus":               {"Failed to query the instance status. Please try again later.", "查询实例状态错误，请稍后再试。"},
	"FailedOperation.DescribeInstanceStatus":             {"An error occurred when querying the instance status.", "查询实例状态错误。"},
	"FailedOperation.SnapshotOperationFailed":            {"Failed to manipulate the snapshot.", "操作快照失败。"},
	"OperationDenied.InstanceCreating":                   {"It is not allowed to manipulate this instance, as it is being created.", "实例正在创建中，不允许操作。"},
	"OperationDenied.InstanceOperationInProgress":        {"It is not allowed to manipulate this instance, as the last operation is still in progress.", "实例的上一个操作仍在进行中，不允许操作。"},
	"ResourceNotFound.DiskNotFound":                      {"The disk does not exist.", "磁盘不存在。"},
	"ResourceNotFound.InstanceIdNotFound":                {"The instance ID does not exist.", "实例 ID 不存在。"},
	"ResourceNotFound.SnapshotIdNotFound":                {"The snapshot ID does not exist.", "快照 ID 不存在。"},
	"ResourceNotFound.SnapshotNotFound":                  {"The snapshot does not exist.", "快照不存在。"},
	"UnauthorizedOperation.NoPermission":                 {"No permission.", "无权限。"},
	"UnsupportedOperation.DiskBusy":                      {"The disk is busy.", "磁盘忙。"},
	"UnsupportedOperation.DiskLatestOperationUnfinished": {"Unsupported operation: the last operation of the disk has not been completed.", "不支持的操作，磁盘最近一次的操作尚未完成。"},
	"UnsupportedOperation.InvalidInstanceState":          {"Unsupported operation: the instance status is invalid.", "不支持的操作，实例状态不合法。"},
	"UnsupportedOperation.InvalidSnapshotState":          {"Unsupported operation: the snapshot status is invalid.", "不支持的操作，快照状态不合法。"},
	"UnsupportedOperation.LatestOperationUnfinished":     {"Unsupported operation: the last operation of the instance has not been completed.", "不支持的操作，实例最近一次的操作尚未完成。"},
	"UnsupportedOperation.SnapshotBusy":                  {"The snapshot is busy.", "快照忙。"},
	"UnsupportedOperation.SystemBusy":                    {"System busy.", "系统忙。"},
	"LimitExceeded.SnapshotQuotaLimitExceeded":           {"The snapshot quota has been reached.", "快照配额不足。"},
	"UnsupportedOperation.InstanceExpired":               {"Unsupported operation: the instance has expired.", "不支持的操作，实例已过期。"},
}

// apiError is an error reply: a code, and an optional English detail that
// replaces the generic English message.
type apiError struct {
	Code   string
	Detail string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Detail }

func apiErr(code string) *apiError { return &apiError{Code: code} }

func apiErrf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// message returns the text of code in lang ("en-US" or "zh-CN"; anything
// else is zh-CN, the cloud's default). detail, when set, is the English text.
func message(code, detail, lang string) string {
	m, known := messages[code]
	if lang == "en-US" {
		switch {
		case detail != "":
			return detail
		case known:
			return m[0]
		}
		return "The request failed with " + code + "."
	}
	if known {
		if detail != "" {
			return m[1] + " (" + detail + ")"
		}
		return m[1]
	}
	if detail != "" {
		return detail
	}
	return "请求失败：" + code + "。"
}
