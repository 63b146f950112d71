package pipeline

import (
	"context"

	"meetarchive/export"
)

// Discover lists the recordings of a date range as items, in the list's
// order, each conference once. Their details are in the returned map, by
// normalised confUUID: the run asks for no details again.
func Discover(ctx context.Context, api Lister, q export.ListQuery) ([]Item, map[string]export.Recording, error) {
	return discover(func(fn func(export.Recording) error) error { return api.List(ctx, q, fn) })
}
