package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/xuri/excelize/v2"
)

// rowSpool holds the data rows of one big sheet (Recordings, Failures and
// their continuations) outside the workbook until it is saved.
//
// excelize's stream writer keeps a sheet's XML in a buffer that spills to
// disk only past 16 MiB, and keeps the buffer's capacity (32 MiB) until the
// workbook is closed. Instead, the rows are encoded in chunks of
// spoolChunkRows by excelize's own stream writer on a small scratch
// workbook that has the same styles (so the cells are exactly what excelize
// writes), and the encoded <row> elements are appended to a temporary file.
// When the workbook is saved, the sheet's part (which holds only the header
// row) gets the file's rows spliced in before </sheetData>.
type rowSpool struct {
	dir     string
	styles  bookStyles
	tmp     *os.File
	bw      *bufio.Writer
	scratch *excelize.File
	sw      *excelize.StreamWriter
	n       int // rows in the current chunk
}

// spoolChunkRows is how many rows one scratch workbook encodes (about 2
// MiB of XML for manifest rows). A variable so that a test can lower it.
var spoolChunkRows = 1000

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

// setRow encodes a data row (row > 1) of the sheet.
func (s *rowSpool) setRow(row int, vals []any) error {
	if s.sw == nil {
		if err := s.startChunk(); err != nil {
			return err
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, row)
	if err != nil {
		return err
	}
	if err := s.sw.SetRow(cell, vals); err != nil {
		return err
	}
	s.n++
	if s.n == spoolChunkRows {
		return s.endChunk()
	}
	return nil
}

func (s *rowSpool) startChunk() error {
	f := excelize.NewFile(excelize.Options{TmpDir: s.dir})
	st, err := newStyles(f)
	if err == nil && st != s.styles {
		err = fmt.Errorf("scratch workbook styles %v differ from the workbook's %v", st, s.styles)
	}
	if err != nil {
		_ = f.Close()
		return err
	}
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		_ = f.Close()
		return err
	}
	s.scratch, s.sw, s.n = f, sw, 0
	return nil
}

// endChunk saves the scratch workbook's sheet part and appends its rows
// to the spool file.
func (s *rowSpool) endChunk() error {
	if s.sw == nil {
		return nil
	}
	f, sw := s.scratch, s.sw
	s.scratch, s.sw = nil, nil
	defer func() { _ = f.Close() }()
	if err := sw.Flush(); err != nil {
		return err
	}
	// Save the scratch workbook, keeping only its sheet part.
	zc := &partCapture{name: sheetPart(1)}
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zc })
	if err := f.Write(io.Discard); err != nil {
		return err
	}
	part := zc.buf.Bytes()
	start := bytes.Index(part, []byte("<sheetData>"))
	end := bytes.LastIndex(part, []byte("</sheetData>"))
	if start < 0 || end < start {
		return errors.New("encoded rows not found in the scratch sheet")
	}
	if s.tmp == nil {
		tmp, err := os.CreateTemp(s.dir, "."+ManifestXLSX+".*.rows.tmp")
		if err != nil {
			return err
		}
		s.tmp, s.bw = tmp, bufio.NewWriterSize(tmp, 256<<10)
	}
	_, err := s.bw.Write(part[start+len("<sheetData>") : end])
	return err
}

// finish ends the last chunk and readies the spool for reading.
func (s *rowSpool) finish() error {
	if err := s.endChunk(); err != nil {
		return err
	}
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

// close removes the spool file and any scratch workbook.
func (s *rowSpool) close() {
	if s.scratch != nil {
		_ = s.scratch.Close()
		s.scratch, s.sw = nil, nil
	}
	if s.tmp != nil {
		_ = s.tmp.Close()
		_ = os.Remove(s.tmp.Name())
		s.tmp = nil
	}
}

// partCapture is a zip writer that keeps one part and discards the rest.
type partCapture struct {
	name string
	buf  bytes.Buffer
}

func (z *partCapture) Create(name string) (io.Writer, error) {
	if name == z.name {
		return &z.buf, nil
	}
	return io.Discard, nil
}

func (z *partCapture) AddFS(fs.FS) error { return nil }
func (z *partCapture) Close() error      { return nil }
