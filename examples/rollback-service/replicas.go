package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/examples/rollback-service/rollbacksvc"
	"github.com/cloudsnap/rollback/pgstore"
	"github.com/cloudsnap/rollback/pgstore/pgtest"
	"github.com/cloudsnap/rollback/tencent"
	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// runReplicas is -demo -replicas N: N replicas of the service, each with
// its own database pool, clients and listener (as separate processes would
// have), on one PostgreSQL database (-database, else a throwaway server)
// and one emulator of each cloud. It plays five scenarios, checks that each
// rolled its disk back exactly once and that the clouds throttled nothing,
// and exits.
func runReplicas(ctx context.Context, c *config, e env, logger *slog.Logger) int {
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "rollback-service: %v\n", err)
		return exitError
	}
	url := c.database
	if url == "" {
		url = os.Getenv(EnvDatabase)
	}
	if url == "" {
		srv, err := pgtest.Start()
		if err != nil {
			return fail(fmt.Errorf("the replicas demo needs PostgreSQL: give -database, or install the server binaries: %w", err))
		}
		defer srv.Stop()
		if url, err = srv.NewDatabase(ctx); err != nil {
			return fail(err)
		}
		fmt.Fprintln(e.stdout, "Started a throwaway PostgreSQL server for the demo.")
	}
	d := &replicaDemo{clk: clock.NewScaled(c.demoSpeed), logger: logger, url: url, out: e.stdout}
	d.cloud = tencenttest.NewServer(tencenttest.WithClock(d.clk))
	defer d.cloud.Close()
	d.swas = aliyuntest.NewServer(aliyuntest.WithClock(d.clk))
	defer d.swas.Close()
	for i := range c.replicas {
		r, err := d.start(ctx, fmt.Sprintf("replica-%d", i+1))
		if err != nil {
			d.stopAll()
			return fail(err)
		}
		d.replicas = append(d.replicas, r)
	}
	defer d.stopAll()
	fmt.Fprintf(e.stdout, "Demo: %d replicas of the service on one database, one emulator of each cloud at %gx real time.\n", len(d.replicas), c.demoSpeed)
	for _, r := range d.replicas {
		fmt.Fprintf(e.stdout, "  %s on %s\n", r.name, r.url)
	}
	ok := true
	for _, sc := range []func(context.Context) error{d.atOnce, d.inTurn, d.swasAtOnce, d.killed, d.swasKilled} {
		if err := sc(ctx); err != nil {
			fmt.Fprintf(e.stdout, "  FAILED: %v\n", err)
			ok = false
		}
	}
	throttled := 0
	for _, en := range d.cloud.Journal().Entries() {
		if en.Code == tencenttest.CodeRequestLimitExceeded {
			throttled++
		}
	}
	for _, en := range d.swas.Journal().Entries() {
		if strings.HasPrefix(en.Code, "Throttling") {
			throttled++
		}
	}
	fmt.Fprintf(e.stdout, "\nCalls the cloud throttled: %d (the replicas share one rate limit in the database).\n", throttled)
	if !ok || throttled > 0 {
		return exitError
	}
	fmt.Fprintln(e.stdout, "Every scenario: exactly one rollback.")
	return exitOK
}

type replicaDemo struct {
	clk      *clock.Scaled
	logger   *slog.Logger
	url      string
	out      io.Writer
	cloud    *tencenttest.Server
	swas     *aliyuntest.Server
	replicas []*replica
	n        int
}

// replica is one service process, in this one.
type replica struct {
	name   string
	url    string
	store  *pgstore.Store
	cps    *killable
	client *tencent.Client
	ali    *aliyun.Client
	svc    *rollbacksvc.Service
	http   *http.Server
	served chan error
}

