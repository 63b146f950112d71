package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"meetarchive/archive"
	"meetarchive/console"
	"meetarchive/pipeline"
)

// bagFlags are the flags of bag.
type bagFlags struct {
	manifest, out, uuids, dest, organization string
	from, to                                 dateFlag
	s3                                       s3Flags
	quiet                                    bool
	log                                      *logFlags
}

// cmdBag exports chosen conferences of a manifest as a BagIt bag.
func cmdBag(ctx context.Context, args []string, e env) error {
	c := newCommand("bag", "--manifest DIR/manifest.csv --out BAGDIR [--uuids FILE] [--from DATE] [--to DATE] [--dest DEST]",
		"Export conferences of a manifest as a BagIt 1.0 bag (RFC 8493) that proves itself without this tool: "+
			"their recordings, re-checked against the archive's SHA-256 while copied, their sidecars and their manifest rows. "+
			"Exit 1 (and no bag) if any object is missing or differs.", e.stderr)
	f := bagFlags{s3: defaultS3Flags()}
	fs := c.fs
	fs.StringVar(&f.manifest, "manifest", "", "manifest.csv written by run (or merge)")
	fs.StringVar(&f.out, "out", "", "directory of the bag: must not exist or be empty")
	fs.StringVar(&f.uuids, "uuids", "", "only these conferences: a CSV of conference UUIDs, read as --input is (- for standard input)")
	fs.Var(&f.from, "from", "only conferences that started on or after this day (YYYY-MM-DD, the platform's clock as the manifest's startTime gives it) or time")
	fs.Var(&f.to, "to", "only conferences that started on or before this day (inclusive) or time")
	fs.StringVar(&f.dest, "dest", "", "read the objects from this destination, by their objectKey (default: each manifest row's objectURI)")
	fs.StringVar(&f.organization, "organization", "", "Source-Organization of bag-info.txt (left out when not given)")
	f.s3.register(c, false)
	fs.BoolVar(&f.quiet, "quiet", false, "print nothing unless the bag is not written: no progress, no info lines, warnings only then (unless --log-level is given), not the bag's path")
	f.log = addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	e.useLog(f.log)
	if f.quiet {
		f.log.quiet()
	}
	opts, err := f.validate(c)
	if err != nil {
		return err
	}
	err = runBag(ctx, f, opts, e)
	f.log.endQuiet(ctx, err)
	return err
}

// validate checks the flags and gives the store options.
func (f *bagFlags) validate(c *command) (archive.Options, error) {
	switch {
	case c.fs.NArg() > 0:
		return archive.Options{}, usagef("bag: unexpected argument %q", c.fs.Arg(0))
	case f.manifest == "":
		return archive.Options{}, usagef("bag: --manifest is required")
	case f.out == "":
		return archive.Options{}, usagef("bag: --out is required")
	case !f.from.t.IsZero() && !f.to.t.IsZero() && pipeline.EndOfDay(f.to.t).Before(f.from.t):
		return archive.Options{}, usagef("bag: --to %s is before --from %s", f.to.String(), f.from.String())
	}
	if _, err := os.Stat(f.manifest); err != nil {
		return archive.Options{}, fileError("bag", "manifest", f.manifest, err)
	}
	if err := emptyOrAbsent(f.out); err != nil {
		return archive.Options{}, err
	}
	opts, err := f.s3.options("bag")
	if err != nil {
		return opts, err
	}
	opts.ReadOnly = true
	return opts, nil
}

// emptyOrAbsent refuses an --out that holds anything (pipeline.CheckEmptyDir).
func emptyOrAbsent(dir string) error {
	err := pipeline.CheckEmptyDir(dir)
	var pe *fs.PathError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		return usagef("bag: --out: %v", err)
	}
	return usagef("bag: --out %v", err)
}

func runBag(ctx context.Context, f bagFlags, opts archive.Options, e env) error {
	scr := console.NewScreen(e.stderr, f.quiet)
	log := f.log.logger(scr.Or(e.stderr))
	opts.Logger = console.SDKLogger{Log: log}
	sel := pipeline.BagSelection{From: f.from.t}
	if !f.to.t.IsZero() {
		sel.To = pipeline.EndOfDay(f.to.t)
	}
	if f.uuids != "" {
		set, err := readUUIDList(f.uuids)
		if err != nil {
			return err
		}
		sel.UUIDs = set
	}
	cfg := pipeline.BagConfig{
		Manifest: f.manifest, Out: f.out, Dest: f.dest, Selection: sel,
		Organization: f.organization, Agent: versionString(), Options: opts,
	}
	res, err := pipeline.ExportBag(ctx, cfg, pipeline.BagHooks{
		Log: log,
		Objects: func(objs []pipeline.BagObject) pipeline.Progress {
			prog := console.NewProgress(scr, log, len(objs), "objects", f.quiet, 5*time.Second)
			for _, o := range objs {
				prog.Estimate(max(o.Bytes, 0)) // one estimate per object: the display averages over them
			}
			return prog
		},
		Problem: func(p string) { fmt.Fprintf(e.stdout, "cannot bag\t%s\n", console.Text(p)) },
		Failure: func(fl pipeline.BagFailure) {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", fl.Status, console.Text(fl.URI), console.Text(fmt.Sprint(fl.Err)))
		},
		NotWritten: func(line string) { fmt.Fprintln(e.stdout, line) },
	})
	if err == nil && !f.quiet {
		fmt.Fprintln(e.stdout, console.Text(console.AbsPath(res.Dir)))
	}
	return err
}

// readUUIDList reads a --uuids file as run reads --input
// (pipeline.ReadUUIDs); what is wrong with it is a usage error.
func readUUIDList(path string) (map[string]bool, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		fh, err := os.Open(path)
		if err != nil {
			return nil, fileError("bag", "uuids", path, err)
		}
		defer fh.Close()
		r = fh
	}
	set, err := pipeline.ReadUUIDs(r)
	if err != nil {
		return nil, usagef("bag: --uuids %s: %v", path, err)
	}
	return set, nil
}
