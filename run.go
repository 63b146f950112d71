package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// runConfig is everything `meetarchive run` is told, after flags and environment.
type runConfig struct {
	Input      string
	From, To   dateFlag
	AllUsers   bool
	Search     string
	Dest       string
	Out        string
	API        string
	KeyTmpl    string
	Shard      string
	DryRun     bool
	Force      bool
	Delete     bool
	ConfirmDel bool
	Grace      time.Duration
	Quiet      bool
	ProgressIv time.Duration
	Concurr    int
	Client     export.Config
	Archive    archive.Options
	PartSize   byteSize
	LockMode   choiceFlag
	RetainTill dateFlag
	Links      choiceFlag
	FileTypes  listFlag
	SSE        choiceFlag
	AppKeyFile string
	PassFile   string
	TokenFile  string
	Log        *logFlags
}

func defaultRunConfig() *runConfig {
	return &runConfig{
		Concurr:    4,
		Grace:      30 * time.Second,
		ProgressIv: 30 * time.Second,
		KeyTmpl:    archive.DefaultKeyTemplate,
		API:        "https://api.meeting.huaweicloud.com",
		PartSize:   byteSize(8 << 20),
		LockMode:   choiceFlag{choices: []string{"", "GOVERNANCE", "COMPLIANCE"}},
		Links:      choiceFlag{value: "auto", choices: []string{"auto", "downloadurls", "recordinfo"}},
		SSE:        choiceFlag{choices: []string{"", "AES256", "aws:kms"}},
		Client: export.Config{
			Rate:           1.6,
			MaxAttempts:    5,
			MaxElapsed:     2 * time.Minute,
			RequestTimeout: 30 * time.Second,
		},
		Archive: archive.Options{PartConcurrency: 4, MaxUploads: 4},
	}
}

