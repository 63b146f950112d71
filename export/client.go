package export

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"meetarchive/redact"
)

// Client talks to the Meeting API. It is safe for concurrent use; share one
// per run so that the token, the rate limiters and the pauses are shared.
//
// It holds one access token for the whole run (App ID HMAC, account and
// password, or a pre-issued token), refreshed at 90% of its validPeriod
// (for tokens of 50 minutes or more, at least 5 minutes before expiry) and
// when a call answers 401: however many goroutines find it expired, one
// authentication is in flight, and the failed call is retried once with
// the new token. A refused authentication is fatal and sticky: every later
// call fails at once with an error wrapping ErrAuth instead of hammering
// the login (and locking the account).
type Client struct {
	cfg    Config
	base   *url.URL
	api    *http.Client
	media  *http.Client
	auth   *authenticator
	limits *limits
	retry  Backoff

	// linksFallback is set once LinksAuto (or LinksSpread) has fallen back
	// to downloadurls.
	linksFallback atomic.Bool
	// linksShortFinal is the longest short downloadurls page (fewer links
	// than asked for, under the documented default of 20) that a next,
	// empty page proved to be the last: a later page no longer than it
	// is taken as the last without asking again (see downloadURLs).
	linksShortFinal atomic.Int64
	// spill is LinksSpread's choice of link API per conference.
	spill spill

	stats struct {
		requests, retries, throttled, auths, media atomic.Int64
	}
	// calls counts answers by API and outcome.
	calls callCounter

	secrets []string // literal secrets scrubbed from any message (fixed after NewClient)
}

// NewClient validates cfg, applies defaults and builds a client. It makes no
// request: call Authenticate for a preflight.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	base, _ := url.Parse(cfg.BaseURL) // validated
	c := &Client{
		cfg:    cfg,
		base:   base,
		limits: newLimits(cfg.Rate, DefaultRate),
		retry: Backoff{
			Base:        cfg.RetryBase,
			Max:         cfg.RetryMax,
			MaxAttempts: cfg.MaxAttempts,
			MaxElapsed:  cfg.MaxElapsed,
		},
	}
	c.auth = &authenticator{c: c}
	cr := cfg.Credentials
	registerCredentials(cr)
	for _, s := range []string{cr.AppKey, cr.Password, cr.Token} {
		if len(s) >= 4 {
			c.secrets = append(c.secrets, s)
		}
	}
	if cr.Method() == "token" {
		c.auth.cur = token{value: cr.Token, gen: 1}
	}
	if cfg.HTTPClient != nil {
		c.api = cfg.HTTPClient
		// The caller's transport, our redirect policy: a download token
		// goes nowhere it was not sent, whatever client carries it.
		media := *cfg.HTTPClient
		media.CheckRedirect = mediaRedirectPolicy
		c.media = &media
	} else {
		roots, err := rootCAs(cfg.CABundle)
		if err != nil {
			return nil, err
		}
		c.api = &http.Client{
			Transport: newTransport(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, 0),
			// The API never redirects; following one would send the access
			// token elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		mediaTLS := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		if cfg.InsecureMediaTLS {
			mediaTLS.InsecureSkipVerify = true // explicit opt-in, media hosts only
			cfg.Logger.Warn("export: TLS certificate verification is OFF for media downloads (InsecureMediaTLS): anyone on the path could serve other bytes; the API connection is still verified")
		}
		// Media files are gigabytes: a header timeout, never a total one.
		c.media = &http.Client{Transport: newTransport(mediaTLS, cfg.RequestTimeout), CheckRedirect: mediaRedirectPolicy}
	}
	return c, nil
}

func newTransport(tc *tls.Config, headerTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: headerTimeout,
	}
}

// rootCAs is the system pool plus the PEM bundle at path, if any.
func rootCAs(path string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if path == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("export: config: CABundle: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("export: config: CABundle %s: no PEM certificate found", path)
	}
	return pool, nil
}

