package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive/archivetest"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

// The workloads run the whole pipeline (pipeline.Job.Run in a child process,
// as `meetarchive run` with its defaults would: an S3 store opened by
// archive.Open with the default options, 4 conferences in flight, the
// default request rate) against the simulator and versitygw, and compare
// it with the machine's limit measured in the same run (limit_test.go).
const (
	maxPeakRSS    = 150 * mib // the goal for every workload's peak RSS
	maxFlatGrowth = 16 * mib  // the larger file of the pair may peak this much higher
	quotaFileSize = 64 << 10  // bytes per file of the quota workload: the API is what it measures
)

var simStart = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

// benchWorkloads runs every workload MEETARCHIVE_BENCH_ONLY selects, each in a
// bucket of its own.
func benchWorkloads(t *testing.T, p params, tab *table) {
	type workload struct {
		group, name string
		run         func(*testing.T, archivetest.Bucket)
	}
	for _, w := range []workload{
		{"throughput", "16 x 2 x large", func(t *testing.T, b archivetest.Bucket) { benchThroughput(t, p, tab, b, 16, p.LargeSize, 0.95) }},
		{"throughput", "8 x 2 x small", func(t *testing.T, b archivetest.Bucket) { benchThroughput(t, p, tab, b, 8, p.SmallSize, 0.90) }},
		{"flat", "flat memory", func(t *testing.T, b archivetest.Bucket) { benchFlat(t, p, tab, b) }},
		{"quota", "quota", func(t *testing.T, b archivetest.Bucket) { benchQuota(t, p, tab, b) }},
		{"resume", "kill and rerun", func(t *testing.T, b archivetest.Bucket) { benchResume(t, p, tab, b) }},
	} {
		if !p.runs(w.group) {
			continue
		}
		t.Run(w.name, func(t *testing.T) {
			defer skipNote(t, tab, "workload "+w.name)
			w.run(t, archivetest.NewBucket(t, archivetest.BucketOptions{}))
		})
	}
	if p.runs("throughput") {
		tab.notef("limit of a workload: the lower throughput of (a) its files downloaded from the simulator's media host by %d parallel plain GETs "+
			"into io.Discard and (b) as many bytes uploaded from memory to the same S3 server by %d parallel aws-sdk-go-v2 transfermanager "+
			"uploads (%d MiB parts, %d in flight each, its default checksum); ours/limit = limit time / our time, per round.",
			limitStreams, limitStreams, limitPartSize/mib, limitPartFlight)
	}
	if len(tab.workloads) > 0 {
		tab.notef("our run: a child process (this test binary, TestBenchChild) running pipeline.Job.Run with an export client at its defaults " +
			"(rate auto unless a row names a ceiling; links from downloadurls unless a row names record info) and archive.Open(s3://...) " +
			"with the default options (8 MiB parts, default --memory); rows are checked against the files' true SHA-256, not written to a " +
			"report; timed from Job.Run's start to its end.")
	}
}

// spec is the child's run of the given conferences of s into dest, with as
// many conferences in flight as the limit has transfers (4, run's default
// --concurrency).
func (s *sim) spec(dest string, confs []meetingtest.Conference, rate float64) childSpec {
	ids := make([]string, len(confs))
	for i, c := range confs {
		ids[i] = c.ConfUUID
	}
	return childSpec{API: s.srv.URL, Dest: dest, Confs: ids, Sums: s.sums, Concurrency: limitStreams, Rate: rate}
}

// prefixes hands out a fresh key prefix per run.
type prefixes struct{ n int }

func (p *prefixes) next(kind string) string { p.n++; return fmt.Sprintf("%s-%d", kind, p.n) }

