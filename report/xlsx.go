package report

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet names of manifest.xlsx, in tab order.
const (
	SheetSummary    = "Summary"
	SheetRecordings = "Recordings"
	SheetFailures   = "Failures"
)

// Number formats of manifest.xlsx.
const (
	fmtDateTime = "yyyy-mm-dd hh:mm:ss"
	fmtWallTime = "yyyy-mm-dd hh:mm"
	fmtBytes    = "#,##0"
	fmtDecimal  = "#,##0.00"
)

// book writes manifest.xlsx with excelize's stream writer: rows go to a
// buffer that spills to a temporary file in the report directory past 16
// MiB, and the workbook is zipped straight into its file (never whole in
// memory), so memory does not grow with the number of rows.
type book struct {
	f                *excelize.File
	rec, fail        *excelize.StreamWriter
	recRows, failRow int // rows written, header included
	sHeader, sTime   int
	sWall, sBytes    int
	sDec             int
	vals             []any
}

func newBook(tmpDir string) (*book, error) {
	f := excelize.NewFile(excelize.Options{TmpDir: tmpDir})
	b := &book{f: f}
	if err := b.init(); err != nil {
		_ = f.Close()
		return nil, err
	}
	return b, nil
}

func (b *book) init() error {
	f := b.f
	// The default "Sheet1" becomes Summary; the other two follow it.
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return err
	}
	for _, name := range []string{SheetRecordings, SheetFailures} {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	var err error
	if b.sHeader, err = f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	}); err != nil {
		return err
	}
	if b.sTime, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(fmtDateTime)}); err != nil {
		return err
	}
	if b.sWall, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(fmtWallTime)}); err != nil {
		return err
	}
	if b.sBytes, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(fmtBytes)}); err != nil {
		return err
	}
	if b.sDec, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(fmtDecimal)}); err != nil {
		return err
	}
	if b.rec, err = b.table(SheetRecordings, manifestColumns); err != nil {
		return err
	}
	if b.fail, err = b.table(SheetFailures, failureColumns); err != nil {
		return err
	}
	b.recRows, b.failRow = 1, 1
	return nil
}

func ptr[T any](v T) *T { return &v }

// table starts a sheet: column widths, a frozen bold header row.
func (b *book) table(sheet string, cols []column) (*excelize.StreamWriter, error) {
	sw, err := b.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for i, c := range cols {
		// Fit the header (plus the filter button) and the column's typical content.
		w := max(c.width, float64(len(c.name))+4)
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = excelize.Cell{StyleID: b.sHeader, Value: c.name}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{StyleID: b.sHeader}); err != nil {
		return nil, err
	}
	return sw, nil
}

// cell converts a column value to a typed cell value. Text is always a
// plain string value: the stream writer writes it as an inline string, never
// as a formula (that needs Cell.Formula, which is never set).
func (b *book) cell(c *column, v any) any {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		if c.kind == kindWallTime {
			if t, ok := parseWallTime(v); ok && t.Year() >= 1900 {
				return excelize.Cell{StyleID: b.sWall, Value: t}
			}
		}
		return v
	case time.Time:
		if v.IsZero() || v.Year() < 1900 {
			return nil
		}
		return excelize.Cell{StyleID: b.sTime, Value: v.UTC().Truncate(time.Second)}
	case int64:
		if c.kind == kindBytes {
			return excelize.Cell{StyleID: b.sBytes, Value: v}
		}
		return v
	default:
		return v
	}
}

func (b *book) writeRow(sw *excelize.StreamWriter, row int, cols []column, r *Row) error {
	if cap(b.vals) < len(cols) {
		b.vals = make([]any, len(cols))
	}
	vals := b.vals[:len(cols)]
	for i := range cols {
		vals[i] = b.cell(&cols[i], cols[i].get(r))
	}
	cell, err := excelize.CoordinatesToCellName(1, row)
	if err != nil {
		return err
	}
	return sw.SetRow(cell, vals)
}

func (b *book) addRecording(r *Row) error {
	b.recRows++
	return b.writeRow(b.rec, b.recRows, manifestColumns, r)
}

func (b *book) addFailure(r *Row) error {
	b.failRow++
	return b.writeRow(b.fail, b.failRow, failureColumns, r)
}

