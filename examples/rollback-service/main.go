// Command rollback-service serves safe rollbacks over HTTP, keyed by idempotency
// keys: the rollbacksvc package wired to real clients, with graceful
// shutdown. Try it without an account, against the built-in emulators:
//
//	go run ./examples/rollback-service -demo
//
// and send it the curl commands it prints. Real use (credentials only from
// the environment; a cloud without them is not served):
//
//	rollback-service -addr 127.0.0.1:8080 -state-dir /var/lib/rollback-service -tokens-file /etc/rollback/tokens
//
// or with the clouds named as URLs (rollback.Open), each with its
// provider's default credentials chain:
//
//	rollback-service -cloud tencent://ap-guangzhou -cloud aliyun://cn-hangzhou?profile=ops ...
//
// Replicas behind a load balancer share a PostgreSQL database
// (-database or $ROLLBACK_SERVICE_DATABASE): one Run per key across them,
// the cloud's rate limits for the whole deployment, and each key's request
// fingerprint. See them at work:
//
//	go run ./examples/rollback-service -demo -replicas 2
//
// API (see package rollbacksvc):
//
//	POST /rollbacks        Idempotency-Key: <key>
//	                       {"provider","region","instance","disk","snapshot","stop","backup","start"}
//	GET  /rollbacks/{key}  status; ?wait=30s waits for the end
//	GET  /metrics          Prometheus metrics of calls, retries, throttles, rollbacks
//
// A request's W3C traceparent header makes the rollback it starts part of
// the caller's trace (-trace prints the spans).
//
// On SIGINT or SIGTERM it stops taking requests, cancels the running
// rollbacks and waits for them; their checkpoints stay in -state-dir (or
// the database) and their keys are released, and the same requests sent
// to the next process, or another replica, resume them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/examples/rollback-service/rollbacksvc"
	"github.com/cloudsnap/rollback/internal/cli"
	"github.com/cloudsnap/rollback/tencent"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// env is where the program writes; tests also learn its URL from ready.
type env struct {
	stdout, stderr io.Writer
	ready          func(url string) // called once it listens
}

type config struct {
	addr, stateDir                  string
	aliyunEndpoint, tencentEndpoint string
	cloudFlags                      cli.CloudFlags    // -cloud URLs as given
	clouds                          map[string]string // provider -> -cloud URL
	verbose, demo                   bool
	trace                           bool // spans as JSON lines on stderr
	demoSpeed                       float64
	hardening
}

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

var errHelp = errors.New("help")

