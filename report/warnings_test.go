package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAddWarnings: warnings are appended to summary.json, redacted and on
// one line (a line break escaped, as in every report cell), and every other
// field is kept.
func TestAddWarnings(t *testing.T) {
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
	if _, err := AddWarnings(dir, "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := AddWarnings(dir, "second: GET https://h/x?token=abc123secret\nanswered 500"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(filepath.Join(dir, SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first", `second: GET https://h/x?token=REDACTED\nanswered 500`}
	if !slices.Equal(got.Warnings, want) {
		t.Errorf("warnings %q, want %q", got.Warnings, want)
	}
	if got.RunID != "r1" || got.ExitCode != 1 || got.Conferences != 3 || got.Counts[Failed] != 1 || got.Options["links"] != "auto" {
		t.Errorf("the other fields changed: %+v", got)
	}
	if _, err := AddWarnings(filepath.Join(dir, "none"), "x"); err == nil {
		t.Error("AddWarnings without a summary.json: no error")
	}
}
