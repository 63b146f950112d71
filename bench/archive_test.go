package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
	"meetarchive/report"
)

const simSeed = 20240501

// sim is the Meeting API simulator with the client the pipeline would build
// for it, and the true SHA-256 of every file.
type sim struct {
	srv      *meetingtest.Server
	client   *export.Client
	plain    *http.Client // the baselines' HTTP client: a stock transport
	keys     *archive.KeyTemplate
	confs    []meetingtest.Conference // the conferences of one archive run
	big      meetingtest.Conference   // one conference with one large file
	sums     map[string]string        // confUUID/fileType/name -> sha256
	progress progress                 // the pipeline's progress counter
}

// newSim serves p.Files files of p.FileSize (p.FilesPerConf per conference)
// and, when big > 0, one more conference with one file of big bytes. The
// simulator enforces no rate limit and sends media as fast as it can.
func newSim(t *testing.T, p params, big int64) *sim {
	t.Helper()
	ds := meetingtest.GenerateFiles(p.Files/p.FilesPerConf, p.FilesPerConf, p.FileSize, simSeed)
	confs := ds.Conferences
	var bigConf meetingtest.Conference
	if big > 0 {
		bigConf = meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 1, FileSize: big, Seed: simSeed + 1,
			Start: time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)}).Conferences[0]
		ds.Conferences = append(ds.Conferences, bigConf)
	}
	s := startSim(t, meetingtest.Config{Dataset: ds})
	s.confs, s.big = confs, bigConf
	return s
}

// startSim starts a simulator with cfg (its Seed set here) and the client the
// pipeline would build for it; s.confs is every conference of the dataset.
func startSim(t *testing.T, cfg meetingtest.Config) *sim {
	t.Helper()
	cfg.Seed = simSeed
	s := &sim{confs: cfg.Dataset.Conferences, sums: map[string]string{}}
	s.srv = meetingtest.Start(t, cfg)

	// The pipeline's client (run.go defaultRunConfig), except the request
	// rate: its 1.6/s is the real gateway's quota, not what is measured here.
	c, err := export.NewClient(export.Config{
		BaseURL:        s.srv.URL,
		Credentials:    export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: meetingtest.DefaultAppKey},
		Rate:           500,
		MaxAttempts:    5,
		MaxElapsed:     2 * time.Minute,
		RequestTimeout: 30 * time.Second,
		Links:          export.LinksDownloadURLs,
	})
	if err != nil {
		t.Fatalf("export.NewClient: %v", err)
	}
	if err := c.Authenticate(t.Context()); err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	s.client = c
	s.plain = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(s.plain.CloseIdleConnections)
	if s.keys, err = archive.ParseKeyTemplate(archive.DefaultKeyTemplate); err != nil {
		t.Fatalf("key template: %v", err)
	}
	for _, c := range cfg.Dataset.Conferences {
		for _, f := range c.Files {
			sum := s.srv.FileSHA256(c.ConfUUID, f.FileType, f.Name)
			s.sums[c.ConfUUID+"/"+f.FileType+"/"+f.Name] = sum
			// The record info API names the file type differently.
			s.sums[c.ConfUUID+"/"+meetingtest.RecordType(f.FileType)+"/"+f.Name] = sum
		}
	}
	return s
}

func (s *sim) bytesPerRun() int64 {
	var n int64
	for _, c := range s.confs {
		for _, f := range c.Files {
			n += f.Size
		}
	}
	return n
}

func (s *sim) wantSHA256(confUUID string, f export.File) string {
	return s.sums[confUUID+"/"+f.FileType+"/"+f.Name]
}

// perConference runs fn for every conference with at most workers in flight,
// as the pipeline's worker pool does (files of one conference in order): the
// baselines' pool.
func perConference(ctx context.Context, confs []meetingtest.Conference, workers int, fn func(context.Context, meetingtest.Conference) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, c := range confs {
		g.Go(func() error { return fn(ctx, c) })
	}
	return g.Wait()
}

// links asks for fresh download links of c (one API call, as the pipeline
// does per conference and attempt) and checks they are all there.
func (s *sim) links(ctx context.Context, c meetingtest.Conference) ([]export.File, error) {
	files, err := s.client.Links(ctx, c.ConfUUID)
	if err != nil {
		return nil, err
	}
	if len(files) != len(c.Files) {
		return nil, fmt.Errorf("links of %s: got %d files, want %d", c.ConfUUID, len(files), len(c.Files))
	}
	return files, nil
}

