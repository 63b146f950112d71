package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
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
	// ErrStalled: a media body stopped moving. While its reader waited for
	// it, it brought no byte for Config.StallTimeout, or fewer than
	// StallMinRate bytes a second over a whole StallTimeout of waiting (a
	// trickle); the connection is dropped. It wraps ErrTimeout, so
	// ShouldRetry accepts it: the caller resumes from the byte it reached.
	ErrStalled = errors.New("media body stalled")
)

// StallMinRate is the slowest a media body may be, in bytes a second
// averaged over Config.StallTimeout of waiting for it, before it counts as
// stalled: a body that trickles a byte now and then would otherwise never
// end (a gigabyte at this rate takes twelve days).
const StallMinRate = 1 << 10

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
	// CloseDelimited: the body has no length (Size -1) and no framing of its
	// own: an HTTP/1 answer without Content-Length that is not chunked, whose
	// end is the connection's close. A connection cut short ends it the same
	// way, so its io.EOF proves nothing: only the platform's size or SHA-256
	// can show it whole. A chunked body (or HTTP/2) ends with io.EOF only
	// after its terminator; cut short, it fails with ErrTruncated.
	CloseDelimited bool
}

// maxMediaErrorBody caps what is read of a media error answer.
const maxMediaErrorBody = 64 << 10

// MaxMediaRedirects is how many redirects one media request follows.
const MaxMediaRedirects = 3

// OpenMedia starts the download of f from its first byte: OpenMediaAt(ctx, f, 0).
func (c *Client) OpenMedia(ctx context.Context, f File) (*Media, error) {
	return c.OpenMediaAt(ctx, f, 0)
}

// OpenMediaAt starts the download of f from byte offset: GET f.URL with
// `Authorization: <token>` when f.Token is set, and `Range: bytes=<offset>-`
// when offset > 0. The response headers must arrive within RequestTimeout;
// the body has no time limit (files are gigabytes): ctx governs it, and a
// body that stops moving while it is read fails with ErrStalled after
// StallTimeout (see ErrStalled).
//
// The host may honour the range (206: Media.Offset is offset) or send the
// whole file (200: Media.Offset is 0, and the caller starts over). A 206 is
// checked strictly: its Content-Range must start at offset, run to the end
// of the file, and, when f.Size >= 0, have f.Size as its total (a caller
// resuming a file of unknown size sets f.Size to the Total of its first
// response); anything else is an error wrapping ErrBadResponse.
//
// A non-2xx answer is an *APIError with Op "media"; a 401 or 403 (the token
// expired, was used already or is refused) also wraps ErrLinkExpired.
// Redirects are followed only where the token may go (see
// mediaRedirectPolicy); any other is an error wrapping ErrBadRedirect.
//
// OpenMediaAt does NOT retry, not even on a 5xx or a reset: download tokens
// are single use, so a second GET with the same link would be refused. A
// caller that wants another try (Backoff.Next) calls Links for fresh links
// and opens the new File, from the byte it reached. Reading a body that ends
// before its Content-Length gives an error wrapping ErrTruncated, which
// ShouldRetry accepts.
func (c *Client) OpenMediaAt(ctx context.Context, f File, offset int64) (*Media, error) {
	if f.URL == "" {
		return nil, fmt.Errorf("export: media %s: no URL", f)
	}
	if offset < 0 || (f.Size >= 0 && offset > 0 && offset >= f.Size) {
		return nil, fmt.Errorf("export: media %s: offset %d outside the file (size %d)", f, offset, f.Size)
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
	// Byte offsets must count the file's bytes, not those of a compressed
	// transfer.
	req.Header.Set("Accept-Encoding", "identity")
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	registerLink(f)
	c.stats.media.Add(1)
	// The stall watchdog drops a body that stopped moving by cancelling its
	// request's own context: the transport then closes the connection.
	rctx, cancel := context.WithCancel(ctx)
	resp, err := c.media.Do(req.WithContext(rctx))
	if err != nil {
		cancel()
		return nil, c.mediaErr(ctx, f, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer cancel()
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxMediaErrorBody))
		ae := parseAPIError("media", resp.StatusCode, resp.Header, body, time.Now())
		ae.Message = c.scrubWithToken(ae.Message, f.Token)
		ae.RequestID = c.scrub(ae.RequestID)
		if ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden {
			return nil, &linkError{ae: ae}
		}
		return nil, ae
	}
	m := &Media{Size: resp.ContentLength, Total: resp.ContentLength}
	if resp.StatusCode == http.StatusPartialContent {
		start, total, err := checkContentRange(resp.Header.Get("Content-Range"), resp.ContentLength, offset, f.Size)
		if err != nil {
			resp.Body.Close()
			cancel()
			return nil, &BadResponseError{Op: "media " + f.String(), StatusCode: resp.StatusCode,
				RequestID: c.scrub(clip(resp.Header.Get("X-Request-Id"), 128)), Reason: err.Error()}
		}
		m.Offset, m.Total, m.Size = start, total, total-start
	}
	m.CloseDelimited = m.Size < 0 && resp.ProtoMajor < 2 && len(resp.TransferEncoding) == 0
	mb := &mediaBody{c: c, rc: resp.Body, f: f, base: m.Offset, want: m.Size, cancel: cancel}
	if d := c.cfg.StallTimeout; d > 0 {
		mb.stall = d
		mb.timer = time.AfterFunc(time.Hour, mb.fire)
		mb.timer.Stop()
	}
	m.Body = mb
	return m, nil
}

