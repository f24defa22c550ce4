package acmetest

import (
	"fmt"
	"time"

	"example.com/acmecloud/acme"
)

// ServerSpec seeds a server; the zero value is a stopped server in
// DefaultRegion.
type ServerSpec struct {
	Region string
	Name   string
	// State is acme.StateRunning or acme.StateStopped (default).
	State string
}

// SeededServer is a server as seeded.
type SeededServer struct {
	ID, DiskID, Region string
}

// AddServer seeds a server with a system disk.
func (s *Server) AddServer(spec ServerSpec) (SeededServer, error) {
	if spec.Region == "" {
		spec.Region = DefaultRegion
	}
	if spec.State == "" {
		spec.State = acme.StateStopped
	}
	if spec.State != acme.StateStopped && spec.State != acme.StateRunning {
		return SeededServer{}, fmt.Errorf("acmetest: seed a server running or stopped, not %q", spec.State)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := &server{id: s.newID("srv-"), region: spec.Region, state: spec.State, name: spec.Name}
	sv.diskID = s.newID("vol-")
	if sv.name == "" {
		sv.name = "server-" + sv.id
	}
	s.servers[sv.id] = sv
	return SeededServer{ID: sv.id, DiskID: sv.diskID, Region: sv.region}, nil
}

// SnapshotSpec seeds a snapshot of a server's system disk; the zero
// State is available.
type SnapshotSpec struct {
	ServerID string
	Name     string
	// State is acme.SnapshotAvailable (default) or acme.SnapshotCreating,
	// which then becomes available as a creation from Progress would.
	State    string
	Progress int
	// RestoredAgo, when set, records a successful restore of the server
	// from the snapshot that long ago, after which the server was started
	// (and stopped, if seeded stopped): a snapshot with history. It is not
	// counted by RestoresOf.
	RestoredAgo time.Duration
}

// AddSnapshot seeds a snapshot and returns its ID.
func (s *Server) AddSnapshot(spec SnapshotSpec) (string, error) {
	if spec.State == "" {
		spec.State = acme.SnapshotAvailable
	}
	if spec.State != acme.SnapshotAvailable && spec.State != acme.SnapshotCreating {
		return "", fmt.Errorf("acmetest: seed a snapshot available or creating, not %q", spec.State)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.servers[spec.ServerID]
	if sv == nil {
		return "", fmt.Errorf("acmetest: no server %s", spec.ServerID)
	}
	sn := s.addSnapshot(sv, spec.Name, spec.State, min(max(spec.Progress, 0), 99))
	if spec.RestoredAgo > 0 && spec.State == acme.SnapshotAvailable {
		s.seq++
		at := s.clk.Now().Add(-spec.RestoredAgo)
		sn.created = at.Add(-time.Hour)
		sn.last = &restore{requestID: fmt.Sprintf("req-seed-%06x", s.seq), serverID: sv.id, state: acme.OperationSucceeded, at: at}
		s.seq++
		action := ActionStartServer // the server has changed since
		if sv.state == acme.StateStopped {
			action = ActionStopServer
		}
		sv.last = &operation{action: action, state: acme.OperationSucceeded, requestID: fmt.Sprintf("req-seed-%06x", s.seq), started: at.Add(time.Minute)}
	}
	return sn.id, nil
}

// LastRestore returns the snapshot's last restore as the API reports it
// now (no read lag): its request ID, server, state and time; ok is false
// when it was never restored from.
func (s *Server) LastRestore(snapshotID string) (requestID, serverID, state string, at time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	sn := s.snaps[snapshotID]
	if sn == nil || sn.last == nil {
		return "", "", "", time.Time{}, false
	}
	r := sn.last
	return r.requestID, r.serverID, r.state, r.at, true
}

// ClientRestores returns the request IDs of the restores of the server
// that clients' calls applied (other actors' excluded), oldest first.
func (s *Server) ClientRestores(serverID string) []string {
	var out []string
	for _, e := range s.journal.Entries() {
		if !e.Actor && e.Applied && e.Action == ActionRestoreSnapshot && e.ServerID == serverID {
			out = append(out, e.RequestID)
		}
	}
	return out
}

// SetBusy puts the server in maintenance for d: busy, refusing every
// change, then back in its state.
func (s *Server) SetBusy(serverID string, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	sv := s.servers[serverID]
	if sv == nil {
		return fmt.Errorf("acmetest: no server %s", serverID)
	}
	if sv.act != nil {
		return fmt.Errorf("acmetest: server %s is already %s", serverID, sv.state)
	}
	s.seq++
	s.begin(sv, fmt.Sprintf("req-maint-%06x", s.seq), "Maintenance", acme.StateMaintenance, sv.state, d)
	return nil
}

// State returns the server's state as the API would report it now.
func (s *Server) State(serverID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	sv := s.servers[serverID]
	if sv == nil {
		return "", fmt.Errorf("acmetest: no server %s", serverID)
	}
	return sv.state, nil
}

// actor runs a change as another actor would: through the API's rules,
// journaled as the actor's, not the client's.
func (s *Server) actor(action string, p params) (string, error) {
	s.mu.Lock()
	s.seq++
	rid := fmt.Sprintf("req-actor-%06x", s.seq)
	s.settle()
	if p.Region == "" {
		if sv := s.servers[p.ServerID]; sv != nil {
			p.Region = sv.region
		}
	}
	out, aerr := handlers[action](s, rid, p)
	s.mu.Unlock()
	e := Entry{Time: s.clk.Now(), Action: action, Region: p.Region, ServerID: p.ServerID, SnapshotID: p.SnapshotID, RequestID: rid, Actor: true}
	if aerr != nil {
		e.Code = aerr.code
		s.journal.add(e)
		return "", aerr
	}
	s.journal.add(e)
	if id, ok := out["SnapshotId"].(string); ok {
		return id, nil
	}
	return rid, nil
}

// ActorStart starts the server as someone else would (the console).
func (s *Server) ActorStart(serverID string) error {
	_, err := s.actor("StartServer", params{ServerID: serverID})
	return err
}

// ActorStop stops the server as someone else would.
func (s *Server) ActorStop(serverID string) error {
	_, err := s.actor("StopServer", params{ServerID: serverID})
	return err
}

// ActorRestore restores the server from a snapshot as someone else would,
// and returns the restore's request ID.
func (s *Server) ActorRestore(serverID, snapshotID string) (string, error) {
	return s.actor("RestoreSnapshot", params{ServerID: serverID, SnapshotID: snapshotID})
}

// ActorCreateSnapshot starts a snapshot as someone else would, and returns
// its ID.
func (s *Server) ActorCreateSnapshot(serverID string) (string, error) {
	return s.actor("CreateSnapshot", params{ServerID: serverID})
}
