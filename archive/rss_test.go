package archive_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// TestS3PeakRSS measures what a process uploading 16 files of 64 MiB, 4 at
// once (8 MiB parts, default MaxUploads), holds at its peak (VmHWM), for several memory budgets and Go
// runtime settings, each in a fresh child process, 3 interleaved runs each,
// and prints the medians. It is a measurement, run on demand:
//
//	MEETARCHIVE_MEASURE_RSS=1 go test -count=1 -run TestS3PeakRSS -v ./archive/
//
// It fails if the default settings peak at 150 MiB or more.
func TestS3PeakRSS(t *testing.T) {
	if os.Getenv("MEETARCHIVE_RSS_CHILD") != "" {
		rssChild(t)
		return
	}
	if os.Getenv("MEETARCHIVE_MEASURE_RSS") == "" {
		t.Skip("a measurement: set MEETARCHIVE_MEASURE_RSS=1 to run it")
	}
	archivetest.Server(t) // skip or fail here, not in the children
	type config struct {
		name   string
		memory int64  // Options.Memory
		gogc   string // GOGC; "" = default
		limit  bool   // debug.SetMemoryLimit(budget + 48 MiB)
	}
	configs := []config{
		{"budget 64 MiB (default), GOGC 100, no limit", 0, "", false},
		{"budget 64 MiB, GOGC 50", 0, "50", false},
		{"budget 64 MiB, GOGC 25", 0, "25", false},
		{"budget 64 MiB, limit budget+48 MiB", 0, "", true},
		{"budget 64 MiB, GOGC off, limit budget+48 MiB", 0, "off", true},
		{"budget 32 MiB", 32 * mib, "", false},
		{"budget 96 MiB", 96 * mib, "", false},
	}
	if only := os.Getenv("MEETARCHIVE_MEASURE_RSS_ONLY"); only != "" {
		configs = slices.DeleteFunc(configs, func(c config) bool { return !strings.Contains(c.name, only) })
	}
	const runs = 3
	peaks := make([][]float64, len(configs))
	speeds := make([][]float64, len(configs))
	allocs := make([][]float64, len(configs))
	gcCounts := make([][]float64, len(configs))
	for range runs {
		for i, c := range configs {
			cmd := exec.Command(os.Args[0], "-test.run=^TestS3PeakRSS$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "MEETARCHIVE_RSS_CHILD=1",
				"MEETARCHIVE_RSS_MEMORY="+strconv.FormatInt(c.memory, 10), "MEETARCHIVE_RSS_LIMIT="+strconv.FormatBool(c.limit))
			if c.gogc != "" {
				cmd.Env = append(cmd.Env, "GOGC="+c.gogc)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: child: %v\n%s", c.name, err, out)
			}
			var peak, speed, alloc, gcs float64
			if _, err := fmt.Sscanf(resultLine(string(out)), "RESULT peak_rss_mib=%f mib_per_s=%f alloc_mib=%f gcs=%f", &peak, &speed, &alloc, &gcs); err != nil {
				t.Fatalf("%s: no result in child output: %v\n%s", c.name, err, out)
			}
			peaks[i] = append(peaks[i], peak)
			speeds[i] = append(speeds[i], speed)
			allocs[i] = append(allocs[i], alloc)
			gcCounts[i] = append(gcCounts[i], gcs)
		}
	}
	t.Logf("16 uploads of 64 MiB, 4 at once, 8 MiB parts, medians of %d runs:", runs)
	t.Logf("| %-48s | %12s | %6s | %15s | %4s |", "settings", "peak RSS MiB", "MiB/s", "allocated MiB", "GCs")
	for i, c := range configs {
		t.Logf("| %-48s | %12.0f | %6.0f | %15.0f | %4.0f |", c.name, median(peaks[i]), median(speeds[i]), median(allocs[i]), median(gcCounts[i]))
		if c.memory == 0 && c.gogc == "" && !c.limit && median(peaks[i]) >= 150 {
			t.Errorf("%s: peak RSS %.0f MiB, want < 150", c.name, median(peaks[i]))
		}
	}
}

func resultLine(out string) string {
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "RESULT ") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// rssChild runs the uploads and prints the result line.
func rssChild(t *testing.T) {
	memory, err := strconv.ParseInt(os.Getenv("MEETARCHIVE_RSS_MEMORY"), 10, 64)
	if err != nil {
		t.Fatalf("MEETARCHIVE_RSS_MEMORY: %v", err)
	}
	opts := archive.Options{Memory: memory}
	if os.Getenv("MEETARCHIVE_RSS_LIMIT") == "true" {
		debug.SetMemoryLimit(opts.MemoryBudget() + 48*mib)
	}
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	st := s3Store(t, b, "rss", opts)
	const files, size = 16, 64 * mib
	block := make([]byte, mib)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(block)
	h := sha256.New()
	for range size / mib {
		h.Write(block)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, files)
	for i := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.Put(ctx, fmt.Sprintf("f%d.mp4", i), archivetest.Repeat(block, size), known(size, sum))
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	peak, err := archivetest.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	fmt.Printf("RESULT peak_rss_mib=%.1f mib_per_s=%.1f alloc_mib=%.1f gcs=%d\n", float64(peak)/mib, float64(files*size)/mib/elapsed.Seconds(),
		float64(after.TotalAlloc-before.TotalAlloc)/mib, after.NumGC-before.NumGC)
}
