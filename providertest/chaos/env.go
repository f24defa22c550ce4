package chaos

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/clock"
)

// Env is one provider client over its own emulator or fake, with the knobs
// the fault matrix and the soak need. Its faults count the calls of every
// target of the Env. Methods are called from one goroutine at a time,
// except Journal, Rollbacks, State and RollbackSucceeded, which the judges
// may call from the emulator's hooks while a Run is under way.
//
// A provider implements the optional interfaces below (Busier, Actors,
// ReadLagger, TokenForgetter, Clients) when its emulator can; the harness
// leaves out what an Env cannot do and still runs the core soak.
type Env interface {
	// Profile describes the provider; it does not change over the Env's
	// life.
	Profile() Profile
	// Provider is the client under test.
	Provider() rollback.Provider
	// Request is the provider's minimal request for tg.
	Request(tg Target) rollback.Request
	// NewTarget seeds an instance with a ready snapshot of the disk the
	// Env rolls back.
	NewTarget(spec TargetSpec) (Target, error)
	// AddFault arms f (its Call is one of Profile().Calls). A kind the Env
	// cannot inject returns an error matching ErrUnsupported.
	AddFault(f Fault) error
	// ClearFaults disarms every fault (not the rollback failures of
	// FailNextRollbacks: FailNextRollbacks(0) does that).
	ClearFaults()
	// FailNextRollbacks makes the next n rollbacks the cloud accepts fail
	// in the cloud (the operation ends FAILED), on any target.
	FailNextRollbacks(n int)
	// Rollbacks counts the rollbacks applied to tg: accepted by the cloud,
	// whether they then succeeded or failed.
	Rollbacks(tg Target) int
	// RollbackSucceeded reports whether a rollback of tg to its snapshot
	// has finished successfully since tg was seeded.
	RollbackSucceeded(tg Target) bool
	// State is the instance's state as the cloud sees it now, normalized.
	State(tg Target) rollback.InstanceState
	// Journal is every call the emulator received, and every change another
	// actor made, oldest first.
	Journal() []Call
	// Secrets are the credentials the client signs with, and Signatures
	// every signature (and Authorization header) it put on the wire so far:
	// none may appear in an error or a log line. An Env whose client signs
	// nothing returns none, and the scan looks for Secrets only.
	Secrets() []string
	Signatures() []string
	// Close stops the emulator and closes the client's connections.
	Close()
}

// Factory makes an Env for cfg. The harness calls it once to read the
// Profile, then for every group of runs.
type Factory func(cfg Config) (Env, error)

// Config builds an Env. The Env must give the emulator and the client the
// same Clock, and apply Options last.
type Config struct {
	// Clock is shared by the emulator and the client.
	Clock clock.Clock
	// CallTimeout is the client's per-attempt timeout (0: 10s, far above
	// anything a loopback call takes, so only injected latency trips it).
	CallTimeout time.Duration
	// Log receives the client's own slog output (nil: discarded).
	Log *Capture
	// OnRequest, when set, sees the name of every call the client sends,
	// before it is sent; the harness arms faults and crashes with it.
	OnRequest func(call string)
	// Durations of the emulated operations (zero fields: the emulator's
	// defaults).
	Durations Durations
	// RateSlack raises the emulator's rate limits by a fifth over the
	// cloud's, which the client still paces to: on a fast scaled clock the
	// jitter of real-time delivery bunches calls that left the client
	// evenly spaced, so a throttle would not mean the client sent too
	// fast.
	RateSlack bool
	// Options are more client options, applied last.
	Options []rollback.Option
	// Variant is one of Profile().Variants, or "" for the Env's usual
	// shape.
	Variant string
}

// Durations are how long the emulated operations take on the clock.
type Durations struct {
	Stop, Start, Rollback, Snapshot time.Duration
}

// Target is a seeded instance, its disk and a ready snapshot of it.
type Target struct {
	InstanceID, DiskID, SnapshotID string
	// Prior is the Env's own note of an earlier rollback to the snapshot
	// (TargetSpec.RolledBack), for RollbackSucceeded; opaque to the harness.
	Prior string
}

