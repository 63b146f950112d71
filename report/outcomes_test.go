package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMergeOutIsInput: an output directory that is one of the shards, by
// any spelling of its path, is ErrOutIsInput, and nothing is written.
func TestMergeOutIsInput(t *testing.T) {
	shard := t.TempDir()
	writeRun(t, shard, testInfo(), fixtureRows()[:2], ExitOK)
	other := t.TempDir()
	writeRun(t, other, testInfo(), fixtureRows()[2:4], ExitOK)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(shard, link); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, shard)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		out  string
		dirs []string
	}{
		{"same path", shard, []string{other, shard}},
		{"trailing slash and dot", shard + "/./", []string{shard}},
		{"relative", rel, []string{other, shard}},
		{"through a symlink", link, []string{other, shard}},
		{"input through a symlink", shard, []string{link}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(filepath.Join(shard, ManifestCSV))
			_, err := Merge(tt.out, tt.dirs)
			if !errors.Is(err, ErrOutIsInput) {
				t.Fatalf("Merge = %v, want ErrOutIsInput", err)
			}
			after, _ := os.ReadFile(filepath.Join(shard, ManifestCSV))
			if string(before) != string(after) {
				t.Error("the shard's manifest changed")
			}
		})
	}
	t.Run("new directory beside the shards", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "merged")
		if _, err := Merge(out, []string{shard, other}); err != nil {
			t.Fatalf("Merge: %v", err)
		}
	})
}

// TestUncommittedObjects: rows of objects stored for a conference that was
// not committed keep their objectURI, bytes and sha256 through the
// journal, Rebuild and Merge, and their bytes are not counted as archived.
func TestUncommittedObjects(t *testing.T) {
	sha := strings.Repeat("b", 64)
	rows := []Row{
		{Seq: 0, ConfUUID: uuid(0), Status: Archived, FileName: "0_0.mp4", ObjectURI: "/a/0", ObjectKey: "a/0", Bytes: 100, SHA256: sha},
		{Seq: 1, ConfUUID: uuid(1), Status: Failed, FileIndex: 0, FileName: "0_0.mp4", ObjectURI: "/a/1/0", ObjectKey: "a/1/0",
			Bytes: 1000, SHA256: sha, ErrorCode: "uncommitted", ErrorMessage: "stored, conference not committed"},
		{Seq: 1, ConfUUID: uuid(1), Status: Failed, FileIndex: 1, FileName: "0_1.mp4", ErrorCode: "timeout"},
		{Seq: 2, ConfUUID: uuid(2), Status: Cancelled, FileName: "0_0.mp4", ObjectURI: "/a/2/0", ObjectKey: "a/2/0",
			Bytes: 5000, SHA256: sha, ErrorCode: "uncommitted"},
	}
	check := func(t *testing.T, dir string, sum Summary) {
		t.Helper()
		if sum.BytesArchived != 100 {
			t.Errorf("BytesArchived = %d, want 100 (uncommitted bytes are not archived)", sum.BytesArchived)
		}
		got := readAll(t, dir)
		if len(got) != len(rows) {
			t.Fatalf("%d rows, want %d", len(got), len(rows))
		}
		for i, want := range rows {
			g := got[i]
			if g.Status != want.Status || g.ObjectURI != want.ObjectURI || g.Bytes != want.Bytes ||
				g.SHA256 != want.SHA256 || g.ErrorCode != want.ErrorCode {
				t.Errorf("row %d = %s %s %d %s %s, want %s %s %d %s %s", i, g.Status, g.ObjectURI, g.Bytes, g.SHA256, g.ErrorCode,
					want.Status, want.ObjectURI, want.Bytes, want.SHA256, want.ErrorCode)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, SHA256Sums))
		if err == nil && (strings.Contains(string(b), "a/1/0") || strings.Contains(string(b), "a/2/0")) {
			t.Errorf("%s lists an uncommitted object:\n%s", SHA256Sums, b)
		}
	}
	dir := t.TempDir()
	check(t, dir, writeRunKeep(t, dir, testInfo(), rows, ExitFailures))
	t.Run("rebuild", func(t *testing.T) {
		sum, err := Rebuild(dir)
		if err != nil {
			t.Fatal(err)
		}
		check(t, dir, sum)
	})
	t.Run("merge", func(t *testing.T) {
		out := t.TempDir()
		sum, err := Merge(out, []string{dir})
		if err != nil {
			t.Fatal(err)
		}
		check(t, out, sum)
	})
}

// TestFatalOnce: the fatal error's message is in the summary once, from
// Close, Rebuild and Merge; later messages do not replace it.
func TestFatalOnce(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	long := "authentication failed: " + strings.Repeat("detail ", 100)
	if err := w.SetFatal(long); err != nil {
		t.Fatal(err)
	}
	if err := w.SetFatal("a later error"); err != nil {
		t.Fatal(err)
	}
	for seq := range 3 {
		r := Row{Seq: seq, ConfUUID: uuid(seq), Status: Cancelled, ErrorCode: "fatal", ErrorMessage: "not started: fatal error"}
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	w.f.Close() // killed before Close: Rebuild must still find it
	rebuilt, err := Rebuild(dir)
	if err != nil {
		t.Fatal(err)
	}
	merged := t.TempDir()
	mergedSum, err := Merge(merged, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		out  string
		sum  Summary
	}{{"rebuild", dir, rebuilt}, {"merge", merged, mergedSum}} {
		t.Run(tc.name, func(t *testing.T) {
			out, sum := tc.out, tc.sum
			if sum.Fatal != long {
				t.Errorf("Fatal = %.60q, want the first message", sum.Fatal)
			}
			onDisk, err := ReadSummary(filepath.Join(out, SummaryJSON))
			if err != nil {
				t.Fatal(err)
			}
			if onDisk.Fatal != sum.Fatal {
				t.Errorf("summary.json fatal = %.60q, want %.60q", onDisk.Fatal, sum.Fatal)
			}
			b, err := os.ReadFile(filepath.Join(out, ManifestCSV))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "detail detail") {
				t.Error("manifest.csv repeats the fatal message")
			}
			f := openXLSX(t, out)
			rows, err := f.GetRows(SheetSummary)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range rows {
				if len(r) == 2 && r[0] == "fatal error" && r[1] == sum.Fatal {
					found = true
				}
			}
			if !found {
				t.Error("the Summary sheet has no fatal error line with the message")
			}
		})
	}
}
