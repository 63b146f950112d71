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
// counts (and writes the plan), a second one runs.
type Source struct {
	path  string // input CSV, or "" for items
	items []Item
	shard Shard
	err   error
	sum   string
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
		in := NewInputReader(f)
		for {
			it, err := in.Next()
			if errors.Is(err, io.EOF) {
				if sum := in.SHA256(); s.sum != "" && sum != s.sum {
					s.err = fmt.Errorf("%s changed while the run read it (SHA-256 %s, then %s)", s.path, s.sum, sum)
				}
				s.sum = in.SHA256()
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

// Digest is the input file's SHA-256 (hex; "" for a discovered list), read
// without parsing it.
func (s *Source) Digest() (string, error) {
	if s.path == "" {
		return "", nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	s.sum = hex.EncodeToString(h.Sum(nil))
	return s.sum, nil
}

// Count reads the source once: the number of items to process (valid, in
// the shard), the input file's SHA-256 ("" for a discovered list), and the
// read error, if any.
func (s *Source) Count() (n int, sha256 string, err error) {
	for it := range s.Items() {
		if it.Problem == "" {
			n++
		}
	}
	return n, s.sum, s.err
}

// Err is the error that ended the last pass of Items early, or nil.
func (s *Source) Err() error { return s.err }
