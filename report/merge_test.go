package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func shardRun(t *testing.T, id string, started time.Time, exit int, rows []Row) string {
	t.Helper()
	dir := t.TempDir()
	info := testInfo()
	info.RunID, info.Started, info.Shard = id, started, id
	w, err := NewWriter(dir, info)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return started.Add(time.Hour) }
	for _, r := range rows {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(exit); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMerge(t *testing.T) {
	u1, u2, u3, u4 := uuid(1), uuid(2), uuid(3), uuid(4)
	sha := strings.Repeat("5a", 32)
	a := shardRun(t, "a", t0, ExitOK, []Row{
		{Seq: 0, ConfUUID: u1, Status: Archived, FileIndex: 0, FileName: "0_0.mp4", Bytes: 100, SHA256: sha},
		{Seq: 0, ConfUUID: u1, Status: Archived, FileIndex: 1, FileName: "0_1.mp4", Bytes: 200, SHA256: sha},
		{Seq: 1, ConfUUID: u2, Status: Failed, ErrorCode: "timeout", Attempts: 5},
	})
	b := shardRun(t, "b", t0.Add(-time.Hour), ExitInterrupted, []Row{
		{Seq: 0, ConfUUID: u3, Status: Unavailable},
		{Seq: 1, ConfUUID: u1, Status: Archived, FileIndex: 0, FileName: "0_0.mp4", Bytes: 100, SHA256: sha}, // also in shard a
		{Seq: 2, ConfUUID: u4, Status: Archived, FileIndex: 0, FileName: "0_0.mp4", Bytes: 50, SHA256: sha},
		{Seq: 3, ConfUUID: u2, Status: Cancelled}, // also in shard a (failed there)
	})
	out := filepath.Join(t.TempDir(), "merged")
	sum, err := Merge(out, []string{a, b})
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}

	rows := readAll(t, out)
	var got []string
	for _, r := range rows {
		got = append(got, r.ConfUUID+"/"+string(r.Status)+"/"+r.ErrorCode)
	}
	want := []string{
		u1 + "/archived/", u1 + "/archived/", u2 + "/failed/timeout", // shard a, in seq order
		u3 + "/unavailable/", u1 + "/duplicate-input/merge-duplicate", u4 + "/archived/", u2 + "/duplicate-input/merge-duplicate",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged rows =\n%v\nwant\n%v", got, want)
	}
	if msg := rows[4].ErrorMessage; !strings.Contains(msg, "shard 1") || !strings.Contains(msg, "status here: archived") {
		t.Errorf("duplicate's errorMessage = %q, want it to name shard 1 and the original status", msg)
	}

	checks := []struct {
		name      string
		got, want any
	}{
		{"DuplicateConferences", sum.DuplicateConferences, []string{u1, u2}},
		{"Conferences", sum.Conferences, 6},
		{"archived", sum.Counts[Archived], 2},
		{"failed", sum.Counts[Failed], 1},
		{"duplicate-input", sum.Counts[DuplicateInput], 2},
		{"cancelled", sum.Counts[Cancelled], 0},
		{"BytesArchived", sum.BytesArchived, int64(350)}, // u1 once, not twice
		{"Files", sum.Files, 3},
		{"ExitCode", sum.ExitCode, ExitInterrupted},
		{"RunID", sum.RunID, "a+b"},
		{"Started", sum.Started, t0.Add(-time.Hour)},
		{"Finished", sum.Finished, t0.Add(time.Hour)},
		{"MergedFrom", sum.MergedFrom, []string{a, b}},
		{"Dest", sum.Dest, "s3://archive/meetings"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	onDisk, err := ReadSummary(filepath.Join(out, SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(onDisk.Counts, sum.Counts) || !reflect.DeepEqual(onDisk.DuplicateConferences, sum.DuplicateConferences) {
		t.Errorf("summary.json = %+v, want %+v", onDisk, sum)
	}
	// failures.csv: u2 once (shard a's failure), not the duplicate.
	fb, err := os.ReadFile(filepath.Join(out, FailuresCSV))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(fb)), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], u2+",") {
		t.Errorf("merged failures.csv = %q, want u2 once", fb)
	}
}

// TestMergeOneShard: merging a single shard reproduces its CSV files (but
// for a CRLF inside a field, which encoding/csv reads back as LF).
func TestMergeOneShard(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), mergeableRows(), ExitFailures)
	out := t.TempDir()
	sum, err := Merge(out, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ManifestCSV, FailuresCSV} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(out, name))
		a = bytes.ReplaceAll(a, []byte("\r\n"), []byte("\n")) // only inside fields: lines end in LF
		if !bytes.Equal(a, b) {
			t.Errorf("%s: merged copy of one shard differs from the shard", name)
		}
	}
	orig, _ := ReadSummary(filepath.Join(dir, SummaryJSON))
	if !reflect.DeepEqual(sum.Counts, orig.Counts) || sum.BytesArchived != orig.BytesArchived {
		t.Errorf("merged figures %v/%d, want the shard's %v/%d", sum.Counts, sum.BytesArchived, orig.Counts, orig.BytesArchived)
	}
}

func TestMergeErrors(t *testing.T) {
	shard := t.TempDir()
	writeRun(t, shard, testInfo(), mergeableRows()[:2], ExitOK)
	tests := []struct {
		name string
		out  string
		dirs []string
	}{
		{"no shards", t.TempDir(), nil},
		{"out is a shard", shard, []string{shard}},
		{"shard without report", t.TempDir(), []string{shard, t.TempDir()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadDir(tt.out)
			if _, err := Merge(tt.out, tt.dirs); err == nil {
				t.Error("Merge: no error")
			}
			after, _ := os.ReadDir(tt.out)
			if !slices.EqualFunc(before, after, func(a, b os.DirEntry) bool { return a.Name() == b.Name() }) {
				t.Errorf("Merge failed but changed %s", tt.out)
			}
		})
	}
}

// mergeableRows is fixtureRows with what merge refuses made well-formed:
// every stored file there carries its SHA-256.
func mergeableRows() []Row {
	rows := fixtureRows()
	for i := range rows {
		r := &rows[i]
		if (r.Status == Archived || r.Status == AlreadyArchived) && !namesNoFile(r) && r.SHA256 == "" {
			r.SHA256 = strings.Repeat("c3", 32)
		}
	}
	return rows
}
