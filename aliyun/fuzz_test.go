package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/provider"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/cloudsnap/rollback"
)

// Credentials of the fuzz client; the token has base64's "+/=", as STS
// tokens do.
const (
	fuzzKeyID  = "LTAI5tFuzzKeyId0123"
	fuzzSecret = "fuzzSecretValue9876"
	fuzzToken  = "CAISfuzz+token/Value=="
)

func fuzzClient(t testing.TB) *Client {
	t.Helper()
	c, err := New(Config{Region: "cn-hangzhou", Endpoint: "http://127.0.0.1:9",
		AccessKeyID: fuzzKeyID, AccessKeySecret: fuzzSecret, SecurityToken: fuzzToken})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// leaked reports the credential that s gives away, if any, in the clear or
// URL-encoded.
func leaked(s string) string {
	for _, sec := range []string{fuzzKeyID, fuzzSecret, fuzzToken, url.QueryEscape(fuzzToken)} {
		if strings.Contains(s, sec) {
			return sec
		}
	}
	return ""
}

// FuzzMapError: whatever the SDK returns (a server error with any status,
// code and message, JSON or not; a client error; a transport error with a
// signed URL; anything else), mapError returns a *rollback.Error with a
// sentinel, and no credential that the input carried reaches its text, its
// fields or any error in its chain.
func FuzzMapError(f *testing.F) {
	c := fuzzClient(f)
	for _, s := range []struct {
		shape  uint8
		status int
		code   string
		msg    string
	}{
		{0, 500, "InternalError", "An error occurred"},
		{0, 400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D$ID%26Signature%3Dabc"},
		{0, 403, "IncorrectInstanceStatus.ResetDisk", ""},
		{1, 502, "", "<html>Bad Gateway $SECRET</html>"},
		{2, 0, "SDK.TimeoutError", "timed out AccessKeyId=$ID"},
		{3, 0, "", "read: connection reset by peer"},
		{4, 0, "", "building request with $TOKEN"},
		{0, 0, "Throttling.User", strings.Repeat("é", 600) + "$SECRET"},
	} {
		f.Add(s.shape, s.status, s.code, s.msg, "REQ-1")
	}
	f.Fuzz(func(t *testing.T, shape uint8, status int, code, msg, requestID string) {
		msg = strings.NewReplacer("$ID", fuzzKeyID, "$SECRET", fuzzSecret, "$TOKEN", fuzzToken).Replace(msg)
		signedURL := "http://127.0.0.1:9/?AccessKeyId=" + fuzzKeyID + "&SecurityToken=" + url.QueryEscape(fuzzToken) +
			"&Signature=c2lnbmF0dXJl&Action=ResetDisk"
		var in error
		switch shape % 5 {
		case 0: // the cloud's JSON error envelope
			body, _ := json.Marshal(map[string]string{"Code": code, "Message": msg, "RequestId": requestID, "HostId": "h", "Recommend": msg})
			in = sdkerrors.NewServerError(status, string(body), "")
		case 1: // a body that is not JSON (a gateway page)
			in = sdkerrors.NewServerError(status, msg, "")
		case 2: // the SDK's client error around a transport failure
			in = sdkerrors.NewClientError(code, msg, &url.Error{Op: "Post", URL: signedURL, Err: errors.New(msg)})
		case 3: // a bare transport failure
			in = &url.Error{Op: "Post", URL: signedURL, Err: errors.New(msg)}
		default:
			in = errors.New(msg)
		}
		out := c.mapError(opResetDisk, in)
		var e *rollback.Error
		if !errors.As(out, &e) || out != error(e) {
			t.Fatalf("mapError returned %T %v, want a *rollback.Error", out, out)
		}
		if e.Kind == nil || e.Provider != rollback.ProviderAliyun || e.Op != opResetDisk {
			t.Fatalf("error %+v: kind, provider or op missing", e)
		}
		if !utf8.ValidString(e.Message) && utf8.ValidString(msg) {
			t.Fatalf("message made invalid UTF-8: %q", e.Message)
		}
		texts := []string{out.Error(), e.Message, e.Hint, e.Code, e.RequestID}
		for x := errors.Unwrap(out); x != nil; x = errors.Unwrap(x) {
			texts = append(texts, x.Error())
		}
		if se := (*sdkerrors.ServerError)(nil); errors.As(out, &se) {
			texts = append(texts, se.Message(), se.Recommend(), se.Error())
		}
		for _, s := range texts {
			if sec := leaked(s); sec != "" {
				t.Fatalf("credential %q in %q", sec, s)
			}
		}
	})
}

// FuzzValidateRequest: any request is accepted or refused with an
// ErrInvalidArgument naming the field, in one clean line, before anything
// is sent; what is accepted has SWAS's ID shapes and is safe on the wire.
func FuzzValidateRequest(f *testing.F) {
	c := fuzzClient(f)
	f.Add("cn-hangzhou", "", "d-abc", "s-abc", "", "")
	f.Add("cn-hangzhou", "2b3c4d", "d-abc", "s-abc", "tok", "ticket-1")
	f.Add("", "", "", "", "", "")
	f.Add("cn-\x00", "i d", "d-", "s-\xff", "to ken", "key\n")
	f.Add("cn-hangzhou", strings.Repeat("a", 200), "lhdisk-1", "lhsnap-1", strings.Repeat("t", 65), "")
	f.Fuzz(func(t *testing.T, region, inst, disk, snap, token, key string) {
		req := rollback.Request{Region: region, InstanceID: inst, DiskID: disk, SnapshotID: snap, ClientToken: token, OperationKey: key}
		err := c.ValidateRequest(req)
		if err == nil {
			if !strings.HasPrefix(disk, "d-") || !strings.HasPrefix(snap, "s-") {
				t.Fatalf("accepted disk %q, snapshot %q", disk, snap)
			}
			for _, v := range []string{region, inst, disk, snap} {
				if !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n\t /?#&=%\"'") {
					t.Fatalf("accepted unsafe value %q", v)
				}
			}
			if _, err := provider.ResolveToken(req); err != nil {
				t.Fatalf("accepted a request whose token does not resolve: %v", err)
			}
			return
		}
		var e *rollback.Error
		if !errors.As(err, &e) || !errors.Is(err, rollback.ErrInvalidArgument) || e.Field == "" || e.Provider != rollback.ProviderAliyun {
			t.Fatalf("refusal %#v is not an ErrInvalidArgument naming the field", err)
		}
		if msg := err.Error(); !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\r\n") {
			t.Fatalf("message is not one clean line: %q", msg)
		}
	})
}

