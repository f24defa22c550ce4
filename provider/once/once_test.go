package once_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/once"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A third provider: no SDK, no invoker; a retry loop of its own and a
// witness over an in-memory "cloud". The engine needs nothing else.
type cloud struct {
	clk     *clock.Virtual
	applied []time.Time // when each send landed
	lag     time.Duration
}

func (c *cloud) witness(ctx context.Context) (provider.Evidence, error) {
	for _, at := range c.applied {
		if !c.clk.Now().Before(at.Add(c.lag)) {
			return provider.Evidence{Verdict: provider.OursLanded, RequestID: "landed"}, nil
		}
	}
	return provider.Evidence{Verdict: provider.NothingLanded}, nil
}

// call retries up to n times while the error is retryable.
func call(n int) once.Call[struct{}] {
	return func(ctx context.Context, _ string, attempt func(context.Context, int, struct{}) (string, error)) (string, int, error) {
		var err error
		for i := 1; i <= n; i++ {
			var id string
			if id, err = attempt(ctx, i, struct{}{}); err == nil {
				return id, i, nil
			}
			if !provider.IsRetryable(err) {
				break
			}
		}
		return "", n, err
	}
}

var (
	lost = &provider.Error{Kind: provider.ErrNetwork, Ambiguous: true, Message: "reply lost"}
	busy = &provider.Error{Kind: provider.ErrBusy, Message: "latest operation unfinished"}
)

func engine(clk clock.Clock) once.Engine {
	return once.Engine{Provider: "third", Clock: clk, Grace: 10 * time.Second,
		MapError: func(_ string, err error) error { return err }}
}

func mutation(c *cloud, send func(n int) (string, error)) once.Mutation[struct{}] {
	n := 0
	return once.Mutation[struct{}]{
		Op:         "Apply",
		Send:       func(context.Context, struct{}) (string, error) { n++; return send(n) },
		Witness:    c.witness,
		What:       func() string { return "apply" },
		HowToCheck: func() string { return "look" },
	}
}

// A lost reply whose write shows only 5s later: read over the grace, it
// is adopted, not resent.
func TestLaggingWriteIsAdoptedNotResent(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	c := &cloud{clk: clk, lag: 5 * time.Second}
	out, err := once.Do(context.Background(), engine(clk), call(5), mutation(c, func(int) (string, error) {
		c.applied = append(c.applied, clk.Now())
		return "", lost
	}))
	if err != nil || !out.Adopted || out.Sent != 1 || len(c.applied) != 1 {
		t.Fatalf("out %+v, err %v, applied %d", out, err, len(c.applied))
	}
}

// An empty success reply proves nothing: state decides.
func TestEmptyReplyIsAmbiguous(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	c := &cloud{clk: clk}
	out, err := once.Do(context.Background(), engine(clk), call(5), mutation(c, func(int) (string, error) {
		c.applied = append(c.applied, clk.Now())
		return "", nil
	}))
	if err != nil || !out.Adopted || out.RequestID != "landed" || out.Sent != 1 {
		t.Fatalf("out %+v, err %v", out, err)
	}
}

// Busy (or a wrong state) after an ambiguous attempt may be our own
// operation: even when nothing shows, the error stays ambiguous.
func TestBusyAfterAmbiguousStaysAmbiguous(t *testing.T) {
	wrong := &provider.Error{Kind: provider.ErrInstanceState, Message: "instance is Resetting"}
	for _, refusal := range []*provider.Error{busy, wrong} {
		clk := clock.NewAutoVirtual(time.Time{})
		c := &cloud{clk: clk}
		_, err := once.Do(context.Background(), engine(clk), call(3), mutation(c, func(n int) (string, error) {
			if n == 1 {
				return "", lost
			}
			r := *refusal
			return "", &r
		}))
		if !errors.Is(err, refusal.Kind) || !provider.IsAmbiguous(err) {
			t.Fatalf("err = %v (ambiguous %v)", err, provider.IsAmbiguous(err))
		}
	}
}

// Evidence of someone else's change is never success, and stops resends.
func TestCannotTellIsOutcomeUnknown(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	m := mutation(&cloud{clk: clk}, func(int) (string, error) { return "", lost })
	m.Witness = func(context.Context) (provider.Evidence, error) {
		return provider.Evidence{Verdict: provider.CannotTell, Detail: "another rollback"}, nil
	}
	out, err := once.Do(context.Background(), engine(clk), call(5), m)
	if !errors.Is(err, provider.ErrOutcomeUnknown) || out.Sent != 1 {
		t.Fatalf("out %+v, err %v", out, err)
	}
}

// A change under way is read again until it settles; one that settles
// without evidence of ours cannot be told.
func TestSettlingWithoutEvidenceCannotTell(t *testing.T) {
	clk := clock.NewAutoVirtual(time.Time{})
	reads := 0
	ev, err := once.Prove(context.Background(), clk, 10*time.Second, clk.Now(), func(context.Context) (provider.Evidence, error) {
		reads++
		if reads < 3 {
			return provider.Evidence{Verdict: provider.Settling, Detail: "resetting"}, nil
		}
		return provider.Evidence{Verdict: provider.NothingLanded}, nil
	})
	if err != nil || ev.Verdict != provider.CannotTell || reads != 3 {
		t.Fatalf("ev %+v, err %v, reads %d", ev, err, reads)
	}
}