// registerRunFlags binds every run flag to cfg.
func registerRunFlags(c *command, cfg *runConfig) {
	fs := c.fs
	fs.StringVar(&cfg.Input, "input", cfg.Input, "CSV of conference UUIDs (a confUUID column, or the first column)")
	fs.Var(&cfg.From, "from", "discover conferences starting on or after this date (YYYY-MM-DD, UTC) instead of --input")
	fs.Var(&cfg.To, "to", "with --from: discover conferences up to the end of this date")
	fs.BoolVar(&cfg.AllUsers, "all-users", cfg.AllUsers, "with --from/--to: every user's recordings (administrator)")
	fs.StringVar(&cfg.Search, "search", cfg.Search, "with --from/--to: only recordings whose subject matches this text")
	fs.StringVar(&cfg.Dest, "dest", cfg.Dest, "destination: s3://bucket/prefix or a local directory")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "directory for the report (manifest.xlsx, manifest.csv, failures.csv, summary.json)")
	fs.StringVar(&cfg.API, "api", cfg.API, "Meeting API base URL")
	fs.IntVar(&cfg.Concurr, "concurrency", cfg.Concurr, "conferences in flight")
	fs.Float64Var(&cfg.Client.Rate, "rate", cfg.Client.Rate, "most requests a second sent to each API (a ceiling: the client goes lower when the gateway says so)")
	fs.IntVar(&cfg.Client.MaxAttempts, "max-attempts", cfg.Client.MaxAttempts, "tries per API call and per file download, first included")
	fs.DurationVar(&cfg.Client.MaxElapsed, "max-elapsed", cfg.Client.MaxElapsed, "longest time spent retrying one API call")
	fs.DurationVar(&cfg.Client.RequestTimeout, "request-timeout", cfg.Client.RequestTimeout, "timeout of one API request")
	fs.Var(&cfg.Links, "links", "how download links are obtained: auto, downloadurls or recordinfo")
	fs.Var(&cfg.FileTypes, "file-types", "comma-separated file types to archive (Aux,Hd,Sd or record info's record types); empty: all")
	fs.StringVar(&cfg.Client.CABundle, "ca-bundle", "", "PEM file of extra CA certificates for the API and media hosts")
	fs.BoolVar(&cfg.Client.InsecureMediaTLS, "insecure-media-tls", false, "do not verify TLS certificates of MEDIA hosts (never the API); logged as a warning")
	fs.StringVar(&cfg.KeyTmpl, "key-template", cfg.KeyTmpl, "object key template (Go text/template over ConfUUID, ConfID, Subject, ScheduserName, StartTime, Year, Month, Day, FileType, FileName, Index)")
	fs.BoolVar(&cfg.Force, "force", false, "archive again conferences that are already archived")
	fs.BoolVar(&cfg.DryRun, "dry-run", false, "fetch details only and report planned rows with estimated sizes")
	fs.StringVar(&cfg.Archive.Endpoint, "s3-endpoint", "", "S3 endpoint URL (default: the AWS configuration, AWS_ENDPOINT_URL_S3)")
	fs.StringVar(&cfg.Archive.Region, "s3-region", "", "S3 region (default: the AWS configuration)")
	fs.BoolVar(&cfg.Archive.PathStyle, "s3-path-style", false, "path-style S3 addressing (most self-hosted servers)")
	fs.StringVar(&cfg.Archive.Profile, "s3-profile", "", "AWS shared-config profile")
	fs.Var(&cfg.PartSize, "part-size", "multipart upload part size (e.g. 16MiB)")
	fs.IntVar(&cfg.Archive.PartConcurrency, "part-concurrency", cfg.Archive.PartConcurrency, "parts of one upload sent at once")
	fs.IntVar(&cfg.Archive.MaxUploads, "max-uploads", cfg.Archive.MaxUploads, "uploads in flight (part buffers: max-uploads x (part-concurrency+2) x part-size)")
	fs.Var(&cfg.LockMode, "object-lock-mode", "S3 Object Lock mode: GOVERNANCE or COMPLIANCE (needs --retain-days or --retain-until)")
	fs.IntVar(&cfg.Archive.RetainDays, "retain-days", 0, "Object Lock retention in days from upload")
	fs.Var(&cfg.RetainTill, "retain-until", "Object Lock retention until this date (YYYY-MM-DD or RFC 3339)")
	fs.BoolVar(&cfg.Archive.LegalHold, "legal-hold", false, "put an Object Lock legal hold on every object")
	fs.Var(&cfg.SSE, "sse", "server-side encryption: AES256 or aws:kms")
	fs.StringVar(&cfg.Archive.SSEKMSKeyID, "sse-kms-key-id", "", "KMS key id for --sse aws:kms")
	fs.StringVar(&cfg.Archive.StorageClass, "storage-class", "", "S3 storage class (e.g. STANDARD_IA, GLACIER_IR)")
	fs.StringVar(&cfg.Shard, "shard", "", "K/N: process only the conferences of shard K of N (0-based; K from $JOB_COMPLETION_INDEX or $AWS_BATCH_JOB_ARRAY_INDEX when N alone is given as /N)")
	fs.BoolVar(&cfg.Delete, "delete-after-archive", false, "delete each recording from the meeting platform after its files are stored and verified (needs --confirm-delete)")
	fs.BoolVar(&cfg.ConfirmDel, "confirm-delete", false, "confirm --delete-after-archive")
	fs.DurationVar(&cfg.Grace, "grace", cfg.Grace, "on SIGINT/SIGTERM, how long conferences in flight may finish before they are cancelled")
	fs.BoolVar(&cfg.Quiet, "quiet", false, "no progress bar or progress lines")
	fs.DurationVar(&cfg.ProgressIv, "progress-interval", cfg.ProgressIv, "interval of progress log lines when stderr is not a terminal")
	fs.StringVar(&cfg.AppKeyFile, "app-key-file", "", "read the app key from this file instead of $MEETARCHIVE_APP_KEY")
	fs.StringVar(&cfg.PassFile, "password-file", "", "read the account password from this file instead of $MEETARCHIVE_PASSWORD")
	fs.StringVar(&cfg.TokenFile, "token-file", "", "read a pre-issued access token from this file instead of $MEETARCHIVE_TOKEN")
	cfg.Log = addLogFlags(c)
}

