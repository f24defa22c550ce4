package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// row is one rollback of the input.
type row struct {
	Line     int    `json:"line"` // where it starts in the input, for messages
	Provider string `json:"provider"`
	Region   string `json:"region"`
	Instance string `json:"instance,omitempty"`
	Disk     string `json:"disk,omitempty"`
	Snapshot string `json:"snapshot"`
	Key      string `json:"key,omitempty"`
}

// target names what the row rolls back, for tables and messages.
func (r row) target() string {
	if r.Instance != "" {
		return r.Instance
	}
	return r.Disk
}

// rowError is a problem with one row (line 0: with the input as a whole).
type rowError struct {
	line int
	msg  string
}

// badRows is every problem found in the input.
type badRows []rowError

func (b badRows) Error() string {
	var s strings.Builder
	fmt.Fprintf(&s, "%d problem(s) in the input; nothing was sent:", len(b))
	for _, e := range b {
		if e.line > 0 {
			fmt.Fprintf(&s, "\n  line %d: %s", e.line, e.msg)
		} else {
			fmt.Fprintf(&s, "\n  %s", e.msg)
		}
	}
	return s.String()
}

// maxInput bounds what is read: a million rows is still far below it.
const maxInput = 256 << 20

// columns are the fields of a row, as named in CSV headers and JSON.
var columns = []string{"provider", "region", "instance", "disk", "snapshot", "key"}

// readRows reads the rows of name (or of stdin, name "-") in format (csv,
// json or auto). Malformed rows come back as badRows, all of them, with
// the rows that could be read, so that those are checked too and every
// problem is reported at once.
func readRows(name, format string, r io.Reader) ([]row, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > maxInput {
		return nil, usagef("%s is larger than %d MiB", name, maxInput>>20)
	}
	if format == "auto" {
		format = detectFormat(name, data)
	}
	if format == "json" {
		return readJSON(data)
	}
	return readCSV(data)
}

// detectFormat goes by the file name's extension, else by the first byte:
// JSON starts with '[' (or '{', a mistake readJSON explains); a CSV header
// cannot.
func detectFormat(name string, data []byte) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "json"
	case ".csv":
		return "csv"
	}
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && (t[0] == '[' || t[0] == '{') {
		return "json"
	}
	return "csv"
}

func readCSV(data []byte) ([]row, error) {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // counted here, to name the line
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, badRows{{0, "the input is empty; want a header (provider,region,instance,disk,snapshot[,key]) and rows"}}
	}
	if err != nil {
		return nil, badRows{{csvLine(err), err.Error()}}
	}
	idx, err := csvHeader(header)
	if err != nil {
		line, _ := cr.FieldPos(0)
		return nil, badRows{{line, err.Error()}}
	}
	var rows []row
	var bad badRows
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad = append(bad, rowError{csvLine(err), err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			bad = append(bad, rowError{line, fmt.Sprintf("%d fields, but the header has %d", len(rec), len(header))})
			continue
		}
		r := row{Line: line}
		for col, i := range idx {
			*r.field(col) = strings.TrimSpace(rec[i])
		}
		rows = append(rows, r)
	}
	if len(bad) > 0 {
		return rows, bad
	}
	return rows, nil
}

// csvHeader maps each column name to its index.
func csvHeader(header []string) (map[string]int, error) {
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(columns, h) {
			return nil, fmt.Errorf("unknown column %q in the header; the columns are %s", h, strings.Join(columns, ", "))
		}
		if _, dup := idx[h]; dup {
			return nil, fmt.Errorf("column %q appears twice in the header", h)
		}
		idx[h] = i
	}
	for _, must := range []string{"provider", "region", "snapshot"} {
		if _, ok := idx[must]; !ok {
			return nil, fmt.Errorf("the header lacks a %q column (want provider,region,instance,disk,snapshot[,key])", must)
		}
	}
	return idx, nil
}

func csvLine(err error) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.StartLine
	}
	return 0
}

// field returns the row's field named by a column.
func (r *row) field(col string) *string {
	switch col {
	case "provider":
		return &r.Provider
	case "region":
		return &r.Region
	case "instance":
		return &r.Instance
	case "disk":
		return &r.Disk
	case "snapshot":
		return &r.Snapshot
	}
	return &r.Key
}

// jsonRow is a row as written in JSON input.
type jsonRow struct {
	Provider string `json:"provider"`
	Region   string `json:"region"`
	Instance string `json:"instance"`
	Disk     string `json:"disk"`
	Snapshot string `json:"snapshot"`
	Key      string `json:"key"`
}

func readJSON(data []byte) ([]row, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt field must not be silently empty
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, badRows{{lineAt(data, 0), "the JSON input must be an array of objects with provider, region, instance, disk, snapshot and key"}}
	}
	var rows []row
	var bad badRows
	for dec.More() {
		line := lineAt(data, int(dec.InputOffset()))
		var jr jsonRow
		if err := dec.Decode(&jr); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
				// The decoder cannot go on after a syntax error.
				return rows, append(bad, rowError{line, "bad JSON: " + err.Error()})
			}
			bad = append(bad, rowError{line, strings.TrimPrefix(err.Error(), "json: ")})
			continue
		}
		r := row{Line: line, Provider: jr.Provider, Region: jr.Region, Instance: jr.Instance, Disk: jr.Disk, Snapshot: jr.Snapshot, Key: jr.Key}
		for _, col := range columns {
			*r.field(col) = strings.TrimSpace(*r.field(col))
		}
		rows = append(rows, r)
	}
	if _, err := dec.Token(); err != nil {
		bad = append(bad, rowError{lineAt(data, int(dec.InputOffset())), "bad JSON: " + err.Error()})
	}
	if len(bad) > 0 {
		return rows, bad
	}
	return rows, nil
}

// lineAt returns the line of the first value at or after off, skipping
// the separators before it.
func lineAt(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
		off++
	}
	return 1 + bytes.Count(data[:min(off, len(data))], []byte("\n"))
}
