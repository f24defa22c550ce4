package aliyun_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/internal/testkit"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
)

func TestMain(m *testing.M) {
	// Nothing may leave 127.0.0.1: no proxy from the environment, and no
	// credentials from it unless a test sets them.
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
		aliyun.EnvAccessKeyID, aliyun.EnvAccessKeySecret, aliyun.EnvSecurityToken, "DEBUG"} {
		os.Unsetenv(k)
	}
	goleak.VerifyTestMain(m)
}

// env is an emulator and a client sharing an auto-advancing virtual clock,
// with one Stopped instance and a ready snapshot of its system disk.
type env struct {
	srv  *aliyuntest.Server
	clk  *clock.Virtual
	c    *aliyun.Client
	logs *testkit.SyncBuffer
	in   aliyuntest.InstanceSpec
	snap aliyuntest.SnapshotSpec
	ctx  context.Context
}

func newEnv(t *testing.T, srvOpts []aliyuntest.Option, opts ...rollback.Option) *env {
	t.Helper()
	clk := clock.NewAutoVirtual(time.Time{})
	srv := aliyuntest.NewServer(append([]aliyuntest.Option{aliyuntest.WithClock(clk)}, srvOpts...)...)
	t.Cleanup(srv.Close)
	e := &env{srv: srv, clk: clk, logs: &testkit.SyncBuffer{}, ctx: context.Background()}
	e.c = e.client(t, aliyun.Config{}, opts...)
	e.in = aliyuntest.Must(srv.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusStopped}))
	e.snap = aliyuntest.Must(srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: e.in.SystemDiskID}))
	return e
}

// client returns another client of the env's server; empty cfg fields
// take the server's region, URL and key.
func (e *env) client(t *testing.T, cfg aliyun.Config, opts ...rollback.Option) *aliyun.Client {
	t.Helper()
	cred := e.srv.Credential()
	if cfg.Region == "" {
		cfg.Region = e.srv.Region()
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = e.srv.URL
	}
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID, cfg.AccessKeySecret = cred.AccessKeyID, cred.AccessKeySecret
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	base := []rollback.Option{
		rollback.WithClock(e.clk),
		rollback.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		rollback.WithHTTPTransport(tr),
	}
	c, err := aliyun.New(cfg, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) request() rollback.Request {
	return rollback.Request{Region: e.srv.Region(), DiskID: e.in.SystemDiskID, SnapshotID: e.snap.ID}
}

// entries returns the journal entries of action.
func (e *env) entries(action string) []aliyuntest.Entry {
	var out []aliyuntest.Entry
	for _, en := range e.srv.Journal().Entries() {
		if en.Action == action {
			out = append(out, en)
		}
	}
	return out
}

// asError asserts err is a *rollback.Error matching kind.
func asError(t *testing.T, err error, kind error) *rollback.Error {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("want %v, got %v", kind, err)
	}
	var re *rollback.Error
	if !errors.As(err, &re) {
		t.Fatalf("want a *rollback.Error, got %T %v", err, err)
	}
	if re.Provider != rollback.ProviderAliyun {
		t.Errorf("Provider = %q", re.Provider)
	}
	return re
}

// walk calls fn on err and everything it wraps.
func walk(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), fn)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, fn)
		}
	}
	// The SDK's client error keeps its cause outside Unwrap.
	if o, ok := err.(interface{ OriginError() error }); ok {
		walk(o.OriginError(), fn)
	}
}

// secretsIn returns the secrets found in s.
func secretsIn(s string, secrets ...string) []string {
	var found []string
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			found = append(found, sec)
		}
	}
	for _, marker := range []string{"Signature=", "Signature%3D", "AccessKeyId=", "AccessKeyId%3D", "SecurityToken="} {
		for rest := s; ; {
			idx := strings.Index(rest, marker)
			if idx < 0 {
				break
			}
			rest = rest[idx+len(marker):]
			if !strings.HasPrefix(rest, "[REDACTED]") {
				found = append(found, marker+"<value>")
				break
			}
		}
	}
	return found
}
