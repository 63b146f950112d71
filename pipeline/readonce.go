package pipeline

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// OpenInput opens the input file path for reading, giving up when ctx is
// done: opening a FIFO waits until a writer opens it too, and nothing else
// ends that wait. An open given up is left to finish in the background
// (its file is then closed at once).
func OpenInput(ctx context.Context, path string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				_ = o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// ReadOnce reads an input that cannot be read twice (standard input, a
// pipe, a FIFO, a process substitution, a character device) in one pass,
// to its end or until ctx is done. It hashes every byte it reads (Digest
// is the SHA-256 of those bytes) and keeps the items it parses, one JSON
// line each, in a temporary file in dir that the passes of Items read
// back; the file is unlinked at once where the system allows it (else on
// Close), so a killed run leaves nothing behind. Memory stays bounded as
// for a file: an endless record without a line end is one invalid-input
// item, counted, never held.
//
// A read blocked on r (a pipe, a terminal, a FIFO without data) is given
// up when ctx is done. ReadOnce then returns the source of the items read
// whole so far with ctx's error; with any other error, the items read
// before it and the error. The caller closes the source.
func ReadOnce(ctx context.Context, r io.Reader, dir string) (*Source, error) {
	f, name, err := createSpool(dir)
	if err != nil {
		return nil, fmt.Errorf("input: temporary file in %s: %w", dir, err)
	}
	sp := &spool{f: f, name: name}
	if os.Remove(name) == nil {
		sp.name = ""
	}
	src := &Source{once: sp}

	cr := newCancelableReader(ctx, r)
	in := NewInputReader(cr)
	bw := bufio.NewWriterSize(f, 64<<10)
	enc := json.NewEncoder(bw)
	var rerr error
	for {
		it, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				err = cerr
			}
			rerr = err
			break
		}
		if err := enc.Encode(it); err != nil {
			rerr = fmt.Errorf("input: keep the items read: %w", err)
			break
		}
	}
	if err := bw.Flush(); err != nil && rerr == nil {
		rerr = fmt.Errorf("input: keep the items read: %w", err)
	}
	if sp.size, err = f.Seek(0, io.SeekCurrent); err != nil && rerr == nil {
		rerr = fmt.Errorf("input: keep the items read: %w", err)
	}
	sp.digest, sp.read = cr.stop()
	return src, rerr
}

// createSpool creates a new file in dir for ReadOnce. O_EXCL makes the
// open fail on any name that exists, a symbolic link included: it never
// writes through a link planted in dir.
func createSpool(dir string) (*os.File, string, error) {
	for range 100 {
		p := filepath.Join(dir, ".meetarchive-input."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, p, err
	}
	return nil, "", errors.New("every name tried exists")
}

// cancelableReader reads r in a goroutine of its own, a chunk ahead, so
// that a Read blocked on a pipe or a terminal can be given up when ctx is
// done: Read then returns ctx's error at once, and the goroutine is left
// in its read until that returns (or the process ends). Both check ctx
// before each chunk, so a source that never blocks (/dev/zero) stops too.
//
// The goroutine hashes and counts every byte as it comes off r, so that
// stop reports the bytes actually read from the input, a chunk read but
// not yet parsed included.
type cancelableReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	chunks chan chunk
	free   chan []byte
	cur    chunk
	rest   []byte

	mu      sync.Mutex
	h       hash.Hash
	n       int64
	stopped bool
}

type chunk struct {
	buf []byte // the whole buffer, to give back
	n   int
	err error
}

const readChunk = 32 << 10

func newCancelableReader(ctx context.Context, r io.Reader) *cancelableReader {
	ctx, cancel := context.WithCancel(ctx)
	c := &cancelableReader{ctx: ctx, cancel: cancel, chunks: make(chan chunk), free: make(chan []byte, 2), h: sha256.New()}
	c.free <- make([]byte, readChunk)
	c.free <- make([]byte, readChunk)
	go func() {
		for {
			var buf []byte
			select {
			case buf = <-c.free:
			case <-ctx.Done():
				return
			}
			if ctx.Err() != nil {
				return
			}
			n, err := r.Read(buf)
			c.mu.Lock()
			if !c.stopped {
				c.h.Write(buf[:n])
				c.n += int64(n)
			}
			c.mu.Unlock()
			select {
			case c.chunks <- chunk{buf: buf, n: n, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

func (c *cancelableReader) Read(p []byte) (int, error) {
	for len(c.rest) == 0 {
		if c.cur.err != nil {
			return 0, c.cur.err
		}
		if err := c.ctx.Err(); err != nil {
			return 0, err
		}
		if c.cur.buf != nil {
			c.free <- c.cur.buf
			c.cur.buf = nil
		}
		select {
		case c.cur = <-c.chunks:
			c.rest = c.cur.buf[:c.cur.n]
		case <-c.ctx.Done():
			return 0, c.ctx.Err()
		}
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

// stop ends the reading goroutine (once its read returns) and reports the
// SHA-256 (hex) and the number of the bytes it read; a read that returns
// after stop is not counted.
func (c *cancelableReader) stop() (digest string, n int64) {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	return hex.EncodeToString(c.h.Sum(nil)), c.n
}
