package memprovider

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/invoke"
	"github.com/cloudsnap/rollback/provider/once"
)

// The client half: what the cloud clients do over HTTP, done over serve.
// Every call goes through the library's own call path (provider/invoke:
// rate limit, retries and the retry budget, hooks, logs), and every
// mutating call through the exactly-once engine (provider/once) with this
// provider's evidence, so a user's test sees the library behave as it
// does against a cloud.

// rules are the provider's ID formats, checked before anything is sent.
var rules = provider.RequestRules{
	Provider: Name,
	Instance: provider.IDRule{Prefix: "ins-", Kind: "an instance ID (ins-...)"},
	Disk:     provider.IDRule{Prefix: "disk-", Kind: "a disk ID (disk-...)"},
	Snapshot: provider.IDRule{Prefix: "snap-", Kind: "a snapshot ID (snap-...)", Required: true},
}

// resolve returns a call's region: "" is the default region, except in a
// Request, which must name its own (rollback.Run's rule).
func (p *Provider) resolve(region string) string {
	if region == "" {
		return p.region
	}
	return region
}

// call runs a call that is safe to retry as it is (a read, a mark)
// through the call path.
func (p *Provider) call(ctx context.Context, t invoke.Target, action string, h handler) error {
	_, _, err := invoke.CallOn(ctx, p.inv, &p.pool, t, action, func(ctx context.Context, _ int, _ struct{}) (string, error) {
		return p.serve(ctx, action, t, h)
	})
	return err
}

// Instance reads an instance (rollback.Inspector).
func (p *Provider) Instance(ctx context.Context, region, instanceID string) (*provider.Instance, error) {
	return readOne(ctx, p, region, instanceID, p.instanceReader, rules.CheckInstance, CodeInstanceNotFound, ActionDescribeInstances)
}

// Instances reads many instances with one call per MaxBatch IDs
// (provider.BatchInspector); missing ones are absent from the result.
func (p *Provider) Instances(ctx context.Context, region string, ids []string) ([]*provider.Instance, error) {
	region = p.resolve(region)
	return p.instanceReader(region).Many(ctx, ids, func(id string) error { return rules.CheckInstance(ActionDescribeInstances, region, id) })
}

func (p *Provider) instanceReader(region string) provider.BatchReader[*provider.Instance] {
	return reader(p, region, ActionDescribeInstances, func(in *provider.Instance) string { return in.ID },
		func(t *invoke.Target, id string) { t.InstanceID = id },
		func(now time.Time, id string) (*provider.Instance, bool) {
			in, ok := p.instances[id]
			if !ok || in.region != region {
				return nil, false
			}
			return in.normalize(in.shown(now)), true
		})
}

// Snapshot reads a snapshot (rollback.Inspector).
func (p *Provider) Snapshot(ctx context.Context, region, snapshotID string) (*provider.Snapshot, error) {
	return readOne(ctx, p, region, snapshotID, p.snapshotReader, rules.CheckSnapshot, CodeSnapshotNotFound, ActionDescribeSnapshots)
}

// Snapshots reads many snapshots with one call per MaxBatch IDs
// (provider.BatchSnapshotInspector); missing ones are absent.
func (p *Provider) Snapshots(ctx context.Context, region string, ids []string) ([]*provider.Snapshot, error) {
	region = p.resolve(region)
	return p.snapshotReader(region).Many(ctx, ids, func(id string) error { return rules.CheckSnapshot(ActionDescribeSnapshots, region, id) })
}

func (p *Provider) snapshotReader(region string) provider.BatchReader[*provider.Snapshot] {
	return reader(p, region, ActionDescribeSnapshots, func(sn *provider.Snapshot) string { return sn.ID },
		func(t *invoke.Target, id string) { t.SnapshotID = id },
		func(now time.Time, id string) (*provider.Snapshot, bool) {
			sn, ok := p.snapshots[id]
			if !ok || sn.region != region {
				return nil, false
			}
			return sn.normalize(sn.shown(now)), true
		})
}

// readOne checks id and reads it through its batched read; missing is
// code.
func readOne[T any](ctx context.Context, p *Provider, region, id string, r func(region string) provider.BatchReader[T],
	check func(op, region, id string) error, code, action string) (T, error) {
	region = p.resolve(region)
	if err := check(action, region, id); err != nil {
		var zero T
		return zero, err
	}
	return r(region).One(ctx, id, func(string) error {
		return p.mapError(action, errf(code, "%s does not exist in %s", id, region))
	})
}

