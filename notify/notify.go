// Package notify tells people in their chat how a run ended: one JSON
// message, {"text": "..."}, posted to each incoming-webhook URL. Slack,
// Mattermost and Microsoft Teams (Office 365 connector) incoming webhooks
// all accept that shape.
//
// A webhook URL is a secret (whoever has it can post to the channel): it is
// registered with the redactor, and messages and errors name only its
// scheme and host. Delivery is bounded: a few tries per URL, all within one
// timeout, and it never decides the run's exit code; the caller logs a
// failure as a warning.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"meetarchive/redact"
)

// Defaults of a Sender.
const (
	// DefaultTimeout bounds a whole notification: every URL, every try.
	DefaultTimeout = 30 * time.Second
	// DefaultAttempts is the number of tries per URL, the first included.
	DefaultAttempts = 3
	// DefaultBackoff is the wait before the second try; it doubles after.
	DefaultBackoff = time.Second
)

// Message is what a webhook receives, as JSON.
type Message struct {
	Text string `json:"text"`
}

// Sender posts messages to webhooks.
type Sender struct {
	URLs     []string
	Timeout  time.Duration // the whole Send; 0 is DefaultTimeout
	Attempts int           // tries per URL; 0 is DefaultAttempts
	Backoff  time.Duration // wait before the second try, doubled after; 0 is DefaultBackoff
	Client   *http.Client  // nil: a client that follows no redirects
	// UserAgent is sent with each request ("" sends Go's default).
	UserAgent string
}

// CheckURL validates a webhook URL: http or https with a host, no user
// information. Its error never contains the URL (only its scheme and host).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http or https URL, not %q", u.Scheme)
	case u.Host == "":
		return errors.New("the URL has no host")
	case u.User != nil:
		return fmt.Errorf("%s: user information in the URL is not supported", Host(raw))
	}
	return nil
}

// Host is what may be shown of a webhook URL: its scheme and host.
func Host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "webhook"
	}
	return u.Scheme + "://" + u.Hostname() + portOf(u)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return ":" + p
	}
	return ""
}

// Register adds each URL (and its path and query, where the secret of a
// Slack or Teams webhook lives) to the redactor's secrets.
func Register(urls []string) {
	for _, raw := range urls {
		redact.Add(raw)
		if u, err := url.Parse(raw); err == nil {
			if rest := strings.TrimPrefix(u.RequestURI(), "/"); len(rest) >= 8 {
				redact.Add(rest)
			}
		}
	}
}

// Send posts m to every URL at once and waits for all of them, at most the
// timeout. The error joins one error per URL that was not delivered, each
// naming the URL by its scheme and host only.
func (s *Sender) Send(ctx context.Context, m Message) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify: encode the message: %w", err)
	}
	errs := make([]error, len(s.URLs))
	var wg sync.WaitGroup
	for i, u := range s.URLs {
		wg.Go(func() { errs[i] = s.post(ctx, u, body, timeout) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// post delivers body to one URL with bounded retries: network errors, 429
// and 5xx answers are tried again (Retry-After honoured when the time left
// allows it), other answers are final. Each try gets an equal share of the
// timeout, so that one that hangs leaves time for the next.
func (s *Sender) post(ctx context.Context, raw string, body []byte, timeout time.Duration) error {
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	backoff := s.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	client := s.Client
	if client == nil {
		client = defaultClient
	}
	perTry := timeout / time.Duration(attempts)
	var last error
	tries := 0
	for tries < attempts {
		tries++
		retry, wait, err := s.try(ctx, client, raw, body, perTry)
		if err == nil {
			return nil
		}
		last = err
		if !retry || tries == attempts {
			break
		}
		if wait <= 0 {
			wait = backoff << (tries - 1)
			wait = wait/2 + rand.N(wait/2+1) // jitter: several jobs do not retry in step
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			last = fmt.Errorf("%w; no time left for another try", err)
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("notify %s: %w (tries: %d)", Host(raw), last, tries)
		case <-t.C:
		}
	}
	return fmt.Errorf("notify %s: %w (tries: %d)", Host(raw), last, tries)
}

// try is one POST. It says whether another try may help and how long the
// server asked to wait (Retry-After), and returns errors without the URL.
func (s *Sender) try(ctx context.Context, client *http.Client, raw string, body []byte, perTry time.Duration) (retry bool, wait time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, perTry)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(body))
	if err != nil {
		return false, 0, errors.New("cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	if s.UserAgent != "" {
		req.Header.Set("User-Agent", s.UserAgent)
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, 0, describe(err)
	}
	defer resp.Body.Close()
	// A short answer is part of the error: Slack says "invalid_payload",
	// Mattermost and Teams a sentence.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, 0, nil
	}
	err = fmt.Errorf("answered %s", resp.Status)
	if t := strings.TrimSpace(string(snippet)); t != "" {
		err = fmt.Errorf("%w: %s", err, redact.Clip(strings.Join(strings.Fields(t), " "), 200))
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, retryAfter(resp.Header.Get("Retry-After")), err
	default:
		return false, 0, err
	}
}

// describe says what went wrong with a request, without its URL (which
// *url.Error would repeat in full).
func describe(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return errors.New("no answer before the time allowed for one try")
	case errors.Is(err, context.Canceled):
		return errors.New("cancelled")
	}
	return errors.New(redact.String(err.Error()))
}

// retryAfter reads a Retry-After header in seconds (0 when absent or a date).
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// defaultClient follows no redirects (a webhook that redirects is
// misconfigured, and a redirect could carry the message elsewhere) and takes
// its proxy from the environment like every other client of the tool.
var defaultClient = &http.Client{
	Transport: http.DefaultTransport,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}
