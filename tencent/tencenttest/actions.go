package tencenttest

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// handler applies one action. It runs with s.mu held and reports whether it
// changed state.
type handler func(s *Server, region, rid string, p params) (out map[string]any, applied bool, e *apiError)

// actions are the served actions and the parameters each accepts.
var actions = map[string]struct {
	params []string
	fn     handler
}{
	"ApplyInstanceSnapshot":          {[]string{"InstanceId", "SnapshotId"}, (*Server).applyInstanceSnapshot},
	"DescribeInstances":              {[]string{"InstanceIds", "Filters", "Offset", "Limit"}, (*Server).describeInstances},
	"DescribeSnapshots":              {[]string{"SnapshotIds", "Filters", "Offset", "Limit"}, (*Server).describeSnapshots},
	"StopInstances":                  {[]string{"InstanceIds"}, (*Server).stopInstances},
	"StartInstances":                 {[]string{"InstanceIds"}, (*Server).startInstances},
	"CreateInstanceSnapshot":         {[]string{"InstanceId", "SnapshotName"}, (*Server).createInstanceSnapshot},
	"DeleteSnapshots":                {[]string{"SnapshotIds"}, (*Server).deleteSnapshots},
	"DescribeInstancesDeniedActions": {[]string{"InstanceIds"}, (*Server).describeInstancesDeniedActions},
}

