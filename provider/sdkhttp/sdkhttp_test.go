package sdkhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		raw, def string
		insecure bool
		want     string
		err      string
	}{
		{"", "swas.cn-hangzhou.aliyuncs.com", false, "https://swas.cn-hangzhou.aliyuncs.com", ""},
		{"swas-vpc.cn-hangzhou.aliyuncs.com", "", false, "https://swas-vpc.cn-hangzhou.aliyuncs.com", ""},
		{"HTTPS://example.com:8443/", "", false, "https://example.com:8443", ""},
		{"http://127.0.0.1:8080", "", false, "http://127.0.0.1:8080", ""},
		{"http://localhost:1", "", false, "http://localhost:1", ""},
		{"http://[::1]:1", "", false, "http://[::1]:1", ""},
		{"http://example.com", "", false, "", "plain HTTP on a non-loopback host"},
		{"http://example.com", "", true, "http://example.com", ""},
		{"ftp://example.com", "", false, "", "scheme must be https"},
		{"https://user:pw@example.com", "", false, "", "must not carry user info"},
		{"https://example.com/path", "", false, "", "without a path"},
		{"https://example.com/?a=b", "", false, "", "without a path or query"},
		{"https://", "", false, "", "has no host"},
	}
	for _, tt := range tests {
		ep, err := ParseEndpoint(tt.raw, tt.def, tt.insecure)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseEndpoint(%q) err = %v, want %q", tt.raw, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("error echoes the password: %v", err)
			}
			continue
		}
		if err != nil || ep.URL() != tt.want {
			t.Errorf("ParseEndpoint(%q) = %q, %v; want %q", tt.raw, ep.URL(), err, tt.want)
		}
	}
}

func TestBinderCancelsInFlightRequest(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	b := &Binder{Base: NewTransport()}
	defer b.Base.(*http.Transport).CloseIdleConnections()
	client := &http.Client{Transport: b} // an SDK's client, which knows no context
	ctx, cancel := context.WithCancel(context.Background())
	b.Bind(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := client.Get(srv.URL)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	// The server never answers on its own: returning at all proves the
	// cancellation; the bound only catches a stall, not a busy machine.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}

func TestBinderAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	b := &Binder{Base: tr, Timeout: 30 * time.Millisecond}
	b.Bind(context.Background())
	_, err := (&http.Client{Transport: b}).Get(srv.URL)
	if !errors.Is(err, ErrAttemptTimeout) {
		t.Fatalf("err = %v, want ErrAttemptTimeout", err)
	}
}

func TestBinderBodyReadableAfterReturn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 1<<16))
	}))
	defer srv.Close()
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	b := &Binder{Base: tr, Timeout: time.Second}
	b.Bind(context.Background())
	resp, err := (&http.Client{Transport: b}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(body) != 1<<16 {
		t.Fatalf("read %d bytes, %v", len(body), err)
	}
}

func TestPoolGivesExclusiveClients(t *testing.T) {
	var made atomic.Int32
	p := &Pool[*int32]{New: func(*Binder) (*int32, error) { made.Add(1); return new(int32), nil }}
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				c, release, err := p.Lease(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if !atomic.CompareAndSwapInt32(c, 0, 1) {
					t.Error("client shared between two calls")
				}
				atomic.StoreInt32(c, 0)
				release()
			}
		}()
	}
	wg.Wait()
	if n := made.Load(); n < 1 || n > 32 {
		t.Errorf("made %d clients for 32 goroutines", n)
	}
}

func TestPoolPropagatesNewError(t *testing.T) {
	boom := errors.New("boom")
	p := &Pool[int]{New: func(*Binder) (int, error) { return 0, boom }}
	if _, _, err := p.Lease(context.Background()); err != boom {
		t.Errorf("err = %v", err)
	}
}

func TestAttemptTimeoutMessageSaysItOnce(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	tr := NewTransport()
	defer tr.CloseIdleConnections()
	b := &Binder{Base: tr, Timeout: 20 * time.Millisecond}
	b.Bind(context.Background())
	_, err := (&http.Client{Transport: b}).Get(srv.URL)
	if n := strings.Count(err.Error(), ErrAttemptTimeout.Error()); n != 1 {
		t.Errorf("%q says it %d times", err, n)
	}
}

// inFlightGoroutines counts the goroutines alive while one request through
// rt is blocked at the server, with the client timeout the SDKs set.
func inFlightGoroutines(t *testing.T, rt http.RoundTripper, srvURL string, arrived <-chan struct{}) int {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := (&http.Client{Transport: rt, Timeout: time.Minute}).Get(srvURL)
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-arrived
	time.Sleep(20 * time.Millisecond) // let any watchdog start
	n := runtime.NumGoroutine()
	return n
}

func TestNoWatchdogGoroutinePerRequest(t *testing.T) {
	arrived := make(chan struct{}, 2)
	release := make(chan struct{}, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	plain := &http.Transport{}
	defer plain.CloseIdleConnections()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	b := &Binder{Base: base}
	b.Bind(context.Background())

	withPlain := inFlightGoroutines(t, plain, srv.URL, arrived)
	release <- struct{}{}
	plain.CloseIdleConnections() // its connection's goroutines must not count below
	srv.CloseClientConnections()
	time.Sleep(50 * time.Millisecond)
	withBinder := inFlightGoroutines(t, b, srv.URL, arrived)
	release <- struct{}{}
	// net/http treats our transport like its own: no extra goroutine
	// watching each request's timeout.
	if withBinder > withPlain {
		t.Errorf("%d goroutines with the binder, %d with a plain transport: net/http no longer recognises it", withBinder, withPlain)
	}
}
