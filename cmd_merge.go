package main

import (
	"os"
	"path/filepath"

	"meetarchive/report"
)

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
	_, err := report.Merge(out, c.fs.Args())
	return reportWritten(e, "merge", out, err, report.ErrOutIsInput, report.ErrLocked)
}
