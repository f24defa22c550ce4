package tencent_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/internal/testkit"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Credentials the fixtures sign with; no error or log line may contain them.
const (
	testID    = "AKIDfixtureSecretId00000000000001"
	testKey   = "fixtureSecretKey000000000000001"
	testToken = "fixtureSessionToken0000000001"
)

// fixture is an emulator and a client sharing an auto-advancing virtual
// clock, with the client's logs captured.
type fixture struct {
	t    *testing.T
	srv  *tencenttest.Server
	clk  *clock.Virtual
	c    *tencent.Client
	logs *testkit.SyncBuffer
	errs []error
}

type fixtureOpts struct {
	cfg  func(*tencent.Config)
	emu  []tencenttest.Option
	opts []rollback.Option
}

func newFixture(t *testing.T, fo fixtureOpts) *fixture {
	t.Helper()
	clk := clock.NewAutoVirtual(time.Time{})
	f := &fixture{t: t, clk: clk, logs: &testkit.SyncBuffer{}}
	f.srv = tencenttest.NewServer(append([]tencenttest.Option{
		tencenttest.WithClock(clk),
		tencenttest.WithSessionCredentials(testID, testKey, testToken),
	}, fo.emu...)...)
	cfg := tencent.Config{Region: "ap-guangzhou", Endpoint: f.srv.URL, SecretID: testID, SecretKey: testKey, Token: testToken}
	if fo.cfg != nil {
		fo.cfg(&cfg)
	}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := append([]rollback.Option{rollback.WithClock(clk), rollback.WithLogger(logger)}, fo.opts...)
	c, err := tencent.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	t.Cleanup(func() {
		c.Close()
		f.srv.Close()
		f.noSecrets()
	})
	return f
}

// note keeps an error for the secret scan at cleanup.
func (f *fixture) note(err error) error {
	if err != nil {
		f.errs = append(f.errs, err)
	}
	return err
}

func (f *fixture) noSecrets() {
	f.t.Helper()
	texts := []string{f.logs.String()}
	for _, err := range f.errs {
		texts = append(texts, err.Error())
		var e *rollback.Error
		if errors.As(err, &e) && e.Err != nil {
			texts = append(texts, e.Err.Error())
		}
	}
	for _, s := range texts {
		for _, secret := range []string{testID, testKey, testToken, "Signature=", "Authorization", "TC3-HMAC"} {
			if strings.Contains(s, secret) {
				f.t.Errorf("%q leaked into %q", secret, s)
			}
		}
	}
}

func (f *fixture) instance(in tencenttest.Instance) tencenttest.Instance {
	f.t.Helper()
	got, err := f.srv.AddInstance(in)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

func (f *fixture) snapshot(sn tencenttest.Snapshot) tencenttest.Snapshot {
	f.t.Helper()
	got, err := f.srv.AddSnapshot(sn)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

// stopped seeds a stopped instance with a snapshot of its system disk.
func (f *fixture) stopped() (tencenttest.Instance, tencenttest.Snapshot) {
	in := f.instance(tencenttest.Instance{State: tencenttest.StateStopped})
	return in, f.snapshot(tencenttest.Snapshot{InstanceID: in.ID})
}

func req(in tencenttest.Instance, sn tencenttest.Snapshot) rollback.Request {
	return rollback.Request{Region: "ap-guangzhou", InstanceID: in.ID, SnapshotID: sn.ID}
}

// actions lists the journal's actions in order.
func (f *fixture) actions() []string {
	var out []string
	for _, e := range f.srv.Journal().Entries() {
		out = append(out, e.Action)
	}
	return out
}

func asError(t *testing.T, err error) *rollback.Error {
	t.Helper()
	var e *rollback.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *rollback.Error", err, err)
	}
	return e
}

func instanceInRegion(region string) tencenttest.Instance {
	return tencenttest.Instance{Region: region}
}
