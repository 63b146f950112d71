package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"meetarchive/archive"
)

// randReader is n bytes of a seeded ChaCha8 stream: a recording no
// compression or page cache trick makes small.
type randReader struct {
	src *rand.ChaCha8
	n   int64
}

func (r *randReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n, _ := r.src.Read(p)
	r.n -= int64(n)
	return n, nil
}

// TestWriteBagLargeObjectInBoundedHeap: a 200 MiB object streams from a
// DirStore into a bag while the heap grows by less than 16 MiB (the copy
// buffers are BagConcurrency x 256 KiB), and the bag's copy has its SHA-256.
func TestWriteBagLargeObjectInBoundedHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MiB object")
	}
	ctx := context.Background()
	store, err := archive.NewDirStore(filepath.Join(t.TempDir(), "archive"))
	if err != nil {
		t.Fatal(err)
	}
	const size = 200 << 20
	obj, err := store.Put(ctx, "2024/05/big.mp4", &randReader{src: rand.NewChaCha8([32]byte{7}), n: size},
		archive.Expect{Size: size, PlatformSize: archive.Unknown, Metadata: map[string]string{"confuuid": "c0ffee00c0ffee11c0ffee22c0ffee33"}})
	if err != nil {
		t.Fatal(err)
	}
	b := Bag{Objects: []BagObject{{Path: obj.Key, Store: store, Key: obj.Key, URI: obj.URI, SHA256: obj.SHA256, Bytes: obj.Bytes}}}
	out := filepath.Join(t.TempDir(), "bag")

	heapGrowth := sampleHeap()
	res, err := WriteBag(ctx, out, b)
	growth := heapGrowth()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("200 MiB object into a bag: heap in use grew by %.1f MiB", float64(growth)/(1<<20))
	if growth >= 16<<20 {
		t.Errorf("heap grew by %.1f MiB, want < 16 MiB", float64(growth)/(1<<20))
	}
	if res.Files != 1 || res.Bytes != size {
		t.Errorf("result %d files, %d bytes; want 1, %d", res.Files, res.Bytes, size)
	}
	f, err := os.Open(filepath.Join(out, "data", "2024", "05", "big.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != obj.SHA256 {
		t.Errorf("bag copy sha256 %s, stored %s", got, obj.SHA256)
	}
}

// mapOpener is a store in memory; an absent key is archive.ErrNotExist.
type mapOpener map[string]string

func (m mapOpener) URI(key string) string { return "mem:" + key }

func (m mapOpener) Open(_ context.Context, key string) (io.ReadCloser, error) {
	s, ok := m[key]
	if !ok {
		return nil, archive.ErrNotExist
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

func sumOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestWriteBagRefuses: what WriteBag refuses, and that a refused or
// failed bag leaves nothing at out nor beside it.
func TestWriteBagRefuses(t *testing.T) {
	store := mapOpener{"a.mp4": "aaa", "b.mp4": "bbb"}
	obj := func(path, key, sha string) BagObject {
		return BagObject{Path: path, Store: store, Key: key, URI: "mem:" + key, SHA256: sha, Bytes: -1}
	}
	tests := []struct {
		name    string
		objs    []BagObject
		prepare func(t *testing.T, out string)
		want    error
		failed  []string // statuses of BagResult.Failures
	}{
		{"path climbs out", []BagObject{obj("../a.mp4", "a.mp4", sumOf("aaa"))}, nil, ErrBagPath, nil},
		{"absolute path", []BagObject{obj("/a.mp4", "a.mp4", sumOf("aaa"))}, nil, ErrBagPath, nil},
		{"paths equal but for case", []BagObject{obj("x/A.mp4", "a.mp4", sumOf("aaa")), obj("x/a.mp4", "b.mp4", sumOf("bbb"))}, nil, ErrBagPath, nil},
		{"out not empty", []BagObject{obj("a.mp4", "a.mp4", sumOf("aaa"))}, func(t *testing.T, out string) {
			if err := os.MkdirAll(filepath.Join(out, "x"), 0o777); err != nil {
				t.Fatal(err)
			}
		}, ErrBagExists, nil},
		{"mismatch and missing", []BagObject{obj("a.mp4", "a.mp4", sumOf("aab")), obj("b.mp4", "b.mp4", sumOf("bbb")), obj("c.mp4", "c.mp4", sumOf("ccc"))},
			nil, ErrBagIncomplete, []string{BagMismatch, BagMissing}},
		{"no sha256 to compare with", []BagObject{obj("a.mp4", "a.mp4", "not-hex")}, nil, ErrBagIncomplete, []string{BagError}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bag")
			if tt.prepare != nil {
				tt.prepare(t, out)
			}
			res, err := WriteBag(context.Background(), out, Bag{Objects: tt.objs})
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			var got []string
			for _, f := range res.Failures {
				got = append(got, f.Status)
			}
			if strings.Join(sortedCopy(got), ",") != strings.Join(sortedCopy(tt.failed), ",") {
				t.Errorf("failures %v, want %v", got, tt.failed)
			}
			if tt.prepare == nil {
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("%s exists after a refused bag", out)
				}
			}
			if left, _ := filepath.Glob(out + ".tmp-*"); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestWriteBagInterrupted: a bag cancelled part-way leaves nothing.
func TestWriteBagInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store := &cancelOpener{cancel: cancel}
	var objs []BagObject
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		objs = append(objs, BagObject{Path: k, Store: store, Key: k, URI: k, SHA256: sumOf(k), Bytes: 1})
	}
	out := filepath.Join(t.TempDir(), "bag")
	if _, err := WriteBag(ctx, out, Bag{Objects: objs}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after an interrupted bag", out)
	}
	if left, _ := filepath.Glob(out + ".tmp-*"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// cancelOpener serves a key's own name as its bytes and cancels the bag
// at the third object.
type cancelOpener struct {
	mu     sync.Mutex
	n      int
	cancel func()
}

func (c *cancelOpener) URI(key string) string { return "mem:" + key }

func (c *cancelOpener) Open(_ context.Context, key string) (io.ReadCloser, error) {
	c.mu.Lock()
	c.n++
	if c.n == 3 {
		c.cancel()
	}
	c.mu.Unlock()
	return io.NopCloser(strings.NewReader(key)), nil
}
