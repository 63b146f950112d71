package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"meetarchive/archive"
	"meetarchive/console"
	"meetarchive/export"
	"meetarchive/metrics"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// runFlags is everything `meetarchive run` is told, after flags and
// environment, before validation.
type runFlags struct {
	Input            string
	From, To         dateFlag
	AllUsers         bool
	Search           string
	Dest             string
	Out              string
	KeyTemplate      string
	Shard            string
	DryRun           bool
	Force            bool
	DeleteAfter      bool
	ConfirmDelete    bool
	Grace            time.Duration
	Quiet            bool
	ProgressInterval time.Duration
	Concurrency      int
	API              apiFlags
	S3               s3Flags
	Links            choiceFlag
	FileTypes        listFlag
	Metrics          metricsFlags
	Notify           notifyFlags
	Log              *logFlags
	SinceLast        sinceLastFlags
}

// sinceLastFlags are the flags of an incremental run (--since-last).
type sinceLastFlags struct {
	On            bool
	Overlap       time.Duration
	Settle        time.Duration
	MaxPendingAge time.Duration
}

func defaultSinceLastFlags() sinceLastFlags {
	return sinceLastFlags{Overlap: pipeline.DefaultSinceLastOverlap, Settle: pipeline.DefaultSettle, MaxPendingAge: pipeline.DefaultMaxPendingAge}
}

// Defaults of the run command that belong to no package below main.
const (
	defaultConcurrency      = 4
	defaultGrace            = 30 * time.Second
	defaultProgressInterval = console.DefaultInterval
)

func defaultRunFlags() *runFlags {
	return &runFlags{
		Concurrency:      defaultConcurrency,
		Grace:            defaultGrace,
		ProgressInterval: defaultProgressInterval,
		KeyTemplate:      archive.DefaultKeyTemplate,
		API:              defaultAPIFlags(),
		S3:               defaultS3Flags(),
		Links:            choiceFlag{value: string(export.LinksAuto), choices: []string{string(export.LinksAuto), string(export.LinksDownloadURLs), string(export.LinksRecordInfo), string(export.LinksSpread)}},
		SinceLast:        defaultSinceLastFlags(),
		Notify:           defaultNotifyFlags(),
	}
}

// register binds every run flag.
func (f *runFlags) register(c *command) {
	fs := c.fs
	fs.StringVar(&f.Input, "input", f.Input, "CSV of conference UUIDs (a confUUID column, or the first column); - is standard input; a pipe or FIFO is read once")
	fs.Var(&f.From, "from", "discover conferences starting on or after this date (YYYY-MM-DD, UTC) instead of --input")
	fs.Var(&f.To, "to", "with --from: discover conferences up to the end of this date")
	fs.BoolVar(&f.AllUsers, "all-users", f.AllUsers, "with --from/--to: every user's recordings (administrator)")
	fs.StringVar(&f.Search, "search", f.Search, "with --from/--to: only recordings whose subject matches this text")
	fs.StringVar(&f.Dest, "dest", f.Dest, "destination: s3://bucket/prefix or a local directory")
	fs.StringVar(&f.Out, "out", f.Out, "directory for the report (manifest.xlsx, manifest.csv, failures.csv, summary.json); not inside --dest, nor around it")
	fs.IntVar(&f.Concurrency, "concurrency", f.Concurrency, "conferences in flight")
	f.API.register(c, true)
	fs.Var(&f.Links, "links", "how download links are obtained: auto, downloadurls, recordinfo or spread")
	fs.Var(&f.FileTypes, "file-types", "comma-separated file types to archive (Aux,Hd,Sd or record info's record types); empty: all")
	fs.StringVar(&f.KeyTemplate, "key-template", f.KeyTemplate, "object key template (Go text/template over ConfUUID, ConfID, Subject, ScheduserName, StartTime, Year, Month, Day, FileType, FileName, Index)")
	fs.BoolVar(&f.Force, "force", false, "archive again conferences that are already archived")
	fs.BoolVar(&f.DryRun, "dry-run", false, "fetch details only and report planned rows with estimated sizes; nothing is written but the report")
	f.S3.register(c, true)
	fs.StringVar(&f.Shard, "shard", "", "K/N: process only the conferences of shard K of N (0-based; K from $JOB_COMPLETION_INDEX or $AWS_BATCH_JOB_ARRAY_INDEX when N alone is given as /N)")
	fs.BoolVar(&f.DeleteAfter, "delete-after-archive", false, "delete each recording from the meeting platform after its files are stored and verified (needs --confirm-delete)")
	fs.BoolVar(&f.ConfirmDelete, "confirm-delete", false, "confirm --delete-after-archive")
	fs.DurationVar(&f.Grace, "grace", f.Grace, "on SIGINT/SIGTERM/SIGHUP, how long conferences in flight may finish before they are cancelled")
	fs.BoolVar(&f.Quiet, "quiet", false, "print nothing unless something failed: no progress, no info lines, warnings only if the run fails (unless --log-level is given), no report paths after a run that exits 0")
	fs.DurationVar(&f.ProgressInterval, "progress-interval", f.ProgressInterval, "interval of progress log lines when stderr is not a terminal")
	f.Metrics.register(fs)
	f.Notify.register(fs)
	fs.BoolVar(&f.SinceLast.On, "since-last", false, "incremental: archive what was listed since the last --since-last run on this --dest and shard, plus what it left pending or failed (state in DEST/_meetarchive/state/; --from starts the first run)")
	fs.DurationVar(&f.SinceLast.Overlap, "since-last-overlap", f.SinceLast.Overlap, "with --since-last: start the window this long before the last window's end, for recordings listed late")
	fs.DurationVar(&f.SinceLast.Settle, "settle", f.SinceLast.Settle, "with --since-last: end the window this long before now")
	fs.DurationVar(&f.SinceLast.MaxPendingAge, "max-pending-age", f.SinceLast.MaxPendingAge, "with --since-last: a conference still pending (or unavailable, or without files) this long after it was first seen is reported failed (pending-expired) and no longer carried over")
	f.Log = addLogFlags(c)
}

