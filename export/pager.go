package export

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Page is one answer of a paged list API, as the client read it.
type Page struct {
	Offset int // the offset asked for
	Limit  int // the limit the answer states (0: it did not say)
	Count  int // the count the answer declared (-1: none)
	Rows   int // rows on the page
	New    int // rows not on an earlier page (by confUUID for the recording and history lists; by content otherwise)
	// Body is the answer as received (valid JSON) for the evidence APIs
	// (history detail, attendee and control records); nil for the lists
	// by date.
	Body json.RawMessage
}

// Listing is what paging a list gave: the count its answers declared and
// the distinct rows its pages held, so that a caller can report a list
// whose pages add up to fewer, or more, than its count.
type Listing struct {
	// Count is the count the answers declared: the last one declared
	// (each Page has its own); -1 when no answer declared one. An answer
	// that declares 0 (or leaves count out) while it holds rows is read
	// as not knowing the count for the paging; a declared 0 still counts
	// here.
	Count int
	// Distinct is how many distinct rows the pages held: conferences (by
	// confUUID) for the lists by date, rows for the others.
	Distinct int
	Pages    []Page
}

// CountDiff is Distinct - Count: negative when the pages gave fewer rows
// than the count declared, positive when they gave more; 0 when they agree
// or no count was declared.
func (l Listing) CountDiff() int {
	if l.Count < 0 {
		return 0
	}
	return l.Distinct - l.Count
}

// rowsPage is one decoded answer: its rows, its limit and count (-1: none)
// and, for evidence, the body.
type rowsPage[T any] struct {
	limit, count int
	rows         []T
	body         json.RawMessage
}

// pager pages a list API (the recording list, the meeting history, the
// evidence APIs).
//
// The fact sheet cannot tell whether the list APIs' offset is a row offset
// or a page index. With probe, the pager asks for the first page with
// offset=0 and, when more rows remain, the second with offset=1, then
// compares the two pages:
//
//   - no overlap (fewer than half of page 2's rows were on page 1): offset is a
//     0-based page index (offset=1 was the second page); continue with 2, 3, ...
//   - page 2 equals page 1 (same length, every row already seen): offset is a
//     1-based page index (0 and 1 both meant the first page); continue with 2, 3, ...
//   - otherwise (page 2 is page 1 shifted by one row): offset counts rows;
//     continue from the number of rows read so far.
//
// The probe costs at most one page of duplicates, never skips rows (asking
// for offset=limit would skip almost everything on a server that counts
// pages), and still works when the server silently caps the page size.
// Rows are de-duplicated by key. Paging stops when count rows have been
// seen, when a page is empty, or when count is unknown (absent or 0) or
// proven wrong (more distinct rows than it says) and a page is short or
// brings no new row; a page is short when it holds fewer rows than asked
// for, or than the limit the answer states when that is smaller (a server
// that caps the page and says so). A page that brings no new row while
// count says more, and paging past a hard cap on the number of pages, fail
// with ErrTooManyPages.
type pager[T any] struct {
	op    string
	limit int // rows asked for per page
	// probe: offset may be a row offset or a page index (the lists by
	// date); learn which from the first two pages. Otherwise offset
	// counts rows.
	probe bool
	key   func(T) string // identity of a row (de-duplication, New)
	dedup bool           // hand on (emit) each key once; else every row
	fetch func(ctx context.Context, offset int) (rowsPage[T], error)
	emit  func(T) error // nil: none
	log   *slog.Logger

	seen    map[string]bool
	count   int // the last count > 0 an answer declared: what the paging goes by
	listing Listing
}

// take records a page and hands on its rows; it returns how many were new.
func (p *pager[T]) take(offset int, pg rowsPage[T]) (int, error) {
	n := 0
	var emitErr error
	for _, r := range pg.rows {
		k := p.key(r)
		fresh := !p.seen[k]
		if fresh {
			p.seen[k] = true
			n++
		}
		if (fresh || !p.dedup) && p.emit != nil && emitErr == nil {
			emitErr = p.emit(r)
		}
	}
	p.listing.Pages = append(p.listing.Pages, Page{Offset: offset, Limit: pg.limit, Count: pg.count, Rows: len(pg.rows), New: n, Body: pg.body})
	if pg.count >= 0 {
		p.listing.Count = pg.count
	}
	if pg.count > 0 {
		p.count = pg.count
	}
	if p.dedup {
		p.listing.Distinct = len(p.seen)
	} else {
		p.listing.Distinct += len(pg.rows)
	}
	return n, emitErr
}

