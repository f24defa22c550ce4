package invoke

import (
	"context"
	"time"

	"github.com/cloudsnap/rollback/internal/retry"
	"github.com/cloudsnap/rollback/provider"
)

// observer reports one call and its attempts to the client's hooks. It
// exists only when the client has hooks: without them Call allocates
// nothing for it.
type observer struct {
	h    *provider.CallHooks
	clk  interface{ Now() time.Time }
	ctx  context.Context // the call's, as CallStart returned it
	call provider.CallInfo
	att  *provider.AttemptInfo // the attempt whose end is not reported yet
	actx context.Context       // its context
	done bool                  // att has its result
}

func observe(ctx context.Context, in *Invoker, t Target, op string, cfg *retry.Config) *observer {
	ob := &observer{h: &in.Options.Hooks, clk: in.Options.Clock, ctx: ctx}
	ob.call = provider.CallInfo{Provider: in.Provider, Region: t.Region, Action: op,
		InstanceID: t.InstanceID, DiskID: t.DiskID, SnapshotID: t.SnapshotID, Start: ob.clk.Now()}
	if ob.h.CallStart != nil {
		ob.ctx = ob.h.CallStart(ctx, &ob.call)
	}
	// The retry delay is decided after the attempt has failed: its end is
	// reported here, or by end for the last attempt.
	user := cfg.OnRetry
	cfg.OnRetry = func(ev provider.RetryEvent) {
		if user != nil {
			user(ev)
		}
		if a := ob.att; a != nil {
			a.Retry, a.RetryDelay = true, ev.Delay
			a.RetryReason, _, _ = provider.ErrorDetail(ev.Err)
			if a.RetryReason == "" && a.Kind != nil {
				a.RetryReason = a.Kind.Error()
			}
			ob.attemptEnd()
		}
	}
	return ob
}

func (ob *observer) attemptStart(attempt int, waited time.Duration) context.Context {
	if ob.att != nil {
		ob.attemptEnd()
	}
	ob.att = &provider.AttemptInfo{Attempt: attempt, Start: ob.clk.Now(), RateLimitWait: waited}
	ob.done = false
	ob.actx = ob.ctx
	if ob.h.AttemptStart != nil {
		ob.actx = ob.h.AttemptStart(ob.ctx, &ob.call, ob.att)
	}
	return ob.actx
}

// attemptDone records the attempt's result; its end is reported once the
// retry layer has decided what follows.
func (ob *observer) attemptDone(err error, requestID string) {
	a := ob.att
	if a == nil || ob.done {
		return
	}
	ob.done = true
	a.Duration = ob.clk.Now().Sub(a.Start)
	if err == nil {
		a.RequestID, a.HTTPStatus = requestID, 200 // the SDKs succeed on 2xx only
		return
	}
	a.Err, a.Kind = err, provider.ErrorKind(err)
	_, a.RequestID, a.HTTPStatus = provider.ErrorDetail(err)
}

func (ob *observer) attemptEnd() {
	a := ob.att
	ob.att = nil
	if ob.h.AttemptEnd != nil {
		ob.h.AttemptEnd(ob.actx, &ob.call, a)
	}
}

func (ob *observer) end(requestID string, sent int, queued time.Duration, err error) {
	var last *provider.AttemptInfo
	if ob.att != nil {
		last = ob.att
		ob.attemptEnd()
	}
	c := &ob.call
	c.Duration, c.Attempts, c.RateLimitWait = ob.clk.Now().Sub(c.Start), sent, queued
	if err == nil {
		c.RequestID, c.HTTPStatus = requestID, 200
	} else {
		c.Err, c.Kind = err, provider.ErrorKind(err)
		_, c.RequestID, c.HTTPStatus = provider.ErrorDetail(err)
		if c.HTTPStatus == 0 && last != nil {
			c.HTTPStatus = last.HTTPStatus
		}
	}
	if ob.h.CallEnd != nil {
		ob.h.CallEnd(ob.ctx, c)
	}
}