// runPlan is a validated run: everything parsed once, used as is.
type runPlan struct {
	input    string            // input CSV, or "" for a date range
	list     *export.ListQuery // the date range, when there is no input
	dest     string
	out      string
	shard    pipeline.Shard
	keys     *archive.KeyTemplate
	client   export.Config // credentials included
	archive  archive.Options
	job      pipeline.Options
	grace    time.Duration
	quiet    bool // no progress display
	silentOK bool // --quiet of run: no report paths when the run exits 0
	interval time.Duration
	log      *logFlags
	metrics  metricsFlags
	notify   notifyFlags
	runID    string              // the report's run id, once the report is started
	options  map[string]string   // the options the report shows
	since    *pipeline.SinceLast // --since-last, else nil
}

// validate checks everything flags, environment and paths alone can tell,
// naming the bad flag, before anything is created. It changes nothing.
func (f *runFlags) validate(getenv func(string) string) (*runPlan, error) {
	if err := f.SinceLast.check(f); err != nil {
		return nil, err
	}
	switch {
	case f.Input == "" && f.From.t.IsZero() && !f.SinceLast.On:
		return nil, usagef("run: --input or --from/--to is required")
	case f.Input != "" && !f.From.t.IsZero():
		return nil, usagef("run: give --input or --from/--to, not both")
	case !f.From.t.IsZero() && f.To.t.IsZero() && !f.SinceLast.On:
		return nil, usagef("run: --from needs --to")
	case !f.To.t.IsZero() && f.To.t.Before(f.From.t):
		return nil, usagef("run: --to %s is before --from %s", f.To.String(), f.From.String())
	case f.Dest == "":
		return nil, usagef("run: --dest is required")
	case archive.CheckDest(f.Dest) != nil:
		return nil, usagef("run: --dest: %v", archive.CheckDest(f.Dest))
	case f.Out == "":
		return nil, usagef("run: --out is required")
	case f.Concurrency < 1 || f.Concurrency > 1024:
		return nil, usagef("run: invalid value %d for --concurrency: want 1..1024", f.Concurrency)
	case f.Grace < 0:
		return nil, usagef("run: invalid value %s for --grace: want 0 or more", f.Grace)
	case f.ProgressInterval <= 0:
		return nil, usagef("run: invalid value %s for --progress-interval: want more than 0", f.ProgressInterval)
	case f.DeleteAfter && !f.ConfirmDelete:
		return nil, usagef("run: --delete-after-archive deletes recordings from the meeting platform; add --confirm-delete to confirm")
	}
	if f.Input != "" {
		if err := checkInput(f.Input); err != nil {
			return nil, usagef("run: --input %s: %v", f.Input, err)
		}
	}
	if err := checkOutDir(f.Out); err != nil {
		return nil, usagef("run: --out %s: %v", f.Out, err)
	}
	if err := checkApart(f.Out, f.Dest); err != nil {
		return nil, usagef("run: %v", err)
	}
	if err := f.Metrics.check("run"); err != nil {
		return nil, err
	}
	if err := f.Notify.check("run"); err != nil {
		return nil, err
	}
	shard, err := pipeline.ParseShard(f.Shard, getenv)
	if err != nil {
		return nil, usagef("run: invalid value for --shard: %v", err)
	}
	keys, err := archive.ParseKeyTemplate(f.KeyTemplate)
	if err != nil {
		return nil, usagef("run: invalid value for --key-template: %v", err)
	}
	client, err := f.API.clientConfig("run", getenv)
	if err != nil {
		return nil, err
	}
	client.Links = export.LinkSource(f.Links.value)
	client.FileTypes = f.FileTypes
	if err := client.Validate(); err != nil {
		return nil, usagef("run: %v", err)
	}
	arch, err := f.S3.options("run")
	if err != nil {
		return nil, err
	}
	arch.ReadOnly = f.DryRun // a dry run writes nothing but the report
	p := &runPlan{
		input: f.Input, dest: f.Dest, out: f.Out, shard: shard, keys: keys, client: client, archive: arch,
		grace: f.Grace, quiet: f.Quiet, interval: f.ProgressInterval, log: f.Log, metrics: f.Metrics, notify: f.Notify,
		job: pipeline.Options{
			Concurrency: f.Concurrency, Force: f.Force, DryRun: f.DryRun,
			DeleteAfter: f.DeleteAfter && f.ConfirmDelete, LockMode: arch.LockMode,
			Tool: "meetarchive " + version, PartialFiles: len(f.FileTypes) > 0,
			Retry: export.Backoff{
				Base: pipeline.DefaultFileRetryBase, Max: export.DefaultRetryMax,
				MaxAttempts: client.MaxAttempts, MaxElapsed: client.MaxElapsed,
			},
		},
	}
	if !f.From.t.IsZero() && !f.SinceLast.On {
		p.list = &export.ListQuery{From: f.From.t, To: pipeline.EndOfDay(f.To.t), AllUsers: f.AllUsers, Search: f.Search}
	}
	p.options = f.reportOptions(arch)
	if f.SinceLast.On {
		if p.since, err = f.SinceLast.plan(f, getenv); err != nil {
			return nil, err
		}
		p.options["sinceLast"] = fmt.Sprintf("overlap %s, settle %s, max pending age %s", f.SinceLast.Overlap, f.SinceLast.Settle, f.SinceLast.MaxPendingAge)
	}
	return p, nil
}

