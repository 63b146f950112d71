package archive_test

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

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// genReader yields n deterministic pseudo-random bytes from seed without
// holding them, and hashes what it yields (the generator's own SHA-256).
type genReader struct {
	rng  *rand.PCG
	left int64
	buf  [8]byte
	have int // unread bytes at the end of buf
	h    hash.Hash
}

func newGen(seed uint64, n int64) *genReader {
	return &genReader{rng: rand.NewPCG(seed, seed^0x9e3779b97f4a7c15), left: n, h: sha256.New()}
}

func (g *genReader) Read(p []byte) (int, error) {
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

func (g *genReader) sum() string { return hex.EncodeToString(g.h.Sum(nil)) }

// genSHA256 is the SHA-256 of newGen(seed, n)'s bytes.
func genSHA256(t testing.TB, seed uint64, n int64) string {
	t.Helper()
	g := newGen(seed, n)
	if _, err := io.Copy(io.Discard, g); err != nil {
		t.Fatal(err)
	}
	return g.sum()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
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

// failReader fails with err after n bytes of r.
type failReader struct {
	r   io.Reader
	n   int64
	err error
}

var errSource = errors.New("source connection reset (test)")

func (f *failReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
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

// known is an Expect for a stream whose size and platform hash are known.
func known(size int64, sum string) archive.Expect {
	return archive.Expect{Size: size, PlatformSize: size, PlatformSHA256: sum,
		Metadata: map[string]string{"confuuid": "c0ffee00-0000-4000-8000-000000000001", "confid": "900000001", "filetype": "Hd"}}
}

// unknown is an Expect with nothing known.
func unknown() archive.Expect {
	return archive.Expect{Size: archive.Unknown, PlatformSize: archive.Unknown}
}

// s3Store opens an S3 store on bucket b (prefix p) with opts, connected to the test server.
func s3Store(t testing.TB, b archivetest.Bucket, prefix string, opts archive.Options) *archive.S3Store {
	t.Helper()
	opts.ClientOptions = append(opts.ClientOptions, b.Env.ClientOption())
	st, err := archive.NewS3Store(context.Background(), b.Name, prefix, opts)
	if err != nil {
		t.Fatalf("NewS3Store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func readAllHash(t testing.TB, rc io.ReadCloser) (string, int64) {
	t.Helper()
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}
