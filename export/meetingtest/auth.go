package meetingtest

// # Authentication
//
// App ID login verifies the hex HMAC-SHA256 (upper or lower case), keyed by
// the app key, over appId:userId:expireTime:nonce (appId:corpId:userId:
// expireTime:nonce when corpId is set), from
// "Authorization: HMAC-SHA256 signature=<hex>,access=<base64(appId)>" or the
// older form with signature= only (access, when present, must decode to the
// appId). The body must have clientType 72, a nonce of 32 to 64 characters
// and an expireTime (epoch seconds) not in the past (0 = never). A malformed
// request answers 400 USG.000000001; a wrong app ID, signature, account or
// password, or an expired signed request, 401 USG.000000005 (both codes are
// the simulator's own: the vendor does not document them). Account login
// takes "Authorization: Basic base64(account:password)" and
// {"account","clientType":72}, as the official Go SDK sends it.
//
// Both answer accessToken, validPeriod (s), expireTime (epoch s), createTime
// (epoch ms), refreshToken, refreshValidPeriod, refreshExpireTime,
// refreshCreateTime, tokenType 0, clientType 72, user{...} and the other
// fields of the SDK's token response. Tokens live Config.TokenLifetime
// (refresh tokens twice that). One user (app ID + corp ID + user ID, or
// account) holds at most Config.MaxTokensPerUser (64) live tokens: the next
// login silently invalidates the oldest (Counters.TokensEvicted), which is
// what hurts a client that logs in too often.
//
// Every other API call needs X-Access-Token; a missing, unknown, expired or
// evicted token answers 401 USG.000000004 (Counters.Unauthorized). Logout
// (DELETE /v1/usg/acs/token, the official Go SDK's DeleteToken) kills the
// token it carries, and its refresh token, and answers 200 {}.
//
// The official Go SDK (huaweicloud-sdk-go-v3 services/meeting/v1) implements
// account login only (MeetingCredentials); it sends Content-Type
// application/json on every call, GETs and DELETEs included, drops the "="
// of an empty query value ("?confUUID"), encodes spaces as %20 and commas as
// %2C, and ends JSON bodies with a newline; all of that is accepted.

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ClientTypeAPI is the clientType every login must send.
const ClientTypeAPI = 72

type accessToken struct {
	token, refresh  string
	userKey, userID string
	account         string
	created         time.Time
	expires         time.Time
	refreshExpires  time.Time
	dead            bool
}

// Sign returns the lower-case hex HMAC-SHA256 signature of an App ID login,
// keyed by the app key, over appId:userId:expireTime:nonce
// (appId:corpId:userId:expireTime:nonce when corpID is not empty).
func Sign(appKey, appID, corpID, userID string, expireTime int64, nonce string) string {
	mac := hmac.New(sha256.New, []byte(appKey))
	mac.Write([]byte(signingString(appID, corpID, userID, expireTime, nonce)))
	return hex.EncodeToString(mac.Sum(nil))
}

func signingString(appID, corpID, userID string, expireTime int64, nonce string) string {
	exp := strconv.FormatInt(expireTime, 10)
	if corpID != "" {
		return appID + ":" + corpID + ":" + userID + ":" + exp + ":" + nonce
	}
	return appID + ":" + userID + ":" + exp + ":" + nonce
}

// parseHMACAuth reads "HMAC-SHA256 signature=<hex>,access=<base64>" (access
// optional); it returns ok false when the header is not of that form.
func parseHMACAuth(h string) (sig, access string, hasAccess, ok bool) {
	scheme, params, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "HMAC-SHA256") {
		return "", "", false, false
	}
	for _, p := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "signature":
			sig = strings.TrimSpace(v)
		case "access":
			access, hasAccess = strings.TrimSpace(v), true
		}
	}
	return sig, access, hasAccess, sig != ""
}

