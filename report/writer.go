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
	zone *time.Location // RunInfo.TimeZone; nil: no startTimeLocal

	mu     sync.Mutex
	f      *os.File   // the journal, append-only
	off    int64      // journal size
	idx    entryList  // one per row, in journal order
	confs  confStatus // seq -> index in stats of the conference's status so far
	stats  []Status   // the statuses seen, by index
	counts map[Status]int
	err    error // sticky journal write error
	closed bool

	plan    planSpan // the plan records in the journal
	planned bitset   // the planned Seqs
	pending int      // planned Seqs without a row yet
	fatal   string   // SetFatal's message (cleaned)
	unlock  func() error
	keep    bool   // KeepJournal: Close leaves the journal in place
	buf     []byte // journal lines being encoded, reused
	prev    Previous
	ledger  *LedgerInfo // SetLedger: the summary's ledger

	completeness *Completeness // SetCompleteness; nil: none
}

// lineBuf returns the reusable line buffer, empty. The caller holds w.mu.
func (w *Writer) lineBuf() []byte { return w.buf[:0] }

// keepBuf keeps buf for the next lineBuf unless it grew past 1 MiB.
func (w *Writer) keepBuf(buf []byte) {
	if cap(buf) <= 1<<20 {
		w.buf = buf[:0]
	}
}

// KeepJournal makes Close leave the journal in the directory after the
// report files are written (by default Close removes it then: the report
// files hold everything it held). Call it before Close.
func (w *Writer) KeepJournal() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.keep = true
}

// NewWriter creates dir (and parents) and starts the journal, dir/journal.jsonl,
// with a header record carrying info (redacted and cleaned). info.Started
// defaults to now. A journal already in dir is an earlier run's that never
// wrote its report (it was killed): NewWriter first moves it into a
// directory of its own, dir/previous-<its start time>/, and rebuilds its
// report there (Previous says where, and whether the rebuild failed). No
// journal is ever overwritten or dropped. A journal or lock file that is a
// symbolic link is refused (ErrLink).
//
// dir must not be in use by another run: the caller locks it first (see
// LockDir). If this process does not hold dir's lock, NewWriter takes it
// until Close, and fails with a *LockedError (errors.Is ErrLocked) when
// another process holds it, before touching the journal.
//
// Directories are created with mode 0777 and files with 0666, both as the
// umask allows; nothing is chmod-ed.
func NewWriter(dir string, info RunInfo) (w *Writer, err error) {
	w = &Writer{dir: dir, now: func() time.Time { return time.Now().UTC() },
		counts: map[Status]int{}}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("report: create %s: %w", dir, err)
	}
	unlock, err := lockUnlessHeld(dir)
	if err != nil {
		return nil, err
	}
	w.unlock = unlock
	defer func() {
		if err != nil {
			_ = unlock()
		}
	}()
	info = sanitizeInfo(info)
	if info.Started.IsZero() {
		info.Started = w.now()
	}
	info.Started = info.Started.UTC()
	w.info = info
	if info.TimeZone != "" {
		if w.zone, err = LoadZone(info.TimeZone); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}

	path := filepath.Join(dir, Journal)
	if w.prev, err = SetAside(dir); err != nil {
		return nil, err
	}
	// O_EXCL: never a journal that exists, nor through a symbolic link.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o666)
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

// Previous is the journal of an earlier run NewWriter found in the
// directory and set aside with its report; its Dir is "" when there was
// none.
func (w *Writer) Previous() Previous { return w.prev }

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

// write appends buf (whole lines) with one write call, cutting a short
// write back off. A failed write is sticky. The caller holds w.mu.
func (w *Writer) write(buf []byte) error {
	n, err := w.f.Write(buf)
	if err != nil {
		if n > 0 {
			_ = w.f.Truncate(w.off)
		}
		w.err = fmt.Errorf("report: journal: %w", err)
		return w.err
	}
	w.off += int64(n)
	return nil
}

// SetFatal records the message of the error that stops the run (redacted,
// cleaned, at most 4,096 bytes): it goes to the journal at once and to
// Summary.Fatal (summary.json, the Summary sheet) once, so the rows the
// error left unstarted can carry a short code instead of repeating it. The
// first message stands; later calls do nothing.
func (w *Writer) SetFatal(message string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("report: fatal: writer closed")
	}
	if w.fatal != "" || message == "" {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	w.fatal = cleanFatal(message)
	line, err := json.Marshal(record{Fatal: w.fatal})
	if err != nil {
		return fmt.Errorf("report: fatal: %w", err)
	}
	return w.write(append(line, '\n'))
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
	buf := w.lineBuf()
	defer func() { w.keepBuf(buf) }()
	entries := make([]entry, 0, len(rows))
	statuses := make([]Status, 0, len(rows))
	for i := range rows {
		r := sanitizeRow(rows[i])
		if w.zone != nil {
			r.StartTimeLocal = LocalStartTime(r.StartTime, w.zone)
		}
		statuses = append(statuses, r.Status)
		start := len(buf)
		var err error
		if buf, err = appendRowLine(buf, &r); err != nil {
			return fmt.Errorf("report: add: %w", err)
		}
		e, err := newEntry(&r, w.off+int64(start), len(buf)-start-1)
		if err != nil {
			return fmt.Errorf("report: add: %w", err)
		}
		entries = append(entries, e)
	}
	if err := w.write(buf); err != nil {
		return err
	}
	for i, e := range entries {
		w.idx.add(e)
		if rows[i].IsEvidence() {
			continue // not its conference's status (FileTypeEvidence)
		}
		oldID, seen := w.confs.get(e.seq)
		var old Status
		if seen {
			old = w.stats[oldID]
		} else if w.planned.has(int(e.seq)) {
			w.pending--
		}
		st := worse(old, statuses[i])
		if !seen || st != old {
			if seen {
				w.counts[old]--
			}
			w.counts[st]++
			w.confs.set(e.seq, w.statusID(st))
		}
	}
	return nil
}

