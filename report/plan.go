package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"strconv"

	"meetarchive/redact"
)

// PlanItem is one input line as a run plans it, before any conference
// starts: see [Writer.Plan].
type PlanItem struct {
	Seq      int    `json:"seq"`                // the Seq its rows will carry (input order, 0-based)
	ConfUUID string `json:"confUUID,omitempty"` // as the input gave it (redacted and cleaned like a row's)
	Line     int    `json:"line,omitempty"`     // 1-based input line; 0 when it did not come from a file
}

// Error codes of the rows report writes itself for planned items that have
// no row (status cancelled).
const (
	// CodeInterrupted: the run ended (killed, crashed) before the item
	// finished; the report was rebuilt from the journal.
	CodeInterrupted = "interrupted"
	// CodeNoResult: the run closed its report without a row for the item
	// (a bug in the caller; the item is reported rather than lost).
	CodeNoResult = "no-result"
)

// HintInterrupted is the hint of a row with CodeInterrupted, whoever
// writes it (the pipeline for items a signal kept from starting, the
// report for planned items a killed run left without a row).
const HintInterrupted = "not started or not finished: the run was stopped first; rerun with --input failures.csv"

// planSpan locates the plan records in the journal: n of them, the first
// starting at offset first, the last ending before offset end.
type planSpan struct {
	first, end int64
	n          int
	last       int32 // Seq of the last one
}

