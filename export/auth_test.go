package export

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The expected values were computed by hand, outside Go (Python's hmac module):
// hmac.new(key, msg, hashlib.sha256).hexdigest().
func TestSignVector(t *testing.T) {
	tests := []struct {
		name                              string
		key, appID, corpID, userID, nonce string
		expire                            int64
		want                              string
	}{
		{
			name: "empty user keeps the colons", key: "demo-app-key", appID: "meetarchive-demo",
			expire: 1700000600, nonce: "0123456789abcdef0123456789abcdef",
			want: "61750c16d86a3ebbb8a8db14af4931e70841a03ee65dba38a9aa10ba8c4142f5",
		},
		{
			name: "service provider with corp", key: "k3y", appID: "app1", corpID: "corp9", userID: "user7",
			expire: 1700000600, nonce: "nonce-nonce-nonce-nonce-nonce-0001",
			want: "70a73a4e2a8022e13f7e38122d6a5df6391c1102cb8091593622562d1450f120",
		},
		{
			name: "user, never expiring", key: "k3y", appID: "app1", userID: "user7",
			expire: 0, nonce: "nonce-nonce-nonce-nonce-nonce-0001",
			want: "4094d4a1a8fee674aa75082f4db2e5726ec3eb99764455bee4659973214711b6",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sign(tt.key, tt.appID, tt.corpID, tt.userID, tt.expire, tt.nonce)
			if got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
	if got, want := AppAuthHeader("abc", "meetarchive-demo"), "HMAC-SHA256 signature=abc,access=bWVldGFyY2hpdmUtZGVtbw=="; got != want {
		t.Errorf("AppAuthHeader = %q, want %q", got, want)
	}
}

// appAuthServer checks App ID logins like the real service and issues tokens
// of the given validPeriod; it answers details calls for live tokens.
type appAuthServer struct {
	t           *testing.T
	key         string
	validPeriod int
	logins      atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	loginDelay  time.Duration
	mu          sync.Mutex
	live        map[string]time.Time
	rejectAll   bool // refuse every token (even fresh ones)
}

func (s *appAuthServer) handler(w http.ResponseWriter, r *http.Request) {
	t := s.t
	switch r.URL.Path {
	case pathAppAuth:
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for {
			m := s.maxInFlight.Load()
			if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		s.logins.Add(1)
		time.Sleep(s.loginDelay)
		if r.Method != http.MethodPost {
			t.Errorf("login method %s", r.Method)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json; charset=UTF-8" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := r.Header.Get("X-Token-Type"); got != "LongTicket" {
			t.Errorf("X-Token-Type = %q", got)
		}
		var body struct {
			AppID      string  `json:"appId"`
			ClientType int     `json:"clientType"`
			ExpireTime int64   `json:"expireTime"`
			Nonce      string  `json:"nonce"`
			UserID     *string `json:"userId"`
		}
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("login body %s: %v", raw, err)
		}
		if body.ClientType != 72 {
			t.Errorf("clientType = %d, want 72", body.ClientType)
		}
		if l := len(body.Nonce); l < 32 || l > 64 {
			t.Errorf("nonce length %d", l)
		}
		if d := time.Until(time.Unix(body.ExpireTime, 0)); d < 9*time.Minute || d > 11*time.Minute {
			t.Errorf("expireTime in %v, want about 10 minutes", d)
		}
		uid := ""
		if body.UserID != nil {
			uid = *body.UserID
		}
		m := hmac.New(sha256.New, []byte(s.key))
		fmt.Fprintf(m, "%s:%s:%d:%s", body.AppID, uid, body.ExpireTime, body.Nonce)
		want := "HMAC-SHA256 signature=" + hex.EncodeToString(m.Sum(nil)) + ",access=" + base64.StdEncoding.EncodeToString([]byte(body.AppID))
		if r.Header.Get("Authorization") != want {
			writeAPIError(w, http.StatusUnauthorized, "USG.000000005", "signature check failed")
			return
		}
		tok := fmt.Sprintf("tok-%d-%d", s.logins.Load(), time.Now().UnixNano())
		s.mu.Lock()
		s.live[tok] = time.Now().Add(time.Duration(s.validPeriod) * time.Second)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "validPeriod": s.validPeriod,
			"expireTime": time.Now().Unix() + int64(s.validPeriod), "refreshToken": "rt", "user": map[string]any{"x": 1}})
	case pathDetails:
		tok := r.Header.Get("X-Access-Token")
		s.mu.Lock()
		exp, ok := s.live[tok]
		s.mu.Unlock()
		if !ok || time.Now().After(exp) || s.rejectAll {
			writeAPIError(w, http.StatusUnauthorized, CodeTokenInvalid, "token invalid or expired")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"confUUID": r.URL.Query().Get("confUUID"), "available": true, "isDecodeFinish": true})
	default:
		http.NotFound(w, r)
	}
}