// seenRows is what the paging compares with the count.
func (p *pager[T]) seenRows() int { return p.listing.Distinct }

// done: the list is exhausted after a page of n rows that states limit.
// With a count, it ends once count rows are seen; without one (or when
// more rows than the count have come: the count is wrong), at a short
// page.
func (p *pager[T]) done(n, limit int) bool {
	count := p.count
	eff := p.limit
	if limit > 0 && limit < eff {
		eff = limit // a server that caps the page says so
	}
	switch {
	case n == 0:
		return true
	case count > 0 && p.seenRows() < count:
		return false
	case count > 0 && p.seenRows() == count:
		return true
	}
	return n < eff
}

// run pages the list to its end and returns what it gave.
func (p *pager[T]) run(ctx context.Context) (Listing, error) {
	p.seen, p.count = map[string]bool{}, 0
	p.listing = Listing{Count: -1}
	first, err := p.fetch(ctx, 0)
	if err != nil {
		return p.listing, err
	}
	if _, err := p.take(0, first); err != nil {
		return p.listing, err
	}
	if p.done(len(first.rows), first.limit) {
		return p.listing, nil
	}
	mode, next := listRows, len(first.rows)
	if p.probe {
		second, err := p.fetch(ctx, 1)
		if err != nil {
			return p.listing, err
		}
		added, err := p.take(1, second)
		if err != nil {
			return p.listing, err
		}
		mode = classifyPaging(p.keys(first.rows), p.keys(second.rows))
		p.log.Debug("export: list paging", "op", p.op, "mode", mode.String())
		if mode == listUnknown || p.done(len(second.rows), second.limit) || (mode == listRows && added == 0) {
			return p.listing, nil
		}
		next = 2
		if mode == listRows {
			next = 1 + len(second.rows)
		}
	}
	maxPages := 1_000_000 / max(1, len(first.rows))
	if p.count > 0 {
		maxPages = 2*p.count/max(1, len(first.rows)) + 10
	}
	for pages := len(p.listing.Pages); ; pages++ {
		if pages > maxPages {
			return p.listing, tooManyPages(p.op, "more than %d pages for %d rows (%d seen)", maxPages, p.count, p.seenRows())
		}
		pg, err := p.fetch(ctx, next)
		if err != nil {
			return p.listing, err
		}
		added, err := p.take(next, pg)
		if err != nil {
			return p.listing, err
		}
		if p.done(len(pg.rows), pg.limit) {
			return p.listing, nil
		}
		if added == 0 {
			if p.count > p.seenRows() || !p.dedup {
				return p.listing, tooManyPages(p.op, "the page at offset %d repeats rows already listed while count says %d (%d seen): the paging does not advance", next, p.count, p.seenRows())
			}
			return p.listing, nil
		}
		if mode == listRows {
			next += len(pg.rows)
		} else {
			next++
		}
	}
}

func (p *pager[T]) keys(rows []T) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = p.key(r)
	}
	return out
}

type listMode int

const (
	listUnknown listMode = iota
	listRows             // offset counts rows
	listPages0           // offset is a 0-based page index
	listPages1           // offset is a 1-based page index
)

func (m listMode) String() string {
	return [...]string{"unknown", "row offset", "page index from 0", "page index from 1"}[m]
}

// classifyPaging compares the keys of the first page (offset=0) with those
// of the page asked for with offset=1: see pager.
func classifyPaging(first, second []string) listMode {
	if len(second) == 0 {
		return listUnknown
	}
	in := make(map[string]bool, len(first))
	for _, k := range first {
		in[k] = true
	}
	overlap := 0
	for _, k := range second {
		if in[k] {
			overlap++
		}
	}
	switch {
	case overlap*2 < len(second):
		return listPages0
	case overlap == len(second) && len(second) == len(first):
		return listPages1
	}
	return listRows
}
