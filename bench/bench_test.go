package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
)

// Environment knobs. Only MEETARCHIVE_BENCH=1 is needed; the rest tune the size.
const (
	envBench   = "MEETARCHIVE_BENCH"          // "1" runs the benchmarks
	envOut     = "MEETARCHIVE_BENCH_OUT"      // write the table to this file instead of stdout
	envRounds  = "MEETARCHIVE_BENCH_ROUNDS"   // interleaved rounds per benchmark (default 5)
	envFiles   = "MEETARCHIVE_BENCH_FILES"    // files per archive run (default 16, 4 per conference)
	envFileMiB = "MEETARCHIVE_BENCH_FILE_MIB" // MiB per file (default 16)
	envBigMiB  = "MEETARCHIVE_BENCH_BIG_MIB"  // MiB of the heap-measured S3 upload (default 200)
	envRows    = "MEETARCHIVE_BENCH_ROWS"     // report rows (default 100000)
	envOnly    = "MEETARCHIVE_BENCH_ONLY"     // comma-separated groups to run (default all; see benchGroups)

	// The workloads measured against the machine's limit (workloads_test.go).
	envWorkloadRounds = "MEETARCHIVE_BENCH_WORKLOAD_ROUNDS" // interleaved rounds of the throughput and quota workloads (default 3)
	envLargeMiB       = "MEETARCHIVE_BENCH_LARGE_MIB"       // MiB per file of 16 conferences x 2 files (default 64)
	envSmallMiB       = "MEETARCHIVE_BENCH_SMALL_MIB"       // MiB per file of 8 conferences x 2 files (default 16)
	envFlatBaseMiB    = "MEETARCHIVE_BENCH_FLAT_BASE_MIB"   // the smaller file of the flat-memory pair (default 256)
	envFlatMiB        = "MEETARCHIVE_BENCH_FLAT_MIB"        // the larger file of the pair (default 4096; 1024 for a quick run)
	envFlatRounds     = "MEETARCHIVE_BENCH_FLAT_ROUNDS"     // runs of the pair (default 1)
	envQuotaConfs     = "MEETARCHIVE_BENCH_QUOTA_CONFS"     // conferences of the quota workloads (default 500)
	envQuota          = "MEETARCHIVE_BENCH_QUOTA"           // calls of each API allowed per quota window (default 1200)
	envQuotaWindow    = "MEETARCHIVE_BENCH_QUOTA_WINDOW_S"  // the quota window in seconds (default 60)
	envQuotaBurst     = "MEETARCHIVE_BENCH_QUOTA_BURST"     // the continuous bucket's burst (default 20)
	envQuotaModels    = "MEETARCHIVE_BENCH_QUOTA_MODELS"    // comma-separated quota models to run (default fixed,bucket)
	envQuotaStagger   = "MEETARCHIVE_BENCH_QUOTA_STAGGER_S" // the 8 shards start this many seconds apart, first to last (default 10)
)

// benchGroups are the groups MEETARCHIVE_BENCH_ONLY can name.
var benchGroups = []string{"dir", "s3", "report", "throughput", "flat", "quota", "links", "resume"}

const mib = 1 << 20

// params size the benchmarks.
type params struct {
	Rounds       int
	Files        int // a multiple of FilesPerConf
	FilesPerConf int
	FileSize     int64
	BigSize      int64
	Rows         int
	Parallel     int // conferences in flight in the parallel runs (the pipeline's default --concurrency)
	Only         map[string]bool

	WorkloadRounds       int
	LargeSize, SmallSize int64 // file sizes of the 16 x 2 and 8 x 2 workloads
	FlatBase, Flat       int64 // the flat-memory pair
	FlatRounds           int
	QuotaConfs           int
	Quota                int           // calls per QuotaWindow
	QuotaWindow          time.Duration // whole seconds
	QuotaBurst           int           // the continuous bucket's size
	QuotaModels          []string      // meetingtest.QuotaFixed, QuotaBucket
	QuotaStagger         time.Duration // the 8 shards' starts, first to last
}

// runs reports whether the group is to run (MEETARCHIVE_BENCH_ONLY).
func (p params) runs(group string) bool { return len(p.Only) == 0 || p.Only[group] }

