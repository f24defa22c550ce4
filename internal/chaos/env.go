package chaos

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/emulator"
	pchaos "github.com/cloudsnap/rollback/providertest/chaos"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// Config builds an Env.
type Config struct {
	// Clock is shared by the emulator and the client.
	Clock clock.Clock
	// CallTimeout is the client's per-attempt timeout (0: 10s, far above
	// anything a loopback call takes, so only injected latency trips it).
	CallTimeout time.Duration
	// Log receives the client's own slog output (nil: discarded).
	Log *Capture
	// OnRequest, when set, sees the action of every request the client
	// sends, before it is sent; tests use it to arm faults at the moment a
	// given call goes out.
	OnRequest func(action string)
	// Durations of the emulated operations (zero fields: the emulator's
	// defaults).
	Durations Durations
	// RateSlack raises the emulator's rate limits by a fifth over the
	// cloud's, which the client still paces to. On a fast scaled clock the
	// jitter of real-time delivery, multiplied by the clock's factor,
	// bunches calls that left the client evenly spaced; the slack absorbs
	// that, so a throttle means the client sent too fast.
	RateSlack bool
	// Options are more client options, applied last.
	Options []rollback.Option
	// DataDisk makes SWAS targets roll back a data disk instead of the
	// system disk: its snapshots do not name the instance, so Run finds it
	// with ListDisks. (Lighthouse rolls back only system disks.)
	DataDisk bool
}

// Env is one provider client over its own emulator, with the knobs the
// fault matrix and the soak need. Faults are the emulator's, so they count
// the calls of every target of the Env.
type Env interface {
	Name() string
	Provider() rollback.Provider
	Region() string
	// Request is the provider's minimal request for tg (SWAS: the disk;
	// Lighthouse: the instance).
	Request(tg Target) rollback.Request
	// NewTarget seeds an instance, running or stopped, with a ready
	// snapshot of its system disk.
	NewTarget(running bool) Target
	// NewRolledBackTarget is NewTarget with a snapshot that an earlier
	// operation rolled the disk back to, an hour ago; the instance has been
	// started since.
	NewRolledBackTarget(running bool) Target
	AddFault(f emulator.Fault)
	ClearFaults()
	FailNextRollbacks(n int)
	// MakeBusy puts an operation in progress on the instance for d.
	MakeBusy(tg Target, d time.Duration)
	// Rollbacks counts the rollbacks the emulator applied to tg (accepted,
	// whether they then succeeded or failed).
	Rollbacks(tg Target) int
	// RollbackSucceeded reports whether a rollback of tg to its snapshot
	// has finished successfully since tg was seeded (SWAS: the snapshot's
	// RollbackTime moved; Lighthouse: its latest operation is another
	// rollback, and a successful one).
	RollbackSucceeded(tg Target) bool
	// State is the instance's state as the emulator sees it now,
	// normalized (running, stopped, rolling-back, ...).
	State(tg Target) rollback.InstanceState
	Journal() []emulator.Entry
	// Actions names the provider's API actions by role.
	Actions() Actions
	// Secrets are the credentials the client signs with, and Signatures
	// every signature (and Authorization header) it put on the wire so far:
	// none may appear in an error or a log line.
	Secrets() []string
	Signatures() []string
	Close()

	// The world around the client (issue 11): see World.
	World
}

// World is what the emulators let a test do around the client: act as
// someone else between its calls, at a chosen request, and make reads lag.
type World interface {
	// Before and After run f at the n-th request of action (the emulator's
	// hooks: before it is handled, or after it changed state and before
	// the reply).
	Before(action string, n int, f func())
	After(action string, n int, f func())
	// ActorStart, ActorStop, ActorSnapshot and ActorRollback change tg as
	// another actor would (the console, another program), by the cloud's
	// rules; ActorRollback rolls tg back to its snapshot and returns the
	// call's request ID.
	ActorStart(tg Target) error
	ActorStop(tg Target) error
	ActorSnapshot(tg Target) error
	ActorRollback(tg Target) (string, error)
	// ActorRollbackOther rolls tg back to another snapshot of its disk,
	// made for the purpose.
	ActorRollbackOther(tg Target) (string, error)
	// SetReadLag makes reads show changes d late; SetTokenWindow makes
	// SWAS forget a ClientToken d after its first use (Lighthouse has no
	// tokens: a no-op).
	SetReadLag(d time.Duration)
	SetTokenWindow(d time.Duration)
	// NewClient is another client of the same emulator, with the Env's
	// configuration: another process. Close it with the returned func.
	NewClient() (rollback.Provider, func(), error)
	// Ours are the request IDs of the rollbacks of tg that clients applied
	// (other actors' are not counted; deduplicated resends are not
	// applied), oldest first.
	Ours(tg Target) []string
}