// TargetSpec is what NewTarget seeds.
type TargetSpec struct {
	// Running: the instance runs (else it is stopped).
	Running bool
	// RolledBack: an earlier operation rolled the disk back to the
	// snapshot, an hour ago, and the instance has been started since.
	RolledBack bool
}

// Role is what a call does in a rollback.
type Role string

// The roles of a provider's calls.
const (
	RoleRollback Role = "rollback"
	RoleStop     Role = "stop"
	RoleStart    Role = "start"
	RoleSnapshot Role = "snapshot"
	RoleDescribe Role = "describe"
)

// Calls names a provider's API calls by role.
type Calls struct {
	Rollback, Stop, Start, Snapshot string
	// ReadInstance and ReadSnapshot are the reads of one instance and one
	// snapshot; OtherReads are the provider's other reads (a disk lookup).
	ReadInstance, ReadSnapshot string
	OtherReads                 []string
}

// Reads lists every read.
func (c Calls) Reads() []string {
	return append([]string{c.ReadInstance, c.ReadSnapshot}, c.OtherReads...)
}

// Role returns the role of a call, "" for a call c does not name.
func (c Calls) Role(call string) Role {
	switch call {
	case "":
		return ""
	case c.Rollback:
		return RoleRollback
	case c.Stop:
		return RoleStop
	case c.Start:
		return RoleStart
	case c.Snapshot:
		return RoleSnapshot
	}
	if slices.Contains(c.Reads(), call) {
		return RoleDescribe
	}
	return ""
}

// IsRead reports whether call only reads state.
func (c Calls) IsRead(call string) bool { return c.Role(call) == RoleDescribe }

// Of returns the call of a role (describe: the instance read).
func (c Calls) Of(r Role) string {
	return map[Role]string{RoleRollback: c.Rollback, RoleStop: c.Stop, RoleStart: c.Start, RoleSnapshot: c.Snapshot,
		RoleDescribe: c.ReadInstance}[r]
}

// Profile describes a provider to the harness.
type Profile struct {
	// Name names the provider in reports ("aliyun").
	Name string
	// Calls are its API calls by role.
	Calls Calls
	// Kinds are the fault kinds its Env can inject (nil: all of
	// FaultKinds).
	Kinds []FaultKind
	// Sentinels are the sentinels (by name, see Sentinels) a fault kind
	// surfaces as where the provider differs from the defaults: 5xx and
	// gateway-502 ErrInternal, throttle ErrThrottled, busy ErrBusy, reset,
	// lost-reply and slow-reply ErrNetwork. (SWAS has no busy code: its
	// refusal is ErrInstanceState.)
	Sentinels map[FaultKind][]string
	// Variants are other shapes of the Env (Config.Variant), such as
	// rolling back a data disk instead of the system disk: the matrix runs
	// each one for the calls the usual shape does not make, and the soak
	// gives them one sequential unit in five.
	Variants []string
	// Traits are what the cloud cannot tell.
	Traits Traits
}

// Traits are the cloud's limits that the judges must allow for. Each one
// only widens the sentinels accepted: exactly once holds regardless.
type Traits struct {
	// FailuresLeaveNoTrace: a rollback that failed in the cloud leaves
	// nothing that names its snapshot (SWAS records only successful
	// resets), so a Run that did not see it fail may say ErrOutcomeUnknown;
	// and a Run resumed from state alone after such a failure, on a
	// snapshot rolled back to before, cannot tell the failure from the
	// earlier success (a known limitation the soak does not draw).
	FailuresLeaveNoTrace bool
	// NoOperationMark: the cloud keeps no mark of which operation sent a
	// rollback (Lighthouse), so a keyed Run without a checkpoint that
	// outlives the process, on a snapshot rolled back to before, refuses
	// with ErrOutcomeUnknown rather than risk a second rollback.
	NoOperationMark bool
	// RollbackForcesStop: the cloud applies a rollback to a running
	// instance by forcing it off (Lighthouse); with Actors, the world units
	// watch that no Run lets that happen.
	RollbackForcesStop bool
}

