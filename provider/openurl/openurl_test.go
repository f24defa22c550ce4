package openurl_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/openurl"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestQuery(t *testing.T) {
	u, _ := url.Parse("acme://eu-west?endpoint=http://127.0.0.1:1&debug")
	q := openurl.New("acme", u)
	if r, ep, d := q.Region("eu-west"), q.Endpoint("endpoint"), q.Bool("debug"); r != "eu-west" || ep != "http://127.0.0.1:1" || !d {
		t.Fatalf("read %q, %q, %v", r, ep, d)
	}
	if err := q.Err(); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		"acme://user:s3cret@eu-west",   // credentials
		"acme://eu-west#s3cret",        // a fragment
		"other://eu-west",              // another scheme
		"acme://",                      // no region
		"acme://eu-west:1",             // a port
		"acme://eu-west/path",          // a path
		"acme://eu-west?secret=s3cret", // an unknown parameter
		"acme://eu-west?endpoint=http://u:s3cret@h",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		q := openurl.New("acme", u)
		q.Region("eu-west")
		q.Endpoint("endpoint")
		err = q.Err()
		var pe *provider.Error
		if !errors.Is(err, provider.ErrInvalidArgument) || !errors.As(err, &pe) || pe.Provider != "acme" || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}
