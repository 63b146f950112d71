package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// ReconcileConfig is a validated `meetarchive reconcile`: a window to
// reconcile, without archiving anything.
type ReconcileConfig struct {
	Window   export.ListQuery // the window, and the list's AllUsers and Search (the history follows them)
	Operator string           // who reconciles, for the report
	// Options are added to the report's options (ConnectionOptions: how
	// the API and the destination were reached, which the attestation's
	// commands repeat).
	Options map[string]string
	Dest    string           // the destination as given, for the report
	Out     string           // the report's directory, locked while it is written
	Version string           // the tool's version, for the report
	APIBase string           // the Meeting API's base URL, for the message of a failed authentication
	Now     func() time.Time // the clock of the history's retention (nil: time.Now)
	// Open builds the API client and opens the destination (read only);
	// it runs once Out is locked.
	Open func(ctx context.Context, log *slog.Logger) (*export.Client, archive.Store, error)
}

// ReconcileWindow reconciles a window (Reconcile) and writes its report in
// cfg.Out: the usual report files with no Recordings rows, the
// Completeness sheet, section and summary.json object, and the verdict.
// It calls no download API (no details, download links, record info,
// media or delete): authentication, the recording list and the meeting
// history, one call a page each, and the destination's commit marks. Its
// error says the exit code as Run's does: nil complete, ErrItemsFailed a
// recording not accounted for, *UsageError, *FatalError (the report says
// why), ErrInterrupted (ctx done).
func ReconcileWindow(ctx context.Context, cfg ReconcileConfig, log *slog.Logger) (report.Summary, error) {
	started := time.Now().UTC()
	unlock, err := report.LockDir(cfg.Out)
	if err != nil {
		return report.Summary{}, Usagef("reconcile: --out %s: %v", cfg.Out, err)
	}
	defer unlock()
	client, store, err := cfg.Open(ctx, log)
	if err != nil {
		return report.Summary{}, err
	}
	defer store.Close()
	q := cfg.Window
	w, err := report.NewWriter(cfg.Out, report.RunInfo{
		RunID: newRunID(started), Version: cfg.Version, Operator: cfg.Operator, Started: started, Dest: cfg.Dest,
		DateRange: q.From.Format("2006-01-02") + ".." + q.To.Format("2006-01-02"),
		Options:   reconcileOptions(cfg),
	})
	if err != nil {
		return report.Summary{}, Usagef("reconcile: --out %s: %v", cfg.Out, err)
	}
	comp, err := reconcileWindow(ctx, cfg, client, store)
	if err != nil {
		return closeFailed(ctx, w, err, log)
	}
	w.SetCompleteness(comp)
	sum, err := w.Close(report.ExitOK)
	if err != nil {
		return sum, &FatalError{Err: fmt.Errorf("writing the report: %w", err)}
	}
	args := []any{"window", comp.Window, "reported", comp.Reported, "accounted", comp.Accounted, "unaccounted", comp.UnaccountedCount()}
	for _, s := range comp.Sources {
		args = append(args, s.Name+" calls", s.Calls)
	}
	log.Info("reconciled", append(args, "verdict", sum.Verdict.Text)...)
	if sum.ExitCode == report.ExitFailures {
		// no run: no line has a status of its own, Gaps is UnaccountedCount
		return sum, fmt.Errorf("%w: %s", ErrItemsFailed, completenessFailure(comp, false, ""))
	}
	return sum, nil
}

// reconcileWindow authenticates and reconciles the window.
func reconcileWindow(ctx context.Context, cfg ReconcileConfig, client *export.Client, store archive.Store) (*report.Completeness, error) {
	if err := client.Authenticate(ctx); err != nil {
		return nil, APIFailure(cfg.APIBase, err)
	}
	q := cfg.Window
	return Reconcile(ctx, client, store, Reconciliation{Window: &q, Now: cfg.Now})
}

// closeFailed writes the report of a reconciliation that could not be
// made: interrupted (ctx done) or fatal, with its message.
func closeFailed(ctx context.Context, w *report.Writer, err error, log *slog.Logger) (report.Summary, error) {
	code := report.ExitFatal
	if ctx.Err() != nil {
		code = report.ExitInterrupted
	} else {
		log.Error("fatal", "err", err)
		err = errors.Join(err, w.SetFatal(err.Error()))
	}
	sum, cerr := w.Close(code)
	if cerr != nil {
		return sum, &FatalError{Err: errors.Join(err, fmt.Errorf("writing the report: %w", cerr))}
	}
	if code == report.ExitInterrupted {
		return sum, ErrInterrupted
	}
	return sum, &FatalError{Err: err}
}

// reconcileOptions are a reconciliation report's options: the command, the
// window's filters and cfg.Options.
func reconcileOptions(cfg ReconcileConfig) map[string]string {
	q := cfg.Window
	o := map[string]string{"command": "reconcile", report.OptionAllUsers: strconv.FormatBool(q.AllUsers), report.OptionSearch: q.Search}
	maps.Copy(o, cfg.Options)
	return o
}
