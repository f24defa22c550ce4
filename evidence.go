package rollback

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// WithReadGrace sets the client's read grace (0: DefaultReadGrace): after
// an attempt that may have landed, the client reads state for proof only
// once d has passed, and resends only if that reading shows nothing
// landed. Raise it for a cloud (or a proxy cache) whose reads lag more.
func WithReadGrace(d time.Duration) Option { return func(o *provider.Options) { o.ReadGrace = d } }

// witnessEarlier settles a Run resumed from a checkpoint at
// PhaseRollbackSending (the rollback may be on the wire, or landed) before
// anything is checked or resent: the provider's witness judges the cloud
// against the checkpoint's baseline. Ours landed: the Result to wait for
// (saved as rollback-sent). Nothing landed: nil, and the Run goes on to
// check and send. Cannot tell: ErrOutcomeUnknown. Unreadable: the read's
// error (nothing was done; a later Run asks again). A provider that is no
// provider.RollbackWitness, or a checkpoint without a baseline, gives nil: the Run
// checks and sends as before (a SWAS resend carries the same token).
func (r *runner) witnessEarlier(ctx context.Context) (*Result, error) {
	w := r.caps.Witness
	ok := w != nil
	cp := r.loaded
	if !ok || cp == nil || cp.Before == nil {
		return nil, nil
	}
	ev, err := w.WitnessRollback(ctx, r.req, cp.Before, cp.Updated)
	if err != nil {
		// The state could not be read: nothing was done, and a later Run
		// asks again (the checkpoint keeps the baseline). The read's own
		// error says whether that is worth retrying.
		return nil, err
	}
	switch ev.Verdict {
	case provider.OursLanded:
		res := &Result{Provider: cp.Before.Provider, RequestID: ev.RequestID, ClientToken: r.req.ClientToken,
			Adopted: true, InstanceID: r.req.InstanceID, DiskID: r.req.DiskID, Before: cp.Before}
		r.rep.Result = res
		r.begin(StepRollback, r.req.DiskID)
		r.end(EventStepSkipped, "an earlier run of this operation already rolled back ("+ev.Detail+"); not resent", res.RequestID)
		return res, r.save(ctx, PhaseRollbackSent, res)
	case provider.NothingLanded:
		// The Run checks and sends as a first one would; the rollback
		// step records what it does.
		return nil, nil
	}
	detail := ev.Detail
	if detail == "" {
		detail = "the state names no rollback that is provably this operation's"
	}
	return nil, &Error{Provider: cp.Before.Provider, Kind: ErrOutcomeUnknown, Ambiguous: true, RequestID: ev.RequestID,
		Message: fmt.Sprintf("an earlier run of this operation may have rolled instance %s back to snapshot %s: %s",
			r.req.InstanceID, r.req.SnapshotID, detail),
		Hint: "check the instance's disk before acting again; nothing was resent"}
}

// operationName names a rollback's operation in plans and reports: a
// client token on SWAS, which sends one; elsewhere (Lighthouse has none on
// the wire) only the operation's name.
func operationName(provider, token string) string {
	if provider == ProviderAliyun {
		return "client token " + token
	}
	return "operation " + token
}
