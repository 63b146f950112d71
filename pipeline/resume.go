package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"meetarchive/export"
)

// errRestart: the media host answered a Range request with the whole file,
// so the stream cannot continue where it broke; the file starts over (a
// whole-file retry, under the same policy).
var errRestart = errors.New("the media host ignored the range request; the file starts over")

// errUnverifiableLength: the media host sent a body without a length of
// its own (no Content-Length, not chunked: it ends when the connection
// closes, as a cut one does) and the platform listed neither the file's
// size nor its SHA-256, so nothing could prove the bytes whole.
var errUnverifiableLength = errors.New("the media host sent no length and the platform listed no size or SHA-256: a complete body cannot be told from a cut one")

// resumingReader is one file's media stream that survives breaks: when the
// stream fails part-way it asks the host for the rest with a Range request
// from the byte reached (with fresh links when the old one is spent) and
// goes on, so that the store's hash and upload see one unbroken stream and
// no byte is downloaded twice. Breaks follow the retry policy (attempts and
// elapsed budget, counted from the file's first download, so that the
// budget bounds the whole file), like whole-file retries; a stalled body
// (export.ErrStalled) is a break like any other.
//
// io.EOF from the media body is the end of the stream, never a break: the
// body ended where its framing says (Content-Length, a 206's range, the
// terminating chunk), or with the connection's close. Where the file's size
// is known (total) an end short of it is a break.
type resumingReader struct {
	ctx    context.Context
	d      *download
	st     *fileState
	m      *export.Media
	total  int64 // the whole file's size (the host's, else the platform's), -1 unknown
	pos    int64 // bytes delivered so far
	breaks int   // of this attempt; the elapsed budget runs from st.troubled
}

// newResumingReader takes over m, the first response for st's file. A body
// that ends only with its connection (export.Media.CloseDelimited) is
// refused unless the platform listed the file's size or SHA-256, which the
// store then checks: such a body cut short ends exactly like a whole one.
func (d *download) newResumingReader(ctx context.Context, st *fileState, m *export.Media) (*resumingReader, error) {
	f := st.file
	if m.CloseDelimited && f.Size < 0 && f.SHA256 == "" {
		_ = m.Body.Close()
		return nil, fmt.Errorf("media %s: %w", f, errUnverifiableLength)
	}
	d.boundStall(st, m)
	total := m.Total
	if total < 0 {
		total = f.Size
	}
	return &resumingReader{ctx: ctx, d: d, st: st, m: m, total: total}, nil
}

func (r *resumingReader) Read(p []byte) (int, error) {
	for {
		n, err := r.m.Body.Read(p)
		r.pos += int64(n)
		if n > 0 {
			r.d.job.Progress.AddBytes(int64(n))
		}
		if err != nil && r.total >= 0 && r.pos == r.total {
			// Every byte arrived; a connection that then fails is no break
			// (the store still checks size and SHA-256).
			return n, io.EOF
		}
		if err == io.EOF {
			if r.total < 0 || r.pos > r.total {
				return n, io.EOF // the store checks what it can
			}
			// The body ended before the file's size: a break.
			err = fmt.Errorf("media %s ended after %d of its %d bytes: %w", r.st.file, r.pos, r.total, export.ErrTruncated)
		}
		if err == nil || n > 0 || r.ctx.Err() != nil || !export.ShouldRetry(err) {
			if err != nil && n > 0 && r.ctx.Err() == nil && export.ShouldRetry(err) {
				// Deliver what arrived; the break is handled on the next Read.
				err = nil
			}
			return n, err
		}
		if rerr := r.resume(err); rerr != nil {
			return 0, rerr
		}
	}
}

// resume reopens the stream at the byte reached, after err broke it.
func (r *resumingReader) resume(cause error) error {
	r.breaks++
	r.st.trouble()
	delay, ok := r.d.job.Options.Retry.Next(r.breaks, time.Since(r.st.troubled), cause)
	if !ok {
		return cause
	}
	r.d.log.Warn("media stream broke; resuming with a range request", "file", r.st.file.String(), "at", r.pos, "err", cause)
	_ = r.m.Body.Close()
	if err := export.Sleep(r.ctx, delay); err != nil {
		return cause
	}
	// A download token is single-use: the rest needs fresh links.
	f, err := r.d.freshLink(r.ctx, r.st)
	var m *export.Media
	if err == nil {
		f.Size = r.total
		m, err = r.d.openMedia(r.ctx, f, r.pos)
	}
	if err != nil {
		return fmt.Errorf("resuming at byte %d: %w", r.pos, err)
	}
	if m.Offset != r.pos {
		_ = m.Body.Close()
		return errRestart
	}
	r.d.boundStall(r.st, m)
	r.m = m
	if r.total < 0 {
		r.total = m.Total // a 206 names the file's size
	}
	return nil
}

// boundStall makes a retry's stream (the file broke or failed before)
// that stalls again end within what is left of the elapsed budget, not a
// whole stall timeout later.
func (d *download) boundStall(st *fileState, m *export.Media) {
	if budget := d.job.Options.Retry.MaxElapsed; budget > 0 && !st.troubled.IsZero() {
		m.ShortenStall(budget - time.Since(st.troubled))
	}
}

// Close closes the current stream.
func (r *resumingReader) Close() error { return r.m.Body.Close() }

// freshLink asks for new links and returns the file's.
func (d *download) freshLink(ctx context.Context, st *fileState) (export.File, error) {
	links, err := d.links(ctx)
	if err != nil {
		return export.File{}, err
	}
	for _, f := range links {
		if f.ID() == st.file.ID() {
			st.file = f
			return f, nil
		}
	}
	return export.File{}, fmt.Errorf("fresh links no longer list %s", st.file)
}
