package redact

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
)

const signedURL = "http://127.0.0.1:40903/?AccessKeyId=LTAItestAccessKeyId&Action=ResetDisk&ClientToken=123e&Signature=yvWZogwN9bmO0Ac%2F%2FuMRrtjwtPU%3D&SignatureNonce=5000064617dad644&SecurityToken=sts%2Btok&Version=2020-06-01"

func TestStringRemovesSecretsAndSensitiveParams(t *testing.T) {
	r := New("LTAItestAccessKeyId", "s3cr3t/+=", "")
	in := `Post "` + signedURL + `": EOF; secret s3cr3t/+= and s3cr3t%2F%2B%3D; Authorization: TC3-HMAC-SHA256 Credential=AKIDx/2026/lighthouse/tc3_request, SignedHeaders=content-type;host, Signature=abcdef0123`
	out := r.String(in)
	for _, leak := range []string{"LTAItestAccessKeyId", "yvWZogwN9bmO0Ac", "5000064617dad644", "sts%2Btok", "s3cr3t", "AKIDx", "abcdef0123"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q survived: %s", leak, out)
		}
	}
	if !strings.Contains(out, "Action=ResetDisk") {
		t.Errorf("harmless parameters were removed too: %s", out)
	}
}

func TestZeroRedactorStillRemovesParams(t *testing.T) {
	var r *Redactor
	if out := r.String("x?Signature=abc&a=b"); strings.Contains(out, "abc") {
		t.Error(out)
	}
}

func TestURLErrorKeepsTypeAndCause(t *testing.T) {
	inner := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	err := New("LTAItestAccessKeyId").Error(&url.Error{Op: "Post", URL: signedURL, Err: inner})
	if strings.Contains(err.Error(), "LTAItest") || strings.Contains(err.Error(), "Signature=") && !strings.Contains(err.Error(), Mask) {
		t.Fatalf("leak: %v", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) || !strings.HasPrefix(ue.URL, "http://127.0.0.1:40903/") {
		t.Fatalf("lost *url.Error: %#v", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Error("lost the network cause")
	}
	// Every string in the chain is clean.
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "LTAItest") || strings.Contains(e.Error(), "yvWZ") {
			t.Errorf("chain leaks: %v", e)
		}
	}
}

func TestOtherErrorsReplacedWhenDirty(t *testing.T) {
	clean := errors.New("all fine")
	r := New("topsecret")
	if r.Error(clean) != clean {
		t.Error("a clean error was replaced")
	}
	dirty := errors.New("key topsecret rejected")
	got := r.Error(dirty)
	if strings.Contains(got.Error(), "topsecret") || errors.Unwrap(got) != nil {
		t.Errorf("dirty error: %v (unwrap %v)", got, errors.Unwrap(got))
	}
}

func TestLearnRedactsLaterSecrets(t *testing.T) {
	r := New("static-id")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			_ = r.String("static-id rotated-token")
		}
	}()
	r.Learn("rotated-token", "", "a/b+c")
	<-done
	out := r.String("static-id rotated-token a/b+c a%2Fb%2Bc")
	if strings.Contains(out, "static-id") || strings.Contains(out, "rotated-token") || strings.Contains(out, "a/b+c") || strings.Contains(out, "a%2Fb") {
		t.Errorf("learned secrets survived: %s", out)
	}
}
