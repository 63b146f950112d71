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

// resumingReader is one file's media stream that survives breaks: when the
// stream fails part-way it asks the host for the rest with a Range request
// from the byte reached (with fresh links when the old one is spent) and
// goes on, so that the store's hash and upload see one unbroken stream and
// no byte is downloaded twice. Breaks follow the retry policy (attempts and
// elapsed budget), like whole-file retries.
type resumingReader struct {
	ctx    context.Context
	d      *download
	st     *fileState
	m      *export.Media
	total  int64 // the whole file's size, -1 unknown
	pos    int64 // bytes delivered so far
	breaks int
	began  time.Time
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
	delay, ok := r.d.job.Options.Retry.Next(r.breaks, time.Since(r.began), cause)
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
		m, err = r.d.job.API.OpenMediaAt(r.ctx, f, r.pos)
	}
	if err != nil {
		return fmt.Errorf("resuming at byte %d: %w", r.pos, err)
	}
	if m.Offset != r.pos {
		_ = m.Body.Close()
		return errRestart
	}
	r.m = m
	return nil
}

// Close closes the current stream.
func (r *resumingReader) Close() error { return r.m.Body.Close() }

// freshLink asks for new links and returns the file's.
func (d *download) freshLink(ctx context.Context, st *fileState) (export.File, error) {
	links, err := d.job.API.Links(ctx, d.rec.ConfUUID)
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