// ours reads the applied client rollbacks of one resource from a journal.
func ours(entries []emulator.Entry, action, param, id string) []string {
	var out []string
	for _, e := range entries {
		if e.Actor == "" && e.Action == action && e.Applied && e.Params[param] == id {
			out = append(out, e.RequestID)
		}
	}
	return out
}

// Actions are a provider's API action names by role.
type Actions struct {
	Rollback, Stop, Start, Snapshot string
	// ReadInstance and ReadSnapshot are the reads of one instance and one
	// snapshot.
	ReadInstance, ReadSnapshot string
}

// ProviderActions are each provider's actions by role.
var ProviderActions = map[string]Actions{
	rollback.ProviderAliyun: {
		Rollback: aliyuntest.ActionResetDisk, Stop: aliyuntest.ActionStopInstance,
		Start: aliyuntest.ActionStartInstance, Snapshot: aliyuntest.ActionCreateSnapshot,
		ReadInstance: aliyuntest.ActionListInstances, ReadSnapshot: aliyuntest.ActionListSnapshots,
	},
	rollback.ProviderTencent: {
		Rollback: "ApplyInstanceSnapshot", Stop: "StopInstances", Start: "StartInstances",
		Snapshot: "CreateInstanceSnapshot", ReadInstance: "DescribeInstances", ReadSnapshot: "DescribeSnapshots",
	},
}

// IsRead reports whether action only reads state.
func (a Actions) IsRead(action string) bool {
	return action == a.ReadInstance || action == a.ReadSnapshot || action == aliyuntest.ActionListDisks ||
		action == aliyuntest.ActionListInstanceStatus
}

// Credentials of the envs: non-default, with session tokens, so that the
// token is on the wire too and its absence from logs means something.
const (
	aliyunKeyID  = "LTAI5tChaosAccessKey7Q3x"
	aliyunSecret = "chaos-aliyun-secret-Zq81nB"
	aliyunToken  = "chaos-aliyun-sts-token-CAIS9f0x"
	tencentID    = "AKIDchaosSecretId9d8f7e6d5c4b3a21"
	tencentKey   = "chaosTencentSecretKeyW2v4u6"
	tencentToken = "chaos-tencent-session-token-K7j5"
)

// tap is the client's HTTP transport: it records the signature of every
// request (so that tests can look for it in logs and errors) and reports
// each action before sending it.
type tap struct {
	base      *http.Transport
	onRequest func(action string)

	mu     sync.Mutex
	sigs   map[string]bool
	others []*tap
}

func newTap(onRequest func(string)) *tap {
	return &tap{
		base: &http.Transport{
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
		onRequest: onRequest,
		sigs:      map[string]bool{},
	}
}

func (t *tap) RoundTrip(req *http.Request) (*http.Response, error) {
	action := header(req, "X-TC-Action")
	if auth := header(req, "Authorization"); auth != "" {
		t.remember(auth)
		if _, sig, ok := strings.Cut(auth, "Signature="); ok {
			t.remember(sig)
		}
	}
	// SWAS puts the protocol parameters, the signature included, in the
	// query; only API parameters go in the form body.
	q := req.URL.Query()
	if action == "" {
		action = q.Get("Action")
	}
	if sig := q.Get("Signature"); sig != "" {
		t.remember(sig)
	}
	if t.onRequest != nil && action != "" {
		t.onRequest(action)
	}
	return t.base.RoundTrip(req)
}

// header reads a request header whatever the case of its key: the Tencent
// SDK sets some of them without canonicalizing.
func header(req *http.Request, name string) string {
	if v := req.Header.Get(name); v != "" {
		return v
	}
	for k, v := range req.Header {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func (t *tap) remember(s string) {
	s = strings.TrimSpace(s)
	if len(s) < 8 {
		return
	}
	t.mu.Lock()
	t.sigs[s] = true
	t.mu.Unlock()
}

func (t *tap) signatures() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.sigs))
	for s := range t.sigs {
		out = append(out, s)
	}
	for _, o := range t.others {
		out = append(out, o.signatures()...)
	}
	return out
}

