package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// StateDir is the folder, inside the reserved sidecar area, that holds the
// state incremental runs keep in a destination: `_meetarchive/state/`
// under the store's root or prefix. Put refuses keys there like every key
// of the sidecar area.
const StateDir = SidecarDir + "/state"

// DefaultLeaseTTL is how long an S3 state lease lasts without renewal; a
// holder renews it every third of that while it runs, so a killed run's
// lease frees itself after at most this long.
const DefaultLeaseTTL = 10 * time.Minute

var (
	// ErrStateHeld: another run holds the state (a *StateHeldError says who).
	ErrStateHeld = errors.New("state held by another run")
	// ErrStateConflict: the state changed since this run read it, or this
	// run's hold on it was lost; nothing was written.
	ErrStateConflict = errors.New("state changed by another run")
	// ErrNoConditionalWrites: the S3 server ignores If-None-Match on
	// PutObject, so two runs could not be kept apart.
	ErrNoConditionalWrites = errors.New("server does not honour conditional writes (If-None-Match, If-Match)")
)

// StateHeldError says who holds a state.
type StateHeldError struct {
	Where  string    // the lock file or lease object
	Holder string    // as the holder described itself ("" if unknown)
	Since  time.Time // when it took the hold (zero if unknown)
	Until  time.Time // S3: when its lease expires unless renewed
}

func (e *StateHeldError) Error() string {
	who := e.Holder
	if who == "" {
		who = "another run (it has not said which)"
	}
	msg := fmt.Sprintf("archive: state %s is held by %s", e.Where, who)
	if !e.Since.IsZero() {
		msg += ", since " + e.Since.UTC().Format(time.RFC3339)
	}
	if !e.Until.IsZero() {
		msg += ", lease until " + e.Until.UTC().Format(time.RFC3339)
	}
	return msg
}

// Is makes errors.Is(err, ErrStateHeld) true.
func (e *StateHeldError) Is(target error) bool { return target == ErrStateHeld }

// StateKey is the key of a named state, `_meetarchive/state/<name>.json`.
// A name is what SanitizeKey keeps, without "/" and not starting with ".".
func StateKey(name string) (string, error) {
	if name == "" || name != SanitizeKey(name) || strings.ContainsAny(name, "/ ") || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("state name %q: %w", name, ErrInvalidKey)
	}
	return StateDir + "/" + name + ".json", nil
}

// HoldOptions tune HoldState.
type HoldOptions struct {
	// Holder describes this run in the lock file or lease (run id, host, pid).
	Holder string
	// LeaseTTL is the S3 lease's life without renewal; 0: DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Now is the clock of lease expiry; nil: time.Now.
	Now func() time.Time
}

// StateHold is one run's exclusive hold on a named state of a destination,
// from HoldState until Release. Get reads the state; Put replaces it, only
// if nobody changed it since (compare-and-swap), atomically: a reader sees
// the old state or the new one, never a mix.
//
// On a directory the hold is an flock on `_meetarchive/state/<name>.lock`
// (held for the whole run; a killed process releases it with its death)
// and the state file is written to a temporary name, synced and renamed.
// On S3 the hold is a lease object `_meetarchive/state/<name>.lease`
// created with If-None-Match: * (taken over, when expired, with If-Match on
// its ETag), renewed by a goroutine every third of its TTL, made to expire
// at once on Release; the state object is written with If-Match on the ETag read
// (If-None-Match: * when there was none), so a run whose lease lapsed and
// was taken over cannot overwrite its successor's state.
type StateHold struct {
	key     string
	where   string
	backend stateBackend

	mu      sync.Mutex
	version string // of the state as last read or written; "" none
	read    bool
	hold    hold
	done    bool
}

// hold is a lock file or a lease.
type hold interface {
	release() error
	lost() error // non-nil once another run took the hold over
}

// stateBackend is what a store gives StateHold.
type stateBackend interface {
	// getState returns the object at key and its version; ErrNotExist.
	getState(ctx context.Context, key string) ([]byte, string, error)
	// putState writes data at key if its version is still ifVersion (""
	// for none); ErrStateConflict otherwise. It returns the new version.
	putState(ctx context.Context, key string, data []byte, ifVersion string) (string, error)
}

