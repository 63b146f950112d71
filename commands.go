package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"meetarchive/console"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// cmdList writes the conferences of a date range as CSV to stdout.
func cmdList(ctx context.Context, args []string, e env) error {
	c := newCommand("list", "--from DATE --to DATE [--all-users] [--search TEXT] > uuids.csv",
		"Discover recordings by date through the list API and write them as CSV (a valid --input for run).", e.stderr)
	var (
		from, to dateFlag
		allUsers bool
		search   string
		api      = defaultAPIFlags()
	)
	fs := c.fs
	fs.Var(&from, "from", "first day (YYYY-MM-DD, UTC) or RFC 3339 time")
	fs.Var(&to, "to", "last day, inclusive (YYYY-MM-DD, UTC) or RFC 3339 time")
	fs.BoolVar(&allUsers, "all-users", false, "every user's recordings (administrator)")
	fs.StringVar(&search, "search", "", "only recordings whose subject matches this text")
	api.register(c, false)
	lf := addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	e.useLog(lf)
	switch {
	case c.fs.NArg() > 0:
		return usagef("list: unexpected argument %q", c.fs.Arg(0))
	case from.t.IsZero() || to.t.IsZero():
		return usagef("list: --from and --to are required")
	case to.t.Before(from.t):
		return usagef("list: --to %s is before --from %s", to.String(), from.String())
	}
	cfg, err := api.clientConfig("list", e.getenv)
	if err != nil {
		return err
	}
	log := lf.logger(e.stderr)
	cfg.Logger = log
	if err := cfg.Validate(); err != nil {
		return usagef("list: %v", err)
	}
	client, err := export.NewClient(cfg)
	if err != nil {
		return usagef("list: %v", err)
	}
	if err := client.Authenticate(ctx); err != nil {
		return &fatalError{Err: pipeline.APIFailure(cfg.BaseURL, err)}
	}
	w := csv.NewWriter(e.stdout)
	_ = w.Write([]string{"confUUID", "confID", "subject", "startTime", "available", "isDecodeFinish"})
	n := 0
	err = client.List(ctx, export.ListQuery{From: from.t, To: pipeline.EndOfDay(to.t), AllUsers: allUsers, Search: search},
		func(r export.Recording) error {
			n++
			return w.Write([]string{listCell(r.ConfUUID), listCell(r.ConfID), report.Neutralize(report.CleanText(r.Subject, math.MaxInt, true)),
				listCell(r.StartTime), strconv.FormatBool(r.Available), strconv.FormatBool(r.IsDecodeFinish)})
		})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if err != nil {
		if errors.Is(err, export.ErrAuth) {
			return &fatalError{Err: err}
		}
		return &fatalError{Err: fmt.Errorf("list: %w (wrote %d rows)", err, n)}
	}
	log.Info("listed recordings", "count", n)
	return nil
}

// listCell is a cell of list's CSV: control characters escaped (the
// subject may keep its line breaks and tabs, as in the manifest) and a
// formula neutralised.
func listCell(s string) string { return report.Neutralize(console.Text(s)) }

// cmdVerify streams every archived object of a manifest (or of a
// sha256sums.txt) back and checks it.
func cmdVerify(ctx context.Context, args []string, e env) error {
	c := newCommand("verify", "(--manifest DIR/manifest.csv [--dest DEST] | --sums DIR/sha256sums.txt --dest DEST)",
		"Read every archived object back, recompute its SHA-256 and report missing and mismatched objects (exit 1 if any).", e.stderr)
	var (
		manifest, sums, dest, reportPath string
		s3                               = defaultS3Flags()
		quiet                            bool
	)
	c.fs.StringVar(&manifest, "manifest", "", "manifest.csv written by run")
	c.fs.StringVar(&sums, "sums", "", "instead of --manifest: a sha256sums.txt written by run (paths relative to --dest)")
	c.fs.StringVar(&dest, "dest", "", "destination the run wrote to (default: each manifest row's objectURI; required with --sums)")
	c.fs.StringVar(&reportPath, "report", "", "write verify's own report to this CSV file: one line per object and sidecar checked, with its status, expected and found size and SHA-256, and the error (written atomically, also when a check fails)")
	s3.register(c, false)
	c.fs.BoolVar(&quiet, "quiet", false, "print nothing unless something is wrong: no progress, no info lines, warnings only if a check fails (unless --log-level is given), no count lines when every check passed")
	lf := addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	e.useLog(lf)
	if quiet {
		lf.quiet()
	}
	opts, err := s3.options("verify")
	if err != nil {
		return err
	}
	switch {
	case (manifest == "") == (sums == ""):
		return usagef("verify: --manifest is required (or --sums with --dest)")
	case sums != "" && dest == "":
		return usagef("verify: --sums needs --dest (its paths are relative to the destination root)")
	}
	if reportPath != "" {
		if err := checkOutFile(reportPath); err != nil {
			return fileError("verify", "report", reportPath, err)
		}
	}
	opts.ReadOnly = true
	scr := console.NewScreen(e.stderr, quiet)
	log := lf.logger(scr.Or(e.stderr))
	opts.Logger = console.SDKLogger{Log: log}
	set, err := pipeline.NewVerifySet(ctx, opts, dest)
	if err != nil {
		return err
	}
	defer set.Close()
	if err := addToVerify(ctx, set, manifest, sums); err != nil {
		return err
	}
	err = verifySet(ctx, set, reportPath, log, scr, e, quiet)
	lf.endQuiet(ctx, err)
	return err
}

