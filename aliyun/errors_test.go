package aliyun_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
)

// wantKinds is what each SWAS code means: written out, not derived from
// aliyun.Codes, so that the test checks the meaning and not the table.
var wantKinds = map[string]error{
	// The ResetDisk page's table.
	"InvalidDiskId.NotFound":            rollback.ErrDiskNotFound,
	"InvalidSnapshotId.NotFound":        rollback.ErrSnapshotNotFound,
	"InternalError":                     rollback.ErrInternal,
	"IncorrectInstanceStatus.ResetDisk": rollback.ErrInstanceState,
	// Common codes.
	"InvalidInstanceId.NotFound":                 rollback.ErrInstanceNotFound,
	"ServiceUnavailable":                         rollback.ErrInternal,
	"IdempotentParameterMismatch":                rollback.ErrInvalidArgument,
	"SignatureNonceUsed":                         rollback.ErrInternal,
	"SignatureDoesNotMatch":                      rollback.ErrUnauthenticated,
	"IncompleteSignature":                        rollback.ErrUnauthenticated,
	"InvalidAccessKeyId.NotFound":                rollback.ErrUnauthenticated,
	"InvalidAccessKeyId.Inactive":                rollback.ErrUnauthenticated,
	"InvalidSecurityToken.Expired":               rollback.ErrUnauthenticated,
	"InvalidSecurityToken.MismatchWithAccessKey": rollback.ErrUnauthenticated,
	"InvalidTimeStamp.Expired":                   rollback.ErrUnauthenticated,
	"Forbidden.RAM":                              rollback.ErrPermissionDenied,
	"Forbidden.AccessDenied":                     rollback.ErrPermissionDenied,
	"InvalidRegionId":                            rollback.ErrInvalidArgument,
	"InvalidSnapshotId.NotReady":                 rollback.ErrSnapshotState,
	"InvalidSnapshotId.DiskMismatch":             rollback.ErrSnapshotMismatch,
	"IncorrectSnapshotStatus":                    rollback.ErrSnapshotState,
	"IncorrectInstanceStatus":                    rollback.ErrInstanceState,
	"Throttling":                                 rollback.ErrThrottled,
	"Throttling.User":                            rollback.ErrThrottled,
	"Throttling.Api":                             rollback.ErrThrottled,
	"MissingParameter":                           rollback.ErrInvalidArgument,
	"MissingDiskId":                              rollback.ErrInvalidArgument,
	"InvalidParameter":                           rollback.ErrInvalidArgument,
	"InvalidParameter.PageSize":                  rollback.ErrInvalidArgument,
	"InvalidClientToken.ValueNotSupported":       rollback.ErrInvalidArgument,
	"QuotaExceed.Snapshot":                       rollback.ErrQuotaExceeded,
}

// ambiguous are the codes after which the call may have been applied.
var ambiguous = map[string]bool{"InternalError": true, "ServiceUnavailable": true}

func TestEveryCodeMapsToItsSentinel(t *testing.T) {
	for _, code := range aliyun.Codes.Codes() {
		if _, ok := wantKinds[code]; !ok && !strings.HasPrefix(code, "SDK.") {
			t.Errorf("code %s is in aliyun.Codes but not in this test", code)
		}
	}
	e := newEnv(t, nil)
	c := e.client(t, aliyun.Config{}, rollback.WithMaxAttempts(1))
	for code, kind := range wantKinds {
		t.Run(code, func(t *testing.T) {
			e.srv.Journal().Reset()
			e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListInstances, Code: code})
			_, err := c.Instance(e.ctx, e.srv.Region(), e.in.ID)
			re := asError(t, err, kind)
			j := e.srv.Journal().Entries()
			if len(j) != 1 {
				t.Fatalf("%d requests", len(j))
			}
			if re.Op != "ListInstances" || re.Code != code || re.RequestID != j[0].RequestID || re.HTTPStatus != j[0].HTTPStatus || re.Message == "" {
				t.Errorf("error fields = %+v (journal %+v)", re, j[0])
			}
			if re.Ambiguous != ambiguous[code] {
				t.Errorf("Ambiguous = %v", re.Ambiguous)
			}
			var se *sdkerrors.ServerError
			if !errors.As(err, &se) || se.ErrorCode() != code || se.RequestId() != re.RequestID {
				t.Errorf("errors.As did not reach the SDK's ServerError: %#v", se)
			}
			retryable := kind == rollback.ErrInternal || kind == rollback.ErrThrottled
			if rollback.IsRetryable(err) != retryable {
				t.Errorf("IsRetryable = %v", !retryable)
			}
		})
	}
}

