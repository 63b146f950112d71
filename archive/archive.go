// Package archive is where meetarchive's bytes go. Store is the byte-level
// interface a destination implements (*S3Store: S3-compatible object
// storage; *DirStore: a local directory): Put streams a recording, hashing
// (SHA-256) and counting while it streams and committing nothing that does
// not match what the platform announced; PutMeta and GetMeta keep small
// documents in the reserved area; Stat, Open, List and Delete; and the
// Capabilities the store declares.
//
// Everything about commits is written once above it, over any Store: the
// per-conference sidecar written last as the commit mark (PutSidecar,
// GetSidecar), the "already archived" check (Archived), the --since-last
// state and its hold (HoldState, ReadState) and verification by streaming
// objects back (Verify, VerifyObject, VerifySidecar).
//
// It also renders object keys from a template (KeyTemplate, SanitizeKey)
// and tells when two keys would land on one object (KeyCollision). The
// package knows nothing about the Meeting API or the report; the pipeline
// package joins them. archive/archivetest holds the suite every Store passes.
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// Store is a destination: the byte-level interface every store implements.
// Keys are relative to the store's root or prefix and are what SanitizeKey
// produces (checked: anything else is ErrInvalidKey). The reserved area
// `_meetarchive/` (SidecarDir) holds the small documents of the commit layer
// (sidecars, states, leases): Put refuses keys there, PutMeta, GetMeta and
// Lock take only keys there. archivetest.Run checks every method and the
// Capabilities a store declares.
type Store interface {
	// Put streams r to key, hashing while streaming; fails with ErrIntegrity (nothing
	// committed) when byte count != want.Size (if >= 0) or != want.PlatformSize (if >=0)
	// or sha256 != want.PlatformSHA256 (if set). A read error from r: nothing committed.
	// A key outside what SanitizeKey produces, or in the reserved area: ErrInvalidKey
	// (with want.Reserved, a key outside the reserved area is).
	// What Put writes is kept like a recording: the store's Object Lock,
	// legal hold, encryption and storage class.
	// A store with Capabilities.KeyOwners refuses to replace another
	// conference's object: ErrKeyTaken, before reading r.
	Put(ctx context.Context, key string, r io.Reader, want Expect) (Object, error)
	// PutMeta writes data, a small JSON document, whole at key in the
	// reserved area (any other key: ErrInvalidKey), replacing what is there
	// at once (a reader sees the old document or the new one, never a mix),
	// under m's condition: ErrConditionFailed, nothing written, when it does
	// not hold. It returns the document's new version, as GetMeta reports it.
	PutMeta(ctx context.Context, key string, data []byte, m Meta) (version string, err error)
	// GetMeta reads the document at key in the reserved area whole, with its
	// version (what Meta.IfVersion compares; read with the bytes, so the two
	// agree): ErrNotExist if absent, an error if it holds more than limit bytes.
	GetMeta(ctx context.Context, key string, limit int64) (data []byte, version string, err error)
	// Stat reports the object at key: its size, the SHA-256 Put recorded and
	// the metadata it kept (Object.Metadata, with the owner's "confuuid"),
	// and, where the store's capabilities say so, its ModTime and Marked.
	// SHA256 is "" where the store could not record it: an S3 object sent in
	// several parts without a platform SHA-256 (the metadata is sent before
	// the hash is known), a file on a file system without user extended
	// attributes, an object something else wrote. ErrNotExist if absent.
	Stat(ctx context.Context, key string) (Object, error)
	// Open streams the object at key (any valid key, the reserved area
	// included); ErrNotExist if absent.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List calls fn with every object whose key starts with prefix (Key,
	// URI, Bytes; ModTime where the store has comparable times), in no
	// particular order, and stops at fn's first error, which it returns.
	// Temporary files and incomplete uploads are not objects, nor are names
	// that are not valid keys. A prefix is "" (everything) or a valid key,
	// optionally followed by "/"; anything else is ErrInvalidKey.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// Delete removes the object at key (any valid key); none there is not an
	// error. Where the store keeps versions, the versions stay (S3 writes a
	// delete marker); a locked object may be refused by the server.
	Delete(ctx context.Context, key string) error
	// Lock takes an exclusive lock named key (in the reserved area) that
	// dies with the process, leaving note for whoever finds it held: then
	// the error is a *LockedError (errors.Is ErrLocked) carrying the
	// holder's note. unlock releases it. A store without
	// Capabilities.NativeLock returns an error wrapping errors.ErrUnsupported.
	Lock(ctx context.Context, key string, note []byte) (unlock func() error, err error)
	// Preflight checks the destination before a run: reachable, credentials,
	// writable with the headers uploads will use; lock options on a bucket
	// without Object Lock -> ErrLockUnsupported. It leaves nothing behind.
	Preflight(ctx context.Context) error
	// Capabilities is what the store can do beyond the methods above; the
	// commit layer decides from it (see Capabilities).
	Capabilities() Capabilities
	URI(key string) string // s3://bucket/prefix/key or absolute file path
	// RootURI is the URI every key's URI starts with: URI(key) == RootURI() + key.
	RootURI() string
	Close() error
}