// adopt makes t's signatures include those of another client's tap (a
// second client of the same Env).
func (t *tap) adopt(o *tap) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.others = append(t.others, o)
}

// worldMaxLag is the longest read lag the soak's world units draw; the
// clients get a read grace beyond it.
const worldMaxLag = pchaos.MaxReadLag

func clientOptions(cfg Config, tp *tap) []rollback.Option {
	timeout := cfg.CallTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	logger := slog.New(slog.DiscardHandler)
	if cfg.Log != nil {
		logger = slog.New(cfg.Log)
	}
	return append([]rollback.Option{
		// Reads lag writes by up to worldMaxLag in the world units: the
		// read grace must cover it (exactly once holds only then).
		rollback.WithReadGrace(worldMaxLag + 30*time.Second),
		rollback.WithClock(cfg.Clock),
		rollback.WithCallTimeout(timeout),
		rollback.WithLogger(logger),
		rollback.WithHTTPTransport(tp),
	}, cfg.Options...)
}

// --- SWAS ---

type aliyunEnv struct {
	srv      *aliyuntest.Server
	p        *aliyun.Client
	tap      *tap
	dataDisk bool
	cfg      Config
}

// NewAliyun starts a SWAS emulator and a client of it. The emulator keeps
// no snapshot quota, so that any number of safety snapshots fit.
func NewAliyun(cfg Config) (Env, error) {
	opts := []aliyuntest.Option{
		aliyuntest.WithClock(cfg.Clock),
		aliyuntest.WithDurations(aliyuntest.Durations{Stop: cfg.Durations.Stop, Start: cfg.Durations.Start,
			Rollback: cfg.Durations.Rollback, CreateSnapshot: cfg.Durations.Snapshot}),
		aliyuntest.WithSnapshotQuota(-1),
		aliyuntest.WithCredential(aliyuntest.Credential{AccessKeyID: aliyunKeyID, AccessKeySecret: aliyunSecret, SecurityToken: aliyunToken}),
	}
	if cfg.RateSlack {
		for action, w := range aliyuntest.DefaultRateLimits() {
			opts = append(opts, aliyuntest.WithRateLimit(action, aliyuntest.RateWindow{Limit: w.Limit * 6 / 5, Per: w.Per}))
		}
	}
	srv := aliyuntest.NewServer(opts...)
	e := &aliyunEnv{srv: srv, dataDisk: cfg.DataDisk, cfg: cfg}
	p, tp, err := e.client()
	if err != nil {
		srv.Close()
		return nil, err
	}
	e.p, e.tap = p, tp
	return e, nil
}

func (e *aliyunEnv) client() (*aliyun.Client, *tap, error) {
	tp := newTap(e.cfg.OnRequest)
	p, err := aliyun.New(aliyun.Config{
		Region: aliyuntest.DefaultRegion, Endpoint: e.srv.URL,
		AccessKeyID: aliyunKeyID, AccessKeySecret: aliyunSecret, SecurityToken: aliyunToken,
	}, clientOptions(e.cfg, tp)...)
	return p, tp, err
}

func (e *aliyunEnv) NewClient() (rollback.Provider, func(), error) {
	p, tp, err := e.client()
	if err != nil {
		return nil, nil, err
	}
	e.tap.adopt(tp)
	return p, func() { p.CloseIdleConnections(); tp.base.CloseIdleConnections() }, nil
}

func (e *aliyunEnv) Before(action string, n int, f func()) { e.srv.Before(action, n, f) }
func (e *aliyunEnv) After(action string, n int, f func())  { e.srv.After(action, n, f) }
func (e *aliyunEnv) ActorStart(tg Target) error            { return e.srv.ActorStartInstance(tg.InstanceID) }
func (e *aliyunEnv) ActorStop(tg Target) error             { return e.srv.ActorStopInstance(tg.InstanceID) }
func (e *aliyunEnv) SetReadLag(d time.Duration)            { e.srv.SetReadLag(d) }
func (e *aliyunEnv) SetTokenWindow(d time.Duration)        { e.srv.SetTokenWindow(d) }

