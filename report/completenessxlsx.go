package report

import (
	"fmt"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// SheetCompleteness is the sheet of manifest.xlsx with a run's
// reconciliation (present only when the run made one: see Completeness).
const SheetCompleteness = "Completeness"

// CompletenessColumns are the columns of the Completeness sheet's table of
// conferences (A onwards), one row per CompletenessLine, unaccounted first.
func CompletenessColumns() []string {
	return []string{"confUUID", "startTime", "subject", "fate", "accounted", "listed", "inHistory", "stored", "runStatus", "hint"}
}

// completenessFieldCol is where the sheet's field/value block starts (two
// columns: field, value), beside the table after an empty column.
const completenessFieldCol = 12 // L

// completenessSheet writes the Completeness sheet (nothing when c is nil):
// the table of conferences in A:J (header frozen, with an autofilter;
// startTime as the platform's wall clock, booleans as booleans) and,
// beside it in L:M, the window, the sentence, the counts, each source,
// each fate and each finding. It is written with excelize's ordinary API:
// its size is the window's conferences, which the reconciliation holds in
// memory anyway.
func (b *book) completenessSheet(c *Completeness) error {
	if c == nil {
		return nil
	}
	f, sh := b.f, SheetCompleteness
	if _, err := f.NewSheet(sh); err != nil {
		return err
	}
	cols := CompletenessColumns()
	widths := []float64{36, 18, 40, 20, 11, 8, 10, 8, 18, 70, 3, 34, 90}
	for i, w := range widths {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sh, name, name, w); err != nil {
			return err
		}
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c
	}
	if err := f.SetSheetRow(sh, "A1", &header); err != nil {
		return err
	}
	last, _ := excelize.CoordinatesToCellName(len(cols), 1)
	if err := f.SetCellStyle(sh, "A1", last, b.sHeader); err != nil {
		return err
	}
	for i, l := range c.Lines {
		if err := b.completenessLine(i+2, l); err != nil {
			return err
		}
	}
	filterLast, _ := excelize.CoordinatesToCellName(len(cols), max(len(c.Lines)+1, 2))
	if err := f.AutoFilter(sh, "A1:"+filterLast, nil); err != nil {
		return err
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	n, err := b.completenessFields(c)
	if err != nil {
		return err
	}
	// The used range, declared exactly (excelize leaves "A1" on a new sheet).
	corner, _ := excelize.CoordinatesToCellName(completenessFieldCol+1, max(len(c.Lines), n)+1)
	return f.SetSheetDimension(sh, "A1:"+corner)
}

// completenessLine writes one conference in row.
func (b *book) completenessLine(row int, l CompletenessLine) error {
	f, sh := b.f, SheetCompleteness
	vals := []any{l.ConfUUID, nil, l.Subject, string(l.Fate), l.Fate.Accounted(), l.Listed, l.InHistory, l.Stored, nil, l.Hint}
	if l.Status != "" {
		vals[8] = string(l.Status)
	}
	wall := false
	if t, ok := parseWallTime(l.StartTime); ok {
		vals[1], wall = t, true
	} else if l.StartTime != "" {
		vals[1] = l.StartTime
	}
	for i, v := range vals {
		if v == nil || v == "" {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(i+1, row)
		if err := f.SetCellValue(sh, cell, v); err != nil {
			return err
		}
		if i == 1 && wall {
			if err := f.SetCellStyle(sh, cell, cell, b.sWall); err != nil {
				return err
			}
		}
	}
	return nil
}

// completenessFields writes the field/value block beside the table and
// returns how many fields it holds (rows below its header).
func (b *book) completenessFields(c *Completeness) (int, error) {
	f, sh := b.f, SheetCompleteness
	type kv struct {
		k string
		v any
	}
	fields := []kv{
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
		fields = append(fields, kv{p + "conferences", s.Conferences}, kv{p + "calls", s.Calls})
		if s.Declared >= 0 {
			fields = append(fields, kv{p + "declared count", s.Declared}, kv{p + "distinct", s.Distinct})
		}
		if s.Error != "" {
			fields = append(fields, kv{p + "error", s.Error})
		}
	}
	for _, fate := range Fates() {
		fields = append(fields, kv{"fate " + string(fate), c.Fates[fate]})
	}
	for i, fd := range c.Findings {
		fields = append(fields, kv{"finding " + strconv.Itoa(i+1) + " (" + fd.Code + ")", fd.Text})
	}
	kc, _ := excelize.ColumnNumberToName(completenessFieldCol)
	vc, _ := excelize.ColumnNumberToName(completenessFieldCol + 1)
	if err := f.SetCellValue(sh, kc+"1", "field"); err != nil {
		return 0, err
	}
	if err := f.SetCellValue(sh, vc+"1", "value"); err != nil {
		return 0, err
	}
	if err := f.SetCellStyle(sh, kc+"1", vc+"1", b.sHeader); err != nil {
		return 0, err
	}
	for i, fl := range fields {
		row := i + 2
		if err := f.SetCellValue(sh, fmt.Sprintf("%s%d", kc, row), fl.k); err != nil {
			return 0, err
		}
		if s, ok := fl.v.(string); ok && s == "" {
			continue
		}
		if err := f.SetCellValue(sh, fmt.Sprintf("%s%d", vc, row), fl.v); err != nil {
			return 0, err
		}
	}
	return len(fields), nil
}
