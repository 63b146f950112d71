package report

import (
	"archive/zip"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// usedRange is the range the cells of a sheet really occupy, as read back:
// A1 to the last column and row holding a value.
func usedRange(t *testing.T, f *excelize.File, sheet string) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	if len(rows) == 0 || cols == 0 {
		return "A1"
	}
	return "A1:" + cellName(t, cols, len(rows))
}

// checkDimensions compares every sheet's declared used range with the cells
// really there.
func checkDimensions(t *testing.T, f *excelize.File) {
	t.Helper()
	for _, sheet := range f.GetSheetList() {
		t.Run("dimension "+sheet, func(t *testing.T) {
			got, err := f.GetSheetDimension(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if want := usedRange(t, f, sheet); got != want {
				t.Errorf("declared dimension of %s = %q, want %q (the cells present)", sheet, got, want)
			}
		})
	}
}

func TestXLSXDimensions(t *testing.T) {
	tests := []struct {
		name string
		rows []Row
	}{
		{"fixture", fixtureRows()},
		{"no failures", fixtureRows()[:3]},
		{"no rows", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRun(t, dir, testInfo(), tt.rows, ExitOK)
			f := openXLSX(t, dir)
			checkDimensions(t, f)
			// The Recordings range is the header and every row, all columns.
			got, err := f.GetSheetDimension(SheetRecordings)
			if err != nil {
				t.Fatal(err)
			}
			want := "A1:" + cellName(t, len(ManifestColumns()), len(tt.rows)+1)
			if got != want {
				t.Errorf("Recordings dimension = %q, want %q", got, want)
			}
		})
	}
}

// chartRows are rows over three recording days with failures of three
// codes.
func chartRows() []Row {
	var rows []Row
	days := []string{"2025-06-02 10:00", "2025-06-01 09:30", "2025-06-03 23:59"}
	for i := range 12 {
		r := Row{Seq: i, ConfUUID: uuid(i), StartTime: days[i%3], Status: Archived,
			FileType: "Hd", FileName: "0_0.mp4", Bytes: int64(1000 * (i + 1)),
			SHA256: strings.Repeat("a", 64), FinishedAt: t0}
		switch i % 4 {
		case 1:
			r.Status, r.ErrorCode, r.Bytes = Failed, "timeout", 0
		case 2:
			if i < 8 {
				r.Status, r.ErrorCode, r.Bytes = Failed, "integrity", 0
			}
		}
		rows = append(rows, r)
	}
	rows = append(rows,
		Row{Seq: 12, ConfUUID: uuid(12), Status: Failed, ErrorCode: "timeout", FileType: "Sd", FileName: "0_1.mp4"},
		Row{Seq: 13, ConfUUID: uuid(13), Status: Failed},
		Row{Seq: 14, ConfUUID: uuid(14), Status: Archived, StartTime: "garbage", Bytes: 5},
		Row{Seq: 15, ConfUUID: uuid(15), Status: AlreadyArchived, StartTime: "2025-06-04 08:00", Bytes: 77},
		Row{Seq: 16, ConfUUID: uuid(16), Status: PendingTranscode},
	)
	return rows
}

// xlsxParts returns the parts of a workbook whose names start with prefix,
// by name, as text.
func xlsxParts(t *testing.T, path, prefix string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	parts := map[string]string{}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, prefix) {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		parts[zf.Name] = string(b)
	}
	return parts
}

// chartRefs returns the <c:f> references of each chart part, by part name.
func chartRefs(t *testing.T, path string) map[string][]string {
	t.Helper()
	reF := regexp.MustCompile(`<(?:c:)?f>([^<]*)</(?:c:)?f>`)
	out := map[string][]string{}
	for name, text := range xlsxParts(t, path, "xl/charts/chart") {
		for _, m := range reF.FindAllStringSubmatch(text, -1) {
			out[name] = append(out[name], m[1])
		}
	}
	return out
}

