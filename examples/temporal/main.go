// Command temporal runs rollbacks as Temporal workflows: a worker, a
// starter, and (for trying it without a cloud account) an emulated
// Lighthouse cloud in its own process, so that the worker can be killed
// and restarted while the cloud keeps its state.
//
//	temporal server start-dev                       # a local Temporal (the temporal CLI)
//	go run ./examples/temporal emulator             # terminal 2: prints a request to try
//	go run ./examples/temporal worker -endpoint http://127.0.0.1:18080
//	go run ./examples/temporal start -key ticket-1 -instance lhins-... -snapshot lhsnap-... -stop -start-after
//
// The worker opens its cloud with rollback.Open: -cloud tencent (with
// -region and -endpoint) or -cloud as a URL,
// tencent://ap-guangzhou?endpoint=http://127.0.0.1:18080. Credentials
// come only from the environment: TENCENTCLOUD_SECRET_ID and
// TENCENTCLOUD_SECRET_KEY, or ALIBABA_CLOUD_ACCESS_KEY_ID and
// ALIBABA_CLOUD_ACCESS_KEY_SECRET (the emulator accepts its defaults,
// which the worker uses when the endpoint is a loopback http:// URL and
// nothing is set).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/internal/cli"
	rtemporal "github.com/cloudsnap/rollback/temporal"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

