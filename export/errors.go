package export

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors callers branch on (errors.Is).
var (
	ErrAuth        = errors.New("authentication refused") // fatal: wrong app key, disabled/locked account
	ErrBadResponse = errors.New("bad response")           // non-JSON, HTML, wrong types, truncated, oversized
	ErrTruncated   = errors.New("media body truncated")
	ErrNotFound    = errors.New("conference not found") // MMC.111070005 / MMC.111072065 on details, links, record info, delete, history detail, attendee and control records
	// ErrNotPermitted: the API refused the caller (403, or
	// MMC.111070002 / MMC.111070010 with any status), e.g. attendee or
	// control records asked for by a user who is not an administrator.
	ErrNotPermitted = errors.New("not permitted")
	// ErrNotDeployed: the API does not exist in this deployment (404 with
	// APIG.0101 or without an error code), e.g. a private deployment
	// without the attendee or control records API.
	ErrNotDeployed = errors.New("API not deployed")

	ErrTimeout    = errors.New("request timed out") // a request (or its response headers) took longer than allowed
	ErrConnection = errors.New("connection failed") // refused, reset or closed connection
)

// Error codes of the Meeting API this package acts on.
const (
	CodeTokenInvalid   = "USG.000000004" // token invalid or expired (401)
	CodeMeetingMissing = "MMC.111070005" // meeting does not exist (400)
	CodeConfNotFound   = "MMC.111072065" // conference not found or auth failed (400)
	CodeThrottled      = "APIG.0308"     // the throttling threshold has been reached
	CodeNoPermission   = "MMC.111070002" // insufficient permissions
	CodeNoViewRight    = "MMC.111070010" // no permission to view the meeting
	CodeNoAPI          = "APIG.0101"     // the API does not exist (or is not published) in this deployment
)

// APIError is any non-2xx API answer (after retries).
type APIError struct {
	Op         string // "details", "downloadurls", "recordinfo", "list", "auth", "media", "delete", "history", "historydetail", "attendees", "ctlrecords"
	StatusCode int
	Code       string // error_code, e.g. "MMC.111070005", "USG.000000004", "APIG.0308"
	Message    string // error_msg (redacted)
	RequestID  string // body request_id or X-Request-Id header
	RetryAfter time.Duration
}

// Error reads like "export: details 400 MMC.111070005: meeting does not exist (request 1234)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("export: ")
	b.WriteString(e.Op)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	msg := e.Message
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.StatusCode))
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.RequestID != "" {
		b.WriteString(" (request ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for the "meeting does not exist"
// answers (MMC.111070005, MMC.111072065) of every API about one conference:
// details, downloadurls, record info, delete, history detail, attendee and
// control records; errors.Is(err, ErrNotPermitted) and ErrNotDeployed true
// for the refusals of any API call (not a login, not a media download).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		if e.Code != CodeMeetingMissing && e.Code != CodeConfNotFound {
			return false
		}
		switch e.Op {
		case "details", "downloadurls", "recordinfo", "delete", "historydetail", "attendees", "ctlrecords":
			return true
		}
	case ErrNotPermitted:
		return e.Op != "auth" && e.Op != "media" &&
			(e.StatusCode == http.StatusForbidden || e.Code == CodeNoPermission || e.Code == CodeNoViewRight)
	case ErrNotDeployed:
		return e.Op != "auth" && e.Op != "media" && e.StatusCode == http.StatusNotFound && (e.Code == "" || e.Code == CodeNoAPI)
	}
	return false
}

// Throttled reports whether the gateway refused the call for its rate.
func (e *APIError) Throttled() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.Code == CodeThrottled
}

func (e *APIError) retryable() bool {
	if e.Throttled() {
		return true
	}
	switch e.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// BadResponseError is an answer that could not be used: not JSON, an HTML page,
// wrong types, cut short or too large. It wraps ErrBadResponse (and ErrTruncated
// when the body ended before its Content-Length).
type BadResponseError struct {
	Op         string
	StatusCode int
	RequestID  string
	Reason     string // redacted
	truncated  bool
}

func (e *BadResponseError) Error() string {
	s := "export: " + e.Op + ": bad response"
	if e.StatusCode != 0 {
		s += " (status " + strconv.Itoa(e.StatusCode) + ")"
	}
	s += ": " + e.Reason
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// Unwrap gives ErrBadResponse, and ErrTruncated for a body cut short.
func (e *BadResponseError) Unwrap() []error {
	if e.truncated {
		return []error{ErrBadResponse, ErrTruncated}
	}
	return []error{ErrBadResponse}
}

// netError is a failed exchange: timeout or connection trouble. Its text
// never contains the URL (media URLs carry secrets).
type netError struct {
	op    string
	kind  string // its errorCode: CodeTimeout, CodeDNS, CodeRefused, CodeTLS; "" for another connection failure
	msg   string // redacted cause
	cause error
}

// code is the errorCode of the failure: timeout, dns, connection-refused,
// tls or (any other) connection.
func (e *netError) code() string {
	if e.kind == "" {
		return CodeConnection
	}
	return e.kind
}

// permanent: a TLS certificate that is not trusted; no retry helps.
func (e *netError) permanent() bool { return e.kind == CodeTLS }

// netWhat says what each code of a netError means, in its message.
var netWhat = map[string]string{
	CodeTimeout:    "timeout",
	CodeConnection: "connection",
	CodeDNS:        "host name does not resolve (dns)",
	CodeRefused:    "connection refused",
	CodeTLS:        "tls certificate not trusted",
}

func (e *netError) Error() string {
	what := netWhat[e.code()]
	if e.msg == "" {
		return "export: " + e.op + ": " + what
	}
	return "export: " + e.op + ": " + what + ": " + e.msg
}

func (e *netError) Timeout() bool { return e.kind == CodeTimeout }

// Unwrap gives ErrTimeout or ErrConnection, and the cause for connection errors
// (never a context error: a per-request timeout is not the caller's deadline).
func (e *netError) Unwrap() []error {
	if e.permanent() {
		return nil
	}
	if e.Timeout() {
		return []error{ErrTimeout}
	}
	if e.cause != nil {
		return []error{ErrConnection, e.cause}
	}
	return []error{ErrConnection}
}

// authError is a refused authentication: what went wrong and what to check.
type authError struct {
	cause error
	hint  string
}

func (e *authError) Error() string {
	s := "export: " + ErrAuth.Error()
	if e.cause != nil {
		s += ": " + strings.TrimPrefix(e.cause.Error(), "export: ")
	}
	if e.hint != "" {
		s += "; " + e.hint
	}
	return s
}

func (e *authError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrAuth}
	}
	return []error{ErrAuth, e.cause}
}