// FaultKind is a kind of injected fault.
type FaultKind string

// The fault kinds, in matrix order, and a rollback the cloud fails.
const (
	// Fault5xx is the cloud's internal error instead of applying the call.
	Fault5xx FaultKind = "5xx"
	// FaultGateway is an HTML page with HTTP 502 from a gateway in front of
	// the API, instead of applying the call.
	FaultGateway FaultKind = "gateway-502"
	// FaultThrottle is the cloud's rate-limit refusal.
	FaultThrottle FaultKind = "throttle"
	// FaultBusy is the refusal for an operation in progress (a retryable
	// error).
	FaultBusy FaultKind = "busy"
	// FaultReset resets the connection before the cloud applies anything.
	FaultReset FaultKind = "reset"
	// FaultLostReply applies the call, then drops the connection without a
	// reply: the ambiguous case.
	FaultLostReply FaultKind = "lost-reply"
	// FaultSlowReply holds the reply far longer than the client's
	// per-attempt timeout (the harness sets a short Config.CallTimeout):
	// latency. Whether the cloud still applies the call is the Env's.
	FaultSlowReply FaultKind = "slow-reply"
	// FaultFailRollback is FailNextRollbacks: the rollback is accepted and
	// ends FAILED. Not armed with AddFault.
	FaultFailRollback FaultKind = "fail-rollback"
)

// FaultKinds are the kinds AddFault injects, in matrix order.
var FaultKinds = []FaultKind{Fault5xx, FaultGateway, FaultThrottle, FaultBusy, FaultReset, FaultLostReply, FaultSlowReply}

// ErrUnsupported is what AddFault returns (wrapped) for a kind the Env
// cannot inject.
var ErrUnsupported = errors.New("chaos: fault kind not supported by this Env")

// Fault is a fault to inject into the calls of one API call. It is armed
// when added and counts that call's requests from then on: it fires on
// request number Nth (0 or 1: the next one) and on the Times-1 after it
// (0: once; negative: every request from the Nth on).
type Fault struct {
	// Call is the provider's name of the call (one of Profile().Calls).
	Call string
	// Role is the role of Call, for Envs that fault by role.
	Role Role
	Kind FaultKind
	Nth  int
	// Times is how many requests in a row it fires on.
	Times int
}

// FaultOn is a fault of kind on the call of a role (describe: the
// instance read), fired once on the next request.
func FaultOn(c Calls, r Role, kind FaultKind) Fault {
	return Fault{Call: c.Of(r), Role: r, Kind: kind}
}

func (f Fault) String() string {
	times := strconv.Itoa(max(f.Times, 1))
	if f.Times < 0 {
		times = "all"
	}
	return fmt.Sprintf("%s on %s #%d x%s", f.Kind, f.Call, max(f.Nth, 1), times)
}

// Call is one journaled request, or one change another actor made.
type Call struct {
	Time time.Time // the emulator's clock when it arrived
	Name string    // the provider's name of the call
	// Actor: another actor's change (Actors), not the client's request.
	Actor bool
	// Applied: the call changed state in the cloud.
	Applied   bool
	RequestID string
	// Resources are the IDs the call names (instances, disks, snapshots).
	Resources []string
	// Code is the error code of the reply ("" on success).
	Code string
	// Fault is the kind of the injected fault that fired on it ("" none).
	Fault FaultKind
	// Throttled: the emulator's own rate limit refused it (not a fault).
	Throttled bool
	// Detail is free text for replay dumps (status, parameters).
	Detail string
}

// Names reports whether the call names one of tg's resources.
func (c Call) Names(tg Target) bool {
	return slices.Contains(c.Resources, tg.InstanceID) || (tg.DiskID != "" && slices.Contains(c.Resources, tg.DiskID))
}

// Busier is an Env that can put an operation in progress on an instance.
type Busier interface {
	MakeBusy(tg Target, d time.Duration) error
}

