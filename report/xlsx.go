package report

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
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

// maxSheetRows is the most rows a sheet of manifest.xlsx holds, its header
// included: Excel's limit. Past it, Recordings continues in "Recordings (2)"
// and so on (Failures likewise), each with the header repeated. Tests lower
// it.
var maxSheetRows = 1_048_576

// book writes manifest.xlsx: the data rows of Recordings and Failures are
// encoded as they come and spooled to temporary files in the report directory
// (see rowSpool), the Summary sheet is small, and the workbook is zipped
// straight into its file (never whole in memory), so memory does not grow
// with the number of rows.
type book struct {
	f              *excelize.File
	dir            string // for the row spools
	styles         bookStyles
	rec, fail      *table
	sHeader, sTime int
	sWall, sBytes  int
	sDec           int

	// What the Summary sheet shows, kept for summary.html.
	fields []summaryField
	tables []chartTable

	spools []*rowSpool // of the sheets written at finish (Completeness), removed by close
}

// table is Recordings or Failures: one or more sheets of the same columns.
type table struct {
	base   string // the first sheet's name
	before string // where a continuation sheet goes in tab order ("" = at the end)
	cols   []column
	sheets []*streamSheet
}

// streamSheet is one sheet written by a stream writer (its header row) and
// a row spool (its data rows).
type streamSheet struct {
	name  string
	sw    *excelize.StreamWriter
	spool *rowSpool
	rows  int // rows written, header included
}

func newBook(tmpDir string) (*book, error) {
	f := excelize.NewFile(excelize.Options{TmpDir: tmpDir})
	b := &book{f: f, dir: tmpDir}
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
	if b.styles, err = newStyles(f); err != nil {
		return err
	}
	b.sHeader, b.sTime, b.sWall, b.sBytes, b.sDec = b.styles.header, b.styles.time, b.styles.wall, b.styles.bytes, b.styles.dec
	b.rec = &table{base: SheetRecordings, before: SheetFailures, cols: manifestColumns}
	b.fail = &table{base: SheetFailures, cols: failureColumns}
	for _, t := range []*table{b.rec, b.fail} {
		if err := b.startSheet(t); err != nil {
			return err
		}
	}
	return nil
}

// startSheet begins the table's next sheet: the first is the one init
// created, the next ones are added as "Name (2)", "Name (3)", ...
func (b *book) startSheet(t *table) error {
	name := t.base
	if n := len(t.sheets); n > 0 {
		name = fmt.Sprintf("%s (%d)", t.base, n+1)
		if _, err := b.f.NewSheet(name); err != nil {
			return err
		}
		if t.before != "" {
			if err := b.f.MoveSheet(name, t.before); err != nil {
				return err
			}
		}
	}
	sw, err := b.table(name, t.cols)
	if err != nil {
		return err
	}
	t.sheets = append(t.sheets, &streamSheet{name: name, sw: sw, spool: newRowSpool(b.dir, b.styles), rows: 1})
	return nil
}

// add writes r as the next row of t, starting a new sheet when the current
// one is full.
func (b *book) add(t *table, r *Row) error {
	cur := t.sheets[len(t.sheets)-1]
	if cur.rows >= maxSheetRows {
		if err := b.startSheet(t); err != nil {
			return err
		}
		cur = t.sheets[len(t.sheets)-1]
	}
	cur.rows++
	return b.writeRow(cur.spool, cur.rows, t.cols, r)
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

func (b *book) writeRow(sp *rowSpool, row int, cols []column, r *Row) error {
	return sp.setRow(row, cols, r)
}

func (b *book) addRecording(r *Row) error { return b.add(b.rec, r) }

func (b *book) addFailure(r *Row) error { return b.add(b.fail, r) }

// finish writes the Summary sheet (figures and charts from fig), ends the
// streams and saves the workbook to w. Every sheet declares its used range
// (<dimension ref>) exactly: readers that trust it (streaming readers such
// as openpyxl's read-only mode) see all of the data.
func (b *book) finish(sum *Summary, fig *figures, w io.Writer) error {
	dims := map[string]partFix{} // sheet part -> used range and data rows
	for _, t := range []*table{b.rec, b.fail} {
		for _, sh := range t.sheets {
			last, err := excelize.CoordinatesToCellName(len(t.cols), sh.rows)
			if err != nil {
				return err
			}
			if err := sh.spool.finish(); err != nil {
				return err
			}
			dims[sheetPart(sh.sw.SheetID)] = partFix{ref: "A1:" + last, rows: sh.spool.reader()}
			// An autofilter needs a data row, even an empty one.
			filterLast, err := excelize.CoordinatesToCellName(len(t.cols), max(sh.rows, 2))
			if err != nil {
				return err
			}
			if err := b.f.AutoFilter(sh.name, "A1:"+filterLast, nil); err != nil {
				return err
			}
			if err := sh.sw.Flush(); err != nil {
				return err
			}
		}
	}
	if err := b.summarySheet(sum, fig); err != nil {
		return err
	}
	if err := b.completenessSheet(sum.Completeness, dims); err != nil {
		return err
	}
	if err := b.setProps(sum); err != nil {
		return err
	}
	// Zip straight into w: excelize's Write would build the whole file in a
	// bytes.Buffer first. (Its zip64 header fix-up for parts over 4 GiB is
	// then skipped; a manifest part is nowhere near that.)
	bw := bufio.NewWriterSize(w, 256<<10)
	var zw *dimZip
	b.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw = &dimZip{Writer: zip.NewWriter(bw), dims: dims}
		// Deflate at level 2: half the CPU time of the default (5) for a
		// workbook about a fifth larger (level 1 saves little more CPU
		// and is another tenth larger).
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, 2)
		})
		return zw
	})
	if err := b.f.Write(io.Discard); err != nil {
		return err
	}
	if zw == nil {
		return fmt.Errorf("xlsx: workbook not written")
	}
	if err := zw.check(); err != nil {
		return err
	}
	return bw.Flush()
}