// reader reads resources of region with one call of action per MaxBatch
// IDs; read renders one resource (p.mu held) or reports it absent.
func reader[T any](p *Provider, region, action string, idOf func(T) string, name func(*invoke.Target, string),
	read func(now time.Time, id string) (T, bool)) provider.BatchReader[T] {
	return provider.BatchReader[T]{Max: MaxBatch, ID: idOf,
		Read: func(ctx context.Context, chunk []string) ([]T, string, error) {
			t := invoke.Target{Region: region}
			name(&t, invoke.One(chunk))
			var got []T
			err := p.call(ctx, t, action, func(now time.Time, _ string) (bool, *cloudError) {
				got = got[:0] // a retried attempt reads afresh
				for _, id := range chunk {
					if v, ok := read(now, id); ok {
						got = append(got, v)
					}
				}
				return false, nil
			})
			return got, "", err
		}}
}

// snapshotsOfInstance lists an instance's snapshots (one call).
func (p *Provider) snapshotsOfInstance(ctx context.Context, region, instanceID string) ([]*provider.Snapshot, error) {
	var got []*provider.Snapshot
	err := p.call(ctx, invoke.Target{Region: region, InstanceID: instanceID}, ActionDescribeSnapshots, func(now time.Time, _ string) (bool, *cloudError) {
		got = got[:0]
		in, e := p.lookupInstance(region, instanceID)
		if e != nil {
			return false, e
		}
		for _, sn := range p.snapshotsOf(in) {
			got = append(got, sn.normalize(sn.shown(now)))
		}
		return false, nil
	})
	return got, err
}

// Disk reads an instance's system disk (provider.DiskInspector).
func (p *Provider) Disk(ctx context.Context, region, diskID string) (*provider.Disk, error) {
	region = p.resolve(region)
	if err := rules.CheckDisk(ActionDescribeDisks, region, diskID); err != nil {
		return nil, err
	}
	var d *provider.Disk
	err := p.call(ctx, invoke.Target{Region: region, DiskID: diskID}, ActionDescribeDisks, func(now time.Time, _ string) (bool, *cloudError) {
		in, e := p.lookupDisk(region, diskID)
		if e != nil {
			return false, e
		}
		f := in.shown(now)
		d = &provider.Disk{Provider: Name, Region: region, ID: diskID, InstanceID: in.id, System: true,
			NativeState: "InUse", SizeGB: in.diskSize}
		if f.state == StateRollingBack {
			d.NativeState, d.Busy = "ReIniting", true
		}
		return false, nil
	})
	return d, err
}

// mutation is one state-changing call made exactly once.
type mutation struct {
	action  string
	target  invoke.Target
	apply   handler
	witness once.Witness
	check   func(ctx context.Context) error
	what    func() string
	// token: the call carries a client token the provider deduplicates.
	token string
}

func (p *Provider) once(ctx context.Context, m mutation) (once.Outcome, error) {
	return once.Do(ctx, once.NewEngine(Name, p.opts, p.mapError),
		once.On(p.inv, &p.pool, m.target), once.Mutation[struct{}]{
			Op: m.action,
			Send: func(ctx context.Context, _ struct{}) (string, error) {
				rid, err := p.serve(ctx, m.action, m.target, m.apply)
				if err == nil && m.token != "" {
					// A resent token is answered with the first call's ID.
					p.mu.Lock()
					if first, ok := p.tokens[m.token]; ok {
						rid = first
					}
					p.mu.Unlock()
				}
				return rid, err
			},
			Deduplicated: m.token != "",
			Witness:      m.witness,
			Check:        m.check,
			What:         m.what,
			HowToCheck: func() string {
				return "read the instance and the snapshot: a latest operation with a request ID the call did not see before means it was applied"
			},
		})
}

// StopInstance asks the provider to stop a running instance and returns
// once the request is accepted. After an ambiguous failure it resends only
// when the instance is neither stopping nor stopped.
func (p *Provider) StopInstance(ctx context.Context, region, instanceID string) error {
	return p.startStop(ctx, ActionStopInstance, region, instanceID, OpStop, StateRunning, StateStopping, StateStopped, p.dur.Stop)
}