func (e *aliyunEnv) ActorSnapshot(tg Target) error {
	_, err := e.srv.ActorCreateSnapshot(tg.DiskID)
	return err
}

func (e *aliyunEnv) ActorRollback(tg Target) (string, error) {
	return e.srv.ActorResetDisk(tg.DiskID, tg.SnapshotID)
}

func (e *aliyunEnv) ActorRollbackOther(tg Target) (string, error) {
	other := aliyuntest.Must(e.srv.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: tg.DiskID}))
	return e.srv.ActorResetDisk(tg.DiskID, other.ID)
}

func (e *aliyunEnv) Ours(tg Target) []string {
	return ours(e.srv.Journal().Entries(), aliyuntest.ActionResetDisk, "DiskId", tg.DiskID)
}

func (e *aliyunEnv) Name() string                { return rollback.ProviderAliyun }
func (e *aliyunEnv) Provider() rollback.Provider { return e.p }
func (e *aliyunEnv) Region() string              { return aliyuntest.DefaultRegion }

func (e *aliyunEnv) Request(tg Target) rollback.Request {
	return rollback.Request{Region: e.Region(), DiskID: tg.DiskID, SnapshotID: tg.SnapshotID}
}

func (e *aliyunEnv) NewTarget(running bool) Target { return e.newTarget(running, false) }

func (e *aliyunEnv) NewRolledBackTarget(running bool) Target { return e.newTarget(running, true) }

func (e *aliyunEnv) newTarget(running, rolledBack bool) Target {
	status := aliyuntest.StatusStopped
	if running {
		status = aliyuntest.StatusRunning
	}
	is := aliyuntest.InstanceSpec{Status: status}
	if e.dataDisk {
		is.DataDiskIDs = []string{""}
	}
	in := aliyuntest.Must(e.srv.AddInstance(is))
	disk := in.SystemDiskID
	if e.dataDisk {
		disk = in.DataDiskIDs[0]
	}
	spec := aliyuntest.SnapshotSpec{DiskID: disk}
	if rolledBack {
		now := e.srv.Clock().Now()
		spec.CreatedAt, spec.RollbackTime = now.Add(-2*time.Hour), now.Add(-time.Hour)
	}
	snap := aliyuntest.Must(e.srv.AddSnapshot(spec))
	tg := Target{InstanceID: in.ID, DiskID: disk, SnapshotID: snap.ID}
	if rolledBack {
		tg.Prior = spec.RollbackTime.Format(time.RFC3339Nano)
	}
	return tg
}

func (e *aliyunEnv) AddFault(f emulator.Fault) { e.srv.AddFault(f) }
func (e *aliyunEnv) ClearFaults()              { e.srv.ClearFaults() }
func (e *aliyunEnv) FailNextRollbacks(n int)   { e.srv.FailNextRollbacks(n) }
func (e *aliyunEnv) Rollbacks(tg Target) int   { return e.srv.RollbacksOf(tg.DiskID) }
func (e *aliyunEnv) Journal() []emulator.Entry { return e.srv.Journal().Entries() }

func (e *aliyunEnv) RollbackSucceeded(tg Target) bool {
	var prior time.Time // zero: none
	if tg.Prior != "" {
		prior, _ = time.Parse(time.RFC3339Nano, tg.Prior)
	}
	s, ok := e.srv.Snapshot(tg.SnapshotID)
	return ok && s.RollbackTime.After(prior)
}

func (e *aliyunEnv) MakeBusy(tg Target, d time.Duration) {
	if err := e.srv.SetInstanceBusy(tg.InstanceID, aliyuntest.StatusUpgrading, d); err != nil {
		panic(err)
	}
}

