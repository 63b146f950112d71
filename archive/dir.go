package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DirStore stores objects as files under a root directory. Each object is
// streamed to a temporary file next to its final name, synced, renamed into
// place and its directory synced, so a file at a key is always complete.
//
// Containment: keys are checked (no "..", "." or empty segments, no absolute
// paths, no control characters), joined and cleaned, and the real path of the
// target's directory (symlinks resolved) must lie inside the real root. A
// symlink swapped in by someone with write access to the tree between that
// check and the write is out of scope.
//
// Stat reports each file's size, the SHA-256 kept in its extended attribute
// `user.meetarchive.sha256` (set on the temporary file before the rename,
// where the file system has user attributes) and its mtime (comparable
// across the store: Capabilities.ModTimes), so Archived finds a file changed
// after its sidecar without reading it. Content changed in a way that keeps
// size, attribute and mtime is only found by Verify, which reads every byte.
//
// The caller's metadata (Expect.Metadata) is kept as JSON in the attribute
// `user.meetarchive.metadata`. Put refuses (ErrKeyTaken, writing nothing) to
// replace a file whose recorded confuuid differs from the one it is given; a
// rerun of the same conference replaces its own files. The check is made
// before the stream is read and again just before the rename; a file without
// the attribute (written by another tool, or on a file system without user
// attributes) names no conference and is replaced.
//
// Files are created with mode 0666 and folders with 0777, less the process's
// umask: the operator's umask decides who may read the recordings.
//
// PutMeta writes a document the same way (temporary file, sync, rename);
// its condition is checked just before the rename, which is not atomic
// against another writer (no Capabilities.ConditionalWrites): the state
// takes the store's Lock, an flock, around its reads and writes.
//
// Temporary files: an object (or document) is written to
// `.meetarchive-<16 hex>.partial` beside its key, and Preflight writes a
// probe `.preflight-<16 hex>` in `_meetarchive`. The writer holds an
// flock on its temporary file until it is renamed or removed. A process
// killed mid-write (SIGKILL, a crash, a power cut) leaves it behind; the
// next store that writes into the same directory removes, once per
// directory before its first write there, every file of those two name
// patterns that is older than the store (its mtime before the store was
// opened) and that no live writer holds (the flock is free; where flock is
// not available, age alone decides). So a rerun that archives the
// interrupted conferences sweeps their directories; a directory no later
// run writes into keeps its leftovers. Nothing else is removed but what
// Delete is asked to remove.
type DirStore struct {
	root   string    // absolute, symlinks resolved
	opened time.Time // when the store was opened: older temporary files are stale

	mu    sync.Mutex
	swept map[string]*sync.Once // directories swept of stale temporary files
}

var _ Store = (*DirStore)(nil)

// Permissions of what a DirStore creates, before the umask takes its share.
const (
	dirPerm  = 0o777
	filePerm = 0o666
)