// FuzzReply: whatever the endpoint answers (any status, content type and
// body: a gateway's page, JSON of the wrong shape, a truncated reply), a
// call returns a result or a *rollback.Error with a sentinel; it never
// panics, and never reports success for an error status.
func FuzzReply(f *testing.F) {
	for _, s := range []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", `{"RequestId":"R","TotalCount":1,"Snapshots":[{"SnapshotId":"s-abc","Status":"Accomplished","SourceDiskId":"d-abc"}]}`},
		{400, "application/json", `{"RequestId":"R","Code":"Throttling.User","Message":"m"}`},
		{500, "application/json", `{"Code":500,"Message":["x"],"RequestId":null}`},
		{404, "application/json", `{"Code":"InvalidSnapshotId.NotFound","AccessDeniedDetail":"not a map"}`},
		{502, "text/html", `<html>Bad Gateway</html>`},
		{200, "application/json", `{"Snapshots":"nope","TotalCount":"x"}`},
		{200, "application/json", `{"RequestId":`},
		{200, "text/plain", ``},
		{301, "", `{}`},
	} {
		f.Add(s.status, s.ct, s.body, uint8(0))
	}
	f.Fuzz(func(t *testing.T, status int, ct, body string, call uint8) {
		if status < 100 || status > 999 {
			status = 200 + (status%800+800)%800
		}
		c, err := New(Config{Region: "cn-hangzhou", Endpoint: "http://127.0.0.1:9", AccessKeyID: fuzzKeyID, AccessKeySecret: fuzzSecret},
			rollback.WithHTTPTransport(testkit.ReplyTransport{Status: status, ContentType: ct, Body: body}), rollback.WithMaxAttempts(1))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		switch call % 4 {
		case 0:
			_, err = c.Snapshot(ctx, "cn-hangzhou", "s-abc")
		case 1:
			_, err = c.Instance(ctx, "cn-hangzhou", "i-abc")
		case 2:
			_, err = c.Disk(ctx, "cn-hangzhou", "d-abc")
		default:
			err = c.StopInstance(ctx, "cn-hangzhou", "i-abc")
		}
		if err == nil {
			if status < 200 || status >= 300 {
				t.Fatalf("success on HTTP %d with body %q", status, body)
			}
			return
		}
		var e *rollback.Error
		if !errors.As(err, &e) || e.Kind == nil {
			t.Fatalf("error %T %v is not a *rollback.Error with a sentinel", err, err)
		}
	})
}
