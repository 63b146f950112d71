package report

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// rowSpool holds the data rows of one big sheet (Recordings, Failures and
// their continuations) outside the workbook until it is saved.
//
// excelize's stream writer keeps a sheet's XML in a buffer that spills to
// disk only past 16 MiB, keeps the buffer's capacity (32 MiB) until the
// workbook is closed, and costs several allocations per cell. Instead, the
// rows are encoded here, as excelize's stream writer encodes them (inline
// strings, numbers, booleans; the workbook's style IDs for dates and
// sizes; an empty value is no cell at all), and appended to a temporary
// file. When the workbook is saved, the sheet's part (which holds only the
// header row) gets the file's rows spliced in before </sheetData>.
type rowSpool struct {
	dir    string
	styles bookStyles
	tmp    *os.File
	bw     *bufio.Writer
	buf    []byte // the row being encoded
}

// bookStyles are the style IDs of a workbook, created in this order.
type bookStyles struct {
	header, time, wall, bytes, dec int
}

func newStyles(f *excelize.File) (bookStyles, error) {
	var s bookStyles
	var err error
	if s.header, err = f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	}); err != nil {
		return s, err
	}
	if s.time, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(fmtDateTime)}); err != nil {
		return s, err
	}
	if s.wall, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(fmtWallTime)}); err != nil {
		return s, err
	}
	if s.bytes, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(fmtBytes)}); err != nil {
		return s, err
	}
	if s.dec, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(fmtDecimal)}); err != nil {
		return s, err
	}
	return s, nil
}

func newRowSpool(dir string, styles bookStyles) *rowSpool {
	return &rowSpool{dir: dir, styles: styles}
}

// colLetters are the column names A, B, ... of the widest table.
var colLetters = func() []string {
	n := max(len(manifestColumns), len(failureColumns))
	ls := make([]string, n)
	for i := range ls {
		ls[i], _ = excelize.ColumnNumberToName(i + 1)
	}
	return ls
}()

// setRow encodes r as data row row (> 1) of a sheet with columns cols.
func (s *rowSpool) setRow(row int, cols []column, r *Row) error {
	if err := s.open(); err != nil {
		return err
	}
	b := append(s.buf[:0], `<row r="`...)
	b = strconv.AppendInt(b, int64(row), 10)
	b = append(b, `">`...)
	noFile := namesNoFile(r)
	for i := range cols {
		c := &cols[i]
		if v := c.get(r); !c.isBlank(v, noFile) {
			b = s.appendCell(b, c, i, row, v)
		}
	}
	b = append(b, `</row>`...)
	s.buf = b
	_, err := s.bw.Write(b)
	return err
}

// open creates the spool file on first use.
func (s *rowSpool) open() error {
	if s.tmp != nil {
		return nil
	}
	tmp, err := os.CreateTemp(s.dir, "."+ManifestXLSX+".*.rows.tmp")
	if err != nil {
		return err
	}
	s.tmp, s.bw = tmp, bufio.NewWriterSize(tmp, 256<<10)
	return nil
}

// appendCell appends the cell of column c (index i) in row row holding v,
// typed as the column says; an empty value (nil, "", a zero or pre-1900
// time) is no cell, and neither is a zero the column's blankRule leaves
// out (see setRow).
func (s *rowSpool) appendCell(b []byte, c *column, i, row int, v any) []byte {
	switch v := v.(type) {
	case nil:
		return b
	case string:
		if v == "" {
			return b
		}
		if c.kind == kindWallTime {
			if t, ok := parseWallTime(v); ok && t.Year() >= 1900 {
				return appendTimeCell(b, i, row, s.styles.wall, t)
			}
		}
		b = appendCellStart(b, i, row, 0, "inlineStr")
		b = append(b, `<is><t`...)
		if f, l := v[0], v[len(v)-1]; isXMLSpace(f) || isXMLSpace(l) {
			b = append(b, ` xml:space="preserve"`...)
		}
		b = append(b, '>')
		b = appendCellText(b, v)
		return append(b, `</t></is></c>`...)
	case time.Time:
		if v.IsZero() || v.Year() < 1900 {
			return b
		}
		return appendTimeCell(b, i, row, s.styles.time, v.UTC().Truncate(time.Second))
	case int64:
		style := 0
		if c.kind == kindBytes {
			style = s.styles.bytes
		}
		b = appendCellStart(b, i, row, style, "")
		b = append(b, `<v>`...)
		b = strconv.AppendInt(b, v, 10)
		return append(b, `</v></c>`...)
	case int:
		b = appendCellStart(b, i, row, 0, "")
		b = append(b, `<v>`...)
		b = strconv.AppendInt(b, int64(v), 10)
		return append(b, `</v></c>`...)
	case bool:
		b = appendCellStart(b, i, row, 0, "b")
		if v {
			return append(b, `<v>1</v></c>`...)
		}
		return append(b, `<v>0</v></c>`...)
	default:
		return s.appendCell(b, c, i, row, csvText(v))
	}
}

