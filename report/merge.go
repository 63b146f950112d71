package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"meetarchive/redact"
)

// MergeDuplicate is the errorCode Merge gives the rows of a conference that
// an earlier shard already reported.
const MergeDuplicate = "merge-duplicate"

// mergeDuplicateHint is the hint of those rows.
const mergeDuplicateHint = "conference in more than one shard: compare the shards' rows"

// ErrOutIsInput is what errors.Is finds in Merge's error when the output
// directory is one of the shard directories (compared as absolute, clean
// paths with symbolic links resolved, or as the same directory on disk): a
// usage error, nothing is read or written.
var ErrOutIsInput = errors.New("output directory is one of the inputs")

// ReadManifest reads a manifest.csv and calls fn for each row, in file order.
// Columns are found by header name (any order; unknown columns are
// ignored; a UTF-8 BOM is skipped); confUUID and status are required.
//
// It is the inverse of writing for every field that manifest.csv carries
// exactly: seq, confUUID, status, fileIndex, bytes, sha256, objectURI, the
// numbers and booleans, and the text of any value that does not begin with
// a formula character. Text that was neutralised on writing keeps its
// leading single quote (see Neutralize); a CRLF inside a field comes back
// as LF (encoding/csv); times come back in UTC, to the second. A cell that
// does not parse is a *CellError. An error from fn stops the reading and is
// returned (wrapped).
func ReadManifest(path string, fn func(Row) error) error {
	return scanManifest(path, false, nil, func(_ []string, r Row) error { return fn(r) })
}

// ReadManifestStrict is ReadManifest that also refuses every cell the
// writer could not have written, with a *CellError naming the line and the
// column (errors.Is finds ErrBadCell):
//
//   - status one of Statuses;
//   - confUUID 32 lower-case hexadecimal digits, except on an invalid-input
//     row and on the cancelled row of a planned line that got no row of its
//     own (errorCode interrupted or no-result), which carry the input's
//     text as given;
//   - sha256 64 lower-case hexadecimal digits on an archived or
//     already-archived row that names a file, and empty or 64 such digits
//     on any other row;
//   - seq, fileIndex, bytes, attempts and estimatedBytes integers, not
//     negative;
//   - no text cell holding a control character (NUL, ESC, CR, ...; LF and
//     TAB only in the multi-line columns) or invalid UTF-8, which the writer
//     always escapes (see CleanText).
func ReadManifestStrict(path string, fn func(Row) error) error {
	return scanManifest(path, true, nil, func(_ []string, r Row) error { return fn(r) })
}

// FilterManifest copies the manifest.csv at path to w, keeping its header
// and each row for which keep returns true, cell for cell as ReadManifest
// reads them (every column, known or not, in the file's order; quoting as
// encoding/csv writes it, LF line ends, no BOM). It reads and writes one
// row at a time.
func FilterManifest(path string, w io.Writer, keep func(Row) bool) error {
	cw := csv.NewWriter(w)
	err := scanManifest(path, false, func(header []string) error { return cw.Write(header) },
		func(rec []string, r Row) error {
			if !keep(r) {
				return nil
			}
			return cw.Write(rec)
		})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return err
}

// scanManifest is ReadManifest (ReadManifestStrict when strict) giving fn
// each record as read too (the slice is reused: fn must not keep it), and
// header (may be nil) the header row.
func scanManifest(path string, strict bool, header func([]string) error, fn func([]string, Row) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("report: read manifest: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty file")
		}
		return fmt.Errorf("report: read manifest %s: header: %w", path, err)
	}
	pos := make([]int, len(manifestColumns))
	byName := map[string]int{}
	for i, c := range manifestColumns {
		byName[c.name] = i
		pos[i] = -1
		for j, h := range head {
			if strings.EqualFold(strings.TrimSpace(h), c.name) {
				pos[i] = j
				break
			}
		}
	}
	for i, c := range manifestColumns {
		if (c.name == "confUUID" || c.name == "status") && pos[i] < 0 {
			return fmt.Errorf("report: read manifest %s: no %s column", path, c.name)
		}
	}
	if header != nil {
		if err := header(head); err != nil {
			return fmt.Errorf("report: read manifest %s: %w", path, err)
		}
	}
	stored := map[string]int{} // objectKey of a stored row -> its line, in this file
	cellErr := func(i int, rec []string, reason string) error {
		line, _ := cr.FieldPos(pos[i])
		return fmt.Errorf("report: read manifest: %w", &CellError{Path: path, Line: line, Column: manifestColumns[i].name, Value: rec[pos[i]], Reason: reason})
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("report: read manifest %s: %w", path, err)
		}
		var r Row
		for i := range manifestColumns {
			if pos[i] < 0 {
				continue
			}
			if err := manifestColumns[i].set(&r, rec[pos[i]]); err != nil {
				return cellErr(i, rec, parseReason(err))
			}
			if !strict {
				continue
			}
			if reason := checkCell(manifestColumns[i].name, rec[pos[i]], &r); reason != "" {
				return cellErr(i, rec, reason)
			}
		}
		if strict {
			raw := func(col string) (string, bool) {
				if i := pos[byName[col]]; i >= 0 {
					return rec[i], true
				}
				return "", false
			}
			col, reason := checkRow(&r)
			if col == "" {
				col, reason = checkStoredRow(&r, raw, stored)
			}
			if col != "" {
				i := byName[col]
				if pos[i] < 0 { // a required cell whose column is missing
					line, _ := cr.FieldPos(0)
					return fmt.Errorf("report: read manifest: %w", &CellError{Path: path, Line: line, Column: col, Reason: reason + " (no such column)"})
				}
				return cellErr(i, rec, reason)
			}
		}
		if err := fn(rec, r); err != nil {
			return fmt.Errorf("report: read manifest %s: %w", path, err)
		}
	}
}

