package acmetest

import (
	"fmt"
	"strings"
	"time"

	"example.com/acmecloud/acme"
)

// Server states and the rest of the API's words are package acme's
// constants.

// operation is a resource's last operation.
type operation struct {
	action, state, requestID string
	started                  time.Time
}

// activity is an operation in progress. State is never changed by a
// goroutine: every call settles the activities whose end has passed on the
// clock, so the clock can be virtual.
type activity struct {
	end      time.Time
	final    string // the server's state afterwards
	failed   bool
	snapshot string // a restore's snapshot
	// lag is the read lag in effect when the operation began: its end is
	// shown to reads this much later.
	lag time.Duration
}

type server struct {
	id, name, region, diskID string
	state                    string
	last                     *operation
	act                      *activity
	lag                      *view
}

// view is what reads show of a resource while a change is not visible
// yet (SetReadLag): its reply as it was before the change, until then.
type view struct {
	until time.Time
	json  map[string]any
}

// changing records, before a resource changes at at, what reads show
// until the change becomes visible. A view still shown stays (reads then
// lag the later change too, a little longer than the lag).
func (s *Server) changing(v **view, at time.Time, lag time.Duration, current func() map[string]any) {
	if lag <= 0 {
		return
	}
	until := at.Add(lag)
	if *v != nil && s.clk.Now().Before((*v).until) {
		(*v).until = until
		return
	}
	if until.After(s.clk.Now()) {
		*v = &view{until: until, json: current()}
	}
}

// shown returns what a read shows now: the lagged view, or current.
func (s *Server) shown(v *view, current func() map[string]any) map[string]any {
	if v != nil && s.clk.Now().Before(v.until) {
		return v.json
	}
	return current()
}

type restore struct {
	requestID, serverID, state string
	at                         time.Time
}

type snapshot struct {
	id, name, region, serverID, diskID string
	state                              string
	created, ready                     time.Time // creation start and end
	startProgress                      int
	last                               *restore
	lag                                *view
}

// settle ends every operation whose time has come. Called under mu.
func (s *Server) settle() {
	now := s.clk.Now()
	for _, sv := range s.servers {
		a := sv.act
		if a == nil || now.Before(a.end) {
			continue
		}
		s.changing(&sv.lag, a.end, a.lag, sv.json)
		if sn := s.snaps[a.snapshot]; sn != nil {
			s.changing(&sn.lag, a.end, a.lag, func() map[string]any { return sn.json(a.end) })
		}
		sv.act = nil
		sv.state = a.final
		result := acme.OperationSucceeded
		if a.failed {
			result = acme.OperationFailed
		}
		if sv.last != nil {
			sv.last.state = result
		}
		if sn := s.snaps[a.snapshot]; sn != nil {
			sn.state = acme.SnapshotAvailable
			if sn.last != nil {
				sn.last.state, sn.last.at = result, a.end
			}
		}
	}
	for _, sn := range s.snaps {
		if sn.state == acme.SnapshotCreating && !now.Before(sn.ready) {
			sn.state = acme.SnapshotAvailable
		}
	}
}

func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%06x%02x", prefix, s.seq, s.seq*37%251) // unique, not sequential-looking
}

func (sv *server) json() map[string]any {
	m := map[string]any{"ServerId": sv.id, "Name": sv.name, "State": sv.state, "SystemDiskId": sv.diskID}
	if o := sv.last; o != nil {
		m["LastOperation"] = map[string]any{"Action": o.action, "State": o.state, "RequestId": o.requestID, "StartedAt": o.started}
	}
	return m
}

func (sn *snapshot) json(now time.Time) map[string]any {
	progress := 100
	if sn.state == acme.SnapshotCreating {
		total := sn.ready.Sub(sn.created)
		progress = sn.startProgress
		if total > 0 {
			progress += int(float64(100-sn.startProgress) * float64(now.Sub(sn.created)) / float64(total))
		}
		progress = min(progress, 99)
	}
	m := map[string]any{"SnapshotId": sn.id, "Name": sn.name, "ServerId": sn.serverID, "DiskId": sn.diskID,
		"State": sn.state, "Progress": progress, "CreatedAt": sn.created}
	if r := sn.last; r != nil {
		m["LastRestore"] = map[string]any{"RequestId": r.requestID, "ServerId": r.serverID, "State": r.state, "At": r.at}
	}
	return m
}

