package pipeline

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// RunConfig is a validated run: everything a front end (the run command,
// the demo, a future service) parsed and checked, used as is.
type RunConfig struct {
	Input     string            // CSV of conference UUIDs; StdinInput reads Stdin; "" for a date range
	Stdin     io.Reader         // read when Input is StdinInput
	List      *export.ListQuery // the date range when there is no Input (set by SinceLast otherwise)
	Dest      string            // the destination as given, for the report
	Out       string            // the report's directory, locked for the run
	Shard     Shard
	Keys      *archive.KeyTemplate
	Job       Options
	Options   map[string]string // the options the report shows
	SinceLast *SinceLast        // --since-last, else nil
	Version   string            // the tool's version, for the report
	APIBase   string            // the Meeting API's base URL, for the message of a failed authentication
	TimeZone  string            // --time-zone: the report's startTimeLocal zone (report.RunInfo.TimeZone); "" none
	// Now is the clock the reconciliation measures the history's
	// retention on (nil: time.Now).
	Now func() time.Time
	// SetGC lowers the garbage collector's target to archive.GCPercent for
	// the run (not when the user set GOGC).
	SetGC bool
	// Signals ends the run: the first one stops it (no new conference;
	// every phase before the pool gives up), a second one or Grace after
	// the first cancels the conferences in flight. nil: no signals.
	Signals <-chan os.Signal
	Grace   time.Duration
	// Open builds the API client and opens the destination, checked before
	// any download: the front end builds the pieces, the run says when. It
	// runs once --out is locked, under the first signal's context.
	Open func(ctx context.Context, log *slog.Logger) (*export.Client, archive.Store, error)

	// Ledger is the run's custody ledger (NewRunLedger on Out; nil keeps
	// none): Open gives its Observe to the API client (export.Config.Observer),
	// the run writes the rest. SignKey signs it when the run ends; Operator
	// and Commit are in its run-start line (Operator also in the report).
	Ledger   *RunLedger
	SignKey  ed25519.PrivateKey
	Operator string
	Commit   string
}

// RunHooks are how a run shows itself: its logger, and the front end's
// display. Every field but Log may be nil.
type RunHooks struct {
	Log *slog.Logger
	// Events logs the per-file and per-conference events and the "run
	// finished" record (a terminal's status line counts them, so they may
	// go at debug there); nil is Log.
	Events *slog.Logger
	// Progress starts the display of total conferences once the report's
	// plan counted them.
	Progress func(total int) RunProgress
	// Reported is called once the report is written and its summary
	// logged: the front end prints its paths.
	Reported func(report.Summary)
}

// RunProgress is a run's display: the pipeline's counters, each
// conference's rows as the report gets them, and Close when the pool is
// done (before the report is written).
type RunProgress interface {
	Progress
	CountRows(rows []report.Row)
	Close()
}

// RunResult is what a run leaves for the outputs that follow it (metrics,
// notification, closing summary).
type RunResult struct {
	RunID    string // the report's run ID once the report was started, else ""
	Finished bool   // the report was closed (or its writing failed): the run has an outcome to tell
	Summary  report.Summary
	Calls    export.CallStats // the API client's calls, when it was built
}

// Errors of a run, by the exit code a front end gives them.
var (
	ErrItemsFailed = errors.New("some items failed; see the report")           // exit 1
	ErrInterrupted = errors.New("interrupted; the report lists what was done") // exit 130
)

// FailedError is an outcome of exit code 1 (errors.Is ErrItemsFailed)
// that says in its own words what failed and where that is listed, for a
// job without a report (verify, bag).
type FailedError struct{ Msg string }

func (e *FailedError) Error() string        { return e.Msg }
func (e *FailedError) Is(target error) bool { return target == ErrItemsFailed }

// Failedf is a FailedError.
func Failedf(format string, a ...any) error { return &FailedError{Msg: fmt.Sprintf(format, a...)} }

// UsageError is a bad flag, value or configuration: nothing was done (exit 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef is a UsageError.
func Usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// FileError is a file named by a flag that cannot be used: a usage error
// that names the command, the flag and the path, then why ("verify:
// --sums /x/sha256sums.txt: no such file or directory").
func FileError(cmd, flagName, path string, err error) error {
	return Usagef("%s: --%s %s: %s", cmd, flagName, path, PathReason(err, path))
}

// PathReason is err's text without its path said twice: the system error
// alone when err is a *fs.PathError on path (the caller names the path),
// else err's whole text.
func PathReason(err error, path string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Err.Error()
	}
	return err.Error()
}

