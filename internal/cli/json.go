package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/cloudsnap/rollback"
)

// SchemaVersion is the version of the -json schema (README.md, "JSON
// output"). It changes only when a field changes meaning or goes away;
// new fields do not change it.
const SchemaVersion = 1

// Header starts every -json document of both commands. Field names are
// snake_case, durations are seconds (a number) in fields ending _seconds,
// times RFC 3339.
type Header struct {
	SchemaVersion int    `json:"schema_version"`
	Program       string `json:"program"` // "rollback" or "rollback-fleet"
	OK            bool   `json:"ok"`
	ExitCode      int    `json:"exit_code"`
	ExitName      string `json:"exit_name"`       // ExitNames[exit_code]
	Error         *Error `json:"error,omitempty"` // why it did not end well
}

// NewHeader returns the header of a document ending with code and err.
func NewHeader(program string, code int, err error) Header {
	return Header{SchemaVersion: SchemaVersion, Program: program, OK: code == ExitOK, ExitCode: code, ExitName: ExitNames[code], Error: ErrorOf(err)}
}

// Error is an error in -json.
type Error struct {
	Message   string `json:"message"`
	Kind      string `json:"kind,omitempty"` // the sentinel's name, e.g. "ErrInstanceState"
	Code      string `json:"code,omitempty"` // the cloud's error code
	RequestID string `json:"request_id,omitempty"`
	Field     string `json:"field,omitempty"` // the bad input, for ErrInvalidArgument
}

// ErrorOf returns err for -json; nil for nil.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	out := &Error{Message: err.Error(), Kind: kindName(err)}
	var re *rollback.Error
	if errors.As(err, &re) {
		out.Code, out.RequestID, out.Field = re.Code, re.RequestID, re.Field
	}
	return out
}

var kinds = []struct {
	err  error
	name string
}{
	{rollback.ErrOutcomeUnknown, "ErrOutcomeUnknown"}, {rollback.ErrRollbackFailed, "ErrRollbackFailed"},
	{rollback.ErrTimeout, "ErrTimeout"}, {rollback.ErrInvalidArgument, "ErrInvalidArgument"},
	{rollback.ErrInstanceNotFound, "ErrInstanceNotFound"}, {rollback.ErrDiskNotFound, "ErrDiskNotFound"},
	{rollback.ErrSnapshotNotFound, "ErrSnapshotNotFound"}, {rollback.ErrNotFound, "ErrNotFound"},
	{rollback.ErrInstanceState, "ErrInstanceState"}, {rollback.ErrSnapshotState, "ErrSnapshotState"},
	{rollback.ErrSnapshotMismatch, "ErrSnapshotMismatch"}, {rollback.ErrBusy, "ErrBusy"},
	{rollback.ErrThrottled, "ErrThrottled"}, {rollback.ErrQuotaExceeded, "ErrQuotaExceeded"},
	{rollback.ErrUnauthenticated, "ErrUnauthenticated"}, {rollback.ErrPermissionDenied, "ErrPermissionDenied"},
	{rollback.ErrInternal, "ErrInternal"}, {rollback.ErrNetwork, "ErrNetwork"},
	{context.DeadlineExceeded, "DeadlineExceeded"}, {context.Canceled, "Canceled"},
}

func kindName(err error) string {
	var ue UsageError
	if errors.As(err, &ue) {
		return "usage"
	}
	if errors.Is(err, ErrNotConfirmed) {
		return "not_confirmed"
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return ""
}

// Report is a rollback.Report in -json.
type Report struct {
	Provider            string    `json:"provider"`
	Region              string    `json:"region"`
	InstanceID          string    `json:"instance_id,omitempty"`
	DiskID              string    `json:"disk_id,omitempty"`
	SnapshotID          string    `json:"snapshot_id"`
	OperationKey        string    `json:"operation_key,omitempty"`
	ClientToken         string    `json:"client_token,omitempty"`
	DryRun              bool      `json:"dry_run"`
	Plan                []string  `json:"plan"`
	Resumed             bool      `json:"resumed"`
	RequestID           string    `json:"request_id,omitempty"` // of the accepted rollback call
	Attempts            int       `json:"attempts,omitempty"`   // rollback calls sent
	Adopted             bool      `json:"adopted,omitempty"`    // an earlier attempt had landed
	Finished            bool      `json:"finished"`             // the rollback was seen to finish
	Evidence            string    `json:"evidence,omitempty"`   // how its end was recognised
	SafetySnapshotID    string    `json:"safety_snapshot_id,omitempty"`
	InstanceStateBefore string    `json:"instance_state_before,omitempty"`
	InstanceStateAfter  string    `json:"instance_state_after,omitempty"`
	Started             time.Time `json:"started"`
	DurationSeconds     float64   `json:"duration_seconds"`
	Steps               []Step    `json:"steps"`
}

// Step is one step of a Report.
type Step struct {
	Step            string    `json:"step"`
	Outcome         string    `json:"outcome"` // done, skipped or failed
	Started         time.Time `json:"started"`
	DurationSeconds float64   `json:"duration_seconds"`
	Detail          string    `json:"detail,omitempty"`
	RequestID       string    `json:"request_id,omitempty"`
	Error           string    `json:"error,omitempty"`
}

// Seconds is d in seconds, to the millisecond.
func Seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

// ReportOf returns rep for -json; nil for nil.
func ReportOf(rep *rollback.Report) *Report {
	if rep == nil {
		return nil
	}
	r := rep.Request
	out := &Report{Provider: rep.Provider, Region: r.Region, InstanceID: r.InstanceID, DiskID: r.DiskID,
		SnapshotID: r.SnapshotID, OperationKey: r.OperationKey, ClientToken: r.ClientToken,
		DryRun: rep.DryRun, Plan: rep.Plan, Resumed: rep.Resumed, SafetySnapshotID: rep.SafetySnapshotID,
		Started: rep.Started, DurationSeconds: Seconds(rep.Duration), Finished: rep.Outcome != nil, Steps: []Step{}}
	if out.Plan == nil {
		out.Plan = []string{}
	}
	if res := rep.Result; res != nil {
		out.RequestID, out.Attempts, out.Adopted = res.RequestID, res.Attempts, res.Adopted
		if out.ClientToken == "" {
			out.ClientToken = res.ClientToken
		}
	}
	if rep.Outcome != nil {
		out.Evidence = rep.Outcome.Evidence
	}
	if rep.InstanceBefore != nil {
		out.InstanceStateBefore = string(rep.InstanceBefore.State)
	}
	if rep.InstanceAfter != nil {
		out.InstanceStateAfter = string(rep.InstanceAfter.State)
	}
	for _, st := range rep.Steps {
		out.Steps = append(out.Steps, Step{Step: string(st.Step), Outcome: st.Outcome, Started: st.Started,
			DurationSeconds: Seconds(st.Duration), Detail: st.Detail, RequestID: st.RequestID, Error: st.Err})
	}
	return out
}

// WriteJSON writes v, indented, with a final newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
