package report

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestSheetRowLimit lowers Excel's row limit to 10: Recordings continues in
// "Recordings (2)" and "(3)", Failures in "Failures (2)", each with the
// header; together they hold every row in order; the CSV is unaffected and
// the Summary says how many sheets there are.
func TestSheetRowLimit(t *testing.T) {
	old := maxSheetRows
	maxSheetRows = 10
	defer func() { maxSheetRows = old }()

	const n = 25 // 9 data rows per sheet: 9 + 9 + 7
	var rows []Row
	failed := 0
	for i := range n {
		r := bigRow(i)
		if i%2 == 0 {
			r.Status, r.ErrorCode = Failed, "timeout"
		}
		if r.Status == Failed {
			failed++ // 14 failed rows (bigRow fails row 1 too): 9 + 5
		}
		rows = append(rows, r)
	}
	dir := t.TempDir()
	sum := writeRun(t, dir, testInfo(), shuffled(rows), ExitFailures)
	f := openXLSX(t, dir)

	wantSheets := []string{SheetSummary, SheetRecordings, "Recordings (2)", "Recordings (3)", SheetFailures, "Failures (2)"}
	if got := f.GetSheetList(); !reflect.DeepEqual(got, wantSheets) {
		t.Fatalf("sheets = %v, want %v", got, wantSheets)
	}

	read := func(t *testing.T, sheets []string, header []string) [][]string {
		t.Helper()
		var data [][]string
		for _, sh := range sheets {
			got, err := f.GetRows(sh)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || !reflect.DeepEqual(got[0], header) {
				t.Errorf("%s: header = %v, want %v", sh, got[:min(1, len(got))], header)
				continue
			}
			if len(got) > maxSheetRows {
				t.Errorf("%s has %d rows, more than the limit %d", sh, len(got), maxSheetRows)
			}
			data = append(data, got[1:]...)
		}
		return data
	}
	t.Run("recordings", func(t *testing.T) {
		data := read(t, wantSheets[1:4], ManifestColumns())
		if len(data) != n {
			t.Fatalf("Recordings sheets hold %d rows, want %d", len(data), n)
		}
		col := colIndex(t, "fileIndex") - 1
		for i, r := range data {
			want := rows[i]
			if r[0] != strconv.Itoa(want.Seq) || r[col] != strconv.Itoa(want.FileIndex) {
				t.Errorf("row %d = seq %s file %s, want seq %d file %d", i, r[0], r[col], want.Seq, want.FileIndex)
			}
		}
	})
	t.Run("failures", func(t *testing.T) {
		data := read(t, wantSheets[4:], columnNames(failureColumns))
		if len(data) != failed {
			t.Errorf("Failures sheets hold %d rows, want %d", len(data), failed)
		}
	})
	t.Run("csv unaffected", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, ManifestCSV))
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Count(string(b), "\n"); lines != n+1 {
			t.Errorf("manifest.csv has %d lines, want %d", lines, n+1)
		}
		if sum.Rows != n {
			t.Errorf("Rows = %d, want %d", sum.Rows, n)
		}
	})
	t.Run("summary counts the sheets", func(t *testing.T) {
		got, err := f.GetRows(SheetSummary)
		if err != nil {
			t.Fatal(err)
		}
		vals := map[string]string{}
		for _, r := range got {
			if len(r) >= 2 {
				vals[r[0]] = r[1]
			}
		}
		if vals["Recordings sheets"] != "3" || vals["Failures sheets"] != "2" {
			t.Errorf("Recordings sheets, Failures sheets = %q, %q; want 3, 2", vals["Recordings sheets"], vals["Failures sheets"])
		}
	})
	t.Run("autofilters", func(t *testing.T) {
		found := map[string]string{}
		for _, dn := range f.GetDefinedName() {
			if dn.Name == "_xlnm._FilterDatabase" {
				found[dn.Scope] = dn.RefersTo
			}
		}
		for _, sh := range wantSheets[1:] {
			if !strings.HasPrefix(found[sh], "'"+sh+"'!$A$1:") {
				t.Errorf("autofilter of %s = %q (all: %v)", sh, found[sh], found)
			}
		}
	})
	checkDimensions(t, f)
}

// TestSpooledRows: rows spooled through several flushes of the spool's
// buffer come back whole and in order, and no spool file is left behind.
func TestSpooledRows(t *testing.T) {
	n := 1207 // about 1.5 MiB of row XML: several 256 KiB flushes
	dir := t.TempDir()
	writeBig(t, dir, n)
	f := openXLSX(t, dir)
	got, err := f.GetRows(SheetRecordings)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 {
		t.Fatalf("Recordings has %d rows, want %d", len(got), n+1)
	}
	subj, fileIdx := colIndex(t, "subject")-1, colIndex(t, "fileIndex")-1
	for i := range n {
		want := bigRow(i)
		r := got[i+1]
		if r[0] != strconv.Itoa(want.Seq) || r[fileIdx] != strconv.Itoa(want.FileIndex) || r[subj] != want.Subject {
			t.Fatalf("row %d = %q %q %q, want seq %d file %d %q", i, r[0], r[fileIdx], r[subj], want.Seq, want.FileIndex, want.Subject)
		}
	}
	checkDimensions(t, f)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
