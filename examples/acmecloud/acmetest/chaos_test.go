package acmetest_test

import (
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/providertest/chaos"

	"example.com/acmecloud/acme"
	"example.com/acmecloud/acmetest"
)

// The public chaos harness (providertest/chaos) run on Acme: newEnv is
// the acme client over its emulator as a chaos.Env, with every optional
// interface the emulator supports (Busier, Actors, ReadLagger, Clients;
// Acme has no client tokens, so no TokenForgetter). Nothing here reaches
// into the library's internals: a provider in any module writes the same.

// soakRuns keeps the module's test time small in CI (about 10 s on 2
// cores); -soak.runs=N asks for more.
const soakRuns = 200

func TestSoak(t *testing.T) {
	cfg := chaos.SoakConfig{}
	if !flagSet("soak.runs") {
		cfg.Runs = soakRuns
	}
	chaos.Soak(t, newEnv, cfg)
}

// TestFaultMatrix holds every cell of the matrix to acmeMatrix and scans
// every text for the secret and signatures. A lost reply is resolved from
// the snapshot's and the server's last operations: the Run goes on.
func TestFaultMatrix(t *testing.T) {
	chaos.Matrix(t, newEnv, chaos.MatrixConfig{Specs: map[string]string{"": acmeMatrix}})
}

// acmeMatrix is what a full Run (stop, safety snapshot, restore, start) of
// a running server ends with, for each call x fault, once | persistent.
const acmeMatrix = `
# call            fault        once  persistent
DescribeSnapshots 5xx          ok    check:ErrInternal/0
DescribeSnapshots gateway-502  ok    check:ErrInternal/0
DescribeSnapshots throttle     ok    check:ErrThrottled/0
DescribeSnapshots busy         ok    check:ErrBusy/0
DescribeSnapshots reset        ok    check:ErrNetwork/0
DescribeSnapshots lost-reply   ok    check:ErrNetwork/0
DescribeSnapshots slow-reply   ok    check:ErrNetwork/0
DescribeServers   5xx          ok    check:ErrInternal/0
DescribeServers   gateway-502  ok    check:ErrInternal/0
DescribeServers   throttle     ok    check:ErrThrottled/0
DescribeServers   busy         ok    check:ErrBusy/0
DescribeServers   reset        ok    check:ErrNetwork/0
DescribeServers   lost-reply   ok    check:ErrNetwork/0
DescribeServers   slow-reply   ok    check:ErrNetwork/0
StopServer        5xx          ok    stop:ErrInternal/0
StopServer        gateway-502  ok    stop:ErrInternal/0
StopServer        throttle     ok    stop:ErrThrottled/0
StopServer        busy         ok    stop:ErrBusy/0
StopServer        reset        ok    stop:ErrNetwork/0
StopServer        lost-reply   ok    ok
StopServer        slow-reply   ok    stop:ErrNetwork/0
CreateSnapshot    5xx          ok    safety-snapshot:ErrInternal/0
CreateSnapshot    gateway-502  ok    safety-snapshot:ErrInternal/0
CreateSnapshot    throttle     ok    safety-snapshot:ErrThrottled/0
CreateSnapshot    busy         ok    safety-snapshot:ErrBusy/0
CreateSnapshot    reset        ok    safety-snapshot:ErrNetwork/0
CreateSnapshot    lost-reply   ok    ok
CreateSnapshot    slow-reply   ok    safety-snapshot:ErrNetwork/0
RestoreSnapshot   5xx          ok    rollback:ErrInternal/0
RestoreSnapshot   gateway-502  ok    rollback:ErrInternal/0
RestoreSnapshot   throttle     ok    rollback:ErrThrottled/0
RestoreSnapshot   busy         ok    rollback:ErrBusy/0
RestoreSnapshot   reset        ok    rollback:ErrNetwork/0
RestoreSnapshot   lost-reply   ok    ok
RestoreSnapshot   slow-reply   ok    rollback:ErrNetwork/0
StartServer       5xx          ok    start:ErrInternal/1
StartServer       gateway-502  ok    start:ErrInternal/1
StartServer       throttle     ok    start:ErrThrottled/1
StartServer       busy         ok    start:ErrBusy/1
StartServer       reset        ok    start:ErrNetwork/1
StartServer       lost-reply   ok    ok
StartServer       slow-reply   ok    start:ErrNetwork/1
`