// validate checks what flags alone can tell, naming the bad flag.
func (cfg *runConfig) validate(getenv func(string) string) error {
	switch {
	case cfg.Input == "" && cfg.From.t.IsZero():
		return usagef("run: --input or --from/--to is required")
	case cfg.Input != "" && !cfg.From.t.IsZero():
		return usagef("run: give --input or --from/--to, not both")
	case !cfg.From.t.IsZero() && cfg.To.t.IsZero():
		return usagef("run: --from needs --to")
	case !cfg.To.t.IsZero() && cfg.To.t.Before(cfg.From.t):
		return usagef("run: --to %s is before --from %s", cfg.To.String(), cfg.From.String())
	case cfg.Dest == "":
		return usagef("run: --dest is required")
	case cfg.Out == "":
		return usagef("run: --out is required")
	case cfg.Concurr < 1 || cfg.Concurr > 1024:
		return usagef("run: invalid value %d for --concurrency: want 1..1024", cfg.Concurr)
	case cfg.Client.Rate <= 0:
		return usagef("run: invalid value %g for --rate: want more than 0", cfg.Client.Rate)
	case cfg.Client.MaxAttempts < 1:
		return usagef("run: invalid value %d for --max-attempts: want at least 1", cfg.Client.MaxAttempts)
	case cfg.Grace < 0:
		return usagef("run: invalid value %s for --grace", cfg.Grace)
	case cfg.ProgressIv <= 0:
		return usagef("run: invalid value %s for --progress-interval", cfg.ProgressIv)
	case cfg.Delete && !cfg.ConfirmDel:
		return usagef("run: --delete-after-archive deletes recordings from the meeting platform; add --confirm-delete to confirm")
	}
	if _, _, err := parseShard(cfg.Shard, getenv); err != nil {
		return err
	}
	cfg.Archive.PartSize = int64(cfg.PartSize)
	cfg.Archive.LockMode = cfg.LockMode.value
	cfg.Archive.RetainUntil = cfg.RetainTill.t
	cfg.Archive.SSE = cfg.SSE.value
	if err := cfg.Archive.Validate(); err != nil {
		return usagef("run: %v", err)
	}
	if _, err := archive.ParseKeyTemplate(cfg.KeyTmpl); err != nil {
		return usagef("run: invalid value for --key-template: %v", err)
	}
	return nil
}

// credentials reads secrets from the environment or from files named by flags.
func (cfg *runConfig) credentials(getenv func(string) string) (export.Credentials, error) {
	cr := export.CredentialsFromEnv(getenv)
	var err error
	if cfg.AppKeyFile != "" {
		if cr.AppKey, err = readSecretFile("app-key-file", cfg.AppKeyFile); err != nil {
			return cr, err
		}
	}
	if cfg.PassFile != "" {
		if cr.Password, err = readSecretFile("password-file", cfg.PassFile); err != nil {
			return cr, err
		}
	}
	if cfg.TokenFile != "" {
		if cr.Token, err = readSecretFile("token-file", cfg.TokenFile); err != nil {
			return cr, err
		}
	}
	if cr.AppID == "" && cr.Account == "" && cr.Token == "" {
		return cr, usagef("no Meeting API credentials: set MEETARCHIVE_APP_ID and MEETARCHIVE_APP_KEY, or MEETARCHIVE_ACCOUNT and MEETARCHIVE_PASSWORD, or MEETARCHIVE_TOKEN")
	}
	if cr.AppID != "" && cr.AppKey == "" {
		return cr, usagef("MEETARCHIVE_APP_ID is set but the app key is missing: set MEETARCHIVE_APP_KEY or --app-key-file")
	}
	if cr.Account != "" && cr.Password == "" && cr.AppID == "" && cr.Token == "" {
		return cr, usagef("MEETARCHIVE_ACCOUNT is set but the password is missing: set MEETARCHIVE_PASSWORD or --password-file")
	}
	return cr, nil
}

func cmdRun(ctx context.Context, args []string, e env) error {
	c := newCommand("run", "(--input CSV | --from DATE --to DATE) --dest DEST --out DIR [flags]",
		"Archive the recordings of the given conferences and write the report.", e.stderr)
	cfg := defaultRunConfig()
	registerRunFlags(c, cfg)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	if c.fs.NArg() > 0 {
		return usagef("run: unexpected argument %q", c.fs.Arg(0))
	}
	if err := cfg.validate(e.getenv); err != nil {
		return err
	}
	creds, err := cfg.credentials(e.getenv)
	if err != nil {
		return err
	}
	cfg.Client.Credentials = creds
	return execute(ctx, cfg, e, nil)
}

