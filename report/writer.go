package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Writer journals a run's rows as they finish and writes the report files
// when the run ends. Add is meant for one goroutine (the pipeline's report
// goroutine); Counts may be called from any goroutine.
type Writer struct {
	dir  string
	info RunInfo
	now  func() time.Time

	mu     sync.Mutex
	f      *os.File        // the journal, append-only
	off    int64           // journal size
	idx    []entry         // one per row, in journal order
	confs  map[int32]uint8 // seq -> index in statuses of the conference's status so far
	stats  []Status        // the statuses seen, by index
	counts map[Status]int
	err    error // sticky journal write error
	closed bool
}

// NewWriter creates dir (and parents) and starts the journal, dir/journal.jsonl,
// with a header record carrying info (redacted). info.Started defaults to
// now. A journal already in dir (an earlier run's) is first renamed to
// journal.prev.jsonl, replacing an older one: call Rebuild(dir) before
// NewWriter to turn it into a report first.
func NewWriter(dir string, info RunInfo) (*Writer, error) {
	w := &Writer{dir: dir, now: func() time.Time { return time.Now().UTC() },
		confs: map[int32]uint8{}, counts: map[Status]int{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: create %s: %w", dir, err)
	}
	info = redactInfo(info)
	if info.Started.IsZero() {
		info.Started = w.now()
	}
	info.Started = info.Started.UTC()
	w.info = info

	path := filepath.Join(dir, Journal)
	if _, err := os.Stat(path); err == nil {
		if err := os.Rename(path, filepath.Join(dir, PrevJournal)); err != nil {
			return nil, fmt.Errorf("report: keep previous journal: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("report: journal: %w", err)
	}
	w.f = f
	if err := w.append(record{Header: &journalHeader{Format: journalFormat, Run: info}}); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("report: journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("report: journal: %w", err)
	}
	return w, nil
}

// Dir returns the report directory.
func (w *Writer) Dir() string { return w.dir }

// append writes rec as one line with one write call. A short write is cut
// back off the journal, so the journal only ever holds whole lines (apart
// from a line torn by a killed process, which Rebuild ignores).
func (w *Writer) append(rec record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	n, err := w.f.Write(line)
	if err != nil {
		if n > 0 {
			_ = w.f.Truncate(w.off)
		}
		return err
	}
	w.off += int64(n)
	return nil
}

// Add redacts r and appends it to the journal (one line, one write call;
// not fsynced: a killed process loses nothing that Add returned for). Rows
// may come in any order; the reports are written in input order.
// After a journal write error every later Add returns that error.
func (w *Writer) Add(r Row) error { return w.AddAll(r) }

// AddAll adds rows as Add does, with a single write call for all of them
// (a conference's rows together: a kill then tears at most the last line).
func (w *Writer) AddAll(rows ...Row) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("report: add: writer closed")
	}
	if w.err != nil {
		return w.err
	}
	var buf []byte
	entries := make([]entry, 0, len(rows))
	statuses := make([]Status, 0, len(rows))
	for i := range rows {
		r := redactRow(rows[i])
		statuses = append(statuses, r.Status)
		line, err := json.Marshal(record{Row: &r})
		if err != nil {
			return fmt.Errorf("report: add: %w", err)
		}
		e, err := newEntry(&r, w.off+int64(len(buf)), len(line))
		if err != nil {
			return fmt.Errorf("report: add: %w", err)
		}
		entries = append(entries, e)
		buf = append(append(buf, line...), '\n')
	}
	n, err := w.f.Write(buf)
	if err != nil {
		if n > 0 {
			_ = w.f.Truncate(w.off)
		}
		w.err = fmt.Errorf("report: journal: %w", err)
		return w.err
	}
	w.off += int64(n)
	w.idx = append(w.idx, entries...)
	for i, e := range entries {
		oldID, seen := w.confs[e.seq]
		var old Status
		if seen {
			old = w.stats[oldID]
		}
		st := worse(old, statuses[i])
		if !seen || st != old {
			if seen {
				w.counts[old]--
			}
			w.counts[st]++
			w.confs[e.seq] = w.statusID(st)
		}
	}
	return nil
}

// statusID returns st's index in w.stats, adding it if new. Past 256
// distinct statuses (never, in practice) the last one stands for the rest in
// Counts; the reports count from the journal and are exact.
func (w *Writer) statusID(st Status) uint8 {
	for i, s := range w.stats {
		if s == st {
			return uint8(i)
		}
	}
	if len(w.stats) == 256 {
		return 255
	}
	w.stats = append(w.stats, st)
	return uint8(len(w.stats) - 1)
}

// Counts returns how many conferences (distinct Seq) have each status so
// far, counted as Summary.Counts counts them. Every known status is present.
func (w *Writer) Counts() map[Status]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := make(map[Status]int, len(w.counts)+len(Statuses()))
	for _, st := range Statuses() {
		c[st] = 0
	}
	for st, n := range w.counts {
		if n != 0 {
			c[st] = n
		}
	}
	return c
}

