package tencent

import (
	"context"

	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/once"
)

// Lighthouse's mutating actions take no client token, so a resend after a
// lost reply could apply twice. They go through the exactly-once engine
// (provider/once), which resends only on evidence: this file adapts the
// engine to the SDK client; provider.go and lifecycle.go supply the
// evidence.

// callTarget names what a call acts on, for the client's hooks.
type callTarget = invoke.Target

func oneID(ids []string) string { return invoke.One(ids) }

// mutation is one state-changing call made exactly once.
type mutation struct {
	op     string
	region string
	target invoke.Target // for the hooks; Region is filled in from region
	// send makes one attempt and returns the request ID ("" for a reply
	// that names none, which proves nothing).
	send func(*lh.Client) (string, error)
	// witness reads state and judges it against the call's baseline.
	witness once.Witness
	// check, when set, re-reads the preconditions before every attempt
	// after the first.
	check func(ctx context.Context) error
	// what names the call for messages, e.g. "rollback of lhins-1 to
	// lhsnap-1", and how says how a person can tell whether it was
	// applied; built only when needed.
	what, how func() string
}

// once runs m through the engine and the invoker (rate limit, retries,
// error mapping).
func (c *Client) once(ctx context.Context, m mutation) (once.Outcome, error) {
	t := m.target
	t.Region = m.region
	return once.Do(ctx, once.NewEngine(provider.ProviderTencent, c.opts, c.mapError), once.On(c.inv, c.pool(m.region), t), once.Mutation[*lh.Client]{
		Op:         m.op,
		Send:       func(_ context.Context, sc *lh.Client) (string, error) { return m.send(sc) },
		Witness:    m.witness,
		Check:      m.check,
		What:       m.what,
		HowToCheck: m.how,
	})
}
