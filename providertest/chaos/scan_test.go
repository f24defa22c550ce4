package chaos

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/cloudsnap/rollback"
)

// The scanner must see what it is meant to see, or every clean scan in the
// matrix and the soak would mean nothing.
func TestScannerFindsLeaks(t *testing.T) {
	sc := NewScanner([]string{"s3cr3t-key/+="}, []string{"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"})
	for text, leak := range map[string]bool{
		"all clean":                                            false,
		"key s3cr3t-key/+= in the open":                        true,
		"escaped s3cr3t-key%2F%2B%3D in a URL":                 true,
		"Signature=[REDACTED]&AccessKeyId=[REDACTED]":          false,
		"Signature=%5BREDACTED%5D":                             false,
		"Signature=abcdef0123":                                 true,
		"Authorization: TC3-HMAC-SHA256 Credential=[REDACTED]": true,
		"sig Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA= there":            true,
		"sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D there":          true,
		`"0f1e2d3c4b5a69788796a5b4c3d2e1f0"`:                   true,
		"0f1e2d3c4b5a69788796a5b4c3d2e1f00 is longer":          false,
	} {
		if got := len(sc.Leaks(text)) > 0; got != leak {
			t.Errorf("Leaks(%q) = %v, want leak %v", text, sc.Leaks(text), leak)
		}
	}
}

func TestCaptureKeepsRawValues(t *testing.T) {
	c := NewCapture()
	l := slog.New(c).With("provider", "x").WithGroup("g")
	l.Debug("msg", "err", errors.New(`quoted "s3cr3t" & <b>`), slog.Group("h", "k", 1))
	lines := c.Lines()
	if len(lines) != 1 || lines[0] != `DEBUG msg provider=x g.err=quoted "s3cr3t" & <b> g.h.k=1` {
		t.Errorf("lines %q", lines)
	}
}

func TestSentinelNamesTheOutermostLayer(t *testing.T) {
	inner := &rollback.Error{Kind: rollback.ErrInternal}
	for err, want := range map[error]string{
		nil: "",
		&rollback.StepError{Step: rollback.StepRollback, Err: inner}:                             "ErrInternal",
		&rollback.StepError{Err: &rollback.TimeoutError{LastErr: inner}}:                         "ErrTimeout",
		&rollback.InterruptedError{Ctx: errors.New("x"), Last: inner}:                            "other",
		fmt.Errorf("wrapped: %w", &rollback.Error{Kind: rollback.ErrOutcomeUnknown, Err: inner}): "ErrOutcomeUnknown",
	} {
		if got := Sentinel(err); got != want {
			t.Errorf("Sentinel(%v) = %q, want %q", err, got, want)
		}
	}
}
