package archivetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"math/rand/v2"
	"testing"
)

// MiB is 1<<20 bytes.
const MiB = 1 << 20

// Stream yields n deterministic pseudo-random bytes from a seed without
// holding them, and hashes what it yields.
type Stream struct {
	rng  *rand.PCG
	left int64
	buf  [8]byte
	have int // unread bytes at the end of buf
	h    hash.Hash
}

// NewStream returns the n bytes of seed.
func NewStream(seed uint64, n int64) *Stream {
	return &Stream{rng: rand.NewPCG(seed, seed^0x9e3779b97f4a7c15), left: n, h: sha256.New()}
}

// Read implements io.Reader.
func (g *Stream) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n := 0
	for n < len(p) {
		if g.have == 0 {
			if len(p)-n >= 8 {
				binary.LittleEndian.PutUint64(p[n:], g.rng.Uint64())
				n += 8
				continue
			}
			binary.LittleEndian.PutUint64(g.buf[:], g.rng.Uint64())
			g.have = 8
		}
		c := copy(p[n:], g.buf[8-g.have:])
		g.have -= c
		n += c
	}
	g.left -= int64(n)
	g.h.Write(p[:n])
	return n, nil
}

// Sum is the hex SHA-256 of what was read so far.
func (g *Stream) Sum() string { return hex.EncodeToString(g.h.Sum(nil)) }

// StreamSHA256 is the hex SHA-256 of NewStream(seed, n)'s bytes.
func StreamSHA256(t testing.TB, seed uint64, n int64) string {
	t.Helper()
	g := NewStream(seed, n)
	if _, err := io.Copy(io.Discard, g); err != nil {
		t.Fatal(err)
	}
	return g.Sum()
}

// SHA256 is the hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ReadAllSHA256 reads rc to its end, closes it, and returns the hex SHA-256
// and the count of what it read.
func ReadAllSHA256(t testing.TB, rc io.ReadCloser) (string, int64) {
	t.Helper()
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// flipReader flips one byte at offset at of the underlying stream.
type flipReader struct {
	r   io.Reader
	off int64
	at  int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 0x01
	}
	f.off += int64(n)
	return n, err
}

// errSource is what failReader fails with.
var errSource = errors.New("source connection reset (test)")

// failReader fails with errSource after n bytes of r.
type failReader struct {
	r io.Reader
	n int64
}

func (f *failReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errSource
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

// cancelReader calls cancel once n bytes have been read.
type cancelReader struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}
