package acme_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cloudsnap/rollback"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

func TestBadInputSendsNothing(t *testing.T) {
	clk := auto()
	h := acmetest.NewHarness(t, clk)
	tg := h.NewTarget(t, false)
	good := h.Request(tg)
	cases := map[string]func(r *rollback.Request){
		"no region":            func(r *rollback.Request) { r.Region = "" },
		"upper-case region":    func(r *rollback.Request) { r.Region = "EU-WEST" },
		"Lighthouse server ID": func(r *rollback.Request) { r.InstanceID = "lhins-12345678" },
		"no server":            func(r *rollback.Request) { r.InstanceID = "" },
		"SWAS snapshot ID":     func(r *rollback.Request) { r.SnapshotID = "s-bp1abc" },
		"control character":    func(r *rollback.Request) { r.SnapshotID = "snap-1\n" },
		"bare prefix":          func(r *rollback.Request) { r.SnapshotID = "snap-" },
		"wrong disk prefix":    func(r *rollback.Request) { r.DiskID = "d-123" },
		"token with a space":   func(r *rollback.Request) { r.ClientToken = "a b" },
		"long token":           func(r *rollback.Request) { r.ClientToken = strings.Repeat("x", 65) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			req := good
			mutate(&req)
			_, err := rollback.Run(context.Background(), h.Client, req, runOpts(clk))
			var e *rollback.Error
			if !errors.Is(err, rollback.ErrInvalidArgument) || !errors.As(err, &e) || e.Field == "" {
				t.Fatalf("Run: %v, want ErrInvalidArgument naming a field", err)
			}
			if _, err := h.Client.Rollback(context.Background(), req); !errors.Is(err, rollback.ErrInvalidArgument) {
				t.Fatalf("Rollback: %v, want ErrInvalidArgument", err)
			}
			if err := h.Client.ValidateRequest(req); !errors.Is(err, rollback.ErrInvalidArgument) {
				t.Fatalf("ValidateRequest: %v", err)
			}
		})
	}
	for _, f := range []func() error{
		func() error { _, err := h.Client.Instance(context.Background(), "", "srv-"); return err },
		func() error {
			_, err := h.Client.Instances(context.Background(), "", []string{tg.InstanceID, "vol-1"})
			return err
		},
		func() error { _, err := h.Client.Snapshot(context.Background(), "x y", tg.SnapshotID); return err },
		func() error { return h.Client.StopInstance(context.Background(), "", "i-1") },
		func() error {
			_, err := h.Client.CreateSnapshot(context.Background(), "", tg.InstanceID, "", strings.Repeat("n", 65))
			return err
		},
	} {
		if err := f(); !errors.Is(err, rollback.ErrInvalidArgument) {
			t.Fatalf("got %v, want ErrInvalidArgument", err)
		}
	}
	if n := len(h.Server.Journal().Entries()); n != 0 {
		t.Fatalf("%d calls reached the cloud", n)
	}
}

