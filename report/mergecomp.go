package report

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// windowFindings are the finding codes about the whole window's recording
// list or meeting history (or a run without a window) rather than about a
// shard's own conferences: every shard of a run reports them, so a merge
// keeps each once (see mergeCompleteness).
var windowFindings = map[string]bool{
	FindingListShort: true, FindingListOver: true,
	FindingHistoryShort: true, FindingHistoryOver: true,
	FindingHistoryUnread: true, FindingHistoryRetention: true,
	FindingListUnread: true, FindingNoWindow: true,
}

// mergeCompleteness combines the shards' reconciliations (sums[i] read from
// dirs[i]) into the merged report's Completeness, tallied (Tally): nil and
// no warning when no shard has one; nil and a warning saying why when only
// some have one, when their windows (Window, PlatformChecked) differ, or
// when a shard's lines cannot be read from the Completeness sheet of its
// manifest.xlsx (summary.json holds only the unaccounted lines).
//
// The lines are every shard's, a conference in two shards once (the line
// of the first shard that accounts for it, else the first shard's); the
// sources are combined by name (the counts and calls summed; a list's or
// the history's declared count and distinct entries are the whole
// window's: kept from the first shard); a finding about the whole window
// (windowFindings) is kept once (the one leaving most unaccounted),
// others are every shard's. Tally then recomputes the counts, the fates,
// the unaccounted lines and the sentence.
func mergeCompleteness(dirs []string, sums []Summary) (*Completeness, string) {
	if !slices.ContainsFunc(sums, func(s Summary) bool { return s.Completeness != nil }) {
		return nil, ""
	}
	if why := unmergeable(dirs, sums); why != "" {
		return nil, "no completeness in the merged report: " + why
	}
	first := sums[0].Completeness
	m := &Completeness{Window: first.Window, PlatformChecked: first.PlatformChecked}
	at := map[string]int{} // confUUID -> index in m.Lines
	srcAt := map[string]int{}
	findAt := map[string]int{}
	for i, d := range dirs {
		c := sums[i].Completeness
		lines, err := ReadCompletenessLines(filepath.Join(d, ManifestXLSX), c.Conferences)
		if err == nil && len(lines) != c.Conferences {
			err = fmt.Errorf("its Completeness sheet has %d lines, its summary.json counts %d", len(lines), c.Conferences)
		}
		if err != nil {
			return nil, fmt.Sprintf("no completeness in the merged report: the lines of %s cannot be read: %v", shardList(dirs, []int{i}), err)
		}
		for _, l := range lines {
			j, ok := at[l.ConfUUID]
			if !ok {
				at[l.ConfUUID] = len(m.Lines)
				m.Lines = append(m.Lines, l)
				continue
			}
			if !m.Lines[j].Fate.Accounted() && l.Fate.Accounted() {
				m.Lines[j] = l
			}
		}
		for _, s := range c.Sources {
			j, ok := srcAt[s.Name]
			if !ok {
				srcAt[s.Name] = len(m.Sources)
				m.Sources = append(m.Sources, s)
				continue
			}
			t := &m.Sources[j]
			t.Conferences += s.Conferences
			t.Calls += s.Calls
			if t.Declared < 0 { // not a list: nothing of the whole window
				t.Distinct += s.Distinct
			}
			if s.Error != "" && !strings.Contains(t.Error, s.Error) {
				t.Error = strings.TrimPrefix(t.Error+" | "+s.Error, " | ")
			}
		}
		for _, f := range c.Findings {
			if !windowFindings[f.Code] {
				m.Findings = append(m.Findings, f)
				continue
			}
			j, ok := findAt[f.Code]
			if !ok {
				findAt[f.Code] = len(m.Findings)
				m.Findings = append(m.Findings, f)
				continue
			}
			if f.Unaccounted > m.Findings[j].Unaccounted {
				m.Findings[j] = f
			}
		}
	}
	m.Tally()
	return m, ""
}

