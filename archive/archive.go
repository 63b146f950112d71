// Package archive is where meetarchive's bytes go: a Store that streams each
// recording to S3-compatible object storage (*S3Store) or to a local directory
// (*DirStore), hashing (SHA-256) and counting while it streams, refusing to
// commit anything that does not match what the platform announced, and
// writing a per-conference sidecar JSON last as the commit mark.
//
// It also renders object keys from a template (KeyTemplate, SanitizeKey) and
// tells when two keys would land on one object (KeyCollision), checks a
// destination before a run (Store.Preflight), tells whether a conference is
// already archived (Store.Archived) and verifies stored objects by streaming
// them back (Verify, VerifyObject).
//
// The package knows nothing about the Meeting API or the report; the
// pipeline package joins them. archive/archivetest holds the test suite
// every Store passes.
package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// Store is a destination for recordings.
type Store interface {
	// Put streams r to key, hashing while streaming; fails with ErrIntegrity (nothing
	// committed) when byte count != want.Size (if >= 0) or != want.PlatformSize (if >=0)
	// or sha256 != want.PlatformSHA256 (if set). A read error from r: nothing committed.
	// A key outside what SanitizeKey produces, or in the sidecar area: ErrInvalidKey.
	// A DirStore refuses to replace another conference's object: ErrKeyTaken.
	Put(ctx context.Context, key string, r io.Reader, want Expect) (Object, error)
	// Stat reports the object at key: its size, the SHA-256 Put recorded and
	// the metadata it kept (Object.Metadata, with the owner's "confuuid").
	// SHA256 is "" where the store could not record it: an S3 object sent in
	// several parts without a platform SHA-256 (the metadata is sent before
	// the hash is known), a file on a file system without user extended
	// attributes, an object something else wrote. ErrNotExist if absent.
	Stat(ctx context.Context, key string) (Object, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)      // ErrNotExist
	PutSidecar(ctx context.Context, s Sidecar) error                  // written LAST (commit mark)
	GetSidecar(ctx context.Context, confUUID string) (Sidecar, error) // ErrNotExist
	// Archived: sidecar present AND every object matches it (exists, size, sha256 where checkable).
	Archived(ctx context.Context, confUUID string) (Sidecar, bool, error)
	// Preflight: reachable, credentials, writable; lock options on a bucket without
	// Object Lock -> ErrLockUnsupported.
	Preflight(ctx context.Context) error
	URI(key string) string // s3://bucket/prefix/key or absolute directory path
	Close() error
}

// Unknown is the value of Expect.Size and Expect.PlatformSize when the size is not known.
const Unknown int64 = -1

// Expect is what the caller knows about a stream before it is stored.
//
// Beware the zero value: Size 0 and PlatformSize 0 mean "exactly zero bytes".
// Set them to Unknown (-1) when they are not known.
type Expect struct {
	Size           int64 // Content-Length, -1 unknown
	PlatformSize   int64 // -1 unknown
	PlatformSHA256 string
	// Metadata is stored with the object (confuuid, confid, filetype). Keys
	// are lower-cased and anything outside a-z, 0-9 and "-" becomes "-"; the
	// keys sha256 and archived-by are the store's own and are dropped. The
	// value of "confuuid" names the conference that owns the object: a
	// DirStore refuses to replace an object another conference owns
	// (ErrKeyTaken).
	Metadata    map[string]string
	ContentType string
}

// Object is a stored object, as the store (for S3: the server) reports it.
type Object struct {
	Key, URI    string
	Bytes       int64
	SHA256      string
	VersionID   string
	LockMode    string    // as read back from the server
	RetainUntil time.Time // as read back
	LegalHold   bool      // as read back
	// S3 only, as read back (additions to the contract): the server-side
	// encryption the server reports ("" none) and the storage class ("" = STANDARD).
	SSE, StorageClass string
	// Metadata is the caller's Expect.Metadata as the store kept it: keys
	// lower-cased, anything but a-z, 0-9 and "-" in a key turned into "-",
	// values valid UTF-8 (see Expect.Metadata). Stat reads it back; it is empty
	// for an object written by something else (or, for a DirStore, on a file
	// system without user extended attributes).
	Metadata map[string]string
}

// Sidecar is a conference's commit mark, stored at `_meetarchive/<confUUID>.json`
// under the store's root or prefix.
type Sidecar struct {
	ConfUUID   string          `json:"confUUID"`
	ArchivedAt time.Time       `json:"archivedAt"`
	Tool       string          `json:"tool"`
	Details    json.RawMessage `json:"details"` // the details response, redacted by the caller
	Files      []SidecarFile   `json:"files"`
}

