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

	"meetarchive/archive"
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
	set := &verifySet{ctx: ctx, opts: opts, byRoot: map[string]*verifyGroup{}, reportPath: reportPath}
	defer set.close()
	if dest != "" {
		if err := set.openDest(dest); err != nil {
			return err
		}
	}
	if sums != "" {
		err = set.addSums(sums)
	} else {
		err = set.addManifest(manifest)
	}
	if err != nil {
		return err
	}
	err = set.verify(log, scr, e, quiet)
	lf.endQuiet(ctx, err)
	return err
}

// verifyGroup is the objects of one store.
type verifyGroup struct {
	st    archive.Store
	items []archive.VerifyItem
	uris  []string
	confs []string // each item's confUUID ("" from --sums)
}

// verifySet is what verify checks: the objects, grouped by store (one store
// for --dest, else one per root of the objects' URIs).
type verifySet struct {
	ctx    context.Context
	opts   archive.Options
	dest   *verifyGroup
	prefix string // the --dest store's RootURI (URIs under it are its keys)
	groups []*verifyGroup
	byRoot map[string]*verifyGroup
	total  int

	reportPath string          // --report, "" when not asked
	findings   []verifyFinding // every check, for --report

	// With --dest and --manifest: the files the manifest says each archived
	// conference has, checked against its sidecar (confs in manifest order).
	confs     []string
	confFiles map[string][]archive.VerifyItem
}

func (v *verifySet) openDest(dest string) error {
	st, err := archive.Open(v.ctx, dest, v.opts)
	if err != nil {
		return usagef("verify: --dest %s: %v", dest, err)
	}
	v.dest = &verifyGroup{st: st}
	v.prefix = st.RootURI()
	v.groups = append(v.groups, v.dest)
	return nil
}

func (v *verifySet) close() {
	for _, g := range v.groups {
		_ = g.st.Close()
	}
}

func (v *verifySet) add(g *verifyGroup, it archive.VerifyItem, uri, conf string) {
	g.items = append(g.items, it)
	g.uris = append(g.uris, uri)
	g.confs = append(g.confs, conf)
	v.total++
}

// addManifest adds every archived and already-archived object of a manifest
// and, with --dest, every such conference's sidecar.
func (v *verifySet) addManifest(path string) error {
	err := report.ReadManifestStrict(path, func(r report.Row) error {
		if r.Status != report.Archived && r.Status != report.AlreadyArchived {
			return nil
		}
		v.addConf(r.ConfUUID)
		if r.ObjectURI == "" {
			return nil
		}
		it := archive.VerifyItem{SHA256: r.SHA256, Bytes: r.Bytes}
		g, key, err := v.groupOf(r.ObjectURI)
		if err != nil {
			return err
		}
		it.Key = key
		v.add(g, it, r.ObjectURI, r.ConfUUID)
		if g == v.dest {
			v.confFiles[r.ConfUUID] = append(v.confFiles[r.ConfUUID], it)
		}
		return nil
	})
	var ue *usageError
	if errors.As(err, &ue) {
		return err
	}
	if err != nil {
		return fileError("verify", "manifest", path, err)
	}
	return nil
}

// addConf notes an archived conference whose sidecar --dest must hold.
func (v *verifySet) addConf(confUUID string) {
	if v.dest == nil {
		return
	}
	if v.confFiles == nil {
		v.confFiles = map[string][]archive.VerifyItem{}
	}
	if _, seen := v.confFiles[confUUID]; !seen {
		v.confs = append(v.confs, confUUID)
		v.confFiles[confUUID] = nil
	}
}

// addSums adds every line of a sha256sums.txt, relative to --dest.
func (v *verifySet) addSums(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fileError("verify", "sums", path, err)
	}
	defer f.Close()
	err = report.ScanSHA256Sums(f, func(s report.FileSum) error {
		v.add(v.dest, archive.VerifyItem{Key: s.Path, SHA256: s.SHA256, Bytes: -1}, v.dest.st.URI(s.Path), "")
		return nil
	})
	if err != nil {
		return usagef("verify: --sums %s: %v", path, err)
	}
	return nil
}

// groupOf finds the store of an object URI and its key there.
func (v *verifySet) groupOf(uri string) (*verifyGroup, string, error) {
	if v.dest != nil {
		if !strings.HasPrefix(uri, v.prefix) {
			return nil, "", usagef("verify: object %s is not under --dest %s", uri, strings.TrimSuffix(v.prefix, "/"))
		}
		return v.dest, strings.TrimPrefix(uri, v.prefix), nil
	}
	st, key, err := archive.OpenURI(v.ctx, uri, v.opts)
	if err != nil {
		return nil, "", usagef("verify: %s: %v", uri, err)
	}
	root := st.RootURI()
	g := v.byRoot[root]
	if g == nil {
		g = &verifyGroup{st: st}
		v.groups = append(v.groups, g)
		v.byRoot[root] = g
	} else {
		_ = st.Close()
	}
	return g, key, nil
}

