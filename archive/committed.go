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
// error, which it returns. Cost: one listing of `_meetarchive/` (on S3,
// one ListObjectsV2 call per 1,000 keys of that area).
func CommitMarks(ctx context.Context, st Store, fn func(confUUID string, o Object) error) error {
	prefix := SidecarDir + "/"
	err := st.List(ctx, prefix, func(o Object) error {
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
	})
	if err != nil {
		return fmt.Errorf("archive: commit marks in %s: %w", st.URI(prefix), err)
	}
	return nil
}