// StartInstance asks the provider to start a stopped instance; see
// StopInstance.
func (p *Provider) StartInstance(ctx context.Context, region, instanceID string) error {
	return p.startStop(ctx, ActionStartInstance, region, instanceID, OpStart, StateStopped, StateStarting, StateRunning, p.dur.Start)
}

func (p *Provider) startStop(ctx context.Context, action, region, id, name, from, via, to string, d time.Duration) error {
	region = p.resolve(region)
	if err := rules.CheckInstance(action, region, id); err != nil {
		return err
	}
	_, err := p.once(ctx, mutation{
		action: action, target: invoke.Target{Region: region, InstanceID: id},
		apply: func(now time.Time, rid string) (bool, *cloudError) {
			in, e := p.lookupInstance(region, id)
			if e != nil {
				return false, e
			}
			return p.applyStartStop(in, now, rid, name, from, via, to, d)
		},
		witness: once.Reached(func(ctx context.Context) (*provider.Instance, error) { return p.Instance(ctx, region, id) },
			name, instanceStates[via], instanceStates[to]),
		what: func() string { return fmt.Sprintf("%s of %s", action, id) },
	})
	return err
}

// CreateSnapshot starts a snapshot of the instance's system disk (diskID
// may be empty; when set it must be that disk) and returns it, still
// creating. After an ambiguous failure, a new snapshot of the instance
// with this name is taken for the lost call's rather than created twice.
func (p *Provider) CreateSnapshot(ctx context.Context, region, instanceID, diskID, name string) (*provider.Snapshot, error) {
	region = p.resolve(region)
	if err := rules.Check(ActionCreateSnapshot, provider.Request{Region: region, InstanceID: instanceID, DiskID: diskID, SnapshotID: "snap-unused"}); err != nil {
		return nil, err
	}
	if instanceID == "" {
		return nil, provider.InvalidArgument(Name, ActionCreateSnapshot, "InstanceID", "is empty")
	}
	if err := provider.CheckName("SnapshotName", name, 128); err != nil {
		if e, ok := err.(*provider.Error); ok {
			e.Provider, e.Op = Name, ActionCreateSnapshot
		}
		return nil, err
	}
	before, err := p.snapshotsOfInstance(ctx, region, instanceID)
	if err != nil {
		return nil, err
	}
	var snapID string
	_, err = p.once(ctx, mutation{
		action: ActionCreateSnapshot, target: invoke.Target{Region: region, InstanceID: instanceID, DiskID: diskID},
		apply: func(now time.Time, rid string) (bool, *cloudError) {
			in, e := p.lookupInstance(region, instanceID)
			if e != nil {
				return false, e
			}
			if diskID != "" && diskID != in.diskID {
				return false, errf(CodeInvalidParameter, "disk %s is not the system disk %s of instance %s", diskID, in.diskID, in.id)
			}
			sn, e := p.applyCreateSnapshot(in, name, now, rid)
			if e != nil {
				return false, e
			}
			snapID = sn.id
			return true, nil
		},
		witness: once.NewSnapshot(before, name, func(ctx context.Context) ([]*provider.Snapshot, error) {
			return p.snapshotsOfInstance(ctx, region, instanceID)
		}, func(sn *provider.Snapshot) { snapID = sn.ID }),
		what: func() string { return "snapshot of " + instanceID },
	})
	if err != nil {
		return nil, err
	}
	return p.Snapshot(ctx, region, snapID)
}

// ValidateRequest checks req without calling anything
// (provider.RequestValidator): a served region, the ID formats, and an
// instance or a disk.
func (p *Provider) ValidateRequest(req provider.Request) error {
	if err := rules.Check(ActionRollback, req); err != nil {
		return err
	}
	if req.InstanceID == "" && req.DiskID == "" {
		return provider.InvalidArgument(Name, ActionRollback, "InstanceID", "and DiskID are both empty; name the instance or its disk")
	}
	p.mu.Lock()
	served := p.regions[req.Region]
	list := p.regionList()
	p.mu.Unlock()
	if !served {
		return provider.InvalidArgument(Name, ActionRollback, "Region", "%q is not served (served: %v)", req.Region, list)
	}
	return nil
}