func newAppAuthServer(t *testing.T, key string, validPeriod int) *appAuthServer {
	return &appAuthServer{t: t, key: key, validPeriod: validPeriod, live: map[string]time.Time{}}
}

func TestAppIDAuthenticate(t *testing.T) {
	as := newAppAuthServer(t, "the-app-key", 3600)
	srv := server(t, as.handler)
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) {
		c.Credentials = Credentials{AppID: "my-app", AppKey: "the-app-key"}
	})
	ctx := ctxT(t)
	if err := c.Authenticate(ctx); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	for i := range 5 {
		if _, err := c.Details(ctx, fmt.Sprintf("%032x", i)); err != nil {
			t.Fatalf("Details: %v", err)
		}
	}
	if got := as.logins.Load(); got != 1 {
		t.Errorf("logins = %d, want 1 (one token for the whole client)", got)
	}
	if got := c.Stats().Auths; got != 1 {
		t.Errorf("Stats().Auths = %d, want 1", got)
	}
}

func TestAccountAuthenticate(t *testing.T) {
	var gotAuth, gotBody string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != pathAccountAuth {
			http.NotFound(w, r)
			return
		}
		gotAuth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		writeJSON(w, http.StatusOK, map[string]any{"accessToken": "acc-token-1", "validPeriod": "3600"})
	})
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) {
		c.Credentials = Credentials{Account: "alice@example.com", Password: "s3cret:pw"}
	})
	if err := c.Authenticate(ctxT(t)); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice@example.com:s3cret:pw")); gotAuth != want {
		t.Errorf("Authorization = %q, want %q", gotAuth, want)
	}
	if want := `{"account":"alice@example.com","clientType":72}`; gotBody != want {
		t.Errorf("body = %s, want %s", gotBody, want)
	}
}

func TestAuthRefused(t *testing.T) {
	tests := []struct {
		status   int
		code     string
		wantHint string
	}{
		{http.StatusUnauthorized, "USG.000000005", "MEETARCHIVE_APP_KEY"},
		{http.StatusBadRequest, "USG.000000001", "MEETARCHIVE_APP_ID"},
		{http.StatusForbidden, "USG.000000006", "permission"},
		{http.StatusPreconditionFailed, "USG.000000007", "disabled"},
		{http.StatusLocked, "USG.000000008", "locked"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			var logins atomic.Int64
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				logins.Add(1)
				// A server that echoes what it got must not make us leak it.
				writeAPIError(w, tt.status, tt.code, "refused: "+r.Header.Get("Authorization")+" key=the-app-key-123")
			})
			c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) {
				c.Credentials = Credentials{AppID: "my-app", AppKey: "the-app-key-123"}
			})
			err := c.Authenticate(ctxT(t))
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("Authenticate error = %v, want ErrAuth", err)
			}
			if ShouldRetry(err) {
				t.Errorf("ShouldRetry(auth refused) = true")
			}
			if got := ErrorCode(err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantHint) {
				t.Errorf("message %q does not say what to check (%s)", msg, tt.wantHint)
			}
			mustNotContain(t, "auth error", msg, "the-app-key-123")
			if strings.Contains(msg, "signature=") && !strings.Contains(msg, "signature=REDACTED") {
				t.Errorf("message shows the signature: %s", msg)
			}
			// Sticky: no second login, every call fails at once.
			if _, err := c.Details(ctxT(t), testConfUUID); !errors.Is(err, ErrAuth) {
				t.Errorf("Details after refusal: %v, want ErrAuth", err)
			}
			if err := c.Authenticate(ctxT(t)); !errors.Is(err, ErrAuth) {
				t.Errorf("second Authenticate: %v, want ErrAuth", err)
			}
			if got := logins.Load(); got != 1 {
				t.Errorf("login requests = %d, want 1", got)
			}
		})
	}
}