func (s *Server) authFailed(status int, code, msg, reqID string) response {
	s.mu.Lock()
	s.ctr.AuthFailed++
	s.mu.Unlock()
	return errorResponse(status, code, msg, reqID)
}

func (s *Server) handleAppAuth(rq *apiRequest) response {
	var req struct {
		AppID      string `json:"appId"`
		ClientType *int   `json:"clientType"`
		ExpireTime *int64 `json:"expireTime"`
		Nonce      string `json:"nonce"`
		UserID     string `json:"userId"`
		CorpID     string `json:"corpId"`
	}
	if err := json.Unmarshal(rq.body, &req); err != nil {
		return s.authFailed(http.StatusBadRequest, CodeAuthBadRequest, "request body is not valid JSON", rq.id)
	}
	switch {
	case req.AppID == "":
		return s.authFailed(http.StatusBadRequest, CodeAuthBadRequest, "appId is required", rq.id)
	case req.ClientType == nil || *req.ClientType != ClientTypeAPI:
		return s.authFailed(http.StatusBadRequest, CodeAuthBadRequest, "clientType must be 72", rq.id)
	case req.ExpireTime == nil:
		return s.authFailed(http.StatusBadRequest, CodeAuthBadRequest, "expireTime is required", rq.id)
	case len(req.Nonce) < 32 || len(req.Nonce) > 64:
		return s.authFailed(http.StatusBadRequest, CodeAuthBadRequest, "nonce must be 32 to 64 characters", rq.id)
	}
	sigHex, access, hasAccess, ok := parseHMACAuth(rq.r.Header.Get("Authorization"))
	if !ok {
		return s.authFailed(http.StatusUnauthorized, CodeAuthFailed, "authorization header must be HMAC-SHA256 signature=...", rq.id)
	}
	if hasAccess {
		a, err := base64.StdEncoding.DecodeString(access)
		if err != nil || string(a) != req.AppID {
			return s.authFailed(http.StatusUnauthorized, CodeAuthFailed, "access does not match appId", rq.id)
		}
	}
	if subtle.ConstantTimeCompare([]byte(req.AppID), []byte(s.cfg.AppID)) != 1 {
		return s.authFailed(http.StatusUnauthorized, CodeAuthFailed, "unknown appId", rq.id)
	}
	got, err := hex.DecodeString(sigHex)
	want, _ := hex.DecodeString(Sign(s.cfg.AppKey, req.AppID, req.CorpID, req.UserID, *req.ExpireTime, req.Nonce))
	if err != nil || !hmac.Equal(got, want) {
		return s.authFailed(http.StatusUnauthorized, CodeAuthFailed, "signature verification failed", rq.id)
	}
	if *req.ExpireTime != 0 && *req.ExpireTime < rq.now.Unix() {
		return s.authFailed(http.StatusUnauthorized, CodeAuthFailed, "the signed request has expired", rq.id)
	}
	s.mu.Lock()
	t := s.issueTokenLocked("app\x00"+req.AppID+"\x00"+req.CorpID+"\x00"+req.UserID, req.UserID, "", rq.now)
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, s.tokenDoc(t, rq))
}

