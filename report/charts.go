package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/xuri/excelize/v2"
)

// figures are what the Summary sheet's charts show, gathered from the rows
// as they are written: a few map entries per distinct day and error code,
// never per row.
type figures struct {
	bytesByDay   map[string]int64 // recording day (the platform's wall clock) -> bytes archived by this run
	failedByCode map[string]int   // errorCode -> failed rows

	// sha256sums.txt, filled in when it is written.
	fixityLines, fixityLeftOut, fixityConflicts, fixityUnnamed int
}

// Labels of the figures that are not a day or an error code.
const (
	unknownDay    = "(unknown)"
	noFigures     = "(none)"
	noErrorCode   = "(none)"
	otherCodes    = "(other codes)"
	maxCodeKeys   = 10_000 // distinct error codes kept apart while counting
	maxCodeBars   = 25     // bars of the failures chart; the rest is one "(other codes)" bar
	maxDayColumns = 400    // past this many days, bytes are shown per month
)

func newFigures() *figures {
	return &figures{bytesByDay: map[string]int64{}, failedByCode: map[string]int{}}
}

// add counts a (redacted) row.
func (f *figures) add(r *Row) {
	switch r.Status {
	case Archived, Updated:
		day := unknownDay
		if t, ok := parseWallTime(r.StartTime); ok {
			day = t.Format(time.DateOnly)
		}
		f.bytesByDay[day] += r.Bytes
	case Failed:
		code := r.ErrorCode
		if code == "" {
			code = noErrorCode
		}
		if _, ok := f.failedByCode[code]; !ok && len(f.failedByCode) >= maxCodeKeys {
			code = otherCodes
		}
		f.failedByCode[code]++
	}
}

// figure is one labelled number of a chart's table.
type figure struct {
	label string
	value int64
}

// statusFigures are the conferences per status, every known status in
// display order.
func statusFigures(s *Summary) []figure {
	var fs []figure
	for _, st := range countKeys(s.Counts) {
		fs = append(fs, figure{string(st), int64(s.Counts[st])})
	}
	return fs
}

// dayFigures are the bytes archived per recording day in date order
// ("(unknown)" last), or per month ("2025-06") when there are more than
// maxDayColumns days. The label says which.
func (f *figures) dayFigures() (label string, fs []figure) {
	label = "recording day"
	by := f.bytesByDay
	if len(by) > maxDayColumns {
		label = "recording month"
		by = map[string]int64{}
		for d, n := range f.bytesByDay {
			if d != unknownDay {
				d = d[:len("2006-01")]
			}
			by[d] += n
		}
	}
	for k, v := range by {
		fs = append(fs, figure{k, v})
	}
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i].label, fs[j].label
		if (a == unknownDay) != (b == unknownDay) {
			return b == unknownDay
		}
		return a < b
	})
	return label, fs
}

// codeFigures are the failed rows per error code, most frequent first (then
// by code), the codes past maxCodeBars summed as "(other codes)".
func (f *figures) codeFigures() []figure {
	var fs []figure
	var other int64
	for k, v := range f.failedByCode {
		if k == otherCodes {
			other += int64(v)
			continue
		}
		fs = append(fs, figure{k, int64(v)})
	}
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].value != fs[j].value {
			return fs[i].value > fs[j].value
		}
		return fs[i].label < fs[j].label
	})
	if len(fs) > maxCodeBars {
		for _, x := range fs[maxCodeBars:] {
			other += x.value
		}
		fs = fs[:maxCodeBars]
	}
	if other > 0 {
		fs = append(fs, figure{otherCodes, other})
	}
	return fs
}

// chartTable is one table of figures on the Summary sheet and the chart
// drawn from it.
type chartTable struct {
	labelCol, valueCol   string // column letters
	labelHead, valueHead string
	rows                 []figure
	valueStyle           int
	title                string
	typ                  excelize.ChartType
	at                   string // the chart's top-left cell
	kind                 chartKind
}

// chartKind says which of the three charts a table is.
type chartKind int

const (
	chartStatus chartKind = iota // conferences by status
	chartDays                    // bytes archived per recording day
	chartCodes                   // failed rows by error code
)

// Layout of the Summary sheet: the verdict across row 1, the header in
// row 2, the data from row 3; field and value in A:B, then the three chart
// tables (a blank column between), then the charts.
const (
	summaryLastCol   = "K"
	summaryHeaderRow = 2
	chartCol         = "M"
	chartRowStep     = 22 // rows between the charts' tops
)

// chartTables lays out the Summary sheet's three tables and charts.
func (b *book) chartTables(s *Summary, fig *figures) []chartTable {
	dayLabel, days := fig.dayFigures()
	ts := []chartTable{
		{labelCol: "D", valueCol: "E", labelHead: "status", valueHead: "conferences",
			rows: statusFigures(s), title: "Conferences by status", typ: excelize.Bar, kind: chartStatus,
			at: fmt.Sprintf("%s%d", chartCol, summaryHeaderRow+1)},
		{labelCol: "G", valueCol: "H", labelHead: dayLabel, valueHead: "bytes archived",
			rows: days, valueStyle: b.sBytes, title: "Bytes archived per " + dayLabel + " (platform time)", typ: excelize.Col, kind: chartDays,
			at: fmt.Sprintf("%s%d", chartCol, summaryHeaderRow+1+chartRowStep)},
		{labelCol: "J", valueCol: "K", labelHead: "error code", valueHead: "failed rows",
			rows: fig.codeFigures(), title: "Failed rows by error code", typ: excelize.Bar, kind: chartCodes,
			at: fmt.Sprintf("%s%d", chartCol, summaryHeaderRow+1+2*chartRowStep)},
	}
	// Every chart is drawn, an empty one from a single "(none)" row: the
	// workbook always has its three charts.
	for i := range ts {
		if len(ts[i].rows) == 0 {
			ts[i].rows = []figure{{noFigures, 0}}
		}
	}
	return ts
}

