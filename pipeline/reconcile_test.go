package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// fakeReconcileAPI serves a recording list and a meeting history.
type fakeReconcileAPI struct {
	recs       []export.Recording
	listCount  int // declared count; -1: len(recs)
	meetings   []export.Meeting
	histCount  int // -1: len(meetings)
	histErr    error
	listCalls  int
	histCalls  int
	listFailed error
}

func (f *fakeReconcileAPI) ListPaged(_ context.Context, _ export.ListQuery, fn func(export.Recording) error) (export.Listing, error) {
	f.listCalls++
	if f.listFailed != nil {
		return export.Listing{Count: -1}, f.listFailed
	}
	count := f.listCount
	if count < 0 {
		count = len(f.recs)
	}
	for _, r := range f.recs {
		if err := fn(r); err != nil {
			return export.Listing{}, err
		}
	}
	return export.Listing{Count: count, Distinct: len(f.recs), Pages: []export.Page{{Rows: len(f.recs)}}}, nil
}

func (f *fakeReconcileAPI) History(context.Context, export.HistoryQuery) (export.HistoryList, error) {
	f.histCalls++
	if f.histErr != nil {
		return export.HistoryList{Listing: export.Listing{Count: -1}}, f.histErr
	}
	count := f.histCount
	if count < 0 {
		count = len(f.meetings)
	}
	return export.HistoryList{Listing: export.Listing{Count: count, Distinct: len(f.meetings), Pages: []export.Page{{}, {}}},
		Meetings: f.meetings}, nil
}

func recID(i int) string { return fmt.Sprintf("%032x", 0xc0ffee00+i) }

// listed is a recording of the list: ready and available unless told.
func listedRec(i int, mods ...func(*export.Recording)) export.Recording {
	r := export.Recording{ConfUUID: recID(i), Subject: fmt.Sprintf("meeting %d", i),
		StartTime: fmt.Sprintf("2025-03-%02d 10:00", 1+i%28), IsDecodeFinish: true, Available: true}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func recorded(i int) export.Meeting {
	return export.Meeting{ConfUUID: recID(i), Subject: fmt.Sprintf("meeting %d", i),
		StartTime: fmt.Sprintf("2025-03-%02d 10:00", 1+i%28), IsHasRecordFile: true}
}

// putMark writes conference i's commit mark with the start time given.
func putMark(t *testing.T, store archive.Store, i int, start string) {
	t.Helper()
	rec := listedRec(i)
	rec.StartTime = start
	sc := archive.Sidecar{ConfUUID: recID(i), ArchivedAt: time.Now().UTC(), Tool: "test", Details: redactedDetails(rec)}
	if err := archive.PutSidecar(context.Background(), store, sc); err != nil {
		t.Fatal(err)
	}
}

// aprilFirst is a clock just after march: the history keeps all of it.
func aprilFirst() time.Time { return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) }

var march = &export.ListQuery{From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), To: EndOfDay(time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC))}