// benchThroughput: confs conferences of 2 files of size, ours against the
// limit, interleaved rounds; goal is the ratio to reach.
func benchThroughput(t *testing.T, p params, tab *table, b archivetest.Bucket, confs int, size int64, goal float64) {
	s := startSim(t, meetingtest.Config{Dataset: meetingtest.Generate(meetingtest.GenerateConfig{
		Conferences: confs, FilesPerConference: 2, FileSize: size, Seed: simSeed, Start: simStart,
	})})
	tm := newTransferManager(b)
	var (
		pre      prefixes
		rss      []int64
		name     = fmt.Sprintf("%d conferences x 2 files x %d MiB", confs, size/mib)
		ourCores []cores // ours: our child, the simulator, the S3 server
		tmCores  []cores // the upload limit: transfermanager (this process), the S3 server
	)
	download := func(ctx context.Context, _ int) (time.Duration, error) {
		files, err := s.allLinks(ctx, s.confs)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		err = s.discardAll(ctx, files, s.bytesPerRun())
		return time.Since(start), err
	}
	upload := func(ctx context.Context, _ int) (time.Duration, error) {
		prefix := pre.next("tm")
		defer deletePrefix(context.WithoutCancel(ctx), b, prefix)
		clock := readCPU()
		start := time.Now()
		err := uploadAll(ctx, tm, b, prefix, fileSizes(s.confs))
		d := time.Since(start)
		c := clock.since(-1)
		tmCores = append(tmCores, c)
		return d, err
	}
	ours := func(ctx context.Context, _ int) (time.Duration, error) {
		prefix := pre.next("ours")
		defer deletePrefix(context.WithoutCancel(ctx), b, prefix)
		clock := readCPU()
		res, err := runChild(ctx, s.spec(b.URI(prefix), s.confs, export.RateAuto))
		c := clock.since(res.CPU)
		ourCores = append(ourCores, c)
		rss = append(rss, res.PeakRSS)
		t.Logf("%s: ours: peak RSS %.1f MiB; %s; cores used: %s", name, float64(res.PeakRSS)/mib, res.runtime(), c)
		return res.Elapsed, err
	}
	times := interleave(t, p.WorkloadRounds, []variant{
		{name + ": limit, download", download}, {name + ": limit, upload", upload}, {name + ": ours", ours},
	})
	dl, ul, our := times[0], times[1], times[2]
	limit := make([]time.Duration, len(our))
	ratios := make([]float64, len(our))
	uploadLower := 0
	for i := range our {
		limit[i] = max(dl[i], ul[i])
		ratios[i] = float64(limit[i]) / float64(our[i])
		if ul[i] > dl[i] {
			uploadLower++
		}
	}
	bytes := s.bytesPerRun()
	ratio, peak := median(ratios), median(rss)
	tab.addWorkload(workloadRow{
		name: name,
		figures: fmt.Sprintf("ours %s MB/s, limit %s MB/s (download %s, upload %s; upload lower in %d of %d): ours/limit %.2f (%.2f..%.2f); peak RSS %s; "+
			"cores used during our run: %s; during the upload limit: transfermanager %s, S3 server %s",
			mbps(bytes, median(our)), mbps(bytes, median(limit)), mbps(bytes, median(dl)), mbps(bytes, median(ul)),
			uploadLower, len(our), ratio, slices.Min(ratios), slices.Max(ratios), rssFigures(rss),
			medianCores(ourCores), coresFig(medianCores(tmCores).self), coresFig(medianCores(tmCores).server)),
		goal: fmt.Sprintf("ours/limit >= %.2f, peak RSS < %d MiB", goal, maxPeakRSS/mib),
		met:  ratio >= goal && peak < maxPeakRSS,
	})
}

