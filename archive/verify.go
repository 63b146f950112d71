package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// VerifyConcurrency is how many objects Verify streams back at once.
const VerifyConcurrency = 4

// verifyBufSize is the read buffer of one object being verified.
const verifyBufSize = 256 << 10

// Verify statuses.
const (
	VerifyOK       = "ok"
	VerifyMissing  = "missing"
	VerifyMismatch = "mismatch"
	VerifyError    = "error"
)

// VerifyItem is one object to check: its key and what it should hash to.
// Bytes < 0 skips the size comparison.
type VerifyItem struct {
	Key, SHA256 string
	Bytes       int64
}

// VerifyResult is the verdict on one item. Err is nil for ok, wraps
// ErrNotExist for missing and ErrIntegrity for mismatch.
type VerifyResult struct {
	VerifyItem
	Status    string /* "ok","missing","mismatch","error" */
	GotSHA256 string
	GotBytes  int64
	Err       error
}

// Opener is what reading an object back needs of a store.
type Opener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// VerifyObject streams the object at obj.Key back from st and checks that it
// has obj.Bytes bytes and the SHA-256 obj.SHA256: nil when it does, an error
// wrapping ErrIntegrity when it does not, ErrNotExist when there is no such
// object, and another error when it cannot tell (no valid obj.SHA256, a read
// failure, ctx done). It is Verify for one object that Put returned.
func VerifyObject(ctx context.Context, st Opener, obj Object) error {
	return verifyOne(ctx, st, VerifyItem{Key: obj.Key, SHA256: obj.SHA256, Bytes: obj.Bytes}, nil).Err
}