// callError carries how many tries a failed call made.
type callError struct {
	err      error
	attempts int
}

func (e *callError) Error() string {
	if e.attempts > 1 {
		return e.err.Error() + " (" + strconv.Itoa(e.attempts) + " attempts)"
	}
	return e.err.Error()
}

func (e *callError) Unwrap() error { return e.err }

// Attempts reports how many tries the failed call made (1 if unknown, 0 for nil).
func Attempts(err error) int {
	if err == nil {
		return 0
	}
	var ce *callError
	if errors.As(err, &ce) && ce.attempts > 0 {
		return ce.attempts
	}
	return 1
}

// ShouldRetry is THE retry decision: 429 (and APIG.0308), 500, 502, 503, 504,
// timeouts, connection resets and early EOFs, and truncated bodies are worth
// another try; a cancelled or expired context, a refused authentication, any
// other 4xx, and an unusable (non-JSON, HTML, oversized) answer are not.
// (Go's HTTP transport may itself replay an idempotent GET once when a
// reused keep-alive connection turns out to be closed before any answer.)
func ShouldRetry(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, ErrAuth) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.retryable()
	}
	var nerr *netError
	if errors.As(err, &nerr) {
		return !nerr.permanent()
	}
	if errors.Is(err, ErrTruncated) || errors.Is(err, ErrTimeout) || errors.Is(err, ErrConnection) {
		return true
	}
	if errors.Is(err, ErrBadResponse) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// The errorCodes ErrorCode gives besides the API's own error_code and
// "http-<status>": one definition, which callers compare against.
const (
	CodeAuth             = "auth"
	CodeBadRedirect      = "bad-redirect"
	CodeTruncated        = "truncated"
	CodeStalled          = "stalled"
	CodeTimeout          = "timeout"
	CodeConnection       = "connection"         // a connection failed: reset, closed, unreachable network
	CodeDNS              = "dns"                // the host name does not resolve
	CodeRefused          = "connection-refused" // nothing listens at the address (or a firewall refuses)
	CodeTLS              = "tls"                // the server's TLS certificate is not trusted
	CodeBadResponse      = "bad-response"
	CodeResponseMismatch = "response-mismatch"
	CodeTooManyPages     = "too-many-pages"
	CodeAmbiguousFiles   = "ambiguous-files"
	CodeInvalidConfUUID  = "invalid-input"
	CodeCancelled        = "cancelled"
	CodeOther            = "error" // an error the client cannot name
)

// ErrorCode gives the manifest's errorCode for err: the API's error_code if
// any, else one of the Code constants above or "http-<status>" ("" for nil).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return CodeCancelled
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.code() // response-mismatch, bad-response, too-many-pages, invalid-input
	}
	var ae *APIError
	hasAPI := errors.As(err, &ae)
	switch {
	case hasAPI && ae.Code != "":
		return ae.Code
	case errors.Is(err, ErrAuth):
		return CodeAuth
	case errors.Is(err, ErrBadRedirect):
		return CodeBadRedirect
	case hasAPI:
		return "http-" + strconv.Itoa(ae.StatusCode)
	case errors.Is(err, ErrStalled):
		return CodeStalled
	case errors.Is(err, ErrTruncated):
		return CodeTruncated
	}
	var nerr *netError
	if errors.As(err, &nerr) {
		return nerr.code()
	}
	switch {
	case errors.Is(err, ErrTimeout):
		return CodeTimeout
	case errors.Is(err, ErrBadResponse):
		return CodeBadResponse
	case errors.Is(err, ErrConnection):
		return CodeConnection
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return CodeTimeout
		}
		return CodeConnection
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return CodeConnection
	}
	return CodeOther
}
