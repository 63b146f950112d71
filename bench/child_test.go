package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
)

// Our side of a workload runs in a child process of its own (this test
// binary again, running TestBenchChild), so that its peak RSS is the
// pipeline's alone: the simulator, the S3 baseline's buffers and the
// parent's bookkeeping live in the parent.
const (
	envChild     = "MEETARCHIVE_BENCH_CHILD" // path of the child's spec (JSON)
	resultPrefix = "BENCHCHILD "             // the child's result line on stdout
)

// childSpec is one run of the pipeline in a child process, as `meetarchive
// run` would do it: an export client for the simulator, an S3 store opened
// by archive.Open with the default options, pipeline.Job.Run.
type childSpec struct {
	API         string            // the simulator's base URL
	Dest        string            // s3://bucket/prefix
	Confs       []string          // conference UUIDs, in input order
	Sums        map[string]string // confUUID/fileType/name -> true SHA-256; every row must be archived with it
	Concurrency int               // conferences in flight
	Rate        float64           // export.Config.Rate: export.RateAuto or a ceiling
	Links       export.LinkSource // export.Config.Links; "" = downloadurls
	// DateRange: the details come from the list API (one call per 100
	// conferences of the simulator's dataset, as a date-range run gets
	// them), not from a details call per conference.
	DateRange bool
	Timeout   time.Duration // the run is cancelled after this long (0: none)
	StartAt   time.Time     // Job.Run starts at this time (zero: at once), after the client's login
	// KillAfterFiles > 0: once that many files are stored, the child reads
	// half of the next file, then kills itself (SIGKILL where there is one):
	// a run stopped mid-conference, mid-file, with no chance to clean up.
	KillAfterFiles int
}

// childResult is what the child reports.
type childResult struct {
	Elapsed time.Duration // pipeline.Job.Run alone
	// Started and Ended are when Job.Run started and ended (to compare the
	// children of one run: one machine, one clock).
	Started, Ended time.Time
	PeakRSS        int64 // VmHWM at the end, bytes; -1 where unknown
	Archived       int   // rows archived
	// PlatformSHA256 counts the archived rows checked against the
	// platform's SHA-256 (links from record info).
	PlatformSHA256 int
	Throttled      int64  // the client's 429 / APIG.0308 answers
	Err            string // what went wrong, "" if nothing

	// The Go runtime at the end, to explain a peak: memory obtained from
	// the OS, bytes allocated during the run, collections.
	GoSys, Allocated int64
	GCs              uint32

	// CPU is the child process's CPU time, user and system, as the parent
	// saw it end (-1: unknown).
	CPU time.Duration `json:"-"`
}

func (r childResult) runtime() string {
	return fmt.Sprintf("Go runtime: %.0f MiB from the OS, %.0f MiB allocated, %d GCs", float64(r.GoSys)/mib, float64(r.Allocated)/mib, r.GCs)
}

