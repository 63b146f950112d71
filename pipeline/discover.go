package pipeline

import (
	"errors"
	"fmt"
	"time"

	"meetarchive/export"
	"meetarchive/report"
)

// discover lists the recordings of a date range as items, in the list's
// order, each conference once, from a list call that hands every
// recording to fn. Their details are in the returned map, by normalised
// confUUID: the run asks for no details again.
func discover(list func(fn func(export.Recording) error) error) ([]Item, map[string]export.Recording, error) {
	known := map[string]export.Recording{}
	var items []Item
	err := list(func(r export.Recording) error {
		it := Item{Seq: len(items), Line: len(items) + 1}
		norm, ok := normalize(r.ConfUUID)
		switch {
		case !ok:
			it.ConfUUID = safeText(r.ConfUUID, maxShownCell)
			it.Problem = report.InvalidInput
			it.Detail = fmt.Sprintf("the list API returned %s, not a conference UUID", quoteCell(r.ConfUUID))
		default:
			if _, dup := known[norm]; dup {
				return nil
			}
			it.ConfUUID = norm
			known[norm] = r
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		if errors.Is(err, export.ErrAuth) {
			return items, known, fmt.Errorf("listing recordings: %w", err)
		}
		return items, known, fmt.Errorf("listing recordings failed, so the run cannot know what to archive: %w", err)
	}
	return items, known, nil
}

// EndOfDay makes a bare date inclusive: 2024-01-31 becomes the last
// millisecond of that day; a time with a clock part is kept.
func EndOfDay(t time.Time) time.Time {
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Add(24*time.Hour - time.Millisecond)
	}
	return t
}