// fates is the reconciliation's lines as "confUUID-index fate" for comparing.
func fatesOf(c *report.Completeness) map[string]report.Fate {
	out := map[string]report.Fate{}
	for _, l := range c.Lines {
		var i int
		if _, err := fmt.Sscanf(l.ConfUUID, "%x", &i); err == nil {
			out[fmt.Sprint(i-0xc0ffee00)] = l.Fate
		} else {
			out[l.ConfUUID] = l.Fate
		}
	}
	return out
}

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	row := func(i int, st report.Status) report.Row {
		return report.Row{ConfUUID: recID(i), Status: st, Subject: fmt.Sprintf("meeting %d", i), StartTime: "2025-03-02 10:00"}
	}
	tests := []struct {
		name   string
		api    *fakeReconcileAPI
		marks  map[int]string // conference -> start time of its commit mark
		rows   []report.Row   // this run's rows; nil: no run
		window *export.ListQuery
		want   map[string]report.Fate
		// wantFindings are the findings' codes; wantUnaccounted the
		// recordings not accounted for (lines and findings).
		wantFindings    []string
		wantUnaccounted int
		wantReported    int
	}{
		{
			name: "every fate of a run",
			api: &fakeReconcileAPI{listCount: -1, histCount: -1,
				recs: []export.Recording{listedRec(1), listedRec(2), listedRec(3), listedRec(4), listedRec(5), listedRec(6), listedRec(7), listedRec(8), listedRec(9)},
				meetings: []export.Meeting{recorded(1), recorded(2), recorded(10), recorded(11),
					{ConfUUID: recID(12), StartTime: "2025-03-05 09:00", IsHasRecordFile: false}}},
			marks: map[int]string{1: "2025-03-02 10:00", 2: "2025-03-03 10:00", 8: "2025-03-09 10:00", 11: "2025-03-12 10:00",
				13: "2025-03-14 10:00", 14: "2025-02-01 10:00", 16: "2025-03-15 10:00"},
			rows: []report.Row{row(1, report.Archived), row(2, report.AlreadyArchived), row(3, report.PendingTranscode),
				row(4, report.Unavailable), row(5, report.NoFiles), row(6, report.Failed), row(6, report.Archived),
				row(7, report.Archived), row(8, report.Failed), row(15, report.Cancelled), row(16, report.Updated),
				{ConfUUID: "junk", Status: report.InvalidInput}, {ConfUUID: recID(1), Status: report.DuplicateInput}},
			window: march,
			want: map[string]report.Fate{
				"1": report.FateArchived, "2": report.FateArchivedBefore, "3": report.FatePending,
				"4": report.FateUnavailable, "5": report.FateNoFiles, "6": report.FateFailed,
				"7": report.FateNotCommitted, "8": report.FateArchivedBefore, "9": report.FateNotArchived,
				"10": report.FateHistoryOnly, "11": report.FateNotListed, "13": report.FateNotListed,
				"15": report.FateFailed, "16": report.FateArchived,
			},
			wantUnaccounted: 5,  // 6, 7, 9, 10, 15
			wantReported:    11, // 1..9 listed, 10 and 11 in history
		},
		{
			name: "the reconcile command: no run",
			api: &fakeReconcileAPI{listCount: -1, histCount: -1,
				recs: []export.Recording{listedRec(1), listedRec(2, func(r *export.Recording) { r.IsDecodeFinish = false }),
					listedRec(3, func(r *export.Recording) { r.Available = false }), listedRec(4)},
				meetings: []export.Meeting{recorded(1), recorded(5)}},
			marks:  map[int]string{1: "2025-03-02 10:00", 6: "2025-03-20 23:59", 7: "2025-04-01 00:00"},
			window: march,
			want: map[string]report.Fate{"1": report.FateArchivedBefore, "2": report.FatePending, "3": report.FateUnavailable,
				"4": report.FateNotArchived, "5": report.FateHistoryOnly, "6": report.FateNotListed},
			wantUnaccounted: 2,
			wantReported:    5,
		},
		{
			name: "a clean window",
			api: &fakeReconcileAPI{listCount: -1, histCount: -1, recs: []export.Recording{listedRec(1), listedRec(2)},
				meetings: []export.Meeting{recorded(1), recorded(2)}},
			marks:        map[int]string{1: "2025-03-02 10:00", 2: "2025-03-03 10:00"},
			window:       march,
			want:         map[string]report.Fate{"1": report.FateArchivedBefore, "2": report.FateArchivedBefore},
			wantReported: 2,
		},
		{
			name: "a list whose pages hold fewer than its count",
			api: &fakeReconcileAPI{listCount: 4, histCount: -1, recs: []export.Recording{listedRec(1), listedRec(2)},
				meetings: []export.Meeting{recorded(1), recorded(2)}},
			marks:           map[int]string{1: "2025-03-02 10:00", 2: "2025-03-03 10:00"},
			window:          march,
			want:            map[string]report.Fate{"1": report.FateArchivedBefore, "2": report.FateArchivedBefore},
			wantFindings:    []string{report.FindingListShort},
			wantUnaccounted: 2,
			wantReported:    4,
		},
		{
			name: "a list whose pages hold more than its count, a history short of its",
			api: &fakeReconcileAPI{listCount: 1, histCount: 3, recs: []export.Recording{listedRec(1), listedRec(2)},
				meetings: []export.Meeting{recorded(1), recorded(2)}},
			marks:  map[int]string{1: "2025-03-02 10:00", 2: "2025-03-03 10:00"},
			window: march,
			want:   map[string]report.Fate{"1": report.FateArchivedBefore, "2": report.FateArchivedBefore},
			// The history's count includes meetings without recordings:
			// short of it weakens the second source, loses nothing.
			wantFindings: []string{report.FindingListOver, report.FindingHistoryShort},
			wantReported: 2,
		},
		{
			name: "a history with more meetings than its count",
			api: &fakeReconcileAPI{listCount: -1, histCount: 1, recs: []export.Recording{listedRec(1)},
				meetings: []export.Meeting{recorded(1), {ConfUUID: recID(2), IsHasRecordFile: false}}},
			marks:        map[int]string{1: "2025-03-02 10:00"},
			window:       march,
			want:         map[string]report.Fate{"1": report.FateArchivedBefore},
			wantFindings: []string{report.FindingHistoryOver},
			wantReported: 1,
		},
		{
			name: "a history refused",
			api: &fakeReconcileAPI{listCount: -1, recs: []export.Recording{listedRec(1)},
				histErr: fmt.Errorf("history: %w", export.ErrNotPermitted)},
			marks:        map[int]string{1: "2025-03-02 10:00"},
			window:       march,
			want:         map[string]report.Fate{"1": report.FateArchivedBefore},
			wantFindings: []string{report.FindingHistoryUnread},
			wantReported: 1,
		},
		{
			name:  "no window: the destination and the input",
			api:   &fakeReconcileAPI{},
			marks: map[int]string{1: "2025-03-02 10:00", 2: "2025-03-03 10:00", 9: "2025-03-04 10:00"},
			rows: []report.Row{row(1, report.Archived), row(2, report.AlreadyArchived), row(3, report.Archived),
				row(4, report.Failed)},
			want: map[string]report.Fate{"1": report.FateArchived, "2": report.FateArchivedBefore,
				"3": report.FateNotCommitted, "4": report.FateFailed},
			wantFindings:    []string{report.FindingNoWindow},
			wantUnaccounted: 2,
			wantReported:    4,
		},
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
			r := Reconciliation{Window: tt.window, Now: aprilFirst}
			if tt.rows != nil {
				r.Outcomes = NewOutcomes()
				w := r.Outcomes.Rows(discardRows{})
				for _, row := range tt.rows {
					if err := w.AddAll(row); err != nil {
						t.Fatal(err)
					}
				}
			}
			c, err := Reconcile(ctx, tt.api, store, r)
			if err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			c.Tally()
			t.Logf("sentence: %s", c.Sentence)
			got := fatesOf(c)
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("conference %s: fate %q, want %q", k, got[k], want)
				}
			}
			for k, fate := range got {
				if _, ok := tt.want[k]; !ok {
					t.Errorf("conference %s has a line (%s) and should have none", k, fate)
				}
			}
			var codes []string
			for _, f := range c.Findings {
				codes = append(codes, f.Code)
			}
			if strings.Join(codes, ",") != strings.Join(tt.wantFindings, ",") {
				t.Errorf("findings %v, want %v", codes, tt.wantFindings)
			}
			if n := c.UnaccountedCount(); n != tt.wantUnaccounted {
				t.Errorf("unaccounted %d, want %d (%s)", n, tt.wantUnaccounted, c.Sentence)
			}
			if c.Reported != tt.wantReported {
				t.Errorf("reported %d, want %d", c.Reported, tt.wantReported)
			}
			if c.Complete() != (tt.wantUnaccounted == 0) {
				t.Errorf("complete = %v with %d unaccounted", c.Complete(), tt.wantUnaccounted)
			}
			for _, l := range c.Lines {
				if l.Hint == "" {
					t.Errorf("line %s (%s) has no hint", l.ConfUUID, l.Fate)
				}
			}
			if tt.window != nil && tt.api.histCalls != 1 {
				t.Errorf("history called %d times, want 1", tt.api.histCalls)
			}
			if tt.window == nil && tt.api.listCalls+tt.api.histCalls != 0 {
				t.Errorf("without a window the platform was asked (%d list, %d history calls)", tt.api.listCalls, tt.api.histCalls)
			}
		})
	}
}