// Capabilities are what a store declares it can do; the commit layer reads
// them instead of asking which store it has. ARCHITECTURE.md lists what
// happens without each.
type Capabilities struct {
	// ConditionalWrites: PutMeta's conditions are atomic at the server (S3
	// If-None-Match / If-Match): of two writers with the same condition one
	// fails. Without it a condition is still checked, but only just before
	// the write, and the state's hold needs NativeLock.
	ConditionalWrites bool
	// NativeLock: Lock takes a lock that dies with the process holding it
	// (flock). The state's hold uses it when present (else a lease written
	// with ConditionalWrites); a store with neither keeps no state.
	NativeLock bool
	// ModTimes: Stat's Object.ModTime is when the object was last written,
	// by one clock for the whole store, so Archived can require objects not
	// to be newer than their sidecar. Without it times are not compared.
	// It implies RoughTimes.
	ModTimes bool
	// RoughTimes: List and Stat report Object.ModTime as the server stamped
	// it, right to within minutes but not by one clock (the servers of a
	// cluster need not agree): good for "written more than a day before
	// this window" (the reconciliation skips reading such commit marks),
	// not for ordering objects written seconds apart. Without it (and
	// without ModTimes) List and Stat report no times.
	RoughTimes bool
	// MarksObjects: every object Put writes carries a mark Stat reports
	// (Object.Marked); an object without it was written by something else,
	// and Archived says redo. Without it a foreign object is found only by
	// its size or SHA-256.
	MarksObjects bool
	// KeyOwners: Put refuses (ErrKeyTaken) to replace an object another
	// conference owns. Without it keys are kept apart before any upload
	// (the key template's {{.ConfUUID}}, KeyCollision, resume's Stat).
	KeyOwners bool
	// ObjectLock: the store writes objects under Object Lock retention and
	// legal hold (Options.LockMode, LegalHold) and reads them back into
	// Object. Without it those options are refused (ErrLockUnsupported).
	ObjectLock bool
	// Encryption: server-side encryption and storage classes (Options.SSE,
	// StorageClass). Without it those options are refused.
	Encryption bool
	// ServerChecksums: the server checks a checksum sent with every write
	// and refuses bytes damaged on the way. Without it such damage is found
	// by reading back (Verify, and Put where the store reads back).
	ServerChecksums bool
	// Versions: objects may carry version IDs (Object.VersionID, when the
	// bucket keeps versions); Archived compares them with the sidecar's.
	Versions bool
	// UploadSlots is how many Puts run at once (0: no bound); a further Put
	// waits for one to end. The pipeline then holds no more media streams
	// open than this, so none waits open and idle.
	UploadSlots int
}

// Meta is how PutMeta writes a document of the reserved area.
type Meta struct {
	// Record: the document is a record kept like the recordings (a
	// sidecar): written with the store's Object Lock and storage class.
	// Otherwise it is a working document (a state, a lease) replaced as
	// runs go, and never locked.
	Record bool
	// Metadata is kept with the document as Expect.Metadata is with an object.
	Metadata map[string]string
	// IfAbsent: write only if nothing is at key (S3 If-None-Match: *).
	IfAbsent bool
	// IfVersion: write only if the document at key is at this version, as
	// GetMeta or PutMeta reported it (S3 If-Match on its ETag).
	IfVersion string
}

// LockedError is Lock's answer when another process holds the lock.
type LockedError struct {
	Where string // the lock's URI
	Note  []byte // what the holder left (nil if nothing could be read)
}

