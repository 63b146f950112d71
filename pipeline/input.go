package pipeline

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"meetarchive/export"
	"meetarchive/report"
)

// Item is one conference to process, in input order.
type Item struct {
	Seq      int    // 0-based position among the non-blank data rows
	Line     int    // 1-based line number in the file where the record starts, for messages
	ConfUUID string // the platform's form (lower-case hex) when valid; the given text, made safe, when not
	Given    string // what the input said, when it differs from ConfUUID (case, dashes)
	// Problem is "" for a conference to process, else report.InvalidInput or
	// report.DuplicateInput; Detail says why.
	Problem report.Status
	Detail  string
}

// MaxInputRecord is the longest input record (one CSV row, all its
// physical lines) that is parsed; a longer one becomes a single
// invalid-input item and is skipped without being held in memory.
const MaxInputRecord = 64 << 10

// MaxQuotedSpan is the most a quoted cell may span across lines (a
// failures.csv message or subject does; report cells are bounded well
// below this).
const MaxQuotedSpan = 8 << 10

// maxShownCell is how much of an invalid cell a message quotes.
const maxShownCell = 80

// InputReader reads the input CSV one item at a time, in constant memory
// apart from the set of conferences seen (16 bytes each) for duplicates.
//
// The CSV may have a header row (a confUUID column in any case, else the
// first column) or none, a UTF-8 BOM, CRLF line ends, blank lines,
// surrounding spaces and quoted cells that span lines (failures.csv is a
// valid input). Malformed and repeated UUIDs come back as items with a
// Problem; only a read error of the file is an error.
type InputReader struct {
	br      *bufio.Reader
	line    int // physical lines consumed
	seq     int
	col     int
	first   bool
	seen    map[[16]byte]int // conference -> 1 + seq of its first occurrence
	bomOff  bool
	pending []pendingLine // lines read ahead and given back
}

// NewInputReader reads CSV from r.
func NewInputReader(r io.Reader) *InputReader {
	return &InputReader{br: bufio.NewReaderSize(r, 64<<10), first: true, seen: map[[16]byte]int{}}
}

// Next returns the next item, or io.EOF after the last.
func (in *InputReader) Next() (Item, error) {
	for {
		rec, start, tooLong, err := in.record()
		if err != nil {
			return Item{}, err
		}
		if tooLong > 0 {
			it := Item{Seq: in.seq, Line: start, Problem: report.InvalidInput,
				Detail: fmt.Sprintf("line %d: a record of %d bytes, longer than any input line could be (%d); skipped", start, tooLong, MaxInputRecord)}
			in.seq++
			in.first = false
			return it, nil
		}
		if strings.TrimSpace(rec) == "" {
			continue
		}
		if in.first {
			fields := splitCSV(rec)
			if isBlank(fields) {
				continue
			}
			in.first = false
			if c, ok := headerColumn(fields); ok {
				in.col = c
				continue
			}
		}
		value, blank := cell(rec, in.col)
		if blank {
			continue
		}
		it := Item{Seq: in.seq, Line: start}
		in.seq++
		norm, ok := normalize(value)
		switch {
		case !ok:
			it.ConfUUID = safeText(value, maxShownCell)
			it.Problem = report.InvalidInput
			it.Detail = fmt.Sprintf("line %d: %s is not a conference UUID (32 hexadecimal characters)", start, quoteCell(value))
		default:
			it.ConfUUID = norm
			if value != norm {
				it.Given = value
			}
			key := uuidKey(norm)
			if first := in.seen[key]; first > 0 {
				it.Problem = report.DuplicateInput
				it.Detail = fmt.Sprintf("line %d: repeats the conference of input row %d", start, first)
			} else {
				in.seen[key] = it.Seq + 1
			}
		}
		return it, nil
	}
}

// record reads one CSV record: physical lines joined while a quoted cell is
// open, up to MaxQuotedSpan bytes. A quote that is still open past that is
// not a cell spanning lines but a stray quote: the first line is then a
// record on its own and the lines read after it are read again, so that
// junk cannot swallow the lines after it. A single line longer than
// MaxInputRecord is consumed and reported by its length instead.
func (in *InputReader) record() (rec string, start int, tooLong int64, err error) {
	line, tooLong, err := in.physicalLine()
	if err != nil {
		return "", 0, 0, err
	}
	start = in.line
	open := quoteOpenAfter(false, line)
	if tooLong > 0 || !open {
		return line, start, tooLong, nil
	}
	joined := line
	var more []string
	for len(joined) <= MaxQuotedSpan {
		next, long, err := in.physicalLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", 0, 0, err
		}
		if long > 0 {
			in.pending = append(in.pending, pendingLine{tooLong: long})
			break
		}
		more = append(more, next)
		joined += next
		if open = quoteOpenAfter(open, next); !open {
			return joined, start, 0, nil
		}
	}
	// A stray quote: the first line alone; the others again, in order.
	in.pending = append(pendingOf(more), in.pending...)
	in.line -= len(more)
	return line, start, 0, nil
}

// quoteOpenAfter reports whether a quoted cell is still open at the end of
// line, given whether one was open at its start. As in encoding/csv with
// LazyQuotes, a quote opens a cell only at the cell's start (after optional
// spaces); elsewhere it is a plain character; inside a quoted cell a doubled
// quote is a quote and a single one closes the cell.
func quoteOpenAfter(open bool, line string) bool {
	cellStart := !open
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case open && c == '"' && i+1 < len(line) && line[i+1] == '"':
			i++
		case open && c == '"':
			open = false
		case open:
		case c == ',':
			cellStart = true
		case c == '"' && cellStart:
			open, cellStart = true, false
		case c != ' ' && c != '\t':
			cellStart = false
		}
	}
	return open
}

