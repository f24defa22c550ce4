package rollbackcli

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
)

func TestHeartbeat(t *testing.T) {
	var out strings.Builder
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(&out, "", func() time.Time { return now })
	p.deadline = now.Add(time.Hour)
	p.beat()
	if out.Len() != 0 {
		t.Fatalf("a heartbeat at once: %q", out.String())
	}
	now = now.Add(quietFirst)
	p.beat()
	if !strings.Contains(out.String(), "still waiting for the cloud's first reply") || !strings.Contains(out.String(), "gives up in 59m55s") {
		t.Fatalf("after %v of silence: %q", quietFirst, out.String())
	}
	out.Reset()
	now = now.Add(quietRepeat - time.Second)
	p.beat()
	if out.Len() != 0 {
		t.Fatalf("repeated too soon: %q", out.String())
	}
	now = now.Add(time.Second)
	p.beat()
	if !strings.Contains(out.String(), "nothing heard for 20s") {
		t.Fatalf("not repeated: %q", out.String())
	}
	out.Reset()
	p.event(rollbackEvent("rollback"))
	out.Reset()
	now = now.Add(quietFirst)
	p.beat()
	if !strings.Contains(out.String(), "still waiting for the cloud to accept the rollback call") {
		t.Fatalf("after an event: %q", out.String())
	}
}

func rollbackEvent(step string) rollback.Event {
	return rollback.Event{Kind: rollback.EventStepStarted, Step: rollback.Step(step), Percent: -1}
}