func (e *LockedError) Error() string { return "archive: " + e.Where + " is locked by another process" }

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

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
	// store with Capabilities.KeyOwners refuses to replace an object another
	// conference owns (ErrKeyTaken).
	Metadata    map[string]string
	ContentType string
	// Reserved: the stream is a record of the reserved area (a run's
	// custody ledger), streamed and kept like a recording (lock, retention,
	// checks) but at a key inside `_meetarchive/`, which Put then requires.
	Reserved bool
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
	// ModTime is when the object was last written (Stat and List, on a
	// store with Capabilities.ModTimes or RoughTimes; zero otherwise).
	ModTime time.Time
	// Marked: the object carries the mark Put leaves on what it writes (a
	// store with Capabilities.MarksObjects; false otherwise).
	Marked bool
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
	// `_meetarchive/` area (for Put; outside it for PutMeta, GetMeta, Lock).
	// Keys from KeyTemplate.Key or SanitizeKey never are.
	ErrInvalidKey = errors.New("invalid object key")
	// ErrKeyTaken: Put to a key that holds an object of another conference
	// (its recorded confuuid differs from Expect.Metadata["confuuid"]); nothing
	// was written. Stores with Capabilities.KeyOwners check this; see
	// S3Store for why it does not.
	ErrKeyTaken = errors.New("object key holds another conference's object")
	// ErrConditionFailed: PutMeta's condition (IfAbsent, IfVersion) did not
	// hold; nothing was written.
	ErrConditionFailed = errors.New("write condition not met")
	// ErrLocked: Lock found the lock held by another process (*LockedError).
	ErrLocked = errors.New("locked by another process")
)

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
	if err := opts.supportedBy(dirCapabilities()); err != nil {
		return nil, fmt.Errorf("archive: open %s: %w", dest, err)
	}
	if opts.ReadOnly {
		return openDirReadOnly(dest)
	}
	return NewDirStore(dest)
}

// supportedBy refuses the options a store with capabilities c cannot
// honour, before the store is opened.
func (o Options) supportedBy(c Capabilities) error {
	switch {
	case (o.LockMode != "" || o.LegalHold) && !c.ObjectLock:
		return fmt.Errorf("object lock is not available on this destination (an s3:// bucket with Object Lock has it): %w", ErrLockUnsupported)
	case (o.SSE != "" || o.StorageClass != "") && !c.Encryption:
		return errors.New("server-side encryption and storage class are not available on this destination (an s3:// bucket has them)")
	}
	return nil
}

// OpenURI opens the store holding one object named by a manifest's objectURI,
// for verification without --dest: "s3://bucket/key" gives an S3 store on that
// bucket with an empty prefix and key "key"; an absolute path gives a DirStore
// rooted at "/" and the path (without its leading "/") as key.
func OpenURI(ctx context.Context, uri string, opts Options) (Store, string, error) {
	root, key, err := SplitURI(uri)
	if err != nil {
		return nil, "", err
	}
	st, err := OpenURIRoot(ctx, root, opts)
	if err != nil {
		return nil, "", err
	}
	return st, key, nil
}

// SplitURI is OpenURI without opening: the RootURI of the store OpenURI
// opens for uri ("s3://bucket/" or "/") and the object's key there, or
// OpenURI's error for a uri it refuses. Stores for many URIs can be
// opened once a root (OpenURIRoot).
func SplitURI(uri string) (root, key string, err error) {
	if bucket, key, ok, err := parseS3URI(uri); ok || err != nil {
		if err != nil {
			return "", "", fmt.Errorf("archive: open uri %q: %w", uri, err)
		}
		if key == "" {
			return "", "", fmt.Errorf("archive: open uri %q: no object key", uri)
		}
		return "s3://" + bucket + "/", key, nil
	}
	if !filepath.IsAbs(uri) {
		return "", "", fmt.Errorf("archive: open uri %q: neither an s3:// URI nor an absolute path", uri)
	}
	clean := filepath.Clean(uri)
	key = filepath.ToSlash(strings.TrimPrefix(clean, string(filepath.Separator)))
	if key == "" {
		return "", "", fmt.Errorf("archive: open uri %q: not a file path", uri)
	}
	return string(filepath.Separator), key, nil
}

// OpenURIRoot opens the store OpenURI opens for a root SplitURI gave.
func OpenURIRoot(ctx context.Context, root string, opts Options) (Store, error) {
	if bucket, _, ok, err := parseS3URI(root); ok || err != nil {
		if err != nil {
			return nil, fmt.Errorf("archive: open uri %q: %w", root, err)
		}
		if err := opts.Validate(); err != nil {
			return nil, err
		}
		return NewS3Store(ctx, bucket, "", opts)
	}
	return NewDirStore(string(filepath.Separator))
}

// s3Scheme begins an s3:// URI, in any letter case.
const s3Scheme = "s3://"

// IsS3URI tells an s3:// URI (its scheme in any letter case, as Open and
// OpenURI take it) from a path.
func IsS3URI(s string) bool {
	return len(s) >= len(s3Scheme) && strings.EqualFold(s[:len(s3Scheme)], s3Scheme)
}

// parseS3URI splits "s3://bucket/rest". ok is false when uri is not an s3:// URI.
func parseS3URI(uri string) (bucket, rest string, ok bool, err error) {
	if !IsS3URI(uri) {
		return "", "", false, nil
	}
	bucket, rest, _ = strings.Cut(uri[len(s3Scheme):], "/")
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
