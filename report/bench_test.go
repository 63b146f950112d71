package report

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// bigRow makes row i of a large run: two files per conference, realistic
// field sizes, every field of the recording details answer, recordings
// spread over a year, and the second file of every 25th conference failed
// (2% of the rows).
func bigRow(i int) Row {
	seq := i / 2
	id := fmt.Sprintf("%032x", seq*7919+1)
	start := time.Date(2025, 1, 1, 9, 30, 0, 0, time.UTC).AddDate(0, 0, seq%365)
	r := Row{
		Seq: seq, ConfUUID: id, ConfID: fmt.Sprintf("9%08d", seq),
		Subject:       fmt.Sprintf("Quarterly business review %d: sales, pipeline & hiring", seq),
		ScheduserName: "Zhang Wei", StartTime: start.Format("2006-01-02 15:04"), RecordingSecs: 3600,
		Status: Archived, FileIndex: i % 2, FileType: "Hd", FileName: fmt.Sprintf("0_%d.mp4", i%2),
		Bytes: 1<<30 - int64(i), SHA256: fmt.Sprintf("%064x", i*104729+3), VersionID: fmt.Sprintf("v%030d", i),
		LockMode: "COMPLIANCE", RetainUntil: t0.AddDate(10, 0, 0), Attempts: 1,
		FinishedAt: t0.Add(time.Duration(i) * time.Second),
	}
	r.PlatformSHA256 = r.SHA256
	r.ObjectKey = "meetings/" + start.Format("2006/01") + "/" + id + "/Hd_" + r.FileName
	r.ObjectURI = "s3://compliance-archive/" + r.ObjectKey
	r.RecordAuthType, r.IsDecodeFinish, r.Available, r.RcdSize = ptr(1), ptr(true), ptr(true), ptr(1024)
	r.DecodeEndTime = start.Add(2 * time.Hour)
	r.PlaybackURL = "https://meeting.example.com/#/play?confUUID=" + id + "&token=REDACTED"
	if seq%25 == 0 && r.FileIndex == 1 {
		r.Status, r.ErrorCode, r.Attempts = Failed, "timeout", 5
		r.ErrorMessage = `export: media: Get "https://10.1.2.3/videoHD/0_1.mp4?token=abcdef": context deadline exceeded`
	}
	return r
}

// failedRow is bigRow(i) failed: the worst case for memory, where the
// Failures sheet is as large as the Recordings sheet.
func failedRow(i int) Row {
	r := bigRow(i)
	r.Status, r.ErrorCode, r.Attempts = Failed, "timeout", 5
	r.ErrorMessage = `export: media: Get "https://10.1.2.3/videoHD/0_1.mp4": context deadline exceeded`
	return r
}

// writeBig writes n rows through a Writer, in a completion order that is
// not input order (blocks of 64 rows reversed), and returns the summary.
func writeBig(tb testing.TB, dir string, n int) Summary { return writeRows(tb, dir, n, bigRow) }

func writeRows(tb testing.TB, dir string, n int, row func(int) Row) Summary {
	tb.Helper()
	sum, err := addRows(tb, dir, n, row).Close(ExitFailures)
	if err != nil {
		tb.Fatal(err)
	}
	return sum
}

// addRows adds n rows to a new Writer in a completion order that is not
// input order (blocks of 64 rows reversed), and returns it unclosed.
func addRows(tb testing.TB, dir string, n int, row func(int) Row) *Writer {
	tb.Helper()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		tb.Fatal(err)
	}
	for start := 0; start < n; start += 64 {
		end := min(start+64, n)
		for i := end - 1; i >= start; i-- {
			if err := w.Add(row(i)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return w
}

// heapSampler records the peak of live-plus-unswept heap objects (what
// runtime.MemStats.HeapAlloc reports) while it runs, without stopping the
// world.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	peak uint64
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	s := &heapSampler{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		s.mu.Lock()
		if v := sample[0].Value.Uint64(); v > s.peak {
			s.peak = v
		}
		s.mu.Unlock()
	}
	read()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				read()
				return
			case <-tick.C:
				read()
			}
		}
	}()
	return s
}

// Peak returns the peak so far in MiB.
func (s *heapSampler) Peak() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(s.peak) / (1 << 20)
}

// Stop returns the peak in MiB.
func (s *heapSampler) Stop() float64 {
	close(s.stop)
	s.wg.Wait()
	return float64(s.peak) / (1 << 20)
}

// BenchmarkWrite100k writes a 100,000-row report (journal, manifest.xlsx,
// manifest.csv, failures.csv, summary.json) and reports the peak heap.
func BenchmarkWrite100k(b *testing.B) {
	const n = 100_000
	var peak float64
	for b.Loop() {
		dir := b.TempDir()
		s := startHeapSampler()
		writeBig(b, dir, n)
		peak = max(peak, s.Stop())
	}
	b.ReportMetric(peak, "peak-heap-MiB")
	b.ReportMetric(float64(n), "rows/op")
}