func (d *replicaDemo) start(ctx context.Context, name string) (*replica, error) {
	store, err := pgstore.Open(ctx, d.url, pgstore.Options{})
	if err != nil {
		return nil, err
	}
	r := &replica{name: name, store: store, cps: &killable{Checkpointer: store}}
	lim := store.Limiter("demo-account")
	lim.Clock = d.clk
	r.client, err = tencent.New(tencent.Config{Region: tencenttest.DefaultRegion, Endpoint: d.cloud.URL,
		SecretID: tencenttest.DefaultSecretID, SecretKey: tencenttest.DefaultSecretKey},
		rollback.WithClock(d.clk), rollback.WithLogger(d.logger), rollback.WithLimiter(lim))
	if err != nil {
		store.Close()
		return nil, err
	}
	r.ali, err = aliyun.New(aliyun.Config{Region: aliyuntest.DefaultRegion, Endpoint: d.swas.URL,
		AccessKeyID: aliyuntest.DefaultAccessKeyID, AccessKeySecret: aliyuntest.DefaultAccessKeySecret},
		rollback.WithClock(d.clk), rollback.WithLogger(d.logger), rollback.WithLimiter(lim))
	if err != nil {
		r.client.Close()
		store.Close()
		return nil, err
	}
	r.svc = rollbacksvc.New(rollbacksvc.Config{
		Providers:   map[string]rollback.Provider{rollback.ProviderTencent: r.client, rollback.ProviderAliyun: r.ali},
		Checkpoints: r.cps,
		Ready:       store.Ping,
		// A short lease, so that a killed replica's keys free up within
		// the demo: 2 clock minutes, 0.6s at 200x. Much shorter, and a
		// busy machine's pauses outlast a live replica's lease.
		RunOptions: rollback.RunOptions{Clock: d.clk, Logger: d.logger, LeaseTTL: 2 * time.Minute,
			Wait: rollback.WaitOptions{Learner: &rollback.Learner{}}},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.svc.Shutdown(ctx)
		r.client.Close()
		r.ali.CloseIdleConnections()
		store.Close()
		return nil, err
	}
	r.url = "http://" + ln.Addr().String()
	r.http = &http.Server{Handler: r.svc, ReadHeaderTimeout: 10 * time.Second}
	r.served = make(chan error, 1)
	go func() { r.served <- r.http.Serve(ln) }()
	return r, nil
}

// stop shuts the replica down gracefully: its Runs release their keys.
// With kill, its store fails first, as if the process died: its keys stay
// held until their leases end.
func (r *replica) stop(kill bool) {
	if r.http == nil {
		return
	}
	if kill {
		r.cps.kill()
		r.http.Close()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r.http.Shutdown(ctx)
		cancel()
	}
	<-r.served
	r.svc.Shutdown(context.Background())
	r.client.Close()
	r.ali.CloseIdleConnections()
	r.store.Close()
	r.http = nil
}

func (d *replicaDemo) stopAll() {
	for _, r := range d.replicas {
		r.stop(false)
	}
}

// target adds a Lighthouse instance with a snapshot and returns the body
// that rolls it back.
func (d *replicaDemo) target(rollbackTime time.Duration) (string, string, error) {
	d.n++
	id := fmt.Sprintf("lhins-replica%d", d.n)
	if _, err := d.cloud.AddInstance(tencenttest.Instance{ID: id, State: tencenttest.StateStopped}); err != nil {
		return "", "", err
	}
	sn := fmt.Sprintf("lhsnap-replica%d", d.n)
	if _, err := d.cloud.AddSnapshot(tencenttest.Snapshot{ID: sn, InstanceID: id}); err != nil {
		return "", "", err
	}
	return id, `{"provider":"tencent","region":"ap-guangzhou","instance":"` + id + `","snapshot":"` + sn + `"}`, nil
}

type answer struct {
	code int
	st   rollbacksvc.Status
	raw  string
}

func call(ctx context.Context, method, url, key, body string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, raw: string(b)}
	if resp.StatusCode < 300 {
		err = json.Unmarshal(b, &a.st)
	}
	return a, err
}

func (r *replica) post(ctx context.Context, key, body string) (answer, error) {
	return call(ctx, "POST", r.url+"/rollbacks", key, body)
}

// waitEnd follows key from r until it has ended.
func (r *replica) waitEnd(ctx context.Context, key string) (rollbacksvc.Status, error) {
	for {
		a, err := call(ctx, "GET", r.url+"/rollbacks/"+key+"?wait=10s", "", "")
		if err != nil {
			return a.st, err
		}
		if a.code != http.StatusOK {
			return a.st, fmt.Errorf("GET %s from %s: %d %s", key, r.name, a.code, a.raw)
		}
		if a.st.State != rollbacksvc.StateRunning {
			return a.st, nil
		}
	}
}

