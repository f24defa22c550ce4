package memprovider_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/emulator"
	"github.com/cloudsnap/rollback/memprovider"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/providertest/chaos"
)

// The public chaos harness (providertest/chaos) run on memprovider, as a
// user's provider would run it: newMemEnv is a Provider as a chaos.Env,
// with Busier, Actors, ReadLagger, TokenForgetter and Clients. Its variant "tokens" is the
// provider WithClientTokens (SWAS-like resends); the usual shape is
// Lighthouse-like with operation marks.

// memSoakRuns keeps the package's test time small in CI; -soak.runs=N asks
// for more.
const memSoakRuns = 300

func TestSoak(t *testing.T) {
	cfg := chaos.SoakConfig{}
	if !soakRunsSet() {
		cfg.Runs = memSoakRuns
	}
	chaos.Soak(t, newMemEnv, cfg)
}

// TestFaultMatrix judges every cell by the soak's invariants (memprovider
// has no spec of its own: its outcomes follow the library's defaults).
func TestFaultMatrix(t *testing.T) { chaos.Matrix(t, newMemEnv, chaos.MatrixConfig{}) }

// soakRunsSet reports whether the soak's run count was asked for, by flag
// or environment.
func soakRunsSet() bool {
	set := os.Getenv("CHAOS_SOAK_RUNS") != ""
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "soak.runs" })
	return set
}

const variantTokens = "tokens"

var memProfile = chaos.Profile{
	Name: memprovider.Name,
	Calls: chaos.Calls{
		Rollback: memprovider.ActionRollback, Stop: memprovider.ActionStopInstance, Start: memprovider.ActionStartInstance,
		Snapshot: memprovider.ActionCreateSnapshot, ReadInstance: memprovider.ActionDescribeInstances,
		ReadSnapshot: memprovider.ActionDescribeSnapshots,
		OtherReads:   []string{memprovider.ActionDescribeDisks, memprovider.ActionReadMark},
	},
	// No HTTP in front of it: no gateway to answer 502.
	Kinds:    []chaos.FaultKind{chaos.Fault5xx, chaos.FaultThrottle, chaos.FaultBusy, chaos.FaultReset, chaos.FaultLostReply, chaos.FaultSlowReply},
	Variants: []string{variantTokens},
}

// memCanary stands for a credential: memprovider has none, so nothing can
// leak, but the scan must have something to look for.
const memCanary = "mem-chaos-canary-Jq7x2Lp9"

// slowLatency is far beyond the short per-attempt timeouts of slow-reply
// runs: the attempt times out before anything is applied.
const slowLatency = 30 * time.Second

type memEnv struct {
	p   *memprovider.Provider
	cfg chaos.Config

	mu       sync.Mutex
	kinds    map[string]chaos.FaultKind // emulator.Fault.String() -> kind
	window   time.Duration              // SetTokenWindow
	firstUse time.Time                  // of the oldest token the cloud remembers
}

var (
	_ chaos.Busier         = (*memEnv)(nil)
	_ chaos.Actors         = (*memEnv)(nil)
	_ chaos.ReadLagger     = (*memEnv)(nil)
	_ chaos.Clients        = (*memEnv)(nil)
	_ chaos.TokenForgetter = (*memEnv)(nil)
)

func newMemEnv(cfg chaos.Config) (chaos.Env, error) {
	if cfg.Variant != "" && cfg.Variant != variantTokens {
		return nil, fmt.Errorf("memprovider has no variant %q", cfg.Variant)
	}
	timeout := cfg.CallTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	logger := slog.New(slog.DiscardHandler)
	if cfg.Log != nil {
		logger = slog.New(cfg.Log)
	}
	e := &memEnv{cfg: cfg, kinds: map[string]chaos.FaultKind{}}
	client := append([]rollback.Option{rollback.WithCallTimeout(timeout), rollback.WithLogger(logger),
		rollback.WithHooks(rollback.Hooks{AttemptStart: func(ctx context.Context, c *rollback.CallInfo, _ *rollback.AttemptInfo) context.Context {
			if c.Action == memprovider.ActionRollback {
				e.tokenUse()
			}
			if cfg.OnRequest != nil {
				cfg.OnRequest(c.Action)
			}
			return ctx
		}})}, cfg.Options...)
	opts := []memprovider.Option{memprovider.WithClock(cfg.Clock), memprovider.WithClientOptions(client...),
		memprovider.WithDurations(memprovider.Durations{Stop: cfg.Durations.Stop, Start: cfg.Durations.Start,
			Rollback: cfg.Durations.Rollback, Snapshot: cfg.Durations.Snapshot})}
	if cfg.Variant == variantTokens {
		opts = append(opts, memprovider.WithClientTokens())
	}
	e.p = memprovider.New(opts...)
	return e, nil
}