// SidecarFile is one stored file of a conference.
type SidecarFile struct {
	FileType, Name, Key, URI string
	Bytes                    int64
	SHA256                   string
	VersionID, LockMode      string
	RetainUntil              time.Time
	LegalHold                bool
}

// SidecarFileFrom fills a SidecarFile from what Put returned.
func SidecarFileFrom(fileType, name string, o Object) SidecarFile {
	return SidecarFile{
		FileType: fileType, Name: name, Key: o.Key, URI: o.URI, Bytes: o.Bytes, SHA256: o.SHA256,
		VersionID: o.VersionID, LockMode: o.LockMode, RetainUntil: o.RetainUntil, LegalHold: o.LegalHold,
	}
}

var (
	// ErrIntegrity: the stream did not match its expected size or SHA-256; nothing was committed.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrNotExist: no object (or sidecar) at that key.
	ErrNotExist = errors.New("object does not exist")
	// ErrLockUnsupported: Object Lock options were asked for a destination without Object Lock.
	ErrLockUnsupported = errors.New("object lock not supported by destination")
	// ErrPreflight: the destination failed its check before the run.
	ErrPreflight = errors.New("destination preflight failed")
	// ErrInvalidKey: a key (or confUUID) that a store refuses: empty, "." or ".."
	// segments, control characters, absolute, too long, or in the reserved
	// `_meetarchive/` area. Keys from KeyTemplate.Key or SanitizeKey never are.
	ErrInvalidKey = errors.New("invalid object key")
	// ErrKeyTaken: Put to a key that holds an object of another conference
	// (its recorded confuuid differs from Expect.Metadata["confuuid"]); nothing
	// was written. A DirStore checks this; see S3Store for why it does not.
	ErrKeyTaken = errors.New("object key holds another conference's object")
)

// SidecarDir is the reserved top-level folder (under the store root or prefix)
// holding the sidecars; Put refuses keys inside it.
const SidecarDir = "_meetarchive"

// SidecarKey is the key of a conference's sidecar, `_meetarchive/<confUUID>.json`
// (relative to the store's root or prefix), or ErrInvalidKey for a confUUID
// that cannot name one (empty, not already sanitised, containing "/" or
// starting with "."). No key Put accepts can equal it.
func SidecarKey(confUUID string) (string, error) {
	if confUUID == "" || confUUID != SanitizeKey(confUUID) || strings.Contains(confUUID, "/") ||
		strings.HasPrefix(confUUID, ".") {
		return "", fmt.Errorf("confUUID %q: %w", confUUID, ErrInvalidKey)
	}
	return SidecarDir + "/" + confUUID + ".json", nil
}

// maxSidecarBytes caps a sidecar read back (they are a few KiB).
const maxSidecarBytes = 16 << 20

func decodeSidecar(r io.Reader) (Sidecar, error) {
	var s Sidecar
	data, err := io.ReadAll(io.LimitReader(r, maxSidecarBytes+1))
	if err != nil {
		return s, err
	}
	if len(data) > maxSidecarBytes {
		return s, fmt.Errorf("%w: sidecar larger than %d bytes", errBadSidecar, maxSidecarBytes)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%w: %v", errBadSidecar, err)
	}
	return s, nil
}

// readSidecar is Store.GetSidecar for both stores.
func readSidecar(ctx context.Context, st Store, confUUID string) (Sidecar, error) {
	key, err := SidecarKey(confUUID)
	if err != nil {
		return Sidecar{}, fmt.Errorf("archive: get sidecar: %w", err)
	}
	rc, err := st.Open(ctx, key)
	if err != nil {
		return Sidecar{}, fmt.Errorf("archive: get sidecar %s: %w", confUUID, err)
	}
	defer rc.Close()
	sc, err := decodeSidecar(rc)
	if err != nil {
		return sc, fmt.Errorf("archive: get sidecar %s: %w", st.URI(key), err)
	}
	return sc, nil
}

// errBadSidecar: a sidecar that exists but cannot be decoded; Archived treats it as absent.
var errBadSidecar = errors.New("malformed sidecar")

// archiveChecker is what archived needs from a store.
type archiveChecker interface {
	// sidecarAt reads a sidecar and when it was written (zero if unknown).
	sidecarAt(ctx context.Context, confUUID string) (Sidecar, time.Time, error)
	// statAt reports an object, when it was last written (zero if unknown)
	// and whether it visibly was not written by this package.
	statAt(ctx context.Context, key string) (obj Object, modTime time.Time, foreign bool, err error)
}