// sheetPart is the zip part of the worksheet with this sheet ID (excelize
// names a new sheet's part after its ID).
func sheetPart(id int) string { return "xl/worksheets/sheet" + strconv.Itoa(id) + ".xml" }

// sheetCount returns how many sheets the table has.
func (t *table) sheetCount() int { return len(t.sheets) }

func (b *book) close() error {
	for _, t := range []*table{b.rec, b.fail} {
		if t == nil {
			continue
		}
		for _, sh := range t.sheets {
			sh.spool.close()
		}
	}
	for _, sp := range b.spools {
		sp.close()
	}
	return b.f.Close()
}

// summaryField is one line of the Summary sheet.
type summaryField struct {
	name  string
	value any
	style int
}

func (b *book) summaryFields(s *Summary, fig *figures) []summaryField {
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
		{"platform times", platformTimesNote, 0},
		{"time zone of startTimeLocal", zoneOrNone(s.TimeZone), 0},
		{"destination", s.Dest, 0},
	}
	keys := make([]string, 0, len(s.Options))
	for k := range s.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fs = append(fs, summaryField{"option " + k, optionValue(s.Options[k]), 0})
	}
	fs = append(fs,
		summaryField{"verdict", string(s.Verdict.Level), 0},
		summaryField{"exit code", s.ExitCode, 0},
		summaryField{"exit status", s.ExitStatus, 0},
		summaryField{"fatal error", s.Fatal, 0},
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
	fs = append(fs, evidenceFields(s.Evidence, b.sBytes)...)
	fs = append(fs,
		summaryField{"Recordings sheets", b.rec.sheetCount(), 0},
		summaryField{"Failures sheets", b.fail.sheetCount(), 0},
	)
	if fig != nil {
		fs = append(fs, summaryField{SHA256Sums + " lines", fig.fixityLines, 0})
		if fig.fixityLeftOut > 0 {
			fs = append(fs, summaryField{SHA256Sums + ": stored objects left out (unusable path)", fig.fixityLeftOut, 0})
		}
		if fig.fixityUnnamed > 0 {
			fs = append(fs, summaryField{SHA256Sums + ": stored objects without objectKey or SHA-256", fig.fixityUnnamed, 0})
		}
		if fig.fixityConflicts > 0 {
			fs = append(fs, summaryField{SHA256Sums + ": paths with two hashes (latest kept)", fig.fixityConflicts, 0})
		}
	}
	fs = append(fs, summaryField{"rebuilt from journal", s.Rebuilt, 0})
	fs = append(fs, ledgerFields(s.Ledger)...)
	if len(s.MergedFrom) > 0 {
		fs = append(fs, summaryField{"merged shards", len(s.MergedFrom), 0})
		for i, d := range s.MergedFrom {
			fs = append(fs, summaryField{fmt.Sprintf("shard %d", i+1), d, 0})
		}
		fs = append(fs, summaryField{"conferences in more than one shard", len(s.DuplicateConferences), 0})
	}
	return fs
}

// maxExactInt is the largest integer a spreadsheet holds exactly (15
// significant digits): an option past it stays text.
const maxExactInt = 999_999_999_999_999

