// Package pipeline is meetarchive's job: it joins the Meeting API client
// (export), the destination (archive) and the manifest (report). It reads the
// input items, keeps a bounded pool of conferences in flight, takes each
// conference from its details to its rows (keys, downloads with whole-file
// retries and link refresh, the sidecar as the commit mark, deletion after a
// verified archive) and hands every row to one writer goroutine.
//
// It declares the narrow interfaces it needs of the API client, the
// progress and the report (API, Progress, RowWriter); its Store is
// archive.Store, whose commit layer it calls. Run (run.go) is a whole run
// behind a small API any front end calls (the run command does, with the
// terminal as its RunHooks); the benchmark and the tests call Job.Run
// directly. ARCHITECTURE.md shows the data path of one conference.
package pipeline

import (
	"context"
	"iter"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// API is what the pipeline needs of the Meeting API client (*export.Client).
type API interface {
	Details(ctx context.Context, confUUID string) (export.Recording, error)
	Links(ctx context.Context, confUUID string) ([]export.File, error)
	OpenMediaAt(ctx context.Context, f export.File, offset int64) (*export.Media, error)
	Delete(ctx context.Context, confUUID string) error
}

// Store is the destination. The pipeline puts, stats and opens objects
// through it and hands it to archive's commit layer (archive.PutSidecar,
// archive.Archived), which needs the whole byte-level interface. When it
// declares Capabilities.UploadSlots below the concurrency, Job.Run lets no
// more conferences than that hold a media stream open: a download that
// waited for an upload slot with its stream open would sit idle on the
// media host's connection.
type Store = archive.Store

// Progress is the small counter the pipeline reports to; its methods must be
// cheap and safe for concurrent use. NoProgress does nothing.
type Progress interface {
	ConferenceDone()
	AddBytes(n int64)
	Estimate(n int64) // expected bytes of one conference (from rcdSize)
}

// NoProgress is a Progress that counts nothing.
type NoProgress struct{}

func (NoProgress) ConferenceDone() {}
func (NoProgress) AddBytes(int64)  {}
func (NoProgress) Estimate(int64)  {}

// RowWriter receives every row of the run (report.Writer). Only the run's
// writer goroutine calls it.
type RowWriter interface {
	AddAll(rows ...report.Row) error
}

// Options are the knobs that shape one run.
type Options struct {
	Concurrency int            // conferences in flight
	Force       bool           // archive again conferences that are already archived
	DryRun      bool           // details only: planned rows, nothing written to the destination
	DeleteAfter bool           // delete from the platform after a verified archive
	LockMode    string         // requested Object Lock mode, to confirm before deleting
	Tool        string         // "meetarchive <version>", for sidecars
	Retry       export.Backoff // whole-file download retries (attempts and elapsed budget)
	LinkMaxAge  time.Duration  // refresh links older than this before the next file; 0: DefaultLinkMaxAge
	// PartialFiles: the links are filtered by file type (--file-types), so
	// a conference's files are only part of what its rcdSize covers.
	PartialFiles bool
	// Evidence stores the platform's answers about every archived
	// conference beside its recordings (--evidence; see evidence.go).
	Evidence bool
	// Recheck, when set, asks the platform for the files of every
	// conference found archived (one links call each, and a details call
	// when the list did not give its details), and says why ("--recheck",
	// "--since-last"): files added since are archived (updated.go).
	// Without it only a conference whose listed details changed is asked.
	Recheck string
}

// DefaultLinkMaxAge is how old download links may get before the next file
// of a conference asks for fresh ones (they are valid for an hour).
const DefaultLinkMaxAge = 45 * time.Minute

// DefaultFileRetryBase is the first step of the whole-file retry back-off:
// a failed download waits about this long (with jitter, doubling, capped at
// export.DefaultRetryMax) before it is tried again with fresh links.
const DefaultFileRetryBase = time.Second

// Job is one run's pipeline.
type Job struct {
	API      API
	Store    Store
	Keys     *archive.KeyTemplate
	Options  Options
	Log      *slog.Logger
	Progress Progress
	// Known holds details the list API already gave (date-range runs), by
	// normalised confUUID: no second details call for them.
	Known map[string]export.Recording
	// Evidence answers the history APIs when Options.Evidence is on; nil:
	// API, when it has them (*export.Client does).
	Evidence EvidenceAPI
	// Custody hears what the custody ledger records (nil: nothing).
	Custody Custody

	// gone holds, per evidence API, the error of an answer that said this
	// deployment lacks it (asked once per run).
	gone sync.Map

	// transfers bounds the media streams open at once when Store bounds
	// its uploads (nil: no bound); set by Run.
	transfers chan struct{}
}

// Result is how a run ended, for the exit code.
type Result struct {
	Interrupted bool  // a signal stopped the run
	Fatal       error // a fatal error stopped it (authentication refused)
	WriteErr    error // the report journal could not be written
}

// Run processes items with at most Concurrency conferences in flight and
// gives every row to w from one goroutine, a conference's rows at once.
// When the Store takes fewer uploads at once than that (uploadSlots), only
// as many conferences have a media stream open; the others ask for their
// details and links meanwhile and wait for a slot before they download. A
// Job runs one Run at a time.
//
// stop is cancelled on the first signal: no new conference starts. work is
// cancelled when conferences in flight must stop (grace over, second
// signal); their rows come back cancelled. A fatal error (authentication
// refused) cancels work too.
func (j *Job) Run(stop, work context.Context, items iter.Seq[Item], w RowWriter) Result {
	work, cancelWork := context.WithCancelCause(work)
	defer cancelWork(nil)
	emit, closeWriter := j.writer(w)
	j.transfers = nil
	if n := j.Store.Capabilities().UploadSlots; n > 0 && n < max(1, j.Options.Concurrency) {
		j.transfers = make(chan struct{}, n)
	}

	var (
		mu    sync.Mutex
		fatal error
	)
	setFatal := func(err error) {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
		cancelWork(err)
	}
	getFatal := func() error {
		mu.Lock()
		defer mu.Unlock()
		return fatal
	}

	var g errgroup.Group
	g.SetLimit(max(1, j.Options.Concurrency))
	for it := range items {
		if it.Problem != "" {
			emit([]report.Row{inputProblemRow(it)})
			continue
		}
		if stop.Err() != nil || work.Err() != nil {
			emit([]report.Row{notStartedRow(it, getFatal())})
			continue
		}
		g.Go(func() error {
			if stop.Err() != nil || work.Err() != nil {
				emit([]report.Row{notStartedRow(it, getFatal())})
				return nil
			}
			rows, err := j.conference(work, it)
			if err != nil {
				setFatal(err)
			}
			emit(rows)
			return nil
		})
	}
	_ = g.Wait()
	return Result{Interrupted: stop.Err() != nil, Fatal: getFatal(), WriteErr: closeWriter()}
}

// Abandon writes a not-started row for every item, for a run that stopped
// before its first conference (fatal is why).
func Abandon(items iter.Seq[Item], fatal error, w RowWriter) error {
	batch := make([]report.Row, 0, 1024)
	for it := range items {
		row := notStartedRow(it, fatal)
		if it.Problem != "" {
			row = inputProblemRow(it)
		}
		if batch = append(batch, row); len(batch) == cap(batch) {
			if err := w.AddAll(batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return w.AddAll(batch...)
}

// writer starts the one goroutine that owns the report. emit may be called
// from any goroutine; closeWriter waits for the last row and returns the
// first write error.
func (j *Job) writer(w RowWriter) (emit func([]report.Row), closeWriter func() error) {
	ch := make(chan []report.Row, 2*max(1, j.Options.Concurrency))
	var (
		writeErr error
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for rows := range ch {
			// A conference's rows go to the journal in one write, so a kill
			// can tear at most the last line.
			if err := w.AddAll(rows...); err != nil && writeErr == nil {
				writeErr = err
				j.Log.Error("report journal write failed", "err", err)
			}
		}
	}()
	return func(rows []report.Row) { ch <- rows }, func() error {
		close(ch)
		wg.Wait()
		return writeErr
	}
}
