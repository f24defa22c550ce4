package once

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// What most providers' mutations share, so that each is written once.

// NewEngine returns the Engine of a provider client named name, from its
// resolved options (clock, read grace, logger) and its error mapping.
func NewEngine(name string, o provider.Options, mapError func(op string, err error) error) Engine {
	return Engine{Provider: name, Clock: o.Clock, Grace: o.ReadGrace, MapError: mapError, Logger: o.Logger}
}

// On is the Call of a provider whose call path is provider/invoke: every
// attempt goes through invoke.CallOn with in, a client leased from pool,
// and t for the hooks.
func On[C any](in *invoke.Invoker, pool *sdkhttp.Pool[C], t invoke.Target) Call[C] {
	return func(ctx context.Context, op string, attempt func(context.Context, int, C) (string, error)) (string, int, error) {
		return invoke.CallOn(ctx, in, pool, t, op, attempt)
	}
}

// Baseline is what a rollback's snapshot and instance reported as their
// latest operations before the first attempt. A baseline from a
// checkpoint or a mark has only the snapshot's (HaveInstance false).
type Baseline struct {
	Snapshot, Instance provider.Operation
	HaveInstance       bool
}

// SnapshotRollback is a snapshot's report of its latest rollback.
type SnapshotRollback struct {
	// SnapshotID is the snapshot read.
	SnapshotID string
	// Op is its latest rollback: the zero Operation when its latest
	// operation is not a rollback.
	Op provider.Operation
	// NamesInstance says the cloud reports the instance a rollback acted
	// on (InstanceID); a rollback that does not name ours is then
	// CannotTell.
	NamesInstance bool
	InstanceID    string
}

// Latest is the evidence rule of a cloud whose snapshot reports its latest
// rollback with the request ID that started it (Lighthouse's
// LatestOperation, memprovider, Acme's LastRestore), judged against base
// for the rollback of instanceID:
//
//   - the snapshot's rollback with a request ID other than base's is ours
//     (OursLanded), unless the cloud names the instance it acted on and
//     that is not instanceID (CannotTell);
//   - else, when base has the instance's operation, a rollback on the
//     instance (Kind provider.OpRollback) with a request ID other than
//     base's is someone else's that the snapshot does not name
//     (CannotTell);
//   - else NothingLanded.
//
// snapshot reads the snapshot first; instance is read only when the
// snapshot does not decide, and returned (nil when it was not read) so
// that a pre-resend check need not read it again.
func Latest(ctx context.Context, instanceID string, base Baseline,
	snapshot func(ctx context.Context) (SnapshotRollback, error),
	instance func(ctx context.Context) (*provider.Instance, error)) (provider.Evidence, *provider.Instance, error) {
	sr, err := snapshot(ctx)
	if err != nil {
		return provider.Evidence{}, nil, err
	}
	if lo := sr.Op; lo.RequestID != "" && lo.RequestID != base.Snapshot.RequestID {
		if sr.NamesInstance && sr.InstanceID != instanceID {
			return provider.Evidence{Verdict: provider.CannotTell, RequestID: lo.RequestID,
				Detail: fmt.Sprintf("snapshot %s reports %s %s (request %s) of instance %q, not %s", sr.SnapshotID, lo.Name, lo.NativeState, lo.RequestID, sr.InstanceID, instanceID)}, nil, nil
		}
		return provider.Evidence{Verdict: provider.OursLanded, RequestID: lo.RequestID,
			Detail: fmt.Sprintf("snapshot %s reports %s %s (request %s)", sr.SnapshotID, lo.Name, lo.NativeState, lo.RequestID)}, nil, nil
	}
	in, err := instance(ctx)
	if err != nil {
		return provider.Evidence{}, nil, err
	}
	if lo := in.LatestOperation; base.HaveInstance && lo.Kind == provider.OpRollback && lo.RequestID != "" && lo.RequestID != base.Instance.RequestID {
		return provider.Evidence{Verdict: provider.CannotTell, RequestID: lo.RequestID,
			Detail: fmt.Sprintf("instance %s reports %s %s (request %s), which snapshot %s does not name: another rollback, not this one",
				in.ID, lo.Name, lo.NativeState, lo.RequestID, sr.SnapshotID)}, in, nil
	}
	return provider.Evidence{Verdict: provider.NothingLanded}, in, nil
}

