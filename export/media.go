package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Sentinel errors of media downloads (errors.Is).
var (
	// ErrLinkExpired: the media host refused the download link (401 or 403:
	// the token expired, was used already, or is refused). Another try needs
	// fresh links.
	ErrLinkExpired = errors.New("download link expired or refused")
	// ErrBadRedirect: the media host redirected where a download token must
	// not follow (a downgrade to http, another scheme, too many hops). Not
	// retried.
	ErrBadRedirect = errors.New("redirect refused")
)

// Media is an open media stream. Close it.
type Media struct {
	Body io.ReadCloser // a short body (fewer bytes than Size) yields an error wrapping ErrTruncated from Read
	Size int64         // Content-Length: the bytes Body holds, -1 unknown
	// Offset is the byte of the file Body starts at: the offset asked of
	// OpenMediaAt when the host answered 206, 0 when it answered 200 with the
	// whole file (the caller then starts over).
	Offset int64
	// Total is the whole file's size: the Content-Range total of a 206, the
	// Content-Length of a 200; -1 unknown.
	Total int64
}

// maxMediaErrorBody caps what is read of a media error answer.
const maxMediaErrorBody = 64 << 10

// OpenMedia starts the download of f: GET f.URL with `Authorization: <token>`
// when f.Token is set. The response headers must arrive within RequestTimeout;
// the body has no time limit (files are gigabytes): ctx governs it. A non-2xx
// answer is an *APIError with Op "media".
//
// OpenMedia does NOT retry, not even on a 5xx or a reset: download tokens are
// single use, so a second GET with the same link would be refused. A caller that
// wants another try (ShouldRetry, Backoff) calls Links for fresh links and
// opens the new File. Reading a body that ends before its Content-Length gives
// an error wrapping ErrTruncated, which ShouldRetry accepts.
func (c *Client) OpenMedia(ctx context.Context, f File) (*Media, error) {
	if f.URL == "" {
		return nil, fmt.Errorf("export: media %s: no URL", f)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		// url.Parse errors quote the URL: do not pass them on.
		return nil, fmt.Errorf("export: media %s: malformed URL", f)
	}
	if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
		return nil, fmt.Errorf("export: media %s: unsupported URL scheme %q", f, req.URL.Scheme)
	}
	if f.Token != "" {
		req.Header.Set("Authorization", f.Token)
	}
	req.Header.Set("User-Agent", "meetarchive")
	c.stats.media.Add(1)
	resp, err := c.media.Do(req)
	if err != nil {
		return nil, c.mediaErr(ctx, f, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxMediaErrorBody))
		ae := parseAPIError("media", resp.StatusCode, resp.Header, body, time.Now())
		ae.Message = c.scrubWithToken(ae.Message, f.Token)
		ae.RequestID = c.scrub(ae.RequestID)
		return nil, ae
	}
	return &Media{
		Body:   &mediaBody{c: c, rc: resp.Body, f: f, want: resp.ContentLength},
		Size:   resp.ContentLength,
		Offset: 0,
		Total:  resp.ContentLength,
	}, nil
}

func (c *Client) mediaErr(ctx context.Context, f File, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("export: media %s: %w", f, ctx.Err())
	}
	ne := c.transportErr(ctx, ctx, "media "+f.String(), err, f.Token)
	return ne
}

// mediaBody counts bytes and turns an early end into ErrTruncated.
type mediaBody struct {
	c    *Client
	rc   io.ReadCloser
	f    File
	want int64 // -1 unknown
	got  int64
	err  error // sticky
}

func (m *mediaBody) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.rc.Read(p)
	m.got += int64(n)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF) && (m.want < 0 || m.got >= m.want):
		return n, io.EOF
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// OpenMedia's ctx ended: not a truncation.
		m.err = fmt.Errorf("export: media %s: %w", m.f, err)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		m.err = fmt.Errorf("export: media %s: %w after %d of %d bytes", m.f, ErrTruncated, m.got, m.want)
	default:
		// A reset or a stalled connection mid-body: the file is cut short.
		m.err = fmt.Errorf("export: media %s: %w after %d bytes: %s", m.f, ErrTruncated, m.got,
			m.c.scrubWithToken(err.Error(), m.f.Token))
	}
	return n, m.err
}

func (m *mediaBody) Close() error { return m.rc.Close() }
