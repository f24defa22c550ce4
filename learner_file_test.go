package rollback

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

func TestLearnerFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", LearnerFileName)
	l := OpenLearner(path)
	if est := l.estimate("tencent/rollback"); est.hi != 0 {
		t.Fatalf("fresh learner knows %v", est)
	}
	l.ObserveRange("tencent/rollback", 58*time.Second, 61*time.Second)
	l.ObserveRange("aliyun/rollback", 44*time.Second, 46*time.Second)

	// A new process starts from the file.
	l2 := OpenLearner(path)
	if got, want := l2.estimate("tencent/rollback"), l.estimate("tencent/rollback"); got != want || got.hi == 0 {
		t.Fatalf("loaded estimate %v, want %v", got, want)
	}
	if got := l2.estimate("aliyun/rollback"); got.hi != 46*time.Second {
		t.Fatalf("aliyun estimate %v", got)
	}
	// What the second process learns reaches the first on its next save.
	l2.ObserveRange("tencent/snapshot", 80*time.Second, 90*time.Second)
	l.ObserveRange("tencent/rollback", 59*time.Second, 60*time.Second)
	if got := l.estimate("tencent/snapshot"); got.hi != 90*time.Second {
		t.Fatalf("merge on save: snapshot estimate %v", got)
	}
}

func TestLearnerFileIgnoresCorruptAndOtherVersions(t *testing.T) {
	for name, content := range map[string]string{
		"corrupt":       `{"version":1,"kinds":{"a/rollback":{"spans_ms":[[1,`,
		"other version": `{"version":2,"kinds":{"a/rollback":{"seq":1,"spans_ms":[[1000,2000]]}}}`,
		"not json":      "\x00\x01garbage",
		"bad spans":     `{"version":1,"kinds":{"a/rollback":{"seq":1,"spans_ms":[[5000,1000],[-1,3],[0,0],[1,999999999999]]}}}`,
		"too large":     `{"version":1,"pad":"` + string(make([]byte, learnerFileMax)) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), LearnerFileName)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			l := OpenLearner(path)
			if est := l.estimate("a/rollback"); est.hi != 0 {
				t.Fatalf("learned %v from a bad file", est)
			}
			// The next save replaces it with a good file.
			l.ObserveRange("a/rollback", time.Second, 2*time.Second)
			if est := OpenLearner(path).estimate("a/rollback"); est.hi != 2*time.Second {
				t.Fatalf("after save: %v", est)
			}
		})
	}
}

func TestLearnerFileBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), LearnerFileName)
	mem := &Learner{} // observe without saving each time, then save once
	for k := range 2 * learnerMaxKinds {
		for i := range 2 * learnerSamples {
			mem.ObserveRange(fmt.Sprintf("p/kind-%d", k), time.Duration(i)*time.Second, time.Duration(i+1)*time.Second)
		}
	}
	l := OpenLearner(path)
	l.file.unsaved = mem.samples
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f learnerFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Kinds) != learnerMaxKinds {
		t.Fatalf("%d kinds in the file, want %d", len(f.Kinds), learnerMaxKinds)
	}
	for k, v := range f.Kinds {
		if len(v.Spans) > learnerSamples {
			t.Fatalf("%s: %d samples", k, len(v.Spans))
		}
	}
	// A kind updated later evicts one of the stalest.
	l.ObserveRange("p/newest", time.Second, 2*time.Second)
	if f, _ := readLearnerFile(path); f.Kinds["p/newest"] == nil || len(f.Kinds) != learnerMaxKinds {
		t.Fatal("the newest kind was evicted")
	}
	if len(b) > 64<<10 {
		t.Fatalf("file is %d bytes", len(b))
	}
}

// TestLearnerFileConcurrentWriters: learners of several processes (here
// goroutines with a Learner each) save to one file at once; the file is
// always whole, and every kind someone learned is in it.
func TestLearnerFileConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), LearnerFileName)
	const writers = 8
	var wg sync.WaitGroup
	ls := make([]*Learner, writers)
	for w := range writers {
		ls[w] = OpenLearner(path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := ls[w]
			for i := range 20 {
				l.ObserveRange(fmt.Sprintf("p/w%d", w), time.Duration(i)*time.Second, time.Duration(i+1)*time.Second)
				if _, err := readLearnerFile(path); err != nil {
					t.Errorf("torn file: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Two saves at the same instant may lose one's new samples (the later
	// rename wins), never the file. Saves one after the other merge: each
	// keeps what the others wrote.
	for w, l := range ls {
		l.ObserveRange(fmt.Sprintf("p/w%d", w), time.Second, 2*time.Second)
		if err := l.Save(); err != nil {
			t.Fatal(err)
		}
	}
	f, err := readLearnerFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Kinds) != writers {
		t.Errorf("%d kinds in the file, want %d", len(f.Kinds), writers)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".waits-*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestLearnerBesideFileCheckpoints(t *testing.T) {
	dir := t.TempDir()
	a, b := learnerFor(FileCheckpoints{Dir: dir}), learnerFor(&FileCheckpoints{Dir: dir})
	if a == nil || a != b {
		t.Fatalf("learners %p %p: want one per directory", a, b)
	}
	if learnerFor(NoCheckpoints) != nil || learnerFor(nil) != nil {
		t.Fatal("a learner for in-memory checkpoints")
	}
	a.ObserveRange("p/rollback", time.Second, 2*time.Second)
	if _, err := os.Stat(filepath.Join(dir, LearnerFileName)); err != nil {
		t.Fatal(err)
	}
}

type priorProvider struct{}

func (p priorProvider) Capabilities() provider.Capabilities { return provider.Capabilities{Priors: p} }

func (priorProvider) WaitPrior(op string) (time.Duration, time.Duration, bool) {
	if op == "rollback" {
		return 50 * time.Second, 70 * time.Second, true
	}
	return 0, 0, false
}

func TestPacerUsesPriorUntilLearned(t *testing.T) {
	l := &Learner{}
	o := WaitOptions{Learner: l, prior: priorOf(priorProvider{}, "rollback")}.withDefaults()
	p := newPacer(o, "p/rollback")
	if p.first() == 0 {
		t.Fatal("with a prior the first poll should wait for the window")
	}
	if p.lo > 50*time.Second || p.hi < 70*time.Second {
		t.Fatalf("window %v-%v does not cover the prior", p.lo, p.hi)
	}
	l.ObserveRange("p/rollback", 10*time.Second, 11*time.Second)
	if !p.relearn() || p.hi > 20*time.Second {
		t.Fatalf("learned window %v-%v should replace the prior", p.lo, p.hi)
	}
	if est := priorOf(priorProvider{}, "snapshot"); est.hi != 0 {
		t.Fatalf("prior for an unknown op: %v", est)
	}
	if est := priorOf(struct{}{}, "rollback"); est.hi != 0 {
		t.Fatalf("prior from a provider without priors: %v", est)
	}
}

// TestLearnerFileSharedLearner: one Learner observed by many waits at once
// (a fleet) saves without races and keeps every kind.
func TestLearnerFileSharedLearner(t *testing.T) {
	path := filepath.Join(t.TempDir(), LearnerFileName)
	l := OpenLearner(path)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				l.ObserveRange(fmt.Sprintf("p/k%d", w), time.Duration(i)*time.Second, time.Duration(i+1)*time.Second)
				_ = l.estimate(fmt.Sprintf("p/k%d", w))
			}
		}()
	}
	wg.Wait()
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	f, err := readLearnerFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Kinds) != 8 {
		t.Fatalf("%d kinds in the file, want 8", len(f.Kinds))
	}
}