// benchFlat: one file of p.FlatBase, then one of p.Flat, each alone; the
// peak RSS must not grow with the file.
func benchFlat(t *testing.T, p params, tab *table, b archivetest.Bucket) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 1, FileSize: p.FlatBase, Seed: simSeed, Start: simStart})
	large := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 1, FileSize: p.Flat, Seed: simSeed + 1, Start: simStart.AddDate(0, 1, 0)})
	ds.Conferences = append(ds.Conferences, large.Conferences...)
	s := startSim(t, meetingtest.Config{Dataset: ds})
	var (
		pre     prefixes
		peaks   = make([][]int64, len(s.confs))
		times   = make([][]time.Duration, len(s.confs))
		tmTimes = make([][]time.Duration, len(s.confs)) // the same size uploaded by transfermanager
		tm      = newTransferManager(b)
	)
	for round := range p.FlatRounds {
		for i, c := range s.confs {
			size := c.Files[0].Size
			flushDisks()
			prefix := pre.next("flat")
			res, err := runChild(t.Context(), s.spec(b.URI(prefix), []meetingtest.Conference{c}, export.RateAuto))
			_ = deletePrefix(t.Context(), b, prefix)
			if err != nil {
				t.Fatalf("one %d MiB file, round %d: %v", size/mib, round+1, err)
			}
			t.Logf("round %d: one %d MiB file: %v, peak RSS %.1f MiB; %s", round+1, size/mib,
				res.Elapsed.Round(time.Millisecond), float64(res.PeakRSS)/mib, res.runtime())
			peaks[i] = append(peaks[i], res.PeakRSS)
			times[i] = append(times[i], res.Elapsed)

			// The S3 server's own speed for one object of this size: the
			// same bytes uploaded from memory by transfermanager.
			flushDisks()
			prefix = pre.next("flat-tm")
			start := time.Now()
			err = uploadAll(t.Context(), tm, b, prefix, []int64{size})
			tmTimes[i] = append(tmTimes[i], time.Since(start))
			_ = deletePrefix(t.Context(), b, prefix)
			if err != nil {
				t.Fatalf("one %d MiB file by transfermanager, round %d: %v", size/mib, round+1, err)
			}
		}
	}
	small, big := median(peaks[0]), median(peaks[1])
	tab.addWorkload(workloadRow{
		name: fmt.Sprintf("one %d MiB file, then one %d MiB file", p.FlatBase/mib, p.Flat/mib),
		figures: fmt.Sprintf("peak RSS %s then %s (%+.1f MiB); %s then %s MB/s (transfermanager uploading the same sizes from memory: %s then %s MB/s)",
			rssFigures(peaks[0]), rssFigures(peaks[1]), float64(big-small)/mib,
			mbps(p.FlatBase, median(times[0])), mbps(p.Flat, median(times[1])),
			mbps(p.FlatBase, median(tmTimes[0])), mbps(p.Flat, median(tmTimes[1]))),
		goal: fmt.Sprintf("the second within %d MiB of the first, both < %d MiB", maxFlatGrowth/mib, maxPeakRSS/mib),
		met:  big-small <= maxFlatGrowth && big < maxPeakRSS && small < maxPeakRSS,
	})
}

// benchQuota: p.QuotaConfs conferences against a simulator that enforces and
// advertises p.Quota calls per API per p.QuotaWindow, our run at the default
// rate (auto) and with a ceiling, interleaved. Each run gets a fresh
// simulator (a fresh quota) and starts on a window boundary.
func benchQuota(t *testing.T, p params, tab *table, b archivetest.Bucket) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{
		Conferences: p.QuotaConfs, FileSize: quotaFileSize, Seed: simSeed, Start: simStart,
	})
	quotaRate := float64(p.Quota) / p.QuotaWindow.Seconds() // calls/s the quota allows
	quotaTime := time.Duration(float64(p.QuotaConfs) / quotaRate * float64(time.Second))
	type outcome struct{ throttled, clientThrottled int64 }
	var pre prefixes
	run := func(rate float64, got *[]outcome) runFunc {
		return func(ctx context.Context, _ int) (time.Duration, error) {
			s := startSim(t, meetingtest.Config{Dataset: ds, QuotaPerAPI: p.Quota, QuotaWindow: p.QuotaWindow})
			defer s.srv.Close()
			prefix := pre.next("quota")
			defer deletePrefix(context.WithoutCancel(ctx), b, prefix)
			spec := s.spec(b.URI(prefix), s.confs, rate)
			spec.Timeout = 4*quotaTime + 30*time.Second
			// The quota's windows are aligned to multiples of the window:
			// start on a boundary, at least a second from now.
			spec.StartAt = time.Now().Add(time.Second).Truncate(p.QuotaWindow).Add(p.QuotaWindow)
			res, err := runChild(ctx, spec)
			*got = append(*got, outcome{throttled: s.srv.Counters().Throttled, clientThrottled: res.Throttled})
			return res.Elapsed, err
		}
	}
	var auto, ceiling []outcome
	times := interleave(t, p.WorkloadRounds, []variant{
		{"quota: rate auto", run(export.RateAuto, &auto)},
		{fmt.Sprintf("quota: rate %g", p.QuotaCeiling), run(p.QuotaCeiling, &ceiling)},
	})
	for i, v := range []struct {
		label, goal string
		want        float64
		got         []outcome
	}{
		{"the default rate (auto)", ">= 0.90 of the quota, 0 x 429", 0.90, auto},
		{fmt.Sprintf("a ceiling of %g/s (--rate %g)", p.QuotaCeiling, p.QuotaCeiling), ">= 0.90 of the quota (keep 0.95), 0 x 429", 0.90, ceiling},
	} {
		fractions := make([]float64, len(times[i]))
		var throttled, clientThrottled int64
		for r, d := range times[i] {
			fractions[r] = quotaTime.Seconds() / d.Seconds()
			throttled += v.got[r].throttled
			clientThrottled += v.got[r].clientThrottled
		}
		fraction := median(fractions)
		tab.addWorkload(workloadRow{
			name: fmt.Sprintf("%d conferences, quota %d per %v, %s", p.QuotaConfs, p.Quota, p.QuotaWindow, v.label),
			figures: fmt.Sprintf("%s (quota allows %s): %.2f of the quota (%.2f..%.2f); 429s: %d in all rounds (the client saw %d)",
				secs(median(times[i])), secs(quotaTime), fraction, slices.Min(fractions), slices.Max(fractions), throttled, clientThrottled),
			goal: v.goal,
			met:  fraction >= v.want && throttled == 0,
		})
	}
	tab.notef("quota workload: the simulator enforces and advertises (X-APIG-Ratelimit-Api) %d calls per API per %v, the gateway's "+
		"1,200 a minute scaled down to the same %.0f calls/s; every conference costs one details and one downloadurls call "+
		"(%d KiB file); fraction = (conferences / quota rate) / elapsed; each run has a fresh simulator and starts on a window boundary.",
		p.Quota, p.QuotaWindow, quotaRate, quotaFileSize>>10)
}

