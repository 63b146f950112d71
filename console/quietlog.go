package console

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// maxHeldLogs bounds the warnings --quiet holds back (about 1 KiB each).
const maxHeldLogs = 1000

// Held are the warnings a --quiet command holds back: printed when it
// ends with a non-zero exit code (Flush), dropped when it ends 0, so that a
// clean quiet run prints nothing and a failed one tells the whole story.
// Errors are never held.
type Held struct {
	mu      sync.Mutex
	recs    []heldRecord
	dropped int
}

type heldRecord struct {
	h slog.Handler // the handler that would have written it (its attributes, groups)
	r slog.Record
}

// quietHandler passes errors through to its handler at once and holds
// warnings in held.
type quietHandler struct {
	slog.Handler
	held *Held
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		return q.Handler.Handle(ctx, r)
	}
	q.held.mu.Lock()
	defer q.held.mu.Unlock()
	if len(q.held.recs) >= maxHeldLogs {
		q.held.dropped++
		return nil
	}
	q.held.recs = append(q.held.recs, heldRecord{h: q.Handler, r: r.Clone()})
	return nil
}

func (q quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{Handler: q.Handler.WithAttrs(as), held: q.held}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{Handler: q.Handler.WithGroup(name), held: q.held}
}

// Flush writes the held warnings, in the order they were logged, then how
// many were dropped past the bound; it empties the hold.
func (h *Held) Flush(ctx context.Context) {
	h.mu.Lock()
	recs, dropped := h.recs, h.dropped
	h.recs, h.dropped = nil, 0
	h.mu.Unlock()
	var last slog.Handler
	for _, hr := range recs {
		_ = hr.h.Handle(ctx, hr.r)
		last = hr.h
	}
	if dropped > 0 && last != nil {
		r := slog.NewRecord(recs[len(recs)-1].r.Time, slog.LevelWarn, fmt.Sprintf("--quiet held back %d more warnings; the report lists every outcome", dropped), 0)
		_ = last.Handle(ctx, r)
	}
}