// Rollback rolls the instance's system disk back to the snapshot, exactly
// once. It reads the snapshot and the instance first (the snapshot must be
// ready and of the instance's disk, the instance stopped and idle;
// nothing is sent otherwise) and keeps their latest operations as the
// baseline. After an attempt whose outcome is unknown it resends only on
// evidence that nothing landed, read at least the read grace later; a
// rollback operation on the snapshot with a new request ID is this call's
// (Result.Adopted).
func (p *Provider) Rollback(ctx context.Context, req provider.Request) (*provider.Result, error) {
	return p.RollbackWithPreflight(ctx, req, provider.Preflight{})
}

// RollbackWithPreflight is Rollback with the state its caller has just
// read (provider.PreflightRoller).
func (p *Provider) RollbackWithPreflight(ctx context.Context, req provider.Request, pf provider.Preflight) (*provider.Result, error) {
	if err := p.ValidateRequest(req); err != nil {
		return nil, err
	}
	token, err := provider.ResolveToken(req)
	if err != nil {
		return nil, err
	}
	pre := provider.Preconditions{Provider: Name, Op: ActionRollback,
		RunningHint: "stop it first (rollback.Run can, with RunOptions.StopIfRunning)"}
	snap := pf.Snapshot
	if snap == nil || snap.ID != req.SnapshotID {
		if snap, err = p.Snapshot(ctx, req.Region, req.SnapshotID); err != nil {
			return nil, err
		}
	}
	if req.InstanceID == "" {
		d, err := p.Disk(ctx, req.Region, req.DiskID)
		if err != nil {
			return nil, err
		}
		req.InstanceID = d.InstanceID
	}
	inst := pf.Instance
	if inst == nil || inst.ID != req.InstanceID {
		if inst, err = p.Instance(ctx, req.Region, req.InstanceID); err != nil {
			return nil, err
		}
	}
	if req.DiskID != "" && req.DiskID != inst.SystemDiskID {
		return nil, provider.InvalidArgument(Name, ActionRollback, "DiskID", "%s is not the system disk %s of instance %s", req.DiskID, inst.SystemDiskID, inst.ID)
	}
	if err := pre.CheckSnapshot(snap, inst.SystemDiskID, inst.ID); err != nil {
		return nil, err
	}
	if err := pre.CheckInstance(inst); err != nil {
		return nil, err
	}
	res := &provider.Result{Provider: Name, ClientToken: token, InstanceID: inst.ID, DiskID: inst.SystemDiskID,
		Before: snap, SentAt: p.opts.Clock.Now()}
	base := once.Baseline{Snapshot: snap.LatestOperation, Instance: inst.LatestOperation, HaveInstance: true}
	// Before every resend: someone may have started the instance.
	witness, check := p.rollbackEvidence(req.Region, res.InstanceID, req.SnapshotID, base, pre.CheckInstance)
	p.mu.Lock()
	dedup := p.tokens != nil
	p.mu.Unlock()
	m := mutation{
		action: ActionRollback, target: invoke.Target{Region: req.Region, InstanceID: inst.ID, DiskID: inst.SystemDiskID, SnapshotID: req.SnapshotID},
		apply: func(now time.Time, rid string) (bool, *cloudError) {
			if _, ok := p.tokens[token]; ok && dedup {
				return false, nil // applied before: answered, not applied again
			}
			in, e := p.lookupInstance(req.Region, res.InstanceID)
			if e != nil {
				return false, e
			}
			sn, e := p.lookupSnapshot(req.Region, req.SnapshotID)
			if e != nil {
				return false, e
			}
			applied, e := p.applyRollback(in, sn, now, rid)
			if applied && dedup {
				p.tokens[token] = rid // remembered once it changed state
			}
			return applied, e
		},
		witness: witness,
		check:   check,
		what:    func() string { return fmt.Sprintf("rollback of %s to %s", res.InstanceID, req.SnapshotID) },
	}
	if dedup {
		// The provider applies the token once: a resend needs neither
		// proof nor a new check (the instance is busy with our own
		// rollback, if it landed).
		m.token, m.check = token, nil
	}
	out, err := p.once(ctx, m)
	return once.Record(ctx, nil, res, out, err)
}

