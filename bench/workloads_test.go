package bench

import (
	"context"
	"errors"
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
		{"links", "links", func(t *testing.T, b archivetest.Bucket) { benchLinks(t, p, tab, b) }},
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

// quotaLayout is how a quota workload's conferences are run: by how many
// processes (the shards of one job), started how far apart.
type quotaLayout struct {
	name     string
	procs    int
	spread   time.Duration // starts evenly spread over this
	maxRatio float64       // the goal: elapsed / the quota's time
	max429   int64         // per process, in every round
}

func quotaLayouts(p params) []quotaLayout {
	return []quotaLayout{
		{"1 process", 1, 0, 1.11, 0},
		{"4 shards started together", 4, 0, 1.15, 0},
		{fmt.Sprintf("8 shards started 0-%v apart", p.QuotaStagger), 8, p.QuotaStagger, 1.25, 1},
	}
}

// quotaRun is what one run of a quota workload did.
type quotaRun struct {
	elapsed   time.Duration // from the first process's start to the last one's end
	throttled []int64       // 429s each process's client saw
	simTotal  int64         // 429s the gateway answered
	platform  int           // archived rows with the platform's SHA-256 (record info links)
	archived  int
}

// runQuota runs the conferences of s, split into layout's shards, each a
// child process with the default rate (auto), against s's gateway; each
// shard's child starts its Job.Run at its offset after a common start.
func runQuota(ctx context.Context, s *sim, b archivetest.Bucket, prefix string, layout quotaLayout, links export.LinkSource, dateRange bool, timeout time.Duration) (quotaRun, error) {
	start := time.Now().Add(3 * time.Second) // every child has logged in by then
	type res struct {
		i   int
		r   childResult
		err error
	}
	out := make(chan res, layout.procs)
	for i := range layout.procs {
		spec := s.spec(b.URI(prefix), s.confs[i*len(s.confs)/layout.procs:(i+1)*len(s.confs)/layout.procs], export.RateAuto)
		spec.Links, spec.DateRange, spec.Timeout = links, dateRange, timeout
		if layout.procs > 1 {
			spec.StartAt = start.Add(layout.spread * time.Duration(i) / time.Duration(layout.procs-1))
		} else {
			spec.StartAt = start
		}
		go func() {
			r, err := runChild(ctx, spec)
			out <- res{i, r, err}
		}()
	}
	run := quotaRun{throttled: make([]int64, layout.procs)}
	var first, last time.Time
	var errs []error
	for range layout.procs {
		r := <-out
		if r.err != nil {
			errs = append(errs, fmt.Errorf("shard %d: %w", r.i, r.err))
			continue
		}
		run.throttled[r.i] = r.r.Throttled
		run.archived += r.r.Archived
		run.platform += r.r.PlatformSHA256
		if first.IsZero() || r.r.Started.Before(first) {
			first = r.r.Started
		}
		if r.r.Ended.After(last) {
			last = r.r.Ended
		}
	}
	run.elapsed = last.Sub(first)
	run.simTotal = s.srv.Counters().Throttled
	return run, errors.Join(errs...)
}

// benchQuota: p.QuotaConfs conferences against a simulator that enforces
// and advertises p.Quota calls per API per p.QuotaWindow, once in fixed
// windows and once as a token bucket refilled continuously with a burst of
// p.QuotaBurst, run by one process, by 4 shards started together and by 8
// started p.QuotaStagger apart, at the default rate (auto); every
// conference costs one details and one downloadurls call. Each run gets a
// fresh simulator (a fresh quota); the variants are interleaved.
func benchQuota(t *testing.T, p params, tab *table, b archivetest.Bucket) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{
		Conferences: p.QuotaConfs, FileSize: quotaFileSize, Seed: simSeed, Start: simStart,
	})
	quotaRate := float64(p.Quota) / p.QuotaWindow.Seconds() // calls/s the quota allows
	quotaTime := time.Duration(float64(p.QuotaConfs) / quotaRate * float64(time.Second))
	var (
		pre      prefixes
		variants []variant
		rows     []func(times []time.Duration)
	)
	for _, model := range p.QuotaModels {
		for _, layout := range quotaLayouts(p) {
			name := fmt.Sprintf("quota, %s: %s", model, layout.name)
			var runs []quotaRun
			variants = append(variants, variant{name, func(ctx context.Context, _ int) (time.Duration, error) {
				s := startSim(t, meetingtest.Config{Dataset: ds, QuotaPerAPI: p.Quota, QuotaWindow: p.QuotaWindow,
					QuotaModel: model, QuotaBurst: p.QuotaBurst})
				defer s.srv.Close()
				prefix := pre.next("quota")
				defer deletePrefix(context.WithoutCancel(ctx), b, prefix)
				run, err := runQuota(ctx, s, b, prefix, layout, export.LinksDownloadURLs, false, 4*quotaTime+60*time.Second)
				runs = append(runs, run)
				t.Logf("%s: %v (%.3fx), 429s per process %v (the gateway answered %d)", name, run.elapsed.Round(time.Millisecond),
					run.elapsed.Seconds()/quotaTime.Seconds(), run.throttled, run.simTotal)
				return run.elapsed, err
			}})
			rows = append(rows, func(times []time.Duration) {
				ratios := make([]float64, len(times))
				var worst, total int64
				for r, d := range times {
					ratios[r] = d.Seconds() / quotaTime.Seconds()
					for _, n := range runs[r].throttled {
						worst = max(worst, n)
						total += n
					}
				}
				ratio := median(ratios)
				goal := fmt.Sprintf("within %.2fx of the quota's time, ", layout.maxRatio)
				if layout.max429 == 0 {
					goal += "0 x 429"
				} else {
					goal += fmt.Sprintf("at most %d x 429 per process", layout.max429)
				}
				tab.addWorkload(workloadRow{
					name: fmt.Sprintf("%d conferences, quota %d per %v, %s: %s", p.QuotaConfs, p.Quota, p.QuotaWindow, quotaModelName(model, p.QuotaBurst), layout.name),
					figures: fmt.Sprintf("%s (quota allows %s): %.3fx (%.3f..%.3f); 429s: at most %d per process in a round, %d in all rounds",
						secs(median(times)), secs(quotaTime), ratio, slices.Min(ratios), slices.Max(ratios), worst, total),
					goal: goal,
					met:  ratio <= layout.maxRatio && worst <= layout.max429,
				})
			})
		}
	}
	times := interleave(t, p.WorkloadRounds, variants)
	for i, row := range rows {
		row(times[i])
	}
	tab.notef("quota workloads: the simulator enforces and advertises (X-APIG-Ratelimit-Api) %d calls per API per %v, in fixed windows "+
		"(aligned to multiples of the window, all back at once) or as a token bucket refilled continuously at the same %.0f calls/s "+
		"holding %d (shown per second in X-APIG-Ratelimit-Api-Allenv); every conference costs one details and one downloadurls call "+
		"(%d KiB file); each process a child running Job.Run on its shard at --rate auto; elapsed from the first shard's start to the "+
		"last one's end, against the quota's time (conferences / quota rate); each run has a fresh simulator.",
		p.Quota, p.QuotaWindow, quotaRate, p.QuotaBurst, quotaFileSize>>10)
}