// TestBenchChild is the child process: it runs only with MEETARCHIVE_BENCH_CHILD
// set (by runChild) and prints its result line.
func TestBenchChild(t *testing.T) {
	path := os.Getenv(envChild)
	if path == "" {
		t.Skip("the benchmark's child process; runChild starts it")
	}
	var spec childSpec
	raw, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(raw, &spec)
	}
	if err != nil {
		t.Fatalf("child spec %s: %v", path, err)
	}
	if prof := os.Getenv("MEETARCHIVE_BENCH_CHILD_CPUPROFILE"); prof != "" {
		// An experiment: a CPU profile of the child's run, one file per child.
		if f, err := os.CreateTemp(filepath.Dir(prof), filepath.Base(prof)+".*"); err == nil {
			defer f.Close()
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	res := runPipeline(t, spec)
	if res.PeakRSS, err = archivetest.PeakRSS(); err != nil {
		res.PeakRSS = -1
	}
	line, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%s\n", resultPrefix, line)
}

// runPipeline is the child's run.
func runPipeline(t *testing.T, spec childSpec) childResult {
	fail := func(err error) childResult { return childResult{Err: err.Error()} }
	env := archivetest.Server(t)
	ctx := context.Background()
	client, err := export.NewClient(export.Config{
		BaseURL:     spec.API,
		Credentials: export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: meetingtest.DefaultAppKey},
		Rate:        spec.Rate,
		Links:       cmp.Or(spec.Links, export.LinksDownloadURLs),
	})
	if err != nil {
		return fail(fmt.Errorf("export.NewClient: %w", err))
	}
	if err := client.Authenticate(ctx); err != nil {
		return fail(fmt.Errorf("authenticate: %w", err))
	}
	debug.SetGCPercent(archive.GCPercent) // as run does
	opts := archive.Options{ClientOptions: []func(*s3.Options){env.ClientOption()}}
	// Experiments; the defaults are what run uses.
	if mib, err := strconv.Atoi(os.Getenv("MEETARCHIVE_BENCH_MEMORY_MIB")); err == nil && mib > 0 {
		opts.Memory = int64(mib) << 20
	}
	if mib, err := strconv.Atoi(os.Getenv("MEETARCHIVE_BENCH_PART_MIB")); err == nil && mib > 0 {
		opts.PartSize = int64(mib) << 20
	}
	st, err := archive.Open(ctx, spec.Dest, opts)
	if err != nil {
		return fail(fmt.Errorf("archive.Open: %w", err))
	}
	defer st.Close()
	keys, err := archive.ParseKeyTemplate(archive.DefaultKeyTemplate)
	if err != nil {
		return fail(err)
	}
	var store pipeline.Store = st
	if spec.KillAfterFiles > 0 {
		store = &killingStore{Store: st, after: int64(spec.KillAfterFiles)}
	}
	items := make([]pipeline.Item, len(spec.Confs))
	for i, c := range spec.Confs {
		items[i] = pipeline.Item{Seq: i, ConfUUID: c}
	}
	job := &pipeline.Job{
		API: client, Store: store, Keys: keys, Log: slog.New(slog.DiscardHandler), Progress: pipeline.NoProgress{},
		Options: pipeline.Options{Concurrency: spec.Concurrency, Tool: "meetarchive bench",
			Retry: export.Backoff{Base: pipeline.DefaultFileRetryBase, Max: export.DefaultRetryMax,
				MaxAttempts: export.DefaultMaxAttempts, MaxElapsed: export.DefaultMaxElapsed}},
	}
	time.Sleep(time.Until(spec.StartAt))
	work := ctx
	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		work, cancel = context.WithTimeout(ctx, spec.Timeout)
		defer cancel()
	}
	rows := &checkRows{sums: spec.Sums}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	if spec.DateRange {
		job.Known = map[string]export.Recording{}
		err := client.List(work, export.ListQuery{From: simStart.AddDate(0, 0, -1), To: simStart.AddDate(10, 0, 0), AllUsers: true},
			func(r export.Recording) error { job.Known[r.ConfUUID] = r; return nil })
		if err != nil {
			return fail(fmt.Errorf("list: %w", err))
		}
	}
	res := job.Run(work, work, pipeline.SliceSource(items).Items(), rows)
	ended := time.Now()
	elapsed := ended.Sub(start)
	runtime.ReadMemStats(&after)
	err = errors.Join(res.Fatal, res.WriteErr, rows.err)
	if work.Err() != nil {
		err = errors.Join(fmt.Errorf("not finished within %v", spec.Timeout), err)
	}
	out := childResult{Elapsed: elapsed, Started: start, Ended: ended, Archived: rows.archived, PlatformSHA256: rows.platform,
		Throttled: client.CallStats().Throttled,
		GoSys:     int64(after.Sys), Allocated: int64(after.TotalAlloc - before.TotalAlloc), GCs: after.NumGC - before.NumGC}
	if err != nil {
		out.Err = err.Error()
		if len(out.Err) > 2000 {
			out.Err = out.Err[:2000] + "..."
		}
	}
	return out
}

// killingStore is the store of a run that is killed mid-conference: after
// `after` files are stored it reads half of the next one into its upload,
// then the process kills itself.
type killingStore struct {
	pipeline.Store
	after  int64
	stored atomic.Int64
}

func (k *killingStore) Put(ctx context.Context, key string, r io.Reader, want archive.Expect) (archive.Object, error) {
	if k.stored.Load() >= k.after {
		r = &killAfterReader{r: r, left: max(1, want.Size/2)}
	}
	obj, err := k.Store.Put(ctx, key, r, want)
	if err == nil {
		k.stored.Add(1)
	}
	return obj, err
}

// killAfterReader kills the process once left bytes have been read.
type killAfterReader struct {
	r    io.Reader
	left int64
}

func (k *killAfterReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p[:min(int64(len(p)), max(1, k.left))])
	if k.left -= int64(n); k.left <= 0 {
		killSelf()
	}
	return n, err
}

// killSelf ends the process at once, as SIGKILL does (Process.Kill sends
// SIGKILL on Unix): no deferred clean-up, no multipart abort.
func killSelf() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	time.Sleep(time.Minute) // the signal is on its way
	os.Exit(137)
}

// runChild runs spec in a child process and returns its result. A child
// that was killed (KillAfterFiles) returns a zero result and no error.
func runChild(ctx context.Context, spec childSpec) (childResult, error) {
	dir, err := os.MkdirTemp("", "meetarchive-bench-child")
	if err != nil {
		return childResult{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "spec.json")
	raw, err := json.Marshal(spec)
	if err != nil {
		return childResult{}, err
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return childResult{}, err
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBenchChild$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), envChild+"="+path)
	out, err := cmd.CombinedOutput()
	if spec.KillAfterFiles > 0 {
		var ee *exec.ExitError
		if errors.As(err, &ee) && !ee.Success() {
			return childResult{}, nil // killed, as planned
		}
		return childResult{}, fmt.Errorf("child was to be killed, but ended with %v:\n%s", err, out)
	}
	line := ""
	for l := range strings.Lines(string(out)) {
		if s, ok := strings.CutPrefix(l, resultPrefix); ok {
			line = s
		}
	}
	if line == "" {
		return childResult{}, fmt.Errorf("child: %v, no result line:\n%s", err, out)
	}
	var res childResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return childResult{}, fmt.Errorf("child result %q: %w", line, err)
	}
	res.CPU = -1
	if ps := cmd.ProcessState; ps != nil {
		res.CPU = ps.UserTime() + ps.SystemTime()
	}
	if res.Err != "" {
		return res, fmt.Errorf("child: %s", res.Err)
	}
	if err != nil {
		return res, fmt.Errorf("child: %v:\n%s", err, out)
	}
	return res, nil
}
