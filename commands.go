package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"meetarchive/archive"
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
		return &fatalError{err: fmt.Errorf("authentication failed: %w", err)}
	}
	w := csv.NewWriter(e.stdout)
	_ = w.Write([]string{"confUUID", "confID", "subject", "startTime", "available", "isDecodeFinish"})
	n := 0
	err = client.List(ctx, export.ListQuery{From: from.t, To: pipeline.EndOfDay(to.t), AllUsers: allUsers, Search: search},
		func(r export.Recording) error {
			n++
			return w.Write([]string{report.Neutralize(r.ConfUUID), report.Neutralize(r.ConfID), report.Neutralize(r.Subject),
				report.Neutralize(r.StartTime), strconv.FormatBool(r.Available), strconv.FormatBool(r.IsDecodeFinish)})
		})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if err != nil {
		if errors.Is(err, export.ErrAuth) {
			return &fatalError{err: err}
		}
		return &fatalError{err: fmt.Errorf("list: %w (wrote %d rows)", err, n)}
	}
	log.Info("listed recordings", "count", n)
	return nil
}

// cmdVerify streams every archived object of a manifest back and checks it.
func cmdVerify(ctx context.Context, args []string, e env) error {
	c := newCommand("verify", "--manifest DIR/manifest.csv [--dest DEST]",
		"Read every archived object of a manifest back, recompute its SHA-256 and report missing and mismatched objects (exit 1 if any).", e.stderr)
	var (
		manifest, dest string
		s3             = defaultS3Flags()
		quiet          bool
	)
	c.fs.StringVar(&manifest, "manifest", "", "manifest.csv written by run")
	c.fs.StringVar(&dest, "dest", "", "destination the run wrote to (default: each row's objectURI)")
	s3.register(c, false)
	c.fs.BoolVar(&quiet, "quiet", false, "no progress lines")
	lf := addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	opts, err := s3.options("verify")
	if err != nil {
		return err
	}
	if manifest == "" {
		return usagef("verify: --manifest is required")
	}
	log := lf.logger(e.stderr)

	type entry struct {
		uri string
		it  archive.VerifyItem
	}
	var rows []entry
	err = report.ReadManifest(manifest, func(r report.Row) error {
		if (r.Status == report.Archived || r.Status == report.AlreadyArchived) && r.ObjectURI != "" {
			rows = append(rows, entry{uri: r.ObjectURI, it: archive.VerifyItem{SHA256: r.SHA256, Bytes: r.Bytes}})
		}
		return nil
	})
	if err != nil {
		return usagef("verify: --manifest: %v", err)
	}

	// Group the objects by store: one store for --dest, else one per root.
	type group struct {
		st    archive.Store
		items []archive.VerifyItem
		uris  []string
	}
	var groups []*group
	byRoot := map[string]*group{}
	defer func() {
		for _, g := range groups {
			_ = g.st.Close()
		}
	}()
	var destStore archive.Store
	if dest != "" {
		st, err := archive.Open(ctx, dest, opts)
		if err != nil {
			return usagef("verify: --dest %s: %v", dest, err)
		}
		destStore = st
		g := &group{st: st}
		groups = append(groups, g)
		byRoot[""] = g
	}
	for _, r := range rows {
		var (
			g   *group
			key string
		)
		if destStore != nil {
			g = byRoot[""]
			prefix := strings.TrimSuffix(destStore.URI("k"), "k")
			if !strings.HasPrefix(r.uri, prefix) {
				return usagef("verify: object %s is not under --dest %s", r.uri, dest)
			}
			key = strings.TrimPrefix(r.uri, prefix)
		} else {
			st, k, err := archive.OpenURI(ctx, r.uri, opts)
			if err != nil {
				return usagef("verify: %s: %v", r.uri, err)
			}
			root := strings.TrimSuffix(st.URI("k"), "k")
			if g = byRoot[root]; g == nil {
				g = &group{st: st}
				groups = append(groups, g)
				byRoot[root] = g
			} else {
				_ = st.Close()
			}
			key = k
		}
		it := r.it
		it.Key = key
		g.items = append(g.items, it)
		g.uris = append(g.uris, r.uri)
	}

	total := len(rows)
	prog := newProgressDisplay(e.stderr, log, total, quiet, isTerminal(e.stderr), 5*time.Second)
	for _, r := range rows {
		prog.Estimate(r.it.Bytes)
	}
	bad := 0
	counts := map[string]int{}
	for _, g := range groups {
		last := 0
		results := archive.Verify(ctx, g.st, g.items, func(done, _ int) { // never called concurrently
			for ; last < done; last++ {
				prog.ConferenceDone()
			}
		})
		for i, res := range results {
			prog.AddBytes(res.GotBytes)
			counts[res.Status]++
			if res.Status != "ok" {
				bad++
				msg := ""
				if res.Err != nil {
					msg = res.Err.Error()
				}
				fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", res.Status, g.uris[i], msg)
				log.Error("verify", "status", res.Status, "object", g.uris[i], "err", msg)
			}
		}
	}
	prog.close()
	fmt.Fprintf(e.stdout, "verified %d objects: %d ok, %d missing, %d mismatched, %d errors\n",
		total, counts["ok"], counts["missing"], counts["mismatch"], counts["error"])
	if ctx.Err() != nil {
		return errInterrupted
	}
	if bad > 0 {
		return errItemsFailed
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
		return &fatalError{err: fmt.Errorf("merge: %w", err)}
	}
	for _, p := range report.Paths(out) {
		fmt.Fprintln(e.stdout, p)
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
		return usagef("report: %s has no journal: %v", dir, err)
	}
	if _, err := report.Rebuild(dir); err != nil {
		if errors.Is(err, report.ErrLocked) {
			return usagef("report: %v", err)
		}
		return &fatalError{err: fmt.Errorf("report: %w", err)}
	}
	for _, p := range report.Paths(dir) {
		fmt.Fprintln(e.stdout, p)
	}
	return nil
}

// cmdDemo runs the whole job against the in-process simulator into ./demo-output.
func cmdDemo(ctx context.Context, args []string, e env) error {
	c := newCommand("demo", "[--dir DIR]", "Run the whole job against a built-in simulator of the Meeting API into a local directory: no account, no network.", e.stderr)
	var dir string
	var quiet bool
	c.fs.StringVar(&dir, "dir", "demo-output", "directory for the demo's input, archive and report")
	c.fs.BoolVar(&quiet, "quiet", false, "no progress bar or progress lines")
	lf := addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
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
	if err := os.WriteFile(input, []byte(b.String()), 0o666); err != nil {
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
	return archiveRun(ctx, p, e, func(s report.Summary) {
		fmt.Fprintf(e.stdout, "archived %d conferences (%s) into %s in %.1fs\n", s.Counts[report.Archived], humanBytes(s.BytesArchived), absPath(flags.Dest), s.DurationSecs)
		for _, st := range report.Statuses() {
			if n := s.Counts[st]; n > 0 {
				fmt.Fprintf(e.stdout, "  %-18s %d\n", st, n)
			}
		}
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
