// Package once is the exactly-once engine every provider's mutating calls
// go through. It owns the rules; a provider supplies only its evidence,
// the way a waiter takes acceptors:
//
//   - Send makes one attempt on the wire;
//   - Witness reads the cloud and judges it against the baseline the
//     provider recorded before the first attempt (provider.Evidence);
//   - Check, optionally, re-reads the preconditions before every attempt
//     after the first (Lighthouse refuses a RUNNING instance each time,
//     since the cloud would force it off);
//   - Deduplicated says the cloud itself drops resends (a client token),
//     so a resend within the call needs no proof.
//
// The rules: an attempt that fails in a way that may have applied it
// (lost reply, timeout, 5xx, an empty success reply) is ambiguous. After
// an ambiguous attempt, a resend of a call the cloud does not deduplicate
// goes out only on positive evidence that nothing landed, read at least
// Grace after that attempt (reads lag writes). Evidence that ours landed
// is success (Adopted); anything else (a foreign change, an unreadable
// state) is ErrOutcomeUnknown. A busy (or wrong-state) refusal after an
// ambiguous attempt may be our own operation running: the error stays
// ambiguous, whatever a later reading shows. A success reply carrying the request ID of an
// earlier failed attempt's reply (the cloud answering a resent token with
// the first answer) is Adopted.
//
// A third provider needs no change here: only a Mutation.
package once

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// Witness reads the cloud once and judges it against the provider's
// baseline.
type Witness func(ctx context.Context) (provider.Evidence, error)

// Call runs attempt through the provider's call path (rate limit, retries,
// error mapping; provider/invoke) and returns the request ID of the
// attempt that succeeded and how many attempts ran.
type Call[C any] func(ctx context.Context, op string, attempt func(ctx context.Context, n int, client C) (string, error)) (string, int, error)

// Mutation is one state-changing call and its evidence.
type Mutation[C any] struct {
	Op string
	// Send makes one attempt and returns the reply's request ID, or the
	// SDK's error. An empty request ID with no error is a reply that
	// proves nothing (an empty or "{}" body): ambiguous.
	Send func(ctx context.Context, client C) (string, error)
	// Witness judges the cloud against the baseline. Required.
	Witness Witness
	// Check, when set, runs before every attempt after the first. Its
	// error refuses the attempt (a retryable one is retried).
	Check func(ctx context.Context) error
	// Deduplicated: the cloud applies resends of this call at most once
	// (a client token), so resending within the call needs no proof.
	Deduplicated bool
	// What names the call for messages ("rollback of lhins-1 to
	// lhsnap-1"); HowToCheck says how a person can tell whether it was
	// applied. Built only when needed.
	What, HowToCheck func() string
}

// Engine holds what every Mutation of one provider client shares.
type Engine struct {
	Provider string
	Clock    clock.Clock
	// Grace: how long after an ambiguous attempt a reading must be made
	// before it may prove that nothing landed.
	Grace    time.Duration
	MapError func(op string, err error) error
	Logger   *slog.Logger
}

// Outcome is what Do reports on success.
type Outcome struct {
	RequestID string
	Sent      int  // attempts put on the wire
	Adopted   bool // an earlier attempt was found to have landed
	Detail    string
}

// Prove reads w over the grace window after since, the end of the last
// attempt that may have landed, and returns its evidence. It reads at once
// (a short operation that fails, on a cloud that records only successes,
// is seen only while it runs) and, unless that reading already decides,
// again once grace has passed since since (reads lag writes): only a
// reading made that late may prove that nothing landed. A Settling reading
// is read again every grace until it settles (for up to
// provider.DefaultRollbackTimeout, then CannotTell); one that settles into
// "nothing landed" is CannotTell: what ran may have been ours and failed.
func Prove(ctx context.Context, clk clock.Clock, grace time.Duration, since time.Time, w Witness) (provider.Evidence, error) {
	clk = clock.Or(clk)
	if grace <= 0 {
		grace = provider.DefaultReadGrace
	}
	var settling *provider.Evidence
	deadline := clk.Now().Add(provider.DefaultRollbackTimeout)
	for {
		ev, err := w(ctx)
		if err != nil {
			return ev, err
		}
		switch ev.Verdict {
		case provider.Settling:
			settling = &ev
			if !clk.Now().Before(deadline) {
				return provider.Evidence{Verdict: provider.CannotTell, Detail: ev.Detail + "; still so after " + provider.DefaultRollbackTimeout.String()}, nil
			}
			if err := clock.Sleep(ctx, clk, grace); err != nil {
				return provider.Evidence{}, err
			}
			continue
		case provider.NothingLanded:
			if settling != nil {
				return provider.Evidence{Verdict: provider.CannotTell,
					Detail: settling.Detail + "; it ended without evidence of this rollback (it failed, or was another's)"}, nil
			}
			if wait := since.Add(grace).Sub(clk.Now()); wait > 0 && !since.IsZero() {
				// Too early to trust: read again when the grace is over.
				if err := clock.Sleep(ctx, clk, wait); err != nil {
					return provider.Evidence{}, err
				}
				continue
			}
		}
		return ev, nil
	}
}

