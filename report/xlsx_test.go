package report

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func openXLSX(t *testing.T, dir string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(filepath.Join(dir, ManifestXLSX))
	if err != nil {
		t.Fatalf("open xlsx: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func cellName(t *testing.T, col, row int) string {
	t.Helper()
	c, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lastCol is the letter of column n.
func lastCol(t *testing.T, n int) string {
	t.Helper()
	c, err := excelize.ColumnNumberToName(n)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func colIndex(t *testing.T, name string) int {
	t.Helper()
	for i, c := range ManifestColumns() {
		if c == name {
			return i + 1
		}
	}
	t.Fatalf("no column %s", name)
	return 0
}

func TestXLSXSheetsAndHeaders(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), shuffled(fixtureRows()), ExitFailures)
	f := openXLSX(t, dir)

	if got, want := f.GetSheetList(), []string{SheetSummary, SheetRecordings, SheetFailures}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sheets = %v, want %v (no Sheet1)", got, want)
	}
	// The Summary sheet's header is row 2, under the verdict.
	headers := map[string]struct {
		row  int
		cols []string
	}{
		SheetSummary:    {2, []string{"field", "value", "", "status", "conferences", "", "recording day", "bytes archived", "", "error code", "failed rows"}},
		SheetRecordings: {1, ManifestColumns()},
		SheetFailures:   {1, columnNames(failureColumns)},
	}
	for sheet, h := range headers {
		t.Run(sheet, func(t *testing.T) {
			want := h.cols
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rows[h.row-1], want) {
				t.Errorf("header = %v, want %v", rows[h.row-1], want)
			}
			panes, err := f.GetPanes(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if !panes.Freeze || panes.YSplit != h.row || panes.TopLeftCell != cellName(t, 1, h.row+1) {
				t.Errorf("panes = %+v, want rows 1-%d frozen", panes, h.row)
			}
			for col := 1; col <= len(want); col++ {
				if want[col-1] == "" {
					continue
				}
				id, err := f.GetCellStyle(sheet, cellName(t, col, h.row))
				if err != nil {
					t.Fatal(err)
				}
				st, err := f.GetStyle(id)
				if err != nil {
					t.Fatal(err)
				}
				if st.Font == nil || !st.Font.Bold {
					t.Errorf("header cell %s is not bold", cellName(t, col, h.row))
				}
			}
		})
	}

	t.Run("autofilter", func(t *testing.T) {
		found := map[string]string{}
		for _, dn := range f.GetDefinedName() {
			if dn.Name == "_xlnm._FilterDatabase" {
				found[dn.Scope] = dn.RefersTo
			}
		}
		last := len(fixtureRows()) + 1
		want := map[string]string{
			SheetRecordings: "'Recordings'!$A$1:$" + lastCol(t, len(ManifestColumns())) + "$" + strconv.Itoa(last),
		}
		for sheet, ref := range want {
			if found[sheet] != ref {
				t.Errorf("autofilter of %s = %q, want %q (all: %v)", sheet, found[sheet], ref, found)
			}
		}
		if _, ok := found[SheetFailures]; !ok {
			t.Errorf("no autofilter on %s (all: %v)", SheetFailures, found)
		}
	})

	t.Run("column widths", func(t *testing.T) {
		for _, c := range []struct {
			col  string
			name string
			min  float64
		}{{"B", "confUUID", 36}, {"N", "sha256", 64}, {"A", "seq", 7}} {
			w, err := f.GetColWidth(SheetRecordings, c.col)
			if err != nil {
				t.Fatal(err)
			}
			if w < c.min {
				t.Errorf("width of %s (%s) = %v, want >= %v", c.col, c.name, w, c.min)
			}
		}
	})
}

// TestXLSXCells reads the Recordings cells back: values, types and formats.
func TestXLSXCells(t *testing.T) {
	dir := t.TempDir()
	rows := fixtureRows()
	writeRun(t, dir, testInfo(), shuffled(rows), ExitFailures)
	f := openXLSX(t, dir)
	raw := excelize.Options{RawCellValue: true}

	numFmt := func(t *testing.T, cell string) string {
		t.Helper()
		id, err := f.GetCellStyle(SheetRecordings, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt == nil {
			return ""
		}
		return *st.CustomNumFmt
	}
	for i, r := range rows {
		row := i + 2
		cell := func(name string) string { return cellName(t, colIndex(t, name), row) }
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			// Text: exactly the subject (no neutralising quote), as an inline string.
			got, err := f.GetCellValue(SheetRecordings, cell("subject"), raw)
			if err != nil {
				t.Fatal(err)
			}
			if want := xmlText(sanitizeRow(r).Subject); got != want {
				t.Errorf("subject = %.60q, want %.60q", got, want)
			}
			if r.Subject != "" {
				if typ, _ := f.GetCellType(SheetRecordings, cell("subject")); typ != excelize.CellTypeInlineString {
					t.Errorf("subject cell type = %v, want inline string", typ)
				}
			}
			// Numbers. A conference-level row (no file) leaves its zero
			// bytes and false legalHold out: they do not apply.
			noFile := namesNoFile(&r)
			got, _ = f.GetCellValue(SheetRecordings, cell("bytes"), raw)
			if want := strconv.FormatInt(r.Bytes, 10); noFile && r.Bytes == 0 {
				if got != "" {
					t.Errorf("bytes of a row without a file = %q, want no cell", got)
				}
			} else if got != want {
				t.Errorf("bytes = %q, want %q", got, want)
			}
			if typ, _ := f.GetCellType(SheetRecordings, cell("bytes")); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("bytes cell type = %v, want a number", typ)
			}
			got, _ = f.GetCellValue(SheetRecordings, cell("seq"), raw)
			if want := strconv.Itoa(r.Seq); got != want {
				t.Errorf("seq = %q, want %q", got, want)
			}
			// Booleans.
			got, _ = f.GetCellValue(SheetRecordings, cell("legalHold"), raw)
			if noFile && !r.LegalHold {
				if got != "" {
					t.Errorf("legalHold of a row without a file = %q, want no cell", got)
				}
			} else {
				if typ, _ := f.GetCellType(SheetRecordings, cell("legalHold")); typ != excelize.CellTypeBool {
					t.Errorf("legalHold cell type = %v, want bool", typ)
				}
				if want := map[bool]string{true: "1", false: "0"}[r.LegalHold]; got != want {
					t.Errorf("legalHold = %q, want %q", got, want)
				}
			}
			// Date-times: serial numbers with a date-time format.
			for _, tc := range []struct {
				col  string
				want time.Time
				fmt  string
			}{{"finishedAt", r.FinishedAt, fmtDateTime}, {"retainUntil", r.RetainUntil, fmtDateTime}} {
				got, _ := f.GetCellValue(SheetRecordings, cell(tc.col), raw)
				if tc.want.IsZero() {
					if got != "" {
						t.Errorf("%s = %q, want empty", tc.col, got)
					}
					continue
				}
				serial, err := strconv.ParseFloat(got, 64)
				if err != nil {
					t.Errorf("%s = %q, want an Excel serial number", tc.col, got)
					continue
				}
				tm, err := excelize.ExcelDateToTime(serial, false)
				if err != nil || tm.Sub(tc.want).Abs() > time.Second {
					t.Errorf("%s = %v, want %v", tc.col, tm, tc.want)
				}
				if got := numFmt(t, cell(tc.col)); got != tc.fmt {
					t.Errorf("%s format = %q, want %q", tc.col, got, tc.fmt)
				}
			}
			if r.StartTime != "" {
				got, _ := f.GetCellValue(SheetRecordings, cell("startTime"), raw)
				serial, _ := strconv.ParseFloat(got, 64)
				tm, _ := excelize.ExcelDateToTime(serial, false)
				if want := time.Date(2019, 12, 19, 2, 7, 0, 0, time.UTC); tm.Sub(want).Abs() > time.Second {
					t.Errorf("startTime = %q (%v), want %v", got, tm, want)
				}
				if got := numFmt(t, cell("startTime")); got != fmtWallTime {
					t.Errorf("startTime format = %q, want %q", got, fmtWallTime)
				}
			}
		})
	}

	t.Run("failures sheet", func(t *testing.T) {
		got, err := f.GetRows(SheetFailures)
		if err != nil {
			t.Fatal(err)
		}
		var want []Row
		for _, r := range rows {
			if listedInFailures(r.Status) {
				want = append(want, r)
			}
		}
		if len(got)-1 != len(want) {
			t.Fatalf("Failures has %d rows, want %d", len(got)-1, len(want))
		}
		for i, r := range want {
			g := got[i+1]
			if g[1] != r.ConfUUID || g[4] != string(r.Status) || g[10] != Hint(r) {
				t.Errorf("failure %d = %q, want confUUID %s, status %s, hint %q", i, g, r.ConfUUID, r.Status, Hint(r))
			}
		}
	})

	t.Run("summary sheet", func(t *testing.T) {
		got, err := f.GetRows(SheetSummary)
		if err != nil {
			t.Fatal(err)
		}
		vals := map[string]string{}
		for _, r := range got[1:] {
			if len(r) >= 2 && r[0] != "" {
				vals[r[0]] = r[1]
			}
		}
		for k, want := range map[string]string{
			"run id": "run-20260301-0900", "exit code": "1", "conferences": "19",
			"conferences failed": "4", "input SHA-256": strings.Repeat("ab", 32),
			"option lockMode": "COMPLIANCE", "started (UTC)": "2026-03-01 09:00:00",
		} {
			if vals[k] != want {
				t.Errorf("Summary %q = %q, want %q", k, vals[k], want)
			}
		}
	})
}

