package archive_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
)

// TestCommitMarks: only `_meetarchive/<confUUID>.json` keys are commit
// marks; the state, leases, other documents and media are not.
func TestCommitMarks(t *testing.T) {
	ctx := context.Background()
	st, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	confs := []string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"}
	for _, id := range confs {
		if err := archive.PutSidecar(ctx, st, archive.Sidecar{ConfUUID: id, ArchivedAt: time.Now().UTC(), Tool: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{archive.StateDir + "/since-last.json", archive.SidecarDir + "/notes.txt", archive.SidecarDir + "/ledger/run.json"} {
		if _, err := st.PutMeta(ctx, key, []byte("{}"), archive.Meta{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	if _, err := st.Put(ctx, confs[0]+"/Hd_0_0.mp4", bytes.NewReader([]byte("media")), archive.Expect{Size: -1, PlatformSize: -1}); err != nil {
		t.Fatal(err)
	}
	var got []string
	calls, err := archive.CommitMarks(ctx, st, func(id string, o archive.Object) error {
		got = append(got, id)
		if want, _ := archive.SidecarKey(id); o.Key != want || o.Bytes == 0 {
			t.Errorf("mark %s: key %q, %d bytes; want %q and its size", id, o.Key, o.Bytes, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("calls = %d, want 1 (one listing of a directory)", calls)
	}
	slices.Sort(got)
	if !slices.Equal(got, confs) {
		t.Errorf("commit marks %v, want %v", got, confs)
	}
	t.Run("fn's error stops it", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		_, err := archive.CommitMarks(ctx, st, func(string, archive.Object) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 || !strings.Contains(err.Error(), "commit marks") {
			t.Errorf("err = %v after %d marks; want fn's error, wrapped, after 1", err, n)
		}
	})
}
