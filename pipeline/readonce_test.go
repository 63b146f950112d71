package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// collect is every item of one pass over src.
func collect(t *testing.T, src *Source) []Item {
	t.Helper()
	var items []Item
	for it := range src.Items() {
		items = append(items, it)
	}
	if err := src.Err(); err != nil {
		t.Fatalf("Items: %v", err)
	}
	return items
}

// TestReadOnceYieldsWhatAFileWould: an input read once gives, pass after
// pass, the items the same bytes give as a file, its Digest is the SHA-256
// of the bytes read, and it leaves no file behind in its directory.
func TestReadOnceYieldsWhatAFileWould(t *testing.T) {
	inputs := map[string]string{
		"plain":    uuidA + "\n" + uuidB + "\n",
		"mixed":    "\ufeffSubject,confUUID\r\nx," + uuidA + "\r\n\r\nbad,not-a-uuid\r\n\"two\nlines\"," + uuidB + "\r\ndup," + strings.ToUpper(uuidA) + "\r\ny,\x00\x1b\r\n",
		"no end":   uuidA + "\n" + uuidC,
		"empty":    "",
		"too long": uuidA + "\n" + strings.Repeat("z", MaxInputRecord+10) + "\n" + uuidB + "\n",
	}
	for name, content := range inputs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "in.csv")
			if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
				t.Fatal(err)
			}
			want := collect(t, FileSource(path))

			spoolDir := t.TempDir()
			src, err := ReadOnce(context.Background(), strings.NewReader(content), spoolDir)
			if err != nil {
				t.Fatalf("ReadOnce: %v", err)
			}
			if left, _ := os.ReadDir(spoolDir); len(left) != 0 {
				t.Errorf("files left in the directory while the source is open: %v (want the spool unlinked at once)", left)
			}
			for pass := range 2 {
				if got := collect(t, src); !reflect.DeepEqual(got, want) {
					t.Errorf("pass %d: items\n got %+v\nwant %+v", pass, got, want)
				}
			}
			sum := sha256.Sum256([]byte(content))
			if got, _ := src.Digest(context.Background()); got != hex.EncodeToString(sum[:]) {
				t.Errorf("Digest %s, want the SHA-256 of the bytes read %x", got, sum)
			}
			if got := src.BytesRead(); got != int64(len(content)) {
				t.Errorf("BytesRead %d, want %d", got, len(content))
			}
			sharded := src.Sharded(Shard{K: 0, N: 2})
			var wantShard []Item
			for _, it := range want {
				if (Shard{K: 0, N: 2}).Contains(it) {
					wantShard = append(wantShard, it)
				}
			}
			if got := collect(t, sharded); !reflect.DeepEqual(got, wantShard) {
				t.Errorf("shard 0/2: got %+v, want %+v", got, wantShard)
			}
			if err := sharded.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := src.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// stallReader gives its text, then blocks in Read until release is closed;
// blocked is closed when it is blocked.
type stallReader struct {
	text             string
	blocked, release chan struct{}
}

func (r *stallReader) Read(p []byte) (int, error) {
	if r.text != "" {
		n := copy(p, r.text)
		r.text = r.text[n:]
		return n, nil
	}
	close(r.blocked)
	<-r.release
	return 0, io.EOF
}

// TestReadOnceStopsOnCancel: a read blocked on an input that sends nothing
// more is given up when ctx is done; the lines read whole before are the
// source's items, and Digest is the SHA-256 of every byte read, the
// partial last line included.
func TestReadOnceStopsOnCancel(t *testing.T) {
	written := uuidA + "\n" + uuidB + "\n" + uuidC[:10] // a line cut short
	r := &stallReader{text: written, blocked: make(chan struct{}), release: make(chan struct{})}
	defer close(r.release)
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		src *Source
		err error
	}
	done := make(chan result, 1)
	go func() {
		src, err := ReadOnce(ctx, r, t.TempDir())
		done <- result{src, err}
	}()
	<-r.blocked
	cancel()
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second): // a safety net, not a bound
		t.Fatal("ReadOnce did not return after ctx was cancelled")
	}
	if !errors.Is(res.err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", res.err)
	}
	defer res.src.Close()
	var got []string
	for it := range res.src.Items() {
		got = append(got, it.ConfUUID)
	}
	if want := []string{uuidA, uuidB}; !slices.Equal(got, want) {
		t.Errorf("items %v, want the lines read whole %v", got, want)
	}
	sum := sha256.Sum256([]byte(written))
	if d, _ := res.src.Digest(context.Background()); d != hex.EncodeToString(sum[:]) || res.src.BytesRead() != int64(len(written)) {
		t.Errorf("Digest %s of %d bytes, want %x of %d bytes (every byte read)", d, res.src.BytesRead(), sum, len(written))
	}
}

// zeros is an endless input without a line end that cancels its context
// after limit bytes.
type zeros struct {
	n, limit int64
	cancel   func()
}

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	if z.n >= z.limit {
		z.cancel()
	}
	return len(p), nil
}

// TestReadOnceEndlessRecordInBoundedMemory: an input of endless bytes
// without a line end is read on (one record longer than MaxInputRecord,
// counted, never held) in bounded memory until ctx is done.
func TestReadOnceEndlessRecordInBoundedMemory(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	z := &zeros{limit: 256 << 20, cancel: cancel}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	src, err := ReadOnce(ctx, z, t.TempDir())
	runtime.ReadMemStats(&after)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	defer src.Close()
	if src.BytesRead() < z.limit-readChunk*2 {
		t.Errorf("read %d bytes, want about %d", src.BytesRead(), z.limit)
	}
	if items := collect(t, src); len(items) != 0 {
		t.Errorf("items %+v, want none (the record never ended)", items)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d MiB reading %d MiB: memory grows with the record", alloc>>20, z.limit>>20)
	}
}

// TestOpenInputGivesUpOnAFIFOWithoutWriter: opening a FIFO nobody writes
// waits; ctx ends the wait.
func TestOpenInputGivesUpOnAFIFOWithoutWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		f, err := OpenInput(ctx, fifo)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the open reach the kernel; it must not matter
	select {
	case err := <-done:
		t.Fatalf("OpenInput returned %v before a writer came or ctx was done", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second): // a safety net, not a bound
		t.Fatal("OpenInput did not give up when ctx was done")
	}
	// Let the open left in the background finish.
	if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
}

// TestDigestStopsOnCancel: hashing a regular input stops when ctx is done,
// and a source cut that way yields no item.
func TestDigestStopsOnCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte(uuidA+"\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := FileSource(path)
	if _, err := src.Digest(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Digest: %v, want context.Canceled", err)
	}
	if items := collect(t, src); len(items) != 0 {
		t.Errorf("items %+v after a cut Digest, want none", items)
	}
}
