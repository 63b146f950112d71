package report

import (
	"strconv"

	"github.com/xuri/excelize/v2"
)

// SheetCompleteness is the sheet of manifest.xlsx with a run's
// reconciliation (present only when the run made one: see Completeness).
const SheetCompleteness = "Completeness"

// CompletenessColumns are the columns of the Completeness sheet's table of
// conferences (A onwards), one row per CompletenessLine, unaccounted first.
func CompletenessColumns() []string {
	out := make([]string, len(completenessCols))
	for i, c := range completenessCols {
		out[i] = c.name
	}
	return out
}

// completenessCols are the sheet's columns: the table (A:J), an empty
// column (K), the field/value block (L:M). Only name, width and kind are
// used.
var completenessCols = []column{
	{name: "confUUID", width: 36}, {name: "startTime", width: 18, kind: kindWallTime}, {name: "subject", width: 40},
	{name: "fate", width: 20}, {name: "accounted", width: 11}, {name: "listed", width: 8}, {name: "inHistory", width: 10},
	{name: "stored", width: 8}, {name: "runStatus", width: 18}, {name: "hint", width: 70},
}

// completenessFieldCol is the 0-based column of the field/value block
// (L, M), beside the table after an empty column.
const completenessFieldCol = 11

// completenessSheet adds the Completeness sheet (nothing when c is nil),
// streamed as Recordings is (a header by excelize's stream writer, the
// rows encoded into a spool spliced in when the workbook is saved: dims),
// so that a window of many conferences costs no memory per line: the
// table of conferences in A:J (header frozen, with an autofilter;
// startTime as the platform's wall clock, booleans as booleans) and,
// beside it in L:M, the window, the sentence, the counts, each source,
// each fate and each finding.
func (b *book) completenessSheet(c *Completeness, dims map[string]partFix) error {
	if c == nil {
		return nil
	}
	sh := SheetCompleteness
	if _, err := b.f.NewSheet(sh); err != nil {
		return err
	}
	header := append(append([]column{}, completenessCols...), column{name: "", width: 3}, column{name: "field", width: 34}, column{name: "value", width: 90})
	sw, err := b.table(sh, header)
	if err != nil {
		return err
	}
	sp := newRowSpool(b.dir, b.styles)
	b.spools = append(b.spools, sp)
	fields := completenessFields(c)
	rows := max(len(c.Lines), len(fields)) + 1
	for row := 2; row <= rows; row++ {
		var cells []any
		if i := row - 2; i < len(c.Lines) {
			l := c.Lines[i]
			cells = []any{l.ConfUUID, l.StartTime, l.Subject, string(l.Fate), l.Fate.Accounted(), l.Listed, l.InHistory, l.Stored, string(l.Status), l.Hint}
		}
		var kv []any
		if i := row - 2; i < len(fields) {
			kv = fields[i]
		}
		if err := sp.setCells(row, cells, kv); err != nil {
			return err
		}
	}
	if err := sp.finish(); err != nil {
		return err
	}
	last, err := excelize.CoordinatesToCellName(len(header), rows)
	if err != nil {
		return err
	}
	dims[sheetPart(sw.SheetID)] = partFix{ref: "A1:" + last, rows: sp.reader()}
	filterLast, err := excelize.CoordinatesToCellName(len(completenessCols), max(len(c.Lines)+1, 2))
	if err != nil {
		return err
	}
	if err := b.f.AutoFilter(sh, "A1:"+filterLast, nil); err != nil {
		return err
	}
	return sw.Flush()
}

// setCells encodes data row row of the Completeness sheet: the line's
// cells from A, the field and value from L.
func (s *rowSpool) setCells(row int, line, kv []any) error {
	if err := s.open(); err != nil {
		return err
	}
	b := append(s.buf[:0], `<row r="`...)
	b = strconv.AppendInt(b, int64(row), 10)
	b = append(b, `">`...)
	for i, v := range line {
		b = s.appendCell(b, &completenessCols[i], i, row, v)
	}
	for i, v := range kv {
		b = s.appendCell(b, &column{}, completenessFieldCol+i, row, v)
	}
	b = append(b, `</row>`...)
	s.buf = b
	_, err := s.bw.Write(b)
	return err
}

// completenessFields are the sheet's field/value pairs.
func completenessFields(c *Completeness) [][]any {
	fields := [][]any{
		{"window", c.Window},
		{"sentence", c.Sentence},
		{"complete", c.Complete()},
		{"platformChecked", c.PlatformChecked},
		{"reported", c.Reported},
		{"accounted", c.Accounted},
		{"unaccounted", c.UnaccountedCount()},
		{"conferences", c.Conferences},
	}
	for _, s := range c.Sources {
		p := "source " + s.Name + ": "
		fields = append(fields, []any{p + "conferences", s.Conferences}, []any{p + "calls", s.Calls})
		if s.Declared >= 0 {
			fields = append(fields, []any{p + "declared count", s.Declared}, []any{p + "distinct", s.Distinct})
		}
		if s.Error != "" {
			fields = append(fields, []any{p + "error", s.Error})
		}
	}
	for _, fate := range Fates() {
		fields = append(fields, []any{"fate " + string(fate), c.Fates[fate].Conferences})
	}
	for i, fd := range c.Findings {
		fields = append(fields, []any{"finding " + strconv.Itoa(i+1) + " (" + fd.Code + ")", fd.Text})
	}
	return fields
}