func isXMLSpace(c byte) bool { return c == '\t' || c == '\n' || c == '\r' || c == ' ' }

// appendCellStart appends `<c r="B7" s="2" t="...">`.
func appendCellStart(b []byte, i, row, style int, typ string) []byte {
	b = append(b, `<c r="`...)
	b = append(b, colLetters[i]...)
	b = strconv.AppendInt(b, int64(row), 10)
	b = append(b, '"')
	if style != 0 {
		b = append(b, ` s="`...)
		b = strconv.AppendInt(b, int64(style), 10)
		b = append(b, '"')
	}
	if typ != "" {
		b = append(b, ` t="`...)
		b = append(b, typ...)
		b = append(b, '"')
	}
	return append(b, '>')
}

func appendTimeCell(b []byte, i, row, style int, t time.Time) []byte {
	b = appendCellStart(b, i, row, style, "")
	b = append(b, `<v>`...)
	b = strconv.AppendFloat(b, excelSerial(t), 'f', -1, 64)
	return append(b, `</v></c>`...)
}

// The 1900 date system, as excelize computes it.
var (
	excelEpoch1900 = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)
	excelLeapBug   = time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)
)

// excelSerial is t (UTC, not before 1900) as an Excel serial date-time,
// computed as excelize computes it, so a cell reads back to the same time.
func excelSerial(t time.Time) float64 {
	const day = 24 * time.Hour
	const step = 290 * 364 * day // below time.Duration's limit
	tt, diff, result := t, t.Sub(excelEpoch1900), 0.0
	for diff >= step {
		result += float64(step / day)
		tt = tt.Add(-step)
		diff = tt.Sub(excelEpoch1900)
	}
	rem := diff % day
	result += float64(diff-rem)/float64(day) + float64(rem)/float64(day)
	if t.After(excelLeapBug) {
		result++
	}
	return result
}

// appendCellText appends s as the text of an inline string: cut to
// Excel's 32,767 characters (UTF-16 units), '&', '<', '>' and CR escaped,
// characters XML cannot carry replaced by U+FFFD, and a literal "_xHHHH_"
// escaped as "_x005F_xHHHH_" (else a reader would decode it).
func appendCellText(b []byte, s string) []byte {
	if len(s) > excelize.TotalCellChars {
		s = cutUTF16(s, excelize.TotalCellChars)
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if cellTextPlain[c] {
			i++
			continue
		}
		var esc string
		size := 1
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '\r':
				esc = "&#xD;"
			case c == '\t' || c == '\n':
			case c < 0x20:
				esc = "\uFFFD"
			case c == '_' && isBstrEscape(s[i:]):
				esc = "_x005F_"
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			}
		}
		if esc != "" {
			b = append(b, s[start:i]...)
			b = append(b, esc...)
			start = i + size
		}
		i += size
	}
	return append(b, s[start:]...)
}

// cellTextPlain marks the bytes appendCellText copies as they are.
var cellTextPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range "&<>_" {
		t[c] = false
	}
	t['\t'], t['\n'], t[0x7f] = true, true, true
	return t
}()

// isBstrEscape reports whether s starts with "_xHHHH_".
func isBstrEscape(s string) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// cutUTF16 cuts s to at most n UTF-16 units, at a character boundary.
func cutUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		if units+u > n {
			return s[:i]
		}
		units += u
	}
	return s
}

// finish readies the spool for reading.
func (s *rowSpool) finish() error {
	if s.tmp == nil {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	_, err := s.tmp.Seek(0, io.SeekStart)
	return err
}

// reader returns the encoded rows (after finish).
func (s *rowSpool) reader() io.Reader {
	if s.tmp == nil {
		return bytes.NewReader(nil)
	}
	return s.tmp
}

// close removes the spool file.
func (s *rowSpool) close() {
	if s.tmp != nil {
		_ = s.tmp.Close()
		_ = os.Remove(s.tmp.Name())
		s.tmp = nil
	}
}
