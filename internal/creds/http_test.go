package creds

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

func TestSetup(t *testing.T) {
	s := Setup{Provider: "tencent", DefaultSTS: "https://sts.example.com", Timeout: time.Second, Transport: http.DefaultTransport}
	ep, err := s.STS()
	if err != nil || ep.URL() != "https://sts.example.com" {
		t.Fatalf("default: %v, %v", ep.URL(), err)
	}
	s.STSEndpoint = "http://sts.example.net"
	_, err = s.STS()
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Field != "STSEndpoint" || pe.Provider != "tencent" || !errors.Is(err, provider.ErrInvalidArgument) {
		t.Fatalf("plain HTTP to a remote host: %v", err)
	}
	s.Insecure = true
	if ep, err := s.STS(); err != nil || ep.URL() != "http://sts.example.net" {
		t.Fatalf("insecure allowed: %v, %v", ep.URL(), err)
	}
	if hc := s.HTTPClient(); hc.Timeout != time.Second || hc.Transport != http.DefaultTransport {
		t.Errorf("HTTPClient = %+v", hc)
	}
}

func TestReadReplyAndNetReason(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(strings.Repeat("x", MaxReply+10)))
	}))
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/creds?token=s3cret", nil)
	status, body, err := ReadReply(ts.Client(), req, "src")
	if err != nil || status != http.StatusTeapot || len(body) != MaxReply {
		t.Fatalf("ReadReply = %d, %d bytes, %v", status, len(body), err)
	}
	ts.Close()
	req, _ = http.NewRequest(http.MethodGet, "http://user:pw@"+strings.TrimPrefix(ts.URL, "http://")+"/creds?token=s3cret", nil)
	_, _, err = ReadReply(&http.Client{}, req, "src")
	var se *SourceError
	if !errors.As(err, &se) || se.Source != "src" {
		t.Fatalf("a refused connection: %v", err)
	}
	if s := err.Error(); strings.Contains(s, "s3cret") || strings.Contains(s, "pw") || !strings.Contains(s, "/creds") {
		t.Errorf("the error keeps the query or the user, or drops the path: %s", s)
	}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	timeout := &http.Client{Timeout: time.Nanosecond}
	req, _ = http.NewRequest(http.MethodGet, hang.URL+"/x?token=s3cret", nil)
	if _, _, err := ReadReply(timeout, req, "src"); !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a timeout: %v", err)
	}
	plain := errors.New("plain")
	if NetReason(plain) != plain {
		t.Error("NetReason changed an error that names no URL")
	}
}

func TestUnavailable(t *testing.T) {
	if err := Unavailable(503, "reply"); !errors.Is(err, ErrUnavailable) || err.Error() != "reply: HTTP 503 (unavailable)" {
		t.Errorf("503: %v", err)
	}
	if err := Unavailable(403, "reply"); errors.Is(err, ErrUnavailable) || err.Error() != "reply: HTTP 403" {
		t.Errorf("403: %v", err)
	}
}

func TestReauther(t *testing.T) {
	expired := errors.New("token expired")
	c := &Cache{Clock: clock.NewVirtual(time.Time{}), Fetch: func(context.Context) (Value, error) {
		return Value{ID: "id", Secret: "secret", Expiry: time.Time{}.Add(time.Hour)}, nil
	}}
	r := Reauther{Cache: c, Expired: func(err error) bool { return errors.Is(err, expired) }}
	_, gen, err := c.Get(context.Background())
	if err != nil || r.Generation() != gen {
		t.Fatalf("Get: gen %d, %v; Reauther says %d", gen, err, r.Generation())
	}
	if r.Reauth(errors.New("other"), gen) {
		t.Error("reauth on an error that is not an expiry")
	}
	if !r.Reauth(expired, gen) {
		t.Error("no reauth on an expiry")
	}
}

func TestMetadataBase(t *testing.T) {
	if b, err := MetadataBase("md", "X_MD_DISABLED", "http://127.0.0.1:9/", "http://100.100.100.200"); err != nil || b != "http://127.0.0.1:9" {
		t.Errorf("an endpoint: %q, %v", b, err)
	}
	if _, err := MetadataBase("md", "X_MD_DISABLED", "", "http://100.100.100.200"); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("under go test without an endpoint: %v; want the source skipped", err)
	}
	t.Setenv("X_MD_DISABLED", "TRUE")
	if _, err := MetadataBase("md", "X_MD_DISABLED", "http://127.0.0.1:9", ""); !errors.Is(err, ErrNotConfigured) || !strings.Contains(err.Error(), "X_MD_DISABLED=true") {
		t.Errorf("disabled: %v", err)
	}
}
