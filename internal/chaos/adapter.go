package chaos

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/emulator"
	pchaos "github.com/cloudsnap/rollback/providertest/chaos"
)

// The public harness (providertest/chaos) drives the two emulators through
// Public, which puts the provider-neutral pchaos.Env over an Env: faults by
// kind become each cloud's native codes, journal entries become calls.

// VariantDataDisk is the SWAS Env that rolls back a data disk
// (Config.DataDisk).
const VariantDataDisk = "data-disk"

// envs make each provider's Env.
var envs = map[string]func(Config) (Env, error){
	rollback.ProviderAliyun: NewAliyun, rollback.ProviderTencent: NewTencent,
}

// Profiles describe the two clouds to the harness.
var Profiles = map[string]pchaos.Profile{
	rollback.ProviderAliyun: {
		Name: rollback.ProviderAliyun,
		Calls: pchaos.Calls{
			Rollback: aliyuntest.ActionResetDisk, Stop: aliyuntest.ActionStopInstance,
			Start: aliyuntest.ActionStartInstance, Snapshot: aliyuntest.ActionCreateSnapshot,
			ReadInstance: aliyuntest.ActionListInstances, ReadSnapshot: aliyuntest.ActionListSnapshots,
			OtherReads: []string{aliyuntest.ActionListDisks, aliyuntest.ActionListInstanceStatus},
		},
		// SWAS has no code for an operation in progress: it refuses with
		// IncorrectInstanceStatus, as for a transitional state.
		Sentinels: map[pchaos.FaultKind][]string{pchaos.FaultBusy: {"ErrInstanceState"}},
		Variants:  []string{VariantDataDisk},
		// SWAS records only successful resets (a snapshot's RollbackTime).
		Traits: pchaos.Traits{FailuresLeaveNoTrace: true},
	},
	rollback.ProviderTencent: {
		Name: rollback.ProviderTencent,
		Calls: pchaos.Calls{
			Rollback: "ApplyInstanceSnapshot", Stop: "StopInstances", Start: "StartInstances",
			Snapshot: "CreateInstanceSnapshot", ReadInstance: "DescribeInstances", ReadSnapshot: "DescribeSnapshots",
		},
		// Lighthouse has no client token and no tag to mark an operation
		// with, and applies a snapshot to a running instance by forcing it
		// off.
		Traits: pchaos.Traits{NoOperationMark: true, RollbackForcesStop: true},
	},
}

// Factory is the harness's Factory for a provider's Env.
func Factory(provider string) pchaos.Factory {
	return func(c pchaos.Config) (pchaos.Env, error) {
		newEnv, ok := envs[provider]
		if !ok {
			return nil, fmt.Errorf("chaos: no provider %q", provider)
		}
		if c.Variant != "" && !(provider == rollback.ProviderAliyun && c.Variant == VariantDataDisk) {
			return nil, fmt.Errorf("chaos: %s has no variant %q", provider, c.Variant)
		}
		e, err := newEnv(Config{Clock: c.Clock, CallTimeout: c.CallTimeout, Log: c.Log, OnRequest: c.OnRequest,
			Durations: c.Durations, RateSlack: c.RateSlack, Options: c.Options, DataDisk: c.Variant == VariantDataDisk})
		if err != nil {
			return nil, err
		}
		return Public(e), nil
	}
}

// Public is e as the harness's provider-neutral Env, with every optional
// interface the emulator supports.
func Public(e Env) pchaos.Env {
	a := &adapter{e: e, prof: Profiles[e.Name()], kinds: map[string]pchaos.FaultKind{}}
	if e.Name() == rollback.ProviderAliyun {
		return tokenAdapter{a}
	}
	return a
}

type adapter struct {
	e    Env
	prof pchaos.Profile

	mu    sync.Mutex
	kinds map[string]pchaos.FaultKind // emulator.Fault.String() -> kind
	calls []pchaos.Call               // the journal converted so far
}

// tokenAdapter is an Env whose cloud forgets client tokens (SWAS).
type tokenAdapter struct{ *adapter }

func (a tokenAdapter) SetTokenWindow(d time.Duration) { a.e.SetTokenWindow(d) }