// archive runs the pipeline itself (pipeline.Job.Run, as `meetarchive run`
// does) over confs with workers conferences in flight, keys under prefix,
// and checks that every file is archived with its true SHA-256.
func (s *sim) archive(ctx context.Context, st pipeline.Store, prefix string, confs []meetingtest.Conference, workers int) error {
	keys, err := archive.ParseKeyTemplate(prefix + "/" + archive.DefaultKeyTemplate)
	if err != nil {
		return err
	}
	items := make([]pipeline.Item, len(confs))
	for i, c := range confs {
		items[i] = pipeline.Item{Seq: i, ConfUUID: c.ConfUUID}
	}
	job := &pipeline.Job{
		API: s.client, Store: st, Keys: keys, Log: slog.New(slog.DiscardHandler), Progress: &s.progress,
		// Force: every round archives again (sidecars are shared by the
		// rounds' prefixes); the retry policy is run's default.
		Options: pipeline.Options{Concurrency: workers, Force: true, Tool: "meetarchive bench",
			Retry: export.Backoff{Base: pipeline.DefaultFileRetryBase, MaxAttempts: export.DefaultMaxAttempts, MaxElapsed: export.DefaultMaxElapsed}},
	}
	rows := &checkRows{sums: s.sums}
	res := job.Run(ctx, ctx, pipeline.SliceSource(items).Items(), rows)
	return errors.Join(res.Fatal, res.WriteErr, rows.err)
}

// checkRows is the bench's report: every row must be archived with the
// file's true SHA-256.
type checkRows struct {
	sums     map[string]string
	archived int // rows archived with the right SHA-256
	platform int // of them, checked against the platform's SHA-256 too
	err      error
}

func (c *checkRows) AddAll(rows ...report.Row) error {
	for _, r := range rows {
		switch want := c.sums[r.ConfUUID+"/"+r.FileType+"/"+r.FileName]; {
		case r.Status != report.Archived:
			c.err = errors.Join(c.err, fmt.Errorf("%s %s/%s: %s %s %s", r.ConfUUID, r.FileType, r.FileName, r.Status, r.ErrorCode, r.ErrorMessage))
		case r.SHA256 != want:
			c.err = errors.Join(c.err, fmt.Errorf("%s %s/%s: stored sha256 %s, want %s", r.ConfUUID, r.FileType, r.FileName, r.SHA256, want))
		default:
			c.archived++
			if r.PlatformSHA256 == want {
				c.platform++
			}
		}
	}
	return nil
}

// progress is the pipeline's progress counter in the bench: bytes as they stream.
type progress struct{ moved atomic.Int64 }

func (p *progress) ConferenceDone()  {}
func (p *progress) AddBytes(n int64) { p.moved.Add(n) }
func (p *progress) Estimate(int64)   {}

// keyFields are the key fields of a simulator conference (the baselines' keys).
func keyFields(c meetingtest.Conference, f export.File) archive.KeyFields {
	return archive.KeyFields{
		ConfUUID: c.ConfUUID, ConfID: c.ConfID, Subject: c.Subject, ScheduserName: c.ScheduserName,
		StartTime: c.StartTime, FileType: f.FileType, FileName: f.Name, Index: f.Index,
	}
}

// get is the baselines' download: a plain GET with the download token in the
// Authorization header, as curl -H would send it.
func (s *sim) get(ctx context.Context, f export.File) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: bad URL", f)
	}
	if f.Token != "" {
		req.Header.Set("Authorization", f.Token)
	}
	resp, err := s.plain.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", f, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", f, resp.Status)
	}
	return resp, nil
}