// archived implements Store.Archived for both stores: the sidecar is present
// and names this conference, and every object it lists exists with the same
// size, the same SHA-256 where the store can tell it without reading the
// object, the same version where both sides know one, was not written after
// the sidecar (objects are written before it), and shows no sign of having
// been written by something else. Anything less is false: redo.
func archived(ctx context.Context, st archiveChecker, confUUID string) (Sidecar, bool, error) {
	sc, scTime, err := st.sidecarAt(ctx, confUUID)
	switch {
	case errors.Is(err, ErrNotExist), errors.Is(err, errBadSidecar):
		return Sidecar{}, false, nil
	case err != nil:
		return Sidecar{}, false, err
	}
	if sc.ConfUUID != confUUID {
		return sc, false, nil
	}
	for _, f := range sc.Files {
		obj, modTime, foreign, err := st.statAt(ctx, f.Key)
		switch {
		case errors.Is(err, ErrNotExist), errors.Is(err, ErrInvalidKey):
			return sc, false, nil
		case err != nil:
			return sc, false, err
		}
		switch {
		case foreign, obj.Bytes != f.Bytes,
			obj.SHA256 != "" && f.SHA256 != "" && !strings.EqualFold(obj.SHA256, f.SHA256),
			obj.VersionID != "" && f.VersionID != "" && obj.VersionID != f.VersionID,
			!modTime.IsZero() && !scTime.IsZero() && modTime.After(scTime):
			return sc, false, nil
		}
	}
	return sc, true, nil
}

// Open opens the destination dest: "s3://bucket/prefix" gives an *S3Store
// (endpoint, region and credentials from the standard AWS configuration chain,
// overridden by opts), anything else a *DirStore rooted at that path. The
// options are validated; S3-only options with a directory are refused (lock
// options wrap ErrLockUnsupported).
func Open(ctx context.Context, dest string, opts Options) (Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := CheckDest(dest); err != nil {
		return nil, fmt.Errorf("archive: open: %w", err)
	}
	if bucket, prefix, ok, err := parseS3URI(dest); ok || err != nil {
		if err != nil {
			return nil, fmt.Errorf("archive: open %q: %w", dest, err)
		}
		return NewS3Store(ctx, bucket, prefix, opts)
	}
	if dest == "" {
		return nil, errors.New("archive: open: empty destination")
	}
	if opts.LockMode != "" || opts.LegalHold {
		return nil, fmt.Errorf("archive: open %s: object lock needs an s3:// destination: %w", dest, ErrLockUnsupported)
	}
	if opts.SSE != "" || opts.StorageClass != "" {
		return nil, fmt.Errorf("archive: open %s: server-side encryption and storage class need an s3:// destination", dest)
	}
	if opts.ReadOnly {
		return openDirReadOnly(dest)
	}
	return NewDirStore(dest)
}

// OpenURI opens the store holding one object named by a manifest's objectURI,
// for verification without --dest: "s3://bucket/key" gives an S3 store on that
// bucket with an empty prefix and key "key"; an absolute path gives a DirStore
// rooted at "/" and the path (without its leading "/") as key.
func OpenURI(ctx context.Context, uri string, opts Options) (Store, string, error) {
	if bucket, key, ok, err := parseS3URI(uri); ok || err != nil {
		if err != nil {
			return nil, "", fmt.Errorf("archive: open uri %q: %w", uri, err)
		}
		if key == "" {
			return nil, "", fmt.Errorf("archive: open uri %q: no object key", uri)
		}
		if err := opts.Validate(); err != nil {
			return nil, "", err
		}
		st, err := NewS3Store(ctx, bucket, "", opts)
		if err != nil {
			return nil, "", err
		}
		return st, key, nil
	}
	if !filepath.IsAbs(uri) {
		return nil, "", fmt.Errorf("archive: open uri %q: neither an s3:// URI nor an absolute path", uri)
	}
	clean := filepath.Clean(uri)
	key := filepath.ToSlash(strings.TrimPrefix(clean, string(filepath.Separator)))
	if key == "" {
		return nil, "", fmt.Errorf("archive: open uri %q: not a file path", uri)
	}
	st, err := NewDirStore(string(filepath.Separator))
	if err != nil {
		return nil, "", err
	}
	return st, key, nil
}

// parseS3URI splits "s3://bucket/rest". ok is false when uri is not an s3:// URI.
func parseS3URI(uri string) (bucket, rest string, ok bool, err error) {
	const scheme = "s3://"
	if len(uri) < len(scheme) || !strings.EqualFold(uri[:len(scheme)], scheme) {
		return "", "", false, nil
	}
	bucket, rest, _ = strings.Cut(uri[len(scheme):], "/")
	if err := validBucketName(bucket); err != nil {
		return "", "", true, err
	}
	return bucket, rest, true, nil
}

func validBucketName(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q: must be 3 to 63 characters", b)
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("bucket name %q: invalid character %q", b, c)
		}
	}
	return nil
}