// check is the usage check of the --since-last flags.
func (s sinceLastFlags) check(f *runFlags) error {
	d := defaultSinceLastFlags()
	switch {
	case !s.On && (s.Overlap != d.Overlap || s.Settle != d.Settle || s.MaxPendingAge != d.MaxPendingAge):
		return usagef("run: --since-last-overlap, --settle and --max-pending-age need --since-last")
	case !s.On:
		return nil
	case f.Input != "":
		return usagef("run: give --input or --since-last, not both")
	case !f.To.t.IsZero():
		return usagef("run: --since-last ends its window at now less --settle; --to conflicts with it (--from starts the first run only)")
	case s.Overlap < 0:
		return usagef("run: invalid value %s for --since-last-overlap: want 0 or more", s.Overlap)
	case s.Settle < 0:
		return usagef("run: invalid value %s for --settle: want 0 or more", s.Settle)
	case s.MaxPendingAge <= 0:
		return usagef("run: invalid value %s for --max-pending-age: want more than 0", s.MaxPendingAge)
	}
	return nil
}

// plan is the validated --since-last configuration. Tests give the run a
// clock (MEETARCHIVE_TEST_NOW, RFC 3339) and a short S3 lease
// (MEETARCHIVE_TEST_LEASE_TTL); they are not flags and --help does not
// show them.
func (s sinceLastFlags) plan(f *runFlags, getenv func(string) string) (*pipeline.SinceLast, error) {
	sl := &pipeline.SinceLast{
		From: f.From.t, Overlap: s.Overlap, Settle: s.Settle, MaxPendingAge: s.MaxPendingAge,
		AllUsers: f.AllUsers, Search: f.Search, ReadOnly: f.DryRun, Now: time.Now,
	}
	if v := getenv("MEETARCHIVE_TEST_NOW"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, usagef("run: MEETARCHIVE_TEST_NOW %q: %v", v, err)
		}
		sl.Now = func() time.Time { return t }
	}
	if v := getenv("MEETARCHIVE_TEST_LEASE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, usagef("run: MEETARCHIVE_TEST_LEASE_TTL %q: want a duration", v)
		}
		sl.LeaseTTL = d
	}
	return sl, nil
}

// checkInput is a usage check of --input: "-" (standard input), or a path
// that exists, is not a directory and that we may read. It does not open
// the path: opening a FIFO waits for a writer, and that wait belongs to the
// run, where a signal ends it.
func checkInput(path string) error {
	if path == stdinInput {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return errors.Unwrap(err)
	}
	if st.IsDir() {
		return errors.New("is a directory, not a CSV file")
	}
	if err := unixAccessR(path); err != nil {
		return err
	}
	return nil
}

// stdinInput is the --input that names standard input.
const stdinInput = "-"