// openDirReadOnly opens root for reading only: nothing is created. A root
// that does not exist yet holds nothing (every Stat, Archived and Open says
// so).
func openDirReadOnly(root string) (*DirStore, error) {
	if root == "" {
		return nil, errors.New("archive: dir store: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("archive: dir store %s: %w", root, err)
	}
	switch fi, err := os.Stat(abs); {
	case errors.Is(err, os.ErrNotExist):
		return &DirStore{root: abs, opened: time.Now()}, nil
	case err != nil:
		return nil, fmt.Errorf("archive: dir store: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("archive: dir store %s: not a directory", abs)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("archive: dir store: %w", err)
	}
	return &DirStore{root: real, opened: time.Now()}, nil
}

// NewDirStore opens (creating it if needed) a directory store rooted at root.
func NewDirStore(root string) (*DirStore, error) {
	if root == "" {
		return nil, errors.New("archive: dir store: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("archive: dir store %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("archive: dir store: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("archive: dir store: %w", err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("archive: dir store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("archive: dir store %s: not a directory", abs)
	}
	return &DirStore{root: real, opened: time.Now()}, nil
}

// Root is the store's real (absolute, symlink-free) root directory.
func (d *DirStore) Root() string { return d.root }

// URI is the absolute path of key.
func (d *DirStore) URI(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// RootURI is the root directory with a trailing separator.
func (d *DirStore) RootURI() string {
	if strings.HasSuffix(d.root, string(filepath.Separator)) {
		return d.root
	}
	return d.root + string(filepath.Separator)
}

// Capabilities: an flock that dies with the process (on Unix), one clock
// for every file, and Put refuses another conference's file.
func (d *DirStore) Capabilities() Capabilities { return dirCapabilities() }

func dirCapabilities() Capabilities {
	return Capabilities{NativeLock: flockWorks, ModTimes: true, KeyOwners: true}
}

// Close does nothing.
func (d *DirStore) Close() error { return nil }

// inside reports whether p (absolute, clean) is d.root or below it.
func (d *DirStore) inside(p string) bool {
	if p == d.root {
		return true
	}
	prefix := d.root
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	return strings.HasPrefix(p, prefix)
}

// path maps a checked key to its path under the root, refusing anything that
// would land outside it.
func (d *DirStore) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	rel := filepath.FromSlash(key)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("key %q: not a local path: %w", key, ErrInvalidKey)
	}
	p := filepath.Clean(filepath.Join(d.root, rel))
	if !d.inside(p) || p == d.root {
		return "", fmt.Errorf("key %q: outside the store root: %w", key, ErrInvalidKey)
	}
	return p, nil
}

// mkdirInside creates dir (below the root) one level at a time, refusing to
// follow a symlink that leads out of the root, so not even a directory is
// created outside it.
func (d *DirStore) mkdirInside(dir string) error {
	rel, err := filepath.Rel(d.root, dir)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return fmt.Errorf("%s is outside the store root: %w", dir, ErrInvalidKey)
	}
	cur := d.root
	if rel != "." {
		for _, seg := range strings.Split(rel, string(filepath.Separator)) {
			cur = filepath.Join(cur, seg)
			fi, err := os.Lstat(cur)
			if errors.Is(err, fs.ErrNotExist) {
				if err := os.Mkdir(cur, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				if err := d.realDirInside(cur); err != nil {
					return err
				}
				if fi, err = os.Stat(cur); err != nil {
					return err
				}
			}
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", cur)
			}
		}
	}
	return d.realDirInside(dir)
}

// realDirInside resolves dir's symlinks and checks it stays inside the root.
func (d *DirStore) realDirInside(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if !d.inside(real) {
		return fmt.Errorf("%s resolves to %s, outside the store root: %w", dir, real, ErrInvalidKey)
	}
	return nil
}

// existing returns the path of an existing key, checking that its real
// location (symlinks resolved) is inside the root. ErrNotExist if absent.
func (d *DirStore) existing(key string) (string, fs.FileInfo, error) {
	p, err := d.path(key)
	if err != nil {
		return "", nil, err
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist) || isNotDir(err) {
		return "", nil, ErrNotExist
	}
	if err != nil {
		return "", nil, err
	}
	if !d.inside(real) {
		return "", nil, fmt.Errorf("key %q resolves outside the store root: %w", key, ErrInvalidKey)
	}
	fi, err := os.Stat(real)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, ErrNotExist
	}
	if err != nil {
		return "", nil, err
	}
	if !fi.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%s is not a regular file: %w", p, ErrNotExist)
	}
	return real, fi, nil
}