// HoldState takes this run's hold on the named state of st (a *DirStore or
// an *S3Store). It does not wait: when another run holds it, the error is a
// *StateHeldError (errors.Is ErrStateHeld) naming the holder.
func HoldState(ctx context.Context, st Store, name string, o HoldOptions) (*StateHold, error) {
	key, err := StateKey(name)
	if err != nil {
		return nil, fmt.Errorf("archive: hold state: %w", err)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &StateHold{key: key, where: st.URI(key)}
	switch s := st.(type) {
	case *DirStore:
		h.backend = s
		h.hold, err = s.lockState(key, o)
	case *S3Store:
		h.backend = s
		h.hold, err = s.leaseState(ctx, key, o)
	default:
		return nil, fmt.Errorf("archive: hold state: a %T keeps no state", st)
	}
	if err != nil {
		return nil, err
	}
	return h, nil
}

// URI is where the state is kept.
func (h *StateHold) URI() string { return h.where }

// Get reads the state: nil (and no error) when there is none yet.
func (h *StateHold) Get(ctx context.Context) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	data, v, err := h.backend.getState(ctx, h.key)
	switch {
	case errors.Is(err, ErrNotExist):
		h.version, h.read = "", true
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("archive: read state %s: %w", h.where, err)
	}
	h.version, h.read = v, true
	return data, nil
}

// Put replaces the state with data if it is still what Get read (or what
// the last Put wrote): ErrStateConflict otherwise, or when the hold was
// lost or released. Get must come first.
func (h *StateHold) Put(ctx context.Context, data []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.read:
		return fmt.Errorf("archive: write state %s: read it first", h.where)
	case h.done:
		return fmt.Errorf("archive: write state %s: %w: the hold was released", h.where, ErrStateConflict)
	}
	if err := h.hold.lost(); err != nil {
		return fmt.Errorf("archive: write state %s: %w", h.where, err)
	}
	v, err := h.backend.putState(ctx, h.key, data, h.version)
	if err != nil {
		return fmt.Errorf("archive: write state %s: %w", h.where, err)
	}
	h.version = v
	return nil
}

// Release gives the hold up; calling it again does nothing.
func (h *StateHold) Release() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return nil
	}
	h.done = true
	return h.hold.release()
}

// ReadState reads the named state of st without holding it (a dry run):
// nil (and no error) when there is none.
func ReadState(ctx context.Context, st Store, name string) ([]byte, error) {
	key, err := StateKey(name)
	if err != nil {
		return nil, fmt.Errorf("archive: read state: %w", err)
	}
	b, ok := st.(stateBackend)
	if !ok {
		return nil, fmt.Errorf("archive: read state: a %T keeps no state", st)
	}
	data, _, err := b.getState(ctx, key)
	switch {
	case errors.Is(err, ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("archive: read state %s: %w", st.URI(key), err)
	}
	return data, nil
}

// maxStateBytes caps a state read back.
const maxStateBytes = 64 << 20

// holdInfo is what a lock file or lease says about its holder.
type holdInfo struct {
	Holder  string    `json:"holder"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires,omitzero"`
}

// --- directory ---

func versionOf(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func (d *DirStore) getState(ctx context.Context, key string) ([]byte, string, error) {
	rc, err := d.Open(ctx, key)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxStateBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > maxStateBytes {
		return nil, "", fmt.Errorf("larger than %d bytes", maxStateBytes)
	}
	return data, versionOf(data), nil
}

// putState compares the file's content with ifVersion and renames a new
// file into place; the flock HoldState took keeps other runs out meanwhile.
func (d *DirStore) putState(ctx context.Context, key string, data []byte, ifVersion string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	_, cur, err := d.getState(ctx, key)
	switch {
	case errors.Is(err, ErrNotExist):
		cur = ""
	case err != nil:
		return "", err
	}
	if cur != ifVersion {
		return "", ErrStateConflict
	}
	p, err := d.path(key)
	if err != nil {
		return "", err
	}
	if err := d.writeAtomic(p, nil, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	}); err != nil {
		return "", err
	}
	return versionOf(data), nil
}

// lockState takes an flock on the state's lock file for the whole run.
func (d *DirStore) lockState(key string, o HoldOptions) (hold, error) {
	p, err := d.path(strings.TrimSuffix(key, ".json") + ".lock")
	if err != nil {
		return nil, fmt.Errorf("archive: hold state: %w", err)
	}
	if err := d.mkdirInside(filepath.Dir(p)); err != nil {
		return nil, fmt.Errorf("archive: hold state %s: %w", p, err)
	}
	// A symbolic link planted at the lock's name is refused, never
	// truncated through.
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|oNoFollow, filePerm)
	if err != nil {
		return nil, fmt.Errorf("archive: hold state %s (a symbolic link there is refused): %w", p, err)
	}
	if err := flockNB(f); err != nil {
		defer f.Close()
		if errors.Is(err, errWouldBlock) {
			he := &StateHeldError{Where: p}
			var info holdInfo
			if b, rerr := io.ReadAll(io.LimitReader(f, 64<<10)); rerr == nil && json.Unmarshal(b, &info) == nil {
				he.Holder, he.Since = info.Holder, info.Since
			}
			return nil, he
		}
		return nil, fmt.Errorf("archive: hold state %s: %w", p, err)
	}
	info, _ := json.Marshal(holdInfo{Holder: o.Holder, Since: o.Now().UTC()})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(info, '\n'), 0)
	}
	return &fileLock{f: f}, nil
}

