package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"meetarchive/archive"
	"meetarchive/report"
)

// LedgerQuery is what verify --ledger asks for: Ledger, a run id, "all"
// or a ledger file or URI; Signature, a ledger file's signature file
// ("" its default); Dest, the destination ("" none).
type LedgerQuery struct {
	Ledger, Signature, Dest string
}

// LedgerTarget is what verify --ledger checks: ledgers and the store
// their objects are read from.
type LedgerTarget struct {
	Sources []LedgerSource
	Store   archive.Store // nil: objects are not read (a ledger file, no --dest)
}

// IsLedgerFile tells a ledger file or URI from a run id.
func IsLedgerFile(v string) bool {
	return strings.HasSuffix(v, ".jsonl") || strings.ContainsAny(v, `/\`) || archive.IsS3URI(v)
}

// ResolveLedgers resolves verify --ledger (and --signature, --dest) into
// ledgers and the store their objects are read from (no ledger with "all"
// when the destination keeps none); its errors are verify's usage errors,
// naming the flag.
func ResolveLedgers(ctx context.Context, q LedgerQuery, opts archive.Options) (LedgerTarget, error) {
	var tg LedgerTarget
	v, dest := q.Ledger, q.Dest
	open := func(d string) error {
		st, err := archive.Open(ctx, d, opts)
		if err != nil {
			return Usagef("verify: --dest %s: %v", d, err)
		}
		tg.Store = st
		return nil
	}
	if v != "all" && isReportDir(v) { // a report directory: its own copy
		v = filepath.Join(v, LedgerFile)
	}
	if !IsLedgerFile(v) { // a run id, or all
		if dest == "" {
			return tg, Usagef("verify: --ledger %s needs --dest (the destination that keeps the ledger)", v)
		}
		if err := open(dest); err != nil {
			return tg, err
		}
		runs := []string{v}
		if v == "all" {
			var err error
			if runs, err = LedgerRuns(ctx, tg.Store); err != nil {
				return tg, &FatalError{Err: fmt.Errorf("verify: %w", err)}
			}
		}
		for _, r := range runs {
			tg.Sources = append(tg.Sources, StoreLedger(tg.Store, r))
		}
		return tg, nil
	}
	root, runID, inDest := LedgerOfPath(v)
	if archive.IsS3URI(v) {
		if !inDest {
			return tg, Usagef("verify: --ledger %s: an s3:// ledger is <dest>/%s/<run id>.jsonl", v, LedgerDir)
		}
		if dest != "" && strings.TrimSuffix(dest, "/") != strings.TrimSuffix(root, "/") {
			return tg, Usagef("verify: --ledger %s is not in --dest %s", v, dest)
		}
		if err := open(root); err != nil {
			return tg, err
		}
		tg.Sources = []LedgerSource{StoreLedger(tg.Store, runID)}
		return tg, nil
	}
	if st, err := os.Stat(v); err != nil {
		return tg, FileError("verify", "ledger", v, err)
	} else if st.IsDir() {
		return tg, Usagef("verify: --ledger %s is a directory, not a ledger file", v)
	}
	if q.Signature != "" {
		if _, err := os.Stat(q.Signature); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return tg, FileError("verify", "signature", q.Signature, err)
		}
	}
	switch {
	case dest != "":
		if err := open(dest); err != nil {
			return tg, err
		}
	case inDest:
		if err := open(root); err != nil {
			return tg, err
		}
	}
	var st LedgerStore
	if tg.Store != nil {
		st = tg.Store
	}
	src := FileLedger(v, q.Signature, st)
	if inDest {
		// A file kept where a destination keeps run <id>'s ledger must be
		// run <id>'s: another run's ledger copied there is a finding.
		src.RunID = runID
	}
	if filepath.Base(v) == LedgerFile { // the report's own copy
		if err := reportClaims(&src, filepath.Dir(v)); err != nil {
			return tg, err
		}
	}
	tg.Sources = []LedgerSource{src}
	return tg, nil
}

// isReportDir tells a report directory: a directory with a summary.json.
func isReportDir(v string) bool {
	st, err := os.Stat(filepath.Join(v, report.SummaryJSON))
	return err == nil && st.Mode().IsRegular()
}

// reportClaims is what the summary.json beside a report's own ledger copy
// (dir/ledger.jsonl) records of it: the head it ended at and the key that
// signed it. A summary without a ledger claims nothing.
func reportClaims(src *LedgerSource, dir string) error {
	p := filepath.Join(dir, report.SummaryJSON)
	sum, err := report.ReadSummary(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			return FileError("verify", "ledger", p, pe) // not read
		}
		// not JSON: the decoder's error without ReadSummary's prefix
		return Usagef("verify: --ledger %s: %s is not a report's summary: %v", src.Name, p, errors.Unwrap(err))
	}
	if sum.Ledger == nil || sum.Ledger.Head == "" {
		return nil
	}
	src.Heads = append(src.Heads, HeadClaim{Head: strings.ToLower(sum.Ledger.Head), Source: p})
	if sum.Ledger.KeySHA256 != "" {
		src.SignedBy, src.SignedBySource = sum.Ledger.KeySHA256, p
	}
	return nil
}
