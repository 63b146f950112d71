package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"meetarchive/report"
)

// TestDeliver: the step after a run writes metrics only for a finished
// run, notifies by the exit code and --notify-on, adds a failure of
// either to the log and to this run's summary.json (in memory and in the
// file alike, never to an earlier run's), and reads that file once.
func TestDeliver(t *testing.T) {
	const runID = "20260101T000000Z-abcdef"
	twoFailed := errors.Join(errors.New("metrics file: disk full"), errors.New("metrics push: refused"))
	tests := []struct {
		name         string
		fileRun      string // run id in summary.json; "" writes none
		res          RunResult
		code         int
		metricsErr   error
		noMetrics    bool
		notifyWarn   string
		noNotify     bool
		always       bool
		wantMetrics  bool
		wantNotify   bool
		wantWritten  bool
		wantWarnings []string
		wantLog      []string
	}{
		{name: "nothing asked", fileRun: runID, res: RunResult{RunID: runID, Finished: true}, code: 1, noMetrics: true, noNotify: true, wantWritten: true},
		{name: "both fine, exit 0, notify on failure", fileRun: runID, res: RunResult{RunID: runID, Finished: true}, wantMetrics: true, wantWritten: true},
		{name: "exit 0, notify always", fileRun: runID, res: RunResult{RunID: runID, Finished: true}, always: true, wantMetrics: true, wantNotify: true, wantWritten: true},
		{name: "metrics fail twice, notify fails", fileRun: runID, res: RunResult{RunID: runID, Finished: true}, code: 1, metricsErr: twoFailed, notifyWarn: "notification not delivered: 500",
			wantMetrics: true, wantNotify: true, wantWritten: true,
			wantWarnings: []string{"metrics file: disk full", "metrics push: refused", "notification not delivered: 500"},
			wantLog:      []string{"metrics not written; the run's outcome stands"}},
		{name: "not finished: no metrics", fileRun: runID, res: RunResult{RunID: runID}, code: 3, metricsErr: twoFailed, wantNotify: true, wantWritten: true},
		{name: "an earlier run's summary", fileRun: "20250101T000000Z-000000", res: RunResult{RunID: runID, Finished: true}, code: 1, metricsErr: twoFailed, notifyWarn: "x",
			wantMetrics: true, wantNotify: true, wantLog: []string{"metrics not written"}},
		{name: "no report started", res: RunResult{}, code: 2, wantNotify: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			path := filepath.Join(out, report.SummaryJSON)
			if tt.fileRun != "" {
				var s report.Summary
				s.RunID = tt.fileRun
				s.Warnings = []string{"earlier"}
				b, _ := json.Marshal(s)
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var logBuf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logBuf, nil))
			var metricsCalled, notifyCalled bool
			var notifiedSum *report.Summary
			cfg := DeliverConfig{Out: out, NotifyAlways: tt.always}
			if !tt.noMetrics {
				cfg.Metrics = func(ctx context.Context, res RunResult) error {
					metricsCalled = true
					return tt.metricsErr
				}
			}
			if !tt.noNotify {
				cfg.Notify = func(ctx context.Context, log *slog.Logger, code int, err error, sum *report.Summary) string {
					notifyCalled, notifiedSum = true, sum
					if code != tt.code {
						t.Errorf("notified code %d, want %d", code, tt.code)
					}
					return tt.notifyWarn
				}
			}
			d := Deliver(context.Background(), log, cfg, tt.res, tt.code, nil)
			if metricsCalled != tt.wantMetrics || notifyCalled != tt.wantNotify {
				t.Errorf("metrics called %v, notify called %v; want %v, %v", metricsCalled, notifyCalled, tt.wantMetrics, tt.wantNotify)
			}
			if d.Written != tt.wantWritten {
				t.Fatalf("Written %v, want %v", d.Written, tt.wantWritten)
			}
			if notifyCalled && (notifiedSum != nil) != tt.wantWritten {
				t.Errorf("notified with summary %v, want %v", notifiedSum != nil, tt.wantWritten)
			}
			if tt.wantWritten && tt.notifyWarn != "" && notifiedSum != nil && len(notifiedSum.Warnings) != 1+len(unjoin(tt.metricsErr)) {
				t.Errorf("the notification's summary has warnings %q, want the metrics' too", notifiedSum.Warnings)
			}
			if tt.fileRun != "" {
				file, err := report.ReadSummary(path)
				if err != nil {
					t.Fatal(err)
				}
				want := append([]string{"earlier"}, tt.wantWarnings...)
				if !slices.Equal(file.Warnings, want) {
					t.Errorf("summary.json warnings %q, want %q", file.Warnings, want)
				}
				if tt.wantWritten && !slices.Equal(d.Summary.Warnings, want) {
					t.Errorf("returned summary's warnings %q, want %q (as the file)", d.Summary.Warnings, want)
				}
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logBuf.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logBuf.String())
				}
			}
		})
	}
}
