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
	"meetarchive/report"
)

// cmdList writes the conferences of a date range as CSV to stdout.
func cmdList(ctx context.Context, args []string, e env) error {
	c := newCommand("list", "--from DATE --to DATE [--all-users] [--search TEXT] > uuids.csv",
		"Discover recordings by date through the list API and write them as CSV (a valid --input for run).", e.stderr)
	cfg := defaultRunConfig()
	fs := c.fs
	fs.Var(&cfg.From, "from", "first day (YYYY-MM-DD, UTC) or RFC 3339 time")
	fs.Var(&cfg.To, "to", "last day, inclusive (YYYY-MM-DD, UTC) or RFC 3339 time")
	fs.BoolVar(&cfg.AllUsers, "all-users", false, "every user's recordings (administrator)")
	fs.StringVar(&cfg.Search, "search", "", "only recordings whose subject matches this text")
	fs.StringVar(&cfg.API, "api", cfg.API, "Meeting API base URL")
	fs.Float64Var(&cfg.Client.Rate, "rate", cfg.Client.Rate, "most requests a second sent to each API")
	fs.IntVar(&cfg.Client.MaxAttempts, "max-attempts", cfg.Client.MaxAttempts, "tries per API call, first included")
	fs.DurationVar(&cfg.Client.RequestTimeout, "request-timeout", cfg.Client.RequestTimeout, "timeout of one API request")
	fs.StringVar(&cfg.Client.CABundle, "ca-bundle", "", "PEM file of extra CA certificates for the API")
	fs.StringVar(&cfg.AppKeyFile, "app-key-file", "", "read the app key from this file instead of $MEETARCHIVE_APP_KEY")
	fs.StringVar(&cfg.PassFile, "password-file", "", "read the account password from this file instead of $MEETARCHIVE_PASSWORD")
	fs.StringVar(&cfg.TokenFile, "token-file", "", "read a pre-issued access token from this file instead of $MEETARCHIVE_TOKEN")
	cfg.Log = addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	switch {
	case cfg.From.t.IsZero() || cfg.To.t.IsZero():
		return usagef("list: --from and --to are required")
	case cfg.To.t.Before(cfg.From.t):
		return usagef("list: --to %s is before --from %s", cfg.To.String(), cfg.From.String())
	case cfg.Client.Rate <= 0:
		return usagef("list: invalid value %g for --rate: want more than 0", cfg.Client.Rate)
	}
	creds, err := cfg.credentials(e.getenv)
	if err != nil {
		return err
	}
	log := cfg.Log.logger(e.stderr)
	cfg.Client.Credentials, cfg.Client.BaseURL, cfg.Client.Logger = creds, cfg.API, log
	if err := cfg.Client.Validate(); err != nil {
		return usagef("list: %v", err)
	}
	client, err := export.NewClient(cfg.Client)
	if err != nil {
		return usagef("list: %v", err)
	}
	if err := client.Authenticate(ctx); err != nil {
		return &fatalError{err: fmt.Errorf("authentication failed: %w", err)}
	}
	w := csv.NewWriter(e.stdout)
	_ = w.Write([]string{"confUUID", "confID", "subject", "startTime", "available", "isDecodeFinish"})
	n := 0
	err = client.List(ctx, export.ListQuery{From: cfg.From.t, To: endOfDay(cfg.To.t), AllUsers: cfg.AllUsers, Search: cfg.Search},
		func(r export.Recording) error {
			n++
			return w.Write([]string{r.ConfUUID, safeCell(r.ConfID), safeCell(r.Subject), safeCell(r.StartTime),
				strconv.FormatBool(r.Available), strconv.FormatBool(r.IsDecodeFinish)})
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

// safeCell keeps a CSV cell from being read as a formula by a spreadsheet.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// cmdVerify streams every archived object of a manifest back and checks it.
func cmdVerify(ctx context.Context, args []string, e env) error {
	c := newCommand("verify", "--manifest DIR/manifest.csv [--dest DEST]",
		"Read every archived object of a manifest back, recompute its SHA-256 and report missing and mismatched objects (exit 1 if any).", e.stderr)
	var (
		manifest, dest string
		opts           archive.Options
		quiet          bool
	)
	c.fs.StringVar(&manifest, "manifest", "", "manifest.csv written by run")
	c.fs.StringVar(&dest, "dest", "", "destination the run wrote to (default: each row's objectURI)")
	c.fs.StringVar(&opts.Endpoint, "s3-endpoint", "", "S3 endpoint URL (default: the AWS configuration)")
	c.fs.StringVar(&opts.Region, "s3-region", "", "S3 region")
	c.fs.BoolVar(&opts.PathStyle, "s3-path-style", false, "path-style S3 addressing")
	c.fs.StringVar(&opts.Profile, "s3-profile", "", "AWS shared-config profile")
	c.fs.BoolVar(&quiet, "quiet", false, "no progress lines")
	lf := addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
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
	err := report.ReadManifest(manifest, func(r report.Row) error {
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
	prog := newReporter(e.stderr, log, total, quiet, isTerminal(e.stderr), 5*time.Second)
	for _, r := range rows {
		prog.estimate(r.it.Bytes)
	}
	bad := 0
	counts := map[string]int{}
	for _, g := range groups {
		last := 0
		results := archive.Verify(ctx, g.st, g.items, func(done, _ int) { // never called concurrently
			for ; last < done; last++ {
				prog.conferenceDone()
			}
		})
		for i, res := range results {
			prog.addBytes(res.GotBytes)
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

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("demo: %v", err)
	}
	input := filepath.Join(dir, "input.csv")
	var b strings.Builder
	b.WriteString("confUUID\n")
	for _, conf := range ds.Conferences {
		b.WriteString(conf.ConfUUID + "\n")
	}
	b.WriteString(demoUnknownUUID + "\n") // a conference the API does not know
	if err := os.WriteFile(input, []byte(b.String()), 0o644); err != nil {
		return usagef("demo: %v", err)
	}

	cfg := defaultRunConfig()
	cfg.Log = lf
	cfg.Quiet = quiet
	cfg.Input = input
	cfg.Dest = filepath.Join(dir, "archive")
	cfg.Out = filepath.Join(dir, "report")
	cfg.API = srv.URL
	cfg.Client.Rate = 50 // the simulator has no gateway quota
	cfg.Client.Credentials = export.Credentials{AppID: demoAppID, AppKey: demoAppKey}
	if err := cfg.validate(e.getenv); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "meetarchive demo: simulator at %s, %d conferences (+1 unknown to the API)\n", srv.URL, len(ds.Conferences))
	return execute(ctx, cfg, e, func(s report.Summary) {
		fmt.Fprintf(e.stdout, "archived %d files (%s) into %s in %.1fs\n", s.Files, humanBytes(s.BytesArchived), absPath(cfg.Dest), s.DurationSecs)
		for _, st := range allStatuses {
			if n := s.Counts[st]; n > 0 {
				fmt.Fprintf(e.stdout, "  %-18s %d\n", st, n)
			}
		}
		fmt.Fprintln(e.stdout, "report:")
	})
}

const (
	demoAppID       = "meetarchive-demo"
	demoAppKey      = "demo-app-key"
	demoUnknownUUID = meetingtest.SampleUnknownConfUUID
)