// Authenticate obtains the shared token now (a preflight). A refused
// authentication gives an error wrapping ErrAuth that says what to check. With
// a pre-issued token it does nothing: the first call tells.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.auth.get(ctx)
	return err
}

// Stats is a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:  c.stats.requests.Load(),
		Retries:   c.stats.retries.Load(),
		Throttled: c.stats.throttled.Load(),
		Auths:     c.stats.auths.Load(),
		Media:     c.stats.media.Load(),
	}
}

// RateLimit is the rate (requests/s) the limiter of API currently grants:
// "details", "downloadurls", "recordinfo", "list", "delete", "auth",
// "history", "historydetail", "attendees" or "ctlrecords".
func (c *Client) RateLimit(api string) float64 { return c.limits.rate(api) }

// scrub redacts key/value secrets and every literal secret the client knows.
func (c *Client) scrub(s string) string {
	s = redact.String(s)
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "REDACTED")
	}
	if t, _ := c.auth.snapshot(); len(t.value) >= 4 {
		s = strings.ReplaceAll(s, t.value, "REDACTED")
	}
	return s
}

func (c *Client) scrubWithToken(s, tok string) string {
	s = c.scrub(s)
	if len(tok) >= 4 {
		s = strings.ReplaceAll(s, tok, "REDACTED")
	}
	return s
}

// request describes one API call.
type request struct {
	op     string // limiter key and error op
	conf   string // the conference the call is about, for Config.Observer
	method string
	path   string
	query  url.Values
	body   any         // JSON-encoded when not nil
	header http.Header // extra headers (Accept-Language)
	noAuth bool
	// build, when set, makes the body and extra headers for each try
	// (authentication signs every try afresh).
	build func() ([]byte, http.Header, error)
}

// do runs r through THE retry loop and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, r *request, out any) error {
	start := time.Now()
	tries, budgetTries := 0, 0
	reauthed := r.op == "auth" // the login itself never re-authenticates
	for {
		if err := c.limits.wait(ctx, r.op); err != nil {
			return c.finish(r.op, err, tries)
		}
		var tok token
		if !r.noAuth && r.op != "auth" {
			var err error
			if tok, err = c.auth.get(ctx); err != nil {
				return c.finish(r.op, err, tries)
			}
		}
		tries++
		budgetTries++
		if tries > 1 {
			c.stats.retries.Add(1)
		}
		err := c.once(ctx, r, tok.value, out, tries)
		c.calls.record(r.op, err)
		if err == nil {
			c.limits.succeeded(r.op, time.Now())
			return nil
		}
		var ae *APIError
		if errors.As(err, &ae) {
			if ae.Throttled() {
				c.stats.throttled.Add(1)
				c.limits.throttled(r.op, ae.RetryAfter, time.Now())
			}
			if ae.StatusCode == http.StatusUnauthorized && r.op != "auth" && !r.noAuth {
				c.auth.invalidate(tok.gen)
				if !reauthed && c.auth.canRefresh() {
					// Retry once with a new token; this try does not
					// count against MaxAttempts.
					reauthed = true
					budgetTries--
					continue
				}
				hint := "a freshly issued token was refused too: check that the app or account may use this API"
				if !c.auth.canRefresh() {
					hint = "the pre-issued token (MEETARCHIVE_TOKEN) was refused: it may have expired; get a new one, or use MEETARCHIVE_APP_ID and MEETARCHIVE_APP_KEY"
				}
				return c.finish(r.op, c.auth.setFatal(&authError{cause: err, hint: hint}), tries)
			}
		}
		if ctx.Err() != nil {
			return c.finish(r.op, ctx.Err(), tries)
		}
		d, again := c.retry.Next(budgetTries, time.Since(start), err)
		if !again {
			return c.finish(r.op, err, tries)
		}
		c.cfg.Logger.Debug("export: retrying", "op", r.op, "try", tries, "delay", d.Round(time.Millisecond), "err", err)
		if serr := Sleep(ctx, d); serr != nil {
			return c.finish(r.op, fmt.Errorf("%w (while retrying after: %w)", serr, err), tries)
		}
	}
}