func loadParams(t *testing.T) params {
	t.Helper()
	num := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive integer", name, v)
		}
		return n
	}
	p := params{
		Rounds:       num(envRounds, 5),
		Files:        num(envFiles, 16),
		FilesPerConf: 4,
		FileSize:     int64(num(envFileMiB, 16)) * mib,
		BigSize:      int64(num(envBigMiB, 200)) * mib,
		Rows:         num(envRows, 100_000),
		Parallel:     4,

		WorkloadRounds: num(envWorkloadRounds, 3),
		LargeSize:      int64(num(envLargeMiB, 64)) * mib,
		SmallSize:      int64(num(envSmallMiB, 16)) * mib,
		FlatBase:       int64(num(envFlatBaseMiB, 256)) * mib,
		Flat:           int64(num(envFlatMiB, 4096)) * mib,
		FlatRounds:     num(envFlatRounds, 1),
		QuotaConfs:     num(envQuotaConfs, 500),
		Quota:          num(envQuota, 1200),
		QuotaWindow:    time.Duration(num(envQuotaWindow, 60)) * time.Second,
		QuotaBurst:     num(envQuotaBurst, 20),
		QuotaModels:    []string{meetingtest.QuotaFixed, meetingtest.QuotaBucket},
		QuotaStagger:   time.Duration(num(envQuotaStagger, 10)) * time.Second,
	}
	if v := os.Getenv(envQuotaModels); v != "" {
		p.QuotaModels = nil
		for m := range strings.SplitSeq(v, ",") {
			if m = strings.TrimSpace(m); m != meetingtest.QuotaFixed && m != meetingtest.QuotaBucket {
				t.Fatalf("%s=%q: %q is not %s or %s", envQuotaModels, v, m, meetingtest.QuotaFixed, meetingtest.QuotaBucket)
			}
			p.QuotaModels = append(p.QuotaModels, m)
		}
	}
	p.Files = (p.Files + p.FilesPerConf - 1) / p.FilesPerConf * p.FilesPerConf
	if only := os.Getenv(envOnly); only != "" {
		p.Only = map[string]bool{}
		for g := range strings.SplitSeq(only, ",") {
			if g = strings.TrimSpace(g); !slices.Contains(benchGroups, g) {
				t.Fatalf("%s=%q: %q is not one of %s", envOnly, only, g, strings.Join(benchGroups, ","))
			}
			p.Only[g] = true
		}
	}
	return p
}

// TestBenchmarks runs every benchmark and prints the table. It needs
// MEETARCHIVE_BENCH=1 (scripts/bench.sh sets it) and skips at once without.
func TestBenchmarks(t *testing.T) {
	if os.Getenv(envBench) != "1" {
		t.Skipf("benchmarks run only with %s=1 (make bench)", envBench)
	}
	p := loadParams(t)
	tab := &table{params: p, started: time.Now()}
	t.Logf("params: %+v", p)

	if p.runs("dir") {
		t.Run("dir", func(t *testing.T) { benchDir(t, p, tab) })
	}
	if p.runs("s3") {
		t.Run("s3", func(t *testing.T) {
			defer skipNote(t, tab, "archive to S3")
			benchS3(t, p, tab)
		})
	}
	if p.runs("report") {
		t.Run("report", func(t *testing.T) { benchReport(t, p, tab) })
	}
	benchWorkloads(t, p, tab)

	var sb strings.Builder
	tab.write(&sb)
	if out := os.Getenv(envOut); out != "" {
		if err := os.WriteFile(out, []byte(sb.String()), 0o644); err != nil {
			t.Errorf("write %s: %v", out, err)
			fmt.Print(sb.String())
		}
		return
	}
	fmt.Print(sb.String())
}

// skipNote notes in the table that a benchmark needing S3 was skipped
// (deferred by it).
func skipNote(t *testing.T, tab *table, what string) {
	if t.Skipped() {
		tab.notef("%s: SKIPPED (no S3 test server: run `make s3-up` or scripts/bench.sh)", what)
	}
}

// runFunc is one timed run: it does its own setup and clean-up and returns
// the time of the measured part only.
type runFunc func(ctx context.Context, round int) (time.Duration, error)

