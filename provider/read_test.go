package provider_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

func TestBatchReader(t *testing.T) {
	var calls [][]string
	cloud := map[string]bool{"a": true, "b": true, "c": true, "e": true}
	r := provider.BatchReader[string]{
		Max: 2,
		ID:  func(s string) string { return s },
		Read: func(_ context.Context, ids []string) ([]string, string, error) {
			calls = append(calls, slices.Clone(ids))
			var out []string
			for _, id := range slices.Backward(ids) { // replies need not keep the order
				if cloud[id] {
					out = append(out, id)
				}
			}
			return append(out, "z"), "req-1", nil // and may hold what was not asked
		},
	}
	got, err := r.Many(context.Background(), []string{"e", "a", "d", "a", "c"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"e", "a", "c"}; !slices.Equal(got, want) {
		t.Errorf("Many = %v, want %v (order asked, each once, absent left out)", got, want)
	}
	if want := [][]string{{"e", "a"}, {"d", "c"}}; !slices.EqualFunc(calls, want, slices.Equal) {
		t.Errorf("calls %v, want %v", calls, want)
	}

	bad := errors.New("bad ID")
	calls = nil
	if _, err := r.Many(context.Background(), []string{"a", "x"}, func(id string) error {
		if id == "x" {
			return bad
		}
		return nil
	}); !errors.Is(err, bad) || calls != nil {
		t.Errorf("a bad ID: %v, calls %v; want the check's error and nothing sent", err, calls)
	}

	if v, err := r.One(context.Background(), "b", nil); v != "b" || err != nil {
		t.Errorf("One(b) = %q, %v", v, err)
	}
	var rid string
	_, err = r.One(context.Background(), "d", func(id string) error { rid = id; return bad })
	if !errors.Is(err, bad) || rid != "req-1" {
		t.Errorf("One(d) = %v with request %q; want notFound of the reply's request", err, rid)
	}
	r.Read = func(context.Context, []string) ([]string, string, error) { return nil, "", bad }
	if _, err := r.Many(context.Background(), []string{"a"}, nil); !errors.Is(err, bad) {
		t.Errorf("a failed read: %v", err)
	}
}

func TestPriors(t *testing.T) {
	p := provider.Priors{"rollback": {time.Second, 2 * time.Second}}
	if lo, hi, ok := p.WaitPrior("rollback"); lo != time.Second || hi != 2*time.Second || !ok {
		t.Errorf("WaitPrior(rollback) = %v, %v, %v", lo, hi, ok)
	}
	if _, _, ok := p.WaitPrior("snapshot"); ok {
		t.Error("a prior for an op not in the table")
	}
	var _ provider.WaitPriors = p
}

func TestNotFound(t *testing.T) {
	err := provider.NotFound("acme", "DescribeServers", provider.ErrInstanceNotFound, "req-1", "server", "srv-1", "eu-west")
	if !errors.Is(err, provider.ErrInstanceNotFound) || err.RequestID != "req-1" || err.Provider != "acme" || err.Op != "DescribeServers" ||
		err.Message != "server srv-1 does not exist in eu-west" || err.Hint != "check the server ID and the region" {
		t.Errorf("NotFound = %+v", err)
	}
}