// checkOutDir is a usage check of --out before anything is created: an
// existing directory we can write into, or a path whose nearest existing
// ancestor is one.
func checkOutDir(path string) error {
	p := filepath.Clean(path)
	for {
		st, err := os.Stat(p)
		switch {
		case err == nil && !st.IsDir():
			if p == filepath.Clean(path) {
				return errors.New("is a file, not a directory")
			}
			return fmt.Errorf("%s is a file, not a directory", p)
		case err == nil:
			if unixAccessW(p) != nil {
				return fmt.Errorf("%s is not writable", p)
			}
			return nil
		case !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return errors.Unwrap(err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
}

// checkApart is a usage check: --out and a local --dest are two
// directories, neither inside the other (relative paths and symbolic links
// resolved as far as the paths exist), so that the report never lands
// among the recordings nor the recordings among the report. An s3:// --dest
// is not a local directory.
func checkApart(out, dest string) error {
	if len(dest) >= len("s3://") && strings.EqualFold(dest[:len("s3://")], "s3://") {
		return nil
	}
	o, d := report.ResolvePath(out), report.ResolvePath(dest)
	switch {
	case o == d:
		return fmt.Errorf("--out %s and --dest %s are the same directory: give the report a directory of its own", out, dest)
	case inside(o, d):
		return fmt.Errorf("--out %s is inside --dest %s: give the report a directory outside the archive", out, dest)
	case inside(d, o):
		return fmt.Errorf("--dest %s is inside --out %s: give the archive a directory outside the report's", dest, out)
	}
	return nil
}

// inside reports whether the clean absolute path p is below dir.
func inside(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// archiveRun runs the archive job for a validated plan: build the pieces,
// load the items, run the pipeline, finish the report, then notify. It is
// shared by run and demo; onDone, when set, receives the summary.
//
// On a terminal, stderr shows one live status line while the pipeline
// runs, with the log lines above it (screen); the pipeline's per-file and
// per-conference events are logged at debug there, as the status line
// counts them. Every run ends with a short closing summary on stderr
// (closingSummary), after the warnings --quiet held back.
func archiveRun(ctx context.Context, p *runPlan, e env, onDone func(report.Summary)) error {
	scr := console.NewScreen(e.stderr, p.quiet)
	log := p.log.logger(scr.Or(e.stderr))
	err := p.notifyEnd(ctx, log, p.archiveJob(ctx, log, scr, e, onDone))
	p.log.endQuiet(ctx, err)
	p.closingSummary(scr.Or(e.stderr), scr.Width(), err)
	return err
}

// archiveJob is archiveRun up to the notification.
func (p *runPlan) archiveJob(ctx context.Context, log *slog.Logger, scr *console.Screen, e env, onDone func(report.Summary)) error {
	started := time.Now().UTC()
	if e.getenv("GOGC") == "" { // GOGC in the environment wins
		defer debug.SetGCPercent(debug.SetGCPercent(archive.GCPercent))
	}

	// --out is ours alone for the whole run (a second process exits 2).
	unlock, err := report.LockDir(p.out)
	if err != nil {
		return usagef("run: --out %s: %v", p.out, err)
	}
	defer unlock()
	// A journal left in --out is a run's that never wrote its report:
	// kept, with its report rebuilt beside it, never overwritten.
	prev, err := report.SetAside(p.out)
	if err != nil {
		return usagef("run: --out %s: %v", p.out, err)
	}
	if prev.Err != nil {
		log.Warn("an earlier run in --out never wrote its report (killed?): its journal was moved aside, but its report could not be rebuilt",
			"dir", prev.Dir, "err", prev.Err, "hint", "meetarchive report --from-journal "+prev.Dir)
	} else if prev.Dir != "" {
		log.Warn("an earlier run in --out never wrote its report (killed?): its journal was moved aside and its report rebuilt there",
			"dir", prev.Dir, "run", prev.Summary.RunID, "exit", prev.Summary.ExitCode)
	}
	// From here on a signal ends every phase: stop is done at the first
	// one (opening the destination, authenticating, listing and reading
	// the input give up at once; no conference starts), work after the
	// grace or at a second one (conferences in flight are cancelled).
	stop, work, release := signalContexts(ctx, e.signals, p.grace, log)
	defer release()
	client, store, err := p.build(stop, log)
	if err != nil {
		if stop.Err() != nil {
			return p.stoppedEarly(started, log, e, onDone)
		}
		return err
	}
	defer store.Close()
	inc, err := p.startSinceLast(stop, store, log)
	if err != nil {
		if stop.Err() != nil {
			return p.stoppedEarly(started, log, e, onDone)
		}
		return err
	}
	defer inc.Close()

	items, known, fatal := p.loadItems(stop, client, log, inc, e.stdin)
	// items is never nil: with a fatal error, its items are reported too.
	defer func() { _ = items.Close() }()
	w, total, err := p.startReport(stop, items, started, log)
	if err != nil {
		return err
	}
	prog := console.NewProgress(scr, log, total, "conferences", p.quiet, p.interval)
	// On a terminal the status line counts the pipeline's per-file and
	// per-conference events, and the closing summary says what "run
	// finished" says: they are logged at debug there.
	events := log
	if scr != nil {
		events = slog.New(console.DebugEvents{Handler: log.Handler()})
	}
	for _, r := range known { // a date range knows every size up front
		prog.Estimate(int64(r.RcdSize) << 20)
	}
	var res pipeline.Result
	if fatal != nil {
		log.Error("fatal", "err", fatal)
		res = pipeline.Result{Fatal: fatal, WriteErr: errors.Join(w.SetFatal(fatal.Error()), pipeline.Abandon(items.Items(), fatal, w))}
	} else {
		job := &pipeline.Job{API: client, Store: store, Keys: p.keys, Options: p.job, Log: events, Progress: prog, Known: known}
		var rows pipeline.RowWriter = w
		if inc != nil {
			rows = inc.Rows(w) // notes outcomes for the next state
		}
		res = job.Run(stop, work, items.Items(), rowCounter{RowWriter: rows, p: prog})
		if err := items.Err(); err != nil && res.Fatal == nil {
			res.Fatal = fmt.Errorf("reading --input: %w", err)
		}
		if res.Fatal != nil {
			res.WriteErr = errors.Join(res.WriteErr, w.SetFatal(res.Fatal.Error()))
		}
	}
	release()
	prog.Close()
	sum, err := finishReport(w, res, p.out, p.silentOK, events, e, onDone)
	err = p.finishSinceLast(ctx, inc, sum, res, err, log)
	return p.writeMetrics(ctx, log, sum, client, err)
}

// startSinceLast takes the run's hold on its --since-last state and sets the
// window to list (nil without --since-last). Another run holding the state
// is a usage error (exit 2): nothing was done.
func (p *runPlan) startSinceLast(ctx context.Context, store archive.Store, log *slog.Logger) (*pipeline.Incremental, error) {
	if p.since == nil {
		return nil, nil
	}
	inc, err := pipeline.StartIncremental(ctx, store, *p.since, p.shard)
	if err != nil {
		return nil, usagef("run: --since-last: %v", err)
	}
	q := inc.Query()
	p.list = &q
	p.options["sinceLastWindow"] = q.From.Format(time.RFC3339) + ".." + q.To.Format(time.RFC3339)
	p.options["sinceLastState"] = inc.StateURI()
	prev := inc.Previous()
	if inc.Found() && !p.since.From.IsZero() {
		log.Info("since last: a state was found, so --from is not used (it starts the first run only)")
	}
	log.Info("since last", "state", inc.StateURI(), "found", inc.Found(), "previousRun", prev.RunID,
		"from", q.From.Format(time.RFC3339), "to", q.To.Format(time.RFC3339), "carriedOver", len(prev.Carry))
	return inc, nil
}

// finishSinceLast writes the next --since-last state once the report is
// closed, only when the window was listed completely and the run was
// neither interrupted nor fatal (err is the run's outcome so far).
func (p *runPlan) finishSinceLast(ctx context.Context, inc *pipeline.Incremental, sum report.Summary, res pipeline.Result, err error, log *slog.Logger) error {
	if inc == nil {
		return err
	}
	advance := res.Fatal == nil && !res.Interrupted && res.WriteErr == nil && (err == nil || errors.Is(err, errItemsFailed))
	st, serr := inc.Finish(context.WithoutCancel(ctx), sum.RunID, advance)
	switch {
	case serr != nil:
		log.Error("since last: state not written", "err", serr)
		if err == nil || errors.Is(err, errItemsFailed) {
			err = &fatalError{err: fmt.Errorf("writing the --since-last state: %w", serr)}
		}
	case st.RunID != "":
		log.Info("since last: state written", "state", inc.StateURI(), "windowEnd", st.WindowEnd.Format(time.RFC3339),
			"carriedOver", len(st.Carry), "expired", inc.Expired())
	default:
		log.Warn("since last: state left as it was; the next run starts from the same place", "state", inc.StateURI())
	}
	return err
}

// loadItems authenticates once, before anything else (a wrong key fails
// fast), and returns the run's items: the input, or the date range's
// recordings with their details (known); fatal when the run cannot start.
// When ctx is done (a signal) it stops where it is, without a fatal error:
// the items read or listed so far are the run's, and none of them starts.
func (p *runPlan) loadItems(ctx context.Context, client *export.Client, log *slog.Logger, inc *pipeline.Incremental, stdin io.Reader) (items *pipeline.Source, known map[string]export.Recording, fatal error) {
	if err := client.Authenticate(ctx); err != nil && ctx.Err() == nil {
		fatal = apiFailure(p.client.BaseURL, err)
	}
	switch {
	case p.input != "":
		var err error
		items, err = p.inputSource(ctx, stdin, log)
		if err != nil && ctx.Err() == nil && fatal == nil {
			fatal = fmt.Errorf("reading --input: %w", err)
		}
	case fatal == nil && ctx.Err() == nil:
		var listed []pipeline.Item
		listed, known, fatal = pipeline.Discover(ctx, client, *p.list)
		if ctx.Err() != nil {
			fatal = nil // interrupted: what was listed is reported cancelled
		}
		log.Info("discovered recordings", "count", len(listed), "from", p.list.From.Format(time.RFC3339), "to", p.list.To.Format(time.RFC3339))
		if inc != nil {
			listed = inc.Items(listed) // plus the conferences carried over
		}
		items = pipeline.SliceSource(listed)
	default:
		items = pipeline.SliceSource(nil)
	}
	return items.Sharded(p.shard), known, fatal
}

// inputSource is the run's --input. A regular file is read more than once
// (a pass to hash it, one to plan, one to run), as a file it can be.
// Standard input ("-") and any other file (a pipe, a FIFO, a process
// substitution, /dev/stdin, a character device) is read once, into a
// temporary file of its items in --out, beside the journal. Opening and
// reading both give up when ctx is done, with the items read so far.
// It never returns a nil source.
func (p *runPlan) inputSource(ctx context.Context, stdin io.Reader, log *slog.Logger) (*pipeline.Source, error) {
	if p.input != stdinInput {
		st, err := os.Stat(p.input)
		if err != nil {
			return pipeline.SliceSource(nil), err
		}
		if st.Mode().IsRegular() {
			return pipeline.FileSource(p.input), nil
		}
	}
	log.Info("reading --input once: not a regular file", "input", p.input)
	r := stdin
	if p.input != stdinInput {
		f, err := pipeline.OpenInput(ctx, p.input)
		if err != nil {
			return pipeline.SliceSource(nil), err
		}
		defer f.Close()
		r = f
	}
	src, err := pipeline.ReadOnce(ctx, r, p.out)
	if src == nil {
		return pipeline.SliceSource(nil), err
	}
	if ctx.Err() != nil {
		log.Warn("reading --input stopped by a signal", "input", p.input, "bytes", src.BytesRead())
	} else if err == nil {
		log.Info("read --input", "input", p.input, "bytes", src.BytesRead())
	}
	return src, err
}

// startReport opens the report and writes the plan first: after a kill,
// the journal still accounts for every input line. The plan's pass over
// the input also counts the conferences to process.
func (p *runPlan) startReport(ctx context.Context, items *pipeline.Source, started time.Time, log *slog.Logger) (*report.Writer, int, error) {
	info := report.RunInfo{
		RunID: newRunID(started), Version: version, Started: started,
		Input: p.input, Dest: p.dest, Options: p.options, Shard: p.shard.String(),
	}
	if p.list != nil {
		info.DateRange = p.list.From.Format("2006-01-02") + ".." + p.list.To.Format("2006-01-02")
	}
	// An input file's lines are all there: after a signal it is still read
	// whole (so that every line is reported), for a moment, not more.
	hashCtx, cancel := afterStop(ctx, inputAfterSignal)
	defer cancel()
	var err error
	if info.InputSHA256, err = items.Digest(hashCtx); err != nil {
		if hashCtx.Err() == nil {
			return nil, 0, usagef("run: --input: %v", err)
		}
		log.Warn("reading --input stopped by a signal: no line of it is reported", "input", p.input)
	}
	w, err := report.NewWriter(p.out, info)
	if err != nil {
		return nil, 0, usagef("run: --out %s: %v", p.out, err)
	}
	p.runID = info.RunID
	total := 0
	if err := w.Plan(planOf(items, &total)); err != nil {
		return nil, 0, &fatalError{err: fmt.Errorf("writing the report journal: %w", err)}
	}
	if err := items.Err(); err != nil {
		return nil, 0, &fatalError{err: fmt.Errorf("reading --input: %w", err)}
	}
	if !p.shard.Whole() {
		log.Info("shard", "shard", p.shard.String(), "conferences", total)
	}
	return w, total, nil
}

// writeMetrics writes and pushes the run's metrics when asked, also after a
// signal (they say how the run ended); err is the run's outcome so far,
// returned as it is: a metrics file or push that fails is a warning, in the
// log and in summary.json's warnings, and never changes the exit code.
func (p *runPlan) writeMetrics(ctx context.Context, log *slog.Logger, sum report.Summary, client *export.Client, err error) error {
	if p.metrics.File == "" && p.metrics.Push == "" {
		return err
	}
	m := metrics.Run{Summary: sum}
	if client != nil {
		m.Calls = client.CallStats()
	}
	merr := metrics.Write(context.WithoutCancel(ctx), m, p.metrics.File, p.metrics.Push)
	if merr == nil {
		return err
	}
	var warnings []string
	for _, e := range unjoin(merr) {
		log.Warn("metrics not written; the run's outcome stands", "err", e)
		warnings = append(warnings, e.Error())
	}
	if _, ours := p.writtenSummary(); ours { // the report was written: note them in its summary.json
		if _, werr := report.AddWarnings(p.out, warnings...); werr != nil {
			log.Warn("the metrics warnings could not be added to summary.json", "err", werr)
		}
	}
	return err
}

// inputAfterSignal is how long an input file may still be read after a
// signal, so that the report lists its every line as not started.
const inputAfterSignal = time.Second

// afterStop is a context that ends d after stop does.
func afterStop(stop context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(stop))
	unhook := context.AfterFunc(stop, func() { time.AfterFunc(d, cancel) })
	return ctx, func() { unhook(); cancel() }
}

// stoppedEarly ends a run that a signal stopped before it had read its
// input (while it opened the destination or took the --since-last state):
// nothing was done, and its report, without a line, says it was
// interrupted (exit 130).
func (p *runPlan) stoppedEarly(started time.Time, log *slog.Logger, e env, onDone func(report.Summary)) error {
	log.Warn("interrupted before the input was read")
	w, _, err := p.startReport(context.Background(), pipeline.SliceSource(nil), started, log)
	if err != nil {
		return err
	}
	sum, err := finishReport(w, pipeline.Result{Interrupted: true}, p.out, p.silentOK, log, e, onDone)
	return p.writeMetrics(context.Background(), log, sum, nil, err)
}

// unjoin splits an errors.Join error into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// planOf is the report's plan of the items, one entry per input line; it
// counts the conferences to process into total as it goes.
func planOf(items *pipeline.Source, total *int) iter.Seq[report.PlanItem] {
	return func(yield func(report.PlanItem) bool) {
		for it := range items.Items() {
			if it.Problem == "" {
				*total++
			}
			if !yield(report.PlanItem{Seq: it.Seq, ConfUUID: it.ConfUUID, Line: it.Line}) {
				return
			}
		}
	}
}

// build makes the API client and opens the destination, checked before any
// download (exit 2 when it fails).
func (p *runPlan) build(ctx context.Context, log *slog.Logger) (*export.Client, archive.Store, error) {
	cfg := p.client
	cfg.Logger = log
	client, err := export.NewClient(cfg)
	if err != nil {
		return nil, nil, usagef("run: %v", err)
	}
	opts := p.archive
	opts.Logger = console.SDKLogger{Log: log}
	store, err := archive.Open(ctx, p.dest, opts)
	if err != nil {
		return nil, nil, usagef("run: --dest %s: %v", p.dest, err)
	}
	if !p.job.DryRun { // a dry run writes nothing, not even a probe
		if err := store.Preflight(ctx); err != nil {
			store.Close()
			return nil, nil, usagef("run: destination check failed: %v", err)
		}
	}
	return client, store, nil
}

// finishReport writes the report files, logs the summary, prints the paths
// (not when silentOK and the run exits 0) and turns the outcome into the
// command's error (and so its exit code).
func finishReport(w *report.Writer, res pipeline.Result, out string, silentOK bool, log *slog.Logger, e env, onDone func(report.Summary)) (report.Summary, error) {
	code := report.ExitCode(w.Counts(), res.Interrupted, res.Fatal != nil)
	sum, err := w.Close(code)
	if err != nil {
		return sum, &fatalError{err: fmt.Errorf("writing the report: %w", err)}
	}
	code = sum.ExitCode // a planned line without a row makes it 1
	if res.WriteErr != nil {
		return sum, &fatalError{err: fmt.Errorf("writing the report journal: %w", res.WriteErr)}
	}
	logSummary(log, sum)
	if onDone != nil {
		onDone(sum)
	}
	if !silentOK || code != report.ExitOK {
		for _, p := range report.Paths(out) {
			fmt.Fprintln(e.stdout, console.Text(p))
		}
	}
	switch code {
	case report.ExitInterrupted:
		return sum, errInterrupted
	case report.ExitFatal:
		return sum, &fatalError{err: res.Fatal}
	case report.ExitFailures:
		return sum, fmt.Errorf("%w: %s", errItemsFailed, failureCounts(sum))
	}
	return sum, nil
}

// signalContexts turns signals into the pipeline's two contexts: stop (no new
// conferences) on the first signal; work (cancel in-flight) after grace or on
// a second signal.
func signalContexts(parent context.Context, sigs <-chan os.Signal, grace time.Duration, log *slog.Logger) (stop, work context.Context, release func()) {
	stop, stopFn := context.WithCancel(parent)
	work, workFn := context.WithCancelCause(parent)
	done := make(chan struct{})
	var once sync.Once
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
	return stop, work, func() { once.Do(func() { close(done); stopFn(); workFn(nil) }) }
}

// reportOptions are the options the report's summary shows.
func (f *runFlags) reportOptions(a archive.Options) map[string]string {
	o := map[string]string{
		"keyTemplate": f.KeyTemplate,
		"links":       f.Links.value,
		"concurrency": strconv.Itoa(f.Concurrency),
		"rate":        f.API.Rate.String(),
		"dryRun":      strconv.FormatBool(f.DryRun),
		"force":       strconv.FormatBool(f.Force),
	}
	if len(f.FileTypes) > 0 {
		o["fileTypes"] = f.FileTypes.String()
	}
	if a.LockMode != "" {
		o["objectLockMode"] = a.LockMode
		if a.RetainDays > 0 {
			o["retention"] = strconv.Itoa(a.RetainDays) + " days"
		} else if !a.RetainUntil.IsZero() {
			o["retention"] = "until " + a.RetainUntil.Format(time.RFC3339)
		}
	}
	if a.LegalHold {
		o["legalHold"] = "true"
	}
	if a.SSE != "" {
		o["sse"] = a.SSE
	}
	if a.StorageClass != "" {
		o["storageClass"] = a.StorageClass
	}
	if f.DeleteAfter {
		o["deleteAfterArchive"] = "true"
	}
	return o
}

// failureCounts says how many conferences ended in each status that makes
// the exit code 1, and where the report is: "1 failed, 2 invalid-input of
// 10 conferences".
func failureCounts(s report.Summary) string {
	var parts []string
	for _, st := range report.Statuses() {
		if n := s.Counts[st]; n > 0 && st.Failure() {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	return fmt.Sprintf("%s of %d conferences", strings.Join(parts, ", "), s.Conferences)
}

func logSummary(log *slog.Logger, s report.Summary) {
	args := []any{"run", s.RunID, "exit", s.ExitCode, "conferences", s.Conferences, "files", s.Files,
		"bytes", s.BytesArchived, "duration", time.Duration(s.DurationSecs * float64(time.Second)).Round(time.Millisecond).String()}
	for _, st := range report.Statuses() {
		if n := s.Counts[st]; n > 0 {
			args = append(args, string(st), n)
		}
	}
	if s.EstimatedBytes > 0 {
		args = append(args, "estimated_bytes", s.EstimatedBytes, "estimated", console.HumanBytes(s.EstimatedBytes))
	}
	if s.Verdict.Text != "" {
		args = append(args, "verdict", s.Verdict.Text)
	}
	log.Info("run finished", args...)
}

func newRunID(t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func cmdRun(ctx context.Context, args []string, e env) error {
	c := newCommand("run", "(--input CSV | --from DATE --to DATE | --since-last [--from DATE]) --dest DEST --out DIR [flags]",
		"Archive the recordings of the given conferences and write the report.", e.stderr)
	flags := defaultRunFlags()
	flags.register(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	e.useLog(flags.Log)
	if c.fs.NArg() > 0 {
		return usagef("run: unexpected argument %q", c.fs.Arg(0))
	}
	p, err := flags.validate(e.getenv)
	if err != nil {
		return err
	}
	if flags.Quiet {
		flags.Log.quiet()
		p.silentOK = true
	}
	return archiveRun(ctx, p, e, nil)
}

// metricsFlags are --metrics-file and --metrics-push.
type metricsFlags struct {
	File string
	Push string
}

// Help texts of the metrics flags.
const (
	metricsFileHelp = "write the run's Prometheus metrics to this file at the end of the run (text format, written atomically; name it *.prom in the node exporter's textfile directory)"
	metricsPushHelp = "push the run's Prometheus metrics to the Pushgateway at this URL at the end of the run, grouped by job and shard"
)

// register binds the metrics flags.
func (mf *metricsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&mf.File, "metrics-file", "", metricsFileHelp)
	fs.StringVar(&mf.Push, "metrics-push", "", metricsPushHelp)
}

// check validates the metrics flags before the run starts, as usage errors:
// the file's directory must exist and the file must not be a directory; the
// push URL must be http(s)://host[:port][/path] (host:port alone means http).
func (mf *metricsFlags) check(cmd string) error {
	if mf.File != "" {
		if strings.HasSuffix(mf.File, string(filepath.Separator)) {
			return usagef("%s: invalid value for --metrics-file: %q names a directory", cmd, mf.File)
		}
		dir := filepath.Dir(mf.File)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usagef("%s: --metrics-file %s: directory %s does not exist", cmd, mf.File, dir)
		}
		if st, err := os.Stat(mf.File); err == nil && st.IsDir() {
			return usagef("%s: invalid value for --metrics-file: %s is a directory", cmd, mf.File)
		} else if err == nil && !st.Mode().IsRegular() {
			// The file is written aside and renamed over the path: a FIFO,
			// a device (/dev/full, /dev/stdout) or a socket there would be
			// replaced by a regular file.
			return usagef("%s: invalid value for --metrics-file: %s is not a regular file (%s); give the path of a file", cmd, mf.File, st.Mode().Type())
		}
	}
	if mf.Push != "" {
		if err := metrics.CheckPushURL(mf.Push); err != nil {
			return usagef("%s: invalid value for --metrics-push: %v", cmd, err)
		}
	}
	return nil
}

// rowCounter passes a conference's rows on to the report and counts them
// for the display (files, failures) on the way.
type rowCounter struct {
	pipeline.RowWriter
	p *console.Progress
}

func (r rowCounter) AddAll(rows ...report.Row) error {
	r.p.CountRows(rows)
	return r.RowWriter.AddAll(rows...)
}

// closingSummary prints the run's closing summary on w (stderr): not
// after a --quiet run that exits 0, nor with --log-format json (the "run
// finished" record carries the same), nor when the run wrote no report of
// its own (the error line says why). width is the terminal's, 0 off one.
func (p *runPlan) closingSummary(w io.Writer, width int, err error) {
	code := exitCode(err)
	if (p.silentOK && code == report.ExitOK) || p.log.format.value == "json" {
		return
	}
	if sum, ours := p.writtenSummary(); ours {
		console.Closing(w, width, sum, code, p.out)
	}
}
