package emulator

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Fault is a failure an emulator injects into the calls of one API action.
//
// A fault is armed when added and counts the matching calls from then on: it
// fires on call number Nth (1 = the next one) and on the Times-1 calls after
// it. What it does is the combination of its fields, applied in this order:
// Latency, then Reset (the call is dropped before the emulator applies
// anything), else Code (the call is answered with that error instead of being
// applied), else DropResponse (the call is applied, then the connection is
// closed without a reply: the ambiguous case).
type Fault struct {
	// Action is the API action it applies to, e.g. "ResetDisk". Empty matches
	// every action.
	Action string
	// Nth is the 1-based index of the first matching call it fires on,
	// counted from when the fault was added. 0 means 1: the next call.
	Nth int
	// Times is how many matching calls in a row it fires on. 0 means 1;
	// a negative value means every matching call from the Nth on.
	Times int

	// Latency delays the reply by this much real time (the request's own
	// context still ends the wait). It combines with the other effects.
	Latency time.Duration
	// Reset closes the connection before the action is applied: the client
	// sees a connection reset and nothing happened on the server.
	Reset bool
	// Code answers with this error code instead of applying the action.
	Code string
	// Message is the error message that goes with Code (a default is used
	// when empty).
	Message string
	// HTTPStatus is the HTTP status of the error reply. 0 means the
	// emulator's usual status for Code.
	HTTPStatus int
	// Body, when set, replaces the whole error reply body (e.g. an HTML page
	// from a gateway). It goes with HTTPStatus.
	Body string
	// DropResponse applies the action, then closes the connection without a
	// reply: the client cannot tell whether it happened.
	DropResponse bool
}

// String describes the fault for journals and test failure messages.
func (f Fault) String() string {
	var parts []string
	if f.Latency > 0 {
		parts = append(parts, "latency "+f.Latency.String())
	}
	switch {
	case f.Reset:
		parts = append(parts, "reset before apply")
	case f.Code != "" || f.Body != "":
		s := "error " + f.Code
		if f.HTTPStatus != 0 {
			s += fmt.Sprintf(" (HTTP %d)", f.HTTPStatus)
		}
		parts = append(parts, s)
	case f.DropResponse:
		parts = append(parts, "response lost after apply")
	}
	if len(parts) == 0 {
		return "no-op fault"
	}
	return strings.Join(parts, ", ")
}

// Faults is a set of armed faults. The zero value is ready to use and safe for
// concurrent use.
type Faults struct {
	mu    sync.Mutex
	armed []*armedFault
}

type armedFault struct {
	Fault
	seen  int // matching calls seen since the fault was added
	fired int
}

// Add arms f.
func (fs *Faults) Add(f Fault) {
	if f.Nth <= 0 {
		f.Nth = 1
	}
	if f.Times == 0 {
		f.Times = 1
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.armed = append(fs.armed, &armedFault{Fault: f})
}

// Clear disarms every fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.armed = nil
}

// Pending returns how many faults have not finished firing.
func (fs *Faults) Pending() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.armed)
}

// Next counts one call of action against every armed fault and returns the
// fault that fires on it, if any. When several fire on the same call, the one
// added first wins and the others still count the call. Faults that have fired
// all their times are dropped.
func (fs *Faults) Next(action string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var (
		hit   Fault
		found bool
	)
	kept := fs.armed[:0]
	for _, a := range fs.armed {
		if a.Action != "" && a.Action != action {
			kept = append(kept, a)
			continue
		}
		a.seen++
		fires := a.seen >= a.Nth && (a.Times < 0 || a.fired < a.Times)
		if fires && !found {
			hit, found = a.Fault, true
			a.fired++
		}
		if a.Times < 0 || a.fired < a.Times {
			kept = append(kept, a)
		}
	}
	for i := len(kept); i < len(fs.armed); i++ {
		fs.armed[i] = nil
	}
	fs.armed = kept
	return hit, found
}
