package tencent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/invoke"
)

// Lighthouse's mutating actions take no client token, so a resend after a
// lost reply could apply twice. once makes them exactly-once by reading
// state instead: after an ambiguous failure, and before any resend, landed
// reads the resources and says whether the earlier call took effect.

// callTarget names what a call acts on, for the client's hooks.
type callTarget = invoke.Target

func oneID(ids []string) string { return invoke.One(ids) }

// mutation is one state-changing call made exactly once.
type mutation struct {
	op     string
	region string
	target invoke.Target // for the hooks; Region is filled in from region
	// send makes one attempt and returns the request ID.
	send func(*lh.Client) (string, error)
	// landed reads state and reports whether an earlier attempt took
	// effect, with the request ID that did it when known.
	landed func(ctx context.Context) (bool, string, error)
	// what names the call for messages, e.g. "rollback of lhins-1 to
	// lhsnap-1", and check says how a person can tell whether it was
	// applied. Both are only needed when the outcome is unknown, so they
	// are built then, not on every call.
	what, check func() string
}

// outcome is what once reports.
type outcome struct {
	requestID string
	sent      int  // attempts put on the wire
	adopted   bool // an earlier attempt was found to have landed
}

// once runs m through the invoker (rate limit, retries, error mapping).
func (c *Client) once(ctx context.Context, m mutation) (outcome, error) {
	var (
		out       outcome
		ambiguous bool  // some attempt may have been applied
		recheck   bool  // read state before the next send
		cut       bool  // an attempt was cut off by the context mid-flight
		last      error // the last mapped error of a send
	)
	m.target.Region = m.region
	rid, _, err := invoke.CallOn(ctx, c.inv, c.pool(m.region), m.target, m.op, func(ctx context.Context, attempt int, sc *lh.Client) (string, error) {
		if recheck {
			ok, id, rerr := m.landed(ctx)
			if rerr != nil {
				if ctx.Err() != nil {
					return "", ctx.Err()
				}
				return "", c.outcomeUnknown(m, last, rerr)
			}
			if ok {
				out.adopted = true
				return id, nil
			}
			recheck = false
		}
		out.sent++
		id, err := m.send(sc)
		if err == nil {
			return id, nil
		}
		if ctx.Err() != nil {
			cut = true
			return "", err
		}
		mapped := c.mapError(m.op, err)
		last = mapped
		switch {
		case rollback.IsAmbiguous(mapped):
			ambiguous, recheck = true, true
		case ambiguous && errors.Is(mapped, rollback.ErrBusy):
			// Possibly busy with our own earlier attempt.
			recheck = true
		}
		return "", mapped
	})
	if err == nil {
		out.requestID = rid
		if out.adopted {
			c.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "adopted an earlier attempt",
				slog.String("provider", rollback.ProviderTencent), slog.String("op", m.op),
				slog.String("request_id", rid), slog.Int("sent", out.sent))
		}
		return out, nil
	}
	if errors.Is(err, rollback.ErrOutcomeUnknown) {
		return out, err
	}
	if ctx.Err() != nil {
		if ambiguous || cut {
			return out, &rollback.InterruptedError{Ctx: ctx.Err(), Last: c.outcomeUnknown(m, last, ctx.Err())}
		}
		return out, err
	}
	if !ambiguous {
		return out, err
	}
	// Gave up after an attempt that may have landed, or on a refusal that
	// may be caused by it: state decides.
	ok, id, rerr := m.landed(ctx)
	switch {
	case rerr != nil && ctx.Err() != nil:
		// The caller's context ended while reading: say so, and what is
		// unknown.
		return out, &rollback.InterruptedError{Ctx: ctx.Err(), Last: c.outcomeUnknown(m, last, rerr)}
	case rerr != nil:
		return out, c.outcomeUnknown(m, last, rerr)
	case ok:
		out.requestID, out.adopted = id, true
		return out, nil
	}
	var e *rollback.Error
	if errors.As(err, &e) && e.Ambiguous {
		e.Ambiguous = false
		e.Hint = "state read afterwards shows it was not applied; " + e.Hint
	}
	return out, err
}

// outcomeUnknown says that m may have been applied and state cannot tell.
// Its Err is the SDK error of the last attempt (not a *rollback.Error), so
// that it matches no retryable sentinel.
func (c *Client) outcomeUnknown(m mutation, last, readErr error) *rollback.Error {
	e := &rollback.Error{
		Provider: rollback.ProviderTencent, Op: m.op, Kind: rollback.ErrOutcomeUnknown, Ambiguous: true,
		Message: fmt.Sprintf("the %s may have been applied: no reply confirmed it, and the state could not be read to tell (%s)",
			m.what(), c.red.String(readErr.Error())),
		Hint: "do not resend before checking: " + m.check(),
	}
	var le *rollback.Error
	if errors.As(last, &le) {
		e.Code, e.RequestID, e.HTTPStatus = le.Code, le.RequestID, le.HTTPStatus
		e.Err = le.Err
	}
	return e
}