func (e *aliyunEnv) State(tg Target) rollback.InstanceState {
	in, ok := e.srv.Instance(tg.InstanceID)
	if !ok {
		return rollback.InstanceUnknown
	}
	return map[string]rollback.InstanceState{
		aliyuntest.StatusRunning: rollback.InstanceRunning, aliyuntest.StatusStopped: rollback.InstanceStopped,
		aliyuntest.StatusStopping: rollback.InstanceStopping, aliyuntest.StatusStarting: rollback.InstanceStarting,
		aliyuntest.StatusResetting: rollback.InstanceRollingBack, aliyuntest.StatusUpgrading: rollback.InstanceBusy,
		aliyuntest.StatusPending: rollback.InstancePending,
	}[in.Status]
}

func (e *aliyunEnv) Actions() Actions { return ProviderActions[rollback.ProviderAliyun] }

func (e *aliyunEnv) Secrets() []string    { return []string{aliyunKeyID, aliyunSecret, aliyunToken} }
func (e *aliyunEnv) Signatures() []string { return e.tap.signatures() }

func (e *aliyunEnv) Close() {
	e.p.CloseIdleConnections()
	e.tap.base.CloseIdleConnections()
	e.srv.Close()
}

// --- Lighthouse ---

type tencentEnv struct {
	srv *tencenttest.Server
	p   *tencent.Client
	tap *tap
	cfg Config
}

// NewTencent starts a Lighthouse emulator and a client of it.
func NewTencent(cfg Config) (Env, error) {
	opts := []tencenttest.Option{
		tencenttest.WithClock(cfg.Clock),
		tencenttest.WithDurations(tencenttest.Durations{Stop: cfg.Durations.Stop, Start: cfg.Durations.Start,
			Rollback: cfg.Durations.Rollback, CreateSnapshot: cfg.Durations.Snapshot}),
		tencenttest.WithSessionCredentials(tencentID, tencentKey, tencentToken),
	}
	if cfg.RateSlack {
		w := tencenttest.DefaultRateLimit
		opts = append(opts, tencenttest.WithRateLimit("", tencenttest.RateWindow{Limit: w.Limit * 6 / 5, Per: w.Per}))
	}
	srv := tencenttest.NewServer(opts...)
	e := &tencentEnv{srv: srv, cfg: cfg}
	p, tp, err := e.client()
	if err != nil {
		srv.Close()
		return nil, err
	}
	e.p, e.tap = p, tp
	return e, nil
}

func (e *tencentEnv) client() (*tencent.Client, *tap, error) {
	tp := newTap(e.cfg.OnRequest)
	p, err := tencent.New(tencent.Config{
		Region: tencenttest.DefaultRegion, Endpoint: e.srv.URL,
		SecretID: tencentID, SecretKey: tencentKey, Token: tencentToken,
	}, clientOptions(e.cfg, tp)...)
	return p, tp, err
}

func (e *tencentEnv) NewClient() (rollback.Provider, func(), error) {
	p, tp, err := e.client()
	if err != nil {
		return nil, nil, err
	}
	e.tap.adopt(tp)
	return p, func() { p.Close(); tp.base.CloseIdleConnections() }, nil
}

func (e *tencentEnv) Before(action string, n int, f func()) { e.srv.Before(action, n, f) }
func (e *tencentEnv) After(action string, n int, f func())  { e.srv.After(action, n, f) }
func (e *tencentEnv) ActorStart(tg Target) error            { return e.srv.ActorStartInstance(tg.InstanceID) }
func (e *tencentEnv) ActorStop(tg Target) error             { return e.srv.ActorStopInstance(tg.InstanceID) }
func (e *tencentEnv) SetReadLag(d time.Duration)            { e.srv.SetReadLag(d) }
func (e *tencentEnv) SetTokenWindow(time.Duration)          {}

func (e *tencentEnv) ActorSnapshot(tg Target) error {
	_, err := e.srv.ActorCreateSnapshot(tg.InstanceID)
	return err
}

func (e *tencentEnv) ActorRollback(tg Target) (string, error) {
	return e.srv.ActorApplySnapshot(tg.InstanceID, tg.SnapshotID)
}

func (e *tencentEnv) ActorRollbackOther(tg Target) (string, error) {
	other, err := e.srv.AddSnapshot(tencenttest.Snapshot{InstanceID: tg.InstanceID})
	if err != nil {
		return "", err
	}
	return e.srv.ActorApplySnapshot(tg.InstanceID, other.ID)
}

