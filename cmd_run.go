package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/console"
	"meetarchive/export"
	"meetarchive/metrics"
	"meetarchive/notify"
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
	Evidence         bool
	Updated          updatedFlags
	Ledger           ledgerFlags
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
		Evidence:         true,
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
	fs.StringVar(&f.KeyTemplate, "key-template", f.KeyTemplate, "object key template (Go text/template over ConfUUID, ConfID, Subject, ScheduserName, StartTime, Year, Month, Day, LocalYear, LocalMonth, LocalDay, LocalStart, FileType, FileName, Index)")
	f.Updated.register(fs)
	fs.BoolVar(&f.Force, "force", false, "archive again conferences that are already archived")
	fs.BoolVar(&f.Evidence, "evidence", f.Evidence, "store the platform's answers about each archived conference (details, record info, history detail, attendee and control records) as JSON objects beside its recordings; --evidence=false: none")
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
	f.Ledger.register(fs)
	f.Log = addLogFlags(c)
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
	options  map[string]string   // the options the report shows
	since    *pipeline.SinceLast // --since-last, else nil
	timeZone string              // --time-zone, for the report
	ledger   ledgerPlan
}

// validate checks everything flags, environment and paths alone can tell,
// naming the bad flag, before anything is created. It changes nothing.
func (f *runFlags) validate(getenv func(string) string) (*runPlan, error) {
	if err := f.check(); err != nil {
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
			Tool: "meetarchive " + version, PartialFiles: len(f.FileTypes) > 0, Evidence: f.Evidence && !f.DryRun,
			Retry: export.Backoff{
				Base: pipeline.DefaultFileRetryBase, Max: export.DefaultRetryMax,
				MaxAttempts: client.MaxAttempts, MaxElapsed: client.MaxElapsed,
			},
		},
	}
	if !f.From.t.IsZero() && !f.SinceLast.On {
		p.list = &export.ListQuery{From: f.From.t, To: pipeline.EndOfDay(f.To.t), AllUsers: f.AllUsers, Search: f.Search}
	}
	p.options = pipeline.ReportOptions(f.KeyTemplate, client, p.job, arch)
	if p.list != nil || f.SinceLast.On { // the window's filters, which a re-check must repeat
		if f.AllUsers {
			p.options[report.OptionAllUsers] = "true"
		}
		if f.Search != "" {
			p.options[report.OptionSearch] = f.Search
		}
	}
	up, err := f.Updated.plan(f.SinceLast.On, f.Force)
	if err != nil {
		return nil, err
	}
	p.keys, p.timeZone = up.apply(p.keys, &p.job.Recheck, p.options), up.zone
	if f.SinceLast.On {
		if p.since, err = f.SinceLast.plan(f, getenv); err != nil {
			return nil, err
		}
		p.options[report.OptionSinceLast] = fmt.Sprintf("overlap %s, settle %s, max pending age %s", f.SinceLast.Overlap, f.SinceLast.Settle, f.SinceLast.MaxPendingAge)
	}
	if p.ledger, err = f.Ledger.plan(getenv); err != nil {
		return nil, err
	}
	return p, nil
}