// FatalError stops the run after the report was written as far as it got (exit 3).
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// Run runs the archive job of a validated configuration: lock --out, set
// aside what a killed run left there, build the pieces (cfg.Open), take
// the --since-last state, load the items, write the plan, run the pool,
// write the report and the next state. Its error is the run's outcome
// (ErrItemsFailed, ErrInterrupted, *UsageError, *FatalError or nil).
func Run(ctx context.Context, cfg RunConfig, hooks RunHooks) (RunResult, error) {
	if hooks.Events == nil {
		hooks.Events = hooks.Log
	}
	if cfg.Options == nil {
		cfg.Options = map[string]string{}
	}
	r := &run{cfg: cfg, hooks: hooks, log: hooks.Log, started: time.Now().UTC()}
	err := r.job(ctx)
	return r.res, err
}

// run is one Run in progress.
type run struct {
	cfg     RunConfig
	hooks   RunHooks
	log     *slog.Logger
	started time.Time
	res     RunResult
	store   archive.Store // once opened: where the ledger is stored at the end
	listed  *Listed       // the date range's list, once listed (reconciled after the pool)
}

func (r *run) job(ctx context.Context) error {
	if r.cfg.SetGC {
		defer debug.SetGCPercent(debug.SetGCPercent(archive.GCPercent))
	}
	// --out is ours alone for the whole run (a second process exits 2).
	unlock, err := report.LockDir(r.cfg.Out)
	if err != nil {
		return Usagef("run: --out %s: %v", r.cfg.Out, err)
	}
	defer unlock()
	if err := r.setAside(); err != nil {
		return err
	}
	// From here on a signal ends every phase: stop is done at the first
	// one (opening the destination, authenticating, listing and reading
	// the input give up at once; no conference starts), work after the
	// grace or at a second one (conferences in flight are cancelled).
	stop, work, release := signalContexts(ctx, r.cfg.Signals, r.cfg.Grace, r.log)
	defer release()
	client, store, err := r.cfg.Open(stop, r.log)
	if err != nil {
		if stop.Err() != nil {
			return r.stoppedEarly()
		}
		return err
	}
	defer store.Close()
	r.store = store
	inc, err := r.startSinceLast(stop, store)
	if err != nil {
		if stop.Err() != nil {
			return r.stoppedEarly()
		}
		return err
	}
	defer inc.Close()

	items, known, fatal := r.loadItems(stop, client, inc)
	// items is never nil: with a fatal error, its items are reported too.
	defer func() { _ = items.Close() }()
	w, total, err := r.startReport(stop, items)
	if err != nil {
		return err
	}
	res, prog := r.pool(stop, work, poolInput{client: client, store: store, inc: inc, items: items, known: known, fatal: fatal, w: w, total: total})
	release()
	prog.Close()
	res = r.writeSinceLast(ctx, inc, w, res)
	_, err = r.finishReport(w, res)
	r.res.Calls = client.CallStats()
	return err
}

// setAside moves aside a journal left in --out: a run's that never wrote
// its report is kept, with its report rebuilt beside it, never overwritten.
func (r *run) setAside() error {
	prev, err := report.SetAside(r.cfg.Out)
	if err != nil {
		return Usagef("run: --out %s: %v", r.cfg.Out, err)
	}
	if prev.Err != nil {
		r.log.Warn("an earlier run in --out never wrote its report (killed?): its journal was moved aside, but its report could not be rebuilt",
			"dir", prev.Dir, "err", prev.Err, "hint", "meetarchive report --from-journal "+prev.Dir)
	} else if prev.Dir != "" {
		r.log.Warn("an earlier run in --out never wrote its report (killed?): its journal was moved aside and its report rebuilt there",
			"dir", prev.Dir, "run", prev.Summary.RunID, "exit", prev.Summary.ExitCode)
	}
	return nil
}

// poolInput is what the pool of a run is given.
type poolInput struct {
	client *export.Client
	store  archive.Store
	inc    *Incremental
	items  *Source
	known  map[string]export.Recording
	fatal  error
	w      *report.Writer
	total  int
}