// rollbackEvidence is a rollback's evidence (once.Latest): a rollback
// operation on the snapshot with a request ID the baseline did not have
// is ours; a rollback on the instance that the snapshot does not name,
// newer than the baseline, is someone else's (CannotTell). check refuses
// an instance before a resend.
func (p *Provider) rollbackEvidence(region, instanceID, snapshotID string, base once.Baseline, check func(*provider.Instance) error) (once.Witness, func(context.Context) error) {
	return once.LatestRollback(instanceID, base,
		func(ctx context.Context) (once.SnapshotRollback, error) {
			snap, err := p.Snapshot(ctx, region, snapshotID)
			if err != nil {
				return once.SnapshotRollback{}, err
			}
			sr := once.SnapshotRollback{SnapshotID: snap.ID}
			if snap.LatestOperation.Name == OpRollback {
				sr.Op = snap.LatestOperation
			}
			return sr, nil
		},
		func(ctx context.Context) (*provider.Instance, error) { return p.Instance(ctx, region, instanceID) },
		check)
}

// WitnessRollback implements provider.RollbackWitness with the same
// evidence as Rollback's, read at least the read grace after since.
func (p *Provider) WitnessRollback(ctx context.Context, req provider.Request, before *provider.Snapshot, since time.Time) (provider.Evidence, error) {
	if err := p.ValidateRequest(req); err != nil {
		return provider.Evidence{}, err
	}
	if before == nil || before.ID != req.SnapshotID {
		return provider.Evidence{}, provider.InvalidArgument(Name, ActionRollback, "before", "must be snapshot %s as read before the first rollback call", req.SnapshotID)
	}
	instanceID := req.InstanceID
	if instanceID == "" {
		instanceID = before.InstanceID
	}
	witness, _ := p.rollbackEvidence(req.Region, instanceID, req.SnapshotID, once.Baseline{Snapshot: before.LatestOperation}, nil)
	return once.Prove(ctx, p.opts.Clock, p.opts.ReadGrace, since, witness)
}

// MarkOperation implements provider.OperationMarker: it records the key's
// mark, with the baseline, on the instance (tags on a real cloud). An
// instance keeps the newest MaxMarks marks.
func (p *Provider) MarkOperation(ctx context.Context, req provider.Request, key string, before *provider.Snapshot) error {
	region := p.resolve(req.Region)
	if before == nil {
		return provider.InvalidArgument(Name, ActionMark, "before", "is nil")
	}
	name := provider.MarkName(key)
	at := p.opts.Clock.Now()
	b := *before
	// Marking is idempotent: plain retries are safe.
	return p.call(ctx, invoke.Target{Region: region, InstanceID: req.InstanceID, DiskID: req.DiskID}, ActionMark, func(now time.Time, _ string) (bool, *cloudError) {
		in, e := p.markTarget(region, req)
		if e != nil {
			return false, e
		}
		if in.marks == nil {
			in.marks = map[string]markRecord{}
		}
		if _, ok := in.marks[name]; !ok {
			in.markOrder = append(in.markOrder, name)
		}
		in.marks[name] = markRecord{before: b, at: at}
		for len(in.markOrder) > MaxMarks {
			delete(in.marks, in.markOrder[0])
			in.markOrder = in.markOrder[1:]
		}
		return true, nil
	})
}

// OperationMark implements provider.OperationMarker.
func (p *Provider) OperationMark(ctx context.Context, req provider.Request, key string) (*provider.Mark, error) {
	region := p.resolve(req.Region)
	name := provider.MarkName(key)
	var m *provider.Mark
	err := p.call(ctx, invoke.Target{Region: region, InstanceID: req.InstanceID, DiskID: req.DiskID}, ActionReadMark, func(time.Time, string) (bool, *cloudError) {
		in, e := p.markTarget(region, req)
		if e != nil {
			return false, e
		}
		if r, ok := in.marks[name]; ok {
			b := r.before
			m = &provider.Mark{Before: &b, At: r.at}
		}
		return false, nil
	})
	return m, err
}

// markTarget is the instance a request's marks live on (p.mu held).
func (p *Provider) markTarget(region string, req provider.Request) (*instance, *cloudError) {
	if req.InstanceID != "" {
		return p.lookupInstance(region, req.InstanceID)
	}
	return p.lookupDisk(region, req.DiskID)
}