// run carries one Do.
type run[C any] struct {
	e Engine
	m Mutation[C]

	out       Outcome
	ambiguous bool      // some attempt may have landed
	needProof bool      // read evidence before the next send
	busyAfter bool      // the last refusal was "busy" after an ambiguous attempt
	cut       bool      // an attempt was cut off by the context mid-flight
	lastAmbAt time.Time // when the last ambiguous attempt ended
	last      error     // the last mapped error of a send
	seen      map[string]bool
	final     error // a verdict that ends the call (outcome unknown)
}

// Do runs m exactly once through call.
func Do[C any](ctx context.Context, e Engine, call Call[C], m Mutation[C]) (Outcome, error) {
	e.Clock = clock.Or(e.Clock)
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	r := &run[C]{e: e, m: m, seen: map[string]bool{}}
	rid, _, err := call(ctx, m.Op, r.attempt)
	if err == nil {
		r.out.RequestID = rid
		if r.seen[rid] {
			r.out.Adopted = true
		}
		if r.out.Adopted {
			e.Logger.LogAttrs(ctx, slog.LevelWarn, "adopted an earlier attempt",
				slog.String("provider", e.Provider), slog.String("op", m.Op),
				slog.String("request_id", rid), slog.Int("sent", r.out.Sent), slog.String("evidence", r.out.Detail))
		}
		return r.out, nil
	}
	if r.final != nil {
		return r.out, r.final
	}
	if errors.Is(err, provider.ErrOutcomeUnknown) {
		return r.out, err
	}
	if ctx.Err() != nil {
		// A deduplicated call may simply be sent again with its token: the
		// caller's cancellation is the whole story.
		if (r.ambiguous || r.cut) && !m.Deduplicated {
			return r.out, &provider.InterruptedError{Ctx: ctx.Err(), Last: r.unknown(ctx.Err(), "")}
		}
		return r.out, err
	}
	if !r.ambiguous {
		return r.out, err
	}
	// Gave up after an attempt that may have landed, or on a refusal that
	// may be caused by it: evidence decides.
	ev, rerr := Prove(ctx, e.Clock, e.Grace, r.lastAmbAt, m.Witness)
	switch {
	case rerr != nil && ctx.Err() != nil:
		return r.out, &provider.InterruptedError{Ctx: ctx.Err(), Last: r.unknown(rerr, "")}
	case rerr != nil:
		return r.out, r.unknown(rerr, "")
	case ev.Verdict == provider.OursLanded:
		r.out.RequestID, r.out.Adopted, r.out.Detail = ev.RequestID, true, ev.Detail
		e.Logger.LogAttrs(ctx, slog.LevelWarn, "adopted an earlier attempt",
			slog.String("provider", e.Provider), slog.String("op", m.Op),
			slog.String("request_id", ev.RequestID), slog.Int("sent", r.out.Sent), slog.String("evidence", ev.Detail))
		return r.out, nil
	case ev.Verdict == provider.CannotTell:
		return r.out, r.unknown(nil, ev.Detail)
	}
	var re *provider.Error
	if errors.As(err, &re) {
		if r.busyAfter {
			// Refused as busy after an attempt that may have landed: the
			// operation keeping it busy may be ours, even if no reading
			// shows it yet.
			re.Ambiguous = true
			re.Hint = "the refusal came after an attempt that may have landed, and the operation in progress may be that one: check before resending (" + m.HowToCheck() + ")"
		} else if re.Ambiguous && !m.Deduplicated {
			re.Ambiguous = false
			re.Hint = "state read afterwards shows it was not applied; " + re.Hint
		}
		// A deduplicated call (SWAS) stays ambiguous: its evidence cannot
		// tell a call never applied from one applied that failed at once
		// (a failed reset leaves no RollbackTime), and resending the same
		// token is safe anyway.
	}
	if ctx.Err() != nil {
		// The caller gave up while the state was read (the reading still
		// counts: nothing landed). Say both.
		return r.out, &provider.InterruptedError{Ctx: ctx.Err(), Last: err}
	}
	return r.out, err
}