// curlTeeSHA256 is the directory baseline for one conference: the same
// links, then per file GET | tee file | sha256sum (optionally with an fsync
// of the file, which the pipeline's store does and curl does not).
func (s *sim) curlTeeSHA256(ctx context.Context, dir string, c meetingtest.Conference, fsync bool) error {
	files, err := s.links(ctx, c)
	if err != nil {
		return err
	}
	for _, f := range files {
		resp, err := s.get(ctx, f)
		if err != nil {
			return err
		}
		err = func() error {
			defer resp.Body.Close()
			out, err := os.Create(filepath.Join(dir, c.ConfUUID+"_"+f.FileType+"_"+path.Base(f.Name)))
			if err != nil {
				return err
			}
			h := sha256.New()
			if _, err := io.Copy(io.MultiWriter(out, h), resp.Body); err != nil {
				out.Close()
				return err
			}
			if fsync {
				if err := out.Sync(); err != nil {
					out.Close()
					return err
				}
			}
			if err := out.Close(); err != nil {
				return err
			}
			if got, want := hex.EncodeToString(h.Sum(nil)), s.wantSHA256(c.ConfUUID, f); got != want {
				return fmt.Errorf("%s: sha256 %s, want %s", f, got, want)
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// benchDir: archive to a local directory, sequential and 4 conferences in flight.
func benchDir(t *testing.T, p params, tab *table) {
	s := newSim(t, p, 0)
	root := t.TempDir()
	scratch := func(name string, round int) (string, func(), error) {
		d := filepath.Join(root, fmt.Sprintf("%s-%d", name, round))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", nil, err
		}
		return d, func() { os.RemoveAll(d) }, nil
	}
	for _, mode := range []struct {
		name    string
		workers int
	}{{"sequential", 1}, {fmt.Sprintf("%d in parallel", p.Parallel), p.Parallel}} {
		ours := func(ctx context.Context, round int) (time.Duration, error) {
			d, cleanup, err := scratch("ours", round)
			if err != nil {
				return 0, err
			}
			defer cleanup()
			st, err := archive.NewDirStore(d)
			if err != nil {
				return 0, err
			}
			defer st.Close()
			if err := st.Preflight(ctx); err != nil {
				return 0, err
			}
			start := time.Now()
			err = s.archive(ctx, st, "bench", s.confs, mode.workers)
			return time.Since(start), err
		}
		baseline := func(fsync bool) runFunc {
			return func(ctx context.Context, round int) (time.Duration, error) {
				d, cleanup, err := scratch("base", round)
				if err != nil {
					return 0, err
				}
				defer cleanup()
				start := time.Now()
				err = perConference(ctx, s.confs, mode.workers, func(ctx context.Context, c meetingtest.Conference) error {
					return s.curlTeeSHA256(ctx, d, c, fsync)
				})
				return time.Since(start), err
			}
		}
		times := interleave(t, p.Rounds, []variant{
			{"dir " + mode.name + ": ours", ours},
			{"dir " + mode.name + ": baseline", baseline(false)},
			{"dir " + mode.name + ": baseline+fsync", baseline(true)},
		})
		group := fmt.Sprintf("archive to a directory (%d files x %d MiB, %d per conference)", p.Files, p.FileSize/mib, p.FilesPerConf)
		oursLabel := "pipeline.Job.Run (Archived check skipped by Force, Links, OpenMedia, DirStore Put: hash while streaming, temp file, fsync, rename, dir fsync; sidecar)"
		tab.add(result{group: group, name: mode.name + " vs curl|tee|sha256sum", ours: times[0], base: times[1],
			bytes: s.bytesPerRun(), oursLabel: oursLabel,
			baselineLabel: "same Links call, then net/http GET (token header) + io.Copy into os.File + sha256 (no fsync)"})
		tab.add(result{group: group, name: mode.name + " vs the same + fsync", ours: times[0], base: times[2],
			bytes: s.bytesPerRun(), oursLabel: oursLabel,
			baselineLabel: "the baseline above plus one fsync per file (the durability our store pays for)"})
	}
}

// s3Options are the pipeline's S3 defaults (the --part-size,
// --part-concurrency and --max-uploads defaults).
func s3Options(b archivetest.Bucket) archive.Options {
	return archive.Options{
		PartSize: archive.DefaultPartSize, PartConcurrency: archive.DefaultPartConcurrency, MaxUploads: archive.DefaultMaxUploads,
		ClientOptions: []func(*s3.Options){b.Env.ClientOption()},
	}
}

// putObjectConference is the S3 baseline for one conference: the same links,
// then per file one PutObject streaming the GET's body, with its length.
func (s *sim) putObjectConference(ctx context.Context, b archivetest.Bucket, prefix string, c meetingtest.Conference) error {
	files, err := s.links(ctx, c)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := s.putObject(ctx, b, prefix, c, f); err != nil {
			return err
		}
	}
	return nil
}

// streamOverHTTP lets PutObject send a body it cannot seek over plain HTTP:
// the SDK otherwise reads the body twice (payload hash for SigV4, CRC32
// checksum) and refuses a stream. UNSIGNED-PAYLOAD and no optional checksum
// is what a streaming client does there (the S3 server is on 127.0.0.1,
// without TLS).
var streamOverHTTP = []func(*s3.Options){
	s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware),
	func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired },
}

func (s *sim) putObject(ctx context.Context, b archivetest.Bucket, prefix string, c meetingtest.Conference, f export.File) error {
	resp, err := s.get(ctx, f)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	key, err := s.keys.Key(keyFields(c, f))
	if err != nil {
		return err
	}
	_, err = b.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(b.Name),
		Key:           aws.String(prefix + "/" + key),
		Body:          resp.Body,
		ContentLength: aws.Int64(resp.ContentLength),
		ContentType:   aws.String("video/mp4"),
	}, streamOverHTTP...)
	if err != nil {
		return fmt.Errorf("PutObject %s: %w", f, err)
	}
	return nil
}

