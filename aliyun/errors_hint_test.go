package aliyun_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
)

// Hints say what is true of the call that failed.
func TestHintsFitTheCall(t *testing.T) {
	e := newEnv(t, nil, rollback.WithMaxAttempts(1))
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListSnapshots, Code: "InternalError"})
	_, err := e.c.Snapshot(e.ctx, e.srv.Region(), e.snap.ID)
	var re *rollback.Error
	if !errors.As(err, &re) || strings.Contains(re.Hint, "ClientToken") || !strings.Contains(re.Hint, "reads change nothing") {
		t.Errorf("read: %v", err)
	}
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionListInstances, Code: "Throttling.User", HTTPStatus: 400})
	_, err = e.c.Instance(e.ctx, e.srv.Region(), e.in.ID)
	if !errors.As(err, &re) || strings.Contains(re.Hint, "mutating") {
		t.Errorf("throttled read: %v", err)
	}
	e.srv.AddFault(aliyuntest.Fault{Action: aliyuntest.ActionResetDisk, Code: "InternalError"})
	_, err = e.c.Rollback(e.ctx, e.request())
	if !errors.As(err, &re) || !strings.Contains(re.Hint, "same ClientToken is safe") {
		t.Errorf("rollback: %v", err)
	}
}
