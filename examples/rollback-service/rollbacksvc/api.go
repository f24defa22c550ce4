package rollbacksvc

import (
	"time"

	"github.com/cloudsnap/rollback"
)

// Request is the body of POST /rollbacks.
type Request struct {
	Provider string `json:"provider"` // "aliyun" or "tencent"
	Region   string `json:"region"`
	Instance string `json:"instance,omitempty"`
	Disk     string `json:"disk,omitempty"`
	Snapshot string `json:"snapshot"`
	Stop     bool   `json:"stop"`   // stop a running instance first
	Backup   bool   `json:"backup"` // snapshot the disk first
	Start    bool   `json:"start"`  // start the instance afterwards
}

// States of an operation.
const (
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	// StateInterrupted is an operation this process did not start: a
	// checkpoint left by an earlier one. POST the same request with the
	// same key to resume it.
	StateInterrupted = "interrupted"
)

// Status is an operation as POST and GET report it.
type Status struct {
	Key     string           `json:"key"`
	State   string           `json:"state"`
	Request Request          `json:"request"`
	Step    rollback.Step    `json:"step,omitempty"` // the current or last step
	Phase   rollback.Phase   `json:"phase,omitempty"`
	Started time.Time        `json:"started,omitzero"`
	Ended   time.Time        `json:"ended,omitzero"`
	Events  []Event          `json:"events,omitempty"` // step changes and state changes, oldest first
	Last    *Event           `json:"last,omitempty"`   // the latest event, polls included
	Report  *rollback.Report `json:"report,omitempty"` // once ended
	Error   *ErrorInfo       `json:"error,omitempty"`
}

// Event is one piece of a Run's progress.
type Event struct {
	Time      time.Time          `json:"time"`
	Kind      rollback.EventKind `json:"kind"`
	Step      rollback.Step      `json:"step"`
	ElapsedMS int64              `json:"elapsed_ms"`
	Resource  string             `json:"resource,omitempty"`
	State     string             `json:"state,omitempty"`
	Percent   *int               `json:"percent,omitempty"`
	Message   string             `json:"message,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
	Error     string             `json:"error,omitempty"`
}

// ErrorInfo describes an error in a reply: a request refused (with the
// reply's status) or an operation that failed (in its Status).
type ErrorInfo struct {
	Message string `json:"message"`
	// Sentinel names the library's sentinel error, e.g. "ErrInstanceState",
	// or "context.Canceled" for an operation cut short by a shutdown.
	Sentinel  string `json:"sentinel,omitempty"`
	Field     string `json:"field,omitempty"`      // the bad input, as named in the request
	CloudCode string `json:"cloud_code,omitempty"` // the cloud's own error code
	RequestID string `json:"request_id,omitempty"` // the cloud's request ID
	Retryable bool   `json:"retryable"`            // the same request with the same key may succeed later
	Advice    string `json:"advice,omitempty"`
}

// errorReply is the body of a refused request.
type errorReply struct {
	Error *ErrorInfo `json:"error"`
	// Operation is, for a key used for a different request, the
	// operation the key names (without its events and report).
	Operation *Status `json:"operation,omitempty"`
}
