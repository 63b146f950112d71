package main

import (
	"context"
	"log/slog"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/pipeline"
)

// reconcileFlags are the flags of `meetarchive reconcile`.
type reconcileFlags struct {
	From, To  dateFlag
	AllUsers  bool
	Search    string
	Dest, Out string
	Operator  string
	API       apiFlags
	S3        s3Flags
	Log       *logFlags
}

func (f *reconcileFlags) register(c *command) {
	fs := c.fs
	fs.Var(&f.From, "from", "first day of the window (YYYY-MM-DD, UTC) or RFC 3339 time")
	fs.Var(&f.To, "to", "last day of the window, inclusive (YYYY-MM-DD, UTC) or RFC 3339 time")
	fs.BoolVar(&f.AllUsers, "all-users", false, "every user's recordings and meetings (administrator)")
	fs.StringVar(&f.Search, "search", "", "only recordings (and meetings) that match this text")
	fs.StringVar(&f.Dest, "dest", "", "destination to reconcile: s3://bucket/prefix or a local directory (read only)")
	fs.StringVar(&f.Out, "out", "", "directory for the report (manifest.xlsx with its Completeness sheet, summary.json, summary.html, ...); not inside --dest, nor around it")
	fs.StringVar(&f.Operator, "operator", "", "who runs the reconciliation, as the summary and the attestation record it (default: $USER)")
	f.API.register(c, false)
	f.S3.register(c, false)
	f.Log = addLogFlags(c)
}

// reconcilePlan is a validated reconcile.
type reconcilePlan struct {
	window   export.ListQuery
	operator string
	dest     string
	out      string
	client   export.Config
	archive  archive.Options
}

func (f *reconcileFlags) validate(getenv func(string) string) (*reconcilePlan, error) {
	switch {
	case f.From.t.IsZero() || f.To.t.IsZero():
		return nil, usagef("reconcile: --from and --to are required")
	case f.To.t.Before(f.From.t):
		return nil, usagef("reconcile: --to %s is before --from %s", f.To.String(), f.From.String())
	case f.Dest == "":
		return nil, usagef("reconcile: --dest is required")
	case archive.CheckDest(f.Dest) != nil:
		return nil, usagef("reconcile: --dest: %v", archive.CheckDest(f.Dest))
	case f.Out == "":
		return nil, usagef("reconcile: --out is required")
	}
	if err := pipeline.CheckOutDir(f.Out); err != nil {
		return nil, usagef("reconcile: --out %s: %v", f.Out, err)
	}
	if err := pipeline.CheckApart(f.Out, f.Dest); err != nil {
		return nil, usagef("reconcile: %v", err)
	}
	client, err := f.API.clientConfig("reconcile", getenv)
	if err != nil {
		return nil, err
	}
	if err := client.Validate(); err != nil {
		return nil, usagef("reconcile: %v", err)
	}
	arch, err := f.S3.options("reconcile")
	if err != nil {
		return nil, err
	}
	arch.ReadOnly = true // reconcile writes nothing to the destination
	return &reconcilePlan{
		window:   export.ListQuery{From: f.From.t, To: pipeline.EndOfDay(f.To.t), AllUsers: f.AllUsers, Search: f.Search},
		operator: ledgerFlags{Operator: f.Operator}.operator(getenv),
		dest:     f.Dest, out: f.Out, client: client, archive: arch,
	}, nil
}

// cmdReconcile reconciles a window: the recording list, the meeting
// history and the destination's commit marks, one line per conference with
// its fate, in a report of its own (pipeline.ReconcileWindow). It calls no
// download API. Exit 0 when every recording the platform reports for the
// window is archived or accounted for, 1 when one is not, 2 usage, 3
// fatal (the report says why).
func cmdReconcile(ctx context.Context, args []string, e env) error {
	c := newCommand("reconcile", "--from DATE --to DATE --dest DEST --out DIR [flags]",
		"Reconcile a window of dates: the platform's recording list and meeting history against the destination's commit marks. "+
			"Downloads nothing; writes the report with its Completeness sheet and section; exits 1 if a recording the platform reports is not archived or accounted for.", e.stderr)
	f := &reconcileFlags{API: defaultAPIFlags(), S3: defaultS3Flags()}
	f.register(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	e.useLog(f.Log)
	if c.fs.NArg() > 0 {
		return usagef("reconcile: unexpected argument %q", c.fs.Arg(0))
	}
	p, err := f.validate(e.getenv)
	if err != nil {
		return err
	}
	sum, err := pipeline.ReconcileWindow(ctx, pipeline.ReconcileConfig{
		Window: p.window, Operator: p.operator, Dest: p.dest, Out: p.out, Version: version, APIBase: p.client.BaseURL, Open: p.open,
		Options: pipeline.ConnectionOptions(p.client.BaseURL, p.archive),
		Now:     testNow(e.getenv),
	}, f.Log.logger(e.stderr))
	if sum.RunID != "" {
		printPaths(e, p.out)
	}
	return err
}

// testNow is the clock tests give a run or a reconciliation
// (MEETARCHIVE_TEST_NOW, RFC 3339; not a flag, not in --help): the
// history's retention is measured on it, and --since-last's window (which
// checks the value: see sinceLastFlags.plan). nil (time.Now) when unset or
// not a time.
func testNow(getenv func(string) string) func() time.Time {
	t, err := time.Parse(time.RFC3339, getenv("MEETARCHIVE_TEST_NOW"))
	if err != nil {
		return nil
	}
	return func() time.Time { return t }
}

// open builds the API client and opens the destination, read only.
func (p *reconcilePlan) open(ctx context.Context, log *slog.Logger) (*export.Client, archive.Store, error) {
	return openClientAndStore(ctx, log, "reconcile", p.client, p.dest, p.archive)
}