func (e *tencentEnv) Ours(tg Target) []string {
	return ours(e.srv.Journal().Entries(), "ApplyInstanceSnapshot", "InstanceId", tg.InstanceID)
}

func (e *tencentEnv) Name() string                { return rollback.ProviderTencent }
func (e *tencentEnv) Provider() rollback.Provider { return e.p }
func (e *tencentEnv) Region() string              { return tencenttest.DefaultRegion }

func (e *tencentEnv) Request(tg Target) rollback.Request {
	return rollback.Request{Region: e.Region(), InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

func (e *tencentEnv) NewTarget(running bool) Target { return e.newTarget(running, false) }

func (e *tencentEnv) NewRolledBackTarget(running bool) Target { return e.newTarget(running, true) }

func (e *tencentEnv) newTarget(running, rolledBack bool) Target {
	state := tencenttest.StateStopped
	if running {
		state = tencenttest.StateRunning
	}
	in := tencenttest.Instance{State: state}
	sn := tencenttest.Snapshot{}
	prior := ""
	if rolledBack {
		prior = emulator.UUID()
		in.LatestOperation, in.LatestOperationState, in.LatestOperationRequestID = tencenttest.OpStartInstances, tencenttest.OperationSuccess, emulator.UUID()
		sn.LatestOperation, sn.LatestOperationState, sn.LatestOperationRequestID = tencenttest.OpRollbackInstanceSnapshot, tencenttest.OperationSuccess, prior
	}
	in, err := e.srv.AddInstance(in)
	if err != nil {
		panic(err)
	}
	sn.InstanceID = in.ID
	snap, err := e.srv.AddSnapshot(sn)
	if err != nil {
		panic(err)
	}
	return Target{InstanceID: in.ID, DiskID: in.DiskID, SnapshotID: snap.ID, Prior: prior}
}

func (e *tencentEnv) AddFault(f emulator.Fault) { e.srv.AddFault(f) }
func (e *tencentEnv) ClearFaults()              { e.srv.ClearFaults() }
func (e *tencentEnv) FailNextRollbacks(n int)   { e.srv.FailNextRollbacks(n) }
func (e *tencentEnv) Rollbacks(tg Target) int   { return e.srv.RollbacksOf(tg.InstanceID) }
func (e *tencentEnv) Journal() []emulator.Entry { return e.srv.Journal().Entries() }

func (e *tencentEnv) RollbackSucceeded(tg Target) bool {
	s, ok := e.srv.Snapshot(tg.SnapshotID)
	return ok && s.LatestOperation == tencenttest.OpRollbackInstanceSnapshot &&
		s.LatestOperationState == tencenttest.OperationSuccess && s.LatestOperationRequestID != tg.Prior
}

func (e *tencentEnv) MakeBusy(tg Target, d time.Duration) {
	if _, err := e.srv.SetBusy(tg.InstanceID, "ResetInstance", d); err != nil {
		panic(err)
	}
}

func (e *tencentEnv) State(tg Target) rollback.InstanceState {
	in, ok := e.srv.Instance(tg.InstanceID)
	if !ok {
		return rollback.InstanceUnknown
	}
	if in.LatestOperationState == tencenttest.OperationOperating && in.LatestOperation == tencenttest.OpApplyInstanceSnapshot {
		return rollback.InstanceRollingBack
	}
	return map[string]rollback.InstanceState{
		tencenttest.StateRunning: rollback.InstanceRunning, tencenttest.StateStopped: rollback.InstanceStopped,
		tencenttest.StateStopping: rollback.InstanceStopping, tencenttest.StateStarting: rollback.InstanceStarting,
		tencenttest.StatePending: rollback.InstancePending,
	}[in.State]
}

func (e *tencentEnv) Actions() Actions { return ProviderActions[rollback.ProviderTencent] }

func (e *tencentEnv) Secrets() []string    { return []string{tencentID, tencentKey, tencentToken} }
func (e *tencentEnv) Signatures() []string { return e.tap.signatures() }

func (e *tencentEnv) Close() {
	e.p.Close()
	e.tap.base.CloseIdleConnections()
	e.srv.Close()
}
