package provider

import (
	"context"
	"sync"
	"time"
)

// MemoryCheckpoints keeps checkpoints in memory: enough to resume within
// one process (a service handling a retried request, a fleet tool running
// again), not after a crash. The zero value is ready to use and unbounded;
// with Max set, the least recently saved checkpoints beyond Max are
// dropped, never one whose key is held. Safe for concurrent use.
type MemoryCheckpoints struct {
	Max int

	mu    sync.Mutex
	m     map[string]Checkpoint
	order []string // keys, least recently saved first
}

// MemoryCheckpointsMax bounds the in-memory stores the clients keep.
const MemoryCheckpointsMax = 10000

// Load implements Checkpointer.
func (m *MemoryCheckpoints) Load(_ context.Context, key string) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.m[key]
	if !ok {
		return nil, nil
	}
	return cp.Clone(), nil
}

// Acquire implements Checkpointer.
func (m *MemoryCheckpoints) Acquire(_ context.Context, key string, l Lease) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var old *Checkpoint
	if cp, ok := m.m[key]; ok {
		old = &cp
	}
	cp, err := CheckAcquire(old, key, l)
	if err != nil {
		return nil, err
	}
	m.put(cp)
	if old == nil {
		return nil, nil
	}
	return cp.Clone(), nil
}

// Save implements Checkpointer.
func (m *MemoryCheckpoints) Save(_ context.Context, cp *Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var old *Checkpoint
	if c, ok := m.m[cp.Key]; ok {
		old = &c
	}
	if err := CheckSave(old, cp); err != nil {
		return err
	}
	cp.Version = CheckpointVersion
	m.put(cp.Clone())
	return nil
}

// Release implements Checkpointer.
func (m *MemoryCheckpoints) Release(_ context.Context, key, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.m[key]
	if !ok || cp.Owner != owner || owner == "" {
		return nil
	}
	if cp.Phase == "" {
		delete(m.m, key)
		m.order = removeKey(m.order, key)
		return nil
	}
	cp.Owner, cp.LeaseUntil = "", time.Time{}
	m.m[key] = cp
	return nil
}

// put stores cp as the most recently saved and drops the oldest unheld
// records beyond Max. Called with m.mu held.
func (m *MemoryCheckpoints) put(cp *Checkpoint) {
	if m.m == nil {
		m.m = make(map[string]Checkpoint)
	}
	if _, ok := m.m[cp.Key]; ok {
		m.order = removeKey(m.order, cp.Key)
	}
	m.m[cp.Key] = *cp
	m.order = append(m.order, cp.Key)
	for i := 0; m.Max > 0 && len(m.order) > m.Max && i < len(m.order); {
		k := m.order[i]
		if m.m[k].Owner != "" {
			i++ // held: a Run is using it
			continue
		}
		delete(m.m, k)
		m.order = append(m.order[:i], m.order[i+1:]...)
	}
}

func removeKey(keys []string, key string) []string {
	for i, k := range keys {
		if k == key {
			return append(keys[:i], keys[i+1:]...)
		}
	}
	return keys
}

// Clone copies cp deeply enough that neither copy's pointers
// reach the other's Result or Before.
func (cp *Checkpoint) Clone() *Checkpoint {
	c := *cp
	if cp.Before != nil {
		b := *cp.Before
		c.Before = &b
	}
	if cp.Result != nil {
		r := *cp.Result
		c.Result = &r
	}
	return &c
}

// Volatile reports that MemoryCheckpoints does not outlive the process.
func (*MemoryCheckpoints) Volatile() bool { return true }
