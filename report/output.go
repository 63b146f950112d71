package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"meetarchive/redact"
)

// rowSource calls yield for every row in output order. conf identifies the
// row's conference: it changes exactly when a new conference begins.
type rowSource func(yield func(r Row, conf int64) error) error

// tempFile is a report file being written under a temporary name in its
// final directory.
type tempFile struct {
	f     *os.File
	final string
	bw    *bufio.Writer
}

func newTempFile(dir, name string) (*tempFile, error) {
	f, err := createTemp(dir, name)
	if err != nil {
		return nil, err
	}
	return &tempFile{f: f, final: filepath.Join(dir, name), bw: bufio.NewWriterSize(f, 64<<10)}, nil
}

// finish flushes, syncs and closes the file (under its temporary name).
func (t *tempFile) finish() error {
	if err := t.bw.Flush(); err != nil {
		return err
	}
	if err := t.f.Sync(); err != nil {
		return err
	}
	return t.f.Close()
}

func (t *tempFile) abort() {
	_ = t.f.Close()
	_ = os.Remove(t.f.Name())
}

// conference folds a conference's rows: the status it is counted under and
// what failures.csv says about it.
type conference struct {
	key      int64
	status   Status
	failure  Row // first row a rerun should retry
	hasRetry bool
	attempts int
	cause    Row // the row that best tells why it ended so (betterCause)
}

// reportWriter writes the four report files in one pass over the rows.
type reportWriter struct {
	dir       string
	manifest  *tempFile
	failures  *tempFile
	xlsxFile  *tempFile
	mcsv      *csv.Writer
	fcsv      *csv.Writer
	book      *book
	rec       []string
	sum       Summary
	cur       conference
	started   bool
	failedIDs *idSet      // confUUIDs already in failures.csv
	extra     *extraFiles // sha256sums.txt, summary.html
	pipe      *xlsxPipe   // rows on their way to the workbook
	sanitized bool        // the rows are sanitised already
}

// writeReports writes manifest.csv, failures.csv, manifest.xlsx and
// summary.json to dir from src. sum carries RunInfo, Finished, ExitCode and
// the Merge/Rebuild fields; the figures are computed from the rows.
// All four files are written under temporary names, fsynced, and renamed
// into place at the end (summary.json last), then the directory is fsynced;
// an error before the renames replaces none of them.
// finalize, if not nil, may amend the summary after the last row.
// sanitized says that src's rows went through sanitizeRow already (rows
// read back from a journal, which holds only sanitised rows): they are not
// sanitised a second time.
func writeReports(dir string, sum Summary, src rowSource, finalize func(*Summary), sanitized bool) (Summary, error) {
	w := &reportWriter{dir: dir, failedIDs: newIDSet(), sanitized: sanitized}
	sum.RunInfo = sanitizeInfo(sum.RunInfo)
	sum.Fatal = cleanFatal(sum.Fatal)
	sum.Counts = map[Status]int{}
	for _, st := range Statuses() {
		sum.Counts[st] = 0
	}
	w.sum = sum
	err := w.open()
	if err == nil {
		err = src(w.add)
	}
	if err == nil && finalize != nil {
		finalize(&w.sum)
	}
	if err == nil {
		err = w.close()
	}
	if err != nil {
		w.abort()
		return w.sum, err
	}
	return w.sum, nil
}

func (w *reportWriter) open() error {
	var err error
	if w.manifest, err = newTempFile(w.dir, ManifestCSV); err != nil {
		return err
	}
	if w.failures, err = newTempFile(w.dir, FailuresCSV); err != nil {
		return err
	}
	if w.xlsxFile, err = newTempFile(w.dir, ManifestXLSX); err != nil {
		return err
	}
	if w.book, err = newBook(w.dir); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	w.extra = newExtraFiles(w.dir)
	w.pipe = newXLSXPipe(w.book)
	// encoding/csv quoting (RFC 4180) with LF line ends: with UseCRLF it
	// would drop every CR inside a field, and a subject must survive intact.
	w.mcsv = csv.NewWriter(w.manifest.bw)
	w.fcsv = csv.NewWriter(w.failures.bw)
	if err := w.mcsv.Write(ManifestColumns()); err != nil {
		return err
	}
	if err := w.fcsv.Write(failuresCSVColumns); err != nil {
		return err
	}
	w.rec = make([]string, len(manifestColumns))
	return nil
}