// Plan writes items to the journal, in input order, before the first
// conference starts: then Close, and Rebuild after a kill, account for
// every planned item. A planned item with rows is reported by its rows; one
// without (the run was killed before it finished, or never reported it) is
// reported as cancelled with errorCode "interrupted" (Rebuild of a journal
// that has no end) or "no-result" (Close), with a hint to rerun.
//
// Items are streamed: they are written to the journal in batches and not
// kept, so memory does not grow with their number (one bit per Seq remains,
// for Pending). Seq must be increasing across all Plan and AddPlan calls;
// rows may be added before, between and after them.
func (w *Writer) Plan(items iter.Seq[PlanItem]) error {
	var batch []PlanItem
	for it := range items {
		batch = append(batch, it)
		if len(batch) == 1024 {
			if err := w.AddPlan(batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return w.AddPlan(batch...)
}

// AddPlan writes items to the journal as Plan does, with one write call.
func (w *Writer) AddPlan(items ...PlanItem) error {
	if len(items) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("report: plan: writer closed")
	}
	if w.err != nil {
		return w.err
	}
	buf := w.lineBuf()
	defer func() { w.keepBuf(buf) }()
	last, n := w.plan.last, w.plan.n
	for _, it := range items {
		if it.Seq < 0 || it.Seq > math.MaxInt32 {
			return fmt.Errorf("report: plan: seq %d out of range", it.Seq)
		}
		if n > 0 && int32(it.Seq) <= last {
			return fmt.Errorf("report: plan: seq %d after %d: not in input order", it.Seq, last)
		}
		it.ConfUUID = CleanText(redact.String(it.ConfUUID), limitShort, singleLine)
		buf = appendPlanRecord(buf, it)
		last, n = int32(it.Seq), n+1
	}
	start := w.off
	if err := w.write(buf); err != nil {
		return err
	}
	if w.plan.n == 0 {
		w.plan.first = start
	}
	w.plan.end, w.plan.last, w.plan.n = w.off, last, n
	for _, it := range items {
		w.planned.set(it.Seq)
		if _, done := w.confs.get(int32(it.Seq)); !done {
			w.pending++
		}
	}
	return nil
}

// Pending returns how many planned items have no row yet. Close reports
// them as cancelled and raises exit code 0 to 1 if any remain.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending
}

// bitset is a set of non-negative ints, one bit each.
type bitset []uint64

func (b *bitset) set(i int) {
	for i/64 >= len(*b) {
		*b = append(*b, 0)
	}
	(*b)[i/64] |= 1 << (i % 64)
}

func (b bitset) has(i int) bool { return i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0 }

// plannedRow is the row of a planned item that has no row of its own.
func plannedRow(it PlanItem, code string) Row {
	r := Row{Seq: it.Seq, ConfUUID: it.ConfUUID, Status: Cancelled, ErrorCode: code}
	where := ""
	if it.Line > 0 {
		where = fmt.Sprintf(" (input line %d)", it.Line)
	}
	switch code {
	case CodeInterrupted:
		r.ErrorMessage = "the run was stopped before this conference finished" + where
		r.Hint = HintInterrupted
	default:
		r.ErrorMessage = "the run ended without a result for this conference" + where
		r.Hint = "rerun with --input failures.csv to archive it"
	}
	return r
}

// planScanner reads a journal's plan records back in order.
type planScanner struct {
	br   *bufio.Reader
	left int
}

func newPlanScanner(f *os.File, span planSpan) *planScanner {
	sr := io.NewSectionReader(f, span.first, span.end-span.first)
	return &planScanner{br: bufio.NewReaderSize(sr, 64<<10), left: span.n}
}

var (
	planPrefix  = []byte(`{"p":`)
	plan1Prefix = []byte(`{"plan":`) // format 1
)

// planTuple is a plan record's compact form: [seq, line, "confUUID"].
type planTuple PlanItem

// appendPlanRecord appends it's journal line: {"p":[seq,line,"confUUID"]}.
func appendPlanRecord(b []byte, it PlanItem) []byte {
	b = append(b, `{"p":[`...)
	b = strconv.AppendInt(b, int64(it.Seq), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(it.Line), 10)
	b = append(b, ',')
	b = appendJSONString(b, it.ConfUUID)
	return append(b, "]}\n"...)
}

// appendJSONString appends s (valid UTF-8) as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// fastPlan parses a plan line as appendPlanRecord writes it
// ({"p":[seq,line,"confUUID"]} and a newline); ok is false for anything
// else, which encoding/json then reads.
func fastPlan(line []byte) (it PlanItem, ok bool) {
	b := bytes.TrimSuffix(line, []byte("\n"))
	if !bytes.HasPrefix(b, []byte(`{"p":[`)) || !bytes.HasSuffix(b, []byte(`]}`)) {
		return it, false
	}
	p := &rowParser{b: b[:len(b)-2], i: len(`{"p":[`)}
	seq, err := p.int()
	if err != nil || p.next() != ',' {
		return it, false
	}
	ln, err := p.int()
	if err != nil || p.next() != ',' {
		return it, false
	}
	id, err := p.str()
	if err != nil || p.i != len(p.b) {
		return it, false
	}
	return PlanItem{Seq: seq, Line: ln, ConfUUID: id}, true
}

func (p *planTuple) UnmarshalJSON(b []byte) error {
	var t [3]json.RawMessage
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	seq, err := strconv.Atoi(string(t[0]))
	if err != nil {
		return fmt.Errorf("plan seq: %w", err)
	}
	line, err := strconv.Atoi(string(t[1]))
	if err != nil {
		return fmt.Errorf("plan line: %w", err)
	}
	var id string
	if err := json.Unmarshal(t[2], &id); err != nil {
		return fmt.Errorf("plan confUUID: %w", err)
	}
	*p = planTuple{Seq: seq, Line: line, ConfUUID: id}
	return nil
}

// next returns the next planned item; ok is false after the last.
func (p *planScanner) next() (it PlanItem, ok bool, err error) {
	for p.left > 0 {
		line, err := p.br.ReadSlice('\n')
		isPlan := bytes.HasPrefix(line, planPrefix) || bytes.HasPrefix(line, plan1Prefix)
		for errors.Is(err, bufio.ErrBufferFull) {
			// A long line: only a plan line (never long) needs its bytes.
			line, err = p.br.ReadSlice('\n')
			isPlan = false
		}
		if err != nil {
			return it, false, fmt.Errorf("journal plan: %w", err)
		}
		if !isPlan {
			continue
		}
		if it, ok := fastPlan(line); ok {
			p.left--
			return it, true, nil
		}
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil || rec.Plan == nil && rec.P == nil {
			return it, false, fmt.Errorf("journal plan: not a plan record")
		}
		p.left--
		if rec.P != nil {
			return PlanItem(*rec.P), true, nil
		}
		return *rec.Plan, true, nil
	}
	return it, false, nil
}