// The four codes of the ResetDisk page, as ResetDisk returns them.
func TestResetDiskSeedCodes(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, aliyun.Config{}, rollback.WithMaxAttempts(1))
	for _, code := range []string{"InvalidDiskId.NotFound", "InvalidSnapshotId.NotFound", "InternalError", "IncorrectInstanceStatus.ResetDisk"} {
		t.Run(code, func(t *testing.T) {
			e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Code: code})
			_, err := c.Rollback(e.ctx, e.request())
			re := asError(t, err, wantKinds[code])
			if re.Op != "ResetDisk" || re.Code != code || re.RequestID == "" {
				t.Errorf("error = %+v", re)
			}
		})
	}
	if e.srv.Rollbacks() != 0 {
		t.Errorf("rollbacks = %d", e.srv.Rollbacks())
	}
}

func TestUnknownCodes(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client(t, aliyun.Config{}, rollback.WithMaxAttempts(1))
	cases := []struct {
		fault     aliyuntest.Fault
		kind      error
		ambiguous bool
	}{
		{aliyuntest.Fault{Code: "Weird.Thing", Message: "something odd", HTTPStatus: 409}, rollback.ErrInvalidArgument, false},
		{aliyuntest.Fault{Code: "Weird.Outage", Message: "down", HTTPStatus: 502}, rollback.ErrInternal, true},
		{aliyuntest.Fault{Code: "Weird.Gone", Message: "gone", HTTPStatus: 404}, rollback.ErrNotFound, false},
	}
	for _, tc := range cases {
		t.Run(tc.fault.Code, func(t *testing.T) {
			f := tc.fault
			f.Action = aliyuntest.ActionListInstances
			e.srv.AddFault(f)
			_, err := c.Instance(e.ctx, e.srv.Region(), e.in.ID)
			re := asError(t, err, tc.kind)
			if re.Code != f.Code || re.Message != f.Message || re.HTTPStatus != f.HTTPStatus || re.RequestID == "" || re.Ambiguous != tc.ambiguous {
				t.Errorf("error = %+v", re)
			}
		})
	}
	// A gateway's HTML page: no code, the body as the message, clipped.
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListInstances, Body: "<html>" + strings.Repeat("x", 2000) + "</html>", HTTPStatus: 502})
	_, err := c.Instance(e.ctx, e.srv.Region(), e.in.ID)
	re := asError(t, err, rollback.ErrInternal)
	if re.Code != "" || len(re.Message) > 600 || !strings.HasPrefix(re.Message, "<html>") {
		t.Errorf("error = %+v", re)
	}
	// A web server's 404 page, not SWAS's: the endpoint is wrong, and the
	// instance is not said to be missing (the command would exit "not found").
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListInstances, Body: "<html>404 page not found</html>", HTTPStatus: 404})
	_, err = c.Instance(e.ctx, e.srv.Region(), e.in.ID)
	re = asError(t, err, rollback.ErrInvalidArgument)
	if errors.Is(err, rollback.ErrNotFound) || re.Ambiguous || !strings.Contains(re.Hint, "check the endpoint") {
		t.Errorf("error = %+v", re)
	}
	// A success reply that is not JSON: the call may have been applied.
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListInstances, Body: "{truncated", HTTPStatus: 200})
	_, err = c.Instance(e.ctx, e.srv.Region(), e.in.ID)
	re = asError(t, err, rollback.ErrInternal)
	var ce *sdkerrors.ClientError
	if re.Code != "SDK.JsonUnmarshalError" || !re.Ambiguous || !errors.As(err, &ce) {
		t.Errorf("error = %+v", re)
	}
}