// execute runs the archive job for a validated configuration. It is shared by
// run and demo; onDone, when set, receives the summary.
func execute(ctx context.Context, cfg *runConfig, e env, onDone func(report.Summary)) error {
	log := cfg.Log.logger(e.stderr)
	started := time.Now().UTC()

	// Input first: a missing or unreadable file is a usage error.
	var (
		items    []inputItem
		inputSum string
	)
	if cfg.Input != "" {
		var err error
		if items, inputSum, err = loadInput(cfg.Input); err != nil {
			return usagef("run: --input: %v", err)
		}
	}

	cfg.Client.BaseURL = cfg.API
	cfg.Client.Links = export.LinkSource(cfg.Links.value)
	cfg.Client.FileTypes = cfg.FileTypes
	cfg.Client.Logger = log
	if err := cfg.Client.Validate(); err != nil {
		return usagef("run: %v", err)
	}
	client, err := export.NewClient(cfg.Client)
	if err != nil {
		return usagef("run: %v", err)
	}
	keys, err := archive.ParseKeyTemplate(cfg.KeyTmpl)
	if err != nil {
		return usagef("run: invalid value for --key-template: %v", err)
	}

	// Destination preflight before any download (exit 2 on failure).
	store, err := archive.Open(ctx, cfg.Dest, cfg.Archive)
	if err != nil {
		return usagef("run: --dest %s: %v", cfg.Dest, err)
	}
	defer store.Close()
	if err := store.Preflight(ctx); err != nil {
		return usagef("run: destination check failed: %v", err)
	}

	info := report.RunInfo{
		RunID:       newRunID(started),
		Version:     version,
		Started:     started,
		Input:       cfg.Input,
		InputSHA256: inputSum,
		Dest:        cfg.Dest,
		Options:     cfg.reportOptions(),
	}
	if !cfg.From.t.IsZero() {
		info.DateRange = cfg.From.t.Format("2006-01-02") + ".." + cfg.To.t.Format("2006-01-02")
	}
	shardK, shardN, _ := parseShard(cfg.Shard, e.getenv)
	if shardN > 1 {
		info.Shard = fmt.Sprintf("%d/%d", shardK, shardN)
	}
	w, err := report.NewWriter(cfg.Out, info)
	if err != nil {
		return usagef("run: --out %s: %v", cfg.Out, err)
	}

	// Authentication once, before anything else: a wrong key fails fast.
	known := map[string]export.Recording{}
	var fatal error
	if err := client.Authenticate(ctx); err != nil {
		fatal = fmt.Errorf("authentication failed: %w", err)
	} else if cfg.Input == "" {
		items, fatal = discover(ctx, client, cfg, known, log)
	}
	items = shardItems(items, shardK, shardN)
	if shardN > 1 {
		log.Info("shard", "shard", info.Shard, "conferences", len(items))
	}

	total := 0
	for _, it := range items {
		if it.Problem == "" {
			total++
		}
	}
	prog := newReporter(e.stderr, log, total, cfg.Quiet, isTerminal(e.stderr), cfg.ProgressIv)
	for _, it := range items { // a date range knows every size up front
		if r, ok := known[strings.ToLower(it.ConfUUID)]; ok && it.Problem == "" {
			prog.estimate(int64(r.RcdSize) << 20)
		}
	}
	j := &job{
		api: client, store: store, keys: keys, log: log, progress: prog, known: known,
		opts: jobOptions{
			Concurrency: cfg.Concurr, Force: cfg.Force, DryRun: cfg.DryRun,
			DeleteAfter: cfg.Delete && cfg.ConfirmDel, LockMode: cfg.Archive.LockMode,
			Tool: "meetarchive " + version, MaxAttempts: cfg.Client.MaxAttempts,
			Retry: export.Backoff{Base: time.Second, Max: 30 * time.Second, MaxAttempts: cfg.Client.MaxAttempts, MaxElapsed: cfg.Client.MaxElapsed},
		},
	}

	// One goroutine owns the report; workers send it a conference's rows at once.
	rowsCh := make(chan []report.Row, 2*cfg.Concurr)
	var (
		writeErr error
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for rows := range rowsCh {
			// A conference's rows go to the journal in one write, so a kill
			// can tear at most the last line.
			if err := w.AddAll(rows...); err != nil && writeErr == nil {
				writeErr = err
				log.Error("report journal write failed", "err", err)
			}
		}
	}()
	emit := func(rows []report.Row) { rowsCh <- rows }

	var res runResult
	if fatal != nil {
		log.Error("fatal", "err", fatal)
		for _, it := range items {
			if it.Problem != "" {
				emit([]report.Row{inputProblemRow(it)})
			} else {
				emit([]report.Row{j.notStartedRow(it, fatal)})
			}
		}
		res.Fatal = fatal
	} else {
		stop, work, release := signalContexts(ctx, e.signals, cfg.Grace, log)
		res = j.run(stop, work, items, emit)
		release()
	}
	close(rowsCh)
	wg.Wait()
	prog.close()

	counts := w.Counts()
	code := exitOK
	switch {
	case res.Interrupted:
		code = exitInterrupted
	case res.Fatal != nil:
		code = exitFatal
	case counts[report.Failed] > 0 || counts[report.Cancelled] > 0:
		code = exitItemsFailed
	}
	sum, err := w.Close(code)
	if err != nil {
		return &fatalError{err: fmt.Errorf("writing the report: %w", err)}
	}
	if writeErr != nil {
		return &fatalError{err: fmt.Errorf("writing the report journal: %w", writeErr)}
	}
	logSummary(log, sum)
	if onDone != nil {
		onDone(sum)
	}
	for _, p := range report.Paths(cfg.Out) {
		fmt.Fprintln(e.stdout, p)
	}
	switch code {
	case exitInterrupted:
		return errInterrupted
	case exitFatal:
		return &fatalError{err: res.Fatal}
	case exitItemsFailed:
		return errItemsFailed
	}
	return nil
}

