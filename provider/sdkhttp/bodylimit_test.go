package sdkhttp

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/provider/sdkhttp/http2"
)

// The transport hands the SDKs at most a bounded prefix of a reply.
func TestBodyLimits(t *testing.T) {
	for _, tt := range []struct {
		status int
		size   int
		want   int
	}{
		{502, 50 << 20, http2.MaxErrorBody},
		{404, 1000, 1000},
		{200, 100 << 10, 100 << 10},
		{200, http2.MaxBody + 1<<20, http2.MaxBody},
	} {
		url, _ := testkit.HugeBody(t, tt.status, "", tt.size)
		base := &http.Transport{}
		tr := &http2.Transport{Base: base}
		tr.Bind(context.Background())
		req, _ := http.NewRequest("GET", url, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		base.CloseIdleConnections()
		if err != nil || int(n) != tt.want {
			t.Errorf("status %d, %d bytes: read %d (%v), want %d", tt.status, tt.size, n, err, tt.want)
		}
	}
}