func TestSummaryCharts(t *testing.T) {
	dir := t.TempDir()
	rows := chartRows()
	sum := writeRun(t, dir, testInfo(), shuffled(rows), ExitFailures)
	f := openXLSX(t, dir)

	statuses := countKeys(sum.Counts)
	want := map[string][]string{
		"xl/charts/chart1.xml": {"Summary!$E$2", "Summary!$D$3:$D$" + strconv.Itoa(len(statuses)+2), "Summary!$E$3:$E$" + strconv.Itoa(len(statuses)+2)},
		"xl/charts/chart2.xml": {"Summary!$H$2", "Summary!$G$3:$G$6", "Summary!$H$3:$H$6"},
		"xl/charts/chart3.xml": {"Summary!$K$2", "Summary!$J$3:$J$5", "Summary!$K$3:$K$5"},
	}
	t.Run("chart parts and series", func(t *testing.T) {
		got := chartRefs(t, filepath.Join(dir, ManifestXLSX))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("chart references = %v, want %v", got, want)
		}
	})

	cell := func(t *testing.T, c string) string {
		t.Helper()
		v, err := f.GetCellValue(SheetSummary, c, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Run("status figures equal the counts", func(t *testing.T) {
		for i, st := range statuses {
			row := i + 3
			if got := cell(t, fmt.Sprintf("D%d", row)); got != string(st) {
				t.Errorf("D%d = %q, want %q", row, got, st)
			}
			if got, want := cell(t, fmt.Sprintf("E%d", row)), strconv.Itoa(sum.Counts[st]); got != want {
				t.Errorf("E%d (%s) = %q, want %q", row, st, got, want)
			}
		}
		if sum.Counts[Failed] == 0 || sum.Counts[Archived] == 0 {
			t.Fatalf("counts %v: the fixture should have archived and failed conferences", sum.Counts)
		}
	})
	t.Run("bytes per day", func(t *testing.T) {
		// Archived rows only (already-archived bytes were not moved by this run).
		wantDays := map[string]int64{}
		for _, r := range rows {
			if r.Status != Archived {
				continue
			}
			d := "(unknown)"
			if len(r.StartTime) >= 10 && r.StartTime != "garbage" {
				d = r.StartTime[:10]
			}
			wantDays[d] += r.Bytes
		}
		labels := []string{"2025-06-01", "2025-06-02", "2025-06-03", "(unknown)"}
		var total int64
		for i, d := range labels {
			row := i + 3
			if got := cell(t, fmt.Sprintf("G%d", row)); got != d {
				t.Errorf("G%d = %q, want %q", row, got, d)
			}
			got := cell(t, fmt.Sprintf("H%d", row))
			if want := strconv.FormatInt(wantDays[d], 10); got != want {
				t.Errorf("H%d (%s) = %q, want %q", row, d, got, want)
			}
			n, _ := strconv.ParseInt(got, 10, 64)
			total += n
		}
		if total != sum.BytesArchived {
			t.Errorf("bytes per day add up to %d, want BytesArchived %d", total, sum.BytesArchived)
		}
	})
	t.Run("failed rows by code", func(t *testing.T) {
		byCode := map[string]int{}
		for _, r := range rows {
			if r.Status == Failed {
				c := r.ErrorCode
				if c == "" {
					c = "(none)"
				}
				byCode[c]++
			}
		}
		type kv struct {
			k string
			v int
		}
		var wantRows []kv
		for k, v := range byCode {
			wantRows = append(wantRows, kv{k, v})
		}
		sort.Slice(wantRows, func(i, j int) bool {
			if wantRows[i].v != wantRows[j].v {
				return wantRows[i].v > wantRows[j].v
			}
			return wantRows[i].k < wantRows[j].k
		})
		for i, w := range wantRows {
			row := i + 3
			if got := cell(t, fmt.Sprintf("J%d", row)); got != w.k {
				t.Errorf("J%d = %q, want %q", row, got, w.k)
			}
			if got := cell(t, fmt.Sprintf("K%d", row)); got != strconv.Itoa(w.v) {
				t.Errorf("K%d (%s) = %q, want %d", row, w.k, got, w.v)
			}
		}
		if got := cell(t, fmt.Sprintf("J%d", len(wantRows)+3)); got != "" {
			t.Errorf("J%d = %q after the last code, want empty", len(wantRows)+3, got)
		}
	})
	t.Run("figures are plain values", func(t *testing.T) {
		for _, c := range []string{"E3", "H3", "K3"} {
			if fm, _ := f.GetCellFormula(SheetSummary, c); fm != "" {
				t.Errorf("%s has formula %q", c, fm)
			}
		}
	})
	checkDimensions(t, f)
}

// TestChartsWithoutData: a run with nothing archived and nothing failed
// still has its three charts, the empty ones drawn from a "(none)" row.
func TestChartsWithoutData(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), []Row{{Seq: 0, ConfUUID: uuid(0), Status: Planned, EstimatedBytes: 10}}, ExitOK)
	got := chartRefs(t, filepath.Join(dir, ManifestXLSX))
	want := map[string][]string{
		"xl/charts/chart1.xml": {"Summary!$E$2", "Summary!$D$3:$D$" + strconv.Itoa(len(Statuses())+2), "Summary!$E$3:$E$" + strconv.Itoa(len(Statuses())+2)},
		"xl/charts/chart2.xml": {"Summary!$H$2", "Summary!$G$3", "Summary!$H$3"},
		"xl/charts/chart3.xml": {"Summary!$K$2", "Summary!$J$3", "Summary!$K$3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("chart references = %v, want %v", got, want)
	}
	f := openXLSX(t, dir)
	for _, c := range []string{"G3", "J3"} {
		if v, _ := f.GetCellValue(SheetSummary, c); v != "(none)" {
			t.Errorf("%s = %q, want (none)", c, v)
		}
	}
	checkDimensions(t, f)
}

func TestFiguresGrouping(t *testing.T) {
	t.Run("more than maxDayColumns days become months", func(t *testing.T) {
		fig := newFigures()
		day := t0
		for range maxDayColumns + 1 {
			fig.add(&Row{Status: Archived, StartTime: day.Format("2006-01-02 15:04"), Bytes: 1})
			day = day.AddDate(0, 0, 1)
		}
		label, fs := fig.dayFigures()
		if label != "recording month" {
			t.Errorf("label = %q, want recording month", label)
		}
		var total int64
		for _, x := range fs {
			if len(x.label) != len("2006-01") {
				t.Errorf("label %q is not a month", x.label)
			}
			total += x.value
		}
		if total != maxDayColumns+1 {
			t.Errorf("months add up to %d, want %d", total, maxDayColumns+1)
		}
	})
	t.Run("codes past maxCodeBars are summed", func(t *testing.T) {
		fig := newFigures()
		n := 0
		for i := range maxCodeBars + 5 {
			for range i + 1 {
				fig.add(&Row{Status: Failed, ErrorCode: fmt.Sprintf("E%03d", i)})
				n++
			}
		}
		fs := fig.codeFigures()
		if len(fs) != maxCodeBars+1 || fs[len(fs)-1].label != otherCodes {
			t.Fatalf("codes = %v, want %d bars and %q last", fs, maxCodeBars, otherCodes)
		}
		if fs[0].label != fmt.Sprintf("E%03d", maxCodeBars+4) {
			t.Errorf("first bar = %v, want the most frequent code", fs[0])
		}
		var total int64
		for _, x := range fs {
			total += x.value
		}
		if total != int64(n) {
			t.Errorf("bars add up to %d, want %d", total, n)
		}
	})
}