// attempt is one turn of the retry loop: prove and check if needed, then
// send.
func (r *run[C]) attempt(ctx context.Context, n int, client C) (string, error) {
	if r.out.Sent > 0 {
		if r.needProof && !r.m.Deduplicated {
			ev, err := Prove(ctx, r.e.Clock, r.e.Grace, r.lastAmbAt, r.m.Witness)
			if err != nil {
				if ctx.Err() != nil {
					return "", ctx.Err()
				}
				r.final = r.unknown(err, "")
				return "", r.final
			}
			switch ev.Verdict {
			case provider.OursLanded:
				r.out.Adopted, r.out.Detail = true, ev.Detail
				return ev.RequestID, nil
			case provider.CannotTell:
				r.final = r.unknown(nil, ev.Detail)
				return "", r.final
			}
			r.needProof = false
		}
		if r.m.Check != nil {
			if err := r.m.Check(ctx); err != nil {
				return "", err
			}
		}
	}
	r.out.Sent++
	id, err := r.m.Send(ctx, client)
	if err == nil && id != "" {
		return id, nil
	}
	if err != nil && ctx.Err() != nil {
		r.cut = true
		return "", err
	}
	var mapped error
	if err == nil {
		mapped = &provider.Error{Provider: r.e.Provider, Op: r.m.Op, Kind: provider.ErrInternal, Ambiguous: true,
			Message: "the cloud answered with a reply that names no request (an empty body?); it proves nothing",
			Hint:    "the call may or may not have been applied; state decides"}
	} else {
		mapped = r.e.MapError(r.m.Op, err)
	}
	r.last = mapped
	var re *provider.Error
	if errors.As(mapped, &re) && re.RequestID != "" {
		r.seen[re.RequestID] = true
	}
	switch {
	case provider.IsAmbiguous(mapped):
		r.ambiguous, r.needProof, r.busyAfter = true, true, false
		r.lastAmbAt = r.e.Clock.Now()
	case r.ambiguous && (errors.Is(mapped, provider.ErrBusy) || errors.Is(mapped, provider.ErrInstanceState)):
		// Possibly busy with, or moved out of the required state by, our
		// own earlier attempt (SWAS refuses a Resetting instance as a
		// wrong state).
		r.needProof, r.busyAfter = true, true
	default:
		r.busyAfter = false
	}
	return "", mapped
}

// unknown says that the call may have been applied and the state cannot
// tell. Its Err is the last attempt's SDK error (not a *provider.Error),
// so that it matches no retryable sentinel.
func (r *run[C]) unknown(readErr error, seen string) *provider.Error {
	why := "the state could not be read to tell"
	if readErr != nil {
		why += " (" + readErr.Error() + ")"
	}
	if seen != "" {
		why = "the state shows what this call cannot claim as its own: " + seen
	}
	e := &provider.Error{
		Provider: r.e.Provider, Op: r.m.Op, Kind: provider.ErrOutcomeUnknown, Ambiguous: true,
		Message: fmt.Sprintf("the %s may have been applied: no reply confirmed it, and %s", r.m.What(), why),
		Hint:    "do not resend before checking: " + r.m.HowToCheck(),
	}
	var le *provider.Error
	if errors.As(r.last, &le) {
		e.Code, e.RequestID, e.HTTPStatus = le.Code, le.RequestID, le.HTTPStatus
		e.Err = le.Err
	}
	return e
}
