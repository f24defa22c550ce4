package emulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// server is the shape both emulators share (see their doc.go): a change to
// one that the other does not follow fails to compile here.
// C is the cloud's Credential type.
type server[C any] interface {
	http.Handler
	Close()
	Endpoint() string
	Clock() clock.Clock
	Region() string
	Credential() C
	AddFault(emulator.Fault)
	ClearFaults()
	PendingFaults() int
	Journal() *emulator.Journal
	Calls(action string) int
	Before(action string, n int, f func())
	After(action string, n int, f func())
	FailNextRollbacks(n int)
	Rollbacks() int
	RollbacksOf(id string) int
	SetReadLag(d time.Duration)
	ActorStartInstance(id string) error
	ActorStopInstance(id string) error
}

var (
	_ server[aliyuntest.Credential]  = (*aliyuntest.Server)(nil)
	_ server[tencenttest.Credential] = (*tencenttest.Server)(nil)
	// Both STSs issue a Credential and its expiry.
	_ func(time.Duration) (aliyuntest.Credential, time.Time)  = (*aliyuntest.STS)(nil).Issue
	_ func(time.Duration) (tencenttest.Credential, time.Time) = (*tencenttest.STS)(nil).Issue
)

// options is the option set both emulators share, with one signature; C
// is the cloud's Credential type.
type options[O, C any] struct {
	clock       func(clock.Clock) O
	cred        func(C) O
	creds       func(id, secret string) O
	session     func(id, secret, token string) O
	regions     func(...string) O
	rateLimit   func(string, emulator.RateWindow) O
	noRateLimit func() O
	quota       func(int) O
	readLag     func(time.Duration) O
	noSkew      func() O
}

var (
	_ = options[aliyuntest.Option, aliyuntest.Credential]{aliyuntest.WithClock, aliyuntest.WithCredential, aliyuntest.WithCredentials, aliyuntest.WithSessionCredentials,
		aliyuntest.WithRegions, aliyuntest.WithRateLimit, aliyuntest.WithoutRateLimits, aliyuntest.WithSnapshotQuota,
		aliyuntest.WithReadLag, aliyuntest.WithoutTimestampCheck}
	_ = options[tencenttest.Option, tencenttest.Credential]{tencenttest.WithClock, tencenttest.WithCredential, tencenttest.WithCredentials, tencenttest.WithSessionCredentials,
		tencenttest.WithRegions, tencenttest.WithRateLimit, tencenttest.WithoutRateLimits, tencenttest.WithSnapshotQuota,
		tencenttest.WithReadLag, tencenttest.WithoutTimestampCheck}
)

// Both start and stop the same way, and their Durations name the shared
// operations alike.
func TestSameShape(t *testing.T) {
	a, c := aliyuntest.NewServer(), tencenttest.NewServer()
	defer a.Close()
	defer c.Close()
	ad, td := a.Durations(), c.Durations()
	for name, d := range map[string][2]time.Duration{
		"Stop": {ad.Stop, td.Stop}, "Start": {ad.Start, td.Start},
		"Rollback": {ad.Rollback, td.Rollback}, "CreateSnapshot": {ad.CreateSnapshot, td.CreateSnapshot},
	} {
		if d[0] <= 0 || d[1] <= 0 {
			t.Errorf("Durations.%s = %v / %v", name, d[0], d[1])
		}
	}
	if a.Credential().AccessKeyID != aliyuntest.DefaultAccessKeyID || c.Credential().SecretID != tencenttest.DefaultSecretID {
		t.Error("Credential is not the default key")
	}
	if k := aliyuntest.NewHandler(aliyuntest.WithCredentials("LTAIfirst", "s")).Credential(); k.AccessKeyID != "LTAIfirst" {
		t.Errorf("aliyuntest Credential = %+v", k)
	}
	if k := tencenttest.NewHandler(tencenttest.WithCredentials("AKIDfirst", "s")).Credential(); k.SecretID != "AKIDfirst" {
		t.Errorf("tencenttest Credential = %+v", k)
	}
	if a.URL == "" || c.URL == "" || aliyuntest.NewHandler().URL != "" || tencenttest.NewHandler().URL != "" {
		t.Error("NewServer listens, NewHandler does not")
	}
}
