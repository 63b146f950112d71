package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The DirStore's documents of the reserved area, its lock, List and Delete.

// PutMeta writes data at key in the reserved area (temporary file, sync,
// rename; see DirStore), its condition checked just before the rename. The
// version is the content's SHA-256.
func (d *DirStore) PutMeta(ctx context.Context, key string, data []byte, m Meta) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := checkMetaKey(key); err != nil {
		return "", fmt.Errorf("archive: put %s: %w", key, err)
	}
	if m.IfAbsent && m.IfVersion != "" {
		return "", fmt.Errorf("archive: put %s: both IfAbsent and IfVersion", key)
	}
	p, err := d.path(key)
	if err != nil {
		return "", fmt.Errorf("archive: put %s: %w", key, err)
	}
	var cond func() error
	if m.IfAbsent || m.IfVersion != "" {
		cond = func() error { return d.checkVersion(ctx, key, m.IfVersion) }
	}
	md := normalizeMetadata(m.Metadata)
	if err := d.writeAtomic(p, cond, func(f *os.File) error {
		if _, err := f.Write(data); err != nil {
			return err
		}
		setMetadataAttr(f, md)
		return nil
	}); err != nil {
		return "", fmt.Errorf("archive: put %s: %w", d.URI(key), err)
	}
	return contentVersion(data), nil
}

// checkVersion fails with ErrConditionFailed unless the document at key is
// at version want ("": there is none).
func (d *DirStore) checkVersion(ctx context.Context, key, want string) error {
	_, cur, err := d.GetMeta(ctx, key, maxStateBytes)
	switch {
	case errors.Is(err, ErrNotExist):
		cur = ""
	case err != nil:
		return err
	}
	if cur != want {
		return ErrConditionFailed
	}
	return nil
}

// contentVersion is a DirStore document's version: its SHA-256.
func contentVersion(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// GetMeta reads the document at key in the reserved area; its version is
// its content's SHA-256.
func (d *DirStore) GetMeta(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	if err := checkMetaKey(key); err != nil {
		return nil, "", fmt.Errorf("archive: get %s: %w", key, err)
	}
	rc, err := d.Open(ctx, key)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("archive: get %s: %w", d.URI(key), err)
	}
	if int64(len(data)) > limit {
		return nil, "", fmt.Errorf("archive: get %s: larger than %d bytes", d.URI(key), limit)
	}
	return data, contentVersion(data), nil
}

// Lock takes an flock on the file at key (created if needed), held until
// unlock or the process's death, and writes note into it.
func (d *DirStore) Lock(ctx context.Context, key string, note []byte) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkMetaKey(key); err != nil {
		return nil, fmt.Errorf("archive: lock %s: %w", key, err)
	}
	p, err := d.path(key)
	if err != nil {
		return nil, fmt.Errorf("archive: lock %s: %w", key, err)
	}
	if err := d.mkdirInside(filepath.Dir(p)); err != nil {
		return nil, fmt.Errorf("archive: lock %s: %w", p, err)
	}
	// A symbolic link planted at the lock's name is refused, never
	// truncated through.
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|oNoFollow, filePerm)
	if err != nil {
		return nil, fmt.Errorf("archive: lock %s (a symbolic link there is refused): %w", p, err)
	}
	if err := flockNB(f); err != nil {
		defer f.Close()
		if errors.Is(err, errWouldBlock) {
			held, _ := io.ReadAll(io.LimitReader(f, maxHoldBytes))
			return nil, &LockedError{Where: p, Note: held}
		}
		return nil, fmt.Errorf("archive: lock %s: %w", p, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(note, 0)
	}
	return func() error {
		_ = f.Truncate(0)
		if err := f.Close(); err != nil { // closing releases the flock
			return fmt.Errorf("archive: unlock %s: %w", p, err)
		}
		return nil
	}, nil
}

// List walks the root (never through a symbolic link) for the regular
// files whose keys start with prefix, skipping folders that cannot hold
// one and the store's temporary files.
func (d *DirStore) List(ctx context.Context, prefix string, fn func(Object) error) error {
	if err := checkPrefix(prefix); err != nil {
		return fmt.Errorf("archive: list %s: %w", prefix, err)
	}
	var stopped error // fn's own error, returned as is
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == d.root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll // a read-only store whose root is not there yet
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == d.root {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			if dir := key + "/"; !strings.HasPrefix(dir, prefix) && !strings.HasPrefix(prefix, dir) {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) || reStaleTemp.MatchString(e.Name()) || checkKey(key) != nil {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		if stopped = fn(Object{Key: key, URI: d.URI(key), Bytes: fi.Size(), ModTime: fi.ModTime()}); stopped != nil {
			return fs.SkipAll
		}
		return nil
	})
	switch {
	case stopped != nil:
		return stopped
	case err != nil:
		return fmt.Errorf("archive: list %s in %s: %w", prefix, d.root, err)
	}
	return nil
}

// Delete removes the file at key (a symbolic link there: the link, not
// what it points to); none there is not an error.
func (d *DirStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.path(key)
	if err != nil {
		return fmt.Errorf("archive: delete %s: %w", key, err)
	}
	dir := filepath.Dir(p)
	switch err := d.realDirInside(dir); {
	case errors.Is(err, fs.ErrNotExist) || isNotDir(err):
		return nil
	case err != nil:
		return fmt.Errorf("archive: delete %s: %w", key, err)
	}
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("archive: delete %s: %w", key, err)
	case fi.IsDir():
		return nil // a folder is no object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("archive: delete %s: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("archive: delete %s: sync dir: %w", key, err)
	}
	return nil
}