// benchLinks: does spreading link calls across record info and downloadurls
// (--links spread; each API has its own quota) raise the conference rate of
// a quota-bound run? p.QuotaConfs conferences, every API on a continuous
// bucket of p.Quota per p.QuotaWindow (burst p.QuotaBurst), one process,
// links from record info alone (what --links auto does where record info is
// allowed) against spread, once with the details asked for each conference
// (a run from an input file) and once with the details from the list API (a
// date-range run); interleaved rounds.
func benchLinks(t *testing.T, p params, tab *table, b archivetest.Bucket) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{
		Conferences: p.QuotaConfs, FileSize: quotaFileSize, Seed: simSeed, Start: simStart,
	})
	quotaRate := float64(p.Quota) / p.QuotaWindow.Seconds()
	quotaTime := time.Duration(float64(p.QuotaConfs) / quotaRate * float64(time.Second))
	type result struct {
		runs []quotaRun
	}
	var (
		pre      prefixes
		variants []variant
		results  []*result
	)
	layout := quotaLayouts(p)[0] // one process
	for _, dateRange := range []bool{false, true} {
		for _, links := range []export.LinkSource{export.LinksRecordInfo, export.LinksSpread} {
			input := "input file"
			if dateRange {
				input = "date range"
			}
			name := fmt.Sprintf("links, %s: %s", input, links)
			res := &result{}
			results = append(results, res)
			variants = append(variants, variant{name, func(ctx context.Context, _ int) (time.Duration, error) {
				s := startSim(t, meetingtest.Config{Dataset: ds, RecordInfo: true, QuotaPerAPI: p.Quota, QuotaWindow: p.QuotaWindow,
					QuotaModel: meetingtest.QuotaBucket, QuotaBurst: p.QuotaBurst})
				defer s.srv.Close()
				prefix := pre.next("links")
				defer deletePrefix(context.WithoutCancel(ctx), b, prefix)
				run, err := runQuota(ctx, s, b, prefix, layout, links, dateRange, 4*quotaTime+60*time.Second)
				res.runs = append(res.runs, run)
				t.Logf("%s: %v, %d of %d files checked against the platform's SHA-256, 429s %v", name, run.elapsed.Round(time.Millisecond),
					run.platform, run.archived, run.throttled)
				return run.elapsed, err
			}})
		}
	}
	times := interleave(t, p.WorkloadRounds, variants)
	for i := 0; i < len(times); i += 2 {
		alone, spread := times[i], times[i+1]
		ratios := make([]float64, len(alone))
		for r := range alone {
			ratios[r] = alone[r].Seconds() / spread[r].Seconds()
		}
		input := "input file (details, then links, per conference)"
		if i >= 2 {
			input = "date range (details from the list; links per conference)"
		}
		platform := func(res *result) string {
			n, all := 0, 0
			for _, r := range res.runs {
				n, all = n+r.platform, all+r.archived
			}
			return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(max(all, 1)))
		}
		confRate := func(ts []time.Duration) float64 { return float64(p.QuotaConfs) / median(ts).Seconds() }
		tab.addWorkload(workloadRow{
			name: fmt.Sprintf("%d conferences, every API on a bucket of %d per %v: %s", p.QuotaConfs, p.Quota, p.QuotaWindow, input),
			figures: fmt.Sprintf("record info alone %s (%.1f conferences/s, %s of files with the platform's SHA-256); spread %s (%.1f/s, %s): "+
				"spread is %.2fx as fast (%.2f..%.2f)",
				secs(median(alone)), confRate(alone), platform(results[i]), secs(median(spread)), confRate(spread), platform(results[i+1]),
				median(ratios), slices.Min(ratios), slices.Max(ratios)),
			goal: "a measure (README: Links and the quota), no goal",
			met:  true,
		})
	}
	tab.notef("links workloads: one process, --concurrency 4, rate auto; record info and downloadurls each have their own quota; "+
		"spread takes a conference's links from downloadurls when its record info call would wait on its quota more than %v.", 100*time.Millisecond)
}

// quotaModelName names a quota model in the table.
func quotaModelName(model string, burst int) string {
	if model == meetingtest.QuotaBucket {
		return fmt.Sprintf("continuous bucket (burst %d)", burst)
	}
	return "fixed windows"
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
