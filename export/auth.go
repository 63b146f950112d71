package export

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"meetarchive/redact"
)

const (
	pathAppAuth     = "/v2/usg/acs/auth/appauth"
	pathAccountAuth = "/v1/usg/acs/auth/account"
	clientTypeAPI   = 72
	// signedRequestLife is how long a signed App ID request stays valid
	// (its expireTime).
	signedRequestLife = 10 * time.Minute
	// refreshAt is the share of a token's validPeriod after which it is
	// replaced (for validPeriods of 50 minutes or more that is at least 5
	// minutes before it expires; a 2 s token is replaced after 1.8 s).
	refreshShare = 0.9
)

// Sign computes the App ID signature: the lower-case hex HMAC-SHA256, keyed by
// appKey, of "appId:userId:expireTime:nonce", or
// "appId:corpId:userId:expireTime:nonce" when corpID is set.
func Sign(appKey, appID, corpID, userID string, expireTime int64, nonce string) string {
	msg := appID + ":"
	if corpID != "" {
		msg += corpID + ":"
	}
	msg += userID + ":" + strconv.FormatInt(expireTime, 10) + ":" + nonce
	m := hmac.New(sha256.New, []byte(appKey))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// AppAuthHeader is the Authorization header of an App ID authentication.
func AppAuthHeader(signature, appID string) string {
	return "HMAC-SHA256 signature=" + signature + ",access=" + base64.StdEncoding.EncodeToString([]byte(appID))
}

// newNonce returns 48 random lower-case hex characters.
func newNonce() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

type appAuthBody struct {
	AppID      string `json:"appId"`
	ClientType int    `json:"clientType"`
	ExpireTime int64  `json:"expireTime"`
	Nonce      string `json:"nonce"`
	UserID     string `json:"userId,omitempty"`
	CorpID     string `json:"corpId,omitempty"`
}

type accountAuthBody struct {
	Account    string `json:"account"`
	ClientType int    `json:"clientType"`
}

// tokenResponse is the part of an authentication answer the client uses.
type tokenResponse struct {
	AccessToken string  `json:"accessToken"`
	ValidPeriod flexInt `json:"validPeriod"` // seconds
	ExpireTime  flexInt `json:"expireTime"`  // epoch seconds
}

// token is the client's shared access token.
type token struct {
	value     string
	gen       uint64    // increments with every new token
	refreshAt time.Time // zero: never (pre-issued token, unknown lifetime)
	stale     bool      // a call said it is invalid
}

func (t token) usable(now time.Time) bool {
	return t.value != "" && !t.stale && (t.refreshAt.IsZero() || now.Before(t.refreshAt))
}

// authenticator owns the token: one for the whole client, one login in flight.
type authenticator struct {
	c  *Client
	sf singleflight.Group

	mu    sync.Mutex
	cur   token
	fatal error // a refused authentication: sticky
}

func (a *authenticator) canRefresh() bool {
	m := a.c.cfg.Credentials.Method()
	return m == "appid" || m == "account"
}

func (a *authenticator) snapshot() (token, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur, a.fatal
}

// get returns a usable token, logging in (once for all waiting goroutines)
// when there is none or it is due for refresh.
func (a *authenticator) get(ctx context.Context) (token, error) {
	t, fatal := a.snapshot()
	if fatal != nil {
		return token{}, fatal
	}
	if t.usable(time.Now()) {
		return t, nil
	}
	if !a.canRefresh() {
		if t.value == "" {
			return token{}, &authError{hint: "no credentials to authenticate with"}
		}
		// Pre-issued token marked stale by a 401: nothing to refresh it with.
		return token{}, a.setFatal(&authError{hint: "the pre-issued token (MEETARCHIVE_TOKEN) was refused: it may have expired; get a new one, or use MEETARCHIVE_APP_ID and MEETARCHIVE_APP_KEY"})
	}
	ch := a.sf.DoChan("login", func() (any, error) {
		// Another flight may have finished just before this one started.
		if t, fatal := a.snapshot(); fatal != nil {
			return token{}, fatal
		} else if t.usable(time.Now()) {
			return t, nil
		}
		// The login is shared: it must not fail because the goroutine that
		// happened to start it was cancelled.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.c.cfg.MaxElapsed+a.c.cfg.RequestTimeout)
		defer cancel()
		return a.login(lctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return token{}, r.Err
		}
		return r.Val.(token), nil
	case <-ctx.Done():
		return token{}, ctx.Err()
	}
}

// invalidate marks token generation gen stale (a call answered 401 with it).
// A newer token is left alone.
func (a *authenticator) invalidate(gen uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur.gen == gen {
		a.cur.stale = true
	}
}

func (a *authenticator) setFatal(err error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fatal == nil {
		a.fatal = err
	}
	return a.fatal
}

// login authenticates once (with the client's retries for 429/5xx/network)
// and stores the new token.
func (a *authenticator) login(ctx context.Context) (token, error) {
	cr := a.c.cfg.Credentials
	var sentAt time.Time
	r := &request{op: "auth", method: http.MethodPost}
	var hint string
	switch cr.Method() {
	case "appid":
		r.path = pathAppAuth
		hint = "check MEETARCHIVE_APP_ID and MEETARCHIVE_APP_KEY (and MEETARCHIVE_USER_ID, MEETARCHIVE_CORP_ID), and that this machine's clock is right (the signed request expires 10 minutes after it is made)"
		r.build = func() ([]byte, http.Header, error) {
			sentAt = time.Now()
			body := appAuthBody{
				AppID:      cr.AppID,
				ClientType: clientTypeAPI,
				ExpireTime: sentAt.Add(signedRequestLife).Unix(),
				Nonce:      newNonce(),
				UserID:     cr.UserID,
				CorpID:     cr.CorpID,
			}
			sig := Sign(cr.AppKey, cr.AppID, cr.CorpID, cr.UserID, body.ExpireTime, body.Nonce)
			redact.AddSession(sig)
			h := http.Header{}
			h.Set("Authorization", AppAuthHeader(sig, cr.AppID))
			h.Set("X-Token-Type", "LongTicket")
			b, err := json.Marshal(body)
			return b, h, err
		}
	case "account":
		r.path = pathAccountAuth
		hint = "check MEETARCHIVE_ACCOUNT and MEETARCHIVE_PASSWORD"
		r.build = func() ([]byte, http.Header, error) {
			sentAt = time.Now()
			h := http.Header{}
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cr.Account+":"+cr.Password)))
			b, err := json.Marshal(accountAuthBody{Account: cr.Account, ClientType: clientTypeAPI})
			return b, h, err
		}
	default:
		return token{}, &authError{hint: "no credentials to authenticate with"}
	}
	var resp tokenResponse
	err := a.c.do(ctx, r, &resp)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 && !ae.Throttled() {
			switch ae.StatusCode {
			case http.StatusPreconditionFailed:
				hint = "the account is disabled (412): ask the enterprise administrator to enable it; " + hint
			case http.StatusLocked:
				hint = "the account is locked (423), probably after repeated failed logins: wait, or ask the enterprise administrator to unlock it, before trying again; " + hint
			case http.StatusForbidden:
				hint = "the app or account may lack permission (403); " + hint
			case http.StatusNotFound:
				hint = "the authentication endpoint was not found (404): check --api (the API's base URL, " + DefaultBaseURL + " by default)"
			}
			return token{}, a.setFatal(&callError{err: &authError{cause: err, hint: hint}, attempts: Attempts(err)})
		}
		return token{}, err
	}
	if resp.AccessToken == "" {
		return token{}, &BadResponseError{Op: "auth", StatusCode: http.StatusOK, Reason: "no accessToken in the answer"}
	}
	redact.AddSession(resp.AccessToken)
	now := time.Now()
	t := token{value: resp.AccessToken}
	switch {
	case resp.ValidPeriod > 0:
		// validPeriod is relative: no clock skew. Count from the moment the
		// request left, which errs on the early side.
		t.refreshAt = sentAt.Add(secondsDuration(float64(resp.ValidPeriod) * refreshShare))
	case resp.ExpireTime > 0:
		if left := time.Unix(int64(resp.ExpireTime), 0).Sub(now); left > 0 {
			t.refreshAt = now.Add(time.Duration(float64(left) * refreshShare))
		} else {
			t.refreshAt = now.Add(time.Second) // server clock ahead: refresh soon
		}
	}
	a.mu.Lock()
	t.gen = a.cur.gen + 1
	a.cur = t
	a.mu.Unlock()
	a.c.stats.auths.Add(1)
	a.c.cfg.Logger.Debug("export: authenticated", "method", cr.Method(), "refreshIn", time.Until(t.refreshAt).Round(time.Millisecond))
	return t, nil
}