func (s *Server) handleAccountAuth(rq *apiRequest) response {
	h := strings.TrimSpace(rq.r.Header.Get("Authorization"))
	scheme, cred, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return s.authFailed(http.StatusUnauthorized, CodeAuthFailed, "authorization header must be Basic", rq.id)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	account, password, found := strings.Cut(string(raw), ":")
	if err != nil || !found {
		return s.authFailed(http.StatusUnauthorized, CodeAuthFailed, "malformed Basic credentials", rq.id)
	}
	var req struct {
		Account    string `json:"account"`
		ClientType *int   `json:"clientType"`
	}
	if err := json.Unmarshal(rq.body, &req); err != nil {
		return s.authFailed(http.StatusBadRequest, CodeAuthBadRequest, "request body is not valid JSON", rq.id)
	}
	if req.ClientType == nil || *req.ClientType != ClientTypeAPI {
		return s.authFailed(http.StatusBadRequest, CodeAuthBadRequest, "clientType must be 72", rq.id)
	}
	if req.Account != "" && req.Account != account {
		return s.authFailed(http.StatusBadRequest, CodeAuthBadRequest, "account does not match the Authorization header", rq.id)
	}
	okAcc := subtle.ConstantTimeCompare([]byte(account), []byte(s.cfg.Account))
	okPwd := subtle.ConstantTimeCompare([]byte(password), []byte(s.cfg.Password))
	if okAcc&okPwd != 1 {
		return s.authFailed(http.StatusUnauthorized, CodeAuthFailed, "account or password is incorrect", rq.id)
	}
	s.mu.Lock()
	t := s.issueTokenLocked("account\x00"+account, "", account, rq.now)
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, s.tokenDoc(t, rq))
}

// handleValidate: POST /v1/usg/acs/token/validate {"token","needGenNewToken"}.
func (s *Server) handleValidate(rq *apiRequest) response {
	var req struct {
		Token           string `json:"token"`
		NeedGenNewToken bool   `json:"needGenNewToken"`
	}
	if err := json.Unmarshal(rq.body, &req); err != nil {
		return errorResponse(http.StatusBadRequest, CodeAuthBadRequest, "request body is not valid JSON", rq.id)
	}
	s.mu.Lock()
	t := s.liveTokenLocked(req.Token, rq.now)
	if t != nil && req.NeedGenNewToken {
		t = s.issueTokenLocked(t.userKey, t.userID, t.account, rq.now)
	}
	s.mu.Unlock()
	if t == nil {
		return errorResponse(http.StatusUnauthorized, CodeTokenInvalid, "the access token is invalid or has expired", rq.id)
	}
	return jsonResponse(http.StatusOK, s.tokenDoc(t, rq))
}

// handleRefresh: PUT /v1/usg/acs/token with X-Access-Token holding either the
// access token or the refresh token (sources disagree: both are accepted).
func (s *Server) handleRefresh(rq *apiRequest) response {
	h := rq.r.Header.Get("X-Access-Token")
	s.mu.Lock()
	t := s.liveTokenLocked(h, rq.now)
	if t == nil {
		if r := s.refresh[h]; r != nil && !r.dead && rq.now.Before(r.refreshExpires) {
			t = r
		}
	}
	if t != nil {
		t = s.issueTokenLocked(t.userKey, t.userID, t.account, rq.now)
	}
	s.mu.Unlock()
	if t == nil {
		return errorResponse(http.StatusUnauthorized, CodeTokenInvalid, "the token is invalid or has expired", rq.id)
	}
	return jsonResponse(http.StatusOK, s.tokenDoc(t, rq))
}

// handleLogout: DELETE /v1/usg/acs/token (the SDK's DeleteToken) deletes the
// access token in X-Access-Token (already checked live by the router); its
// refresh token dies with it. The vendor documents no response body: {}.
func (s *Server) handleLogout(rq *apiRequest) response {
	s.mu.Lock()
	if t := s.tokens[rq.r.Header.Get("X-Access-Token")]; t != nil {
		s.killLocked(t)
	}
	s.mu.Unlock()
	return response{status: http.StatusOK, body: []byte("{}")}
}

// issueTokenLocked issues an access token to a user, first dropping the
// user's dead tokens and, at the cap, invalidating the oldest live one.
func (s *Server) issueTokenLocked(userKey, userID, account string, now time.Time) *accessToken {
	var live []*accessToken
	for _, t := range s.userTokens[userKey] {
		if !t.dead && now.Before(t.expires) {
			live = append(live, t)
		} else {
			s.killLocked(t)
		}
	}
	for len(live) >= s.cfg.MaxTokensPerUser {
		s.killLocked(live[0])
		s.ctr.TokensEvicted++
		live = live[1:]
	}
	t := &accessToken{
		token: "stb" + randomHex(32), refresh: "rtk" + randomHex(32),
		userKey: userKey, userID: userID, account: account,
		created: now, expires: now.Add(s.cfg.TokenLifetime), refreshExpires: now.Add(2 * s.cfg.TokenLifetime),
	}
	s.tokens[t.token] = t
	s.refresh[t.refresh] = t
	s.userTokens[userKey] = append(live, t)
	s.ctr.TokensIssued++
	return t
}