func TestCodesMapToSentinels(t *testing.T) {
	clk := auto()
	h := acmetest.NewHarness(t, clk, rollback.WithMaxAttempts(1))
	tg := h.NewTarget(t, false)
	for code, kind := range map[string]error{
		acme.CodeServerNotFound: rollback.ErrInstanceNotFound, acme.CodeSnapshotNotFound: rollback.ErrSnapshotNotFound,
		acme.CodeInvalidServerState: rollback.ErrInstanceState, acme.CodeSnapshotNotReady: rollback.ErrSnapshotState,
		acme.CodeServerBusy: rollback.ErrBusy, acme.CodeThrottled: rollback.ErrThrottled,
		acme.CodeInternalError: rollback.ErrInternal, acme.CodeAuthFailed: rollback.ErrUnauthenticated,
		acme.CodeAccessDenied: rollback.ErrPermissionDenied, acme.CodeQuotaExceeded: rollback.ErrQuotaExceeded,
		acme.CodeSnapshotMismatch: rollback.ErrSnapshotMismatch, "SomethingNew": rollback.ErrInvalidArgument,
	} {
		h.Server.FailNext("DescribeServers", code, 1)
		_, err := h.Client.Instance(context.Background(), "", tg.InstanceID)
		var e *rollback.Error
		if !errors.Is(err, kind) || !errors.As(err, &e) || e.Code != code || e.RequestID == "" || e.Provider != acme.Name {
			t.Errorf("%s: %v, want %v with the code and a request ID", code, err, kind)
		}
		if code == acme.CodeInternalError && !e.Ambiguous {
			t.Errorf("InternalError is not ambiguous")
		}
	}
	// From state, not injected: a running server refuses a restore, a
	// snapshot of another server is refused before sending.
	other := h.OtherDiskSnapshot(t)
	req := h.Request(tg)
	req.SnapshotID = other
	if _, err := h.Client.Rollback(context.Background(), req); !errors.Is(err, rollback.ErrSnapshotMismatch) {
		t.Errorf("snapshot of another server: %v", err)
	}
	running := h.NewTarget(t, true)
	if _, err := h.Client.Rollback(context.Background(), h.Request(running)); !errors.Is(err, rollback.ErrInstanceState) {
		t.Errorf("running server: %v", err)
	}
	if h.Calls(acmetest.CallRollback) != 0 {
		t.Errorf("refused restores were sent")
	}
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSecretNeverInErrorsOrLogs(t *testing.T) {
	clk := auto()
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := acmetest.NewHarness(t, clk, rollback.WithLogger(logger), rollback.WithMaxAttempts(2))
	tg := h.NewTarget(t, false)
	var errs []error
	// A misbehaving gateway echoes the secret in its messages.
	echo := "upstream said: key=" + acmetest.DefaultSecret
	h.Server.AddFault(acmetest.Fault{Action: "DescribeSnapshots", Code: acme.CodeInternalError, Message: echo, Times: 2})
	_, err := h.Client.Snapshot(context.Background(), "", tg.SnapshotID)
	errs = append(errs, err)
	h.Server.AddFault(acmetest.Fault{Action: "RestoreSnapshot", Code: acme.CodeAccessDenied, Message: echo})
	o := runOpts(clk)
	o.Logger = logger
	_, err = rollback.Run(context.Background(), h.Client, h.Request(tg), o)
	errs = append(errs, err)

	// A client with the wrong secret: the refusal must not quote either.
	wrong := "not-the-secret-" + acmetest.DefaultSecret[:6] + "Xy"
	c, err := acme.New(acme.Config{Region: acmetest.DefaultRegion, Endpoint: h.Server.URL, KeyID: acmetest.DefaultKeyID, Secret: wrong},
		rollback.WithClock(clk), rollback.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Instance(context.Background(), "", tg.InstanceID)
	if !errors.Is(err, rollback.ErrUnauthenticated) {
		t.Fatalf("wrong secret: %v", err)
	}
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("error %d is nil", i)
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", errors.Unwrap(err))} {
			for _, secret := range []string{acmetest.DefaultSecret, wrong} {
				if strings.Contains(text, secret) {
					t.Errorf("error %d carries a secret: %s", i, text)
				}
			}
		}
	}
	if !strings.Contains(errs[0].Error(), "[REDACTED]") {
		t.Errorf("the echoed secret was not masked: %v", errs[0])
	}
	if s := logs.String(); strings.Contains(s, acmetest.DefaultSecret) || strings.Contains(s, wrong) || s == "" {
		t.Errorf("logs carry a secret (or are empty): %.500s", s)
	}
}

func TestEndpointAndOpen(t *testing.T) {
	cfg := acme.Config{Region: "eu-west", KeyID: "k", Secret: "s", Endpoint: "http://acme.example.net"}
	if _, err := acme.New(cfg); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Fatalf("plain HTTP to a remote host: %v", err)
	}
	c, err := acme.New(cfg, rollback.WithInsecureHTTP())
	if err != nil {
		t.Fatalf("with WithInsecureHTTP: %v", err)
	}
	c.Close()
	if _, err := acme.New(acme.Config{Region: "eu-west", KeyID: "k"}); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Fatalf("key without secret: %v", err)
	}

	clk := auto()
	srv := acmetest.NewServer(acmetest.WithClock(clk))
	defer srv.Close()
	sv, _ := srv.AddServer(acmetest.ServerSpec{})
	t.Setenv(acme.EnvKeyID, acmetest.DefaultKeyID)
	t.Setenv(acme.EnvSecret, acmetest.DefaultSecret)
	u, _ := url.Parse("acme://" + acmetest.DefaultRegion + "?endpoint=" + url.QueryEscape(srv.URL))
	p, err := acme.Open(context.Background(), u, rollback.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer p.(*acme.Client).Close()
	if in, err := p.Instance(context.Background(), "", sv.ID); err != nil || in.State != rollback.InstanceStopped {
		t.Fatalf("opened client reads %+v, %v", in, err)
	}
	for _, raw := range []string{
		"acme://user:" + acmetest.DefaultSecret + "@eu-west",
		"acme://eu-west?secret=x",
		"acme://",
		"acme://eu-west:99",
		"acme://eu-west/path",
		"tencent://ap-guangzhou",
		"acme://eu-west?endpoint=http://acme.example.net",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = acme.Open(context.Background(), u)
		if !errors.Is(err, rollback.ErrInvalidArgument) || strings.Contains(err.Error(), acmetest.DefaultSecret) {
			t.Errorf("Open(%s): %v", raw, err)
		}
	}
}
