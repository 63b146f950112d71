package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// The --since-last state of incremental runs and its hold, over any Store
// that has Capabilities.NativeLock or Capabilities.ConditionalWrites.

// StateDir is the folder, inside the reserved sidecar area, that holds the
// state incremental runs keep in a destination: `_meetarchive/state/`
// under the store's root or prefix. Put refuses keys there like every key
// of the sidecar area.
const StateDir = SidecarDir + "/state"

// DefaultLeaseTTL is how long a state lease lasts without renewal; a
// holder renews it every third of that while it runs, so a killed run's
// lease frees itself after at most this long.
const DefaultLeaseTTL = 10 * time.Minute

var (
	// ErrStateHeld: another run holds the state (a *StateHeldError says who).
	ErrStateHeld = errors.New("state held by another run")
	// ErrStateConflict: the state changed since this run read it, or this
	// run's hold on it was lost; nothing was written.
	ErrStateConflict = errors.New("state changed by another run")
	// ErrNoConditionalWrites: the store's server ignores If-None-Match (S3
	// PutObject), so two runs could not be kept apart.
	ErrNoConditionalWrites = errors.New("server does not honour conditional writes (If-None-Match, If-Match)")
)

// StateHeldError says who holds a state.
type StateHeldError struct {
	Where  string    // the lock or lease object
	Holder string    // as the holder described itself ("" if unknown)
	Since  time.Time // when it took the hold (zero if unknown)
	Until  time.Time // a lease: when it expires unless renewed
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
	// LeaseTTL is a lease's life without renewal; 0: DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Now is the clock of lease expiry; nil: time.Now.
	Now func() time.Time
}

// StateHold is one run's exclusive hold on a named state of a destination,
// from HoldState until Release. Get reads the state; Put replaces it, only
// if nobody changed it since (compare-and-swap: PutMeta with IfVersion, or
// IfAbsent when there was none), atomically: a reader sees the old state or
// the new one, never a mix.
//
// On a store with Capabilities.NativeLock (a directory) the hold is a Lock
// on `_meetarchive/state/<name>.lock`, held for the whole run (a killed
// process releases it with its death). Otherwise, on a store with
// Capabilities.ConditionalWrites (S3), the hold is a lease document
// `_meetarchive/state/<name>.lease` created with IfAbsent (taken over, when
// expired, with IfVersion), renewed by a goroutine every third of its TTL,
// made to expire at once on Release; the state is written with IfVersion on
// the version read, so a run whose lease lapsed and was taken over cannot
// overwrite its successor's state. A store with neither keeps no state.
type StateHold struct {
	st    Store
	key   string
	where string

	mu      sync.Mutex
	version string // of the state as last read or written; "" none
	read    bool
	hold    hold
	done    bool
}

// hold is a lock or a lease.
type hold interface {
	release() error
	lost() error // non-nil once another run took the hold over
}

// keepsState refuses a store that can neither lock nor write conditionally.
func keepsState(st Store) error {
	if c := st.Capabilities(); !c.NativeLock && !c.ConditionalWrites {
		return fmt.Errorf("%s keeps no state: it can neither lock nor write conditionally", st.RootURI())
	}
	return nil
}