func (a *adapter) Profile() pchaos.Profile                      { return a.prof }
func (a *adapter) Provider() rollback.Provider                  { return a.e.Provider() }
func (a *adapter) Request(tg Target) rollback.Request           { return a.e.Request(tg) }
func (a *adapter) ClearFaults()                                 { a.e.ClearFaults() }
func (a *adapter) FailNextRollbacks(n int)                      { a.e.FailNextRollbacks(n) }
func (a *adapter) Rollbacks(tg Target) int                      { return a.e.Rollbacks(tg) }
func (a *adapter) RollbackSucceeded(tg Target) bool             { return a.e.RollbackSucceeded(tg) }
func (a *adapter) State(tg Target) rollback.InstanceState       { return a.e.State(tg) }
func (a *adapter) Secrets() []string                            { return a.e.Secrets() }
func (a *adapter) Signatures() []string                         { return a.e.Signatures() }
func (a *adapter) Close()                                       { a.e.Close() }
func (a *adapter) Before(call string, n int, f func())          { a.e.Before(call, n, f) }
func (a *adapter) After(call string, n int, f func())           { a.e.After(call, n, f) }
func (a *adapter) ActorStart(tg Target) error                   { return a.e.ActorStart(tg) }
func (a *adapter) ActorStop(tg Target) error                    { return a.e.ActorStop(tg) }
func (a *adapter) ActorSnapshot(tg Target) error                { return a.e.ActorSnapshot(tg) }
func (a *adapter) ActorRollback(tg Target) (string, error)      { return a.e.ActorRollback(tg) }
func (a *adapter) ActorRollbackOther(tg Target) (string, error) { return a.e.ActorRollbackOther(tg) }
func (a *adapter) SetReadLag(d time.Duration)                   { a.e.SetReadLag(d) }
func (a *adapter) NewClient() (rollback.Provider, func(), error) {
	return a.e.NewClient()
}

func (a *adapter) MakeBusy(tg Target, d time.Duration) error {
	a.e.MakeBusy(tg, d)
	return nil
}

func (a *adapter) NewTarget(spec pchaos.TargetSpec) (Target, error) {
	if spec.RolledBack {
		return a.e.NewRolledBackTarget(spec.Running), nil
	}
	return a.e.NewTarget(spec.Running), nil
}

func (a *adapter) AddFault(f pchaos.Fault) error {
	if f.Call == "" {
		return fmt.Errorf("chaos: fault %s names no call", f)
	}
	if !slices.Contains(pchaos.FaultKinds, f.Kind) {
		return fmt.Errorf("%w: %s", pchaos.ErrUnsupported, f.Kind)
	}
	ef := faultOf(a.prof.Name, string(f.Kind), f.Call, false)
	ef.Nth, ef.Times = f.Nth, f.Times
	a.mu.Lock()
	a.kinds[ef.String()] = f.Kind
	a.mu.Unlock()
	a.e.AddFault(ef)
	return nil
}

// throttleCodes are the clouds' rate-limit refusals.
var throttleCodes = map[string]bool{"Throttling.User": true, "RequestLimitExceeded": true}

// Journal converts the emulator's journal; entries are only ever
// appended, so what was converted is kept.
func (a *adapter) Journal() []pchaos.Call {
	entries := a.e.Journal()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, en := range entries[min(len(a.calls), len(entries)):] {
		c := pchaos.Call{Time: en.Time, Name: en.Action, Actor: en.Actor != "", Applied: en.Applied, RequestID: en.RequestID,
			Code: en.Code, Detail: fmt.Sprintf("status=%d params=%v", en.HTTPStatus, en.Params)}
		for k, v := range en.Params {
			if strings.Contains(k, "Id") && v != "" {
				c.Resources = append(c.Resources, v)
			}
		}
		if en.Fault != "" {
			c.Fault = a.kinds[en.Fault]
			if c.Fault == "" {
				c.Fault = pchaos.FaultKind("unknown:" + en.Fault)
			}
		}
		if throttleCodes[en.Code] && c.Fault != pchaos.FaultThrottle {
			// The emulator's own rate limit (which a fault that lets the
			// call through may run into).
			c.Throttled, c.Fault = true, ""
		}
		a.calls = append(a.calls, c)
	}
	return append([]pchaos.Call(nil), a.calls[:len(entries)]...)
}

// codes are each provider's native codes of the coded fault kinds.
var codes = map[string]map[string]emulator.Fault{
	rollback.ProviderAliyun: {
		"5xx":      {Code: "InternalError"},
		"throttle": {Code: "Throttling.User"},
		"busy":     {Code: "IncorrectInstanceStatus"},
	},
	rollback.ProviderTencent: {
		"5xx":      {Code: "InternalError"},
		"throttle": {Code: "RequestLimitExceeded"},
		"busy":     {Code: "UnsupportedOperation.LatestOperationUnfinished"},
	},
}

// slowLatency is how long a slow reply is held: far longer than the short
// per-attempt timeouts of the cells and units that get slow replies.
const slowLatency = 30 * time.Second

// faultOf builds the emulator fault of a kind (see pchaos.FaultKinds) for
// action.
func faultOf(provider, kind, action string, persistent bool) emulator.Fault {
	f := codes[provider][kind]
	switch pchaos.FaultKind(kind) {
	case pchaos.FaultGateway:
		f.Body, f.HTTPStatus = "<html><body><h1>502 Bad Gateway</h1></body></html>", 502
	case pchaos.FaultReset:
		f.Reset = true
	case pchaos.FaultLostReply:
		f.DropResponse = true
	case pchaos.FaultSlowReply:
		f.Latency = slowLatency
	}
	f.Action = action
	if persistent {
		f.Times = -1
	}
	return f
}