const usageHead = `Usage:
  rollback-service -demo [-replicas N]
  rollback-service [-addr 127.0.0.1:8080] [-state-dir DIR | -database URL] [-tokens-file FILE]
                   [-tls-cert FILE -tls-key FILE [-client-ca FILE]] [-allowed-hosts NAMES] [-trace]

Serves safe rollbacks over HTTP, keyed by idempotency keys:

  POST /rollbacks        Idempotency-Key: <key>
                         {"provider","region","instance","disk","snapshot","stop","backup","start"}
  GET  /rollbacks/{key}  status; ?wait=30s waits for the end
  GET  /metrics          Prometheus metrics
  GET  /healthz, /readyz

Callers authenticate with Authorization: Bearer <token> (-tokens-file, or
ROLLBACK_SERVICE_TOKENS="caller:secret,..."), or with a client certificate
(-client-ca). Cloud credentials come only from the environment; a cloud without them is not
served: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET,
TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY. Or name the clouds to
serve as URLs (rollback.Open), each with its provider's default credentials
chain: -cloud tencent://ap-guangzhou -cloud aliyun://cn-hangzhou?profile=ops

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // a mistake gets one line, from run
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen on this address (keep it private: the API rolls disks back)")
	fs.StringVar(&c.stateDir, "state-dir", "", "where operations' checkpoints are kept (default: the user cache directory)")
	fs.StringVar(&c.aliyunEndpoint, "aliyun-endpoint", "", "SWAS API endpoint (default: each region's public HTTPS endpoint)")
	fs.StringVar(&c.tencentEndpoint, "tencent-endpoint", "", "Lighthouse API endpoint (default: the public HTTPS endpoint)")
	fs.Var(&c.cloudFlags, "cloud", "serve this cloud, given as a URL, e.g. tencent://ap-guangzhou?profile=ops (repeat for each cloud; without it, the clouds whose credentials are in the environment)")
	fs.BoolVar(&c.verbose, "v", false, "log every call and poll (structured, on stderr)")
	fs.BoolVar(&c.trace, "trace", false, "write every span (requests, rollbacks, steps, cloud calls) as a JSON line on stderr")
	fs.BoolVar(&c.demo, "demo", false, "serve against both clouds' emulators, in this process (no account needed)")
	fs.Float64Var(&c.demoSpeed, "demo-speed", 100, "demo only: how many times faster than real time the emulators run")
	c.hardening.flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usageHead)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return nil, errHelp
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.demoSpeed <= 0 {
		return nil, errors.New("-demo-speed must be positive")
	}
	if c.replicas > 1 && !c.demo {
		return nil, errors.New("-replicas is a demo: run replicas as separate processes sharing -database")
	}
	if c.demo && len(c.cloudFlags) > 0 {
		return nil, errors.New("-demo serves its own emulated clouds: drop -cloud")
	}
	if err := c.checkClouds(); err != nil {
		return nil, err
	}
	return c, nil
}

func run(ctx context.Context, args []string, e env) int {
	c, err := parseFlags(args, e.stderr)
	if err == errHelp {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "rollback-service: %v\nRun 'rollback-service -help' for usage.\n", err)
		return exitUsage
	}
	logger := slog.New(slog.DiscardHandler)
	if c.verbose {
		logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if c.demo && c.replicas > 1 {
		return runReplicas(ctx, c, e, logger)
	}
	tel, err := newTelemetry(traceTo(c, e.stderr))
	if err != nil {
		fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
		return exitError
	}
	defer tel.close(context.Background())
	cfg := rollbacksvc.Config{RunOptions: rollback.RunOptions{Logger: logger, Hooks: tel.hooks}}
	store, err := c.openStore(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
		return exitUsage
	}
	if store != nil {
		defer store.Close()
	}
	if err := c.guard(&cfg, e); err != nil {
		fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
		return exitUsage
	}
	if c.demo {
		d, err := startDemo(c.demoSpeed, logger, tel.hooks)
		if err != nil {
			fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
			return exitError
		}
		defer d.close()
		cfg.Providers, cfg.RunOptions.Clock, cfg.Checkpoints = d.providers, d.clock, &rollback.MemoryCheckpoints{}
		// Durations learned on a fast clock mean nothing to other waits.
		cfg.RunOptions.Wait.Learner = &rollback.Learner{}
		defer func() {
			fmt.Fprintf(e.stdout, "Rollbacks applied: aliyun %d, tencent %d.\n", d.ali.Rollbacks(), d.tc.Rollbacks())
		}()
		fmt.Fprintf(e.stdout, "Demo: both clouds emulated in this process, running %gx faster than real time.\n", c.demoSpeed)
	} else {
		providers, err := openClouds(ctx, c, logger, append(c.sharedLimits(store), rollback.WithHooks(tel.hooks))...)
		if err != nil {
			fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
			return exitUsage
		}
		defer closeAll(providers)
		dir, err := stateDir(c.stateDir)
		if err != nil {
			fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
			return exitUsage
		}
		cfg.Providers, cfg.Checkpoints = providers, rollback.FileCheckpoints{Dir: dir}
		if store != nil {
			cfg.Checkpoints, cfg.Ready = store, store.Ping
		}
	}
	return serve(ctx, c, e, rollbacksvc.New(cfg), tel.handler)
}

// serve listens until ctx ends, then shuts down: the HTTP server first, so
// no request is cut off, then the rollbacks.
func serve(ctx context.Context, c *config, e env, svc *rollbacksvc.Service, wrap func(http.Handler) http.Handler) int {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
		svc.Shutdown(context.Background())
		return exitError
	}
	url := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: wrap(svc), ReadHeaderTimeout: 10 * time.Second}
	if c.tlsCert != "" {
		url = "https://" + ln.Addr().String()
		if srv.TLSConfig, err = c.tlsConfig(); err != nil {
			ln.Close()
			fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
			svc.Shutdown(context.Background())
			return exitUsage
		}
	}
	c.warnExposed(ln.Addr(), e.stderr)
	served := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
			return
		}
		served <- srv.Serve(ln)
	}()
	fmt.Fprintf(e.stdout, "Serving on %s; Ctrl-C to stop.\n", url)
	if c.demo {
		printDemoRequests(e.stdout, url)
	}
	if e.ready != nil {
		e.ready(url)
	}

	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
		code = exitError
	}
	fmt.Fprintln(e.stdout, "Shutting down: cancelling running rollbacks; their checkpoints stay.")
	stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(stop); err != nil {
		fmt.Fprintf(e.stderr, "rollback-service: HTTP shutdown: %v\n", err)
		code = exitError
	}
	if err := svc.Shutdown(stop); err != nil {
		fmt.Fprintf(e.stderr, "rollback-service: rollbacks still running at exit: %v\n", err)
		code = exitError
	}
	return code
}

// openClouds opens a client for each cloud of -cloud or, without it, for
// each cloud whose credentials are in the environment.
func openClouds(ctx context.Context, c *config, logger *slog.Logger, extra ...rollback.Option) (map[string]rollback.Provider, error) {
	urls := c.clouds
	if len(urls) == 0 {
		urls = map[string]string{}
		if os.Getenv(aliyun.EnvAccessKeyID) != "" {
			urls[rollback.ProviderAliyun] = cli.CloudURL(rollback.ProviderAliyun, "cn-hangzhou", c.aliyunEndpoint, "", false)
		}
		if os.Getenv(tencent.EnvSecretID) != "" {
			urls[rollback.ProviderTencent] = cli.CloudURL(rollback.ProviderTencent, "ap-guangzhou", c.tencentEndpoint, "", false)
		}
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("no cloud credentials in the environment: set %s and %s, or %s and %s, or name the clouds with -cloud (or try -demo)",
			aliyun.EnvAccessKeyID, aliyun.EnvAccessKeySecret, tencent.EnvSecretID, tencent.EnvSecretKey)
	}
	providers := map[string]rollback.Provider{}
	opts := append([]rollback.Option{rollback.WithLogger(logger)}, extra...)
	for name, raw := range urls {
		p, err := rollback.Open(ctx, raw, opts...)
		if err != nil {
			closeAll(providers)
			return nil, err
		}
		providers[name] = p
	}
	return providers, nil
}

// checkClouds maps -cloud's URLs to their providers.
func (c *config) checkClouds() error {
	clouds, err := c.cloudFlags.ByProvider()
	if err != nil {
		return err
	}
	for p := range clouds {
		if p == rollback.ProviderAliyun && c.aliyunEndpoint != "" || p == rollback.ProviderTencent && c.tencentEndpoint != "" {
			return fmt.Errorf("-cloud %s:// and -%s-endpoint: set the endpoint in the URL (?endpoint=)", p, p)
		}
	}
	c.clouds = clouds
	return nil
}

func closeAll(providers map[string]rollback.Provider) {
	for _, p := range providers {
		if c, ok := p.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

func stateDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no -state-dir and no user cache directory: %w", err)
	}
	return filepath.Join(base, "cloudsnap-rollback-service"), nil
}