// LatestRollback returns the Witness and the Check of a rollback mutation
// judged by Latest: the witness hands the instance it read to the check
// before the next resend, which reads it (with instance) only when the
// witness did not. check refuses an instance the rollback must not be
// resent to (provider.Preconditions.CheckInstance): it may have been
// started, or become busy, since the last look.
func LatestRollback(instanceID string, base Baseline,
	snapshot func(ctx context.Context) (SnapshotRollback, error),
	instance func(ctx context.Context) (*provider.Instance, error),
	check func(*provider.Instance) error) (Witness, func(ctx context.Context) error) {
	var seen *provider.Instance // the instance as the last witness read it
	w := func(ctx context.Context) (provider.Evidence, error) {
		ev, in, err := Latest(ctx, instanceID, base, snapshot, instance)
		seen = in
		return ev, err
	}
	c := func(ctx context.Context) error {
		in := seen
		seen = nil
		if in == nil {
			var err error
			if in, err = instance(ctx); err != nil {
				return err
			}
		}
		return check(in)
	}
	return w, c
}

// Reached is the Witness of a start or a stop: read reads the instance,
// and the call landed when the instance is in one of states (on its way or
// there: STOPPING or STOPPED for a stop). The evidence carries the request
// ID of the instance's latest operation when that is named op (the
// cloud's name for the call). A start or a stop has no foreign look-alike
// that matters: whoever moved the instance, it is where the call wanted it.
func Reached(read func(ctx context.Context) (*provider.Instance, error), op string, states ...provider.InstanceState) Witness {
	return func(ctx context.Context) (provider.Evidence, error) {
		in, err := read(ctx)
		if err != nil {
			return provider.Evidence{}, err
		}
		if !slices.Contains(states, in.State) {
			return provider.Evidence{Verdict: provider.NothingLanded}, nil
		}
		ev := provider.Evidence{Verdict: provider.OursLanded, Detail: fmt.Sprintf("instance %s is %s", in.ID, in.NativeState)}
		if in.LatestOperation.Name == op {
			ev.RequestID = in.LatestOperation.RequestID
		}
		return ev, nil
	}
}

// NewSnapshot is the Witness of a snapshot's creation, for a cloud whose
// create call takes no client token: list lists the instance's snapshots,
// and one that was not among before (listed before the first attempt) and
// is named name (any name, when name is empty) is the one the call made.
// found, when set, receives it; the evidence carries the request ID of its
// latest operation, when the cloud reports one.
func NewSnapshot(before []*provider.Snapshot, name string, list func(ctx context.Context) ([]*provider.Snapshot, error), found func(*provider.Snapshot)) Witness {
	known := make(map[string]bool, len(before))
	for _, sn := range before {
		known[sn.ID] = true
	}
	return func(ctx context.Context) (provider.Evidence, error) {
		now, err := list(ctx)
		if err != nil {
			return provider.Evidence{}, err
		}
		for _, sn := range now {
			if !known[sn.ID] && (name == "" || sn.Name == name) {
				if found != nil {
					found(sn)
				}
				return provider.Evidence{Verdict: provider.OursLanded, RequestID: sn.LatestOperation.RequestID, Detail: "new snapshot " + sn.ID}, nil
			}
		}
		return provider.Evidence{Verdict: provider.NothingLanded}, nil
	}
}

// Record puts a rollback's outcome in res (Attempts; on success RequestID
// and Adopted) and, when log is not nil, logs its end: "rollback accepted"
// at Info, or "rollback failed" at Warn. It returns res, or nil and err:
// the last lines of a provider's Rollback.
func Record(ctx context.Context, log *slog.Logger, res *provider.Result, out Outcome, err error) (*provider.Result, error) {
	res.Attempts = out.Sent
	if err != nil {
		if log != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "rollback failed", slog.Int("attempts", out.Sent), slog.String("error", err.Error()))
		}
		return nil, err
	}
	res.RequestID, res.Adopted = out.RequestID, out.Adopted
	if log != nil {
		log.LogAttrs(ctx, slog.LevelInfo, "rollback accepted",
			slog.String("request_id", res.RequestID), slog.Int("attempts", res.Attempts), slog.Bool("adopted", res.Adopted))
	}
	return res, nil
}