// verify streams every object back and prints what is wrong, in full,
// on stdout (above the status line on a terminal), then the counts; with
// --report it writes every check to that file too.
func (v *verifySet) verify(log *slog.Logger, scr *console.Screen, e env, quiet bool) error {
	prog := console.NewProgress(scr, log, v.total, "objects", quiet, 5*time.Second)
	stdout := scr.Above(e.stdout)
	for _, g := range v.groups {
		for _, it := range g.items {
			prog.Estimate(it.Bytes) // one per object: the display averages over them
		}
	}
	bad := 0
	counts := map[string]int{}
	for _, g := range v.groups {
		last := 0
		results := archive.Verify(v.ctx, g.st, g.items, func(done, _ int) { // never called concurrently
			for ; last < done; last++ {
				prog.ConferenceDone()
			}
		})
		for i, res := range results {
			prog.AddBytes(max(res.GotBytes, 0))
			counts[res.Status]++
			v.note("object", g.uris[i], g.confs[i], res)
			if res.Status != archive.VerifyOK {
				bad++
				msg := errText(res.Err)
				fmt.Fprintf(stdout, "%s\t%s\t%s\n", res.Status, console.Text(g.uris[i]), console.Text(msg))
				log.Error("verify", "status", res.Status, "object", g.uris[i], "err", msg)
			}
		}
	}
	prog.Close()
	var sidecars string
	if v.dest != nil && v.confs != nil {
		var n int
		n, sidecars = v.verifySidecars(log, e)
		bad += n
	}
	var reportErr error
	if v.reportPath != "" {
		reportErr = writeVerifyReport(v.reportPath, v.findings)
	}
	if !quiet || bad > 0 || v.ctx.Err() != nil {
		fmt.Fprintf(e.stdout, "verified %d objects: %d ok, %d missing, %d mismatched, %d errors\n",
			v.total, counts["ok"], counts["missing"], counts["mismatch"], counts["error"])
		fmt.Fprint(e.stdout, sidecars)
		if v.reportPath != "" && reportErr == nil {
			fmt.Fprintf(e.stdout, "report: %s\n", console.Text(console.AbsPath(v.reportPath)))
		}
	}
	switch {
	case reportErr != nil:
		return &fatalError{Err: fmt.Errorf("verify: --report %s: %w", v.reportPath, reportErr)}
	case v.ctx.Err() != nil:
		return errInterrupted
	case bad > 0:
		where := "listed above"
		if v.reportPath != "" {
			where += " and in " + console.AbsPath(v.reportPath)
		}
		return failedf("verify: %d of %d checks failed (%s)", bad, v.total+len(v.confs), where)
	}
	return nil
}

// note keeps one check for --report.
func (v *verifySet) note(check, uri, conf string, res archive.VerifyResult) {
	if v.reportPath == "" {
		return
	}
	v.findings = append(v.findings, verifyFinding{
		Check: check, Status: res.Status, URI: uri, ConfUUID: conf,
		WantBytes: res.Bytes, GotBytes: res.GotBytes, WantSHA256: res.SHA256, GotSHA256: res.GotSHA256, Err: errText(res.Err),
	})
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// verifySidecars checks the sidecar of every archived conference of the
// manifest in --dest (archive.VerifySidecar), prints what is wrong like
// an object's finding, and returns how many are wrong and their count line.
func (v *verifySet) verifySidecars(log *slog.Logger, e env) (int, string) {
	counts := map[string]int{}
	bad := 0
	for _, conf := range v.confs {
		if v.ctx.Err() != nil {
			break
		}
		res := archive.VerifySidecar(v.ctx, v.dest.st, conf, v.confFiles[conf])
		counts[res.Status]++
		uri := v.dest.st.URI(res.Key)
		v.note("sidecar", uri, conf, res)
		if res.Status == archive.VerifyOK {
			continue
		}
		bad++
		msg := errText(res.Err)
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", res.Status, console.Text(uri), console.Text(msg))
		log.Error("verify sidecar", "status", res.Status, "sidecar", uri, "confUUID", conf, "err", msg)
	}
	return bad, fmt.Sprintf("checked %d sidecars: %d ok, %d missing, %d mismatched, %d errors\n",
		len(v.confs), counts["ok"], counts["missing"], counts["mismatch"], counts["error"])
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