// optionValue types an option's value for its cell: "true" and "false" a
// boolean, a decimal integer or number written the way Go writes it (so
// that it reads back as the same text) a number, anything else text as
// given (a duration keeps its unit: "30s", "7 days").
func optionValue(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && strconv.FormatInt(n, 10) == v && n >= -maxExactInt && n <= maxExactInt {
		return n
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil && strconv.FormatFloat(x, 'f', -1, 64) == v && !math.IsInf(x, 0) && !math.IsNaN(x) {
		return x
	}
	return v
}

// setProps sets the workbook's document properties: creator and
// application "meetarchive <version>", created and modified the run's
// start and end, a title and subject naming the run, the verdict as its
// description.
func (b *book) setProps(s *Summary) error {
	tool := strings.TrimSpace("meetarchive " + s.Version)
	w3c := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	created, modified := w3c(s.Started), w3c(s.Finished)
	if created == "" {
		created = modified
	}
	subject := "Recordings archived by meetarchive run " + s.RunID
	if s.Shard != "" && s.Shard != "1/1" {
		subject += ", shard " + s.Shard
	}
	if len(s.MergedFrom) > 0 {
		subject += fmt.Sprintf(", merged from %d reports", len(s.MergedFrom))
	}
	if s.DateRange != "" {
		subject += ", recordings of " + s.DateRange
	}
	if s.Dest != "" {
		subject += ", into " + s.Dest
	}
	if err := b.f.SetDocProps(&excelize.DocProperties{
		Title:          "meetarchive manifest of run " + s.RunID,
		Subject:        subject,
		Description:    s.Verdict.Text,
		Creator:        tool,
		LastModifiedBy: tool,
		Identifier:     s.RunID,
		Category:       "audit manifest",
		Language:       "en",
		Created:        created,
		Modified:       modified,
	}); err != nil {
		return fmt.Errorf("document properties: %w", err)
	}
	if err := b.f.SetAppProps(&excelize.AppProperties{Application: tool}); err != nil {
		return fmt.Errorf("application properties: %w", err)
	}
	return nil
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

// partFix is what dimZip does to a streamed sheet's part: set its used
// range and splice its data rows in before </sheetData>.
type partFix struct {
	ref  string
	rows io.Reader
}

// dimZip is the zip writer excelize writes the workbook through. It
// completes each streamed sheet: excelize's stream writer writes the
// <dimension> element before the first row, so it always says "A1", and
// the sheet's part holds only the header row (the data rows are in the
// sheet's row spool).
type dimZip struct {
	*zip.Writer
	dims  map[string]partFix // part name -> what to do
	fixed map[string]*dimFixer
}

func (z *dimZip) Create(name string) (io.Writer, error) {
	w, err := z.Writer.Create(name)
	if err != nil {
		return nil, err
	}
	fix, ok := z.dims[name]
	if !ok {
		return w, nil
	}
	fx := &dimFixer{w: w, fix: fix}
	if z.fixed == nil {
		z.fixed = map[string]*dimFixer{}
	}
	z.fixed[name] = fx
	return fx, nil
}

// check reports a sheet that was not completed.
func (z *dimZip) check() error {
	for name := range z.dims {
		fx := z.fixed[name]
		if fx == nil || !fx.done {
			return fmt.Errorf("%s: not completed", name)
		}
		if fx.err != nil {
			return fmt.Errorf("%s: %w", name, fx.err)
		}
	}
	return nil
}

// dimFixer collects a streamed sheet's part (a few KiB: the header row),
// sets the ref of its <dimension>, and writes it with the data rows before
// </sheetData>.
type dimFixer struct {
	w       io.Writer
	fix     partFix
	pending []byte
	done    bool
	err     error
}

// dimPartLimit bounds the part collected: past it the part is passed
// through unchanged and check reports it.
const dimPartLimit = 4 << 20

func (d *dimFixer) Write(p []byte) (int, error) {
	if d.done {
		return d.w.Write(p)
	}
	d.pending = append(d.pending, p...)
	if !bytes.Contains(d.pending, []byte("</worksheet>")) {
		if len(d.pending) > dimPartLimit {
			d.done, d.err = true, errors.New("sheet part too large to complete")
			out := d.pending
			d.pending = nil
			if _, err := d.w.Write(out); err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	part := d.pending
	d.pending, d.done = nil, true
	const open = `<dimension ref="`
	i := bytes.Index(part, []byte(open))
	j := -1
	if i >= 0 {
		j = bytes.IndexByte(part[i+len(open):], '"')
	}
	end := bytes.LastIndex(part, []byte("</sheetData>"))
	if i < 0 || j < 0 || end < i {
		d.err = errors.New("no <dimension> before </sheetData>")
		if _, err := d.w.Write(part); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	start := i + len(open)
	for _, b := range [][]byte{part[:start], []byte(d.fix.ref), part[start+j : end]} {
		if _, err := d.w.Write(b); err != nil {
			return 0, err
		}
	}
	if _, err := io.Copy(d.w, d.fix.rows); err != nil {
		return 0, err
	}
	if _, err := d.w.Write(part[end:]); err != nil {
		return 0, err
	}
	return len(p), nil
}
