package main

import (
	"fmt"
	"os"
	"path/filepath"

	"meetarchive/console"
	"meetarchive/report"
)

// cmdMerge joins the reports of several shards.
func cmdMerge(args []string, e env) error {
	c := newCommand("merge", "--out DIR DIR1 DIR2 ...", "Combine the reports of several shards into one (the summary and the window's completeness recomputed; exit 1 when a recording of the window is not accounted for).", e.stderr)
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
	sum, err := report.Merge(out, c.fs.Args())
	if err := reportWritten(e, "merge", out, err, report.ErrOutIsInput, report.ErrLocked); err != nil {
		return err
	}
	for _, w := range sum.Warnings { // also in summary.json: said here, where the one who merged sees it
		fmt.Fprintf(e.stderr, "meetarchive: merge: warning: %s\n", console.Text(w))
	}
	// A window with a recording not accounted for exits 1, as a run does.
	if comp := sum.Completeness; comp != nil && comp.Window != "" && !comp.Complete() {
		return fmt.Errorf("%w: merge: %s of the window not accounted for (see the Completeness sheet)",
			errItemsFailed, report.Plural(comp.UnaccountedCount(), "recording"))
	}
	return nil
}
