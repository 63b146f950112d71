package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/console"
	"meetarchive/pipeline"
	"meetarchive/report"
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
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines, and nothing printed when the bag is written")
	f.log = addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	e.useLog(f.log)
	opts, err := f.validate(c)
	if err != nil {
		return err
	}
	return runBag(ctx, f, opts, e)
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

// emptyOrAbsent refuses an --out that holds anything.
func emptyOrAbsent(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return usagef("bag: --out: %v", err)
	case !fi.IsDir():
		return usagef("bag: --out %s is a file", dir)
	}
	names, err := readDirNames(dir)
	if err != nil {
		return usagef("bag: --out: %v", err)
	}
	if len(names) > 0 {
		return usagef("bag: --out %s is not empty: a bag goes into a new or empty directory", dir)
	}
	return nil
}

func readDirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return names, err
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
		set, err := readUUIDList(f.uuids, e)
		if err != nil {
			return err
		}
		sel.UUIDs = set
	}
	stores := &bagStores{opts: opts, byRoot: map[string]archive.Store{}}
	defer stores.close()
	if f.dest != "" {
		st, err := archive.Open(ctx, f.dest, opts)
		if err != nil {
			return usagef("bag: --dest %s: %v", f.dest, err)
		}
		stores.dest = st
		stores.destPrefix = st.RootURI()
	}
	plan, err := pipeline.PlanBag(ctx, f.manifest, sel, stores.resolve)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return fileError("bag", "manifest", f.manifest, err)
	}
	if len(plan.Conferences) == 0 {
		return usagef("bag: no conference of %s is chosen (see --uuids, --from, --to)", f.manifest)
	}
	if len(plan.Problems) > 0 {
		for _, p := range plan.Problems {
			fmt.Fprintf(e.stdout, "cannot bag\t%s\n", console.Text(p))
			log.Error("bag: cannot bag", "problem", p)
		}
		fmt.Fprintf(e.stdout, "no bag written: %d problems\n", len(plan.Problems))
		return failedf("bag: no bag written: %d problems (listed above)", len(plan.Problems))
	}
	for _, conf := range plan.NotArchived {
		log.Warn("bag: conference has nothing archived: the bag holds its manifest rows only", "confUUID", conf)
	}
	plan.Info = bagInfo(f, log)
	prog := console.NewProgress(scr, log, len(plan.Objects), "objects", f.quiet, 5*time.Second)
	for _, o := range plan.Objects {
		prog.Estimate(max(o.Bytes, 0)) // one estimate per object: the display averages over them
	}
	plan.Progress = prog
	res, err := pipeline.WriteBag(ctx, f.out, plan.Bag)
	prog.Close()
	switch {
	case ctx.Err() != nil:
		return errInterrupted
	case errors.Is(err, pipeline.ErrBagIncomplete):
		for _, fl := range res.Failures {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", fl.Status, console.Text(fl.URI), console.Text(fmt.Sprint(fl.Err)))
			log.Error("bag", "status", fl.Status, "object", fl.URI, "err", fl.Err)
		}
		fmt.Fprintf(e.stdout, "no bag written: %d of %d objects failed\n", len(res.Failures), len(plan.Objects))
		return failedf("bag: no bag written: %d of %d objects failed (listed above)", len(res.Failures), len(plan.Objects))
	case errors.Is(err, pipeline.ErrBagExists):
		return usagef("bag: --out %s is not empty: a bag goes into a new or empty directory", f.out)
	case err != nil:
		return &fatalError{Err: err}
	}
	log.Info("bag written", "dir", console.AbsPath(res.Dir), "conferences", plan.Bagged, "files", res.Files, "bytes", res.Bytes)
	if !f.quiet {
		fmt.Fprintln(e.stdout, console.Text(console.AbsPath(res.Dir)))
	}
	return nil
}