func (w *reportWriter) add(r Row, conf int64) error {
	if !w.sanitized {
		r = sanitizeRow(r)
	}
	if r.IsEvidence() {
		return w.addEvidence(r, conf)
	}
	if !w.started || conf != w.cur.key {
		if err := w.endConference(); err != nil {
			return err
		}
		w.cur = conference{key: conf, cause: r}
		w.started = true
	} else if betterCause(&r, &w.cur.cause) {
		w.cur.cause = r
	}
	w.cur.status = worse(w.cur.status, r.Status)
	if r.Status.Retry() {
		if !w.cur.hasRetry {
			w.cur.failure, w.cur.hasRetry = r, true
		} else {
			w.cur.failure.Status = worse(w.cur.failure.Status, r.Status)
			if w.cur.failure.ErrorCode == "" && r.ErrorCode != "" {
				w.cur.failure.ErrorCode, w.cur.failure.ErrorMessage = r.ErrorCode, r.ErrorMessage
				if r.Hint != "" {
					w.cur.failure.Hint = r.Hint
				}
			}
			if w.cur.failure.Hint == "" {
				w.cur.failure.Hint = r.Hint
			}
		}
		w.cur.attempts = max(w.cur.attempts, r.Attempts)
	}

	s := &w.sum
	s.Rows++
	if (r.FileName != "" || r.FileType != "") && r.Status != DuplicateInput {
		s.Files++
	}
	if r.Status == Archived || r.Status == Updated {
		s.BytesArchived += r.Bytes
	}
	s.EstimatedBytes += r.EstimatedBytes
	return w.writeRow(&r)
}

// addEvidence writes an evidence row (see FileTypeEvidence): counted in
// Summary.Evidence and Rows only, never toward its conference's status.
// Its conference's recording rows come before it.
func (w *reportWriter) addEvidence(r Row, conf int64) error {
	if w.started && conf != w.cur.key {
		if err := w.endConference(); err != nil {
			return err
		}
		w.started = false
	}
	w.sum.Rows++
	w.sum.Evidence.add(&r)
	return w.writeRow(&r)
}

// writeRow writes a (sanitised) row to manifest.csv, the workbook and the
// extra files.
func (w *reportWriter) writeRow(r *Row) error {
	if err := w.extra.add(r); err != nil {
		return err
	}

	noFile := namesNoFile(r)
	for i := range manifestColumns {
		c := &manifestColumns[i]
		if v := c.get(r); c.isBlank(v, noFile) {
			w.rec[i] = ""
		} else {
			w.rec[i] = csvText(v)
		}
	}
	if err := w.mcsv.Write(w.rec); err != nil {
		return fmt.Errorf("%s: %w", ManifestCSV, err)
	}
	if err := w.pipe.add(r, !r.IsEvidence() && listedInFailures(r.Status)); err != nil {
		return fmt.Errorf("xlsx: %w", w.pipe.wait())
	}
	return nil
}

// endConference counts the conference in progress and writes its
// failures.csv row, once per confUUID.
func (w *reportWriter) endConference() error {
	if !w.started {
		return nil
	}
	w.sum.Conferences++
	w.sum.Counts[w.cur.status]++
	w.extra.att.add(&w.cur.cause, w.cur.status)
	if !w.cur.hasRetry || !w.failedIDs.add(w.cur.failure.ConfUUID) {
		return nil
	}
	f := w.cur.failure
	f.Attempts = w.cur.attempts
	attempts := "" // as in manifest.csv: 0 (not attempted) is empty
	if f.Attempts != 0 {
		attempts = strconv.Itoa(f.Attempts)
	}
	rec := []string{f.ConfUUID, f.ConfID, f.Subject, string(f.Status), f.ErrorCode, f.ErrorMessage, attempts, Hint(f)}
	for i := range rec {
		rec[i] = Neutralize(rec[i])
	}
	if err := w.fcsv.Write(rec); err != nil {
		return fmt.Errorf("%s: %w", FailuresCSV, err)
	}
	return nil
}