// SetTokenWindow makes the cloud forget client tokens d after their first
// use (0: never). The provider forgets on demand (ForgetTokens), so the
// Env does it as a rollback call goes out once d has passed since the
// first rollback call that the cloud still remembers: tokens are consulted
// only then. (The usual shape keeps no tokens: nothing to forget.)
func (e *memEnv) SetTokenWindow(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.window, e.firstUse = d, time.Time{}
}

func (e *memEnv) tokenUse() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.window <= 0 {
		return
	}
	now := e.cfg.Clock.Now()
	if !e.firstUse.IsZero() && now.Sub(e.firstUse) >= e.window {
		e.p.ForgetTokens()
		e.firstUse = time.Time{}
	}
	if e.firstUse.IsZero() {
		e.firstUse = now
	}
}

func (e *memEnv) Profile() chaos.Profile        { return memProfile }
func (e *memEnv) Provider() rollback.Provider   { return e.p }
func (e *memEnv) ClearFaults()                  { e.p.ClearFaults() }
func (e *memEnv) Rollbacks(tg chaos.Target) int { return e.p.RollbacksOf(tg.InstanceID) }
func (e *memEnv) Secrets() []string             { return []string{memCanary} }
func (e *memEnv) Signatures() []string          { return nil }
func (e *memEnv) Close()                        { _ = e.p.Close() }

// FailNextRollbacks sets the count: the provider's adds to it, and a
// negative count disarms (never below none).
func (e *memEnv) FailNextRollbacks(n int) {
	e.p.FailNextRollbacks(-1 << 30)
	e.p.FailNextRollbacks(n)
}

func (e *memEnv) Request(tg chaos.Target) rollback.Request {
	return rollback.Request{Region: memprovider.DefaultRegion, InstanceID: tg.InstanceID, SnapshotID: tg.SnapshotID}
}

func (e *memEnv) NewTarget(spec chaos.TargetSpec) (chaos.Target, error) {
	state := memprovider.StateStopped
	if spec.Running {
		state = memprovider.StateRunning
	}
	in, err := e.p.AddInstance(memprovider.InstanceSpec{State: state})
	if err != nil {
		return chaos.Target{}, err
	}
	ss := memprovider.SnapshotSpec{InstanceID: in.ID}
	if spec.RolledBack {
		ss.RolledBackAgo = time.Hour
	}
	sn, err := e.p.AddSnapshot(ss)
	if err != nil {
		return chaos.Target{}, err
	}
	tg := chaos.Target{InstanceID: in.ID, DiskID: in.SystemDiskID, SnapshotID: sn.ID}
	if spec.RolledBack {
		tg.Prior = sn.LastRollbackAt.Format(time.RFC3339Nano)
	}
	return tg, nil
}

func (e *memEnv) AddFault(f chaos.Fault) error {
	mf := memprovider.Fault{Action: f.Call, Nth: f.Nth, Times: f.Times}
	ef := emulator.Fault{} // how the journal names it (emulator.Fault.String)
	switch f.Kind {
	case chaos.Fault5xx:
		mf.Code, ef.Code = memprovider.CodeInternalError, memprovider.CodeInternalError
	case chaos.FaultThrottle:
		mf.Code, ef.Code = memprovider.CodeThrottling, memprovider.CodeThrottling
	case chaos.FaultBusy:
		mf.Code, ef.Code = memprovider.CodeOperationInProgress, memprovider.CodeOperationInProgress
	case chaos.FaultReset:
		mf.Err, ef.Reset = rollback.ErrNetwork, true
	case chaos.FaultLostReply:
		mf.DropResponse, ef.DropResponse = true, true
	case chaos.FaultSlowReply:
		mf.Latency, ef.Latency = slowLatency, slowLatency
	default:
		return fmt.Errorf("%w: %s", chaos.ErrUnsupported, f.Kind)
	}
	if err := e.p.AddFault(mf); err != nil {
		return err
	}
	e.mu.Lock()
	e.kinds[ef.String()] = f.Kind
	e.mu.Unlock()
	return nil
}