// discardRows is a RowWriter that keeps nothing.
type discardRows struct{}

func (discardRows) AddAll(...report.Row) error { return nil }

func TestReconcileUsesTheRunsList(t *testing.T) {
	store, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	api := &fakeReconcileAPI{listCount: -1, histCount: -1, recs: []export.Recording{listedRec(1)}, meetings: []export.Meeting{recorded(1)}}
	items, l, err := DiscoverListed(context.Background(), api, *march)
	if err != nil || len(items) != 1 {
		t.Fatalf("DiscoverListed: %d items, %v", len(items), err)
	}
	c, err := Reconcile(context.Background(), api, store, Reconciliation{Window: march, Listed: l})
	if err != nil {
		t.Fatal(err)
	}
	if api.listCalls != 1 {
		t.Errorf("the list was paged %d times, want 1 (the run's)", api.listCalls)
	}
	if got := fatesOf(c)["1"]; got != report.FateNotArchived {
		t.Errorf("fate %q, want %q", got, report.FateNotArchived)
	}
	if c.Sources[0].Calls != 1 || c.Sources[1].Calls != 2 {
		t.Errorf("calls: list %d, history %d; want 1 and 2 (the pages)", c.Sources[0].Calls, c.Sources[1].Calls)
	}
}

func TestReconcileShard(t *testing.T) {
	store, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var recs []export.Recording
	for i := range 20 {
		recs = append(recs, listedRec(i))
	}
	sh := Shard{K: 1, N: 3}
	c, err := Reconcile(context.Background(), &fakeReconcileAPI{listCount: -1, histCount: -1, recs: recs}, store,
		Reconciliation{Window: march, Shard: sh})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range recs {
		if sh.Contains(Item{ConfUUID: r.ConfUUID}) {
			want++
		}
	}
	if len(c.Lines) != want || want == 0 || want == len(recs) {
		t.Errorf("%d lines, want %d (shard %s of %d conferences)", len(c.Lines), want, sh, len(recs))
	}
}