// finish writes the Summary sheet, ends the streams and saves the workbook
// to w.
func (b *book) finish(sum *Summary, w io.Writer) error {
	for _, t := range []struct {
		sheet string
		sw    *excelize.StreamWriter
		rows  int
		cols  int
	}{{SheetRecordings, b.rec, b.recRows, len(manifestColumns)}, {SheetFailures, b.fail, b.failRow, len(failureColumns)}} {
		last, err := excelize.CoordinatesToCellName(t.cols, max(t.rows, 2))
		if err != nil {
			return err
		}
		if err := b.f.AutoFilter(t.sheet, "A1:"+last, nil); err != nil {
			return err
		}
		if err := t.sw.Flush(); err != nil {
			return err
		}
	}
	if err := b.summarySheet(sum); err != nil {
		return err
	}
	// Zip straight into w: excelize's Write would build the whole file in a
	// bytes.Buffer first. (Its zip64 header fix-up for parts over 4 GiB is
	// then skipped; a manifest part is nowhere near that.)
	bw := bufio.NewWriterSize(w, 256<<10)
	var zw *zip.Writer
	b.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw = zip.NewWriter(bw)
		return zw
	})
	if err := b.f.Write(io.Discard); err != nil {
		return err
	}
	if zw == nil {
		return fmt.Errorf("xlsx: workbook not written")
	}
	return bw.Flush()
}

func (b *book) close() error { return b.f.Close() }

// summaryField is one line of the Summary sheet.
type summaryField struct {
	name  string
	value any
	style int
}

func (b *book) summarySheet(s *Summary) error {
	sw, err := b.f.NewStreamWriter(SheetSummary)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 1, 34); err != nil {
		return err
	}
	if err := sw.SetColWidth(2, 2, 70); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	fields := b.summaryFields(s)
	if err := sw.SetRow("A1", []any{
		excelize.Cell{StyleID: b.sHeader, Value: "field"},
		excelize.Cell{StyleID: b.sHeader, Value: "value"},
	}, excelize.RowOpts{StyleID: b.sHeader}); err != nil {
		return err
	}
	for i, fl := range fields {
		v := fl.value
		if s, ok := v.(string); ok && s == "" {
			v = nil
		}
		if t, ok := v.(time.Time); ok && (t.IsZero() || t.Year() < 1900) {
			v = nil
		}
		if v != nil && fl.style != 0 {
			v = excelize.Cell{StyleID: fl.style, Value: v}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{fl.name, v}); err != nil {
			return err
		}
	}
	return sw.Flush()
}

func (b *book) summaryFields(s *Summary) []summaryField {
	t := func(v time.Time) time.Time { return v.UTC().Truncate(time.Second) }
	fs := []summaryField{
		{"run id", s.RunID, 0},
		{"tool version", s.Version, 0},
		{"shard", s.Shard, 0},
		{"started (UTC)", t(s.Started), b.sTime},
		{"finished (UTC)", t(s.Finished), b.sTime},
		{"duration (s)", s.DurationSecs, b.sDec},
		{"input", s.Input, 0},
		{"input SHA-256", s.InputSHA256, 0},
		{"date range", s.DateRange, 0},
		{"destination", s.Dest, 0},
	}
	keys := make([]string, 0, len(s.Options))
	for k := range s.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fs = append(fs, summaryField{"option " + k, s.Options[k], 0})
	}
	fs = append(fs,
		summaryField{"exit code", s.ExitCode, 0},
		summaryField{"exit status", s.ExitStatus, 0},
		summaryField{"conferences", s.Conferences, 0},
	)
	for _, st := range countKeys(s.Counts) {
		fs = append(fs, summaryField{"conferences " + string(st), s.Counts[st], 0})
	}
	fs = append(fs,
		summaryField{"files", s.Files, 0},
		summaryField{"rows", s.Rows, 0},
		summaryField{"bytes archived", s.BytesArchived, b.sBytes},
		summaryField{"average throughput (bytes/s)", s.ThroughputBytesPerSec, b.sBytes},
	)
	if s.EstimatedBytes != 0 {
		fs = append(fs, summaryField{"estimated bytes (dry run)", s.EstimatedBytes, b.sBytes})
	}
	fs = append(fs, summaryField{"rebuilt from journal", s.Rebuilt, 0})
	if len(s.MergedFrom) > 0 {
		fs = append(fs, summaryField{"merged shards", len(s.MergedFrom), 0})
		for i, d := range s.MergedFrom {
			fs = append(fs, summaryField{fmt.Sprintf("shard %d", i+1), d, 0})
		}
		fs = append(fs, summaryField{"conferences in more than one shard", len(s.DuplicateConferences), 0})
	}
	return fs
}

// countKeys lists the statuses of counts: the known ones in display order,
// then any others sorted.
func countKeys(counts map[Status]int) []Status {
	keys := Statuses()
	known := make(map[Status]bool, len(keys))
	for _, k := range keys {
		known[k] = true
	}
	var extra []Status
	for k := range counts {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	return append(keys, extra...)
}