// ShortenStall lowers the body's stall timeout to d when d is shorter (or
// the body has none): a retry whose budget ends in d must not wait a
// whole stall timeout on a body that stopped moving. A body that keeps
// moving is not cut.
func (m *Media) ShortenStall(d time.Duration) {
	mb, ok := m.Body.(*mediaBody)
	if !ok || (mb.stall > 0 && mb.stall <= d) {
		return
	}
	d = max(d, 10*time.Millisecond)
	if mb.timer == nil {
		mb.timer = time.AfterFunc(time.Hour, mb.fire)
		mb.timer.Stop()
	}
	mb.stall = d
}

// checkContentRange validates a 206's Content-Range ("bytes N-M/T") against
// the request: it must start at offset, end at the last byte of the file,
// have a known total equal to size when size >= 0, and agree with the
// Content-Length (-1 if none). It returns N and T.
func checkContentRange(v string, contentLength, offset, size int64) (start, total int64, err error) {
	spec, ok := strings.CutPrefix(v, "bytes ")
	rng, tot, ok2 := strings.Cut(spec, "/")
	first, last, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 {
		return 0, 0, fmt.Errorf("206 with Content-Range %.40q: want bytes N-M/T", v)
	}
	start, err1 := parseByteCount(first)
	end, err2 := parseByteCount(last)
	total, err3 := parseByteCount(tot)
	switch {
	case err1 != nil || err2 != nil || err3 != nil || end < start || end >= total:
		return 0, 0, fmt.Errorf("206 with Content-Range %.40q: want bytes N-M/T with N <= M < T", v)
	case start != offset:
		return 0, 0, fmt.Errorf("206 starts at byte %d, asked for %d", start, offset)
	case end != total-1:
		return 0, 0, fmt.Errorf("206 ends at byte %d of %d, asked for the rest of the file", end, total)
	case size >= 0 && total != size:
		return 0, 0, fmt.Errorf("206 says the file has %d bytes, expected %d", total, size)
	case contentLength >= 0 && contentLength != end-start+1:
		return 0, 0, fmt.Errorf("206 of bytes %d-%d with Content-Length %d", start, end, contentLength)
	}
	return start, total, nil
}

// parseByteCount reads a byte position of a Content-Range: digits only.
func parseByteCount(s string) (int64, error) {
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a byte count")
	}
	return strconv.ParseInt(s, 10, 64)
}

// linkError is a media answer 401 or 403: the download link is spent.
type linkError struct{ ae *APIError }

func (e *linkError) Error() string   { return e.ae.Error() }
func (e *linkError) Unwrap() []error { return []error{ErrLinkExpired, e.ae} }

// redirectError is a redirect the media client refused to follow.
type redirectError struct{ reason string }

func (e *redirectError) Error() string { return ErrBadRedirect.Error() + ": " + e.reason }
func (e *redirectError) Unwrap() error { return ErrBadRedirect }

// mediaRedirectPolicy is the media client's CheckRedirect: a download token
// goes nowhere it was not sent. It follows at most MaxMediaRedirects hops, to
// https only (to http only when every request before was http, as in tests),
// never sends a Referer (the link's query may hold the token), and drops the
// Authorization header (the download token) for good once a hop leaves the
// first request's scheme, host and port. Any other redirect is an error
// wrapping ErrBadRedirect.
func mediaRedirectPolicy(req *http.Request, via []*http.Request) error {
	req.Header.Del("Referer")
	if len(via) > MaxMediaRedirects {
		return &redirectError{reason: fmt.Sprintf("more than %d redirects", MaxMediaRedirects)}
	}
	first, prev := via[0].URL, via[len(via)-1].URL
	switch {
	case req.URL.Scheme == "https":
	case req.URL.Scheme == "http" && prev.Scheme == "http":
	case req.URL.Scheme == "http":
		return &redirectError{reason: "from https to http"}
	default:
		return &redirectError{reason: "to a scheme other than https"}
	}
	for _, r := range via[1:] {
		if origin(r.URL) != origin(first) {
			req.Header.Del("Authorization")
		}
	}
	if origin(req.URL) != origin(first) {
		req.Header.Del("Authorization")
	}
	return nil
}