// Close ends the journal with the exit code and writes manifest.csv,
// failures.csv, manifest.xlsx and summary.json in input order (rows read
// back from the journal one at a time). The journal stays in the directory.
// Close after Close is an error.
func (w *Writer) Close(exitCode int) (Summary, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return Summary{}, errors.New("report: close: writer closed")
	}
	w.closed = true
	finished := w.now().UTC()
	jerr := w.err
	if jerr == nil {
		if err := w.append(record{End: &journalEnd{ExitCode: exitCode, Finished: finished}}); err != nil {
			jerr = fmt.Errorf("report: journal: %w", err)
		}
	}
	if err := w.f.Sync(); err != nil && jerr == nil {
		jerr = fmt.Errorf("report: journal: %w", err)
	}
	if err := w.f.Close(); err != nil && jerr == nil {
		jerr = fmt.Errorf("report: journal: %w", err)
	}
	idx := w.idx
	w.idx, w.confs = nil, nil
	w.mu.Unlock() // Counts stays available while the reports are written

	sum, err := writeFromJournal(w.dir, filepath.Join(w.dir, Journal), idx,
		Summary{RunInfo: w.info, Finished: finished, ExitCode: exitCode})
	if err != nil {
		return sum, errors.Join(jerr, fmt.Errorf("report: close: %w", err))
	}
	return sum, jerr
}

// writeFromJournal writes the reports of the rows idx locates in the journal.
func writeFromJournal(dir, journal string, idx []entry, sum Summary) (Summary, error) {
	sortEntries(idx)
	f, err := os.Open(journal)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	jr := newJournalReader(f)
	return writeReports(dir, sum, func(yield func(Row, int64) error) error {
		for _, e := range idx {
			r, err := jr.row(e)
			if err != nil {
				return err
			}
			if err := yield(r, int64(e.seq)); err != nil {
				return err
			}
		}
		return nil
	}, nil)
}

// Rebuild writes the four report files of dir from its journal: what a run
// that was killed (or crashed) had finished. The last line of the journal
// may be torn (a write cut short by the kill): it is ignored. Any other line
// that is not a whole record is an error.
//
// The exit code is the one Close recorded in the journal, or 130
// (interrupted) when the run never reached Close; Finished is then the
// latest FinishedAt of any row (or the journal's modification time).
// Summary.Rebuilt is true.
//
// A conference appears with the rows that reached the journal. The pipeline
// adds a conference's rows together when the conference is finished, so a
// kill can cut a conference short only between two of its rows: it then
// appears with fewer file rows than it has (never with rows it did not
// finish), and a rerun finds it archived through its sidecar.
func Rebuild(dir string) (Summary, error) {
	path := filepath.Join(dir, Journal)
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("report: rebuild: %w", err)
	}
	sj, err := scanJournal(f)
	var mtime time.Time
	if st, serr := f.Stat(); serr == nil {
		mtime = st.ModTime()
	}
	_ = f.Close()
	if err != nil {
		return Summary{}, fmt.Errorf("report: rebuild: %s: %w", path, err)
	}
	sum := Summary{RunInfo: sj.header.Run, Rebuilt: true, ExitCode: ExitInterrupted, Finished: sj.lastDone}
	if sj.end != nil {
		sum.ExitCode, sum.Finished = sj.end.ExitCode, sj.end.Finished
	}
	if sum.Finished.IsZero() {
		sum.Finished = mtime
	}
	sum, err = writeFromJournal(dir, path, sj.idx, sum)
	if err != nil {
		return sum, fmt.Errorf("report: rebuild: %w", err)
	}
	return sum, nil
}