// The test credentials: the scan looks for them in every error and log.
const (
	chaosKeyID  = "AKACMECHAOS7Q2W"
	chaosSecret = "acme-chaos-secret-Hf3k9PzX2m"
)

var profile = chaos.Profile{
	Name: acme.Name,
	Calls: chaos.Calls{
		Rollback: acmetest.ActionRestoreSnapshot, Stop: acmetest.ActionStopServer, Start: acmetest.ActionStartServer,
		Snapshot: acmetest.ActionCreateSnapshot, ReadInstance: acmetest.ActionDescribeServers,
		ReadSnapshot: acmetest.ActionDescribeSnapshots,
	},
	// ServerBusy is Acme's refusal for an operation in progress: ErrBusy,
	// the default. Each snapshot names its last restore, failed or not, by
	// request ID, but nothing marks which operation sent it (no client
	// token, no tag): a keyed Run that lost its checkpoint cannot tell its
	// own earlier restore from someone else's.
	Traits: chaos.Traits{NoOperationMark: true},
}

// slowLatency holds a slow reply far beyond the short per-attempt
// timeouts the harness gives slow-reply runs.
const slowLatency = 30 * time.Second

type env struct {
	srv *acmetest.Server
	c   *acme.Client
	tap *tap
	cfg chaos.Config
}

var (
	_ chaos.Busier     = (*env)(nil)
	_ chaos.Actors     = (*env)(nil)
	_ chaos.ReadLagger = (*env)(nil)
	_ chaos.Clients    = (*env)(nil)
)

// newEnv is the chaos.Factory: an emulator on cfg.Clock with cfg's
// durations, and a client of it.
func newEnv(cfg chaos.Config) (chaos.Env, error) {
	if cfg.Variant != "" {
		return nil, fmt.Errorf("acme has no variant %q", cfg.Variant)
	}
	d := acmetest.DefaultDurations
	for _, f := range []struct {
		dst *time.Duration
		src time.Duration
	}{{&d.Stop, cfg.Durations.Stop}, {&d.Start, cfg.Durations.Start}, {&d.Restore, cfg.Durations.Rollback}, {&d.CreateSnapshot, cfg.Durations.Snapshot}} {
		if f.src > 0 {
			*f.dst = f.src
		}
	}
	opts := []acmetest.Option{acmetest.WithClock(cfg.Clock), acmetest.WithDurations(d), acmetest.WithCredentials(chaosKeyID, chaosSecret)}
	if cfg.RateSlack {
		w := acmetest.DefaultRate
		for _, a := range []string{acmetest.ActionDescribeServers, acmetest.ActionDescribeSnapshots, acmetest.ActionStopServer,
			acmetest.ActionStartServer, acmetest.ActionCreateSnapshot, acmetest.ActionRestoreSnapshot} {
			opts = append(opts, acmetest.WithRateLimit(a, acmetest.RateWindow{Calls: w.Calls * 6 / 5, Per: w.Per}))
		}
	}
	e := &env{srv: acmetest.NewServer(opts...), cfg: cfg}
	c, tp, err := e.client()
	if err != nil {
		e.srv.Close()
		return nil, err
	}
	e.c, e.tap = c, tp
	return e, nil
}

func (e *env) client() (*acme.Client, *tap, error) {
	timeout := e.cfg.CallTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	logger := slog.New(slog.DiscardHandler)
	if e.cfg.Log != nil {
		logger = slog.New(e.cfg.Log)
	}
	tp := newTap(e.cfg.OnRequest)
	c, err := acme.New(acme.Config{Region: acmetest.DefaultRegion, Endpoint: e.srv.URL, KeyID: chaosKeyID, Secret: chaosSecret},
		append([]rollback.Option{rollback.WithClock(e.cfg.Clock), rollback.WithCallTimeout(timeout),
			rollback.WithLogger(logger), rollback.WithHTTPTransport(tp)}, e.cfg.Options...)...)
	return c, tp, err
}

