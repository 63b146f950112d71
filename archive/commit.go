package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The commit layer: a conference's sidecar, written last as its commit
// mark, and the "already archived" check, over any Store.

// Sidecar is a conference's commit mark, stored at `_meetarchive/<confUUID>.json`
// under the store's root or prefix.
type Sidecar struct {
	ConfUUID   string          `json:"confUUID"`
	ArchivedAt time.Time       `json:"archivedAt"`
	Tool       string          `json:"tool"`
	Details    json.RawMessage `json:"details"` // the details response, redacted by the caller
	Files      []SidecarFile   `json:"files"`
	// EvidenceGaps names the evidence objects the commit lacks (by file
	// name) with the errorCode that says why; the caller's to fill.
	EvidenceGaps map[string]string `json:"evidenceGaps,omitempty"`
	// Updates are the later commits of the conference, oldest first: a run
	// that found files the platform listed after ArchivedAt stored them,
	// appended them to Files (keeping every earlier entry) and rewrote
	// the sidecar. Details are then the platform's latest answer.
	Updates []SidecarUpdate `json:"updates,omitempty"`
}

// SidecarUpdate is one later commit of a conference (Sidecar.Updates).
type SidecarUpdate struct {
	At     time.Time `json:"at"`
	Tool   string    `json:"tool"`
	Reason string    `json:"reason"`          // why its files were checked again
	Added  []string  `json:"added,omitempty"` // keys of the files it added, and of the evidence it stored anew (none: only the details changed, the evidence off)
}

// SidecarFile is one stored file of a conference.
type SidecarFile struct {
	FileType, Name, Key, URI string
	Bytes                    int64
	SHA256                   string
	VersionID, LockMode      string
	RetainUntil              time.Time
	LegalHold                bool
	// Supersedes is the key of this file's earlier object, when the
	// platform later served other bytes (size or SHA-256) under the same
	// file type and name: both objects are kept, each at its own key.
	Supersedes string `json:",omitempty"`
}

// SidecarFileFrom fills a SidecarFile from what Put returned.
func SidecarFileFrom(fileType, name string, o Object) SidecarFile {
	return SidecarFile{
		FileType: fileType, Name: name, Key: o.Key, URI: o.URI, Bytes: o.Bytes, SHA256: o.SHA256,
		VersionID: o.VersionID, LockMode: o.LockMode, RetainUntil: o.RetainUntil, LegalHold: o.LegalHold,
	}
}

// SidecarDir is the reserved top-level folder (under the store root or
// prefix) holding the sidecars and the other documents of the commit layer;
// Put refuses keys inside it.
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

// PutSidecar writes a conference's sidecar, `_meetarchive/<confUUID>.json`,
// as a record (with the store's lock, encryption and storage class like
// every object). It is written LAST: the commit mark.
func PutSidecar(ctx context.Context, st Store, sc Sidecar) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, err := SidecarKey(sc.ConfUUID)
	if err != nil {
		return fmt.Errorf("archive: put sidecar: %w", err)
	}
	data, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return fmt.Errorf("archive: put sidecar %s: %w", sc.ConfUUID, err)
	}
	data = append(data, '\n')
	if _, err := st.PutMeta(ctx, key, data, Meta{Record: true, Metadata: map[string]string{metaConf: sc.ConfUUID}}); err != nil {
		return fmt.Errorf("archive: put sidecar %s: %w", st.URI(key), err)
	}
	return nil
}

// maxSidecarBytes caps a sidecar read back (they are a few KiB).
const maxSidecarBytes = 16 << 20

// errBadSidecar: a sidecar that exists but cannot be decoded; Archived treats it as absent.
var errBadSidecar = errors.New("malformed sidecar")

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

// GetSidecar reads a conference's sidecar; ErrNotExist if there is none.
func GetSidecar(ctx context.Context, st Store, confUUID string) (Sidecar, error) {
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

// Archived reports whether a conference is archived: its sidecar is
// present and names it, and every object the sidecar lists exists with the
// same size, the same SHA-256 where the store can tell it without reading
// the object, the same version where both sides know one, was not written
// after the sidecar (objects are written before it; only on a store with
// Capabilities.ModTimes), and shows no sign of having been written by
// something else (no mark, on a store with Capabilities.MarksObjects).
// Anything less is false: redo. It reads no content: Proved does, and a
// caller that skips a conference because it is archived calls both.
func Archived(ctx context.Context, st Store, confUUID string) (Sidecar, bool, error) {
	caps := st.Capabilities()
	sc, err := GetSidecar(ctx, st, confUUID)
	var scTime time.Time
	if err == nil && caps.ModTimes {
		key, _ := SidecarKey(confUUID)
		var obj Object
		obj, err = st.Stat(ctx, key)
		scTime = obj.ModTime
	}
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
		obj, err := st.Stat(ctx, f.Key)
		switch {
		case errors.Is(err, ErrNotExist), errors.Is(err, ErrInvalidKey):
			return sc, false, nil
		case err != nil:
			return sc, false, err
		}
		modTime := obj.ModTime
		if !caps.ModTimes {
			modTime = time.Time{}
		}
		switch {
		case caps.MarksObjects && !obj.Marked, obj.Bytes != f.Bytes,
			obj.SHA256 != "" && f.SHA256 != "" && !strings.EqualFold(obj.SHA256, f.SHA256),
			obj.VersionID != "" && f.VersionID != "" && obj.VersionID != f.VersionID,
			!modTime.IsZero() && !scTime.IsZero() && modTime.After(scTime):
			return sc, false, nil
		}
	}
	return sc, true, nil
}

// Proved re-reads every object a sidecar lists and checks its size and
// SHA-256 against the sidecar's: nil when every one holds the bytes the
// commit listed, else the first object's error (wrapping ErrIntegrity for
// other bytes, ErrNotExist for a missing object). "Already archived" is
// proved so, from the bytes, never from a modification time or the hash
// kept beside an object.
func Proved(ctx context.Context, st Opener, sc Sidecar) error {
	for _, f := range sc.Files {
		if err := VerifyObject(ctx, st, Object{Key: f.Key, Bytes: f.Bytes, SHA256: f.SHA256}); err != nil {
			return fmt.Errorf("archive: %s: %w", f.Key, err)
		}
	}
	return nil
}