// ref is an absolute reference to cells of the Summary sheet.
func summaryRef(col string, from, to int) string {
	if from == to {
		return fmt.Sprintf("%s!$%s$%d", SheetSummary, col, from)
	}
	return fmt.Sprintf("%s!$%s$%d:$%s$%d", SheetSummary, col, from, col, to)
}

// summarySheet writes the Summary sheet with excelize's ordinary API (it is
// small): the verdict's sentence across the top (filled in its level's
// colour), the run's fields in A:B, the figures of the three charts beside
// them as plain cells, and the charts, whose series read those cells.
func (b *book) summarySheet(s *Summary, fig *figures) error {
	f, sh := b.f, SheetSummary
	if fig == nil {
		fig = newFigures()
	}
	for _, w := range []struct {
		col   string
		width float64
	}{{"A", 34}, {"B", 70}, {"C", 3}, {"D", 20}, {"E", 13}, {"F", 3}, {"G", 17}, {"H", 18}, {"I", 3}, {"J", 20}, {"K", 12}} {
		if err := f.SetColWidth(sh, w.col, w.col, w.width); err != nil {
			return err
		}
	}
	top := fmt.Sprintf("A%d", summaryHeaderRow+1)
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: summaryHeaderRow, TopLeftCell: top, ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	set := func(cell string, v any, style int) error {
		if v == nil {
			return nil
		}
		if err := f.SetCellValue(sh, cell, v); err != nil {
			return err
		}
		if style != 0 {
			return f.SetCellStyle(sh, cell, cell, style)
		}
		return nil
	}
	if err := b.verdictRow(s.Verdict); err != nil {
		return err
	}
	head, first := summaryHeaderRow, summaryHeaderRow+1 // header row, first data row
	if err := set(fmt.Sprintf("A%d", head), "field", b.sHeader); err != nil {
		return err
	}
	if err := set(fmt.Sprintf("B%d", head), "value", b.sHeader); err != nil {
		return err
	}
	fields := b.summaryFields(s, fig)
	b.fields = fields
	lastRow := head + len(fields)
	for i, fl := range fields {
		v := fl.value
		if s, ok := v.(string); ok && s == "" {
			v = nil
		}
		if t, ok := v.(time.Time); ok && (t.IsZero() || t.Year() < 1900) {
			v = nil
		}
		if err := set(fmt.Sprintf("A%d", first+i), fl.name, 0); err != nil {
			return err
		}
		if err := set(fmt.Sprintf("B%d", first+i), v, fl.style); err != nil {
			return err
		}
	}
	b.tables = b.chartTables(s, fig)
	for _, t := range b.tables {
		if err := set(fmt.Sprintf("%s%d", t.labelCol, head), t.labelHead, b.sHeader); err != nil {
			return err
		}
		if err := set(fmt.Sprintf("%s%d", t.valueCol, head), t.valueHead, b.sHeader); err != nil {
			return err
		}
		for i, x := range t.rows {
			if err := set(fmt.Sprintf("%s%d", t.labelCol, first+i), x.label, 0); err != nil {
				return err
			}
			if err := set(fmt.Sprintf("%s%d", t.valueCol, first+i), x.value, t.valueStyle); err != nil {
				return err
			}
		}
		n := head + len(t.rows) // the table's last row
		lastRow = max(lastRow, n)
		if err := f.AddChart(sh, t.at, &excelize.Chart{
			Type: t.typ,
			Series: []excelize.ChartSeries{{
				Name:       summaryRef(t.valueCol, head, head),
				Categories: summaryRef(t.labelCol, first, n),
				Values:     summaryRef(t.valueCol, first, n),
			}},
			Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: t.title}}},
			Legend:     excelize.ChartLegend{Position: "none"},
			VaryColors: ptr(false),
			Dimension:  excelize.ChartDimension{Width: 640, Height: 400},
			PlotArea:   excelize.ChartPlotArea{ShowVal: true},
		}); err != nil {
			return fmt.Errorf("chart %q: %w", t.title, err)
		}
	}
	return f.SetSheetDimension(sh, fmt.Sprintf("A1:%s%d", summaryLastCol, lastRow))
}

// verdictFills are the Summary sheet's verdict cell's fill and font
// colours per level (as summary.html's banner).
var verdictFills = map[Level][2]string{
	LevelGreen: {"E3F4E6", "145524"},
	LevelAmber: {"FFF1D6", "7A3E00"},
	LevelRed:   {"FDE4E2", "8C1D18"},
}

// verdictRow writes the verdict's sentence in A1, merged across the
// sheet's columns, bold, wrapped and filled in its level's colour.
func (b *book) verdictRow(v Verdict) error {
	f, sh := b.f, SheetSummary
	last := fmt.Sprintf("%s1", summaryLastCol)
	if err := f.MergeCell(sh, "A1", last); err != nil {
		return err
	}
	if err := f.SetCellStr(sh, "A1", v.Text); err != nil {
		return err
	}
	c, ok := verdictFills[v.Level]
	if !ok {
		c = verdictFills[LevelRed]
	}
	style, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Size: 12, Color: c[1]},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c[0]}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
	})
	if err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, "A1", last, style); err != nil {
		return err
	}
	// The merged cell is about 210 characters wide: room for the lines the
	// sentence needs at 12 points.
	lines := max(2, (len([]rune(v.Text))+169)/170)
	return f.SetRowHeight(sh, 1, float64(lines)*17)
}