func TestNoSecretInErrorsOrLogs(t *testing.T) {
	const (
		keyID  = "LTAI5tSecretScanKeyID"
		secret = "SecretScanAccessKeySecretValue"
		token  = "SecretScanSecurityTokenValue"
	)
	e := newEnv(t, []aliyuntest.Option{
		aliyuntest.WithCredential(aliyuntest.Credential{AccessKeyID: keyID, AccessKeySecret: secret}),
		aliyuntest.WithCredential(aliyuntest.Credential{AccessKeyID: "STS." + keyID, AccessKeySecret: secret, SecurityToken: token}),
	})
	dead := aliyuntest.NewServer()
	deadURL := dead.URL
	dead.Close()

	var errs []error
	run := func(c *aliyun.Client, arm func()) {
		if arm != nil {
			arm()
		}
		_, err := c.Rollback(e.ctx, e.request())
		errs = append(errs, err)
		e.clk.Advance(time.Hour) // let any rollback finish
	}
	good := e.client(t, aliyun.Config{AccessKeyID: keyID, AccessKeySecret: secret})
	run(e.client(t, aliyun.Config{AccessKeyID: keyID, AccessKeySecret: "wrong-" + secret}, rollback.WithMaxAttempts(1)), nil)
	run(e.client(t, aliyun.Config{AccessKeyID: "STS." + keyID, AccessKeySecret: secret, SecurityToken: "wrong-" + token}, rollback.WithMaxAttempts(1)), nil)
	run(e.client(t, aliyun.Config{AccessKeyID: keyID, AccessKeySecret: secret, Endpoint: deadURL}, rollback.WithMaxAttempts(2)), nil)
	run(e.client(t, aliyun.Config{AccessKeyID: "STS." + keyID, AccessKeySecret: secret, SecurityToken: token, Endpoint: deadURL}, rollback.WithMaxAttempts(1)), nil)
	run(e.client(t, aliyun.Config{AccessKeyID: keyID, AccessKeySecret: secret}, rollback.WithCallTimeout(20*time.Millisecond), rollback.WithMaxAttempts(1)), func() {
		e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListSnapshots, Latency: 200 * time.Millisecond})
	})
	run(good, func() { e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, DropResponse: true}) })
	run(good, func() { e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Reset: true}) })
	run(good, func() { e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Code: "InternalError"}) })

	var failures int
	for i, err := range errs {
		if err == nil {
			continue
		}
		failures++
		texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%v", err)}
		walk(err, func(inner error) { texts = append(texts, inner.Error()) })
		for _, s := range texts {
			if found := secretsIn(s, keyID, secret, token); len(found) > 0 {
				t.Errorf("scenario %d: error text carries %v:\n%s", i, found, s)
			}
		}
	}
	if failures < 5 {
		t.Errorf("only %d scenarios failed; the scan saw too little", failures)
	}
	// The transport error for the refused connection is still a network
	// error, unambiguous (nothing was sent), with its URL minus the query.
	if re := asError(t, errs[2], rollback.ErrNetwork); re.Ambiguous || !strings.Contains(re.Error(), "127.0.0.1") {
		t.Errorf("refused connection: %+v", re)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "SignatureDoesNotMatch") || !strings.Contains(logs, "retrying") {
		t.Errorf("logs miss the failures they should record:\n%s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if found := secretsIn(line, keyID, secret, token); len(found) > 0 {
			t.Errorf("log line carries %v: %s", found, line)
		}
	}
}