func TestAuthRetriesServerErrors(t *testing.T) {
	var logins atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if logins.Add(1) < 3 {
			writeAPIError(w, http.StatusServiceUnavailable, "USG.000000500", "busy")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"accessToken": "tok-after-retry", "validPeriod": 3600})
	})
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) {
		c.Credentials = Credentials{Account: "a", Password: "p"}
	})
	if err := c.Authenticate(ctxT(t)); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if got := logins.Load(); got != 3 {
		t.Errorf("logins = %d, want 3", got)
	}
}

// An expired token (401 USG.000000004) is replaced once and the call retried;
// however many goroutines hit it at once, one login is in flight.
func TestRefreshOn401Singleflight(t *testing.T) {
	as := newAppAuthServer(t, "k", 3600)
	as.loginDelay = 100 * time.Millisecond
	srv := server(t, as.handler)
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) {
		c.Credentials = Credentials{AppID: "a", AppKey: "k"}
	})
	ctx := ctxT(t)
	if err := c.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	// The server forgets every token: all workers get 401 at once.
	as.mu.Lock()
	clear(as.live)
	as.mu.Unlock()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			if _, err := c.Details(ctx, fmt.Sprintf("%032x", i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Details: %v", err)
	}
	if got := as.logins.Load(); got != 2 {
		t.Errorf("logins = %d, want 2 (initial + one refresh)", got)
	}
	if got := as.maxInFlight.Load(); got != 1 {
		t.Errorf("logins in flight at once = %d, want 1", got)
	}
}

func TestRefreshBeforeExpiry(t *testing.T) {
	as := newAppAuthServer(t, "k", 1) // 1 s tokens: refreshed after 0.9 s
	srv := server(t, as.handler)
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) {
		c.Credentials = Credentials{AppID: "a", AppKey: "k"}
	})
	// A minute is only a safety net: the third login comes after about
	// 1.8 s on an idle machine, later on a busy one, never asserted on.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	for as.logins.Load() < 3 {
		if ctx.Err() != nil {
			t.Fatalf("logins = %d after %v, want 3 (the client logs in again before each 1 s token expires)", as.logins.Load(), time.Since(start).Round(time.Millisecond))
		}
		if _, err := c.Details(ctx, testConfUUID); err != nil {
			t.Fatalf("Details: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Refreshed at 0.9 s: the first login and at most one per 0.9 s since,
	// however long a busy machine made the calls.
	got, el := as.logins.Load(), time.Since(start)
	if most := 1 + int64(el/(900*time.Millisecond)); got > most {
		t.Errorf("logins over %v with 1 s tokens = %d, want at most %d", el.Round(time.Millisecond), got, most)
	}
}

func TestRefreshedTokenAlsoRejected(t *testing.T) {
	as := newAppAuthServer(t, "k", 3600)
	as.rejectAll = true
	srv := server(t, as.handler)
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) {
		c.Credentials = Credentials{AppID: "a", AppKey: "k"}
	})
	_, err := c.Details(ctxT(t), testConfUUID)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if got := as.logins.Load(); got != 2 {
		t.Errorf("logins = %d, want 2 (first token, one refresh)", got)
	}
	if got := Attempts(err); got != 2 {
		t.Errorf("Attempts = %d, want 2", got)
	}
}

func TestPreissuedTokenRefused(t *testing.T) {
	var calls atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if got := r.Header.Get("X-Access-Token"); got != testToken {
			t.Errorf("X-Access-Token = %q", got)
		}
		writeAPIError(w, http.StatusUnauthorized, CodeTokenInvalid, "token "+testToken+" expired")
	})
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
	if err := c.Authenticate(ctxT(t)); err != nil {
		t.Fatalf("Authenticate with a pre-issued token: %v", err)
	}
	_, err := c.Details(ctxT(t), testConfUUID)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "MEETARCHIVE_TOKEN") {
		t.Fatalf("err = %v, want ErrAuth naming MEETARCHIVE_TOKEN", err)
	}
	mustNotContain(t, "error", err.Error(), testToken)
	_, _ = c.Details(ctxT(t), testConfUUID2)
	if got := calls.Load(); got != 1 {
		t.Errorf("calls = %d, want 1 (refusal is sticky)", got)
	}
}