// unmergeable says why the shards' completeness cannot be merged ("" when
// it can): only some have one, they checked the platform differently,
// reconciled different windows or listed it with different filters. Some
// shard has one.
func unmergeable(dirs []string, sums []Summary) string {
	var with, without []int
	for i := range sums {
		if sums[i].Completeness != nil {
			with = append(with, i)
		} else {
			without = append(without, i)
		}
	}
	if len(without) > 0 {
		return fmt.Sprintf("%s %s one and %s %s none (merge shards of one run, each with its window)",
			shardList(dirs, with), hasHave(len(with)), shardList(dirs, without), hasHave(len(without)))
	}
	first := sums[0].Completeness
	for i := 1; i < len(sums); i++ {
		c := sums[i].Completeness
		switch {
		case c.Window == first.Window && c.PlatformChecked != first.PlatformChecked:
			checked, not := 0, i
			if !first.PlatformChecked {
				checked, not = i, 0
			}
			return fmt.Sprintf("%s checked the platform for the window and %s did not (its completeness: %s)",
				shardList(dirs, []int{checked}), shardList(dirs, []int{not}), sums[not].Completeness.Sentence)
		case c.Window != first.Window:
			return fmt.Sprintf("the shards reconciled different windows (%s: %s; %s: %s): merge shards of one run",
				shardList(dirs, []int{0}), windowText(first), shardList(dirs, []int{i}), windowText(c))
		case windowFilters(&sums[0]) != windowFilters(&sums[i]):
			return fmt.Sprintf("the shards listed the window with different filters (%s: %s; %s: %s): merge shards of one run",
				shardList(dirs, []int{0}), windowFilters(&sums[0]), shardList(dirs, []int{i}), windowFilters(&sums[i]))
		}
	}
	return ""
}

// windowFilters are the filters a shard listed its window with (its
// options allUsers and search): shards of one run share them.
func windowFilters(s *Summary) string {
	return fmt.Sprintf("all users %t, search %q", s.Options[OptionAllUsers] == "true", s.Options[OptionSearch])
}

// shardList names shards by their report directories: "the report in A",
// "the reports in A and B".
func shardList(dirs []string, idx []int) string {
	parts := make([]string, len(idx))
	for k, i := range idx {
		parts[k] = dirs[i] // by directory: a position would read as a --shard number
	}
	if len(idx) == 1 {
		return "the report in " + parts[0]
	}
	return "the reports in " + andList(parts)
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

// windowText is a completeness's window for a warning.
func windowText(c *Completeness) string {
	w := c.Window
	if w == "" {
		w = "no window"
	}
	if !c.PlatformChecked {
		w += ", platform not checked"
	}
	return w
}

// ReadCompletenessLines reads the lines of the Completeness sheet of a
// manifest.xlsx (see CompletenessColumns), in sheet order: the inverse of
// writing them for every field a line has (the fate's accounted column is
// the fate's; startTime, a date-time cell, comes back as the platform's
// "YYYY-MM-DD HH:MM", or as written when it was not one). A workbook
// without the sheet, or with more than max lines (the count its summary
// states: a sheet is not read past it), is an error.
func ReadCompletenessLines(path string, max int) (lines []CompletenessLine, err error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: read %s: %w", path, err)
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	rows, err := f.Rows(SheetCompleteness)
	if err != nil {
		return nil, fmt.Errorf("report: read %s: sheet %s: %w", path, SheetCompleteness, err)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	pos := map[string]int{}
	for n := 0; rows.Next(); n++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fmt.Errorf("report: read %s: sheet %s: %w", path, SheetCompleteness, err)
		}
		cell := func(name string) string {
			if i, ok := pos[name]; ok && i < len(cells) {
				return cells[i]
			}
			return ""
		}
		if n == 0 {
			for i, h := range cells {
				if i < len(completenessCols) {
					pos[h] = i
				}
			}
			for _, c := range completenessCols {
				if _, ok := pos[c.name]; !ok {
					return nil, fmt.Errorf("report: read %s: sheet %s: no %s column", path, SheetCompleteness, c.name)
				}
			}
			continue
		}
		if cell("confUUID") == "" {
			continue // a row of the field/value block only
		}
		if len(lines) == max {
			return nil, fmt.Errorf("report: read %s: sheet %s: more than the %d lines its summary counts", path, SheetCompleteness, max)
		}
		lines = append(lines, CompletenessLine{
			ConfUUID: cell("confUUID"), Subject: cell("subject"), StartTime: wallText(cell("startTime")),
			Listed: cellBool(cell("listed")), InHistory: cellBool(cell("inHistory")), Stored: cellBool(cell("stored")),
			Status: Status(cell("runStatus")), Fate: Fate(cell("fate")), Hint: cell("hint"),
		})
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("report: read %s: sheet %s: %w", path, SheetCompleteness, err)
	}
	return lines, nil
}

// cellBool is a boolean cell's raw value ("1", "0").
func cellBool(s string) bool { return s == "1" || strings.EqualFold(s, "true") }

// wallText turns a date-time cell's serial number back into the platform's
// wall clock; any other text is as written.
func wallText(s string) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	t, err := excelize.ExcelDateToTime(v, false)
	if err != nil {
		return s
	}
	t = t.Round(time.Second)
	if t.Second() != 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}