// pool runs the conferences (or, after a fatal error, reports every item
// abandoned) with the display running; the caller closes the display.
func (r *run) pool(stop, work context.Context, in poolInput) (Result, RunProgress) {
	var prog RunProgress = noRunProgress{}
	if r.hooks.Progress != nil {
		prog = r.hooks.Progress(in.total)
	}
	for _, rec := range in.known { // a date range knows every size up front
		prog.Estimate(int64(rec.RcdSize) << 20)
	}
	var res Result
	if in.fatal != nil {
		r.log.Error("fatal", "err", in.fatal)
		res = Result{Fatal: in.fatal, WriteErr: errors.Join(in.w.SetFatal(in.fatal.Error()), Abandon(in.items.Items(), in.fatal, in.w))}
	} else {
		job := &Job{API: in.client, Store: in.store, Keys: r.cfg.Keys, Options: r.cfg.Job, Log: r.hooks.Events, Progress: prog, Known: in.known, Custody: r.cfg.custody()}
		var rows RowWriter = in.w
		if in.inc != nil {
			rows = in.inc.Rows(in.w) // notes outcomes for the next state
		}
		outcomes := NewOutcomes()
		res = job.Run(stop, work, in.items.Items(), rowCounter{RowWriter: outcomes.Rows(rows), p: prog})
		if err := in.items.Err(); err != nil && res.Fatal == nil {
			res.Fatal = fmt.Errorf("reading --input: %w", err)
		}
		if res.Fatal != nil {
			res.WriteErr = errors.Join(res.WriteErr, in.w.SetFatal(res.Fatal.Error()))
		}
		r.reconcile(stop, in, outcomes, &res)
	}
	return res, prog
}

// noRunProgress is the display of a run without one.
type noRunProgress struct{ NoProgress }

func (noRunProgress) CountRows([]report.Row) {}
func (noRunProgress) Close()                 {}

// rowCounter passes a conference's rows on to the report and counts them
// for the display (files, failures) on the way.
type rowCounter struct {
	RowWriter
	p RunProgress
}

func (c rowCounter) AddAll(rows ...report.Row) error {
	c.p.CountRows(rows)
	return c.RowWriter.AddAll(rows...)
}

// startSinceLast takes the run's hold on its --since-last state and sets the
// window to list (nil without --since-last). Another run holding the state
// is a usage error (exit 2): nothing was done.
func (r *run) startSinceLast(ctx context.Context, store archive.Store) (*Incremental, error) {
	if r.cfg.SinceLast == nil {
		return nil, nil
	}
	inc, err := StartIncremental(ctx, store, *r.cfg.SinceLast, r.cfg.Shard)
	if err != nil {
		return nil, Usagef("run: --since-last: %v", err)
	}
	q := inc.Query()
	r.cfg.List = &q
	r.cfg.Options["sinceLastWindow"] = q.From.Format(time.RFC3339) + ".." + q.To.Format(time.RFC3339)
	r.cfg.Options["sinceLastState"] = inc.StateURI()
	prev := inc.Previous()
	if inc.Found() && !r.cfg.SinceLast.From.IsZero() {
		r.log.Info("since last: a state was found, so --from is not used (it starts the first run only)")
	}
	r.log.Info("since last", "state", inc.StateURI(), "found", inc.Found(), "previousRun", prev.RunID,
		"from", q.From.Format(time.RFC3339), "to", q.To.Format(time.RFC3339), "carriedOver", len(prev.Carry))
	return inc, nil
}

// writeSinceLast writes the next --since-last state before the run's end
// is recorded (the ledger's run-end line, the report), so that a state
// that cannot be written is the run's fatal error in all of them and in
// its exit code (3). The state moves only when the window was listed
// completely and the run was neither interrupted nor fatal and its journal
// was written. A list whose pages held fewer recordings than it declared
// (a finding that leaves recordings unaccounted for without naming them,
// so none can be carried over) keeps the state where it was: the next run
// lists the window again.
func (r *run) writeSinceLast(ctx context.Context, inc *Incremental, w *report.Writer, res Result) Result {
	if inc == nil {
		return res
	}
	advance := res.Fatal == nil && !res.Interrupted && res.WriteErr == nil
	if n := w.UnnamedGaps(); advance && n > 0 {
		advance = false
		r.log.Warn("since last: the recording list held fewer recordings than it declared; the next run lists this window again", "unseen", n)
	}
	st, err := inc.Finish(context.WithoutCancel(ctx), w.RunID(), advance)
	switch {
	case err != nil:
		r.log.Error("since last: state not written", "err", err)
		res.Fatal = fmt.Errorf("writing the --since-last state: %w", err)
		res.WriteErr = errors.Join(res.WriteErr, w.SetFatal(res.Fatal.Error()))
	case st.RunID != "":
		r.log.Info("since last: state written", "state", inc.StateURI(), "windowEnd", st.WindowEnd.Format(time.RFC3339),
			"carriedOver", len(st.Carry), "expired", inc.Expired())
	default:
		r.log.Warn("since last: state left as it was; the next run starts from the same place", "state", inc.StateURI())
	}
	return res
}