// RollbackSucceeded: the snapshot's LastRollbackAt (set only by a
// successful rollback) moved since tg was seeded.
func (e *memEnv) RollbackSucceeded(tg chaos.Target) bool {
	var prior time.Time
	if tg.Prior != "" {
		prior, _ = time.Parse(time.RFC3339Nano, tg.Prior)
	}
	sn, ok := e.p.ViewSnapshot(tg.SnapshotID)
	return ok && sn.LastRollbackAt.After(prior)
}

func (e *memEnv) State(tg chaos.Target) rollback.InstanceState {
	in, ok := e.p.ViewInstance(tg.InstanceID)
	if !ok {
		return rollback.InstanceUnknown
	}
	if in.State == rollback.InstanceRunning || in.State == rollback.InstanceStopped {
		if in.Busy {
			return rollback.InstanceBusy
		}
	}
	return in.State
}

func (e *memEnv) Journal() []chaos.Call {
	entries := e.p.Journal()
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]chaos.Call, 0, len(entries))
	for _, en := range entries {
		c := chaos.Call{Time: en.Time, Name: en.Action, Actor: en.Actor != "", Applied: en.Applied, RequestID: en.RequestID,
			Code: en.Code, Detail: fmt.Sprintf("status=%d params=%v fault=%s", en.HTTPStatus, en.Params, en.Fault)}
		for _, k := range []string{"InstanceId", "DiskId", "SnapshotId"} {
			if v := en.Params[k]; v != "" {
				c.Resources = append(c.Resources, v)
			}
		}
		if en.Fault != "" {
			c.Fault = e.kinds[en.Fault]
			if c.Fault == "" {
				c.Fault = chaos.FaultKind("unknown:" + en.Fault)
			}
		}
		if en.Code == memprovider.CodeThrottling && c.Fault != chaos.FaultThrottle {
			c.Throttled, c.Fault = true, "" // the provider's own quota
		}
		out = append(out, c)
	}
	return out
}

// Busier, Actors, ReadLagger: the provider's own knobs.
func (e *memEnv) MakeBusy(tg chaos.Target, d time.Duration) error {
	return e.p.SetBusy(tg.InstanceID, d)
}
func (e *memEnv) Before(call string, n int, f func()) { e.p.Before(call, n, f) }
func (e *memEnv) After(call string, n int, f func())  { e.p.After(call, n, f) }
func (e *memEnv) ActorStart(tg chaos.Target) error    { return e.p.ActorStart(tg.InstanceID) }
func (e *memEnv) ActorStop(tg chaos.Target) error     { return e.p.ActorStop(tg.InstanceID) }
func (e *memEnv) SetReadLag(d time.Duration)          { e.p.SetReadLag(d) }

func (e *memEnv) ActorSnapshot(tg chaos.Target) error {
	_, err := e.p.ActorCreateSnapshot(tg.InstanceID, "")
	return err
}

func (e *memEnv) ActorRollback(tg chaos.Target) (string, error) {
	return e.p.ActorRollback(tg.InstanceID, tg.SnapshotID)
}

func (e *memEnv) ActorRollbackOther(tg chaos.Target) (string, error) {
	other, err := e.p.AddSnapshot(memprovider.SnapshotSpec{InstanceID: tg.InstanceID})
	if err != nil {
		return "", err
	}
	return e.p.ActorRollback(tg.InstanceID, other.ID)
}

// NewClient is the same cloud through a client with checkpoints of its
// own: another process (the Provider is cloud and client in one value, and
// its built-in checkpoints would otherwise be shared).
func (e *memEnv) NewClient() (rollback.Provider, func(), error) {
	return &otherProcess{Provider: e.p}, func() {}, nil
}

type otherProcess struct {
	*memprovider.Provider
	checkpoints provider.MemoryCheckpoints
}

func (o *otherProcess) Capabilities() provider.Capabilities {
	c := o.Provider.Capabilities()
	c.Checkpoints = &o.checkpoints
	return c
}
