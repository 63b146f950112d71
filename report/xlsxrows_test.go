package report

import (
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestCellTextReadsBack: text cells that need escaping read back through
// excelize as written, and times read back as the same instant.
func TestCellTextReadsBack(t *testing.T) {
	subjects := []struct{ name, text string }{
		{"markup", `a & b <c> "d" 'e'`},
		{"literal escape", "_x0041_ and _x005F_ and _x12G4_"},
		{"leading and trailing space", "  padded  "},
		{"line feed and tab", "one\ntwo\tthree"},
		{"non-ASCII", "日本語 😀 café"},
	}
	var rows []Row
	for i, s := range subjects {
		r := archivedRow(i)
		r.Subject = s.text
		r.FinishedAt = time.Date(2026, 12, 1, 22, 28, 50, 0, time.UTC).Add(time.Duration(i) * 7 * time.Hour)
		rows = append(rows, r)
	}
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), rows, ExitOK)
	f := openXLSX(t, dir)
	for i, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			got, err := f.GetCellValue(SheetRecordings, cellName(t, colIndex(t, "subject"), i+2))
			if err != nil {
				t.Fatal(err)
			}
			want := sanitizeRow(rows[i]).Subject
			if len([]rune(want)) > excelize.TotalCellChars {
				want = string([]rune(want)[:excelize.TotalCellChars])
			}
			if got != want {
				t.Errorf("subject = %.80q, want %.80q", got, want)
			}
			v, err := f.GetCellValue(SheetRecordings, cellName(t, colIndex(t, "finishedAt"), i+2))
			if err != nil {
				t.Fatal(err)
			}
			if want := rows[i].FinishedAt.Format("2006-01-02 15:04:05"); v != want {
				t.Errorf("finishedAt = %q, want %q", v, want)
			}
		})
	}
}

func TestExcelSerial(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want float64
	}{
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), 61},
		{time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), 46357.5},
		{time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC), 109210},
	} {
		if got := excelSerial(tc.t); got != tc.want {
			t.Errorf("excelSerial(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

// TestCellTextCut: text past Excel's 32,767 characters (UTF-16 units) is
// cut at a character boundary.
func TestCellTextCut(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		wantLen    int // in runes
	}{
		{"ASCII", strings.Repeat("a", 40_000), 32_767},
		{"two units a character", strings.Repeat("😀", 20_000), 16_383},
		{"at the limit", strings.Repeat("é", 32_767), 32_767},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendCellText(nil, tc.text))
			if n := len([]rune(got)); n != tc.wantLen || !strings.HasPrefix(tc.text, got) {
				t.Errorf("cut to %d characters (prefix %v), want %d", n, strings.HasPrefix(tc.text, got), tc.wantLen)
			}
		})
	}
}
