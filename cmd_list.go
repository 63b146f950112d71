package main

import (
	"context"

	"meetarchive/export"
	"meetarchive/pipeline"
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
	n, err := pipeline.List(ctx, client, export.ListQuery{From: from.t, To: pipeline.EndOfDay(to.t), AllUsers: allUsers, Search: search}, e.stdout)
	if err != nil {
		return err
	}
	log.Info("listed recordings", "count", n)
	return nil
}