// Verify streams every item's object back from st, recomputes its SHA-256 and
// compares it (and its size) with the item: ok, missing (no object), mismatch
// (different content) or error (could not tell: read failure, no expected
// SHA-256, cancelled). It reads VerifyConcurrency objects at once; results are
// in the order of items. progress (may be nil) is called after each item,
// never concurrently.
func Verify(ctx context.Context, st Store, items []VerifyItem, progress func(done, total int)) []VerifyResult {
	results := make([]VerifyResult, len(items))
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	next := make(chan int)
	workers := min(VerifyConcurrency, len(items))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, verifyBufSize)
			for i := range next {
				results[i] = verifyOne(ctx, st, items[i], buf)
				mu.Lock()
				done++
				if progress != nil {
					progress(done, len(items))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// HashObject streams the object at key back and returns its SHA-256 (hex)
// and size: for an object whose SHA-256 was not known when it was stored.
func HashObject(ctx context.Context, st Opener, key string) (sha256Hex string, n int64, err error) {
	return readBack(ctx, st, key, make([]byte, verifyBufSize))
}

// readBack streams the object at key through buf into SHA-256.
func readBack(ctx context.Context, st Opener, key string, buf []byte) (string, int64, error) {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return "", 0, fmt.Errorf("archive: verify %s: %w", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, ctxReader{ctx.Err, rc}, buf)
	if err != nil {
		return "", n, fmt.Errorf("archive: verify %s: read after %d bytes: %w", key, n, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// verifyOne checks one item, reading through buf (nil: a new one).
func verifyOne(ctx context.Context, st Opener, it VerifyItem, buf []byte) VerifyResult {
	if buf == nil {
		buf = make([]byte, verifyBufSize)
	}
	res := VerifyResult{VerifyItem: it, GotBytes: -1}
	if err := ctx.Err(); err != nil {
		res.Status, res.Err = VerifyError, err
		return res
	}
	if !validSHA256(it.SHA256) {
		res.Status, res.Err = VerifyError, fmt.Errorf("archive: verify %s: no expected sha256 to compare with", it.Key)
		return res
	}
	sum, n, err := readBack(ctx, st, it.Key, buf)
	if errors.Is(err, ErrNotExist) {
		res.Status, res.Err = VerifyMissing, err
		return res
	}
	if err != nil {
		res.Status, res.Err = VerifyError, err
		return res
	}
	res.GotSHA256, res.GotBytes = sum, n
	switch {
	case !strings.EqualFold(res.GotSHA256, it.SHA256):
		res.Status = VerifyMismatch
		res.Err = fmt.Errorf("archive: verify %s: %w: %d bytes sha256 %s, want sha256 %s", it.Key, ErrIntegrity, n, res.GotSHA256, strings.ToLower(it.SHA256))
	case it.Bytes >= 0 && n != it.Bytes:
		res.Status = VerifyMismatch
		res.Err = fmt.Errorf("archive: verify %s: %w: %d bytes, want %d", it.Key, ErrIntegrity, n, it.Bytes)
	default:
		res.Status = VerifyOK
	}
	return res
}

// ctxReader stops a long read when ctx is done.
type ctxReader struct {
	ctxErr func() error
	r      io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctxErr(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// maxSidecarFindings bounds the differences VerifySidecar names in one
// error (the count of the rest is given).
const maxSidecarFindings = 5

// VerifySidecar checks a conference's sidecar, its commit mark, against
// the files a report says the conference has (Key, Bytes and SHA256 of
// each; Bytes < 0 is not compared): the sidecar must be present, name the
// conference (ignoring case) and list exactly those keys, each with the
// same size and SHA-256 (ignoring case). The result's Key is the sidecar's
// key; its Status is ok, missing (no sidecar), mismatch (a malformed
// sidecar, another conference, a key too many or too few, another size or
// SHA-256: Err names up to five) or error (it could not be read).
func VerifySidecar(ctx context.Context, st Store, confUUID string, files []VerifyItem) VerifyResult {
	key, err := SidecarKey(confUUID)
	res := VerifyResult{VerifyItem: VerifyItem{Key: key, Bytes: -1}, GotBytes: -1}
	if err != nil {
		res.Status, res.Err = VerifyError, fmt.Errorf("archive: verify sidecar: %w", err)
		return res
	}
	sc, err := GetSidecar(ctx, st, confUUID)
	switch {
	case errors.Is(err, ErrNotExist):
		res.Status, res.Err = VerifyMissing, fmt.Errorf("archive: verify sidecar %s: no sidecar: the conference is not committed", st.URI(key))
		return res
	case errors.Is(err, errBadSidecar):
		res.Status, res.Err = VerifyMismatch, fmt.Errorf("archive: verify sidecar: %w: %w", ErrIntegrity, err)
		return res
	case err != nil:
		res.Status, res.Err = VerifyError, err
		return res
	}
	var diffs []string
	if !strings.EqualFold(sc.ConfUUID, confUUID) {
		diffs = append(diffs, fmt.Sprintf("names conference %q, not %s", sc.ConfUUID, confUUID))
	}
	listed := make(map[string]SidecarFile, len(sc.Files))
	for _, f := range sc.Files {
		if _, dup := listed[f.Key]; dup {
			diffs = append(diffs, fmt.Sprintf("lists key %q twice", f.Key))
		}
		listed[f.Key] = f
	}
	want := make(map[string]bool, len(files))
	for _, it := range files {
		want[it.Key] = true
		f, ok := listed[it.Key]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("does not list key %q", it.Key))
		case !strings.EqualFold(f.SHA256, it.SHA256):
			diffs = append(diffs, fmt.Sprintf("key %q: sha256 %s, the manifest says %s", it.Key, f.SHA256, strings.ToLower(it.SHA256)))
		case it.Bytes >= 0 && f.Bytes != it.Bytes:
			diffs = append(diffs, fmt.Sprintf("key %q: %d bytes, the manifest says %d", it.Key, f.Bytes, it.Bytes))
		}
	}
	for _, f := range sc.Files {
		if !want[f.Key] {
			diffs = append(diffs, fmt.Sprintf("lists key %q, not in the manifest", f.Key))
		}
	}
	if len(diffs) == 0 {
		res.Status = VerifyOK
		return res
	}
	if n := len(diffs); n > maxSidecarFindings {
		diffs = append(diffs[:maxSidecarFindings], fmt.Sprintf("and %d more", n-maxSidecarFindings))
	}
	res.Status = VerifyMismatch
	res.Err = fmt.Errorf("archive: verify sidecar %s: %w: %s", st.URI(key), ErrIntegrity, strings.Join(diffs, "; "))
	return res
}
