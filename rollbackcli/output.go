package rollbackcli

import (
	"fmt"
	"io"
	"strings"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/cli"
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
	switch {
	case rep.Resumed && rep.Outcome == nil:
		// Nothing was done now: an earlier run with this key finished it.
		fmt.Fprintf(w, "Already rolled back: disk %s of instance %s to snapshot %s (%s, %s), by an earlier run with this key.\n",
			req.DiskID, req.InstanceID, req.SnapshotID, rep.Provider, req.Region)
	default:
		fmt.Fprintf(w, "Rolled back disk %s of instance %s to snapshot %s (%s, %s) in %s.\n",
			req.DiskID, req.InstanceID, req.SnapshotID, rep.Provider, req.Region, fmtDur(rep.Duration))
		if rep.Resumed {
			fmt.Fprintln(w, "  resumed an earlier run of this operation")
		}
	}
	if r := rep.Result; r != nil {
		calls := fmt.Sprintf("%d call", r.Attempts)
		if r.Attempts != 1 {
			calls += "s"
		}
		if r.Adopted {
			calls += ", an earlier attempt had landed"
		}
		// Lighthouse has no client token: its exactly-once rests on reading
		// state, so naming a token there would mislead.
		if hasToken(rep.Provider) && r.ClientToken != "" {
			calls = "token " + r.ClientToken + ", " + calls
		}
		fmt.Fprintf(w, "  request ID:      %s (%s)\n", r.RequestID, calls)
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

func hasToken(provider string) bool { return provider == rollback.ProviderAliyun }

// jsonResult is the -json output: README.md, "JSON output".
type jsonResult struct {
	cli.Header
	Report  *cli.Report   `json:"report,omitempty"`
	Reports []*cli.Report `json:"reports,omitempty"` // -demo: one per cloud
}

// jsonReport is rep for -json, without the token Lighthouse does not have.
func jsonReport(rep *rollback.Report) *cli.Report {
	r := cli.ReportOf(rep)
	if r != nil && !hasToken(r.Provider) {
		r.ClientToken = ""
	}
	return r
}

func writeJSON(w io.Writer, c *config, rep *rollback.Report, err error) {
	_ = cli.WriteJSON(w, jsonResult{Header: cli.NewHeader("rollback", c.exitCode(err), err), Report: jsonReport(rep)})
}

var fmtDur = cli.FmtDur