// xmlText is s as a spreadsheet can hold it: characters XML does not allow
// become U+FFFD.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			return r
		}
		return '\uFFFD'
	}, s)
}

// TestXLSXNoFormulas: no cell of any sheet is a formula, checked through
// excelize and in the raw sheet XML.
func TestXLSXNoFormulas(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), fixtureRows(), ExitFailures)
	f := openXLSX(t, dir)
	cells := 0
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			for c := range row {
				name := cellName(t, c+1, r+1)
				cells++
				formula, err := f.GetCellFormula(sheet, name)
				if err != nil {
					t.Fatal(err)
				}
				if formula != "" {
					t.Errorf("%s!%s has formula %q", sheet, name, formula)
				}
				if typ, _ := f.GetCellType(sheet, name); typ == excelize.CellTypeFormula {
					t.Errorf("%s!%s has type formula", sheet, name)
				}
			}
		}
	}
	if cells < 500 {
		t.Fatalf("checked %d cells only", cells)
	}
	for name, text := range xlsxParts(t, filepath.Join(dir, ManifestXLSX), "xl/worksheets/") {
		if strings.Contains(text, "<f>") || strings.Contains(text, "<f ") || strings.Contains(text, `t="str"`) {
			t.Errorf("%s contains a formula element", name)
		}
	}
}

// TestXLSXDeterministic: the same rows give the same cell values.
func TestXLSXDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeRun(t, a, testInfo(), fixtureRows(), ExitFailures)
	writeRun(t, b, testInfo(), shuffled(fixtureRows()), ExitFailures)
	fa, fb := openXLSX(t, a), openXLSX(t, b)
	for _, sheet := range fa.GetSheetList() {
		ra, err := fa.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		rb, err := fb.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("sheet %s differs between two writes of the same rows", sheet)
		}
	}
}
