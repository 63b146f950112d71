package archive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// TestS3SharedMemoryBudget: eight uploads of 32 MiB at once share a budget
// of three 5 MiB buffers: the pool never hands out more than three, all come
// back, and every object holds the right bytes.
func TestS3SharedMemoryBudget(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	opts := archive.Options{PartSize: 5 * mib, PartConcurrency: 4, MaxUploads: 8, Memory: 15 * mib}
	st := s3Store(t, b, "budget", opts)
	ctx := context.Background()
	const uploads, size = 8, 32 * mib
	var wg sync.WaitGroup
	errs := make([]error, uploads)
	sums := make([]string, uploads)
	for i := range uploads {
		sums[i] = genSHA256(t, uint64(100+i), size)
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := known(size, sums[i])
			if i%2 == 1 {
				want = unknown() // no size known: parts are cut as the stream comes
			}
			obj, err := st.Put(ctx, fmt.Sprintf("k/%d.mp4", i), newGen(uint64(100+i), size), want)
			switch {
			case err != nil:
				errs[i] = err
			case obj.SHA256 != sums[i] || obj.Bytes != size:
				errs[i] = fmt.Errorf("Put = %d bytes %s, want %d %s", obj.Bytes, obj.SHA256, int64(size), sums[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	capacity, out, peak := archive.PoolStats(st)
	if capacity != 3 {
		t.Errorf("pool capacity = %d buffers, want 3 (15 MiB / 5 MiB)", capacity)
	}
	if peak > capacity || peak < 2 {
		t.Errorf("pool peak = %d buffers out at once, want 2..%d", peak, capacity)
	}
	if out != 0 {
		t.Errorf("buffers still out after every Put returned = %d, want 0", out)
	}
	for i := range uploads {
		rc, err := st.Open(ctx, fmt.Sprintf("k/%d.mp4", i))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if got, n := readAllHash(t, rc); got != sums[i] || n != size {
			t.Errorf("object %d read back: %d bytes %s, want %d %s", i, n, got, int64(size), sums[i])
		}
	}
}

// TestS3FailedUploadCleansUp: an upload that fails part-way gives its
// buffers back, aborts its multipart upload and stores nothing.
func TestS3FailedUploadCleansUp(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	st := s3Store(t, b, "fail", archive.Options{PartSize: 5 * mib, PartConcurrency: 2, Memory: 10 * mib})
	const size = 23 * mib
	sum := genSHA256(t, 7, size)
	errSource := errors.New("connection reset by media host")
	tests := []struct {
		name    string
		r       func(cancel context.CancelFunc) io.Reader
		want    archive.Expect
		wantErr error
	}{
		{"source fails after 12 MiB", func(context.CancelFunc) io.Reader {
			return io.MultiReader(io.LimitReader(newGen(7, size), 12*mib), errReader{errSource})
		}, known(size, sum), errSource},
		{"stream shorter than announced", func(context.CancelFunc) io.Reader {
			return io.LimitReader(newGen(7, size), size-1)
		}, known(size, sum), archive.ErrIntegrity},
		{"hash differs from the platform's", func(context.CancelFunc) io.Reader {
			return newGen(8, size)
		}, known(size, sum), archive.ErrIntegrity},
		{"cancelled after 17 MiB", func(cancel context.CancelFunc) io.Reader {
			return io.MultiReader(io.LimitReader(newGen(7, size), 17*mib), cancelThen{cancel, newGen(7, size)})
		}, unknown(), context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			key := "k/" + tc.name
			_, err := st.Put(ctx, key, tc.r(cancel), tc.want)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Put error = %v, want %v", err, tc.wantErr)
			}
			if _, out, _ := archive.PoolStats(st); out != 0 {
				t.Errorf("buffers out after a failed Put = %d, want 0", out)
			}
			if got := archivetest.IncompleteUploads(t, b); len(got) != 0 {
				t.Errorf("incomplete multipart uploads left: %v", got)
			}
			if _, err := st.Stat(context.Background(), key); !errors.Is(err, archive.ErrNotExist) {
				t.Errorf("Stat after a failed Put: %v, want ErrNotExist", err)
			}
		})
	}
}

// TestS3ServerChecksEveryPart: the checksums Put sends are checked by the
// server: a part whose CRC32C is not its bytes', or a single-part object
// whose SHA-256 is not its bytes', is refused and nothing is stored.
func TestS3ServerChecksEveryPart(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	st := s3Store(t, b, "tamper", smallParts)
	ctx := context.Background()
	data := bytes.Repeat([]byte("recording "), 600*1024) // 6 MiB: more than one 5 MiB part minimum
	tests := []struct {
		name string
		send func(key string) error
	}{
		{"part with a wrong CRC32C", func(key string) error { return archive.SendTamperedPart(ctx, st, key, data) }},
		{"single object with a wrong SHA-256", func(key string) error {
			return archive.PutTamperedSingle(ctx, st, key, data[:1000], sha256Hex(data[:999]))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "k/" + tc.name
			if err := tc.send(key); err == nil {
				t.Errorf("the server took damaged data, want it refused")
			} else {
				t.Logf("refused: %v", err)
			}
			if _, err := st.Stat(ctx, key); !errors.Is(err, archive.ErrNotExist) {
				t.Errorf("Stat after a refused upload: %v, want ErrNotExist", err)
			}
		})
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// cancelThen cancels a context at its first read, then reads r.
type cancelThen struct {
	cancel context.CancelFunc
	r      io.Reader
}

func (c cancelThen) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p)
}