// variant is one contender of a comparison.
type variant struct {
	name string
	run  runFunc
}

// interleave runs every variant once per round, rotating which goes first
// (A B, B A, ... for two), so a drift of the machine's load or a warm-up
// effect falls on every variant alike. Before each run it flushes dirty pages
// and collects garbage, outside the timing. It returns the times per variant,
// in round order.
func interleave(t *testing.T, rounds int, vs []variant) [][]time.Duration {
	t.Helper()
	ctx := t.Context()
	times := make([][]time.Duration, len(vs))
	for r := range rounds {
		for k := range vs {
			i := (r + k) % len(vs)
			flushDisks()
			runtime.GC()
			d, err := vs[i].run(ctx, r)
			if err != nil {
				t.Fatalf("%s, round %d: %v", vs[i].name, r+1, err)
			}
			t.Logf("round %d: %-28s %v", r+1, vs[i].name, d.Round(time.Millisecond))
			times[i] = append(times[i], d)
		}
	}
	return times
}

// median is the middle value of xs (the mean of the two middle ones for an
// even count), 0 for none.
func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// result is one line of the table: ours against a baseline.
type result struct {
	group, name   string
	ours, base    []time.Duration // per round, same order
	bytes         int64           // bytes moved per run (0: no MB/s)
	oursLabel     string
	baselineLabel string
}

func (r result) ratio() float64 {
	return float64(median(r.ours)) / float64(median(r.base))
}

// spread is the smallest and largest per-round ratio.
func (r result) spread() (lo, hi float64) {
	lo, hi = -1, -1
	for i := range min(len(r.ours), len(r.base)) {
		q := float64(r.ours[i]) / float64(r.base[i])
		if lo < 0 || q < lo {
			lo = q
		}
		if q > hi {
			hi = q
		}
	}
	return lo, hi
}

// memResult is a heap figure: peak growth of HeapInuse over its value
// before the run, sampled with runtime.ReadMemStats.
type memResult struct {
	name             string
	oursMiB, baseMiB float64 // baseMiB < 0: no baseline
	budget           string
}

// workloadRow is one line of the workloads table: what was measured, the
// goal, and whether the figures meet it.
type workloadRow struct {
	name    string
	figures string
	goal    string
	met     bool
}

// table collects the results; safe for use by one benchmark at a time.
type table struct {
	mu        sync.Mutex
	params    params
	started   time.Time
	results   []result
	mems      []memResult
	workloads []workloadRow
	notes     []string
}

func (t *table) add(r result)       { t.mu.Lock(); t.results = append(t.results, r); t.mu.Unlock() }
func (t *table) addMem(m memResult) { t.mu.Lock(); t.mems = append(t.mems, m); t.mu.Unlock() }
func (t *table) addWorkload(w workloadRow) {
	t.mu.Lock()
	t.workloads = append(t.workloads, w)
	t.mu.Unlock()
}
func (t *table) notef(format string, args ...any) {
	t.mu.Lock()
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
	t.mu.Unlock()
}