// origin is a URL's scheme, host and port (the scheme's default port when
// none is given), lower-cased.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

func (c *Client) mediaErr(ctx context.Context, f File, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("export: media %s: %w", f, ctx.Err())
	}
	var re *redirectError
	if errors.As(err, &re) {
		// The *url.Error around it quotes the redirect's URL: leave it out.
		return fmt.Errorf("export: media %s: %w", f, re)
	}
	return c.transportErr(ctx, ctx, "media "+f.String(), err, f.Token)
}

// mediaBody counts bytes, turns an early end into ErrTruncated and, with a
// stall timeout, a body that stops moving into ErrStalled.
type mediaBody struct {
	c      *Client
	rc     io.ReadCloser
	f      File
	base   int64 // the file's byte the body starts at
	want   int64 // -1 unknown
	got    int64
	err    error              // sticky
	cancel context.CancelFunc // the request's own context

	// The stall watchdog: one timer, armed only while a Read waits on the
	// body, so that time the consumer spends elsewhere (a slow upload)
	// never counts. waited and window are the time spent in Read and the
	// bytes it brought since the current window began.
	stall   time.Duration // 0: no watchdog
	timer   *time.Timer
	fired   atomic.Bool
	waited  time.Duration
	window  int64
	stalled string // why it stalled, once it has
}

// fire is the watchdog timer's: a Read waited out the rest of the window
// without a byte. Cancelling the request drops the connection, which ends
// the Read.
func (m *mediaBody) fire() {
	m.fired.Store(true)
	m.cancel()
}

func (m *mediaBody) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	var (
		n   int
		err error
	)
	if m.stall > 0 {
		n, err = m.watchedRead(p)
	} else {
		n, err = m.rc.Read(p)
	}
	m.got += int64(n)
	switch {
	case m.stalled != "":
		m.err = &stallError{msg: fmt.Sprintf("export: media %s: %v: %s, after %d bytes%s", m.f, ErrStalled, m.stalled, m.got, m.from())}
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF) && (m.want < 0 || m.got >= m.want):
		return n, io.EOF
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// OpenMedia's ctx ended: not a truncation.
		m.err = fmt.Errorf("export: media %s: %w", m.f, err)
	case (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && m.want < 0:
		// Only a chunked body (or HTTP/2) can end unexpectedly without a length.
		m.err = fmt.Errorf("export: media %s: %w after %d bytes%s, before the end of its chunks", m.f, ErrTruncated, m.got, m.from())
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		m.err = fmt.Errorf("export: media %s: %w after %d of %d bytes%s", m.f, ErrTruncated, m.got, m.want, m.from())
	default:
		// A reset or a stalled connection mid-body: the file is cut short.
		m.err = fmt.Errorf("export: media %s: %w after %d bytes%s: %s", m.f, ErrTruncated, m.got, m.from(),
			m.c.scrubWithToken(err.Error(), m.f.Token))
	}
	return n, m.err
}

// watchedRead is one Read of the body under the stall watchdog. A window
// of StallTimeout of waiting (time spent in Read, nothing else) must bring
// StallTimeout x StallMinRate bytes; once it has, the next window begins.
// The timer runs only while a Read waits, for what is left of the window,
// so a body that brings no byte is dropped StallTimeout after its last
// full window at the latest. A stall sets m.stalled.
func (m *mediaBody) watchedRead(p []byte) (int, error) {
	t0 := time.Now()
	m.timer.Reset(m.stall - m.waited)
	n, err := m.rc.Read(p)
	fired := !m.timer.Stop() || m.fired.Load()
	m.waited += time.Since(t0)
	m.window += int64(n)
	floor := max(1, int64(m.stall.Seconds()*StallMinRate))
	switch {
	case m.window >= floor:
		m.waited, m.window = 0, 0
	case fired || (m.waited >= m.stall && err == nil):
		if m.window == 0 {
			m.stalled = fmt.Sprintf("no byte in %v", m.stall)
		} else {
			m.stalled = fmt.Sprintf("%d bytes in %v, under %d bytes a second", m.window, m.stall, StallMinRate)
		}
		m.cancel() // drop the connection (the timer may have already)
	}
	return n, err
}

// stallError is a media body that stopped moving: ErrStalled, a timeout.
type stallError struct{ msg string }

func (e *stallError) Error() string   { return e.msg }
func (e *stallError) Unwrap() []error { return []error{ErrStalled, ErrTimeout} }

// from names where a ranged body started ("" for a whole file).
func (m *mediaBody) from() string {
	if m.base == 0 {
		return ""
	}
	return " (from byte " + strconv.FormatInt(m.base, 10) + ")"
}

// Close closes the body and releases its request's context.
func (m *mediaBody) Close() error {
	if m.timer != nil {
		m.timer.Stop()
	}
	err := m.rc.Close()
	m.cancel()
	return err
}