// finish wraps a final error with the number of tries.
func (c *Client) finish(op string, err error, tries int) error {
	if tries == 0 {
		tries = 1
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if !strings.HasPrefix(err.Error(), "export: ") {
			err = fmt.Errorf("export: %s: %w", op, err)
		}
	}
	return &callError{err: err, attempts: tries}
}

// once makes one HTTP exchange of r and decodes the answer; Config.Observer
// hears how it went.
func (c *Client) once(ctx context.Context, r *request, tok string, out any, try int) (err error) {
	status, reqID := 0, ""
	if obs := c.cfg.Observer; obs != nil {
		defer func() {
			call := Call{API: r.op, ConfUUID: r.conf, Try: try, Status: status, RequestID: c.scrub(reqID)}
			if err != nil {
				call.Error = c.scrubWithToken(err.Error(), tok)
			}
			obs(call)
		}()
	}

	actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := c.newRequest(actx, r, tok)
	if err != nil {
		return err
	}

	c.stats.requests.Add(1)
	sent := time.Now()
	resp, err := c.api.Do(req)
	if err != nil {
		return c.transportErr(ctx, actx, r.op, err, tok)
	}
	defer resp.Body.Close()
	status, reqID = resp.StatusCode, resp.Header.Get("X-Request-Id")
	c.limits.observe(r.op, resp.Header, sent, time.Now(), resp.StatusCode != http.StatusTooManyRequests)
	return c.readAnswer(ctx, actx, r, resp, reqID, tok, out)
}

// newRequest builds r's HTTP request (body, headers, access token tok) on
// actx, the request's own deadline.
func (c *Client) newRequest(actx context.Context, r *request, tok string) (*http.Request, error) {
	var body []byte
	hdr := http.Header{}
	if r.build != nil {
		b, h, err := r.build()
		if err != nil {
			return nil, fmt.Errorf("export: %s: build request: %w", r.op, err)
		}
		body, hdr = b, h
	} else if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("export: %s: encode request: %w", r.op, err)
		}
		body = b
	}
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + r.path
	u.RawQuery = r.query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", r.op, err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "meetarchive")
	if tok != "" {
		req.Header.Set("X-Access-Token", tok)
	}
	return req, nil
}

// readAnswer reads resp's body (at most MaxBodyBytes) and decodes it into
// out, or returns the error it carries; every text that reaches an error is
// scrubbed of secrets and of tok.
func (c *Client) readAnswer(ctx, actx context.Context, r *request, resp *http.Response, reqID, tok string, out any) error {
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	if rerr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if actx.Err() != nil {
			return &netError{op: r.op, kind: CodeTimeout, msg: "reading the answer"}
		}
		return &BadResponseError{Op: r.op, StatusCode: resp.StatusCode, RequestID: c.scrub(reqID),
			Reason: fmt.Sprintf("body cut short after %d bytes: %s", len(data), c.scrubWithToken(rerr.Error(), tok)), truncated: true}
	}
	if int64(len(data)) > c.cfg.MaxBodyBytes {
		return &BadResponseError{Op: r.op, StatusCode: resp.StatusCode, RequestID: c.scrub(reqID),
			Reason: fmt.Sprintf("body larger than %d bytes", c.cfg.MaxBodyBytes)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := parseAPIError(r.op, resp.StatusCode, resp.Header, data, time.Now())
		ae.Message = c.scrubWithToken(ae.Message, tok)
		ae.RequestID = c.scrub(ae.RequestID)
		return ae
	}
	if err := decode(r.op, resp.StatusCode, resp.Header.Get("Content-Type"), data, out); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			if ae.RequestID == "" {
				ae.RequestID = reqID
			}
			ae.Message = c.scrubWithToken(ae.Message, tok)
			ae.RequestID = c.scrub(ae.RequestID)
			return ae
		}
		var be *BadResponseError
		if errors.As(err, &be) {
			be.RequestID = c.scrub(reqID)
			be.Reason = c.scrubWithToken(be.Reason, tok)
		}
		return err
	}
	return nil
}

