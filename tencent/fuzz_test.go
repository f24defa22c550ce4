package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/provider"

	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/cloudsnap/rollback"
)

const (
	fuzzSecretID  = "AKIDfuzzSecretId0123456789"
	fuzzSecretKey = "fuzzSecretKey+/9876"
	fuzzToken     = "fuzz-session/token+=="
)

func fuzzClient(t testing.TB) *Client {
	t.Helper()
	c, err := New(Config{Region: "ap-guangzhou", Endpoint: "http://127.0.0.1:9",
		SecretID: fuzzSecretID, SecretKey: fuzzSecretKey, Token: fuzzToken})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func leaked(s string) string {
	for _, sec := range []string{fuzzSecretID, fuzzSecretKey, fuzzToken, url.QueryEscape(fuzzSecretKey), url.QueryEscape(fuzzToken)} {
		if strings.Contains(s, sec) {
			return sec
		}
	}
	return ""
}

// FuzzMapError: whatever the SDK returns (the cloud's envelope with any
// code and message; its ClientError.HttpStatusCodeError text for a non-200
// reply, with an envelope or any body; ClientError.NetworkError; an error
// from outside the SDK), mapError returns a *rollback.Error with a
// sentinel, and no credential the input carried reaches its text, fields
// or chain.
func FuzzMapError(f *testing.F) {
	c := fuzzClient(f)
	for _, s := range []struct {
		shape  uint8
		status int
		code   string
		msg    string
	}{
		{0, 200, "InternalError", "An internal error occurred."},
		{0, 200, "AuthFailure.SignatureFailure", "The provided credentials could not be validated: $ID"},
		{0, 200, "ClientError.ParseJsonError", "body {\"a\" $KEY"},
		{1, 502, "InternalError", "gateway with Authorization: TC3-HMAC-SHA256 Credential=$ID/2026-01-01/lighthouse/tc3_request"},
		{2, 503, "", "<html>Service Unavailable $TOKEN</html>"},
		{3, 0, "", "Post \"http://127.0.0.1:9/\": read tcp: connection reset by peer X-TC-Token: $TOKEN"},
		{4, 0, "", "build request with $KEY"},
		{1, 700, "RequestLimitExceeded", strings.Repeat("限", 300)},
		{0, 0, "", ""},
	} {
		f.Add(s.shape, s.status, s.code, s.msg, "rid-1")
	}
	f.Fuzz(func(t *testing.T, shape uint8, status int, code, msg, requestID string) {
		msg = strings.NewReplacer("$ID", fuzzSecretID, "$KEY", fuzzSecretKey, "$TOKEN", fuzzToken).Replace(msg)
		var in error
		switch shape % 5 {
		case 0: // the cloud's envelope in an HTTP 200 reply
			in = &sdkerrors.TencentCloudSDKError{Code: code, Message: msg, RequestId: requestID}
		case 1: // a non-200 reply carrying the envelope
			body, _ := json.Marshal(map[string]any{"Response": map[string]any{
				"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": requestID}})
			in = &sdkerrors.TencentCloudSDKError{Code: "ClientError.HttpStatusCodeError",
				Message: fmt.Sprintf("Request fail with http status code: %d %s, with body: %s", status, http.StatusText(status), body)}
		case 2: // a non-200 reply with any body
			in = &sdkerrors.TencentCloudSDKError{Code: "ClientError.HttpStatusCodeError",
				Message: fmt.Sprintf("Request fail with http status code: %d, with body: %s", status, msg)}
		case 3: // no reply
			in = &sdkerrors.TencentCloudSDKError{Code: "ClientError.NetworkError", Message: "Fail to get response because " + msg}
		default:
			in = errors.New(msg)
		}
		out := c.mapError("ApplyInstanceSnapshot", in)
		var e *rollback.Error
		if !errors.As(out, &e) || out != error(e) {
			t.Fatalf("mapError returned %T %v, want a *rollback.Error", out, out)
		}
		if e.Kind == nil || e.Provider != rollback.ProviderTencent || e.Op != "ApplyInstanceSnapshot" {
			t.Fatalf("error %+v: kind, provider or op missing", e)
		}
		if !utf8.ValidString(e.Message) && utf8.ValidString(msg) {
			t.Fatalf("message made invalid UTF-8: %q", e.Message)
		}
		texts := []string{out.Error(), e.Message, e.Hint, e.RequestID}
		for x := errors.Unwrap(out); x != nil; x = errors.Unwrap(x) {
			texts = append(texts, x.Error())
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
// is sent; what is accepted has Lighthouse's ID shapes, a region the client
// serves, and is safe on the wire.
func FuzzValidateRequest(f *testing.F) {
	c := fuzzClient(f)
	f.Add("ap-guangzhou", "lhins-abc", "", "lhsnap-abc", "", "")
	f.Add("", "lhins-abc", "lhdisk-1", "lhsnap-abc", "tok", "ticket-1")
	f.Add("mars-1", "", "", "", "", "")
	f.Add("ap-\x00", "lhins-\xff", "d-1", "s-1", "to ken", "key\n")
	f.Add("ap-guangzhou", "lhins-"+strings.Repeat("a", 200), "lhdisk-", "lhsnap-é", strings.Repeat("t", 65), "")
	f.Fuzz(func(t *testing.T, region, inst, disk, snap, token, key string) {
		req := rollback.Request{Region: region, InstanceID: inst, DiskID: disk, SnapshotID: snap, ClientToken: token, OperationKey: key}
		err := c.ValidateRequest(req)
		if err == nil {
			if !strings.HasPrefix(inst, "lhins-") || !strings.HasPrefix(snap, "lhsnap-") || (disk != "" && !strings.HasPrefix(disk, "lhdisk-")) {
				t.Fatalf("accepted instance %q, disk %q, snapshot %q", inst, disk, snap)
			}
			if r := region; r != "" && !c.regions.any && !containsString(Regions(), r) {
				t.Fatalf("accepted region %q", r)
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
		if !errors.As(err, &e) || !errors.Is(err, rollback.ErrInvalidArgument) || e.Field == "" || e.Provider != rollback.ProviderTencent {
			t.Fatalf("refusal %#v is not an ErrInvalidArgument naming the field", err)
		}
		if msg := err.Error(); !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\r\n") {
			t.Fatalf("message is not one clean line: %q", msg)
		}
	})
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
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
		{200, "application/json", `{"Response":{"TotalCount":1,"SnapshotSet":[{"SnapshotId":"lhsnap-abc","SnapshotState":"NORMAL","DiskId":"lhdisk-1"}],"RequestId":"r"}}`},
		{200, "application/json", `{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"m"},"RequestId":"r"}}`},
		{200, "application/json", `{"Response":{"Error":{"Code":500,"Message":["x"]},"RequestId":null}}`},
		{200, "application/json", `{"Response":{"SnapshotSet":"nope","TotalCount":"x"}}`},
		{502, "text/html", `<html>Bad Gateway</html>`},
		{500, "application/json", `{"Response":{"Error":{"Code":"InternalError","Message":"m"},"RequestId":"r"}}`},
		{200, "application/json", `{"Response":`},
		{200, "text/plain", ``},
		{200, "application/json", `null`},
		{301, "", `{}`},
	} {
		f.Add(s.status, s.ct, s.body, uint8(0))
	}
	f.Fuzz(func(t *testing.T, status int, ct, body string, call uint8) {
		if status < 100 || status > 999 {
			status = 200 + (status%800+800)%800
		}
		c, err := New(Config{Region: "ap-guangzhou", Endpoint: "http://127.0.0.1:9", SecretID: fuzzSecretID, SecretKey: fuzzSecretKey},
			rollback.WithHTTPTransport(testkit.ReplyTransport{Status: status, ContentType: ct, Body: body}), rollback.WithMaxAttempts(1))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		switch call % 4 {
		case 0:
			_, err = c.Snapshot(ctx, "ap-guangzhou", "lhsnap-abc")
		case 1:
			_, err = c.Instance(ctx, "ap-guangzhou", "lhins-abc")
		case 2:
			_, err = c.Instances(ctx, "ap-guangzhou", []string{"lhins-abc", "lhins-def"})
		default:
			err = c.StopInstance(ctx, "ap-guangzhou", "lhins-abc")
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