// Merge combines the reports of shards (each directory's manifest.csv and
// summary.json) into one report in out, which must not be one of dirs
// (ErrOutIsInput). Merge takes out's lock (see LockDir) unless this process
// holds it; the caller locks it first to cover the whole command.
//
// Merged order: shard order (as dirs are given), then each shard's own
// order (Seq, FileIndex). Seq keeps the value it has in its shard.
//
// A confUUID that an earlier shard already reported is flagged, not counted
// twice: the later shard's rows of that conference get status
// duplicate-input, errorCode "merge-duplicate" and an errorMessage naming the
// earlier shard and the status they had; the confUUID is listed in
// Summary.DuplicateConferences. (Rows that were already invalid-input or
// duplicate-input in their shard are not conferences and are left alone.)
//
// The summary is recomputed from the merged rows. Started is the earliest
// start, Finished the latest finish, ExitCode the highest shard exit code
// (so 130 if any shard was interrupted; 0 becomes 1 when the merged
// completeness is not complete, as a run's does); RunID joins the shards' run IDs
// with "+"; other RunInfo fields keep a value all shards agree on, else join
// the distinct values with " | ", as does Fatal. MergedFrom lists dirs.
//
// When every shard reconciled the same window, the merged report has their
// completeness combined (see mergeCompleteness: each shard's lines are read
// from the Completeness sheet of its manifest.xlsx); when only some did, or
// their windows differ, it has none and a warning in Summary.Warnings says
// why.
//
// Every shard's manifest is read with ReadManifestStrict: a cell the writer
// could not have written (an unknown status, an archived file without a
// SHA-256, a negative seq, a confUUID that is not one, a control byte...)
// refuses the whole merge with an error naming the shard, the line and the
// column (errors.Is finds ErrBadCell), and nothing is written to out.
func Merge(out string, dirs []string) (sum Summary, err error) {
	if len(dirs) == 0 {
		return Summary{}, errors.New("report: merge: no shard directories")
	}
	for _, d := range dirs {
		if samePath(out, d) {
			return Summary{}, fmt.Errorf("report: merge: output directory %s is shard %s: %w", out, d, ErrOutIsInput)
		}
	}
	sums := make([]Summary, len(dirs))
	for i, d := range dirs {
		if sums[i], err = ReadSummary(filepath.Join(d, SummaryJSON)); err != nil {
			return Summary{}, fmt.Errorf("report: merge: %w", err)
		}
	}
	unlock, err := lockUnlessHeld(out)
	if err != nil {
		return Summary{}, err
	}
	defer func() {
		if uerr := unlock(); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	sum = mergeInfo(sums)
	sum.MergedFrom = make([]string, len(dirs))
	for i, d := range dirs {
		// Absolute: bag and the attestation find the shards' summaries
		// (and their ledgers' heads) from wherever they run.
		if a, err := filepath.Abs(d); err == nil {
			d = a
		}
		sum.MergedFrom[i] = CleanText(redact.String(d), limitRunInfo, singleLine)
	}
	comp, warning := mergeCompleteness(dirs, sums)
	if warning != "" {
		sum.Warnings = append(sum.Warnings, CleanText(redact.String(warning), limitRunInfo, singleLine))
	}
	sum.Completeness = comp
	sum.ExitCode = completenessExitCode(sum.ExitCode, comp)

	seen := map[string]int{} // confUUID -> first shard
	flagged := map[string]bool{}
	var dups []string
	src := func(yield func(Row, int64) error) error {
		var key int64
		for si, d := range dirs {
			started := false
			var lastSeq int
			var dupOf int // shard index + 1 of the earlier report; 0 = not a duplicate
			err := ReadManifestStrict(filepath.Join(d, ManifestCSV), func(r Row) error {
				if !started || r.Seq != lastSeq {
					started, lastSeq = true, r.Seq
					key++
					dupOf = 0
					if r.Status != InvalidInput && r.Status != DuplicateInput && r.ConfUUID != "" {
						if first, ok := seen[r.ConfUUID]; ok && first != si {
							dupOf = first + 1
							if !flagged[r.ConfUUID] {
								flagged[r.ConfUUID] = true
								dups = append(dups, r.ConfUUID)
							}
						} else if !ok {
							seen[r.ConfUUID] = si
						}
					}
				}
				if dupOf > 0 && r.Status != InvalidInput && r.Status != DuplicateInput {
					msg := fmt.Sprintf("confUUID also in shard %d (%s), counted there; status here: %s",
						dupOf, dirs[dupOf-1], r.Status)
					if r.ErrorCode != "" || r.ErrorMessage != "" {
						msg += fmt.Sprintf(" (%s: %s)", r.ErrorCode, r.ErrorMessage)
					}
					r.Status, r.ErrorCode, r.ErrorMessage, r.Hint = DuplicateInput, MergeDuplicate, msg, mergeDuplicateHint
				}
				return yield(r, key)
			})
			if errors.Is(err, ErrBadCell) {
				return fmt.Errorf("shard %d (%s) refused, nothing merged: %w", si+1, d, err)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	sum, err = writeReports(out, sum, src, func(s *Summary) { s.DuplicateConferences = dups }, false)
	if err != nil {
		return sum, fmt.Errorf("report: merge: %w", err)
	}
	return sum, nil
}

// samePath reports whether a and b name the same directory: equal once
// made absolute and clean with symbolic links resolved (as far as they
// exist), or the same file on disk.
func samePath(a, b string) bool {
	if ResolvePath(a) == ResolvePath(b) {
		return true
	}
	ai, err := os.Stat(a)
	if err != nil {
		return false
	}
	bi, err := os.Stat(b)
	return err == nil && os.SameFile(ai, bi)
}

// mergeInfo combines the shards' run information.
func mergeInfo(sums []Summary) Summary {
	var m Summary
	pick := func(get func(*Summary) string) string {
		var vals []string
		for i := range sums {
			if v := get(&sums[i]); v != "" && !slices.Contains(vals, v) {
				vals = append(vals, v)
			}
		}
		return strings.Join(vals, " | ")
	}
	ids := make([]string, len(sums))
	for i := range sums {
		ids[i] = sums[i].RunID
	}
	m.RunID = strings.Join(ids, "+")
	m.Version = pick(func(s *Summary) string { return s.Version })
	m.Input = pick(func(s *Summary) string { return s.Input })
	m.InputSHA256 = pick(func(s *Summary) string { return s.InputSHA256 })
	m.DateRange = pick(func(s *Summary) string { return s.DateRange })
	m.Dest = pick(func(s *Summary) string { return s.Dest })
	m.Operator = pick(func(s *Summary) string { return s.Operator })
	for i := range sums {
		if l := sums[i].Ledger; l != nil {
			m.ShardLedgers = append(m.ShardLedgers, ShardLedger{RunID: sums[i].RunID, LedgerInfo: *l})
		}
	}
	m.TimeZone = pick(func(s *Summary) string { return s.TimeZone })
	m.Fatal = pick(func(s *Summary) string { return s.Fatal })
	keys := map[string]bool{}
	for i := range sums {
		for k := range sums[i].Options {
			keys[k] = true
		}
	}
	m.Options = map[string]string{}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		m.Options[k] = pick(func(s *Summary) string { return s.Options[k] })
	}
	for i, s := range sums {
		if i == 0 || (!s.Started.IsZero() && (m.Started.IsZero() || s.Started.Before(m.Started))) {
			m.Started = s.Started
		}
		if s.Finished.After(m.Finished) {
			m.Finished = s.Finished
		}
		m.ExitCode = max(m.ExitCode, s.ExitCode)
		m.Rebuilt = m.Rebuilt || s.Rebuilt
		m.Warnings = append(m.Warnings, s.Warnings...)
	}
	m.Started, m.Finished = m.Started.UTC(), m.Finished.UTC()
	return m
}