func (d *replicaDemo) once(id string) error {
	if n := d.cloud.RollbacksOf(id); n != 1 {
		return fmt.Errorf("%s was rolled back %d times", id, n)
	}
	fmt.Fprintf(d.out, "  %s rolled back exactly once.\n", id)
	return nil
}

// atOnce sends one key to every replica at the same moment.
func (d *replicaDemo) atOnce(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n1. The same key sent to every replica at once:")
	id, body, err := d.target(0)
	if err != nil {
		return err
	}
	codes := make([]int, len(d.replicas))
	errs := make([]error, len(d.replicas))
	var wg sync.WaitGroup
	for i, r := range d.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := r.post(ctx, "at-once", body)
			codes[i], errs[i] = a.code, err
		}()
	}
	wg.Wait()
	for i, r := range d.replicas {
		if errs[i] != nil {
			return errs[i]
		}
		fmt.Fprintf(d.out, "  %s answered %d %s\n", r.name, codes[i], http.StatusText(codes[i]))
	}
	st, err := d.replicas[len(d.replicas)-1].waitEnd(ctx, "at-once")
	if err != nil {
		return err
	}
	if st.State != rollbacksvc.StateSucceeded {
		return fmt.Errorf("the operation ended %s", st.State)
	}
	return d.once(id)
}

// inTurn sends a key to one replica, then to the other while it runs, and
// again once it has ended.
func (d *replicaDemo) inTurn(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n2. The same key sent to one replica, then to another:")
	id, body, err := d.target(0)
	if err != nil {
		return err
	}
	a, b := d.replicas[0], d.replicas[1]
	first, err := a.post(ctx, "in-turn", body)
	if err != nil {
		return err
	}
	second, err := b.post(ctx, "in-turn", body)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  %s answered %d, then %s %d (the key is %s's while it runs)\n", a.name, first.code, b.name, second.code, a.name)
	st, err := b.waitEnd(ctx, "in-turn")
	if err != nil {
		return err
	}
	again, err := b.post(ctx, "in-turn", body)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  %s followed it to %s; sent again: %d %s\n", b.name, st.State, again.code, again.st.State)
	if again.code != http.StatusOK || again.st.State != rollbacksvc.StateSucceeded {
		return fmt.Errorf("the key sent again after the end: %d %s", again.code, again.raw)
	}
	return d.once(id)
}

// killed kills a replica while it waits for the rollback; the other one
// finishes the operation once the dead one's lease has ended, and a new
// replica takes the dead one's place.
func (d *replicaDemo) killed(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n4. A replica killed while it waits for the rollback:")
	id, body, err := d.target(0)
	if err != nil {
		return err
	}
	if err := d.kill(ctx, "killed", body); err != nil {
		return err
	}
	return d.once(id)
}

// swasKilled is killed on SWAS: a running server stopped, then the
// replica killed while the rollback runs. The other replica finishes it:
// rolled back once, and started again.
func (d *replicaDemo) swasKilled(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n5. SWAS, a replica killed while it waits for the rollback of a server it stopped:")
	in := aliyuntest.Must(d.swas.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusRunning}))
	sn := aliyuntest.Must(d.swas.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
	body := `{"provider":"aliyun","region":"` + aliyuntest.DefaultRegion + `","disk":"` + in.SystemDiskID + `","snapshot":"` + sn.ID + `","stop":true,"start":true}`
	if err := d.kill(ctx, "swas-killed", body); err != nil {
		return err
	}
	return d.swasOnce(in.ID, in.SystemDiskID)
}

