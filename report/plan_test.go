package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// planOf returns n planned items, Seq 0..n-1, input lines 2..n+1.
func planOf(n int) []PlanItem {
	items := make([]PlanItem, n)
	for i := range items {
		items[i] = PlanItem{Seq: i, ConfUUID: uuid(i), Line: i + 2}
	}
	return items
}

// archivedRow is the one row of conference seq, archived.
func archivedRow(seq int) Row {
	return Row{Seq: seq, ConfUUID: uuid(seq), Status: Archived, FileType: "Hd", FileName: "0_0.mp4",
		ObjectURI: "/a/" + uuid(seq), Bytes: 10, SHA256: strings.Repeat("a", 64), FinishedAt: t0}
}

// readFailures returns failures.csv's confUUID column.
func readFailures(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, FailuresCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs[1:] {
		ids = append(ids, r[0])
	}
	return ids
}

// TestRebuildAccountsForThePlan: a killed run planned 8 conferences and
// finished 2 (seq 1 and 5): the rebuilt report has all 8, the other 6
// cancelled with errorCode interrupted and a hint, all 6 in failures.csv.
func TestRebuildAccountsForThePlan(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Plan(slices.Values(planOf(8))); err != nil {
		t.Fatal(err)
	}
	if err := w.AddAll(archivedRow(5)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddAll(archivedRow(1)); err != nil {
		t.Fatal(err)
	}
	if got := w.Pending(); got != 6 {
		t.Errorf("Pending = %d, want 6", got)
	}
	w.f.Close() // killed: no Close

	sum, err := Rebuild(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Conferences != 8 || sum.Counts[Cancelled] != 6 || sum.Counts[Archived] != 2 {
		t.Errorf("conferences %d, cancelled %d, archived %d; want 8, 6, 2",
			sum.Conferences, sum.Counts[Cancelled], sum.Counts[Archived])
	}
	if sum.ExitCode != ExitInterrupted {
		t.Errorf("ExitCode = %d, want 130", sum.ExitCode)
	}
	rows := readAll(t, dir)
	if len(rows) != 8 {
		t.Fatalf("manifest has %d rows, want 8", len(rows))
	}
	for i, r := range rows {
		if r.Seq != i || r.ConfUUID != uuid(i) {
			t.Errorf("row %d: seq %d confUUID %s, want seq %d confUUID %s (input order)", i, r.Seq, r.ConfUUID, i, uuid(i))
		}
		finished := i == 1 || i == 5
		switch {
		case finished && r.Status != Archived:
			t.Errorf("row %d: status %s, want archived", i, r.Status)
		case !finished && (r.Status != Cancelled || r.ErrorCode != CodeInterrupted || r.Hint == "" ||
			!strings.Contains(r.ErrorMessage, fmt.Sprintf("(input line %d)", i+2))):
			t.Errorf("row %d = %+v, want cancelled, interrupted, a hint and its input line", i, r)
		}
	}
	var want []string
	for _, i := range []int{0, 2, 3, 4, 6, 7} {
		want = append(want, uuid(i))
	}
	if got := readFailures(t, dir); !slices.Equal(got, want) {
		t.Errorf("failures.csv = %v, want %v", got, want)
	}
}

// TestClosePlannedWithoutRow: Close reports a planned item that never got
// a row as cancelled (no-result) and raises exit code 0 to 1.
func TestClosePlannedWithoutRow(t *testing.T) {
	tests := []struct {
		name     string
		rows     []int
		exitCode int
		want     int
	}{
		{"all reported", []int{0, 1, 2}, ExitOK, ExitOK},
		{"one missing", []int{0, 2}, ExitOK, ExitFailures},
		{"one missing, interrupted", []int{0, 2}, ExitInterrupted, ExitInterrupted},
		{"rows in another order", []int{2, 1, 0}, ExitOK, ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewWriter(dir, testInfo())
			if err != nil {
				t.Fatal(err)
			}
			w.KeepJournal() // for the Rebuild below
			if err := w.AddPlan(planOf(3)...); err != nil {
				t.Fatal(err)
			}
			for _, seq := range tt.rows {
				if err := w.Add(archivedRow(seq)); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := w.Close(tt.exitCode)
			if err != nil {
				t.Fatal(err)
			}
			if sum.ExitCode != tt.want {
				t.Errorf("ExitCode = %d, want %d", sum.ExitCode, tt.want)
			}
			missing := 3 - len(tt.rows)
			if sum.Conferences != 3 || sum.Counts[Cancelled] != missing {
				t.Errorf("conferences %d, cancelled %d; want 3, %d", sum.Conferences, sum.Counts[Cancelled], missing)
			}
			for _, r := range readAll(t, dir) {
				if r.Status == Cancelled && r.ErrorCode != CodeNoResult {
					t.Errorf("cancelled row %d has errorCode %q, want %q", r.Seq, r.ErrorCode, CodeNoResult)
				}
			}
			// Rebuild of a closed journal gives the same CSV files.
			before, _ := os.ReadFile(filepath.Join(dir, ManifestCSV))
			if _, err := Rebuild(dir); err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, ManifestCSV))
			if string(before) != string(after) {
				t.Error("Rebuild of a closed journal gives another manifest.csv")
			}
		})
	}
}

