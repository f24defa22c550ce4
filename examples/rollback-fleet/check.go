package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cloudsnap/rollback"
)

// operationKey is the row's key, or one derived from the run's prefix and
// the row's fields: the same command gives the same keys, so it resumes.
func operationKey(prefix string, r row) string {
	if r.Key != "" || prefix == "" {
		return r.Key
	}
	return strings.Join([]string{prefix, r.Provider, r.Region, r.Instance, r.Disk, r.Snapshot}, "/")
}

// columnOf names the input column of a Request field, for messages.
var columnOf = map[string]string{
	"Region": "region", "InstanceID": "instance", "DiskID": "disk", "SnapshotID": "snapshot",
	"OperationKey": "key", "ClientToken": "key",
}

// checkRows turns rows into requests, checking every row with its
// provider's own rules (nothing is sent) and against the others: one
// rollback per disk and per instance, one row per key. It reports every
// problem at once, with those found before (prior), in line order.
func checkRows(rows []row, prior badRows, clients map[string]rollback.Provider, keyPrefix string, needKeys bool) ([]rollback.Request, error) {
	bad := slices.Clone(prior)
	if len(rows) == 0 && len(bad) == 0 {
		return nil, badRows{{0, "the input has no rows"}}
	}
	reqs := make([]rollback.Request, len(rows))
	targets := map[string]int{} // target -> line
	keys := map[string]int{}
	var keyless []int
	for i, r := range rows {
		p, ok := clients[r.Provider]
		switch {
		case r.Provider == "":
			bad = append(bad, rowError{r.Line, "provider is empty; want aliyun or tencent"})
			continue
		case !ok:
			bad = append(bad, rowError{r.Line, fmt.Sprintf("provider %q is not aliyun or tencent (nor the scheme of a -cloud URL)", r.Provider)})
			continue
		}
		req := rollback.Request{Region: r.Region, InstanceID: r.Instance, DiskID: r.Disk, SnapshotID: r.Snapshot,
			OperationKey: operationKey(keyPrefix, r)}
		reqs[i] = req
		if msg := checkRequest(p, req); msg != "" {
			bad = append(bad, rowError{r.Line, msg})
			continue
		}
		for _, t := range targetsOf(r) {
			if first, dup := targets[t]; dup {
				bad = append(bad, rowError{r.Line, fmt.Sprintf("%s is already rolled back by line %d; one rollback per disk and instance", strings.SplitN(t, "|", 3)[2], first)})
			} else {
				targets[t] = r.Line
			}
		}
		switch first, dup := keys[req.OperationKey]; {
		case req.OperationKey == "":
			keyless = append(keyless, r.Line)
		case dup:
			bad = append(bad, rowError{r.Line, fmt.Sprintf("key %q is also the key of line %d", req.OperationKey, first)})
		default:
			keys[req.OperationKey] = r.Line
		}
	}
	if needKeys && len(keyless) > 0 {
		bad = append(bad, rowError{0, fmt.Sprintf("%s no key: set -key-prefix to name this run (e.g. -key-prefix incident-4711), so that running it again resumes instead of rolling back twice",
			describeLines(keyless))})
	}
	if len(bad) > 0 {
		// By line; problems of the whole input (line 0) last.
		slices.SortStableFunc(bad, func(a, b rowError) int {
			return cmp.Compare(uint(a.line-1), uint(b.line-1))
		})
		return nil, bad
	}
	return reqs, nil
}

// checkRequest applies the provider's rules, naming the column at fault.
func checkRequest(p rollback.Provider, req rollback.Request) string {
	if req.Region == "" {
		return "region is empty"
	}
	err := rollback.ValidateRequest(p, req)
	if err == nil {
		return ""
	}
	var e *rollback.Error
	if errors.As(err, &e) && e.Field != "" && e.Message != "" {
		col := columnOf[e.Field]
		if col == "" {
			col = e.Field
		}
		if strings.HasPrefix(e.Message, e.Field+" ") {
			return col + strings.TrimPrefix(e.Message, e.Field)
		}
		return col + ": " + e.Message
	}
	return strings.TrimPrefix(err.Error(), "rollback: ")
}

// targetsOf names what a row changes: its disk and its instance, where
// given. Two rows changing one of them would stop, roll back and start
// the same server at once.
func targetsOf(r row) []string {
	var t []string
	if r.Disk != "" {
		t = append(t, r.Provider+"|"+r.Region+"|disk "+r.Disk)
	}
	if r.Instance != "" {
		t = append(t, r.Provider+"|"+r.Region+"|instance "+r.Instance)
	}
	return t
}

// describeLines says "line 3 has" or "lines 3, 4, 9 and 12 more have".
func describeLines(lines []int) string {
	if len(lines) == 1 {
		return fmt.Sprintf("line %d has", lines[0])
	}
	const show = 5
	s := make([]string, 0, show)
	for _, l := range lines[:min(show, len(lines))] {
		s = append(s, fmt.Sprint(l))
	}
	more := ""
	if len(lines) > show {
		more = fmt.Sprintf(" and %d more", len(lines)-show)
	}
	return "lines " + strings.Join(s, ", ") + more + " have"
}