func (e *env) Profile() chaos.Profile        { return profile }
func (e *env) Provider() rollback.Provider   { return e.c }
func (e *env) ClearFaults()                  { e.srv.DisarmFaults() }
func (e *env) FailNextRollbacks(n int)       { e.srv.SetFailNextRestores(n) }
func (e *env) Rollbacks(tg chaos.Target) int { return e.srv.RestoresOf(tg.InstanceID) }
func (e *env) Secrets() []string             { return []string{chaosSecret} }
func (e *env) Signatures() []string          { return e.tap.signatures() }

func (e *env) Request(tg chaos.Target) rollback.Request {
	return rollback.Request{Region: acmetest.DefaultRegion, InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

// NewTarget seeds a server and an available snapshot of its disk; a
// RolledBack one has a successful restore an hour ago, whose request ID
// Prior keeps.
func (e *env) NewTarget(spec chaos.TargetSpec) (chaos.Target, error) {
	state := acme.StateStopped
	if spec.Running {
		state = acme.StateRunning
	}
	sv, err := e.srv.AddServer(acmetest.ServerSpec{State: state})
	if err != nil {
		return chaos.Target{}, err
	}
	ss := acmetest.SnapshotSpec{ServerID: sv.ID}
	if spec.RolledBack {
		ss.RestoredAgo = time.Hour
	}
	snap, err := e.srv.AddSnapshot(ss)
	if err != nil {
		return chaos.Target{}, err
	}
	tg := chaos.Target{InstanceID: sv.ID, DiskID: sv.DiskID, SnapshotID: snap}
	if spec.RolledBack {
		tg.Prior, _, _, _, _ = e.srv.LastRestore(snap)
	}
	return tg, nil
}

// faults are Acme's answers for each kind.
var faults = map[chaos.FaultKind]acmetest.Fault{
	chaos.Fault5xx:       {Code: acme.CodeInternalError},
	chaos.FaultGateway:   {Body: "<html><body><h1>502 Bad Gateway</h1></body></html>", Status: http.StatusBadGateway},
	chaos.FaultThrottle:  {Code: acme.CodeThrottled},
	chaos.FaultBusy:      {Code: acme.CodeServerBusy},
	chaos.FaultReset:     {Reset: true},
	chaos.FaultLostReply: {DropReply: true},
	chaos.FaultSlowReply: {Latency: slowLatency},
}

func (e *env) AddFault(f chaos.Fault) error {
	af, ok := faults[f.Kind]
	if !ok {
		return fmt.Errorf("%w: %s", chaos.ErrUnsupported, f.Kind)
	}
	if profile.Calls.Role(f.Call) == "" {
		return fmt.Errorf("acme: no call %q", f.Call)
	}
	af.Action, af.Nth, af.Times, af.Label = f.Call, f.Nth, f.Times, string(f.Kind)
	e.srv.AddFault(af)
	return nil
}

// RollbackSucceeded: the snapshot's last restore is one since tg was
// seeded, and it succeeded.
func (e *env) RollbackSucceeded(tg chaos.Target) bool {
	rid, server, state, _, ok := e.srv.LastRestore(tg.SnapshotID)
	return ok && rid != tg.Prior && server == tg.InstanceID && state == acme.OperationSucceeded
}

func (e *env) State(tg chaos.Target) rollback.InstanceState {
	s, err := e.srv.State(tg.InstanceID)
	if err != nil {
		return rollback.InstanceUnknown
	}
	return map[string]rollback.InstanceState{
		acme.StateRunning: rollback.InstanceRunning, acme.StateStopped: rollback.InstanceStopped,
		acme.StateStopping: rollback.InstanceStopping, acme.StateStarting: rollback.InstanceStarting,
		acme.StateRestoring: rollback.InstanceRollingBack, acme.StateMaintenance: rollback.InstanceBusy,
		acme.StatePending: rollback.InstancePending,
	}[s]
}

func (e *env) Journal() []chaos.Call {
	entries := e.srv.Journal().Entries()
	out := make([]chaos.Call, 0, len(entries))
	for _, en := range entries {
		c := chaos.Call{Time: en.Time, Name: en.Action, Actor: en.Actor, Applied: en.Applied, RequestID: en.RequestID,
			Code: en.Code, Fault: chaos.FaultKind(en.Fault),
			Detail: fmt.Sprintf("server=%s snapshot=%s ids=%v dropped=%v", en.ServerID, en.SnapshotID, en.IDs, en.Dropped)}
		for _, id := range append([]string{en.ServerID, en.SnapshotID}, en.IDs...) {
			if id != "" {
				c.Resources = append(c.Resources, id)
			}
		}
		if en.Code == acme.CodeThrottled && c.Fault != chaos.FaultThrottle {
			c.Throttled, c.Fault = true, "" // the emulator's own rate window
		}
		out = append(out, c)
	}
	return out
}

func (e *env) Close() {
	e.c.Close()
	e.tap.base.CloseIdleConnections()
	e.srv.Close()
}

// Busier: maintenance keeps the server busy for d.
func (e *env) MakeBusy(tg chaos.Target, d time.Duration) error {
	return e.srv.SetBusy(tg.InstanceID, d)
}

// Actors: the emulator's hooks and actor methods.
func (e *env) Before(call string, n int, f func()) { e.srv.Before(call, n, f) }
func (e *env) After(call string, n int, f func())  { e.srv.After(call, n, f) }
func (e *env) ActorStart(tg chaos.Target) error    { return e.srv.ActorStart(tg.InstanceID) }
func (e *env) ActorStop(tg chaos.Target) error     { return e.srv.ActorStop(tg.InstanceID) }
func (e *env) SetReadLag(d time.Duration)          { e.srv.SetReadLag(d) }
func (e *env) ActorSnapshot(tg chaos.Target) error {
	_, err := e.srv.ActorCreateSnapshot(tg.InstanceID)
	return err
}
func (e *env) ActorRollback(tg chaos.Target) (string, error) {
	return e.srv.ActorRestore(tg.InstanceID, tg.SnapshotID)
}

func (e *env) ActorRollbackOther(tg chaos.Target) (string, error) {
	other, err := e.srv.AddSnapshot(acmetest.SnapshotSpec{ServerID: tg.InstanceID})
	if err != nil {
		return "", err
	}
	return e.srv.ActorRestore(tg.InstanceID, other)
}

// Clients: another client of the same emulator, as another process.
func (e *env) NewClient() (rollback.Provider, func(), error) {
	c, tp, err := e.client()
	if err != nil {
		return nil, nil, err
	}
	e.tap.adopt(tp)
	return c, func() { c.Close(); tp.base.CloseIdleConnections() }, nil
}

// tap is the client's transport: it remembers every Authorization header
// (the signature is all of it) for the scan, and names each call to
// Config.OnRequest before sending it.
type tap struct {
	base      *http.Transport
	onRequest func(string)

	mu     sync.Mutex
	sigs   map[string]bool
	others []*tap
}

func newTap(onRequest func(string)) *tap {
	return &tap{base: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second},
		onRequest: onRequest, sigs: map[string]bool{}}
}

func (t *tap) RoundTrip(req *http.Request) (*http.Response, error) {
	if auth := req.Header.Get("Authorization"); auth != "" {
		t.mu.Lock()
		t.sigs[auth] = true
		if _, sig, ok := strings.Cut(auth, "Signature="); ok && len(sig) >= 8 {
			t.sigs[sig] = true
		}
		t.mu.Unlock()
	}
	if action, ok := strings.CutPrefix(req.URL.Path, "/v1/"); ok && t.onRequest != nil {
		t.onRequest(action)
	}
	return t.base.RoundTrip(req)
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

func (t *tap) adopt(o *tap) {
	t.mu.Lock()
	t.others = append(t.others, o)
	t.mu.Unlock()
}

// flagSet reports whether the soak's run count was asked for, by flag or
// environment.
func flagSet(name string) bool {
	set := os.Getenv("CHAOS_SOAK_RUNS") != ""
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
