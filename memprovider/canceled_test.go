package memprovider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/memprovider"
)

// A call whose context ends as its attempt starts is not sent, as with an
// HTTP client: the cloud neither applies nor journals it. (The chaos soak's
// crash units end the context there, "before the n-th request".)
func TestCallAfterContextEndedIsNotSent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := memprovider.New(memprovider.WithClock(clock.NewAutoVirtual(time.Time{})), memprovider.WithClientOptions(
		rollback.WithHooks(rollback.Hooks{AttemptStart: func(c context.Context, _ *rollback.CallInfo, _ *rollback.AttemptInfo) context.Context {
			cancel()
			return c
		}})))
	s, err := p.AddServer(memprovider.ServerSpec{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.StartInstance(ctx, s.Region, s.InstanceID)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("StartInstance: %v, want context.Canceled", err)
	}
	if n := len(p.Journal()); n != 0 {
		t.Errorf("the cloud received %d calls, want none: %+v", n, p.Journal())
	}
	if in, _ := p.ViewInstance(s.InstanceID); in.State != rollback.InstanceStopped || in.Busy {
		t.Errorf("the instance is %s (busy %v), want stopped: the start was applied", in.State, in.Busy)
	}
}
