package pipeline

import (
	"context"
	"log/slog"
	"path/filepath"

	"meetarchive/report"
)

// DeliverConfig is what a front end asks of a run once it has ended:
// metrics and a notification. pipeline imports neither package that does
// them (metrics, notify: ARCHITECTURE.md), so the front end hands them in.
type DeliverConfig struct {
	Out string // the run's --out, where its summary.json is
	// Metrics writes and pushes the run's metrics (a joined error: one
	// per failed target); nil when none were asked. It is called with a
	// context that a signal does not cancel.
	Metrics func(ctx context.Context, res RunResult) error
	// Notify posts the run's notification, sum being this run's summary
	// (nil when it wrote none), and returns the warning to add to
	// summary.json when it was not delivered, "" when it was; nil when
	// no notification was asked.
	Notify func(ctx context.Context, log *slog.Logger, code int, err error, sum *report.Summary) (warning string)
	// NotifyAlways notifies whatever the exit code; else only when it is
	// not 0 (--notify-on failure).
	NotifyAlways bool
}

// Delivered is the run's summary.json as Deliver left it, for the front
// end's closing lines.
type Delivered struct {
	Summary report.Summary // with the warnings Deliver added
	Written bool           // this run wrote it (one left in --out by an earlier run is not this run's)
}

// Deliver is the step after a run (Run's result res, its error err and
// the exit code the front end gives err): it writes and pushes the
// metrics when the run finished (also after a signal: they say how the
// run ended), then notifies when asked for this exit code. Neither ever
// changes the run's outcome: a failure is a warning in log and in this
// run's summary.json, which Deliver reads once, keeps and returns.
func Deliver(ctx context.Context, log *slog.Logger, cfg DeliverConfig, res RunResult, code int, err error) Delivered {
	var d Delivered
	if res.RunID != "" {
		sum, rerr := report.ReadSummary(filepath.Join(cfg.Out, report.SummaryJSON))
		d.Summary, d.Written = sum, rerr == nil && sum.RunID == res.RunID
		if !d.Written {
			d.Summary = report.Summary{}
		}
	}
	if res.Finished && cfg.Metrics != nil {
		if merr := cfg.Metrics(context.WithoutCancel(ctx), res); merr != nil {
			var warnings []string
			for _, e := range unjoin(merr) {
				log.Warn("metrics not written; the run's outcome stands", "err", e)
				warnings = append(warnings, e.Error())
			}
			d.addWarnings(log, cfg.Out, "the metrics warnings could not be added to summary.json", warnings...)
		}
	}
	if cfg.Notify != nil && (cfg.NotifyAlways || code != report.ExitOK) {
		var sum *report.Summary
		if d.Written {
			s := d.Summary
			sum = &s
		}
		if w := cfg.Notify(ctx, log, code, err, sum); w != "" {
			d.addWarnings(log, cfg.Out, "the warning could not be added to summary.json", w)
		}
	}
	return d
}

// addWarnings adds warnings to the summary and to its summary.json, when
// the run wrote one; failed is the log's message when the file could not
// be written.
func (d *Delivered) addWarnings(log *slog.Logger, out, failed string, warnings ...string) {
	if !d.Written {
		return
	}
	if err := report.AddWarningsTo(out, &d.Summary, warnings...); err != nil {
		log.Warn(failed, "err", err)
	}
}

// unjoin splits an errors.Join error into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
