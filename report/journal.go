package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"
)

// journalFormat is the journal's format version (the header's "format"):
// 2 writes plan records as "p" tuples; 1 wrote them as "plan" objects.
// Both are read.
const journalFormat = 2

// record is one journal line: exactly one of its fields is set. The first
// line is a header; then the plan (one line per planned item, usually
// before any row: [seq, input line, "confUUID"]), one row per line and at
// most one fatal record, in any order; Close appends an end record. A
// reader that does not know a record (an older build) skips it. Format 1
// wrote plan records as {"plan":{"seq":0,"confUUID":"...","line":2}}.
//
//	{"header":{"format":2,"run":{...RunInfo...}}}
//	{"p":[0,2,"..."]}
//	{"row":{...Row...}}
//	{"fatal":"authentication failed: ..."}
//	{"end":{"exitCode":1,"finished":"2026-..."}}
type record struct {
	Header *journalHeader `json:"header,omitempty"`
	Row    *Row           `json:"row,omitempty"`
	Plan   *PlanItem      `json:"plan,omitempty"` // format 1
	P      *planTuple     `json:"p,omitempty"`
	Fatal  string         `json:"fatal,omitempty"`
	End    *journalEnd    `json:"end,omitempty"`
}

type journalHeader struct {
	Format int     `json:"format"`
	Run    RunInfo `json:"run"`
}

type journalEnd struct {
	ExitCode int       `json:"exitCode"`
	Finished time.Time `json:"finished"`
}

// entry locates one row in the journal: 16 bytes per row is all that stays
// in memory until the report is written.
type entry struct {
	pos  uint64 // byte offset of the line << entryLenBits | line length (without the newline)
	seq  int32
	file int32 // FileIndex
}

// A row line is at most 16 MiB (a sanitised row is well under 100 KiB) and
// the journal at most 1 TiB.
const (
	entryLenBits = 24
	maxEntryLen  = 1<<entryLenBits - 1
	maxEntryOff  = 1<<(64-entryLenBits) - 1
)

func (e entry) off() int64 { return int64(e.pos >> entryLenBits) }
func (e entry) n() int     { return int(e.pos & maxEntryLen) }

func newEntry(r *Row, off int64, n int) (entry, error) {
	if r.Seq < 0 || r.Seq > math.MaxInt32 || r.FileIndex < 0 || r.FileIndex > math.MaxInt32 {
		return entry{}, fmt.Errorf("seq %d or file index %d out of range", r.Seq, r.FileIndex)
	}
	if n < 0 || n > maxEntryLen {
		return entry{}, fmt.Errorf("row of %d bytes too large", n)
	}
	if off < 0 || off > maxEntryOff {
		return entry{}, fmt.Errorf("journal offset %d too large", off)
	}
	return entry{pos: uint64(off)<<entryLenBits | uint64(n), seq: int32(r.Seq), file: int32(r.FileIndex)}, nil
}