// statusID returns st's index in w.stats, adding it if new. Past 255
// distinct statuses (never, in practice) the last one stands for the rest in
// Counts; the reports count from the journal and are exact.
func (w *Writer) statusID(st Status) uint8 {
	for i, s := range w.stats {
		if s == st {
			return uint8(i)
		}
	}
	if len(w.stats) == 255 {
		return 254
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
// back from the journal one at a time). Once every report file is in place
// (and the directory fsynced), Close removes the journal, unless
// KeepJournal was called: the reports then hold all it held. If anything
// fails, the journal stays, for Rebuild. Close after Close is an error.
//
// A planned item (see Plan) without a row is reported as cancelled
// (errorCode "no-result"), and an exit code of 0 then becomes 1: the
// returned Summary.ExitCode is the code the process should exit with.
// Close releases the lock NewWriter took, if it took one.
func (w *Writer) Close(exitCode int) (sum Summary, err error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return Summary{}, errors.New("report: close: writer closed")
	}
	w.closed = true
	defer func() {
		if uerr := w.unlock(); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	exitCode = w.finalExitCode(exitCode)
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
	idx, plan, keep := w.idx.flatten(), w.plan, w.keep
	w.confs, w.planned = confStatus{}, nil
	w.mu.Unlock() // Counts stays available while the reports are written

	journal := filepath.Join(w.dir, Journal)
	sum, err = writeFromJournal(w.dir, journal, idx, plan, CodeNoResult,
		Summary{RunInfo: w.info, Finished: finished, ExitCode: exitCode, Fatal: w.fatal, Ledger: w.ledger, Completeness: w.completeness})
	if err != nil {
		return sum, errors.Join(jerr, fmt.Errorf("report: close: %w", err))
	}
	if jerr == nil && !keep {
		if err := os.Remove(journal); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return sum, fmt.Errorf("report: close: remove the journal: %w", err)
		}
	}
	return sum, jerr
}

// writeFromJournal writes the reports of the rows idx locates in the
// journal and of the planned items (plan) that have no row: those as
// plannedRow(item, code).
func writeFromJournal(dir, journal string, idx []entry, plan planSpan, code string, sum Summary) (Summary, error) {
	sortEntries(idx)
	f, err := os.Open(journal)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	jr := newJournalReader(f)
	ps := newPlanScanner(f, plan)
	return writeReports(dir, sum, func(yield func(Row, int64) error) error {
		next, planned, err := ps.next()
		if err != nil {
			return err
		}
		for i := 0; i < len(idx) || planned; {
			if planned && (i == len(idx) || next.Seq < int(idx[i].seq)) {
				if err := yield(plannedRow(next, code), int64(next.Seq)); err != nil {
					return err
				}
				if next, planned, err = ps.next(); err != nil {
					return err
				}
				continue
			}
			e := idx[i]
			if planned && next.Seq == int(e.seq) { // the item has rows
				if next, planned, err = ps.next(); err != nil {
					return err
				}
			}
			r, err := jr.row(e)
			if err != nil {
				return err
			}
			if err := yield(r, int64(e.seq)); err != nil {
				return err
			}
			i++
		}
		return nil
	}, nil, true)
}

// Rebuild writes the four report files of dir from its journal: what a run
// that was killed (or crashed) had finished, and, when the run wrote its
// plan (see Writer.Plan), every other planned item as cancelled with
// errorCode "interrupted" and a hint to rerun, so that every input line is
// accounted for (and in failures.csv). The last line of the journal
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
//
// Rebuild must not run while the run is still writing the journal: it
// takes dir's lock (unless this process holds it) and fails with a
// *LockedError when another process holds it.
func Rebuild(dir string) (sum Summary, err error) {
	if _, err := os.Stat(dir); err != nil {
		return Summary{}, fmt.Errorf("report: rebuild: %w", err)
	}
	unlock, err := lockUnlessHeld(dir)
	if err != nil {
		return Summary{}, err
	}
	defer func() {
		if uerr := unlock(); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	path := filepath.Join(dir, Journal)
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return Summary{}, fmt.Errorf("report: rebuild: %w", &linkError{path: path})
	}
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
	sum = Summary{RunInfo: sj.header.Run, Rebuilt: true, ExitCode: ExitInterrupted, Finished: sj.lastDone, Fatal: sj.fatal}
	code := CodeInterrupted
	if sj.end != nil {
		sum.ExitCode, sum.Finished = sj.end.ExitCode, sj.end.Finished
		code = CodeNoResult
	}
	if sum.Finished.IsZero() {
		sum.Finished = mtime
	}
	sum, err = writeFromJournal(dir, path, sj.idx.flatten(), sj.plan, code, sum)
	if err != nil {
		return sum, fmt.Errorf("report: rebuild: %w", err)
	}
	return sum, nil
}
