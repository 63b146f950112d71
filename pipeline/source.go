package pipeline

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
)

// Source is the run's items: an input CSV read as a stream (in constant
// memory, however long the file), an input that can be read only once
// (ReadOnce: its items kept in a temporary file), or the list a date range
// discovered, optionally cut to one shard. It can be read more than once: a
// first pass writes the plan, a second one runs.
type Source struct {
	path  string // input CSV, or "" for items
	items []Item
	shard Shard
	err   error
	seen  os.FileInfo // the input file as Digest hashed it
	cut   bool        // Digest was stopped part-way: no items
	once  *spool      // the items of an input read once (ReadOnce)
}

// FileSource reads the items of an input CSV file, which must be a regular
// file: it is read once by Digest and once more by each pass of Items.
func FileSource(path string) *Source { return &Source{path: path} }

// SliceSource is items already in memory (discovered by a date range).
func SliceSource(items []Item) *Source { return &Source{items: items} }

// Sharded returns the source cut to the items of shard sh. It shares the
// source's temporary file, if any: Close one of them.
func (s *Source) Sharded(sh Shard) *Source {
	c := *s
	c.shard = sh
	return &c
}

// Digest is the SHA-256 (hex) of the input's bytes as read: "" for a
// discovered list. For an input file each later pass of Items fails if the
// file changed since (size or time). Reading the file stops when ctx is
// done: Digest then returns the SHA-256 of the bytes read so far with ctx's
// error, and Items yields nothing. An input read once (ReadOnce) was hashed
// as it was read.
func (s *Source) Digest(ctx context.Context) (string, error) {
	switch {
	case s.once != nil:
		return s.once.digest, nil
	case s.path == "":
		return "", nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if s.seen, err = f.Stat(); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx: ctx, r: f}); err != nil {
		if ctx.Err() != nil {
			s.cut = true
			return hex.EncodeToString(h.Sum(nil)), ctx.Err()
		}
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Items yields the source's items in input order. A read error ends the
// sequence early; Err returns it.
func (s *Source) Items() iter.Seq[Item] {
	return func(yield func(Item) bool) {
		s.err = nil
		switch {
		case s.once != nil:
			s.err = s.once.items(func(it Item) bool { return !s.shard.Contains(it) || yield(it) })
			return
		case s.path == "":
			for _, it := range s.items {
				if s.shard.Contains(it) && !yield(it) {
					return
				}
			}
			return
		case s.cut:
			return
		}
		f, err := os.Open(s.path)
		if err != nil {
			s.err = err
			return
		}
		defer f.Close()
		if s.err = s.unchanged(f); s.err != nil {
			return
		}
		in := NewInputReader(f)
		for {
			it, err := in.Next()
			if errors.Is(err, io.EOF) {
				s.err = s.unchanged(f)
				return
			}
			if err != nil {
				s.err = err
				return
			}
			if s.shard.Contains(it) && !yield(it) {
				return
			}
		}
	}
}

// unchanged checks that the input file is the one Digest hashed.
func (s *Source) unchanged(f *os.File) error {
	if s.seen == nil {
		return nil
	}
	now, err := f.Stat()
	if err != nil {
		return err
	}
	if now.Size() != s.seen.Size() || !now.ModTime().Equal(s.seen.ModTime()) {
		return fmt.Errorf("%s changed while the run read it", s.path)
	}
	return nil
}

// Err is the error that ended the last pass of Items early, or nil.
func (s *Source) Err() error { return s.err }

// BytesRead is how many bytes of an input read once (ReadOnce) were read;
// 0 for other sources.
func (s *Source) BytesRead() int64 {
	if s.once == nil {
		return 0
	}
	return s.once.read
}

// Close removes the temporary file of an input read once; other sources
// have nothing to close.
func (s *Source) Close() error {
	if s.once == nil {
		return nil
	}
	return s.once.close()
}

// spool is the temporary file of an input read once: its items, one JSON
// object a line.
type spool struct {
	f      *os.File
	name   string // still to remove on close, or ""
	size   int64
	read   int64  // bytes of the input read
	digest string // their SHA-256
	closed bool
}

// items reads the spooled items back in order until yield returns false.
func (sp *spool) items(yield func(Item) bool) error {
	dec := json.NewDecoder(bufio.NewReaderSize(io.NewSectionReader(sp.f, 0, sp.size), 64<<10))
	for {
		var it Item
		err := dec.Decode(&it)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("input: read back the items read: %w", err)
		}
		if !yield(it) {
			return nil
		}
	}
}

func (sp *spool) close() error {
	if sp.closed {
		return nil
	}
	sp.closed = true
	err := sp.f.Close()
	if sp.name != "" {
		if rerr := os.Remove(sp.name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		sp.name = ""
	}
	return err
}