// find returns the server id of region, or a ServerNotFound refusal.
func (s *Server) find(region, id string) (*server, *apiError) {
	if !strings.HasPrefix(id, "srv-") {
		return nil, refuse(acme.CodeInvalidParameter, "ServerId %q is malformed", id)
	}
	sv := s.servers[id]
	if sv == nil || sv.region != region {
		return nil, refuse(acme.CodeServerNotFound, "server %s does not exist in %s", id, region)
	}
	return sv, nil
}

func (s *Server) findSnapshot(region, id string) (*snapshot, *apiError) {
	if !strings.HasPrefix(id, "snap-") {
		return nil, refuse(acme.CodeInvalidParameter, "SnapshotId %q is malformed", id)
	}
	sn := s.snaps[id]
	if sn == nil || sn.region != region {
		return nil, refuse(acme.CodeSnapshotNotFound, "snapshot %s does not exist in %s", id, region)
	}
	return sn, nil
}

func (s *Server) describeServers(_ string, p params) (map[string]any, *apiError) {
	if len(p.ServerIDs) == 0 || len(p.ServerIDs) > acme.MaxIDs {
		return nil, refuse(acme.CodeInvalidParameter, "ServerIds must name 1 to %d servers, not %d", acme.MaxIDs, len(p.ServerIDs))
	}
	list := []map[string]any{}
	for _, id := range p.ServerIDs {
		sv, err := s.find(p.Region, id)
		if err != nil {
			if err.code == acme.CodeServerNotFound {
				continue // absent servers are left out
			}
			return nil, err
		}
		list = append(list, s.shown(sv.lag, sv.json))
	}
	return map[string]any{"Servers": list}, nil
}

func (s *Server) describeSnapshots(_ string, p params) (map[string]any, *apiError) {
	now := s.clk.Now()
	list := []map[string]any{}
	switch {
	case len(p.SnapshotIDs) > 0 && p.ServerID != "":
		return nil, refuse(acme.CodeInvalidParameter, "give SnapshotIds or ServerId, not both")
	case len(p.SnapshotIDs) > acme.MaxIDs:
		return nil, refuse(acme.CodeInvalidParameter, "SnapshotIds must name at most %d snapshots, not %d", acme.MaxIDs, len(p.SnapshotIDs))
	case len(p.SnapshotIDs) > 0:
		for _, id := range p.SnapshotIDs {
			sn, err := s.findSnapshot(p.Region, id)
			if err != nil {
				if err.code == acme.CodeSnapshotNotFound {
					continue
				}
				return nil, err
			}
			list = append(list, s.shown(sn.lag, func() map[string]any { return sn.json(now) }))
		}
	case p.ServerID != "":
		if _, err := s.find(p.Region, p.ServerID); err != nil {
			return nil, err
		}
		for _, id := range s.order {
			if sn := s.snaps[id]; sn.serverID == p.ServerID {
				list = append(list, s.shown(sn.lag, func() map[string]any { return sn.json(now) }))
			}
		}
	default:
		return nil, refuse(acme.CodeInvalidParameter, "give SnapshotIds or ServerId")
	}
	return map[string]any{"Snapshots": list}, nil
}

// busy refuses a server with an operation in progress.
func busy(sv *server) *apiError {
	if sv.act != nil {
		return refuse(acme.CodeServerBusy, "server %s is %s", sv.id, sv.state)
	}
	return nil
}

func (s *Server) begin(sv *server, rid, action, via, final string, d time.Duration) {
	now := s.clk.Now()
	s.changing(&sv.lag, now, s.readLag, sv.json)
	sv.state = via
	sv.last = &operation{action: action, state: acme.OperationInProgress, requestID: rid, started: now}
	sv.act = &activity{end: now.Add(d), final: final, lag: s.readLag}
}

func (s *Server) stopServer(rid string, p params) (map[string]any, *apiError) {
	sv, err := s.find(p.Region, p.ServerID)
	if err != nil {
		return nil, err
	}
	if err := busy(sv); err != nil {
		return nil, err
	}
	if sv.state != acme.StateRunning {
		return nil, refuse(acme.CodeInvalidServerState, "server %s is %s, not running", sv.id, sv.state)
	}
	s.begin(sv, rid, "StopServer", acme.StateStopping, acme.StateStopped, s.dur.Stop)
	return nil, nil
}