// TestPlanRowsInterleaved: rows before, between and after plan batches, and
// rows of unplanned Seqs, all come out once, in input order.
func TestPlanRowsInterleaved(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	plan := planOf(10)
	steps := []func() error{
		func() error { return w.Add(archivedRow(3)) },
		func() error { return w.AddPlan(plan[:4]...) },
		func() error { return w.Add(archivedRow(12)) }, // not planned
		func() error { return w.AddAll(archivedRow(0), archivedRow(7)) },
		func() error { return w.AddPlan(plan[4:]...) },
		func() error { return w.Add(archivedRow(9)) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if got := w.Pending(); got != 6 {
		t.Errorf("Pending = %d, want 6", got)
	}
	w.f.Close()
	sum, err := Rebuild(dir)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int
	var cancelled []int
	for _, r := range readAll(t, dir) {
		seqs = append(seqs, r.Seq)
		if r.Status == Cancelled {
			cancelled = append(cancelled, r.Seq)
		}
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12}; !slices.Equal(seqs, want) {
		t.Errorf("seqs = %v, want %v", seqs, want)
	}
	if want := []int{1, 2, 4, 5, 6, 8}; !slices.Equal(cancelled, want) {
		t.Errorf("cancelled = %v, want %v", cancelled, want)
	}
	if sum.Conferences != 11 {
		t.Errorf("Conferences = %d, want 11", sum.Conferences)
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name  string
		items []PlanItem
	}{
		{"out of order", []PlanItem{{Seq: 2}, {Seq: 1}}},
		{"repeated", []PlanItem{{Seq: 1}, {Seq: 1}}},
		{"negative", []PlanItem{{Seq: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(t.TempDir(), testInfo())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close(ExitOK)
			if err := w.AddPlan(tt.items...); err == nil {
				t.Error("AddPlan: no error")
			}
			if w.Pending() != 0 {
				t.Errorf("Pending = %d after a refused plan, want 0", w.Pending())
			}
		})
	}
	t.Run("after an earlier batch", func(t *testing.T) {
		w, err := NewWriter(t.TempDir(), testInfo())
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close(ExitOK)
		if err := w.AddPlan(PlanItem{Seq: 5}); err != nil {
			t.Fatal(err)
		}
		if err := w.AddPlan(PlanItem{Seq: 5}); err == nil {
			t.Error("AddPlan of an already planned seq: no error")
		}
	})
	t.Run("journal out of order", func(t *testing.T) {
		dir := t.TempDir()
		content := `{"header":{"format":1,"run":{"runId":"x"}}}` + "\n" +
			`{"plan":{"seq":2}}` + "\n" + `{"plan":{"seq":1}}` + "\n"
		if err := os.WriteFile(filepath.Join(dir, Journal), []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		if _, err := Rebuild(dir); err == nil {
			t.Error("Rebuild of a plan out of order: no error")
		}
	})
}

// TestPlanMemoryFlat: planning a million items keeps memory flat (one bit
// per item stays), whatever the journal's size.
func TestPlanMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("a million items")
	}
	const n = 1_000_000
	dir := t.TempDir()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		_ = w.f.Close()
		_ = w.unlock()
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err = w.Plan(func(yield func(PlanItem) bool) {
		for i := range n {
			if !yield(PlanItem{Seq: i, ConfUUID: uuid(i), Line: i + 2}) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	st, err := os.Stat(filepath.Join(dir, Journal))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan of %d items: journal %d MB, heap grew %d KB", n, st.Size()>>20, grew>>10)
	if grew > 2<<20 {
		t.Errorf("heap grew %d KB for %d planned items, want under 2 MB", grew>>10, n)
	}
	if w.Pending() != n {
		t.Errorf("Pending = %d, want %d", w.Pending(), n)
	}
}

// TestPlanRecordFormats: a killed run's plan is read back from the compact
// records written now and from the format-1 records of older journals,
// with confUUIDs that need JSON escaping.
func TestPlanRecordFormats(t *testing.T) {
	ids := []string{"1027c4d1c386bbc4cd613e30d8f16adf", `quote " and \ backslash`, CleanText("tab\tnewline\nnul\x00", limitShort, singleLine), "日本語", ""}
	var compact, old strings.Builder
	for i, id := range ids {
		compact.Write(appendPlanRecord(nil, PlanItem{Seq: i, Line: i + 2, ConfUUID: id}))
		b, err := json.Marshal(record{Plan: &PlanItem{Seq: i, Line: i + 2, ConfUUID: id}})
		if err != nil {
			t.Fatal(err)
		}
		old.Write(append(b, '\n'))
	}
	for _, tc := range []struct {
		name, header, plan string
	}{
		{"compact", `{"header":{"format":2,"run":{"runId":"x"}}}`, compact.String()},
		{"format 1", `{"header":{"format":1,"run":{"runId":"x"}}}`, old.String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, Journal), []byte(tc.header+"\n"+tc.plan), 0o666); err != nil {
				t.Fatal(err)
			}
			if _, err := Rebuild(dir); err != nil {
				t.Fatal(err)
			}
			var got []Row
			if err := ReadManifest(filepath.Join(dir, ManifestCSV), func(r Row) error { got = append(got, r); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(ids) {
				t.Fatalf("%d rows, want %d", len(got), len(ids))
			}
			for i, r := range got {
				if want := ids[i]; r.Seq != i || r.ConfUUID != want || r.Status != Cancelled || r.ErrorCode != CodeInterrupted {
					t.Errorf("row %d = seq %d %q %s %s, want seq %d %q cancelled %s", i, r.Seq, r.ConfUUID, r.Status, r.ErrorCode, i, want, CodeInterrupted)
				}
				if want := fmt.Sprintf("(input line %d)", i+2); !strings.Contains(r.ErrorMessage, want) {
					t.Errorf("row %d message %q lacks %q", i, r.ErrorMessage, want)
				}
			}
		})
	}
}

func TestFastPlan(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       PlanItem
		ok         bool
	}{
		{"plain", `{"p":[3,5,"1027c4d1c386bbc4cd613e30d8f16adf"]}` + "\n", PlanItem{Seq: 3, Line: 5, ConfUUID: "1027c4d1c386bbc4cd613e30d8f16adf"}, true},
		{"escaped", `{"p":[0,0,"a\"b\\c"]}` + "\n", PlanItem{ConfUUID: `a"b\c`}, true},
		{"no newline", `{"p":[1,2,""]}`, PlanItem{Seq: 1, Line: 2}, true},
		{"spaces", `{"p":[1, 2, ""]}`, PlanItem{}, false},
		{"format 1", `{"plan":{"seq":1}}`, PlanItem{}, false},
		{"float", `{"p":[1.5,2,""]}`, PlanItem{}, false},
		{"extra element", `{"p":[1,2,"",4]}`, PlanItem{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fastPlan([]byte(tc.line))
			if ok != tc.ok || ok && got != tc.want {
				t.Errorf("fastPlan = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
