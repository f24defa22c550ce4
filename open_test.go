package rollback_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	_ "github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/provider"
	_ "github.com/cloudsnap/rollback/tencent"
)

// opened records what the test scheme's OpenFunc was given.
var opened struct {
	u    *url.URL
	opts int
}

func init() {
	provider.Register("opentest", func(_ context.Context, u *url.URL, opts ...rollback.Option) (rollback.Provider, error) {
		opened.u, opened.opts = u, len(opts)
		return nil, errors.New("opentest: opened")
	})
}

func TestOpenRegistry(t *testing.T) {
	s := rollback.Schemes()
	for _, want := range []string{"aliyun", "opentest", "tencent"} {
		if !slices.Contains(s, want) {
			t.Errorf("Schemes() = %v, want %q in it", s, want)
		}
	}
	if !slices.IsSorted(s) {
		t.Errorf("Schemes() = %v, not sorted", s)
	}
	_, err := rollback.Open(context.Background(), "OpenTest://region-1?x=1", rollback.WithInsecureHTTP())
	if err == nil || err.Error() != "opentest: opened" {
		t.Fatalf("Open: %v", err)
	}
	if opened.u.Scheme != "opentest" || opened.u.Host != "region-1" || opened.u.Query().Get("x") != "1" || opened.opts != 1 {
		t.Errorf("the OpenFunc got %v with %d options", opened.u, opened.opts)
	}
}

func TestRegisterPanics(t *testing.T) {
	fn := func(context.Context, *url.URL, ...rollback.Option) (rollback.Provider, error) { return nil, nil }
	for name, call := range map[string]func(){
		"duplicate": func() { provider.Register("tencent", fn) },
		"malformed": func() { provider.Register("Bad Scheme", fn) },
		"empty":     func() { provider.Register("", fn) },
		"nil":       func() { provider.Register("opentest-nil", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			call()
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	const secret = "s3cr3tPassw0rd"
	for _, tt := range []struct {
		name, url string
		want      []string
	}{
		{"empty", "", []string{"SCHEME://REGION", "tencent://ap-guangzhou"}},
		{"no scheme", "ap-guangzhou", []string{"SCHEME://REGION"}},
		{"opaque", "tencent:ap-guangzhou", []string{"SCHEME://REGION"}},
		{"unknown scheme", "gcp://us-east1", []string{`unknown scheme "gcp"`, "registered: aliyun,", "tencent", `import _ "github.com/cloudsnap/rollback/tencent"`}},
		{"bad escape", "tencent://ap-guangzhou?endpoint=%zz", []string{"malformed"}},
		{"bad host", "tencent://ap guangzhou", []string{"malformed URL"}},
		{"fragment", "tencent://ap-guangzhou#x", []string{"fragment"}},
		{"userinfo", "tencent://AKIDxyz:" + secret + "@ap-guangzhou", []string{"never carries credentials", "TENCENTCLOUD_SECRET_ID", "profile"}},
		{"userinfo, bad port", "tencent://AKIDxyz:" + secret + "@ap-guangzhou:x", []string{"never carries credentials"}},
		{"user only", "aliyun://" + secret + "@cn-hangzhou", []string{"never carries credentials"}},
		{"unknown parameter", "tencent://ap-guangzhou?secret_key=" + secret, []string{`unknown query parameter "secret_key"`, "endpoint", "profile"}},
		{"secret in endpoint", "aliyun://cn-hangzhou?endpoint=http://id:" + secret + "@127.0.0.1:1", []string{"endpoint never carries credentials"}},
		{"no region", "tencent://", []string{"region is missing", "tencent://ap-guangzhou"}},
		{"port", "aliyun://cn-hangzhou:443", []string{"no port", "?endpoint="}},
		{"path", "aliyun://cn-hangzhou/x", []string{"no path"}},
		{"repeated", "tencent://ap-guangzhou?profile=a&profile=b", []string{"profile is given 2 times"}},
		{"bad bool", "tencent://ap-guangzhou?static_only=" + secret, []string{"static_only must be true or false"}},
		{"bad duration", "aliyun://cn-hangzhou?role_duration=" + secret, []string{"role_duration must be a positive duration"}},
		{"unknown region", "tencent://xx-nowhere", []string{"region"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := rollback.Open(context.Background(), tt.url)
			if p != nil || !errors.Is(err, rollback.ErrInvalidArgument) {
				t.Fatalf("Open(%q) = %v, %v; want ErrInvalidArgument", tt.url, p, err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q quotes the secret", msg)
			}
			var e *rollback.Error
			if errors.As(err, &e) && e.Field == "URL" && !strings.Contains(msg, "nothing was sent") {
				t.Errorf("error %q does not say that nothing was sent", msg)
			}
		})
	}
}
