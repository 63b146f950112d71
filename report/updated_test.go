package report

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestUpdatedConference: a conference with files kept from an earlier run
// (already-archived) and a file added now (updated) is counted updated,
// exits 0, has only the new file's bytes in BytesArchived and every one of
// its objects in sha256sums.txt; the verdict counts it as accounted for.
func TestUpdatedConference(t *testing.T) {
	const conf = "0123456789abcdef0123456789abcdef"
	sum := func(c byte) string { return strings.Repeat(string(c), 64) }
	rows := []Row{
		{Seq: 0, ConfUUID: conf, Status: AlreadyArchived, FileIndex: 0, FileType: "Hd", FileName: "0_0.mp4", ObjectKey: "a/0_0.mp4", ObjectURI: "/d/a/0_0.mp4", Bytes: 100, SHA256: sum('a')},
		{Seq: 0, ConfUUID: conf, Status: AlreadyArchived, FileIndex: 1, FileType: "Hd", FileName: "0_1.mp4", ObjectKey: "a/0_1.mp4", ObjectURI: "/d/a/0_1.mp4", Bytes: 200, SHA256: sum('b')},
		{Seq: 0, ConfUUID: conf, Status: Updated, FileIndex: 2, FileType: "Hd", FileName: "0_2.mp4", ObjectKey: "a/0_2.mp4", ObjectURI: "/d/a/0_2.mp4", Bytes: 300, SHA256: sum('c')},
	}
	dir := t.TempDir()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddAll(rows...); err != nil {
		t.Fatal(err)
	}
	if got := ExitCode(w.Counts(), false, false); got != ExitOK {
		t.Errorf("exit code %d, want %d", got, ExitOK)
	}
	s, err := w.Close(ExitOK)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"counted updated", s.Counts[Updated], 1},
		{"not counted already-archived", s.Counts[AlreadyArchived], 0},
		{"bytes archived: the new file only", s.BytesArchived, int64(300)},
		{"verdict level", s.Verdict.Level, LevelGreen},
		{"verdict names it", strings.Contains(s.Verdict.Text, "1 updated"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	t.Run("sha256sums lists every object", func(t *testing.T) {
		f, err := os.Open(filepath.Join(dir, SHA256Sums))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sums, err := ReadSHA256Sums(f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range sums {
			got = append(got, s.Path)
		}
		if want := []string{"a/0_0.mp4", "a/0_1.mp4", "a/0_2.mp4"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}