func (w *reportWriter) close() error {
	if err := w.endConference(); err != nil {
		return err
	}
	s := &w.sum
	s.Started = s.Started.UTC()
	s.Finished = s.Finished.UTC()
	if !s.Started.IsZero() && s.Finished.After(s.Started) {
		s.DurationSecs = math.Round(s.Finished.Sub(s.Started).Seconds()*1000) / 1000
	}
	if s.DurationSecs > 0 {
		s.ThroughputBytesPerSec = math.Round(float64(s.BytesArchived)/s.DurationSecs*1000) / 1000
	}
	s.ExitStatus = ExitCodeName(s.ExitCode)
	s.PlatformTimes = PlatformTimesUTC
	s.Verdict = Judge(Findings{Counts: s.Counts, ExitCode: s.ExitCode, Fatal: s.Fatal, Completeness: s.Completeness, SinceLast: s.Options[OptionSinceLast] != ""})
	if s.MergedFrom == nil {
		s.MergedFrom = []string{}
	}
	if s.Evidence.Gaps == nil {
		s.Evidence.Gaps = map[string]int{}
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if s.DuplicateConferences == nil {
		s.DuplicateConferences = []string{}
	}
	if s.Options == nil {
		s.Options = map[string]string{}
	}

	w.mcsv.Flush()
	if err := w.mcsv.Error(); err != nil {
		return fmt.Errorf("%s: %w", ManifestCSV, err)
	}
	w.fcsv.Flush()
	if err := w.fcsv.Error(); err != nil {
		return fmt.Errorf("%s: %w", FailuresCSV, err)
	}
	if err := w.pipe.wait(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := w.extra.prepare(); err != nil {
		return err
	}
	if err := w.book.finish(s, w.extra.fig, w.xlsxFile.bw); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := w.extra.writeHTML(s, w.book); err != nil {
		return err
	}
	if err := w.extra.writeAttestation(s); err != nil {
		return err
	}
	if err := w.book.close(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	w.book = nil
	js, err := newTempFile(w.dir, SummaryJSON)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err == nil {
		_, err = js.bw.Write(append(b, '\n'))
	}
	if err != nil {
		js.abort()
		return fmt.Errorf("%s: %w", SummaryJSON, err)
	}
	parts := append(append([]*tempFile{w.manifest, w.failures, w.xlsxFile}, w.extra.parts...), js)
	for _, t := range parts {
		if err := t.finish(); err != nil {
			js.abort()
			return fmt.Errorf("%s: %w", filepath.Base(t.final), err)
		}
	}
	for i, t := range parts {
		if err := os.Rename(t.f.Name(), t.final); err != nil {
			for _, rest := range parts[i:] {
				_ = os.Remove(rest.f.Name())
			}
			return err
		}
	}
	w.manifest, w.failures, w.xlsxFile = nil, nil, nil
	w.extra.parts = nil
	return syncDir(w.dir)
}

func (w *reportWriter) abort() {
	if w.pipe != nil {
		_ = w.pipe.wait()
	}
	if w.book != nil {
		_ = w.book.close()
	}
	for _, t := range []*tempFile{w.manifest, w.failures, w.xlsxFile} {
		if t != nil {
			t.abort()
		}
	}
	if w.extra != nil {
		w.extra.abort()
	}
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems cannot sync a directory; the renames still happened.
	if errors.Is(err, os.ErrInvalid) {
		return nil
	}
	return err
}

// AddWarningsTo adds warnings (redacted, one line each) to s, the
// summary.json in dir as read or written, and rewrites that file
// atomically: a front end that keeps its run's summary in memory adds to
// both. s is changed only when the file was written, so that s and the
// file stay the same.
func AddWarningsTo(dir string, s *Summary, warnings ...string) error {
	path := filepath.Join(dir, SummaryJSON)
	n := *s
	n.Warnings = slices.Clone(s.Warnings)
	for _, w := range warnings {
		n.Warnings = append(n.Warnings, CleanText(redact.String(w), limitRunInfo, singleLine))
	}
	err := WriteFileAtomic(path, func(w io.Writer) error {
		b, err := json.MarshalIndent(n, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return fmt.Errorf("report: add warnings to %s: %w", path, err)
	}
	*s = n
	return nil
}

// ReadSummary reads a summary.json.
func ReadSummary(path string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("report: read summary: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("report: read summary %s: %w", path, err)
	}
	return s, nil
}