// addToVerify adds the objects of --sums or --manifest to the set.
func addToVerify(ctx context.Context, set *pipeline.VerifySet, manifest, sums string) error {
	if sums != "" {
		f, err := os.Open(sums)
		if err != nil {
			return fileError("verify", "sums", sums, err)
		}
		defer f.Close()
		if err := set.AddSums(f); err != nil {
			return usagef("verify: --sums %s: %v", sums, err)
		}
		return nil
	}
	err := set.AddManifest(ctx, manifest)
	var ue *usageError
	if err != nil && !errors.As(err, &ue) {
		return fileError("verify", "manifest", manifest, err)
	}
	return err
}

// verifySet streams every object back and prints what is wrong, in full,
// on stdout (above the status line on a terminal), then the counts; with
// --report (reportPath) it writes every check to that file too.
func verifySet(ctx context.Context, set *pipeline.VerifySet, reportPath string, log *slog.Logger, scr *console.Screen, e env, quiet bool) error {
	prog := console.NewProgress(scr, log, set.Total(), "objects", quiet, 5*time.Second)
	stdout := scr.Above(e.stdout)
	out := set.Verify(ctx, pipeline.VerifyHooks{
		Progress: prog, ObjectsDone: prog.Close, Keep: reportPath != "",
		Bad: func(f pipeline.VerifyFinding) {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", f.Status, console.Text(f.URI), console.Text(f.Err))
			if f.Check == "sidecar" {
				log.Error("verify sidecar", "status", f.Status, "sidecar", f.URI, "confUUID", f.ConfUUID, "err", f.Err)
			} else {
				log.Error("verify", "status", f.Status, "object", f.URI, "err", f.Err)
			}
		},
	})
	var reportErr error
	if reportPath != "" {
		reportErr = pipeline.WriteVerifyReport(reportPath, out.Findings)
	}
	if !quiet || out.Bad > 0 || ctx.Err() != nil {
		c := out.Objects
		fmt.Fprintf(e.stdout, "verified %d objects: %d ok, %d missing, %d mismatched, %d errors\n",
			set.Total(), c["ok"], c["missing"], c["mismatch"], c["error"])
		if c := out.Sidecars; c != nil {
			fmt.Fprintf(e.stdout, "checked %d sidecars: %d ok, %d missing, %d mismatched, %d errors\n",
				out.SidecarTotal, c["ok"], c["missing"], c["mismatch"], c["error"])
		}
		if reportPath != "" && reportErr == nil {
			fmt.Fprintf(e.stdout, "report: %s\n", console.Text(console.AbsPath(reportPath)))
		}
	}
	switch {
	case reportErr != nil:
		return &fatalError{Err: fmt.Errorf("verify: --report %s: %w", reportPath, reportErr)}
	case ctx.Err() != nil:
		return errInterrupted
	case out.Bad > 0:
		where := "listed above"
		if reportPath != "" {
			where += " and in " + console.AbsPath(reportPath)
		}
		return failedf("verify: %d of %d checks failed (%s)", out.Bad, set.Total()+out.SidecarTotal, where)
	}
	return nil
}

// cmdMerge joins the reports of several shards.
func cmdMerge(args []string, e env) error {
	c := newCommand("merge", "--out DIR DIR1 DIR2 ...", "Combine the reports of several shards into one (the summary recomputed).", e.stderr)
	var out string
	c.fs.StringVar(&out, "out", "", "directory for the merged report")
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	if out == "" || c.fs.NArg() == 0 {
		return usagef("merge: --out and at least one report directory are required")
	}
	for _, d := range c.fs.Args() {
		if _, err := os.Stat(filepath.Join(d, report.ManifestCSV)); err != nil {
			return usagef("merge: %s has no %s: %v", d, report.ManifestCSV, err)
		}
	}
	if _, err := report.Merge(out, c.fs.Args()); err != nil {
		if errors.Is(err, report.ErrOutIsInput) || errors.Is(err, report.ErrLocked) {
			return usagef("merge: %v", err)
		}
		return &fatalError{Err: fmt.Errorf("merge: %w", err)}
	}
	for _, p := range report.Paths(out) {
		fmt.Fprintln(e.stdout, console.Text(p))
	}
	return nil
}