// pendingLine is a physical line read ahead and given back.
type pendingLine struct {
	text    string
	tooLong int64
}

func pendingOf(lines []string) []pendingLine {
	p := make([]pendingLine, len(lines))
	for i, l := range lines {
		p[i] = pendingLine{text: l}
	}
	return p
}

// physicalLine reads one line (with its line end), or the length of one
// longer than MaxInputRecord, which is consumed without being kept.
func (in *InputReader) physicalLine() (string, int64, error) {
	if len(in.pending) > 0 {
		p := in.pending[0]
		in.pending = in.pending[1:]
		in.line++
		return p.text, p.tooLong, nil
	}
	var (
		buf     []byte
		tooLong int64
	)
	for {
		chunk, err := in.br.ReadSlice('\n')
		if in.line == 0 && len(buf) == 0 && tooLong == 0 && !in.bomOff {
			in.bomOff = true
			chunk = bytes.TrimPrefix(chunk, []byte("\xef\xbb\xbf"))
		}
		if tooLong == 0 && len(buf)+len(chunk) > MaxInputRecord {
			tooLong, buf = int64(len(buf)), nil
		}
		if tooLong > 0 {
			tooLong += int64(len(chunk))
		} else {
			buf = append(buf, chunk...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(buf) == 0 && tooLong == 0 {
				return "", 0, io.EOF
			}
		case err != nil:
			return "", 0, fmt.Errorf("input: line %d: %w", in.line+1, err)
		}
		in.line++
		return string(buf), tooLong, nil
	}
}

// cell is the trimmed col-th cell of a record, and whether the whole record
// is blank. A record without quotes (nearly every line of an input) is cut
// without copying.
func cell(rec string, col int) (value string, blank bool) {
	if strings.IndexByte(rec, '"') >= 0 {
		fields := splitCSV(rec)
		if isBlank(fields) {
			return "", true
		}
		if col < len(fields) {
			return strings.TrimSpace(fields[col]), false
		}
		return "", false
	}
	rec = strings.TrimRight(rec, "\r\n")
	if strings.Trim(rec, ", \t\r") == "" {
		return "", true
	}
	for i := 0; i < col; i++ {
		_, rest, found := strings.Cut(rec, ",")
		if !found {
			return "", false
		}
		rec = rest
	}
	value, _, _ = strings.Cut(rec, ",")
	return strings.TrimSpace(value), false
}

// splitCSV splits one record into cells the way encoding/csv does with
// LazyQuotes: quoted cells may hold commas, doubled quotes and line ends.
func splitCSV(rec string) []string {
	rec = strings.TrimRight(rec, "\r\n")
	var (
		fields []string
		cell   strings.Builder
	)
	for i := 0; ; {
		cell.Reset()
		// Leading spaces before a quote still open a quoted cell for us.
		j := i
		for j < len(rec) && (rec[j] == ' ' || rec[j] == '\t') {
			j++
		}
		if j < len(rec) && rec[j] == '"' {
			i = j + 1
			for i < len(rec) {
				c := rec[i]
				if c == '"' {
					if i+1 < len(rec) && rec[i+1] == '"' {
						cell.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				cell.WriteByte(c)
				i++
			}
			// Text after the closing quote belongs to the cell (lazy quotes).
			for i < len(rec) && rec[i] != ',' {
				cell.WriteByte(rec[i])
				i++
			}
		} else {
			for i < len(rec) && rec[i] != ',' {
				cell.WriteByte(rec[i])
				i++
			}
		}
		fields = append(fields, strings.ReplaceAll(cell.String(), "\r\n", "\n"))
		if i >= len(rec) {
			return fields
		}
		i++ // the comma
	}
}

// headerColumn reports whether record is a header row and which column holds
// the UUIDs: a cell named confUUID (any case), or, when the first cell is a
// word rather than an identifier, the first column.
func headerColumn(record []string) (int, bool) {
	for i, cell := range record {
		if strings.EqualFold(strings.TrimSpace(cell), "confUUID") {
			return i, true
		}
	}
	first := strings.TrimSpace(record[0])
	if _, ok := normalize(first); ok || first == "" {
		return 0, false
	}
	for _, r := range first {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_' || r == ' ' {
			continue
		}
		return 0, false
	}
	// Hex-only words ("face", "cafe") are not UUIDs either; a word is a header.
	return 0, true
}

func isBlank(record []string) bool {
	for _, c := range record {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// normalize is export.NormalizeConfUUID as a yes/no: the platform's form of
// a conference UUID, or false.
func normalize(s string) (string, bool) {
	norm, err := export.NormalizeConfUUID(s)
	return norm, err == nil
}

// uuidKey packs a normalised UUID into 16 bytes for the duplicate set.
func uuidKey(norm string) [16]byte {
	var k [16]byte
	_, _ = hex.Decode(k[:], []byte(norm))
	return k
}

// safeText makes untrusted text fit for a message or a report cell: control
// bytes and invalid UTF-8 escaped visibly, and at most n runes kept, with
// the original length noted when it was cut.
func safeText(s string, n int) string {
	var b strings.Builder
	runes := 0
	for i := 0; i < len(s); {
		if runes == n {
			b.WriteString("… (" + strconv.Itoa(len(s)) + " bytes)")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
		runes++
	}
	return b.String()
}

// quoteCell quotes a cell for a message, made safe and short.
func quoteCell(s string) string {
	return `"` + safeText(s, maxShownCell) + `"`
}