const usage = `usage: temporal <command> [flags]

commands:
  emulator   serve an emulated Lighthouse cloud on -addr and print a request to try
  worker     run the workers of one cloud (-cloud tencent|aliyun)
  start      start a rollback workflow (-key is its workflow ID) and wait for its report
  fleet      start a fleet workflow from a JSON file of requests
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "emulator":
		err = emulator(ctx, os.Args[2:])
	case "worker":
		err = runWorker(ctx, os.Args[2:])
	case "start":
		err = start(ctx, os.Args[2:])
	case "fleet":
		err = fleet(ctx, os.Args[2:])
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "temporal:", err)
		os.Exit(1)
	}
}

// emulator serves tencenttest on a fixed loopback address, ten times
// faster than real time, with stopped and running servers to roll back.
func emulator(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("emulator", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18080", "loopback address to listen on")
	n := fs.Int("n", 3, "servers to seed")
	speed := fs.Float64("speed", 10, "how much faster than real time the emulated cloud runs")
	_ = fs.Parse(args)
	if host, _, err := net.SplitHostPort(*addr); err != nil || (host != "127.0.0.1" && host != "localhost") {
		return fmt.Errorf("-addr %q: the emulator listens on 127.0.0.1 only", *addr)
	}
	srv := tencenttest.New(tencenttest.WithClock(clock.NewScaled(*speed)))
	var reqs []rollback.Request
	for i := range *n {
		in, err := srv.AddInstance(tencenttest.Instance{State: "RUNNING"})
		if err != nil {
			return err
		}
		sn, err := srv.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
		if err != nil {
			return err
		}
		reqs = append(reqs, rollback.Request{Region: tencenttest.DefaultRegion, InstanceID: in.ID, SnapshotID: sn.ID,
			OperationKey: fmt.Sprintf("demo-%d", i+1)})
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); _ = hs.Close() }()
	fmt.Printf("emulated Lighthouse on http://%s (%gx real time); try:\n", *addr, *speed)
	for _, r := range reqs {
		fmt.Printf("  go run ./examples/temporal start -key %s -region %s -instance %s -snapshot %s -stop -start-after\n",
			r.OperationKey, r.Region, r.InstanceID, r.SnapshotID)
	}
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Printf("rollbacks applied: %d\n", srv.Rollbacks())
	return nil
}

func dial(hostPort, namespace string) (client.Client, error) {
	return client.Dial(client.Options{HostPort: hostPort, Namespace: namespace,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
}

func runWorker(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	hostPort := fs.String("temporal", client.DefaultHostPort, "Temporal frontend host:port")
	namespace := fs.String("namespace", "default", "Temporal namespace")
	cloud := fs.String("cloud", rollback.ProviderTencent, "tencent or aliyun, or the cloud as a URL: tencent://ap-guangzhou?endpoint=http://127.0.0.1:18080")
	region := fs.String("region", "", "default region of the client (with a -cloud name)")
	endpoint := fs.String("endpoint", "", "API endpoint (with a -cloud name; empty: the cloud's; http://127.0.0.1:port for an emulator)")
	prefix := fs.String("queues", rtemporal.DefaultQueuePrefix, "task queue prefix")
	speed := fs.Float64("speed", 1, "with an emulator: its -speed, so waits pace on its clock")
	_ = fs.Parse(args)
	var clk clock.Clock
	if *speed != 1 {
		clk = clock.NewScaled(*speed)
	}
	p, name, err := provider(ctx, *cloud, *region, *endpoint, clk)
	if err != nil {
		return err
	}
	c, err := dial(*hostPort, *namespace)
	if err != nil {
		return err
	}
	defer c.Close()
	acts := rtemporal.NewActivities(p, rtemporal.ActivityOptions{Wait: rollback.WaitOptions{Clock: clk}, Batch: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	ws := rtemporal.NewWorkers(c, *prefix, acts, worker.Options{})
	for _, w := range ws {
		if err := w.Start(); err != nil {
			return err
		}
		defer w.Stop()
	}
	fmt.Fprintf(os.Stderr, "workers for %s on task queues %s, %s and %s-*; Ctrl-C stops them\n",
		name, rtemporal.WorkflowQueue(*prefix), rtemporal.ReadQueue(*prefix, name), rtemporal.ReadQueue(*prefix, name))
	<-ctx.Done()
	return nil
}

// provider opens the cloud client with rollback.Open: cloud is a URL
// ("tencent://ap-guangzhou?endpoint=http://127.0.0.1:18080") or a
// provider's name, which -region and -endpoint complete. Credentials come
// only from the environment (or the provider's default chain); a loopback
// emulator with none there gets the emulator's.
func provider(ctx context.Context, cloud, region, endpoint string, clk clock.Clock) (rollback.Provider, string, error) {
	raw := cloud
	if strings.Contains(cloud, "://") {
		if region != "" || endpoint != "" {
			return nil, "", errors.New("-cloud is a URL: set the region as its host and the endpoint as ?endpoint=, not -region or -endpoint")
		}
	} else {
		if region == "" {
			region = defaultRegions[cloud]
		}
		raw = cli.CloudURL(cloud, region, endpoint, "", false)
	}
	opts := []rollback.Option{rollback.WithClock(clk)}
	u, err := url.Parse(raw)
	if err == nil && u.User == nil {
		if open := emulatorOpener(u); open != nil {
			p, err := open(ctx, u, opts...)
			return p, u.Scheme, err
		}
	}
	p, err := rollback.Open(ctx, raw, opts...)
	if err != nil {
		return nil, "", err
	}
	return p, u.Scheme, nil
}

// defaultRegions are the emulators' regions, the default of -region.
var defaultRegions = map[string]string{
	rollback.ProviderTencent: tencenttest.DefaultRegion,
	rollback.ProviderAliyun:  aliyuntest.DefaultRegion,
}

// emulatorOpener returns the opener of a loopback emulator's URL with the
// emulator's credentials, when the environment holds none; nil otherwise.
func emulatorOpener(u *url.URL) rollback.OpenFunc {
	if !strings.HasPrefix(u.Query().Get("endpoint"), "http://127.0.0.1") {
		return nil
	}
	switch {
	case u.Scheme == rollback.ProviderTencent && os.Getenv(tencent.EnvSecretID) == "":
		return (&tencent.URLOpener{Config: tencent.Config{SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey}}).OpenURL
	case u.Scheme == rollback.ProviderAliyun && os.Getenv(aliyun.EnvAccessKeyID) == "":
		return (&aliyun.URLOpener{Config: aliyun.Config{AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret}}).OpenURL
	}
	return nil
}

// providerName is the provider a -cloud names, as a name or a URL.
func providerName(cloud string) string {
	if scheme, _, ok := strings.Cut(cloud, "://"); ok {
		return strings.ToLower(scheme)
	}
	return cloud
}

type startFlags struct {
	hostPort, namespace, prefix, cloud string
	o                                  rtemporal.Options
}

func (f *startFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.hostPort, "temporal", client.DefaultHostPort, "Temporal frontend host:port")
	fs.StringVar(&f.namespace, "namespace", "default", "Temporal namespace")
	fs.StringVar(&f.prefix, "queues", rtemporal.DefaultQueuePrefix, "task queue prefix")
	fs.StringVar(&f.cloud, "cloud", rollback.ProviderTencent, "tencent or aliyun (or a URL of it: its scheme names it)")
	fs.BoolVar(&f.o.StopIfRunning, "stop", false, "stop a running instance first")
	fs.BoolVar(&f.o.SafetySnapshot, "safety-snapshot", false, "snapshot the disk first")
	fs.BoolVar(&f.o.StartAfter, "start-after", false, "start the instance after the rollback")
	fs.BoolVar(&f.o.DryRun, "dry-run", false, "check and print the plan; change nothing")
	fs.BoolVar(&f.o.NoWait, "no-wait", false, "do not wait for the rollback to finish")
}

func start(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("start", flag.ExitOnError)
	var f startFlags
	f.register(fs)
	var req rollback.Request
	fs.StringVar(&req.OperationKey, "key", "", "operation key: the workflow ID (required)")
	fs.StringVar(&req.Region, "region", "", "region")
	fs.StringVar(&req.InstanceID, "instance", "", "instance ID")
	fs.StringVar(&req.DiskID, "disk", "", "disk ID (SWAS)")
	fs.StringVar(&req.SnapshotID, "snapshot", "", "snapshot ID")
	_ = fs.Parse(args)
	c, err := dial(f.hostPort, f.namespace)
	if err != nil {
		return err
	}
	defer c.Close()
	run, err := rtemporal.Start(ctx, c, rtemporal.WorkflowInput{Provider: providerName(f.cloud), Request: req, Options: f.o, QueuePrefix: f.prefix})
	if err != nil {
		return err // a second start of the same key: WorkflowExecutionAlreadyStarted
	}
	fmt.Fprintf(os.Stderr, "workflow %s (run %s) started; query it with: temporal workflow query -w %s --type %s\n",
		run.GetID(), run.GetRunID(), run.GetID(), rtemporal.QueryProgress)
	var rep rollback.Report
	err = run.Get(ctx, &rep)
	if err != nil {
		if r, ok := rtemporal.ReportOf(err); ok {
			_ = printJSON(r)
		}
		return fmt.Errorf("%w (kind %v)", err, rtemporal.KindOf(err))
	}
	return printJSON(&rep)
}

func fleet(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fleet", flag.ExitOnError)
	var f startFlags
	f.register(fs)
	id := fs.String("id", "", "the fleet workflow's ID (required)")
	file := fs.String("file", "", "JSON array of requests, each with its OperationKey (required)")
	_ = fs.Parse(args)
	b, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	var reqs []rollback.Request
	if err := json.Unmarshal(b, &reqs); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	if *id == "" {
		return errors.New("-id is required")
	}
	c, err := dial(f.hostPort, f.namespace)
	if err != nil {
		return err
	}
	defer c.Close()
	so := rtemporal.StartOptions(f.prefix, *id)
	run, err := c.ExecuteWorkflow(ctx, so, rtemporal.FleetWorkflowName,
		rtemporal.FleetInput{Provider: providerName(f.cloud), Requests: reqs, Options: f.o, QueuePrefix: f.prefix})
	if err != nil {
		return err
	}
	var s rtemporal.FleetSummary
	if err := run.Get(ctx, &s); err != nil {
		return err
	}
	return printJSON(s)
}

func printJSON(v any) error {
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "  ")
	return e.Encode(v)
}
