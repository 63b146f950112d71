package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// TestReconcileHistoryFindings: a window older than the history keeps is
// said (history-retention, naming the part checked against the list
// only), and a history short of its count is a finding about the second
// source that leaves nothing unaccounted for.
func TestReconcileHistoryFindings(t *testing.T) {
	at := func(y int, m time.Month, d int) func() time.Time {
		return func() time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	}
	tests := []struct {
		name      string
		now       func() time.Time
		histCount int
		// wantFindings are the findings' codes; wantText a part of the
		// last finding's text.
		wantFindings []string
		wantText     string
	}{
		{name: "a window the history keeps", now: at(2025, 4, 1), histCount: -1},
		{name: "the window starts six months ago", now: at(2025, 9, 1), histCount: -1},
		{name: "a window partly older than the history keeps", now: at(2025, 9, 15), histCount: -1,
			wantFindings: []string{report.FindingHistoryRetention},
			wantText:     "the part of the window from 2025-03-01 00:00 UTC to 2025-03-15 00:00 UTC is older than the meeting history keeps"},
		{name: "a window wholly older than the history keeps", now: at(2026, 12, 7), histCount: -1,
			wantFindings: []string{report.FindingHistoryRetention},
			wantText:     "the whole window is older than the meeting history keeps (6 months by default, 12 at most): it was checked against the recording list and the destination only"},
		{name: "a history one short of its count", now: at(2025, 4, 1), histCount: 3,
			wantFindings: []string{report.FindingHistoryShort},
			wantText:     "the meeting history declared 3 meetings but its pages held 2: 1 not seen, with or without recordings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := archive.NewDirStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			putMark(t, store, 1, "2025-03-02 10:00")
			api := &fakeReconcileAPI{listCount: -1, histCount: tt.histCount, recs: []export.Recording{listedRec(1)},
				meetings: []export.Meeting{recorded(1), {ConfUUID: recID(2), IsHasRecordFile: false}}}
			c, err := Reconcile(context.Background(), api, store, Reconciliation{Window: march, Now: tt.now})
			if err != nil {
				t.Fatal(err)
			}
			c.Tally()
			if got := findingCodes(c); strings.Join(got, ",") != strings.Join(tt.wantFindings, ",") {
				t.Errorf("findings %v, want %v", got, tt.wantFindings)
			}
			if tt.wantText != "" && !strings.Contains(c.Findings[len(c.Findings)-1].Text, tt.wantText) {
				t.Errorf("finding %q, want it to say %q", c.Findings[len(c.Findings)-1].Text, tt.wantText)
			}
			if !c.Complete() || c.UnaccountedCount() != 0 || c.Reported != 1 {
				t.Errorf("complete %v, unaccounted %d, reported %d: want complete, 0, 1 (these findings lose nothing)", c.Complete(), c.UnaccountedCount(), c.Reported)
			}
			v := report.Judge(report.Findings{Counts: map[report.Status]int{}, Completeness: c})
			if want := map[bool]report.Level{true: report.LevelGreen, false: report.LevelAmber}[len(tt.wantFindings) == 0]; v.Level != want {
				t.Errorf("verdict %s (%s), want %s", v.Level, v.Text, want)
			}
		})
	}
}

// TestReconcileDestinationCalls: the destination source counts what
// reading it cost: the listing of the commit marks and each mark read.
func TestReconcileDestinationCalls(t *testing.T) {
	tests := []struct {
		name  string
		marks map[int]string
		want  int
	}{
		{"no marks: one listing", nil, 1},
		{"a mark the list names: one listing, no read", map[int]string{1: "2025-03-02 10:00"}, 1},
		{"two marks no source names: one listing, two reads", map[int]string{1: "2025-03-02 10:00", 5: "2025-03-05 10:00", 6: "2025-03-06 10:00"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := archive.NewDirStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for i, start := range tt.marks {
				putMark(t, store, i, start)
			}
			api := &fakeReconcileAPI{listCount: -1, histCount: -1, recs: []export.Recording{listedRec(1)}, meetings: []export.Meeting{recorded(1)}}
			c, err := Reconcile(context.Background(), api, store, Reconciliation{Window: march, Now: aprilFirst})
			if err != nil {
				t.Fatal(err)
			}
			d := c.Sources[len(c.Sources)-1]
			if d.Name != report.SourceDestination || d.Calls != tt.want {
				t.Errorf("destination source %+v: want %d calls", d, tt.want)
			}
		})
	}
}

// TestFailureCountsPlural: the exit-1 message says "conference" for one.
func TestFailureCountsPlural(t *testing.T) {
	tests := []struct {
		name string
		sum  report.Summary
		want string
	}{
		{"one", report.Summary{Conferences: 1, Counts: map[report.Status]int{report.Failed: 1}}, "1 failed of 1 conference"},
		{"two", report.Summary{Conferences: 2, Counts: map[report.Status]int{report.Failed: 1}}, "1 failed of 2 conferences"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := failureCounts(tt.sum); got != tt.want {
				t.Errorf("failureCounts = %q, want %q", got, tt.want)
			}
		})
	}
}