// transportErr classifies a failed exchange: the caller's context, our
// per-request timeout, or a connection problem. The URL is never quoted.
func (c *Client) transportErr(ctx, actx context.Context, op string, err error, tok string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err // url.Error's text holds the URL
	}
	msg := c.scrubWithToken(cause.Error(), tok)
	var (
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		hne x509.HostnameError
		cie x509.CertificateInvalidError
	)
	if errors.As(cause, &cve) || errors.As(cause, &uae) || errors.As(cause, &hne) || errors.As(cause, &cie) {
		return &netError{op: op, kind: CodeTLS, msg: msg +
			" (a private CA: set CABundle / --ca-bundle; for media hosts only, InsecureMediaTLS / --insecure-media-tls)"}
	}
	var ne net.Error
	if actx.Err() != nil || (errors.As(cause, &ne) && ne.Timeout()) {
		return &netError{op: op, kind: CodeTimeout, msg: msg}
	}
	kind := ""
	var dns *net.DNSError
	switch {
	case errors.As(cause, &dns):
		kind = CodeDNS
	case errors.Is(cause, syscall.ECONNREFUSED):
		kind = CodeRefused
	}
	return &netError{op: op, kind: kind, msg: msg, cause: stripURL(cause)}
}

// stripURL keeps cause in the chain only when its text cannot hold a URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return nil
	}
	return err
}

// QuotaModel is what the client has learnt of how API's quota
// (X-APIG-Ratelimit-Api) and its per-second limit
// (X-APIG-Ratelimit-Api-Allenv) come back once spent: "fixed" (windows),
// "continuous" (a token bucket), or "" before the gateway has said anything.
func (c *Client) QuotaModel(api string) (quota, perSecond string) {
	a, ok := c.limits.apis[api]
	if !ok {
		return "", ""
	}
	e := c.limits.envs[api]
	a.mu.Lock()
	quota = a.modelLocked()
	a.mu.Unlock()
	e.mu.Lock()
	perSecond = e.modelLocked()
	e.mu.Unlock()
	return quota, perSecond
}

// spillWait is how long a LinksSpread conference's record info call may
// expect to wait on its quota before the conference takes its links from
// downloadurls instead.
const spillWait = 100 * time.Millisecond

// maxSpillMemory bounds how many conferences' link API LinksSpread keeps:
// far more than are ever in flight (a conference's link refreshes come
// while it is).
const maxSpillMemory = 4096

// spill remembers which API gave each conference its links, so that the
// links a retry asks for again name the same files (the two APIs name file
// types differently).
type spill struct {
	mu    sync.Mutex
	by    map[string]string
	order []string // oldest first, at most maxSpillMemory
}

// source is the link API of confUUID: the one it had, or for a new
// conference "recordinfo", unless record info's quota (once the gateway has
// said what it is: before, the client's cautious start makes every call
// wait) would keep the call waiting more than spillWait and downloadurls'
// would not keep it as long.
func (s *spill) source(confUUID string, l *limits) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src, ok := s.by[confUUID]; ok {
		return src
	}
	src := "recordinfo"
	now := time.Now()
	if ri := l.expectedWait("recordinfo", now); l.known("recordinfo") && ri > spillWait && l.expectedWait("downloadurls", now) < ri {
		src = "downloadurls"
	}
	if s.by == nil {
		s.by = make(map[string]string)
	}
	if len(s.order) >= maxSpillMemory {
		delete(s.by, s.order[0])
		s.order = s.order[1:]
	}
	s.by[confUUID] = src
	s.order = append(s.order, confUUID)
	return src
}