// sortEntries puts entries in input order: Seq, then FileIndex, then
// journal order (completion order).
func sortEntries(idx []entry) {
	slices.SortFunc(idx, func(a, b entry) int {
		if a.seq != b.seq {
			return cmpInt(int64(a.seq), int64(b.seq))
		}
		if a.file != b.file {
			return cmpInt(int64(a.file), int64(b.file))
		}
		return cmpInt(a.off(), b.off())
	})
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// journalReader reads rows back by offset through a window of the file:
// rows finish roughly in input order, so the rows read one after the other
// are mostly near each other in the journal. A miss re-centres the window on
// the wanted row.
type journalReader struct {
	f     *os.File
	win   []byte // file bytes [start, start+len(win))
	start int64
	buf   []byte
}

const journalWindow = 1 << 20

func newJournalReader(f *os.File) *journalReader {
	return &journalReader{f: f, win: make([]byte, 0, journalWindow)}
}

func (jr *journalReader) line(e entry) ([]byte, error) {
	off, n := e.off(), e.n()
	end := off + int64(n)
	if off >= jr.start && end <= jr.start+int64(len(jr.win)) {
		return jr.win[off-jr.start : end-jr.start], nil
	}
	if n > journalWindow/2 {
		// A huge row: read it alone.
		if cap(jr.buf) < n {
			jr.buf = make([]byte, n)
		}
		b := jr.buf[:n]
		if _, err := jr.f.ReadAt(b, off); err != nil {
			return nil, err
		}
		return b, nil
	}
	jr.start = max(0, off-journalWindow/4)
	n, err := jr.f.ReadAt(jr.win[:journalWindow], jr.start)
	jr.win = jr.win[:n]
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if end > jr.start+int64(n) {
		return nil, io.ErrUnexpectedEOF
	}
	return jr.win[off-jr.start : end-jr.start], nil
}

func (jr *journalReader) row(e entry) (Row, error) {
	b, err := jr.line(e)
	if err != nil {
		return Row{}, fmt.Errorf("read journal at %d: %w", e.off(), err)
	}
	r, err := decodeRowLine(b)
	if err != nil {
		return Row{}, fmt.Errorf("journal at %d: not a row", e.off())
	}
	return r, nil
}

// scannedJournal is what scanJournal learns from a whole journal.
type scannedJournal struct {
	header   journalHeader
	end      *journalEnd
	idx      entryList
	plan     planSpan
	fatal    string    // the first fatal record's message
	lastDone time.Time // latest FinishedAt of any row
	torn     bool      // the last line was torn (and ignored)
}

// scanJournal reads a journal from start to end. A torn last line is
// ignored; any other line that is not valid JSON is an error.
func scanJournal(r io.Reader) (scannedJournal, error) {
	var sj scannedJournal
	br := bufio.NewReaderSize(r, 256<<10)
	var off int64
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: collect it.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF {
			if len(bytes.TrimSpace(line)) > 0 {
				sj.torn = true
			}
			break
		}
		if err != nil {
			return sj, fmt.Errorf("line %d: %w", lineNo, err)
		}
		n := len(line) - 1
		body := line[:n]
		start := off
		off += int64(len(line))
		if len(bytes.TrimSpace(body)) == 0 {
			continue
		}
		var rec record
		if lineNo > 1 && bytes.HasPrefix(body, []byte(rowLinePrefix)) {
			r, err := decodeRowLine(body)
			if err != nil {
				return sj, fmt.Errorf("line %d: corrupt record", lineNo)
			}
			rec.Row = &r
		} else if err := json.Unmarshal(body, &rec); err != nil {
			return sj, fmt.Errorf("line %d: corrupt record", lineNo)
		}
		switch {
		case lineNo == 1:
			if rec.Header == nil {
				return sj, fmt.Errorf("line 1: no header record")
			}
			sj.header = *rec.Header
		case rec.Row != nil:
			e, err := newEntry(rec.Row, start, n)
			if err != nil {
				return sj, fmt.Errorf("line %d: %w", lineNo, err)
			}
			sj.idx.add(e)
			if rec.Row.FinishedAt.After(sj.lastDone) {
				sj.lastDone = rec.Row.FinishedAt
			}
		case rec.Plan != nil || rec.P != nil:
			p := rec.Plan
			if p == nil {
				p = (*PlanItem)(rec.P)
			}
			if p.Seq < 0 || p.Seq > math.MaxInt32 || sj.plan.n > 0 && int32(p.Seq) <= sj.plan.last {
				return sj, fmt.Errorf("line %d: plan item %d out of order", lineNo, p.Seq)
			}
			if sj.plan.n == 0 {
				sj.plan.first = start
			}
			sj.plan.end, sj.plan.last = off, int32(p.Seq)
			sj.plan.n++
		case rec.Fatal != "":
			if sj.fatal == "" {
				sj.fatal = rec.Fatal
			}
		case rec.End != nil:
			sj.end = rec.End
		}
	}
	if off == 0 && !sj.torn {
		return sj, fmt.Errorf("empty journal")
	}
	if sj.header.Format == 0 {
		return sj, fmt.Errorf("line 1: no header record")
	}
	return sj, nil
}