// fileLock is an flock held on an open file.
type fileLock struct{ f *os.File }

func (l *fileLock) lost() error { return nil } // nobody takes an flock over

func (l *fileLock) release() error {
	_ = l.f.Truncate(0)
	if err := l.f.Close(); err != nil { // closing releases the flock
		return fmt.Errorf("archive: release state %s: %w", l.f.Name(), err)
	}
	return nil
}

// --- S3 ---

func (s *S3Store) getState(ctx context.Context, key string) ([]byte, string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.ObjectKey(key))})
	if err != nil {
		if isNotFound(err) {
			return nil, "", ErrNotExist
		}
		return nil, "", err
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxStateBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > maxStateBytes {
		return nil, "", fmt.Errorf("larger than %d bytes", maxStateBytes)
	}
	return data, aws.ToString(out.ETag), nil
}

func (s *S3Store) putState(ctx context.Context, key string, data []byte, ifVersion string) (string, error) {
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.ObjectKey(key)), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/json"),
		ChecksumAlgorithm:    types.ChecksumAlgorithm(ChecksumAlgorithm),
		ServerSideEncryption: types.ServerSideEncryption(s.opts.SSE), SSEKMSKeyId: nzString(s.opts.SSEKMSKeyID),
	}
	if ifVersion == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(ifVersion)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		if isPreconditionFailed(err) {
			return "", ErrStateConflict
		}
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// isPreconditionFailed: a conditional request's condition did not hold
// (412), or a conflicting conditional write was in progress (409).
func isPreconditionFailed(err error) bool {
	switch apiCode(err) {
	case "PreconditionFailed", "ConditionalRequestConflict":
		return true
	}
	st := httpStatus(err)
	return st == 412 || st == 409
}

// s3Lease is a held lease object.
type s3Lease struct {
	s     *S3Store
	key   string // full object key
	o     HoldOptions
	since time.Time
	mu    sync.Mutex
	etag  string
	gone  error
	stop  chan struct{}
	wg    sync.WaitGroup
}