func (s *Server) killLocked(t *accessToken) {
	t.dead = true
	delete(s.tokens, t.token)
	delete(s.refresh, t.refresh)
}

func (s *Server) liveTokenLocked(token string, now time.Time) *accessToken {
	t := s.tokens[token]
	if t == nil || t.dead {
		return nil
	}
	if !now.Before(t.expires) {
		delete(s.tokens, token) // its refresh token may still be used
		return nil
	}
	return t
}

// checkToken validates an X-Access-Token and returns its user ID.
func (s *Server) checkToken(token string, now time.Time) (string, bool) {
	if token == "" {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.liveTokenLocked(token, now)
	if t == nil {
		return "", false
	}
	return t.userID, true
}

type tokenDoc struct {
	AccessToken        string   `json:"accessToken"`
	TokenIP            string   `json:"tokenIp"`
	ValidPeriod        int64    `json:"validPeriod"`
	ExpireTime         int64    `json:"expireTime"`
	CreateTime         int64    `json:"createTime"`
	User               userInfo `json:"user"`
	ClientType         int      `json:"clientType"`
	ForceLoginInd      int      `json:"forceLoginInd"`
	FirstLogin         bool     `json:"firstLogin"`
	PwdExpired         bool     `json:"pwdExpired"`
	DaysPwdAvailable   int      `json:"daysPwdAvailable"`
	DelayDelete        bool     `json:"delayDelete"`
	TokenType          int      `json:"tokenType"`
	RefreshToken       string   `json:"refreshToken"`
	RefreshValidPeriod int64    `json:"refreshValidPeriod"`
	RefreshExpireTime  int64    `json:"refreshExpireTime"`
	RefreshCreateTime  int64    `json:"refreshCreateTime"`
}

type userInfo struct {
	UserID         string `json:"userId"`
	UcloginAccount string `json:"ucloginAccount"`
	Name           string `json:"name"`
	CompanyID      string `json:"companyId"`
	AppID          string `json:"appId,omitempty"`
	UserType       int    `json:"userType"`
	AdminType      int    `json:"adminType"`
	Status         int    `json:"status"`
	CorpType       int    `json:"corpType"`
}

func (s *Server) tokenDoc(t *accessToken, rq *apiRequest) tokenDoc {
	user := userInfo{UserID: t.userID, UcloginAccount: t.account, Name: "Simulated admin", CompanyID: "sim-corp", UserType: 2, AdminType: 0, CorpType: 6}
	if t.account == "" {
		user.AppID = s.cfg.AppID
		if user.UserID == "" {
			user.UcloginAccount = "admin@" + s.cfg.AppID
		} else {
			user.UcloginAccount = t.userID
			user.AdminType = 2
			user.Name = t.userID
		}
	}
	host, _, _ := net.SplitHostPort(rq.r.RemoteAddr)
	return tokenDoc{
		AccessToken: t.token, TokenIP: host,
		ValidPeriod: int64(t.expires.Sub(rq.now) / time.Second), ExpireTime: t.expires.Unix(), CreateTime: t.created.UnixMilli(),
		User: user, ClientType: ClientTypeAPI, DaysPwdAvailable: 90, TokenType: 0,
		RefreshToken: t.refresh, RefreshValidPeriod: int64(t.refreshExpires.Sub(t.created) / time.Second),
		RefreshExpireTime: t.refreshExpires.Unix(), RefreshCreateTime: t.created.UnixMilli(),
	}
}
