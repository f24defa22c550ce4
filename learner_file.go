package rollback

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// What a Learner keeps across processes (OpenLearner). The command-line
// tool, a cron job and a fresh pod run one rollback per process: without
// the file every one of their waits would start knowing nothing.
const (
	// learnerFileVersion is written into the file; a file of any other
	// version is ignored (and replaced on the next save).
	learnerFileVersion = 1
	// LearnerFileName is the file's name beside the checkpoints of a
	// FileCheckpoints directory.
	LearnerFileName = "waits.v1.json"
	// learnerMaxKinds bounds the kinds the file keeps; the least recently
	// updated go first. With learnerSamples per kind the file stays a few
	// kilobytes.
	learnerMaxKinds = 64
	// learnerFileMax is the largest file read; anything larger is not ours.
	learnerFileMax = 256 << 10
	// learnerMaxSpan bounds a sample: no wait lasts a day.
	learnerMaxSpan = 24 * time.Hour
	// learnerEagerSaves is how many observations a process saves at once;
	// after that it saves every learnerSaveEvery-th (a fleet of thousands
	// must not rewrite the file for every server). Save flushes the rest.
	learnerEagerSaves = learnerSamples
	learnerSaveEvery  = 8
)

// learnerFile is the file's JSON form.
type learnerFile struct {
	Version int                     `json:"version"`
	Kinds   map[string]*learnedKind `json:"kinds"`
}

type learnedKind struct {
	// Seq orders kinds by their last update, to evict the stalest.
	Seq int64 `json:"seq"`
	// Spans are [lo, hi] in milliseconds, oldest first.
	Spans [][2]int64 `json:"spans_ms"`
}

// persistence is a Learner's link to its file.
type persistence struct {
	path    string
	mu      sync.Mutex // serialises saves of this process
	unsaved map[string][]span
	saves   int // saves made (guarded by the Learner's mu)
	pending int // observations since the last save (likewise)
}

// OpenLearner returns a Learner that starts from what earlier processes
// learned, read from the file at path, and writes back what it learns: at
// once for its first observations, then every few (call Save to flush the
// rest before the process exits). A missing, unreadable, corrupt or
// other-version file is ignored: the Learner starts empty and the next save
// replaces it. Several processes may share the file: each save writes a
// temporary file and renames it over the old one, after merging in what the
// file holds then, so the file is never torn; two saves at the same instant
// may lose one of their new samples, never the file.
func OpenLearner(path string) *Learner {
	l := &Learner{file: &persistence{path: path}}
	if f, err := readLearnerFile(path); err == nil {
		l.samples = f.spans()
	}
	return l
}

// UserCacheLearner opens the Learner file in the user's cache directory
// (os.UserCacheDir()/cloudsnap-rollback/waits.v1.json).
func UserCacheLearner() (*Learner, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("rollback: no cache directory for the wait learner: %w", err)
	}
	return OpenLearner(filepath.Join(dir, "cloudsnap-rollback", LearnerFileName)), nil
}

// besideCheckpoints holds one Learner per checkpoint directory, so that the
// Runs of a process that share a FileCheckpoints share its learner.
var besideCheckpoints sync.Map // dir -> *Learner

// learnerBeside returns the Learner kept beside the checkpoints in dir.
func learnerBeside(dir string) *Learner {
	if l, ok := besideCheckpoints.Load(dir); ok {
		return l.(*Learner)
	}
	l, _ := besideCheckpoints.LoadOrStore(dir, OpenLearner(filepath.Join(dir, LearnerFileName)))
	return l.(*Learner)
}

// learnerFor is the Learner a Run's waits use when none was given: the one
// beside file checkpoints, so that one-rollback processes (the command-line
// tool, cron jobs) learn from earlier ones; otherwise nil (DefaultLearner).
func learnerFor(cp Checkpointer) *Learner {
	switch c := cp.(type) {
	case FileCheckpoints:
		if c.Dir != "" {
			return learnerBeside(c.Dir)
		}
	case *FileCheckpoints:
		if c != nil && c.Dir != "" {
			return learnerBeside(c.Dir)
		}
	}
	return nil
}

// Save writes what the Learner learned since its last save to its file,
// merged with what the file holds now. It does nothing for a Learner not
// opened with OpenLearner.
func (l *Learner) Save() error {
	if l == nil || l.file == nil {
		return nil
	}
	p := l.file
	p.mu.Lock()
	defer p.mu.Unlock()
	return l.save()
}