// check is validate's checks of single values and paths (the flags'
// combinations, their ranges, --input, --out and --dest, the metrics and
// notify flags), in the order validate reports them.
func (f *runFlags) check() error {
	if err := f.SinceLast.check(f); err != nil {
		return err
	}
	switch {
	case f.Input == "" && f.From.t.IsZero() && !f.SinceLast.On:
		return usagef("run: --input or --from/--to is required")
	case f.Input != "" && !f.From.t.IsZero():
		return usagef("run: give --input or --from/--to, not both")
	case !f.From.t.IsZero() && f.To.t.IsZero() && !f.SinceLast.On:
		return usagef("run: --from needs --to")
	case !f.To.t.IsZero() && f.To.t.Before(f.From.t):
		return usagef("run: --to %s is before --from %s", f.To.String(), f.From.String())
	case f.Dest == "":
		return usagef("run: --dest is required")
	case archive.CheckDest(f.Dest) != nil:
		return usagef("run: --dest: %v", archive.CheckDest(f.Dest))
	case f.Out == "":
		return usagef("run: --out is required")
	case f.Concurrency < 1 || f.Concurrency > 1024:
		return usagef("run: invalid value %d for --concurrency: want 1..1024", f.Concurrency)
	case f.Grace < 0:
		return usagef("run: invalid value %s for --grace: want 0 or more", f.Grace)
	case f.ProgressInterval <= 0:
		return usagef("run: invalid value %s for --progress-interval: want more than 0", f.ProgressInterval)
	case f.DeleteAfter && !f.ConfirmDelete:
		return usagef("run: --delete-after-archive deletes recordings from the meeting platform; add --confirm-delete to confirm")
	}
	if f.Input != "" {
		if err := pipeline.CheckInput(f.Input); err != nil {
			return usagef("run: --input %s: %v", f.Input, err)
		}
	}
	if err := pipeline.CheckOutDir(f.Out); err != nil {
		return usagef("run: --out %s: %v", f.Out, err)
	}
	if err := pipeline.CheckApart(f.Out, f.Dest); err != nil {
		return usagef("run: %v", err)
	}
	if err := f.Metrics.check("run"); err != nil {
		return err
	}
	if err := f.Notify.check("run"); err != nil {
		return err
	}
	return nil
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

// notifyFlags are --notify, --notify-on and --notify-timeout.
type notifyFlags struct {
	URLs    urlList
	On      choiceFlag
	Timeout time.Duration
}

// When a run posts its notification.
const (
	notifyOnFailure = "failure" // any exit code but 0
	notifyOnAlways  = "always"
)

func defaultNotifyFlags() notifyFlags {
	return notifyFlags{
		On:      choiceFlag{value: notifyOnFailure, choices: []string{notifyOnFailure, notifyOnAlways}},
		Timeout: notify.DefaultTimeout,
	}
}

// register binds the notification flags.
func (n *notifyFlags) register(fs *flag.FlagSet) {
	fs.Var(&n.URLs, "notify", "post the run's verdict, counts and failures to this chat incoming-webhook URL (Slack, Mattermost, Microsoft Teams) when the run ends; repeatable; the environment twin takes several separated by commas or spaces")
	fs.Var(&n.On, "notify-on", "when to notify: failure (any exit code but 0) or always")
	fs.DurationVar(&n.Timeout, "notify-timeout", n.Timeout, "longest time the notification may take, every URL and retry included")
}

// check validates the notification flags and registers the URLs as secrets.
// An error names the URL by its position and scheme and host only.
func (n *notifyFlags) check(cmd string) error {
	if n.Timeout <= 0 {
		return usagef("%s: invalid value %s for --notify-timeout: want more than 0", cmd, n.Timeout)
	}
	notify.Register(n.URLs)
	for i, u := range n.URLs {
		if err := notify.CheckURL(u); err != nil {
			return usagef("%s: invalid value for --notify (URL %d of %d): %v", cmd, i+1, len(n.URLs), err)
		}
	}
	return nil
}

// archiveRun runs the archive job for a validated plan (pipeline.Run),
// then writes the metrics and notifies (pipeline.Deliver), and ends with the closing summary. It
// is shared by run and demo; onDone, when set, receives the summary.
//
// On a terminal, stderr shows one live status line while the pipeline
// runs, with the log lines above it (console.Screen); the pipeline's
// per-file and per-conference events are logged at debug there, as the
// status line counts them. Every run ends with a short closing summary on
// stderr (console.Closing), after the warnings --quiet held back.
func archiveRun(ctx context.Context, p *runPlan, e env, onDone func(report.Summary)) error {
	scr := console.NewScreen(e.stderr, p.quiet)
	log := p.log.logger(scr.Or(e.stderr))
	if p.ledger.keyWarning != "" {
		log.Warn(p.ledger.keyWarning)
	}
	p.ledger.run = pipeline.NewRunLedger(p.out)
	res, err := pipeline.Run(ctx, p.config(e), p.hooks(scr, log, e, onDone))
	code := exitCode(err)
	d := pipeline.Deliver(ctx, log, p.deliverConfig(), res, code, err)
	p.log.endQuiet(ctx, err)
	p.closingSummary(scr.Or(e.stderr), scr.Width(), code, d)
	return err
}

// config is the plan as the pipeline runs it.
func (p *runPlan) config(e env) pipeline.RunConfig {
	return pipeline.RunConfig{
		Input: p.input, Stdin: e.stdin, List: p.list, Dest: p.dest, Out: p.out, Shard: p.shard, Keys: p.keys,
		Job: p.job, Options: p.options, SinceLast: p.since, Version: version, APIBase: p.client.BaseURL, TimeZone: p.timeZone,
		Now:     testNow(e.getenv),
		SetGC:   e.getenv("GOGC") == "", // GOGC in the environment wins
		Signals: e.signals, Grace: p.grace, Open: p.open,
		Ledger: p.ledger.run, SignKey: p.ledger.key, Operator: p.ledger.operator, Commit: buildCommit(),
	}
}

// hooks are the run's terminal front end: the status line or progress
// lines, and the report's paths on stdout once it is written (not when
// silentOK and the run exits 0).
func (p *runPlan) hooks(scr *console.Screen, log *slog.Logger, e env, onDone func(report.Summary)) pipeline.RunHooks {
	h := pipeline.RunHooks{Log: log, Events: log}
	if scr != nil { // the status line counts them; the closing summary says what "run finished" says
		h.Events = slog.New(console.DebugEvents{Handler: log.Handler()})
	}
	h.Progress = func(total int) pipeline.RunProgress {
		return console.NewProgress(scr, log, total, "conferences", p.quiet, p.interval)
	}
	h.Reported = func(sum report.Summary) {
		if onDone != nil {
			onDone(sum)
		}
		if !p.silentOK || sum.ExitCode != report.ExitOK {
			printPaths(e, p.out)
		}
	}
	return h
}

// open makes the API client and opens the destination, checked before any
// download (exit 2 when it fails): pipeline.RunConfig.Open.
func (p *runPlan) open(ctx context.Context, log *slog.Logger) (*export.Client, archive.Store, error) {
	cfg := p.client
	cfg.Observer = p.ledger.observer()
	client, store, err := openClientAndStore(ctx, log, "run", cfg, p.dest, p.archive)
	if err != nil {
		return nil, nil, err
	}
	if !p.job.DryRun { // a dry run writes nothing, not even a probe
		if err := store.Preflight(ctx); err != nil {
			store.Close()
			return nil, nil, usagef("run: destination check failed: %v", err)
		}
	}
	return client, store, nil
}

// deliverConfig is what the run does once it has ended (pipeline.Deliver):
// the metrics it was asked to write and push, and its notification
// (--notify, when --notify-on says this outcome).
func (p *runPlan) deliverConfig() pipeline.DeliverConfig {
	c := pipeline.DeliverConfig{Out: p.out, NotifyAlways: p.notify.On.value == notifyOnAlways}
	if m := p.metrics; m.File != "" || m.Push != "" {
		c.Metrics = func(ctx context.Context, res pipeline.RunResult) error {
			return metrics.Write(ctx, metrics.Run{Summary: res.Summary, Calls: res.Calls}, m.File, m.Push)
		}
	}
	if n := p.notify; len(n.URLs) > 0 {
		s := notify.Sender{URLs: n.URLs, Timeout: n.Timeout, UserAgent: "meetarchive/" + version}
		c.Notify = func(ctx context.Context, log *slog.Logger, code int, err error, sum *report.Summary) string {
			r := notify.Run{Command: "meetarchive run", ExitCode: code, Err: err, Out: console.AbsPath(p.out)}
			r.Host, _ = os.Hostname()
			return s.RunEnded(ctx, log, r, sum)
		}
	}
	return c
}

// closingSummary prints the run's closing summary on w (stderr): not
// after a --quiet run that exits 0, nor with --log-format json (the "run
// finished" record carries the same), nor when the run wrote no report of
// its own (the error line says why). width is the terminal's, 0 off one.
func (p *runPlan) closingSummary(w io.Writer, width, code int, d pipeline.Delivered) {
	if (p.silentOK && code == report.ExitOK) || p.log.format.value == "json" {
		return
	}
	if d.Written {
		console.Closing(w, width, d.Summary, code, p.out)
	}
}