// HoldState takes this run's hold on the named state of st. It does not
// wait: when another run holds it, the error is a *StateHeldError
// (errors.Is ErrStateHeld) naming the holder.
func HoldState(ctx context.Context, st Store, name string, o HoldOptions) (*StateHold, error) {
	key, err := StateKey(name)
	if err != nil {
		return nil, fmt.Errorf("archive: hold state: %w", err)
	}
	if err := keepsState(st); err != nil {
		return nil, fmt.Errorf("archive: hold state: %w", err)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &StateHold{st: st, key: key, where: st.URI(key)}
	if st.Capabilities().NativeLock {
		h.hold, err = lockState(ctx, st, key, o)
	} else {
		h.hold, err = leaseState(ctx, st, key, o)
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
	data, v, err := h.st.GetMeta(ctx, h.key, maxStateBytes)
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
	v, err := h.st.PutMeta(ctx, h.key, data, Meta{IfAbsent: h.version == "", IfVersion: h.version})
	if err != nil {
		return fmt.Errorf("archive: write state %s: %w", h.where, asConflict(err))
	}
	h.version = v
	return nil
}

// asConflict turns a failed write condition into ErrStateConflict.
func asConflict(err error) error {
	if errors.Is(err, ErrConditionFailed) {
		return ErrStateConflict
	}
	return err
}

// Lost is non-nil once the hold is no longer ours: a lease that lapsed and
// that another run took over, as its renewal found (wrapping
// ErrStateConflict); Put then refuses to write. A lock is never lost.
func (h *StateHold) Lost() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hold.lost()
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
	if err := keepsState(st); err != nil {
		return nil, fmt.Errorf("archive: read state: %w", err)
	}
	data, _, err := st.GetMeta(ctx, key, maxStateBytes)
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

// maxHoldBytes caps a lock note or lease read back.
const maxHoldBytes = 64 << 10

// holdInfo is what a lock note or lease says about its holder.
type holdInfo struct {
	Holder  string    `json:"holder"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires,omitzero"`
}

// --- a lock (Capabilities.NativeLock) ---

// lockState takes the store's lock beside the state for the whole run.
func lockState(ctx context.Context, st Store, key string, o HoldOptions) (hold, error) {
	note, _ := json.Marshal(holdInfo{Holder: o.Holder, Since: o.Now().UTC()})
	unlock, err := st.Lock(ctx, strings.TrimSuffix(key, ".json")+".lock", append(note, '\n'))
	var le *LockedError
	switch {
	case errors.As(err, &le):
		he := &StateHeldError{Where: le.Where}
		var info holdInfo
		if json.Unmarshal(le.Note, &info) == nil {
			he.Holder, he.Since = info.Holder, info.Since
		}
		return nil, he
	case err != nil:
		return nil, fmt.Errorf("archive: hold state: %w", err)
	}
	return lockHold(unlock), nil
}

// lockHold is a lock held until release; nobody takes it over.
type lockHold func() error

func (l lockHold) lost() error    { return nil }
func (l lockHold) release() error { return l() }

// --- a lease (Capabilities.ConditionalWrites) ---

// lease is a held lease document.
type lease struct {
	st    Store
	key   string // the lease's key
	o     HoldOptions
	since time.Time
	mu    sync.Mutex
	ver   string // the lease's version as last written
	gone  error
	stop  chan struct{}
	wg    sync.WaitGroup
}

// leaseState creates (or takes over, when expired) the lease document and
// starts renewing it.
func leaseState(ctx context.Context, st Store, key string, o HoldOptions) (hold, error) {
	lkey := strings.TrimSuffix(key, ".json") + ".lease"
	l := &lease{st: st, key: lkey, o: o, since: o.Now().UTC(), stop: make(chan struct{})}
	where := st.URI(lkey)
	data, ver, err := st.GetMeta(ctx, lkey, maxHoldBytes)
	switch {
	case errors.Is(err, ErrNotExist):
		if err := l.write(ctx, ""); err != nil {
			return nil, l.heldOr(ctx, err)
		}
		if err := l.refuseUnconditional(ctx); err != nil {
			return nil, err
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
		if err := l.write(ctx, ver); err != nil {
			return nil, l.heldOr(ctx, err)
		}
	}
	l.wg.Add(1)
	go l.renew()
	return l, nil
}

// refuseUnconditional writes the lease just created a second time with
// IfAbsent: a server that ignores the condition lets it succeed, and could
// let two runs hold the state; refuse to run without the guarantee.
func (l *lease) refuseUnconditional(ctx context.Context) error {
	where := l.st.URI(l.key)
	switch err := l.put(ctx, Meta{IfAbsent: true}, l.o.LeaseTTL); {
	case err == nil:
		_ = l.st.Delete(ctx, l.key)
		return fmt.Errorf("archive: hold state %s: %w", where, ErrNoConditionalWrites)
	case !errors.Is(err, ErrStateConflict):
		return fmt.Errorf("archive: hold state %s: %w", where, err)
	}
	return nil
}

// heldOr turns a lost race for the lease into a *StateHeldError.
func (l *lease) heldOr(ctx context.Context, err error) error {
	where := l.st.URI(l.key)
	if !errors.Is(err, ErrStateConflict) {
		return fmt.Errorf("archive: hold state %s: %w", where, err)
	}
	he := &StateHeldError{Where: where}
	if data, _, gerr := l.st.GetMeta(ctx, l.key, maxHoldBytes); gerr == nil {
		var info holdInfo
		if json.Unmarshal(data, &info) == nil {
			he.Holder, he.Since, he.Until = info.Holder, info.Since, info.Expires
		}
	}
	return he
}

// write puts the lease with a fresh expiry: created (IfAbsent) when ver is
// "", else replacing the version ver names (IfVersion).
func (l *lease) write(ctx context.Context, ver string) error {
	return l.put(ctx, Meta{IfAbsent: ver == "", IfVersion: ver}, l.o.LeaseTTL)
}

// put writes the lease under m's condition, expiring ttl from now:
// ErrStateConflict when the condition fails.
func (l *lease) put(ctx context.Context, m Meta, ttl time.Duration) error {
	data, err := json.Marshal(holdInfo{Holder: l.o.Holder, Since: l.since, Expires: l.o.Now().UTC().Add(ttl)})
	if err != nil {
		return err
	}
	ver, err := l.st.PutMeta(ctx, l.key, data, m)
	if err != nil {
		return asConflict(err)
	}
	l.mu.Lock()
	l.ver = ver
	l.mu.Unlock()
	return nil
}

func (l *lease) lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gone
}

// renew extends the lease every third of its TTL until release; a failed
// renewal is retried at the next tick, a lost one (another run took the
// lease over after it expired) is final.
func (l *lease) renew() {
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
		ver := l.ver
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := l.write(ctx, ver)
		cancel()
		if errors.Is(err, ErrStateConflict) {
			l.mu.Lock()
			l.gone = fmt.Errorf("%w: the lease %s lapsed and another run took it", ErrStateConflict, l.st.URI(l.key))
			l.mu.Unlock()
			return
		}
	}
}

// release stops the renewal and, if the lease is still ours, makes it
// expire now. It is not deleted: on a versioned bucket a delete marker
// would stand where the next run creates the lease, and not every server
// lets If-None-Match: * write over one.
func (l *lease) release() error {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	ver, gone := l.ver, l.gone
	l.mu.Unlock()
	if gone != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := l.put(ctx, Meta{IfVersion: ver}, 0); err != nil && !errors.Is(err, ErrStateConflict) {
		return fmt.Errorf("archive: release state lease %s: %w", l.st.URI(l.key), err)
	}
	return nil
}