func TestReconcileErrors(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		store, err := archive.NewDirStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		_, err = Reconcile(context.Background(), &fakeReconcileAPI{listFailed: boom}, store, Reconciliation{Window: march})
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want the list's", err)
		}
	})
	t.Run("destination", func(t *testing.T) {
		dir := t.TempDir()
		store, err := archive.NewDirStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		putMark(t, store, 1, "2025-03-02 10:00")
		if err := os.Chmod(filepath.Join(dir, archive.SidecarDir), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, archive.SidecarDir), 0o755) })
		if os.Geteuid() == 0 {
			t.Skip("root reads any directory")
		}
		_, err = Reconcile(context.Background(), &fakeReconcileAPI{listCount: -1, histCount: -1}, store, Reconciliation{Window: march})
		if err == nil {
			t.Error("err = nil, want the destination's")
		}
	})
}

func TestAfterRun(t *testing.T) {
	store, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	t.Run("a failed reconciliation is not complete", func(t *testing.T) {
		c, err := AfterRun(context.Background(), &fakeReconcileAPI{listFailed: errors.New("boom")}, store, Reconciliation{Window: march}, log)
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		c.Tally()
		if c.Complete() || len(c.Findings) != 1 || c.Findings[0].Code != report.FindingDestUnread || !strings.Contains(c.Sentence, "boom") {
			t.Errorf("completeness %+v: want not complete, saying why", c)
		}
	})
	t.Run("a signal", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c, err := AfterRun(ctx, &fakeReconcileAPI{listCount: -1, histCount: -1}, store, Reconciliation{Window: march}, log)
		if !errors.Is(err, context.Canceled) || c != nil {
			t.Errorf("AfterRun = %v, %v; want nil and the context's error", c, err)
		}
	})
	t.Run("an input run", func(t *testing.T) {
		o := NewOutcomes()
		o.Note(report.Row{ConfUUID: recID(1), Status: report.Archived})
		putMark(t, store, 1, "2025-03-02 10:00")
		api := &fakeReconcileAPI{}
		c, err := AfterRun(context.Background(), api, store, Reconciliation{Outcomes: o}, log)
		if err != nil {
			t.Fatal(err)
		}
		c.Tally()
		if !c.Complete() || c.PlatformChecked || c.Window != "" || api.listCalls+api.histCalls != 0 {
			t.Errorf("completeness %+v (%d platform calls): want complete, no window, the platform not asked", c, api.listCalls+api.histCalls)
		}
	})
}