// leaseState creates (or takes over, when expired) the lease object and
// starts renewing it.
func (s *S3Store) leaseState(ctx context.Context, key string, o HoldOptions) (hold, error) {
	lkey := strings.TrimSuffix(key, ".json") + ".lease"
	l := &s3Lease{s: s, key: s.ObjectKey(lkey), o: o, since: o.Now().UTC(), stop: make(chan struct{})}
	where := s.URI(lkey)
	data, etag, err := s.getState(ctx, lkey)
	switch {
	case errors.Is(err, ErrNotExist):
		if err := l.write(ctx, ""); err != nil {
			return nil, l.heldOr(ctx, lkey, err)
		}
		// A server that ignores If-None-Match would let a second create
		// succeed: refuse to run without the guarantee.
		switch err := l.put(ctx, "*", "", l.o.LeaseTTL); {
		case err == nil:
			_, _ = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(l.key)})
			return nil, fmt.Errorf("archive: hold state %s: %w", where, ErrNoConditionalWrites)
		case !errors.Is(err, ErrStateConflict):
			return nil, fmt.Errorf("archive: hold state %s: %w", where, err)
		}
	case err != nil:
		return nil, fmt.Errorf("archive: hold state %s: read lease: %w", where, err)
	default:
		var info holdInfo
		if json.Unmarshal(data, &info) == nil && info.Expires.After(o.Now()) {
			return nil, &StateHeldError{Where: where, Holder: info.Holder, Since: info.Since, Until: info.Expires}
		}
		// Expired (its holder died or stalled): take it over, unless
		// another run just did.
		if err := l.write(ctx, etag); err != nil {
			return nil, l.heldOr(ctx, lkey, err)
		}
	}
	l.wg.Add(1)
	go l.renew()
	return l, nil
}

// heldOr turns a lost race for the lease into a *StateHeldError.
func (l *s3Lease) heldOr(ctx context.Context, lkey string, err error) error {
	where := l.s.URI(lkey)
	if !errors.Is(err, ErrStateConflict) {
		return fmt.Errorf("archive: hold state %s: %w", where, err)
	}
	he := &StateHeldError{Where: where}
	if data, _, gerr := l.s.getState(ctx, lkey); gerr == nil {
		var info holdInfo
		if json.Unmarshal(data, &info) == nil {
			he.Holder, he.Since, he.Until = info.Holder, info.Since, info.Expires
		}
	}
	return he
}

// write puts the lease with a fresh expiry: created (If-None-Match: *)
// when ifETag is "", else replacing the version ifETag names (If-Match).
func (l *s3Lease) write(ctx context.Context, ifETag string) error {
	if ifETag == "" {
		return l.put(ctx, "*", "", l.o.LeaseTTL)
	}
	return l.put(ctx, "", ifETag, l.o.LeaseTTL)
}

// put writes the lease with the conditions given, expiring ttl from now.
func (l *s3Lease) put(ctx context.Context, ifNoneMatch, ifMatch string, ttl time.Duration) error {
	info := holdInfo{Holder: l.o.Holder, Since: l.since, Expires: l.o.Now().UTC().Add(ttl)}
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(l.s.bucket), Key: aws.String(l.key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/json"),
		ChecksumAlgorithm: types.ChecksumAlgorithm(ChecksumAlgorithm), // a bucket with Object Lock wants one
		IfNoneMatch:       nzString(ifNoneMatch), IfMatch: nzString(ifMatch),
	}
	out, err := l.s.client.PutObject(ctx, in)
	if err != nil {
		if isPreconditionFailed(err) {
			return ErrStateConflict
		}
		return err
	}
	l.mu.Lock()
	l.etag = aws.ToString(out.ETag)
	l.mu.Unlock()
	return nil
}

func (l *s3Lease) lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gone
}

// renew extends the lease every third of its TTL until release; a failed
// renewal is retried at the next tick, a lost one (another run took the
// lease over after it expired) is final.
func (l *s3Lease) renew() {
	defer l.wg.Done()
	every := max(l.o.LeaseTTL/3, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		etag := l.etag
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := l.write(ctx, etag)
		cancel()
		if errors.Is(err, ErrStateConflict) {
			l.mu.Lock()
			l.gone = fmt.Errorf("%w: the lease %s lapsed and another run took it", ErrStateConflict, l.s.URI(strings.TrimPrefix(l.key, l.s.prefix)))
			l.mu.Unlock()
			return
		}
	}
}

// release stops the renewal and, if the lease is still ours, makes it
// expire now. It is not deleted: on a versioned bucket a delete marker
// would stand where the next run creates the lease, and not every server
// lets If-None-Match: * write over one.
func (l *s3Lease) release() error {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	etag, gone := l.etag, l.gone
	l.mu.Unlock()
	if gone != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := l.put(ctx, "", etag, 0); err != nil && !errors.Is(err, ErrStateConflict) {
		return fmt.Errorf("archive: release state lease %s: %w", l.s.URI(strings.TrimPrefix(l.key, l.s.prefix)), err)
	}
	return nil
}
