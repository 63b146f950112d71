package main

import (
	"errors"
	"os"
	"path/filepath"

	"meetarchive/report"
)

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
	_, err := report.Rebuild(dir)
	return reportWritten(e, "report", dir, err, report.ErrLocked)
}
