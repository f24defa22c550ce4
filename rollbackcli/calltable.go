package rollbackcli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cloudsnap/rollback"
)

// callTable collects every API call of a run through the client's hooks,
// for the per-call timing table that -v prints: which call was slow,
// throttled, retried or queued behind the rate limit, with the request ID
// to quote to the cloud's support.
type callTable struct {
	mu   sync.Mutex
	rows []rollback.CallInfo
}

// hooks are the client's hooks that fill the table; nil t: none.
func (t *callTable) hooks() rollback.Hooks {
	if t == nil {
		return rollback.Hooks{}
	}
	return rollback.Hooks{CallEnd: func(_ context.Context, c *rollback.CallInfo) {
		t.mu.Lock()
		t.rows = append(t.rows, *c)
		t.mu.Unlock()
	}}
}

// flush writes the calls so far as a table and forgets them; nil t or no
// calls: nothing.
func (t *callTable) flush(w io.Writer) {
	if t == nil {
		return
	}
	t.mu.Lock()
	rows := t.rows
	t.rows = nil
	t.mu.Unlock()
	if len(rows) == 0 {
		return
	}
	var total time.Duration
	fmt.Fprintf(w, "\nAPI calls (%d):\n", len(rows))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tcall\tresource\ttime\tattempts\trate-limit wait\tHTTP\trequest ID\tresult")
	for i, c := range rows {
		total += c.Duration
		result := "ok"
		if c.Err != nil {
			result = "failed"
			if c.Kind != nil {
				result = c.Kind.Error()
			}
			if code, _, _ := rollback.ErrorDetail(c.Err); code != "" {
				result += " (" + code + ")"
			}
		}
		status := "-"
		if c.HTTPStatus != 0 {
			status = fmt.Sprint(c.HTTPStatus)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", i+1, c.Action, resource(c), round(c.Duration),
			c.Attempts, round(c.RateLimitWait), status, dash(c.RequestID), result)
	}
	tw.Flush()
	fmt.Fprintf(w, "  total time in calls: %s\n", round(total))
}

func resource(c rollback.CallInfo) string {
	for _, id := range []string{c.InstanceID, c.DiskID, c.SnapshotID} {
		if id != "" {
			return id
		}
	}
	return "-"
}

func round(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return d.Round(time.Millisecond).String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
