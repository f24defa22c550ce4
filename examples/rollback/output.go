package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cloudsnap/rollback"
)

func writeText(w io.Writer, rep *rollback.Report) {
	req := rep.Request
	if rep.DryRun {
		fmt.Fprintf(w, "Dry run: every check passed. %s would, in %s:\n", rep.Provider, req.Region)
		for i, step := range rep.Plan {
			fmt.Fprintf(w, "  %d. %s\n", i+1, step)
		}
		return
	}
	verb := "Rolled back"
	if rep.Outcome == nil {
		verb = "Started rolling back"
	}
	fmt.Fprintf(w, "%s disk %s of instance %s to snapshot %s (%s, %s) in %s.\n",
		verb, req.DiskID, req.InstanceID, req.SnapshotID, rep.Provider, req.Region, fmtDur(rep.Duration))
	if rep.Resumed {
		fmt.Fprintln(w, "  resumed an earlier run of this operation")
	}
	if r := rep.Result; r != nil {
		calls := fmt.Sprintf("%d call", r.Attempts)
		if r.Attempts != 1 {
			calls += "s"
		}
		if r.Adopted {
			calls += ", an earlier attempt had landed"
		}
		name := "operation" // Lighthouse sends no token: it only names the operation
		if rep.Provider == "aliyun" {
			name = "client token"
		}
		fmt.Fprintf(w, "  request ID:      %s (%s %s, %s)\n", r.RequestID, name, r.ClientToken, calls)
	}
	if rep.SafetySnapshotID != "" {
		fmt.Fprintf(w, "  safety snapshot: %s (roll back to it to undo)\n", rep.SafetySnapshotID)
	}
	if rep.InstanceBefore != nil && rep.InstanceAfter != nil {
		fmt.Fprintf(w, "  instance:        %s -> %s\n", rep.InstanceBefore.State, rep.InstanceAfter.State)
	}
	for _, st := range rep.Steps {
		line := fmt.Sprintf("    %-15s %-7s %8s", st.Step, st.Outcome, fmtDur(st.Duration))
		if st.Detail != "" {
			line += "  " + st.Detail
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// jsonResult is the -json output.
type jsonResult struct {
	OK       bool             `json:"ok"`
	ExitCode int              `json:"exit_code"`
	Error    *jsonError       `json:"error,omitempty"`
	Report   *rollback.Report `json:"report,omitempty"`
}

type jsonError struct {
	Message   string `json:"message"`
	Kind      string `json:"kind,omitempty"`
	Code      string `json:"code,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Field     string `json:"field,omitempty"`
}

func writeJSON(w io.Writer, rep *rollback.Report, err error) {
	out := jsonResult{OK: err == nil, ExitCode: exitCode(err), Report: rep}
	if err != nil {
		je := &jsonError{Message: err.Error()}
		var re *rollback.Error
		if errors.As(err, &re) {
			if re.Kind != nil {
				je.Kind = re.Kind.Error()
			}
			je.Code, je.RequestID, je.Field = re.Code, re.RequestID, re.Field
		}
		out.Error = je
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}