// save is Save with p.mu held.
func (l *Learner) save() error {
	p := l.file
	l.mu.Lock()
	fresh := p.unsaved
	p.unsaved, p.pending = nil, 0
	if len(fresh) > 0 {
		p.saves++ // under l.mu: persist reads it
	}
	l.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	f, err := readLearnerFile(p.path)
	if err != nil {
		f = &learnerFile{Kinds: map[string]*learnedKind{}}
	}
	f.merge(fresh)
	if err := writeLearnerFile(p.path, f); err != nil {
		// Keep the samples for the next save (bounded as ever).
		l.mu.Lock()
		if p.unsaved == nil {
			p.unsaved = make(map[string][]span)
		}
		for k, s := range fresh {
			p.unsaved[k] = lastSpans(append(s, p.unsaved[k]...))
		}
		l.mu.Unlock()
		return fmt.Errorf("rollback: saving the wait learner: %w", err)
	}
	// Take in what other processes learned meanwhile.
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.samples == nil {
		l.samples = make(map[string][]span)
	}
	for k, s := range f.spans() {
		l.samples[k] = lastSpans(append(s, p.unsaved[k]...))
	}
	clear(l.ests)
	return nil
}

// persist notes a new sample and saves when due; called without l.mu.
func (l *Learner) persist() {
	p := l.file
	l.mu.Lock()
	due := p.saves < learnerEagerSaves || p.pending >= learnerSaveEvery
	l.mu.Unlock()
	// Best effort, and never queueing: a wait must not fail or stall
	// because a cache could not be written, and when another wait of this
	// process is saving, the samples go with the next save.
	if due && p.mu.TryLock() {
		_ = l.save()
		p.mu.Unlock()
	}
}

func lastSpans(s []span) []span {
	if len(s) > learnerSamples {
		s = s[len(s)-learnerSamples:]
	}
	return s
}

func readLearnerFile(path string) (*learnerFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, learnerFileMax+1))
	if err != nil {
		return nil, err
	}
	if len(b) > learnerFileMax {
		return nil, errors.New("learner file too large")
	}
	var f learnerFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Version != learnerFileVersion {
		return nil, fmt.Errorf("learner file version %d", f.Version)
	}
	if f.Kinds == nil {
		f.Kinds = map[string]*learnedKind{}
	}
	for k, v := range f.Kinds {
		if v == nil || k == "" || len(k) > 200 {
			delete(f.Kinds, k)
		}
	}
	return &f, nil
}

// spans returns the file's valid samples, at most learnerSamples per kind.
func (f *learnerFile) spans() map[string][]span {
	out := make(map[string][]span, len(f.Kinds))
	for k, v := range f.Kinds {
		var s []span
		for _, sp := range v.Spans {
			lo, hi := time.Duration(sp[0])*time.Millisecond, time.Duration(sp[1])*time.Millisecond
			if lo < 0 || hi <= 0 || lo > hi || hi > learnerMaxSpan {
				continue // not something a wait could have learned
			}
			s = append(s, span{lo: lo, hi: hi})
		}
		if len(s) > 0 {
			out[k] = lastSpans(s)
		}
	}
	return out
}

// merge appends fresh samples, keeps the newest of each kind and the most
// recently updated kinds.
func (f *learnerFile) merge(fresh map[string][]span) {
	var seq int64
	for _, v := range f.Kinds {
		seq = max(seq, v.Seq)
	}
	kinds := make([]string, 0, len(fresh))
	for k := range fresh {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		v := f.Kinds[k]
		if v == nil {
			v = &learnedKind{}
			f.Kinds[k] = v
		}
		for _, sp := range fresh[k] {
			v.Spans = append(v.Spans, [2]int64{sp.lo.Milliseconds(), max(sp.hi.Milliseconds(), 1)})
		}
		if len(v.Spans) > learnerSamples {
			v.Spans = v.Spans[len(v.Spans)-learnerSamples:]
		}
		seq++
		v.Seq = seq
	}
	if len(f.Kinds) <= learnerMaxKinds {
		return
	}
	all := make([]string, 0, len(f.Kinds))
	for k := range f.Kinds {
		all = append(all, k)
	}
	slices.SortFunc(all, func(a, b string) int { return cmp.Compare(f.Kinds[a].Seq, f.Kinds[b].Seq) })
	for _, k := range all[:len(all)-learnerMaxKinds] {
		delete(f.Kinds, k)
	}
}

func writeLearnerFile(path string, f *learnerFile) error {
	f.Version = learnerFileVersion
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".waits-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s vanished while saving", path)
	}
	return err
}