// bagInfo is what bag-info.txt says of the bag's origin.
func bagInfo(f bagFlags, log *slog.Logger) pipeline.BagInfo {
	info := pipeline.BagInfo{
		SourceOrganization: f.organization,
		BaggingDate:        time.Now(),
		SoftwareAgent:      versionString(),
		Description: "Meeting recordings archived by meetarchive, under data/ at their keys in the archive; " +
			"each conference's commit record at data/" + archive.SidecarDir + "/<confUUID>.json; " +
			"their manifest rows in data/" + pipeline.BagManifestRows,
	}
	sumPath := filepath.Join(filepath.Dir(f.manifest), report.SummaryJSON)
	sum, err := report.ReadSummary(sumPath)
	if err != nil {
		log.Warn("bag: no run id for External-Identifier: the manifest has no readable summary.json beside it", "err", err)
		return info
	}
	for _, id := range strings.Split(sum.RunID, "+") { // merged reports join their shards' ids with "+"
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(info.ExternalIdentifiers, id) {
			info.ExternalIdentifiers = append(info.ExternalIdentifiers, id)
		}
	}
	info.LedgerHeads = ledgerHeads(sum)
	return info
}

// ledgerHeads are the custody ledger heads of the bagged runs, for
// bag-info.txt's Ledger-Head lines. Runs keep no ledger yet: none.
func ledgerHeads(report.Summary) []string { return nil }

// readUUIDList reads a --uuids file as run reads --input: a conference
// UUID a line (a header, blank lines and other columns allowed). An
// invalid line is a usage error; a repeated one is harmless.
func readUUIDList(path string, e env) (map[string]bool, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		fh, err := os.Open(path)
		if err != nil {
			return nil, fileError("bag", "uuids", path, err)
		}
		defer fh.Close()
		r = fh
	}
	in := pipeline.NewInputReader(r)
	set := map[string]bool{}
	var bad []string
	for {
		it, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, usagef("bag: --uuids %s: %v", path, err)
		}
		switch it.Problem {
		case report.InvalidInput:
			bad = append(bad, it.Detail)
		case report.DuplicateInput:
		default:
			set[it.ConfUUID] = true
		}
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
		}
		return nil, usagef("bag: --uuids %s: %s", path, strings.Join(bad, "; "))
	}
	if len(set) == 0 {
		return nil, usagef("bag: --uuids %s: no conference UUID in it", path)
	}
	return set, nil
}

// bagStores finds the store of each manifest row's object: --dest, or the
// destination root each objectURI was archived under (the URI less its
// objectKey), each opened once.
type bagStores struct {
	opts       archive.Options
	dest       archive.Store
	destPrefix string
	byRoot     map[string]archive.Store
}

func (b *bagStores) resolve(ctx context.Context, r report.Row) (pipeline.BagOpener, string, error) {
	if b.dest != nil {
		if r.ObjectKey != "" {
			return b.dest, r.ObjectKey, nil
		}
		key, ok := strings.CutPrefix(r.ObjectURI, b.destPrefix)
		if !ok {
			return nil, "", usagef("bag: object %s is not under --dest %s and its manifest row has no objectKey", r.ObjectURI, strings.TrimSuffix(b.destPrefix, "/"))
		}
		return b.dest, key, nil
	}
	if r.ObjectKey == "" {
		return nil, "", usagef("bag: %s: the manifest has no objectKey for it, so its destination is unknown: give --dest", r.ObjectURI)
	}
	root, ok := strings.CutSuffix(r.ObjectURI, r.ObjectKey)
	if !ok || !(strings.HasSuffix(root, "/") || strings.HasSuffix(root, string(filepath.Separator))) ||
		!(strings.HasPrefix(strings.ToLower(root), "s3://") || filepath.IsAbs(root)) {
		return nil, "", usagef("bag: objectURI %s does not end with its objectKey %s: give --dest", r.ObjectURI, r.ObjectKey)
	}
	st := b.byRoot[root]
	if st == nil {
		var err error
		if st, err = archive.Open(ctx, root, b.opts); err != nil {
			return nil, "", usagef("bag: %s: %v", root, err)
		}
		b.byRoot[root] = st
	}
	return st, r.ObjectKey, nil
}

func (b *bagStores) close() {
	if b.dest != nil {
		_ = b.dest.Close()
	}
	for _, st := range b.byRoot {
		_ = st.Close()
	}
}
