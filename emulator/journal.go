package emulator

import (
	"sync"
	"time"
)

// Entry is one request as the emulator saw and answered it.
type Entry struct {
	Seq    int       // 1-based order of recording (when the reply was decided)
	Time   time.Time // emulator clock when the request arrived
	Action string
	Region string
	// Params are the request's API parameters, flattened to strings
	// ("Filters.0.Name"). Credentials, signatures, nonces and timestamps are
	// never recorded.
	Params     map[string]string
	HTTPStatus int    // status of the reply; 0 when the connection was dropped
	Code       string // error code of the reply; "" on success
	RequestID  string
	Fault      string // the injected fault, if any (Fault.String)
	Applied    bool   // the call changed emulator state
	// Actor is empty for a request received over HTTP, and names the other
	// actor (OtherActor) for a change made through an emulator's Actor*
	// methods: someone else using the same account, not the client under
	// test.
	Actor string
}

// OtherActor is the Entry.Actor of changes made by the emulators' Actor*
// methods.
const OtherActor = "other"

// Journal records requests. The zero value is ready to use and safe for
// concurrent use.
type Journal struct {
	mu      sync.Mutex
	entries []Entry
}

// Add records e, numbering it, and returns its sequence number.
func (j *Journal) Add(e Entry) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Seq = len(j.entries) + 1
	j.entries = append(j.entries, e)
	return e.Seq
}

// Entries returns a copy of everything recorded, oldest first.
func (j *Journal) Entries() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]Entry(nil), j.entries...)
}

// Count returns how many requests of action were received over HTTP (""
// counts all); other actors' changes are not counted.
func (j *Journal) Count(action string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, e := range j.entries {
		if e.Actor == "" && (action == "" || e.Action == action) {
			n++
		}
	}
	return n
}

// Reset forgets everything recorded.
func (j *Journal) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = nil
}
