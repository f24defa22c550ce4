package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudsnap/rollback"
)

// Sentinels by name, most specific first; the name of an error is that of
// the Kind of its outermost *rollback.Error (see Sentinel).
var Sentinels = []struct {
	Name string
	Err  error
}{
	{"ErrOutcomeUnknown", rollback.ErrOutcomeUnknown},
	{"ErrRollbackFailed", rollback.ErrRollbackFailed},
	{"ErrTimeout", rollback.ErrTimeout},
	{"ErrBusy", rollback.ErrBusy},
	{"ErrThrottled", rollback.ErrThrottled},
	{"ErrInternal", rollback.ErrInternal},
	{"ErrNetwork", rollback.ErrNetwork},
	{"ErrInstanceState", rollback.ErrInstanceState},
	{"ErrSnapshotState", rollback.ErrSnapshotState},
	{"ErrSnapshotMismatch", rollback.ErrSnapshotMismatch},
	{"ErrInstanceNotFound", rollback.ErrInstanceNotFound},
	{"ErrDiskNotFound", rollback.ErrDiskNotFound},
	{"ErrSnapshotNotFound", rollback.ErrSnapshotNotFound},
	{"ErrNotFound", rollback.ErrNotFound},
	{"ErrQuotaExceeded", rollback.ErrQuotaExceeded},
	{"ErrUnauthenticated", rollback.ErrUnauthenticated},
	{"ErrPermissionDenied", rollback.ErrPermissionDenied},
	{"ErrInvalidArgument", rollback.ErrInvalidArgument},
	{"Canceled", context.Canceled},
	{"DeadlineExceeded", context.DeadlineExceeded},
}

// SentinelByName returns the sentinel called name.
func SentinelByName(name string) (error, bool) {
	for _, s := range Sentinels {
		if s.Name == name {
			return s.Err, true
		}
	}
	return nil, false
}

// Sentinel names what err says: "" for nil; otherwise what its outermost
// meaningful layer says: the Kind of a *rollback.Error, ErrTimeout for a
// *rollback.TimeoutError (whatever its last read error was), the context's
// error for a *rollback.InterruptedError; else the first sentinel it
// matches, or "other".
func Sentinel(err error) string {
	if err == nil {
		return ""
	}
	for e := err; e != nil; {
		switch x := e.(type) {
		case *rollback.Error:
			if x.Kind != nil {
				return nameOf(x.Kind)
			}
		case *rollback.TimeoutError:
			return "ErrTimeout"
		case *rollback.InterruptedError:
			return nameOf(x.Ctx)
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return nameOf(err)
}

func nameOf(err error) string {
	for _, s := range Sentinels {
		if err == s.Err {
			return s.Name
		}
	}
	for _, s := range Sentinels {
		if errors.Is(err, s.Err) {
			return s.Name
		}
	}
	return "other"
}

// Outcome is how a Run ended, as the matrix and the soak judge it.
type Outcome struct {
	// Step is the failed step ("" on success).
	Step rollback.Step
	// Err is the sentinel's name ("" on success).
	Err string
	// Applied is how many rollbacks the emulator applied to the target.
	Applied int
}

// ParseOutcome reads "ok" (success, one rollback applied) or
// "step:Sentinel/applied", e.g. "check:ErrInternal/0".
func ParseOutcome(s string) (Outcome, error) {
	if s == "ok" {
		return Outcome{Applied: 1}, nil
	}
	step, rest, ok1 := strings.Cut(s, ":")
	name, applied, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || (applied != "0" && applied != "1") {
		return Outcome{}, fmt.Errorf("outcome %q is not ok or step:Sentinel/0|1", s)
	}
	if _, ok := SentinelByName(name); !ok {
		return Outcome{}, fmt.Errorf("outcome %q: no sentinel %s", s, name)
	}
	return Outcome{Step: rollback.Step(step), Err: name, Applied: int(applied[0] - '0')}, nil
}

func (o Outcome) String() string {
	if o.Err == "" && o.Step == "" {
		if o.Applied == 1 {
			return "ok"
		}
		return fmt.Sprintf("ok?/%d", o.Applied)
	}
	return fmt.Sprintf("%s:%s/%d", o.Step, o.Err, o.Applied)
}

// Observe builds the Outcome of a Run.
func Observe(err error, applied int) Outcome {
	o := Outcome{Err: Sentinel(err), Applied: applied}
	var se *rollback.StepError
	if errors.As(err, &se) {
		o.Step = se.Step
	} else if err != nil {
		o.Step = "?"
	}
	return o
}
