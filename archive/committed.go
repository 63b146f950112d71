package archive

import (
	"context"
	"fmt"
	"strings"
)

// CommitMarks calls fn with every commit mark (sidecar) the store holds:
// the conference it commits (the confUUID its key names) and the object
// as List reports it (Key, URI, Bytes; ModTime on a store with
// Capabilities.ModTimes or RoughTimes). Only `_meetarchive/<confUUID>.json` keys count:
// the state, leases and any other document of the reserved area are not
// commit marks. It reads no mark (GetSidecar does) and stops at fn's first
// error, which it returns. calls is what the listing cost, also on an
// error: on S3, the ListObjectsV2 calls (one per 1,000 keys of
// `_meetarchive/`); on a store that does not count its calls (a
// directory), 1.
func CommitMarks(ctx context.Context, st Store, fn func(confUUID string, o Object) error) (calls int, err error) {
	prefix := SidecarDir + "/"
	each := func(o Object) error {
		name, ok := strings.CutPrefix(o.Key, prefix)
		if !ok || strings.Contains(name, "/") {
			return nil
		}
		id, ok := strings.CutSuffix(name, ".json")
		if !ok {
			return nil
		}
		if key, err := SidecarKey(id); err != nil || key != o.Key {
			return nil
		}
		return fn(id, o)
	}
	if cl, ok := st.(callCountingLister); ok {
		calls, err = cl.ListCalls(ctx, prefix, each)
	} else {
		calls, err = 1, st.List(ctx, prefix, each)
	}
	if err != nil {
		return calls, fmt.Errorf("archive: commit marks in %s: %w", st.URI(prefix), err)
	}
	return calls, nil
}

// callCountingLister is a store whose List says what it cost (*S3Store).
type callCountingLister interface {
	ListCalls(ctx context.Context, prefix string, fn func(Object) error) (int, error)
}

var _ callCountingLister = (*S3Store)(nil)