func (s *Server) dispatch(action, region, rid string, p params) (map[string]any, bool, *apiError) {
	a := actions[action]
	for _, name := range p.top() {
		known := false
		for _, k := range a.params {
			known = known || k == name
		}
		if !known {
			return nil, false, apiErrf(CodeUnknownParameter, "The parameter `%s` is not recognized by %s.", name, action)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apply(a.fn, region, rid, p)
}

// ID shapes: the prefix and then lower-case letters and digits.
func wellFormed(id, prefix string) bool {
	if !strings.HasPrefix(id, prefix) || len(id) == len(prefix) || len(id) > 64 {
		return false
	}
	for _, c := range id[len(prefix):] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// lookupInstance finds a well-formed instance ID in region.
func (s *Server) lookupInstance(region, id string) (*instance, *apiError) {
	if !wellFormed(id, "lhins-") {
		return nil, apiErrf(CodeInstanceIDMalformed, "Invalid parameter value: the instance ID %q format is invalid.", id)
	}
	in, ok := s.instances[id]
	if !ok || in.region != region {
		return nil, apiErrf(CodeInstanceIDNotFound, "The instance ID %q does not exist in %s.", id, region)
	}
	return in, nil
}

func (s *Server) lookupSnapshot(region, id string) (*snapshot, *apiError) {
	if !wellFormed(id, "lhsnap-") {
		return nil, apiErrf(CodeSnapshotIDMalformed, "Invalid parameter value: the snapshot ID %q format is invalid.", id)
	}
	sn, ok := s.snapshots[id]
	if !ok || sn.region != region {
		return nil, apiErrf(CodeSnapshotIDNotFound, "The snapshot ID %q does not exist in %s.", id, region)
	}
	return sn, nil
}

// instanceIDs reads InstanceIds: required, at most 100, all well-formed and
// existing (checked before anything is applied).
func (s *Server) instanceIDs(region string, p params) ([]*instance, *apiError) {
	ids := p.list("InstanceIds")
	if len(ids) == 0 {
		return nil, apiErrf(CodeMissingParameter, "The request is missing the parameter `InstanceIds`.")
	}
	if len(ids) > 100 {
		return nil, apiErrf(CodeLimitExceeded, "InstanceIds has %d values; the limit is 100.", len(ids))
	}
	out := make([]*instance, 0, len(ids))
	for _, id := range ids {
		in, e := s.lookupInstance(region, id)
		if e != nil {
			return nil, e
		}
		out = append(out, in)
	}
	return out, nil
}

// ready checks that an instance can start a new operation: no operation in
// progress and a state in want.
func (s *Server) ready(in *instance, now time.Time, want ...string) *apiError {
	if in.expired(now) {
		return apiErrf(CodeInstanceExpired, "The instance %s expired at %s and is isolated; renew it first.", in.id, in.expires.UTC().Format(timeFormat))
	}
	state, _ := in.view(now)
	if in.busy(now) {
		switch state {
		case StatePending:
			return apiErrf(CodeInstanceCreating, "The instance %s is being created.", in.id)
		case StateStarting, StateStopping, StateRebooting:
			return apiErrf(CodeInstanceOperationInProgress, "The instance %s is %s; its last operation %s is still in progress.", in.id, state, in.op.name)
		}
		return apiErrf(CodeLatestOperationUnfinished, "The last operation %s of the instance %s has not been completed.", in.op.name, in.id)
	}
	for _, w := range want {
		if state == w {
			return nil
		}
	}
	if state == StatePending {
		return apiErrf(CodeInstanceCreating, "The instance %s is being created.", in.id)
	}
	return apiErrf(CodeInvalidInstanceState, "The instance %s is %s; this operation needs %s.", in.id, state, strings.Join(want, " or "))
}

func (s *Server) applyInstanceSnapshot(region, rid string, p params) (map[string]any, bool, *apiError) {
	iid, sid := p["InstanceId"], p["SnapshotId"]
	if iid == "" {
		return nil, false, apiErrf(CodeMissingParameter, "The request is missing the parameter `InstanceId`.")
	}
	if sid == "" {
		return nil, false, apiErrf(CodeMissingParameter, "The request is missing the parameter `SnapshotId`.")
	}
	if !wellFormed(iid, "lhins-") {
		return nil, false, apiErrf(CodeInstanceIDMalformed, "Invalid parameter value: the instance ID %q format is invalid.", iid)
	}
	if !wellFormed(sid, "lhsnap-") {
		return nil, false, apiErrf(CodeSnapshotIDMalformed, "Invalid parameter value: the snapshot ID %q format is invalid.", sid)
	}
	in, e := s.lookupInstance(region, iid)
	if e != nil {
		return nil, false, e
	}
	sn, e := s.lookupSnapshot(region, sid)
	if e != nil {
		return nil, false, e
	}
	now := s.clk.Now()
	if e := s.ready(in, now, StateStopped, StateRunning); e != nil {
		return nil, false, e
	}
	if e := snapshotUsable(sn, now, "a rollback"); e != nil {
		return nil, false, e
	}
	if sn.instanceID != in.id {
		// The cloud rolls back only to the instance's own system disk: a
		// snapshot of another instance is not found for this one.
		return nil, false, apiErrf(CodeSnapshotNotFound, "The snapshot %s was not taken from the system disk %s of the instance %s.", sn.id, in.diskID, in.id)
	}
	if sn.diskID != in.diskID {
		// A snapshot of this instance, of a disk it no longer has (its
		// image was reinstalled): the original disk is gone.
		return nil, false, apiErrf(CodeDiskNotFound, "The disk %s of the snapshot %s is no longer the system disk of the instance %s (it is now %s); only the original disk can be rolled back.", sn.diskID, sn.id, in.id, in.diskID)
	}
	if now.Before(in.diskOpUntil) {
		return nil, false, apiErrf(CodeDiskLatestOperationUnfinished, "The last operation %s of the disk %s has not been completed.", in.diskOp, in.diskID)
	}
	for _, other := range s.snapshots {
		if state, _ := other.view(now); other.diskID == in.diskID && state == SnapshotCreating {
			return nil, false, apiErrf(CodeDiskBusy, "The disk %s is busy: the snapshot %s of it is being created.", in.diskID, other.id)
		}
	}
	if s.maxRollbacks > 0 && s.rollbacksInProgress(region, now) >= s.maxRollbacks {
		return nil, false, apiErrf(CodeSystemBusy, "System busy: %d rollbacks are in progress in %s; retry later.", s.maxRollbacks, region)
	}
	if sn.diskSize != in.diskSize {
		return nil, false, apiErrf(CodeDiskSizeNotMatch, "The disk size has changed: the snapshot %s is of %d GB, the disk %s is now %d GB.", sn.id, sn.diskSize, in.diskID, in.diskSize)
	}

	state, _ := in.view(now)
	start := now
	var phases []phase
	if state == StateRunning {
		// A running instance is forced off first.
		now = now.Add(s.dur.Stop)
		phases = append(phases, phase{until: now, state: StateStopping})
	}
	end := now.Add(s.dur.Rollback)
	failed := s.failRollbacks > 0
	if failed {
		s.failRollbacks--
	}
	in.begin(OpApplyInstanceSnapshot, rid, start, end, phases, StateStopped, failed)
	sn.begin(OpRollbackInstanceSnapshot, rid, start, end, []phase{{until: end, state: SnapshotRollbacking}}, SnapshotNormal, failed)
	sn.percent = 100
	s.rollbacks++
	s.rollbacksOf[in.id]++
	return map[string]any{}, true, nil
}

func (s *Server) stopInstances(region, rid string, p params) (map[string]any, bool, *apiError) {
	return s.startStop(region, rid, p, StateRunning, StateStopping, StateStopped, OpStopInstances, s.dur.Stop)
}

func (s *Server) startInstances(region, rid string, p params) (map[string]any, bool, *apiError) {
	return s.startStop(region, rid, p, StateStopped, StateStarting, StateRunning, OpStartInstances, s.dur.Start)
}

func (s *Server) startStop(region, rid string, p params, from, via, to, op string, d time.Duration) (map[string]any, bool, *apiError) {
	ins, e := s.instanceIDs(region, p)
	if e != nil {
		return nil, false, e
	}
	now := s.clk.Now()
	for _, in := range ins {
		if e := s.ready(in, now, from); e != nil {
			return nil, false, e
		}
	}
	for _, in := range ins {
		in.begin(op, rid, now, now.Add(d), []phase{{until: now.Add(d), state: via}}, to, false)
	}
	return map[string]any{}, true, nil
}

func (s *Server) createInstanceSnapshot(region, rid string, p params) (map[string]any, bool, *apiError) {
	iid := p["InstanceId"]
	if iid == "" {
		return nil, false, apiErrf(CodeMissingParameter, "The request is missing the parameter `InstanceId`.")
	}
	name := p["SnapshotName"]
	if n := utf8.RuneCountInString(name); n > 60 {
		return nil, false, apiErrf(CodeSnapshotNameTooLong, "The snapshot name is %d characters long; the limit is 60.", n)
	}
	in, e := s.lookupInstance(region, iid)
	if e != nil {
		return nil, false, e
	}
	now := s.clk.Now()
	if e := s.ready(in, now, StateRunning, StateStopped); e != nil {
		return nil, false, e
	}
	if s.snapQuota > 0 {
		n := 0
		for _, sn := range s.snapshots {
			if sn.diskID == in.diskID {
				n++
			}
		}
		if n >= s.snapQuota {
			return nil, false, apiErrf(CodeSnapshotQuotaLimitExceeded, "The instance %s already has %d snapshots; the quota is %d.", in.id, n, s.snapQuota)
		}
	}
	end := now.Add(s.dur.CreateSnapshot)
	sn := s.newSnapshot(region, in, name, now)
	s.snapshots[sn.id] = sn
	sn.state = SnapshotNormal
	sn.begin(OpCreateInstanceSnapshot, rid, now, end, []phase{{until: end, state: SnapshotCreating}}, SnapshotNormal, false)
	// The instance is busy while its disk is copied.
	in.begin(OpCreateInstanceSnapshot, rid, now, end, nil, "", false)
	return map[string]any{"SnapshotId": sn.id}, true, nil
}

func (s *Server) deleteSnapshots(region, rid string, p params) (map[string]any, bool, *apiError) {
	ids := p.list("SnapshotIds")
	if len(ids) == 0 {
		return nil, false, apiErrf(CodeMissingParameter, "The request is missing the parameter `SnapshotIds`.")
	}
	if len(ids) > 100 {
		return nil, false, apiErrf(CodeLimitExceeded, "SnapshotIds has %d values; the limit is 100.", len(ids))
	}
	now := s.clk.Now()
	var del []*snapshot
	for _, id := range ids {
		sn, e := s.lookupSnapshot(region, id)
		if e != nil {
			return nil, false, e
		}
		if state, _ := sn.view(now); state == SnapshotRollbacking {
			return nil, false, apiErrf(CodeSnapshotBusy, "The snapshot %s is busy: a rollback with it is in progress.", sn.id)
		} else if state != SnapshotNormal {
			return nil, false, apiErrf(CodeInvalidSnapshotState, "The snapshot %s is %s; deleting needs NORMAL.", sn.id, state)
		}
		del = append(del, sn)
	}
	for _, sn := range del {
		delete(s.snapshots, sn.id)
	}
	return map[string]any{}, true, nil
}

func (s *Server) describeInstances(region, rid string, p params) (map[string]any, bool, *apiError) {
	ids := p.list("InstanceIds")
	fs, e := p.filters("instance-name", "private-ip-address", "public-ip-address")
	if e != nil {
		return nil, false, e
	}
	if len(ids) > 0 && len(fs) > 0 {
		return nil, false, apiErr(CodeInvalidParameterConflict)
	}
	if len(ids) > 100 {
		return nil, false, apiErrf(CodeLimitExceeded, "InstanceIds has %d values; the limit is 100.", len(ids))
	}
	for _, id := range ids {
		if !wellFormed(id, "lhins-") {
			return nil, false, apiErrf(CodeInstanceIDMalformed, "Invalid parameter value: the instance ID %q format is invalid.", id)
		}
	}
	offset, limit, e := p.page()
	if e != nil {
		return nil, false, e
	}
	want := set(ids)
	var match []*instance
	for _, in := range s.instances {
		if in.region != region || (len(want) > 0 && !want[in.id]) {
			continue
		}
		if !matchAll(fs, map[string]string{"instance-name": in.name, "private-ip-address": in.privateIP, "public-ip-address": in.publicIP}) {
			continue
		}
		match = append(match, in)
	}
	sort.Slice(match, func(i, j int) bool { return match[i].seq < match[j].seq })
	now := s.clk.Now()
	set := []any{}
	for _, in := range window(match, offset, limit) {
		set = append(set, in.json(now))
	}
	return map[string]any{"TotalCount": len(match), "InstanceSet": set}, false, nil
}

func (s *Server) describeSnapshots(region, rid string, p params) (map[string]any, bool, *apiError) {
	ids := p.list("SnapshotIds")
	fs, e := p.filters("snapshot-id", "disk-id", "instance-id", "snapshot-name")
	if e != nil {
		return nil, false, e
	}
	if len(ids) > 0 && len(fs) > 0 {
		return nil, false, apiErr(CodeInvalidParameterConflict)
	}
	if len(ids) > 100 {
		return nil, false, apiErrf(CodeLimitExceeded, "SnapshotIds has %d values; the limit is 100.", len(ids))
	}
	for _, id := range ids {
		if !wellFormed(id, "lhsnap-") {
			return nil, false, apiErrf(CodeSnapshotIDMalformed, "Invalid parameter value: the snapshot ID %q format is invalid.", id)
		}
	}
	offset, limit, e := p.page()
	if e != nil {
		return nil, false, e
	}
	want := set(ids)
	var match []*snapshot
	for _, sn := range s.snapshots {
		if sn.region != region || (len(want) > 0 && !want[sn.id]) {
			continue
		}
		if !matchAll(fs, map[string]string{"snapshot-id": sn.id, "disk-id": sn.diskID, "instance-id": sn.instanceID, "snapshot-name": sn.name}) {
			continue
		}
		match = append(match, sn)
	}
	sort.Slice(match, func(i, j int) bool { return match[i].seq < match[j].seq })
	now := s.clk.Now()
	out := []any{}
	for _, sn := range window(match, offset, limit) {
		out = append(out, sn.json(now))
	}
	return map[string]any{"TotalCount": len(match), "SnapshotSet": out}, false, nil
}

// describeInstancesDeniedActions reports, per instance, the actions its
// current state forbids (only those this emulator knows).
func (s *Server) describeInstancesDeniedActions(region, rid string, p params) (map[string]any, bool, *apiError) {
	ins, e := s.instanceIDs(region, p)
	if e != nil {
		return nil, false, e
	}
	now := s.clk.Now()
	out := []any{}
	for _, in := range ins {
		denied := []any{}
		for _, a := range []struct {
			action string
			want   []string
		}{
			{"StartInstances", []string{StateStopped}},
			{"StopInstances", []string{StateRunning}},
			{"CreateInstanceSnapshot", []string{StateRunning, StateStopped}},
			{"ApplyInstanceSnapshot", []string{StateRunning, StateStopped}},
		} {
			if e := s.ready(in, now, a.want...); e != nil {
				denied = append(denied, map[string]string{"Action": a.action, "Code": e.Code, "Message": message(e.Code, e.Detail, "en-US")})
			}
		}
		out = append(out, map[string]any{"InstanceId": in.id, "DeniedActions": denied})
	}
	return map[string]any{"InstanceDeniedActionSet": out}, false, nil
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// matchAll reports whether fields satisfy every filter (values of one filter
// are alternatives).
func matchAll(fs []filter, fields map[string]string) bool {
	for _, f := range fs {
		ok := false
		for _, v := range f.Values {
			ok = ok || fields[f.Name] == v
		}
		if !ok {
			return false
		}
	}
	return true
}

func window[T any](xs []T, offset, limit int) []T {
	if offset >= len(xs) {
		return nil
	}
	xs = xs[offset:]
	if len(xs) > limit {
		xs = xs[:limit]
	}
	return xs
}

// snapshotUsable checks that a snapshot can be used for what: NORMAL, not
// busy with a rollback, and not left broken by a failed creation.
func snapshotUsable(sn *snapshot, now time.Time, what string) *apiError {
	state, op := sn.view(now)
	switch {
	case state == SnapshotRollbacking:
		return apiErrf(CodeSnapshotBusy, "The snapshot %s is busy: a rollback with it is in progress.", sn.id)
	case state != SnapshotNormal:
		return apiErrf(CodeInvalidSnapshotState, "The snapshot %s is %s; %s needs NORMAL.", sn.id, state, what)
	case op.name == OpCreateInstanceSnapshot && op.state == OperationFailed:
		return apiErrf(CodeSnapshotOperationFailed, "The snapshot %s cannot be used: its creation failed.", sn.id)
	}
	return nil
}

// rollbacksInProgress counts the rollbacks running in region.
func (s *Server) rollbacksInProgress(region string, now time.Time) int {
	n := 0
	for _, in := range s.instances {
		if _, op := in.view(now); in.region == region && op.name == OpApplyInstanceSnapshot && op.state == OperationOperating {
			n++
		}
	}
	return n
}
