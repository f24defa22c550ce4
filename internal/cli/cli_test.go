package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/cli/clitest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func readme(t *testing.T) string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// README's exit-code table says what -help says, code by code.
func TestREADMEExitCodes(t *testing.T) {
	doc := readme(t)
	row := regexp.MustCompile(`^\s*(\d+)  (.*)$`)
	n := 0
	for _, line := range strings.Split(ExitCodeHelp, "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n++
		want := fmt.Sprintf("| %s | %s |", m[1], m[2])
		// README marks flags as code.
		want = regexp.MustCompile(`(-[a-z][a-z-]*)`).ReplaceAllString(want, "`$1`")
		if !strings.Contains(doc, want) {
			t.Errorf("README lacks the row %s", want)
		}
		if _, ok := ExitNames[mustAtoi(m[1])]; !ok {
			t.Errorf("exit code %s has no name", m[1])
		}
	}
	if n != len(ExitNames) {
		t.Errorf("%d codes in the table, %d names", n, len(ExitNames))
	}
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// README's JSON section names every field of the schema.
func TestREADMEJSONFields(t *testing.T) {
	doc := readme(t)
	section := doc[strings.Index(doc, "### JSON output"):]
	section = section[:strings.Index(section, "\n## ")]
	for _, v := range []any{Header{}, Error{}, Report{}, Step{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			if !regexp.MustCompile(`\b` + name + `\b`).MatchString(section) {
				t.Errorf("README's JSON section lacks %s.%s (%q)", typ.Name(), typ.Field(i).Name, name)
			}
		}
	}
	for _, name := range ExitNames {
		if !strings.Contains(section, name) {
			t.Errorf("README's JSON section lacks exit_name %q", name)
		}
	}
}

func TestExitCode(t *testing.T) {
	unknownCut := fmt.Errorf("%w (%w)", &rollback.Error{Kind: rollback.ErrOutcomeUnknown}, context.DeadlineExceeded)
	tests := []struct {
		err       error
		resumable bool
		want      int
	}{
		{nil, false, ExitOK},
		{context.DeadlineExceeded, false, ExitTimeout}, // was 10 in rollback, 8 in fleet
		{context.Canceled, false, ExitInterrupted},
		{unknownCut, false, ExitUnknown},
		{unknownCut, true, ExitTimeout},
		{&rollback.Error{Kind: rollback.ErrSnapshotMismatch}, false, ExitWrongState},
		{&rollback.Error{Kind: rollback.ErrThrottled}, false, ExitBusy},
		{UsageError("x"), false, ExitUsage},
		{fmt.Errorf("no tty: %w", ErrNotConfirmed), false, ExitNotConfirmed},
		{errors.New("other"), false, ExitError},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err, tt.resumable); got != tt.want {
			t.Errorf("ExitCode(%v, %v) = %d, want %d", tt.err, tt.resumable, got, tt.want)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(null) || IsTerminal(r) || IsTerminal(strings.NewReader("")) {
		t.Error("/dev/null, a pipe or a reader taken for a terminal")
	}
	master, slave := clitest.OpenPTY(t)
	defer master.Close()
	defer slave.Close()
	if !IsTerminal(slave) {
		t.Error("a pseudo-terminal not taken for a terminal")
	}
}
