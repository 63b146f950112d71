package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// checkingReader hashes and counts what it reads and, at the end of the
// stream, compares it with Expect. Instead of io.EOF it then returns an error
// wrapping ErrIntegrity when the stream does not match, so that whatever
// consumes it (a temp file, a multipart upload) fails before it commits. It
// fails early when the stream grows past an expected size, returns the
// source's read error (wrapped) on any other failure, and stops when ctx is done.
type checkingReader struct {
	r      io.Reader
	h      hash.Hash
	n      int64
	want   Expect
	ctxErr func() error // the caller's ctx.Err
	err    error        // sticky: the failure (never io.EOF)
	eof    bool
}

func newCheckingReader(ctx context.Context, r io.Reader, want Expect) *checkingReader {
	return &checkingReader{r: r, h: sha256.New(), want: want, ctxErr: ctx.Err}
}

func (c *checkingReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.eof {
		return 0, io.EOF
	}
	if err := c.ctxErr(); err != nil {
		c.err = err
		return 0, err
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.h.Write(p[:n])
		c.n += int64(n)
		if max := c.maxSize(); max >= 0 && c.n > max {
			c.err = fmt.Errorf("%w: read more than the expected %d bytes", ErrIntegrity, max)
			return n, c.err
		}
	}
	switch {
	case err == io.EOF:
		if ierr := c.check(); ierr != nil {
			c.err = ierr
			return n, ierr
		}
		c.eof = true
		return n, io.EOF
	case err != nil:
		c.err = fmt.Errorf("read source after %d bytes: %w", c.n, err)
		return n, c.err
	}
	return n, nil
}

// maxSize is the smallest size the stream is expected to have, -1 if none.
func (c *checkingReader) maxSize() int64 {
	max := int64(-1)
	for _, s := range []int64{c.want.Size, c.want.PlatformSize} {
		if s >= 0 && (max < 0 || s < max) {
			max = s
		}
	}
	return max
}

// check compares the complete stream with the expectation.
func (c *checkingReader) check() error {
	if c.want.Size >= 0 && c.n != c.want.Size {
		return fmt.Errorf("%w: got %d bytes, Content-Length said %d", ErrIntegrity, c.n, c.want.Size)
	}
	if c.want.PlatformSize >= 0 && c.n != c.want.PlatformSize {
		return fmt.Errorf("%w: got %d bytes, the platform said %d", ErrIntegrity, c.n, c.want.PlatformSize)
	}
	if want := c.want.PlatformSHA256; want != "" && !strings.EqualFold(want, c.sum()) {
		return fmt.Errorf("%w: sha256 %s, the platform said %s", ErrIntegrity, c.sum(), strings.ToLower(want))
	}
	return nil
}

// sum is the lower-case hex SHA-256 of what was read so far.
func (c *checkingReader) sum() string { return hex.EncodeToString(c.h.Sum(nil)) }

// complete reports whether the whole stream was read and matched.
func (c *checkingReader) complete() bool { return c.eof && c.err == nil }

// failure is the reader's own failure (integrity, source, ctx), or nil.
func (c *checkingReader) failure() error { return c.err }

// validSHA256 reports whether s looks like a hex SHA-256.
func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// isCtxErr reports whether err is a context cancellation or deadline.
func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