// Put streams r into the file at key; see Store.
func (d *DirStore) Put(ctx context.Context, key string, r io.Reader, want Expect) (Object, error) {
	if err := checkPutKeyFor(key, want); err != nil {
		return Object{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	if want.PlatformSHA256 != "" && !validSHA256(want.PlatformSHA256) {
		return Object{}, fmt.Errorf("archive: put %s: %w: platform sha256 %q is not a hex SHA-256", key, ErrIntegrity, want.PlatformSHA256)
	}
	cr := newCheckingReader(ctx, r, want)
	p, err := d.path(key)
	if err != nil {
		return Object{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	conf, md := wantConfUUID(want), normalizeMetadata(want.Metadata)
	notTaken := func() error { return d.checkOwner(key, conf) }
	if err := notTaken(); err != nil {
		return Object{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	err = d.writeAtomic(p, notTaken, func(f *os.File) error {
		buf := make([]byte, 1<<20)
		if _, err := io.CopyBuffer(onlyWriter{f}, cr, buf); err != nil {
			if ferr := cr.failure(); ferr != nil {
				return ferr
			}
			return err
		}
		if !cr.complete() {
			return errors.New("stream ended without its end-of-file check")
		}
		setSHA256Attr(f, cr.sum())
		setMetadataAttr(f, md)
		return nil
	})
	if err != nil {
		return Object{}, fmt.Errorf("archive: put %s: %w", key, err)
	}
	return Object{Key: key, URI: d.URI(key), Bytes: cr.n, SHA256: cr.sum(), Metadata: md}, nil
}

// checkOwner fails with ErrKeyTaken when the file at key records a
// conference other than confUUID.
func (d *DirStore) checkOwner(key, confUUID string) error {
	if confUUID == "" {
		return nil
	}
	real, _, err := d.existing(key)
	switch {
	case errors.Is(err, ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	if owner, other := otherConference(getMetadataAttr(real), confUUID); other {
		return fmt.Errorf("%w: %s holds a recording of conference %s, not %s", ErrKeyTaken, d.URI(key), owner, confUUID)
	}
	return nil
}

// onlyWriter hides *os.File's ReadFrom so io.CopyBuffer uses our buffer and
// every byte passes through the checking reader's Read.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// writeAtomic creates p's directory, writes a temp file there with fill,
// syncs it, checks beforeRename (may be nil), renames it to p and syncs the
// directory. On any failure the temp file is removed and p is untouched.
func (d *DirStore) writeAtomic(p string, beforeRename func() error, fill func(*os.File) error) (err error) {
	dir := filepath.Dir(p)
	if err := d.mkdirInside(dir); err != nil {
		return err
	}
	d.sweepOnce(dir)
	f, err := createTemp(dir, tempPrefix, tempSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer holdTemp(tmp)() // released after the rename, or after the removal below
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if beforeRename != nil {
		if err := beforeRename(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// The names of the temporary files a DirStore writes.
const (
	tempPrefix  = ".meetarchive-"
	tempSuffix  = ".partial"
	probePrefix = ".preflight-"
)

// reStaleTemp matches the names createTemp gives with those prefixes.
var reStaleTemp = regexp.MustCompile(`^(\.meetarchive-[0-9a-f]{16}\.partial|\.preflight-[0-9a-f]{16})$`)

// holdTemp takes an flock on the temporary file at tmp, telling a sweeping
// store that a live writer has it; the returned func drops it. Where flock
// is not available it holds nothing.
func holdTemp(tmp string) (release func()) {
	f, err := os.Open(tmp)
	if err != nil {
		return func() {}
	}
	if flockNB(f) != nil {
		f.Close()
		return func() {}
	}
	return func() { f.Close() }
}

// sweepOnce removes the stale temporary files in dir (see DirStore) the
// first time the store writes there; other writers into dir wait for it.
func (d *DirStore) sweepOnce(dir string) {
	d.mu.Lock()
	if d.swept == nil {
		d.swept = map[string]*sync.Once{}
	}
	once := d.swept[dir]
	if once == nil {
		once = new(sync.Once)
		d.swept[dir] = once
	}
	d.mu.Unlock()
	once.Do(func() { d.sweep(dir) })
}

// sweep removes from dir every temporary file of our naming that is older
// than the store and held by no live writer; it returns how many.
func (d *DirStore) sweep(dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if e.Type().IsRegular() && reStaleTemp.MatchString(e.Name()) && removeStale(filepath.Join(dir, e.Name()), d.opened) {
			n++
		}
	}
	return n
}

// removeStale removes the temporary file p when it was last written
// before and no live writer holds its flock (flock unavailable: age alone).
func removeStale(p string, before time.Time) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(before) {
		return false
	}
	if err := flockNB(f); errors.Is(err, errWouldBlock) {
		return false // a live writer has it
	}
	return os.Remove(p) == nil
}

// createTemp creates a new file prefix+random+suffix in dir with mode
// filePerm less the umask (os.CreateTemp would make it 0600 whatever the umask).
func createTemp(dir, prefix, suffix string) (*os.File, error) {
	for range 100 {
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		name := filepath.Join(dir, prefix+hex.EncodeToString(rnd[:])+suffix)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create a temporary file in %s: too many name clashes", dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// Stat reports the file at key: its size and modification time, and the
// SHA-256 and metadata Put recorded in its extended attributes (empty
// without them); ErrNotExist if there is none.
func (d *DirStore) Stat(ctx context.Context, key string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	real, fi, err := d.existing(key)
	if err != nil {
		return Object{}, fmt.Errorf("archive: stat %s: %w", key, err)
	}
	return Object{Key: key, URI: d.URI(key), Bytes: fi.Size(), SHA256: getSHA256Attr(real), Metadata: getMetadataAttr(real),
		ModTime: fi.ModTime()}, nil
}

// Open opens the file at key for reading; ErrNotExist if there is none.
func (d *DirStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	real, _, err := d.existing(key)
	if err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", key, err)
	}
	f, err := os.Open(real)
	if errors.Is(err, fs.ErrNotExist) {
		err = ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", key, err)
	}
	return f, nil
}

// Preflight checks the root is a directory this process can create, write,
// sync and remove files in.
func (d *DirStore) Preflight(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fail := func(what string, err error) error {
		return fmt.Errorf("archive: preflight %s: %s: %w: %w", d.root, what, ErrPreflight, err)
	}
	fi, err := os.Stat(d.root)
	if err != nil {
		return fail("root", err)
	}
	if !fi.IsDir() {
		return fail("root", errors.New("not a directory"))
	}
	dir := filepath.Join(d.root, SidecarDir)
	if err := d.mkdirInside(dir); err != nil {
		return fail("create "+SidecarDir, err)
	}
	d.sweepOnce(dir)
	f, err := createTemp(dir, probePrefix, "")
	if err != nil {
		return fail("write", err)
	}
	name := f.Name()
	_ = flockNB(f) // held until the close below: not stale to a sweeping store
	_, werr := f.WriteString("meetarchive preflight\n")
	serr := f.Sync()
	// Removed while the flock is still held: once closed, another store's
	// sweep may take the probe for a stale one. Where flock is not
	// available a sweep may take it first all the same: gone is what was
	// wanted.
	rerr := os.Remove(name)
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fail("write", err)
	}
	if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return fail("remove probe", rerr)
	}
	return nil
}

func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
