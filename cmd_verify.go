package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"meetarchive/console"
	"meetarchive/pipeline"
)

// cmdVerify streams every archived object of a manifest (or of a
// sha256sums.txt) back and checks it.
func cmdVerify(ctx context.Context, args []string, e env) error {
	c := newCommand("verify", "(--manifest DIR/manifest.csv [--dest DEST] | --sums DIR/sha256sums.txt --dest DEST | --ledger RUNID|all|FILE|REPORTDIR [--dest DEST] [--public-key FILE] [--head HEX])",
		"Read every archived object back, recompute its SHA-256 and report missing and mismatched objects (exit 1 if any); with --ledger, check runs' custody ledgers and the objects they record.", e.stderr)
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
	var ledger verifyLedgerFlags
	ledger.register(c)
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
	if ledger.ledger != "" {
		err := ledger.verifyLedgers(ctx, dest, manifest, sums, reportPath, opts, lf, e, quiet)
		lf.endQuiet(ctx, err)
		return err
	}
	switch {
	case ledger.head != "":
		return usagef("verify: --head goes with --ledger")
	case (manifest == "") == (sums == ""):
		return usagef("verify: --manifest is required (or --sums with --dest)")
	case sums != "" && dest == "":
		return usagef("verify: --sums needs --dest (its paths are relative to the destination root)")
	}
	if reportPath != "" {
		if err := pipeline.CheckOutFile(reportPath); err != nil {
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
		out.WriteCounts(e.stdout, set.Total())
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
