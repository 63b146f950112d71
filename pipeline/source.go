package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
)

// Source is the run's items: an input CSV read as a stream (in constant
// memory, however long the file), or the list a date range discovered,
// optionally cut to one shard. It can be read more than once: a first pass
// writes the plan, a second one runs.
type Source struct {
	path  string // input CSV, or "" for items
	items []Item
	shard Shard
	err   error
	seen  os.FileInfo // the input file as Digest hashed it
}

// FileSource reads the items of an input CSV file.
func FileSource(path string) *Source { return &Source{path: path} }

// SliceSource is items already in memory (discovered by a date range).
func SliceSource(items []Item) *Source { return &Source{items: items} }

// Sharded returns the source cut to the items of shard sh.
func (s *Source) Sharded(sh Shard) *Source {
	c := *s
	c.shard = sh
	return &c
}

// Digest is the input file's SHA-256 (hex; "" for a discovered list). Each
// later pass of Items fails if the file changed since (size or time).
func (s *Source) Digest() (string, error) {
	if s.path == "" {
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
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Items yields the source's items in input order. A read error ends the
// sequence early; Err returns it.
func (s *Source) Items() iter.Seq[Item] {
	return func(yield func(Item) bool) {
		s.err = nil
		if s.path == "" {
			for _, it := range s.items {
				if s.shard.Contains(it) && !yield(it) {
					return
				}
			}
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
