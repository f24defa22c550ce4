package rollbacksvc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/cloudsnap/rollback"
)

// Two facts must hold across restarts and replicas, so they live in the
// Checkpointer, whatever it is, as permanent or leased claims on companion
// keys ('#' is in no idempotency key or caller name, so these never meet
// an operation's own key):
//
//   - "#request/<key>" is claimed by the request's fingerprint for good:
//     the same key with another body finds it held, a 422.
//   - "#target/<provider>/<region>/<disk or instance>" is claimed by the
//     operation's key while it runs: another key for the same disk finds
//     it held, a 409. The running replica renews the claim as the Run
//     reports progress; the claim ends with the operation, or with its
//     lease when the replica died (the same key resumes at once: it is
//     the owner).
const (
	requestPrefix = "#request/"
	targetPrefix  = "#target/"
	forever       = 100 * 365 * 24 * time.Hour
)

// storeKey scopes a caller's idempotency key: callers never share keys.
func storeKey(caller, key string) string {
	if caller == "" {
		return key
	}
	return caller + "/" + key
}

// fingerprint identifies a request body: the same normalized body gives
// the same fingerprint in every replica and every version of the service.
func fingerprint(body Request) string {
	b, _ := json.Marshal(body)
	sum := sha256.Sum256(b)
	return "request:" + hex.EncodeToString(sum[:16])
}

func targetKey(body Request) string {
	res := body.Disk
	if res == "" {
		res = body.Instance
	}
	return targetPrefix + body.Provider + "/" + body.Region + "/" + res
}

// claimRequest records fp for key, or reports that key was used for
// another request (ErrKeyHeld). created says the claim is new, so that a
// refused request can take it back.
func (s *Service) claimRequest(ctx context.Context, key, fp string) (created bool, err error) {
	cp, err := s.cfg.Checkpoints.Acquire(ctx, requestPrefix+key, rollback.Lease{Owner: fp, Now: s.clk.Now(), TTL: forever})
	return cp == nil && err == nil, err
}

func (s *Service) unclaimRequest(key, fp string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.cfg.Checkpoints.Release(ctx, requestPrefix+key, fp)
}

// claimTarget claims body's disk (or instance) for key, or renews the
// claim; ErrKeyHeld when another key holds it.
func (s *Service) claimTarget(ctx context.Context, key string, body Request) error {
	_, err := s.cfg.Checkpoints.Acquire(ctx, targetKey(body), rollback.Lease{Owner: key, Now: s.clk.Now(), TTL: s.targetTTL})
	return err
}

func (s *Service) unclaimTarget(key string, body Request) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.cfg.Checkpoints.Release(ctx, targetKey(body), key)
}

func isHeld(err error) bool { return errors.Is(err, rollback.ErrKeyHeld) }