func (s *Server) startServer(rid string, p params) (map[string]any, *apiError) {
	sv, err := s.find(p.Region, p.ServerID)
	if err != nil {
		return nil, err
	}
	if err := busy(sv); err != nil {
		return nil, err
	}
	if sv.state != acme.StateStopped {
		return nil, refuse(acme.CodeInvalidServerState, "server %s is %s, not stopped", sv.id, sv.state)
	}
	s.begin(sv, rid, "StartServer", acme.StateStarting, acme.StateRunning, s.dur.Start)
	return nil, nil
}

// MaxSnapshotsPerServer is the snapshot quota.
const MaxSnapshotsPerServer = 20

func (s *Server) createSnapshot(_ string, p params) (map[string]any, *apiError) {
	sv, err := s.find(p.Region, p.ServerID)
	if err != nil {
		return nil, err
	}
	if err := busy(sv); err != nil {
		return nil, err
	}
	if len(p.Name) > acme.MaxSnapshotNameLen {
		return nil, refuse(acme.CodeInvalidParameter, "Name is longer than %d bytes", acme.MaxSnapshotNameLen)
	}
	n := 0
	for _, sn := range s.snaps {
		if sn.serverID == sv.id {
			n++
		}
	}
	if n >= MaxSnapshotsPerServer {
		return nil, refuse(acme.CodeQuotaExceeded, "server %s has %d snapshots, the most allowed", sv.id, n)
	}
	sn := s.addSnapshot(sv, p.Name, acme.SnapshotCreating, 0)
	return map[string]any{"SnapshotId": sn.id}, nil
}

func (s *Server) addSnapshot(sv *server, name, state string, progress int) *snapshot {
	now := s.clk.Now()
	sn := &snapshot{id: s.newID("snap-"), name: name, region: sv.region, serverID: sv.id, diskID: sv.diskID,
		state: state, created: now, ready: now, startProgress: progress}
	if sn.name == "" {
		sn.name = "snapshot-" + sn.id
	}
	if state == acme.SnapshotCreating {
		left := time.Duration(float64(s.dur.CreateSnapshot) * float64(100-progress) / 100)
		sn.ready = now.Add(left)
	}
	s.snaps[sn.id] = sn
	s.order = append(s.order, sn.id)
	return sn
}

func (s *Server) restoreSnapshot(rid string, p params) (map[string]any, *apiError) {
	sv, err := s.find(p.Region, p.ServerID)
	if err != nil {
		return nil, err
	}
	sn, err := s.findSnapshot(p.Region, p.SnapshotID)
	if err != nil {
		return nil, err
	}
	if sn.diskID != sv.diskID {
		return nil, refuse(acme.CodeSnapshotMismatch, "snapshot %s is of volume %s, not of server %s's system disk %s", sn.id, sn.diskID, sv.id, sv.diskID)
	}
	if err := busy(sv); err != nil {
		return nil, err
	}
	if sv.state != acme.StateStopped {
		return nil, refuse(acme.CodeInvalidServerState, "server %s is %s; RestoreSnapshot needs it stopped", sv.id, sv.state)
	}
	if sn.state != acme.SnapshotAvailable {
		return nil, refuse(acme.CodeSnapshotNotReady, "snapshot %s is %s", sn.id, sn.state)
	}
	s.applyRestore(sv, sn, rid)
	return nil, nil
}

func (s *Server) applyRestore(sv *server, sn *snapshot, rid string) {
	s.begin(sv, rid, "RestoreSnapshot", acme.StateRestoring, acme.StateStopped, s.dur.Restore)
	sv.act.snapshot = sn.id
	if s.failRestores > 0 {
		s.failRestores--
		sv.act.failed = true
	}
	now := s.clk.Now()
	s.changing(&sn.lag, now, s.readLag, func() map[string]any { return sn.json(now) })
	sn.state = acme.SnapshotRestoring
	sn.last = &restore{requestID: rid, serverID: sv.id, state: acme.OperationInProgress, at: s.clk.Now()}
	s.restores[sv.id]++
}
