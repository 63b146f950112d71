package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAddWarningsTo: warnings are appended to summary.json and to the
// summary in memory, redacted and on one line (a line break escaped, as in
// every report cell), and every other field is kept; a file that cannot be
// written leaves the summary as it was.
func TestAddWarningsTo(t *testing.T) {
	dir := t.TempDir()
	orig := Summary{RunInfo: RunInfo{RunID: "r1", Options: map[string]string{"links": "auto"}}, ExitCode: 1, Conferences: 3,
		Counts: map[Status]int{Archived: 2, Failed: 1}, Warnings: []string{}}
	b, err := json.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryJSON), b, 0o666); err != nil {
		t.Fatal(err)
	}
	mem := orig
	if err := AddWarningsTo(dir, &mem, "first"); err != nil {
		t.Fatal(err)
	}
	if err := AddWarningsTo(dir, &mem, "second: GET https://h/x?token=abc123secret\nanswered 500"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(filepath.Join(dir, SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first", `second: GET https://h/x?token=REDACTED\nanswered 500`}
	if !slices.Equal(got.Warnings, want) || !slices.Equal(mem.Warnings, want) {
		t.Errorf("warnings %q in the file, %q in memory, want %q", got.Warnings, mem.Warnings, want)
	}
	if len(orig.Warnings) != 0 {
		t.Errorf("the caller's first summary changed: %q", orig.Warnings)
	}
	if got.RunID != "r1" || got.ExitCode != 1 || got.Conferences != 3 || got.Counts[Failed] != 1 || got.Options["links"] != "auto" {
		t.Errorf("the other fields changed: %+v", got)
	}
	kept := mem
	if err := AddWarningsTo(filepath.Join(dir, "none"), &mem, "x"); err == nil || !slices.Equal(mem.Warnings, kept.Warnings) {
		t.Errorf("AddWarningsTo into a missing directory: err %v, warnings %q; want an error and the summary unchanged", err, mem.Warnings)
	}
}