// benchResume: a run of one conference of 4 files is killed (SIGKILL)
// halfway through its third file; the rerun must download only what is not
// stored. Once with links from the record info API, which gives the
// platform's SHA-256 of every file, once with downloadurls, which gives none.
func benchResume(t *testing.T, p params, tab *table, b archivetest.Bucket) {
	for _, links := range []export.LinkSource{export.LinksRecordInfo, export.LinksDownloadURLs} {
		t.Run(string(links), func(t *testing.T) { killAndRerun(t, p, tab, b, links) })
	}
}

func killAndRerun(t *testing.T, p params, tab *table, b archivetest.Bucket, links export.LinkSource) {
	const files, killAfter = 4, 2
	s := startSim(t, meetingtest.Config{RecordInfo: true, Dataset: meetingtest.Generate(meetingtest.GenerateConfig{
		Conferences: 1, FilesPerConference: files, FileSize: p.SmallSize, Seed: simSeed, Start: simStart,
	})})
	ctx := t.Context()
	prefix := "resume-" + string(links)
	spec := s.spec(b.URI(prefix), s.confs, export.RateAuto)
	spec.Links, spec.KillAfterFiles = links, killAfter
	if _, err := runChild(ctx, spec); err != nil {
		t.Fatalf("killed run: %v", err)
	}
	stored, n, err := storedMedia(ctx, b, prefix)
	if err != nil {
		t.Fatalf("list what the killed run stored: %v", err)
	}
	missing := s.bytesPerRun() - stored
	before := s.srv.MediaBytesServed()
	spec.KillAfterFiles = 0
	res, err := runChild(ctx, spec)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if res.Archived != files {
		t.Fatalf("rerun archived %d files, want %d", res.Archived, files)
	}
	served := s.srv.MediaBytesServed() - before
	tab.addWorkload(workloadRow{
		name: fmt.Sprintf("SIGKILL mid-conference (%d x %d MiB), rerun; links: %s", files, p.SmallSize/mib, links),
		figures: fmt.Sprintf("killed halfway through file %d with %d files stored; the rerun downloaded %.1f MiB, %.1f MiB were missing (%.2fx)",
			killAfter+1, n, float64(served)/mib, float64(missing)/mib, float64(served)/float64(max(1, missing))),
		goal: "no stored file downloaded again (rerun downloads = missing bytes)",
		met:  served == missing && n == killAfter,
	})
}

// storedMedia sums the sizes of the objects under prefix, sidecars aside.
func storedMedia(ctx context.Context, b archivetest.Bucket, prefix string) (bytes int64, n int, err error) {
	pg := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), Prefix: aws.String(prefix + "/")})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return 0, 0, err
		}
		for _, o := range page.Contents {
			if !strings.Contains(aws.ToString(o.Key), "/_meetarchive/") {
				bytes += aws.ToInt64(o.Size)
				n++
			}
		}
	}
	return bytes, n, nil
}

// rssFigures is "median X MiB (max Y)" of peak RSS figures in bytes.
func rssFigures(peaks []int64) string {
	if len(peaks) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB (max %.0f)", float64(median(peaks))/mib, float64(slices.Max(peaks))/mib)
}
