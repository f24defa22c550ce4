package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/cli"
)

// outcome is how one row ended, for the table and the report.
type outcome struct {
	name     string // "rolled back", "already done", "not found", ...
	code     int    // the row's own exit code
	duration time.Duration
	detail   string // the request ID, the plan, or the error
}

func outcomeOf(res rollback.BatchResult) outcome {
	code, name := classify(res.Err)
	o := outcome{code: code, name: name}
	rep := res.Report
	if rep != nil {
		o.duration = rep.Duration
	}
	switch {
	case res.Err != nil:
		if rep == nil && errors.Is(res.Err, context.Canceled) {
			o.name = "not started"
		}
		o.detail = oneLine(res.Err)
	case rep == nil:
		o.name = "done"
	case rep.DryRun && rep.Resumed && len(rep.Plan) == 0:
		o.name = "already done" // by an earlier run with this key
	case rep.DryRun && rep.Resumed:
		o.name, o.detail = "would resume", rep.Plan[0]
	case rep.DryRun:
		o.name, o.detail = "checked", "would "+strings.Join(planVerbs(rep.Plan), ", ")
	case rep.Resumed && rep.Outcome == nil:
		o.name = "already done" // by an earlier run with this key
	case rep.Resumed:
		o.name = "rolled back (resumed)"
	default:
		o.name = "rolled back"
	}
	if res.Err == nil && rep != nil && rep.Result != nil && o.detail == "" {
		o.detail = rep.Result.RequestID
	}
	return o
}

// planVerbs shortens a Report's plan to its verbs: "stop, roll back, start".
func planVerbs(plan []string) []string {
	var v []string
	for _, step := range plan {
		switch {
		case strings.HasPrefix(step, "roll back"):
			v = append(v, "roll back")
		case strings.HasPrefix(step, "wait until the rollback"):
		case strings.HasPrefix(step, "wait for safety snapshot"):
			v = append(v, "snapshot")
		default:
			v = append(v, strings.Fields(step)[0])
		}
	}
	return v
}

// summary is the end of a fleet run.
type summary struct {
	rows     []row
	results  []rollback.BatchResult
	outcomes []outcome
	code     int
	started  time.Time
	elapsed  time.Duration
	dryRun   bool
}

func summarize(rows []row, results []rollback.BatchResult, started time.Time, elapsed time.Duration, dryRun bool) *summary {
	s := &summary{rows: rows, results: results, started: started, elapsed: elapsed, dryRun: dryRun}
	for _, res := range results {
		o := outcomeOf(res)
		s.outcomes = append(s.outcomes, o)
		s.code = worst(s.code, o.code)
	}
	return s
}

// writeTable prints every row's outcome, then the counts.
func (s *summary) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tPROVIDER\tINSTANCE\tOUTCOME\tDURATION\tREQUEST ID / ERROR")
	for i, r := range s.rows {
		o := s.outcomes[i]
		inst := r.target()
		if rep := s.results[i].Report; rep != nil && rep.Request.InstanceID != "" {
			inst = rep.Request.InstanceID
		}
		dur := "-"
		if o.duration > 0 {
			dur = fmtDur(o.duration)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Line, r.Provider, inst, o.name, dur, o.detail)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, s.countLine())
}

// countLine says "300 rows in 16m2s: 298 rolled back, 2 wrong state."
func (s *summary) countLine() string {
	var names []string
	n := map[string]int{}
	for _, o := range s.outcomes {
		if n[o.name] == 0 {
			names = append(names, o.name)
		}
		n[o.name]++
	}
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%d %s", n[name], name)
	}
	rows := "rows"
	if len(s.rows) == 1 {
		rows = "row"
	}
	return fmt.Sprintf("%d %s in %s: %s.", len(s.rows), rows, fmtDur(s.elapsed), strings.Join(parts, ", "))
}

// advice says what to do about the fleet's overall exit code.
func advice(code int, c *config) string {
	switch code {
	case exitUnknown:
		return "Some rollbacks may or may not have happened: check those instances before anything else."
	case exitFailed:
		if c.backup {
			return "The cloud reported failed rollbacks: check those instances; their safety snapshots restore the disks as they were."
		}
		return "The cloud reported failed rollbacks: check those instances."
	case exitTimeout, exitInterrupted:
		return "Some operations may still be running: run the same command again to resume; done rows are skipped."
	case exitWrongState:
		if !c.stop {
			return "Rows with running instances need -stop."
		}
	case exitBusy:
		return "Some servers were busy or the API throttled: run the same command again later; done rows are skipped."
	}
	return ""
}

// report is the -json output: README.md, "JSON output".
type report struct {
	cli.Header
	DryRun          bool           `json:"dry_run"`
	Started         time.Time      `json:"started"`
	DurationSeconds float64        `json:"duration_seconds"`
	Counts          map[string]int `json:"counts"` // rows by outcome
	Rows            []reportRow    `json:"rows"`
}

type reportRow struct {
	row
	Outcome  string      `json:"outcome"`
	Detail   string      `json:"detail,omitempty"` // the request ID, the plan, or the error
	ExitCode int         `json:"exit_code"`
	Error    *cli.Error  `json:"error,omitempty"`
	Report   *cli.Report `json:"report,omitempty"`
}

func (s *summary) report(keys []string) report {
	out := report{Header: cli.NewHeader("rollback-fleet", s.code, nil), DryRun: s.dryRun, Started: s.started,
		DurationSeconds: cli.Seconds(s.elapsed), Counts: map[string]int{}, Rows: []reportRow{}}
	for i, r := range s.rows {
		o := s.outcomes[i]
		out.Counts[o.name]++
		r.Key = keys[i]
		rep := cli.ReportOf(s.results[i].Report)
		if rep != nil && rep.Provider != rollback.ProviderAliyun {
			rep.ClientToken = "" // Lighthouse has no client token
		}
		out.Rows = append(out.Rows, reportRow{row: r, Outcome: o.name, Detail: o.detail, ExitCode: o.code,
			Error: cli.ErrorOf(s.results[i].Err), Report: rep})
	}
	return out
}

// writeReport writes the JSON report to name, or to stdout for "-".
func (s *summary) writeReport(name string, stdout io.Writer, keys []string) error {
	return writeJSONTo(name, stdout, s.report(keys))
}

// writeJSONTo writes v to the file name, or to stdout for "-".
func writeJSONTo(name string, stdout io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if name == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(name, b, 0o644)
}