// BenchmarkWrite100kAllFailed is the worst case: every row also goes to the
// Failures sheet, so two sheets hold excelize's stream buffer (which spills
// to disk past 16 MiB but keeps its up to 32 MiB of capacity).
func BenchmarkWrite100kAllFailed(b *testing.B) {
	const n = 100_000
	var peak float64
	for b.Loop() {
		dir := b.TempDir()
		s := startHeapSampler()
		writeRows(b, dir, n, failedRow)
		peak = max(peak, s.Stop())
	}
	b.ReportMetric(peak, "peak-heap-MiB")
	b.ReportMetric(float64(n), "rows/op")
}

// measureWrite writes n rows as a run would (Add in an order that is not
// input order, then Close) and checks the time, the peak heap, the row
// count, the order of manifest.csv, the charts' figures and sha256sums.txt.
// The peak heap is sampled every millisecond from runtime/metrics
// (/memory/classes/heap/objects:bytes, what MemStats.HeapAlloc reports:
// live and not yet swept objects) while the rows are added and the reports
// written. The time limit is checked only with MEETARCHIVE_PERF=1: on a
// shared machine the wall time says more about the neighbours than about
// the code (the log always has it, with the CPU time).
func measureWrite(t *testing.T, n int, maxTime time.Duration, maxHeapMiB float64) {
	dir := t.TempDir()
	cpu0 := cpuTime()
	start := time.Now()
	s := startHeapSampler()
	w := addRows(t, dir, n, bigRow)
	addPeak, addTime, addCPU := s.Peak(), time.Since(start), cpuTime()-cpu0
	sum, err := w.Close(ExitFailures)
	if err != nil {
		t.Fatal(err)
	}
	peak := s.Stop()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	sizes := []string{}
	for _, p := range append(Paths(dir), filepath.Join(dir, Journal)) {
		if fi, err := os.Stat(p); err == nil {
			sizes = append(sizes, fmt.Sprintf("%s %.1f MiB", filepath.Base(p), float64(fi.Size())/(1<<20)))
		}
	}
	t.Logf("%d rows in %v (CPU %v), peak heap %.1f MiB (adding the rows: %v, CPU %v, peak %.1f MiB; Close: %v, CPU %v); %s", n, elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond), peak,
		addTime.Round(time.Millisecond), addCPU.Round(time.Millisecond), addPeak, (elapsed - addTime).Round(time.Millisecond), (cpu - addCPU).Round(time.Millisecond), strings.Join(sizes, ", "))
	if sum.Rows != n {
		t.Errorf("Rows = %d, want %d", sum.Rows, n)
	}
	if peak >= maxHeapMiB {
		t.Errorf("peak heap %.1f MiB, want < %.0f MiB", peak, maxHeapMiB)
	}
	if os.Getenv("MEETARCHIVE_PERF") == "1" && elapsed >= maxTime {
		t.Errorf("took %v, want < %v", elapsed, maxTime)
	}
	// The output really is in input order.
	prev := -1
	i := 0
	if err := ReadManifest(filepath.Join(dir, ManifestCSV), func(r Row) error {
		if r.Seq < prev {
			return fmt.Errorf("row %d: seq %d after %d", i, r.Seq, prev)
		}
		prev = r.Seq
		i++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Every archived row has its line in sha256sums.txt.
	f, err := os.Open(filepath.Join(dir, SHA256Sums))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	if err := ScanSHA256Sums(f, func(FileSum) error { lines++; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := n - n/50; lines != want {
		t.Errorf("%s has %d lines, want %d (every archived row)", SHA256Sums, lines, want)
	}
	if sum.Counts[Failed] != (n/2+24)/25 {
		t.Errorf("failed conferences = %d, want %d", sum.Counts[Failed], (n/2+24)/25)
	}
}

// TestPeakHeap100k: 100,000 rows (2% failed) are written in under 10 s with
// a peak heap under 100 MiB, charts and sha256sums.txt included. -short
// skips it, and so does -race (the detector's own memory distorts the
// figure) unless MEETARCHIVE_HEAP_TEST=1.
func TestPeakHeap100k(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 100,000-row memory test")
	}
	if raceEnabled && os.Getenv("MEETARCHIVE_HEAP_TEST") != "1" {
		t.Skip("-race: skipping the 100,000-row memory test (MEETARCHIVE_HEAP_TEST=1 runs it)")
	}
	measureWrite(t, 100_000, 10*time.Second, 100)
}

// TestPeakHeap1M: 1,000,000 rows in under 60 s with a peak heap under 150
// MiB. It runs only with MEETARCHIVE_BENCH_1M=1 (it writes about 1.7 GB of
// files and takes a minute or two) and never with -race.
func TestPeakHeap1M(t *testing.T) {
	if os.Getenv("MEETARCHIVE_BENCH_1M") != "1" || raceEnabled {
		t.Skip("set MEETARCHIVE_BENCH_1M=1 (without -race) to run the 1,000,000-row test")
	}
	measureWrite(t, 1_000_000, 60*time.Second, 150)
}

// fatalRow is row i of a run a wrong key stopped before any conference
// started: cancelled with errorCode "fatal" (with the caller's hint and
// finishedAt when full), every seventh line an invalid-input row instead.
func fatalRow(i int, full bool) Row {
	r := Row{Seq: i, ConfUUID: fmt.Sprintf("%032x", i*7919+1), Status: Cancelled, ErrorCode: "fatal"}
	if full {
		r.Hint = "not started: fix the summary's fatal error, then rerun with --input failures.csv"
		r.FinishedAt = t0.Add(time.Duration(i) * time.Microsecond)
	}
	if i%7 == 3 {
		r.ConfUUID = fmt.Sprintf("not-a-uuid-%d", i)
		r.Status, r.ErrorCode = InvalidInput, "invalid-input"
		r.ErrorMessage = fmt.Sprintf("line %d: %q is not a conference UUID (32 hexadecimal characters)", i+2, r.ConfUUID)
		r.Hint = "not a conference UUID: fix the input line"
	}
	return r
}

// TestPeakHeap1MFatal: the report of a million-line input that a fatal
// error stopped (plan first, then every row cancelled or invalid): its
// time, peak heap and file sizes, with the not-started rows as the
// pipeline writes them (a hint and finishedAt on each) and without either.
// Only with MEETARCHIVE_BENCH_1M=1.
func TestPeakHeap1MFatal(t *testing.T) {
	if os.Getenv("MEETARCHIVE_BENCH_1M") != "1" || raceEnabled {
		t.Skip("set MEETARCHIVE_BENCH_1M=1 (without -race) to run the 1,000,000-row test")
	}
	t.Run("hint and finishedAt", func(t *testing.T) { measureFatal(t, true) })
	t.Run("bare", func(t *testing.T) { measureFatal(t, false) })
}

func measureFatal(t *testing.T, full bool) {
	const n = 1_000_000
	dir := t.TempDir()
	cpu0 := cpuTime()
	start := time.Now()
	s := startHeapSampler()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Plan(func(yield func(PlanItem) bool) {
		for i := range n {
			if !yield(PlanItem{Seq: i, ConfUUID: fatalRow(i, full).ConfUUID, Line: i + 2}) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.SetFatal("authentication failed: signature verification failed"); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Add(fatalRow(i, full)); err != nil {
			t.Fatal(err)
		}
	}
	var journal int64
	if fi, err := os.Stat(filepath.Join(dir, Journal)); err == nil {
		journal = fi.Size()
	}
	addPeak, addTime, addCPU := s.Peak(), time.Since(start), cpuTime()-cpu0
	sum, err := w.Close(ExitFatal)
	if err != nil {
		t.Fatal(err)
	}
	peak := s.Stop()
	var total int64
	sizes := []string{fmt.Sprintf("journal before Close %.1f MiB", float64(journal)/(1<<20))}
	for _, p := range Paths(dir) {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
			sizes = append(sizes, fmt.Sprintf("%s %.1f MiB", filepath.Base(p), float64(fi.Size())/(1<<20)))
		}
	}
	t.Logf("%d rows: adding %v (CPU %v, peak heap %.1f MiB), Close %v (CPU %v), peak heap %.1f MiB; reports %.1f MiB: %s",
		n, addTime.Round(time.Millisecond), addCPU.Round(time.Millisecond), addPeak,
		(time.Since(start) - addTime).Round(time.Millisecond), (cpuTime() - cpu0 - addCPU).Round(time.Millisecond), peak,
		float64(total)/(1<<20), strings.Join(sizes, ", "))
	if sum.Rows != n || sum.Counts[Cancelled]+sum.Counts[InvalidInput] != n {
		t.Errorf("rows %d, cancelled %d, invalid %d; want %d rows", sum.Rows, sum.Counts[Cancelled], sum.Counts[InvalidInput], n)
	}
	if peak >= 150 {
		t.Errorf("peak heap %.1f MiB, want < 150 MiB", peak)
	}
	if _, err := os.Stat(filepath.Join(dir, Journal)); err == nil {
		t.Error("journal left after a successful Close")
	}
}