func TestReconcileMalformedMark(t *testing.T) {
	store, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := archive.SidecarKey(recID(7))
	if _, err := store.PutMeta(context.Background(), key, []byte("not json"), archive.Meta{}); err != nil {
		t.Fatal(err)
	}
	putMark(t, store, 1, "2025-03-02 10:00")
	c, err := Reconcile(context.Background(), &fakeReconcileAPI{listCount: -1, histCount: -1, recs: []export.Recording{listedRec(1)}}, store,
		Reconciliation{Window: march, Now: aprilFirst})
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	c.Tally()
	if codes := findingCodes(c); len(codes) != 1 || codes[0] != report.FindingDestUnparsed {
		t.Errorf("findings %v, want %s", codes, report.FindingDestUnparsed)
	}
	if !c.Complete() || len(c.Lines) != 1 {
		t.Errorf("%d lines, complete %v: want the listed one, complete", len(c.Lines), c.Complete())
	}
}

func findingCodes(c *report.Completeness) []string {
	var out []string
	for _, f := range c.Findings {
		out = append(out, f.Code)
	}
	return out
}

func TestOweCarriesTheGaps(t *testing.T) {
	in := &Incremental{outcomes: map[string]outcome{}, carried: map[string]Carried{}, now: time.Now().UTC()}
	in.outcomes[recID(1)] = outcome{class: classDone, status: report.Archived}
	in.order = []string{recID(1)}
	c := &report.Completeness{Lines: []report.CompletenessLine{
		{ConfUUID: recID(1), Listed: true, Status: report.Archived, Fate: report.FateArchived},
		{ConfUUID: recID(2), InHistory: true, Fate: report.FateHistoryOnly},
		{ConfUUID: recID(3), Listed: true, Fate: report.FateNotArchived},
		{ConfUUID: recID(4), Stored: true, Fate: report.FateNotListed},
		{ConfUUID: recID(5), Listed: true, Status: report.Failed, Fate: report.FateFailed},
	}}
	in.owe(c)
	(*Incremental)(nil).owe(c) // no --since-last: nothing
	got := map[string]string{}
	for _, cr := range in.NextState("run").Carry {
		got[cr.ConfUUID] = cr.ErrorCode
	}
	want := map[string]string{recID(2): string(report.FateHistoryOnly), recID(3): string(report.FateNotArchived)}
	if len(got) != len(want) || got[recID(2)] != want[recID(2)] || got[recID(3)] != want[recID(3)] {
		t.Errorf("carried %v, want %v (the gaps without a row; the failed one is carried by its row)", got, want)
	}
}