// signalContexts turns signals into the pipeline's two contexts: stop (no new
// conferences) on the first signal; work (cancel in-flight) after grace or on
// a second signal.
func signalContexts(parent context.Context, sigs <-chan os.Signal, grace time.Duration, log *slog.Logger) (stop, work context.Context, release func()) {
	stop, stopFn := context.WithCancel(parent)
	work, workFn := context.WithCancelCause(parent)
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case s, ok := <-sigs:
			if !ok {
				return
			}
			log.Warn("signal received: no new conferences; in-flight ones may finish", "signal", s.String(), "grace", grace.String())
			stopFn()
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			log.Warn("grace period over: cancelling conferences in flight")
			workFn(errors.New("grace period over after a signal"))
		case s := <-sigs:
			log.Warn("second signal: cancelling conferences in flight now", "signal", s.String())
			workFn(errors.New("second signal"))
		}
	}()
	return stop, work, func() { close(done); stopFn(); workFn(nil) }
}

// discover lists the date range's recordings; their details need no second call.
func discover(ctx context.Context, client *export.Client, cfg *runConfig, known map[string]export.Recording, log *slog.Logger) ([]inputItem, error) {
	q := export.ListQuery{From: cfg.From.t, To: endOfDay(cfg.To.t), AllUsers: cfg.AllUsers, Search: cfg.Search}
	var items []inputItem
	err := client.List(ctx, q, func(r export.Recording) error {
		it := inputItem{Seq: len(items), Line: len(items) + 1, ConfUUID: r.ConfUUID}
		if !validConfUUID(r.ConfUUID) {
			it.Problem, it.Detail = problemInvalid, fmt.Sprintf("the list API returned %q, not a conference UUID", clip(r.ConfUUID, 80))
		} else if _, dup := known[strings.ToLower(r.ConfUUID)]; dup {
			return nil
		} else {
			known[strings.ToLower(r.ConfUUID)] = r
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		if errors.Is(err, export.ErrAuth) {
			return items, fmt.Errorf("listing recordings: %w", err)
		}
		return items, fmt.Errorf("listing recordings failed, so the run cannot know what to archive: %w", err)
	}
	log.Info("discovered recordings", "count", len(items), "from", cfg.From.String(), "to", cfg.To.String())
	return items, nil
}

// endOfDay makes --to inclusive when it is a bare date.
func endOfDay(t time.Time) time.Time {
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Add(24*time.Hour - time.Millisecond)
	}
	return t
}

func loadInput(path string) ([]inputItem, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	h := sha256.New()
	items, err := readInput(io.TeeReader(f, h))
	if err != nil {
		return nil, "", err
	}
	_, _ = io.Copy(h, f) // the rest, if the CSV reader stopped early
	return items, hex.EncodeToString(h.Sum(nil)), nil
}

// parseShard reads --shard K/N. "/N" or "N" alone takes K from
// JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX.
func parseShard(s string, getenv func(string) string) (k, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	ks, ns, found := strings.Cut(s, "/")
	if !found {
		ks, ns = "", s
	}
	n, err = strconv.Atoi(strings.TrimSpace(ns))
	if err != nil || n < 1 {
		return 0, 0, usagef("invalid value %q for --shard: want K/N with N >= 1", s)
	}
	ks = strings.TrimSpace(ks)
	if ks == "" {
		for _, v := range []string{"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"} {
			if ks = getenv(v); ks != "" {
				break
			}
		}
		if ks == "" {
			return 0, 0, usagef("--shard %q gives no index: write K/N, or set JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX", s)
		}
	}
	k, err = strconv.Atoi(ks)
	if err != nil || k < 0 || k >= n {
		return 0, 0, usagef("invalid shard index %q for --shard %q: want 0..%d", ks, s, n-1)
	}
	return k, n, nil
}

// shardOf is the stable shard of a conference: FNV-1a of its lower-case UUID.
func shardOf(confUUID string, n int) int {
	h := fnv.New64a()
	_, _ = h.Write([]byte(strings.ToLower(strings.TrimSpace(confUUID))))
	return int(h.Sum64() % uint64(n))
}

func shardItems(items []inputItem, k, n int) []inputItem {
	if n <= 1 {
		return items
	}
	out := items[:0:0]
	for _, it := range items {
		if shardOf(it.ConfUUID, n) == k {
			out = append(out, it)
		}
	}
	return out
}

func (cfg *runConfig) reportOptions() map[string]string {
	o := map[string]string{
		"keyTemplate": cfg.KeyTmpl,
		"links":       cfg.Links.value,
		"concurrency": strconv.Itoa(cfg.Concurr),
		"rate":        strconv.FormatFloat(cfg.Client.Rate, 'g', -1, 64),
		"dryRun":      strconv.FormatBool(cfg.DryRun),
		"force":       strconv.FormatBool(cfg.Force),
	}
	if len(cfg.FileTypes) > 0 {
		o["fileTypes"] = cfg.FileTypes.String()
	}
	if cfg.Archive.LockMode != "" {
		o["objectLockMode"] = cfg.Archive.LockMode
		if cfg.Archive.RetainDays > 0 {
			o["retention"] = strconv.Itoa(cfg.Archive.RetainDays) + " days"
		} else if !cfg.Archive.RetainUntil.IsZero() {
			o["retention"] = "until " + cfg.Archive.RetainUntil.Format(time.RFC3339)
		}
	}
	if cfg.Archive.LegalHold {
		o["legalHold"] = "true"
	}
	if cfg.Archive.SSE != "" {
		o["sse"] = cfg.Archive.SSE
	}
	if cfg.Archive.StorageClass != "" {
		o["storageClass"] = cfg.Archive.StorageClass
	}
	if cfg.Delete {
		o["deleteAfterArchive"] = "true"
	}
	return o
}

func logSummary(log *slog.Logger, s report.Summary) {
	args := []any{"run", s.RunID, "exit", s.ExitCode, "conferences", s.Conferences, "files", s.Files,
		"bytes", s.BytesArchived, "duration", time.Duration(s.DurationSecs * float64(time.Second)).Round(time.Millisecond).String()}
	for _, st := range allStatuses {
		if n := s.Counts[st]; n > 0 {
			args = append(args, string(st), n)
		}
	}
	if s.EstimatedBytes > 0 {
		args = append(args, "estimated_bytes", s.EstimatedBytes, "estimated", humanBytes(s.EstimatedBytes))
	}
	log.Info("run finished", args...)
}

var allStatuses = []report.Status{report.Archived, report.AlreadyArchived, report.PendingTranscode, report.Unavailable,
	report.NoFiles, report.Failed, report.InvalidInput, report.DuplicateInput, report.Cancelled, report.Planned}

func newRunID(t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// absPath is for messages: the absolute form of a path when it can be had.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