// deletePrefix removes every object under prefix (between runs, untimed).
func deletePrefix(ctx context.Context, b archivetest.Bucket, prefix string) error {
	var errs []error
	pg := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), Prefix: aws.String(prefix + "/")})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: o.Key}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// benchS3: archive to S3 (versitygw), sequential and 4 in parallel, then the
// heap growth while one large file is uploaded.
func benchS3(t *testing.T, p params, tab *table) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	s := newSim(t, p, p.BigSize)
	ctx := t.Context()
	opts := s3Options(b)
	st, err := archive.Open(ctx, b.URI("archive"), opts)
	if err != nil {
		t.Fatalf("archive.Open: %v", err)
	}
	defer st.Close()
	if err := st.Preflight(ctx); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	// archive.Open's prefix is "archive": our keys land under archive/<run>/...
	run := 0
	for _, mode := range []struct {
		name    string
		workers int
	}{{"sequential", 1}, {fmt.Sprintf("%d in parallel", p.Parallel), p.Parallel}} {
		ours := func(ctx context.Context, round int) (time.Duration, error) {
			run++
			prefix := fmt.Sprintf("ours-%d", run)
			defer deletePrefix(context.WithoutCancel(ctx), b, "archive/"+prefix)
			start := time.Now()
			err := s.archive(ctx, st, prefix, s.confs, mode.workers)
			return time.Since(start), err
		}
		base := func(ctx context.Context, round int) (time.Duration, error) {
			run++
			prefix := fmt.Sprintf("archive/base-%d", run)
			defer deletePrefix(context.WithoutCancel(ctx), b, prefix)
			start := time.Now()
			err := perConference(ctx, s.confs, mode.workers, func(ctx context.Context, c meetingtest.Conference) error {
				return s.putObjectConference(ctx, b, prefix, c)
			})
			return time.Since(start), err
		}
		times := interleave(t, p.Rounds, []variant{
			{"s3 " + mode.name + ": ours", ours},
			{"s3 " + mode.name + ": baseline", base},
		})
		tab.add(result{
			group: fmt.Sprintf("archive to S3 (versitygw on 127.0.0.1; %d files x %d MiB, %d per conference)", p.Files, p.FileSize/mib, p.FilesPerConf),
			name:  mode.name + " vs PutObject", ours: times[0], base: times[1], bytes: s.bytesPerRun(),
			oursLabel: fmt.Sprintf("pipeline.Job.Run -> archive.Open(s3://...) Put (multipart from the shared part pool, %d MiB parts x %d, CRC32C per part, read-back) and sidecar",
				opts.PartSize/mib, opts.PartConcurrency),
			baselineLabel: "same Links call, then net/http GET (token header) streamed into one s3 PutObject with ContentLength (UNSIGNED-PAYLOAD, no checksum: see note)",
		})
	}

	tab.notef("S3 baseline: PutObject cannot stream a body it cannot seek over plain HTTP with the SDK's defaults " +
		"(SigV4 payload hash and CRC32 checksum need a second read); it is sent with UNSIGNED-PAYLOAD and no optional checksum. " +
		"Ours pays for a CRC32C per part (client and server), its own SHA-256, multipart calls and a read-back HEAD.")

	// Heap growth during one large upload: ours, then the baseline.
	if p.BigSize <= 0 {
		return
	}
	var oursMiB, baseMiB float64
	var oursD, baseD time.Duration
	{
		flushDisks()
		h := startHeap()
		start := time.Now()
		err := s.archive(ctx, st, "big-ours", []meetingtest.Conference{s.big}, 1)
		oursD = time.Since(start)
		oursMiB = h.Stop()
		if err != nil {
			t.Fatalf("large upload (ours): %v", err)
		}
		_ = deletePrefix(ctx, b, "archive/big-ours")
	}
	{
		flushDisks()
		h := startHeap()
		start := time.Now()
		err := s.putObjectConference(ctx, b, "archive/big-base", s.big)
		baseD = time.Since(start)
		baseMiB = h.Stop()
		if err != nil {
			t.Fatalf("large upload (baseline): %v", err)
		}
		_ = deletePrefix(ctx, b, "archive/big-base")
	}
	name := fmt.Sprintf("S3 upload of one %d MiB file", p.BigSize/mib)
	tab.addMem(memResult{
		name: name, oursMiB: oursMiB, baseMiB: baseMiB,
		budget: fmt.Sprintf("(ours: S3 store Put; baseline: PutObject. The store's part buffers: Options.MemoryBudget() = %d MiB for all uploads)", opts.MemoryBudget()/mib),
	})
	tab.notef("%s (single run each): ours %s (%s MB/s), baseline %s (%s MB/s)", name,
		secs(oursD), mbps(p.BigSize, oursD), secs(baseD), mbps(p.BigSize, baseD))
}