func mbps(bytes int64, d time.Duration) string {
	if bytes <= 0 || d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(bytes)/1e6/d.Seconds())
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func (t *table) write(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.params
	line := strings.Repeat("=", 118)
	fmt.Fprintln(w)
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "meetarchive benchmarks  (%s, %d CPUs, %s; %d interleaved rounds, medians; total %s)\n",
		runtime.Version(), runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, p.Rounds, time.Since(t.started).Round(time.Second))
	fmt.Fprintln(w, "ratio = ours / baseline time: 1.00 = as fast as the baseline, 1.25 = 25% slower, 0.80 = 20% faster.")
	fmt.Fprintln(w, "spread = smallest..largest per-round ratio (how noisy the machine was). MB/s = 10^6 bytes/s.")
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "%-40s %10s %10s %7s %13s %8s %8s\n", "benchmark", "ours", "baseline", "ratio", "spread", "ours", "base")
	fmt.Fprintf(w, "%-40s %10s %10s %7s %13s %8s %8s\n", "", "median", "median", "", "", "MB/s", "MB/s")
	group := ""
	for _, r := range t.results {
		if r.group != group {
			group = r.group
			fmt.Fprintf(w, "%s\n", group)
		}
		lo, hi := r.spread()
		om, bm := median(r.ours), median(r.base)
		fmt.Fprintf(w, "  %-38s %10s %10s %7.2f %13s %8s %8s\n", r.name, secs(om), secs(bm), r.ratio(),
			fmt.Sprintf("%.2f..%.2f", lo, hi), mbps(r.bytes, om), mbps(r.bytes, bm))
	}
	if len(t.mems) > 0 {
		fmt.Fprintln(w, "memory (untimed runs: peak growth of runtime.MemStats.HeapInuse over its value before the run, sampled every 5 ms;")
		fmt.Fprintln(w, "        HeapInuse includes garbage not yet collected, so it also depends on GOGC; the live heap is sampled after forced GCs)")
		for _, m := range t.mems {
			base := "-"
			if m.baseMiB >= 0 {
				base = fmt.Sprintf("%.1f MiB", m.baseMiB)
			}
			fmt.Fprintf(w, "  %-38s ours %7.1f MiB   baseline %9s   %s\n", m.name, m.oursMiB, base, m.budget)
		}
	}
	if len(t.workloads) > 0 {
		t.writeWorkloads(w)
	}
	fmt.Fprintln(w, "what is compared")
	seen := map[string]bool{}
	for _, r := range t.results {
		if !seen[r.group] {
			seen[r.group] = true
			fmt.Fprintf(w, "  %s\n    ours:     %s\n", r.group, r.oursLabel)
		}
		if k := r.group + "\x00" + r.baselineLabel; !seen[k] {
			seen[k] = true
			fmt.Fprintf(w, "    baseline: %s\n", r.baselineLabel)
		}
	}
	for _, n := range t.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w, line)
}

// writeWorkloads writes the workloads table (the caller holds the lock).
func (t *table) writeWorkloads(w io.Writer) {
	fmt.Fprintf(w, "workloads through pipeline.Job.Run (our run in a child process: peak RSS = its VmHWM; %d conferences in flight, S3 store with\n", limitStreams)
	fmt.Fprintf(w, "        the default options; throughput and quota: medians of %d interleaved rounds; limit: see the notes)\n", t.params.WorkloadRounds)
	for _, r := range t.workloads {
		verdict := "met"
		if !r.met {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "  %-44s %s\n  %-44s goal: %s  [%s]\n", r.name, r.figures, "", r.goal, verdict)
	}
}

// heapSampler records the peak of HeapInuse while it runs.
type heapSampler struct {
	base uint64
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

// startHeap collects garbage, notes HeapInuse, then samples it every 5 ms.
func startHeap() *heapSampler {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapSampler{base: ms.HeapInuse, stop: make(chan struct{})}
	h.peak.Store(ms.HeapInuse)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-h.stop:
				h.sample(&ms)
				return
			case <-tick.C:
				h.sample(&ms)
			}
		}
	}()
	return h
}

func (h *heapSampler) sample(ms *runtime.MemStats) {
	runtime.ReadMemStats(ms)
	if ms.HeapInuse > h.peak.Load() {
		h.peak.Store(ms.HeapInuse)
	}
}

// Stop ends the sampling and returns the peak growth in MiB.
func (h *heapSampler) Stop() float64 {
	close(h.stop)
	h.wg.Wait()
	return float64(int64(h.peak.Load())-int64(h.base)) / mib
}

// liveHeapSampler records the peak of the live heap: every 50 ms it forces a
// collection and reads HeapAlloc, so garbage awaiting collection (which
// HeapInuse counts) does not count. It slows the code down: untimed runs only.
type liveHeapSampler struct {
	base uint64
	peak uint64
	stop chan struct{}
	done chan struct{}
}

func startLiveHeap() *liveHeapSampler {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &liveHeapSampler{base: ms.HeapAlloc, peak: ms.HeapAlloc, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			h.peak = max(h.peak, ms.HeapAlloc)
		}
	}()
	return h
}

// Stop ends the sampling and returns the peak growth in MiB.
func (h *liveHeapSampler) Stop() float64 {
	close(h.stop)
	<-h.done
	return float64(int64(h.peak)-int64(h.base)) / mib
}