// kill sends key to the first replica, kills it during the rollback's
// wait, has the second finish the operation, and starts a replica in the
// dead one's place.
func (d *replicaDemo) kill(ctx context.Context, key, body string) error {
	a, b := d.replicas[0], d.replicas[1]
	if r, err := a.post(ctx, key, body); err != nil || r.code != http.StatusAccepted {
		return fmt.Errorf("POST to %s: %v %d %s", a.name, err, r.code, r.raw)
	}
	for {
		r, err := call(ctx, "GET", a.url+"/rollbacks/"+key, "", "")
		if err != nil {
			return err
		}
		if r.st.Step == rollback.StepWaitRollback {
			break
		}
		if r.st.State != rollbacksvc.StateRunning {
			return fmt.Errorf("the operation ended before its wait: %s", r.raw)
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.stop(true)
	fmt.Fprintf(d.out, "  %s killed during wait-rollback; its claim on the key stays until its lease ends.\n", a.name)
	refused := 0
	var got answer
	for {
		var err error
		if got, err = b.post(ctx, key, body); err != nil {
			return err
		}
		if got.code != http.StatusConflict {
			break
		}
		refused++
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(d.out, "  %s refused it %d times (409, held), then answered %d.\n", b.name, refused, got.code)
	st, err := b.waitEnd(ctx, key)
	if err != nil {
		return err
	}
	if st.State != rollbacksvc.StateSucceeded || st.Report == nil || !st.Report.Resumed {
		return fmt.Errorf("%s did not resume it: %+v", b.name, st)
	}
	fmt.Fprintf(d.out, "  %s resumed it from the checkpoint: %s.\n", b.name, st.State)
	next, err := d.start(ctx, a.name+"'")
	if err != nil {
		return err
	}
	d.replicas[0] = next
	return nil
}

func (d *replicaDemo) swasOnce(instanceID, diskID string) error {
	view, _ := d.swas.Instance(instanceID)
	if n := d.swas.RollbacksOf(diskID); n != 1 || view.Status != aliyuntest.StatusRunning {
		return fmt.Errorf("disk %s was rolled back %d times, and the server is %s", diskID, n, view.Status)
	}
	fmt.Fprintf(d.out, "  disk %s rolled back exactly once; the server is %s again.\n", diskID, view.Status)
	return nil
}

// swasAtOnce is the SWAS case that once left a server stopped: a running
// server, stop, roll back and start, the same key sent to every replica
// at once. One rollback, and the server runs again.
func (d *replicaDemo) swasAtOnce(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n3. SWAS, a running server (stop, roll back, start), the same key to every replica at once:")
	in := aliyuntest.Must(d.swas.AddInstance(aliyuntest.InstanceSpec{Status: aliyuntest.StatusRunning}))
	sn := aliyuntest.Must(d.swas.AddSnapshot(aliyuntest.SnapshotSpec{DiskID: in.SystemDiskID}))
	body := `{"provider":"aliyun","region":"` + aliyuntest.DefaultRegion + `","disk":"` + in.SystemDiskID + `","snapshot":"` + sn.ID + `","stop":true,"start":true}`
	codes := make([]int, len(d.replicas))
	errs := make([]error, len(d.replicas))
	var wg sync.WaitGroup
	for i, r := range d.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := r.post(ctx, "swas-at-once", body)
			codes[i], errs[i] = a.code, err
		}()
	}
	wg.Wait()
	for i, r := range d.replicas {
		if errs[i] != nil {
			return errs[i]
		}
		fmt.Fprintf(d.out, "  %s answered %d %s\n", r.name, codes[i], http.StatusText(codes[i]))
	}
	st, err := d.replicas[0].waitEnd(ctx, "swas-at-once")
	if err != nil {
		return err
	}
	if st.State != rollbacksvc.StateSucceeded {
		return fmt.Errorf("the operation ended %s", st.State)
	}
	return d.swasOnce(in.ID, in.SystemDiskID)
}

// killable is a Checkpointer that fails from the moment it is killed, as
// a dead process's would: nothing it held is released.
type killable struct {
	rollback.Checkpointer
	dead atomic.Bool
}

var errKilled = errors.New("the replica was killed")

func (k *killable) kill() { k.dead.Store(true) }

func (k *killable) Load(ctx context.Context, key string) (*rollback.Checkpoint, error) {
	if k.dead.Load() {
		return nil, errKilled
	}
	return k.Checkpointer.Load(ctx, key)
}

func (k *killable) Acquire(ctx context.Context, key string, l rollback.Lease) (*rollback.Checkpoint, error) {
	if k.dead.Load() {
		return nil, errKilled
	}
	return k.Checkpointer.Acquire(ctx, key, l)
}

func (k *killable) Save(ctx context.Context, cp *rollback.Checkpoint) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.Checkpointer.Save(ctx, cp)
}

func (k *killable) Release(ctx context.Context, key, owner string) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.Checkpointer.Release(ctx, key, owner)
}