// stoppedEarly ends a run that a signal stopped before it had read its
// input (while it opened the destination or took the --since-last state):
// nothing was done, and its report, without a line, says it was
// interrupted (exit 130).
func (r *run) stoppedEarly() error {
	r.log.Warn("interrupted before the input was read")
	w, _, err := r.startReport(context.Background(), SliceSource(nil))
	if err != nil {
		return err
	}
	_, err = r.finishReport(w, Result{Interrupted: true})
	return err
}

// finishReport writes the report files, logs the summary, calls the
// Reported hook and turns the outcome into the run's error (and so its
// exit code).
func (r *run) finishReport(w *report.Writer, res Result) (report.Summary, error) {
	r.res.Finished = true
	r.endLedger(w, res)
	code := report.ExitCode(w.Counts(), res.Interrupted, res.Fatal != nil)
	sum, err := w.Close(code)
	r.res.Summary = sum
	if err != nil {
		return sum, &FatalError{Err: fmt.Errorf("writing the report: %w", err)}
	}
	code = sum.ExitCode // a planned line without a row makes it 1
	if res.WriteErr != nil {
		return sum, &FatalError{Err: fmt.Errorf("writing the report journal: %w", res.WriteErr)}
	}
	logSummary(r.hooks.Events, sum)
	if r.hooks.Reported != nil {
		r.hooks.Reported(sum)
	}
	switch code {
	case report.ExitInterrupted:
		return sum, ErrInterrupted
	case report.ExitFatal:
		return sum, &FatalError{Err: res.Fatal}
	case report.ExitFailures:
		if report.FailedByCompletenessOnly(&sum) { // no item failed
			return sum, Failedf("the window is not complete; see the report: %s", failureCounts(sum))
		}
		return sum, fmt.Errorf("%w: %s", ErrItemsFailed, failureCounts(sum))
	}
	return sum, nil
}

// signalContexts turns signals into the pipeline's two contexts: stop (no new
// conferences) on the first signal; work (cancel in-flight) after grace or on
// a second signal.
func signalContexts(parent context.Context, sigs <-chan os.Signal, grace time.Duration, log *slog.Logger) (stop, work context.Context, release func()) {
	stop, stopFn := context.WithCancel(parent)
	work, workFn := context.WithCancelCause(parent)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		select {
		case <-done:
			return
		case s, ok := <-sigs:
			if !ok {
				return
			}
			log.Warn("signal received: no new conferences; in-flight ones may finish", "signal", s.String(), "grace", grace.String())
			stopFn()
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			log.Warn("grace period over: cancelling conferences in flight")
			workFn(errors.New("grace period over after a signal"))
		case s := <-sigs:
			log.Warn("second signal: cancelling conferences in flight now", "signal", s.String())
			workFn(errors.New("second signal"))
		}
	}()
	return stop, work, func() { once.Do(func() { close(done); stopFn(); workFn(nil) }) }
}

// failureCounts says how many conferences ended in each status that makes
// the exit code 1, and where the report is: "1 failed, 2 invalid-input of
// 10 conferences".
func failureCounts(s report.Summary) string {
	var parts []string
	for _, st := range report.Statuses() {
		if n := s.Counts[st]; n > 0 && st.Failure() {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	msg := strings.Join(parts, ", ") + " of " + report.Plural(s.Conferences, "conference")
	if c := s.Completeness; c != nil && c.Gaps() > 0 {
		msg = completenessFailure(c, len(parts) > 0, msg)
	}
	return msg
}

func logSummary(log *slog.Logger, s report.Summary) {
	args := []any{"run", s.RunID, "exit", s.ExitCode, "conferences", s.Conferences, "files", s.Files,
		"bytes", s.BytesArchived, "duration", time.Duration(s.DurationSecs * float64(time.Second)).Round(time.Millisecond).String()}
	for _, st := range report.Statuses() {
		if n := s.Counts[st]; n > 0 {
			args = append(args, string(st), n)
		}
	}
	if s.EstimatedBytes > 0 {
		args = append(args, "estimated_bytes", s.EstimatedBytes, "estimated", report.HumanBytes(s.EstimatedBytes))
	}
	if s.Verdict.Text != "" {
		args = append(args, "verdict", s.Verdict.Text)
	}
	log.Info("run finished", args...)
}

func newRunID(t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