// Actors is an Env whose emulator lets a test act around the client: as
// someone else between its calls, at a chosen request.
type Actors interface {
	// Before and After run f at the n-th request of call counted from the
	// emulator's start (before it is handled, or after it changed state and
	// before the reply), on the request's goroutine.
	Before(call string, n int, f func())
	After(call string, n int, f func())
	// ActorStart, ActorStop, ActorSnapshot and ActorRollback change tg as
	// another actor would (the console, another program), by the cloud's
	// rules; ActorRollback rolls tg back to its snapshot and returns the
	// call's request ID; ActorRollbackOther rolls it back to another
	// snapshot of its disk, made for the purpose.
	ActorStart(tg Target) error
	ActorStop(tg Target) error
	ActorSnapshot(tg Target) error
	ActorRollback(tg Target) (string, error)
	ActorRollbackOther(tg Target) (string, error)
}

// ReadLagger is an Env whose reads can show changes late.
type ReadLagger interface {
	SetReadLag(d time.Duration)
}

// TokenForgetter is an Env whose cloud deduplicates client tokens and can
// forget one d after its first use.
type TokenForgetter interface {
	SetTokenWindow(d time.Duration)
}

// Clients is an Env that can make another client of the same emulator,
// with the Env's configuration: another process. Its signatures join the
// Env's Signatures. Close it with the returned func.
type Clients interface {
	NewClient() (rollback.Provider, func(), error)
}

// Ours are the request IDs of the rollbacks of tg that clients applied
// (other actors' are not counted; deduplicated resends are not applied),
// oldest first.
func Ours(e Env, tg Target) []string {
	rb := e.Profile().Calls.Rollback
	var out []string
	for _, c := range e.Journal() {
		if !c.Actor && c.Applied && c.Name == rb && c.Names(tg) {
			out = append(out, c.RequestID)
		}
	}
	return out
}

// MaxReadLag is the longest read lag the soak's world units draw. Every
// Env the harness makes gets rollback.WithReadGrace beyond it in
// Config.Options: exactly once holds only then.
const MaxReadLag = 2 * time.Minute

// harnessOptions are the client options every Env of the harness gets
// first (the caller's come after).
func harnessOptions(more []rollback.Option) []rollback.Option {
	return append([]rollback.Option{rollback.WithReadGrace(MaxReadLag + 30*time.Second)}, more...)
}

// kindSentinels are the sentinels a fault kind may surface as.
func (p Profile) kindSentinels(kind FaultKind) []string {
	if s, ok := p.Sentinels[kind]; ok {
		return s
	}
	switch kind {
	case Fault5xx, FaultGateway:
		return []string{"ErrInternal"}
	case FaultThrottle, serverThrottle:
		return []string{"ErrThrottled"}
	case FaultBusy:
		return []string{"ErrBusy"}
	case FaultReset, FaultLostReply, FaultSlowReply:
		return []string{"ErrNetwork"}
	case FaultFailRollback:
		return []string{"ErrRollbackFailed"}
	}
	return nil
}

// kinds are the kinds the profile's Env injects.
func (p Profile) kinds() []FaultKind {
	if p.Kinds == nil {
		return FaultKinds
	}
	return p.Kinds
}

func (p Profile) supports(k FaultKind) bool { return slices.Contains(p.kinds(), k) }

// serverThrottle is not injected: a call the emulator's own rate limit
// refused.
const serverThrottle FaultKind = "emulator-throttle"

// probe reads a factory's Profile and optional interfaces from a
// throwaway Env.
func probe(f Factory) (Profile, envCaps, error) {
	e, err := f(Config{Clock: clock.NewAutoVirtual(time.Time{}), Options: harnessOptions(nil)})
	if err != nil {
		return Profile{}, envCaps{}, err
	}
	defer e.Close()
	return e.Profile(), capsOf(e), nil
}

// envCaps are the optional interfaces an Env implements.
type envCaps struct {
	busy, actors, lag, tokens, clients bool
}

func capsOf(e Env) envCaps {
	var c envCaps
	_, c.busy = e.(Busier)
	_, c.actors = e.(Actors)
	_, c.lag = e.(ReadLagger)
	_, c.tokens = e.(TokenForgetter)
	_, c.clients = e.(Clients)
	return c
}
