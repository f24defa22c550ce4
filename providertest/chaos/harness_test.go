package chaos_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	ichaos "github.com/cloudsnap/rollback/internal/chaos"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/providertest/chaos"
)

// The harness runs in full against both emulators in internal/chaos. Here:
// that an Env with none of the optional interfaces still runs the core
// soak and the matrix (judged by the invariants, without a spec), and that
// the soak catches a provider that leaks its secret.

// bare hides every optional interface of an Env, and may narrow its fault
// kinds and wrap its provider.
type bare struct {
	env   chaos.Env
	kinds []chaos.FaultKind
	wrap  func(rollback.Provider, chaos.Env) rollback.Provider
}

func (b bare) Profile() chaos.Profile {
	p := b.env.Profile()
	if b.kinds != nil {
		p.Kinds = b.kinds
	}
	return p
}

func (b bare) Provider() rollback.Provider {
	if b.wrap != nil {
		return b.wrap(b.env.Provider(), b.env)
	}
	return b.env.Provider()
}

func (b bare) Request(tg chaos.Target) rollback.Request { return b.env.Request(tg) }
func (b bare) NewTarget(s chaos.TargetSpec) (chaos.Target, error) {
	return b.env.NewTarget(s)
}

func (b bare) AddFault(f chaos.Fault) error {
	if b.kinds != nil && !containsKind(b.kinds, f.Kind) {
		return fmt.Errorf("%w: %s", chaos.ErrUnsupported, f.Kind)
	}
	return b.env.AddFault(f)
}

func containsKind(ks []chaos.FaultKind, k chaos.FaultKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func (b bare) ClearFaults()                                 { b.env.ClearFaults() }
func (b bare) FailNextRollbacks(n int)                      { b.env.FailNextRollbacks(n) }
func (b bare) Rollbacks(tg chaos.Target) int                { return b.env.Rollbacks(tg) }
func (b bare) RollbackSucceeded(tg chaos.Target) bool       { return b.env.RollbackSucceeded(tg) }
func (b bare) State(tg chaos.Target) rollback.InstanceState { return b.env.State(tg) }
func (b bare) Journal() []chaos.Call                        { return b.env.Journal() }
func (b bare) Secrets() []string                            { return b.env.Secrets() }
func (b bare) Signatures() []string                         { return b.env.Signatures() }
func (b bare) Close()                                       { b.env.Close() }

func bareFactory(provider string, kinds []chaos.FaultKind, wrap func(rollback.Provider, chaos.Env) rollback.Provider) chaos.Factory {
	return func(c chaos.Config) (chaos.Env, error) {
		e, err := ichaos.Factory(provider)(c)
		if err != nil {
			return nil, err
		}
		return bare{env: e, kinds: kinds, wrap: wrap}, nil
	}
}

func TestSoakWithoutWorld(t *testing.T) {
	chaos.Soak(t, bareFactory(rollback.ProviderTencent, nil, nil), chaos.SoakConfig{Runs: 60, Workers: 2, BatchWorkers: 1})
}

func TestMatrixWithoutSpec(t *testing.T) {
	chaos.Matrix(t, bareFactory(rollback.ProviderAliyun, []chaos.FaultKind{chaos.Fault5xx, chaos.FaultLostReply}, nil), chaos.MatrixConfig{Workers: 4})
}

// leaky is a provider whose rollback errors quote its secret.
type leaky struct {
	rollback.Provider
	secret string
}

func (l leaky) Rollback(ctx context.Context, req rollback.Request) (*rollback.Result, error) {
	res, err := l.Provider.Rollback(ctx, req)
	if err != nil {
		err = fmt.Errorf("%w (signed with %s)", err, l.secret)
	}
	return res, err
}

// Capabilities drops the pre-flight rollback, which would bypass Rollback
// above.
func (l leaky) Capabilities() provider.Capabilities {
	caps := l.Provider.Capabilities()
	caps.Preflight = nil
	return caps
}

func TestSoakFindsLeaks(t *testing.T) {
	f := bareFactory(rollback.ProviderTencent, []chaos.FaultKind{chaos.Fault5xx}, func(p rollback.Provider, e chaos.Env) rollback.Provider {
		return leaky{Provider: p, secret: e.Secrets()[1]}
	})
	_, leaks, err := chaos.SoakFailures(f, chaos.SoakConfig{Runs: 40, Workers: 2, BatchWorkers: 1}, func(...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if len(leaks) == 0 || !strings.Contains(leaks[0], "secret") {
		t.Fatalf("the soak found no leak of a secret every rollback error quotes: %q", leaks)
	}
}