// cmdReport rebuilds a report from the journal of a run that was killed.
func cmdReport(args []string, e env) error {
	c := newCommand("report", "--from-journal DIR", "Rebuild the report files from the journal a killed run left in its --out directory.", e.stderr)
	var dir string
	c.fs.StringVar(&dir, "from-journal", "", "the --out directory of the run")
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	if dir == "" {
		return usagef("report: --from-journal is required")
	}
	if _, err := os.Stat(filepath.Join(dir, report.Journal)); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, report.SummaryJSON)); serr == nil {
			return usagef("report: %s has no journal: its run finished and wrote its report there (the journal is removed then)", dir)
		}
		return usagef("report: %s has no journal: %v", dir, errors.Unwrap(err))
	}
	if _, err := report.Rebuild(dir); err != nil {
		if errors.Is(err, report.ErrLocked) {
			return usagef("report: %v", err)
		}
		return &fatalError{Err: fmt.Errorf("report: %w", err)}
	}
	for _, p := range report.Paths(dir) {
		fmt.Fprintln(e.stdout, console.Text(p))
	}
	return nil
}

// cmdDemo runs the whole job against the in-process simulator into ./demo-output.
func cmdDemo(ctx context.Context, args []string, e env) error {
	c := newCommand("demo", "[--dir DIR]", "Run the whole job against a built-in simulator of the Meeting API into a local directory: no account, no network.", e.stderr)
	var dir string
	var quiet bool
	c.fs.StringVar(&dir, "dir", "demo-output", "directory for the demo's input, archive and report")
	c.fs.BoolVar(&quiet, "quiet", false, "no status line or progress lines (the summary is still printed)")
	lf := addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	e.useLog(lf)
	ds := meetingtest.SampleDataset()
	srv := meetingtest.NewServer(meetingtest.Config{Dataset: ds, AppID: demoAppID, AppKey: demoAppKey, RecordInfo: true})
	defer srv.Close()

	if err := os.MkdirAll(dir, 0o777); err != nil {
		return usagef("demo: %v", err)
	}
	input := filepath.Join(dir, "input.csv")
	var b strings.Builder
	b.WriteString("confUUID\n")
	for _, conf := range ds.Conferences {
		b.WriteString(conf.ConfUUID + "\n")
	}
	// Written aside and renamed: a link at input.csv is replaced, never written through.
	if err := report.WriteFileAtomic(input, func(w io.Writer) error { _, err := io.WriteString(w, b.String()); return err }); err != nil {
		return usagef("demo: %v", err)
	}

	flags := defaultRunFlags()
	flags.Log = lf
	flags.Quiet = quiet
	flags.Input = input
	flags.Dest = filepath.Join(dir, "archive")
	flags.Out = filepath.Join(dir, "report")
	flags.API.API = srv.URL
	p, err := flags.validate(demoEnv)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "meetarchive demo: simulator at %s, %d conferences\n", srv.URL, len(ds.Conferences))
	// The counts by status are in the closing summary, on stderr.
	return archiveRun(ctx, p, e, func(s report.Summary) {
		fmt.Fprintf(e.stdout, "archived %d conferences (%s) into %s in %.1fs\n", s.Counts[report.Archived], report.HumanBytes(s.BytesArchived), console.Text(console.AbsPath(flags.Dest)), s.DurationSecs)
		fmt.Fprintln(e.stdout, "report:")
	})
}

// demoEnv is the demo's environment: the simulator's credentials, nothing
// from the process (the demo needs no account and must not use one).
func demoEnv(name string) string {
	switch name {
	case "MEETARCHIVE_APP_ID":
		return demoAppID
	case "MEETARCHIVE_APP_KEY":
		return demoAppKey
	}
	return ""
}

const (
	demoAppID  = "meetarchive-demo"
	demoAppKey = "demo-app-key"
)

// checkOutFile is nil when a file may be written at path: its directory
// exists and path is not a directory.
func checkOutFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a directory, not a file")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return errors.New("its directory " + dir + " does not exist")
	case !st.IsDir():
		return errors.New(dir + " is not a directory")
	case unixAccessW(dir) != nil:
		return errors.New("its directory " + dir + " is not writable")
	}
	return nil
}
