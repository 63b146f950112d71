package meetingtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The expected signatures were computed independently with
//
//	printf '%s' 'meetarchive-demo::0:0123456789abcdef0123456789abcdef' | openssl dgst -sha256 -hmac 'demo-app-key'
//
// and so on for each row.
func TestSignVectors(t *testing.T) {
	tests := []struct {
		name                       string
		key, appID, corpID, userID string
		expire                     int64
		nonce                      string
		want                       string
	}{
		{"no user", "demo-app-key", "meetarchive-demo", "", "", 0, "0123456789abcdef0123456789abcdef",
			"44b7d858c64e2dd9aee3a4892bcfad489f48146cf29eff4fa41c9cbf13c7c605"},
		{"user", "demo-app-key", "meetarchive-demo", "", "bob", 4102444800, "0123456789abcdef0123456789abcdef",
			"d0d3494cc46d550b0038ead4d9df187cc626a4c70ea22184a5a800b45a832327"},
		{"corp", "k3y", "app1", "corp9", "alice", 4102444800, "abcdefghijklmnopqrstuvwxyz0123456789ABCD",
			"96d0ed530b9ec18119fd1f446ae9c408db9b48d35513f5c74656e7c1806f2f25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sign(tt.key, tt.appID, tt.corpID, tt.userID, tt.expire, tt.nonce); got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAppAuth(t *testing.T) {
	clock := newFakeClock()
	s := Start(t, Config{Now: clock.Now, TokenLifetime: 2 * time.Hour})
	now := clock.Now().Unix()
	access := base64.StdEncoding.EncodeToString([]byte(DefaultAppID))
	body := func(m map[string]any) string {
		base := map[string]any{"appId": DefaultAppID, "clientType": 72, "expireTime": now + 600, "nonce": testNonce, "userId": ""}
		for k, v := range m {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		b, _ := json.Marshal(base)
		return string(b)
	}
	good := Sign(DefaultAppKey, DefaultAppID, "", "", now+600, testNonce)
	tests := []struct {
		name   string
		body   string
		authz  string
		status int
		code   string
	}{
		// The hand-computed vector: expireTime 0 (never), empty userId.
		{"hand vector lower hex with access", body(map[string]any{"expireTime": 0}),
			"HMAC-SHA256 signature=44b7d858c64e2dd9aee3a4892bcfad489f48146cf29eff4fa41c9cbf13c7c605,access=" + access, 200, ""},
		{"hand vector upper hex old form", body(map[string]any{"expireTime": 0}),
			"HMAC-SHA256 signature=44B7D858C64E2DD9AEE3A4892BCFAD489F48146CF29EFF4FA41C9CBF13C7C605", 200, ""},
		{"hand vector with user", body(map[string]any{"expireTime": 4102444800, "userId": "bob"}),
			"HMAC-SHA256 signature=d0d3494cc46d550b0038ead4d9df187cc626a4c70ea22184a5a800b45a832327,access=" + access, 200, ""},
		{"signed now+10min", body(nil), "HMAC-SHA256 signature=" + good + ",access=" + access, 200, ""},
		{"bad signature", body(nil), "HMAC-SHA256 signature=" + strings.Repeat("ab", 32) + ",access=" + access, 401, CodeAuthFailed},
		{"signature not hex", body(nil), "HMAC-SHA256 signature=zz,access=" + access, 401, CodeAuthFailed},
		{"signature by another key", body(nil), "HMAC-SHA256 signature=" + Sign("other-key", DefaultAppID, "", "", now+600, testNonce), 401, CodeAuthFailed},
		{"signed other userId", body(map[string]any{"userId": "eve"}), "HMAC-SHA256 signature=" + good, 401, CodeAuthFailed},
		{"access of another app", body(nil), "HMAC-SHA256 signature=" + good + ",access=" + base64.StdEncoding.EncodeToString([]byte("x")), 401, CodeAuthFailed},
		{"unknown app", body(map[string]any{"appId": "nope"}), "HMAC-SHA256 signature=" + Sign(DefaultAppKey, "nope", "", "", now+600, testNonce), 401, CodeAuthFailed},
		{"no authorization", body(nil), "", 401, CodeAuthFailed},
		{"basic instead of hmac", body(nil), "Basic " + access, 401, CodeAuthFailed},
		{"expired signed request", body(map[string]any{"expireTime": now - 1}),
			"HMAC-SHA256 signature=" + Sign(DefaultAppKey, DefaultAppID, "", "", now-1, testNonce), 401, CodeAuthFailed},
		{"clientType 0", body(map[string]any{"clientType": 0}), "HMAC-SHA256 signature=" + good, 400, CodeAuthBadRequest},
		{"clientType missing", body(map[string]any{"clientType": nil}), "HMAC-SHA256 signature=" + good, 400, CodeAuthBadRequest},
		{"nonce 31", body(map[string]any{"nonce": testNonce[:31]}), "HMAC-SHA256 signature=" + Sign(DefaultAppKey, DefaultAppID, "", "", now+600, testNonce[:31]), 400, CodeAuthBadRequest},
		{"nonce 65", body(map[string]any{"nonce": strings.Repeat("n", 65)}), "HMAC-SHA256 signature=" + Sign(DefaultAppKey, DefaultAppID, "", "", now+600, strings.Repeat("n", 65)), 400, CodeAuthBadRequest},
		{"expireTime missing", body(map[string]any{"expireTime": nil}), "HMAC-SHA256 signature=" + good, 400, CodeAuthBadRequest},
		{"not json", "{", "HMAC-SHA256 signature=" + good, 400, CodeAuthBadRequest},
	}
	var ok, failed int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "POST", s.URL+"/v2/usg/acs/auth/appauth", tt.body, "Authorization", tt.authz, "X-Token-Type", "LongTicket")
			if tt.status != 200 {
				failed++
				wantError(t, r, tt.status, tt.code)
				return
			}
			ok++
			if r.status != 200 {
				t.Fatalf("status = %d, want 200 (body %s)", r.status, r.body)
			}
			var doc map[string]any
			if err := json.Unmarshal(r.body, &doc); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"accessToken", "validPeriod", "expireTime", "createTime", "refreshToken", "refreshValidPeriod", "refreshExpireTime", "tokenType", "user"} {
				if _, ok := doc[f]; !ok {
					t.Errorf("response lacks %q: %s", f, r.body)
				}
			}
			if got, want := int64(doc["expireTime"].(float64)), clock.Now().Add(2*time.Hour).Unix(); got != want {
				t.Errorf("expireTime = %d, want %d (epoch seconds)", got, want)
			}
			if got, want := int64(doc["createTime"].(float64)), clock.Now().UnixMilli(); got != want {
				t.Errorf("createTime = %d, want %d (epoch ms)", got, want)
			}
			if got := doc["validPeriod"].(float64); got != 7200 {
				t.Errorf("validPeriod = %v, want 7200", got)
			}
		})
	}
	c := s.Counters()
	if c.Auth != ok+failed || c.AuthFailed != failed || c.TokensIssued != ok {
		t.Errorf("counters Auth=%d AuthFailed=%d TokensIssued=%d, want %d, %d, %d", c.Auth, c.AuthFailed, c.TokensIssued, ok+failed, failed, ok)
	}
}

func TestAccountAuth(t *testing.T) {
	s := Start(t, Config{Account: "admin@corp", Password: "s3cret"})
	basic := func(a, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(a+":"+p)) }
	tests := []struct {
		name, authz, body string
		status            int
		code              string
	}{
		// Exactly what the official Go SDK's MeetingCredentials sends.
		{"sdk form", basic("admin@corp", "s3cret"), `{"account":"admin@corp","clientType":72}`, 200, ""},
		{"wrong password", basic("admin@corp", "nope"), `{"account":"admin@corp","clientType":72}`, 401, CodeAuthFailed},
		{"wrong account", basic("root", "s3cret"), `{"account":"root","clientType":72}`, 401, CodeAuthFailed},
		{"account mismatch", basic("admin@corp", "s3cret"), `{"account":"other","clientType":72}`, 400, CodeAuthBadRequest},
		{"clientType 0", basic("admin@corp", "s3cret"), `{"account":"admin@corp","clientType":0}`, 400, CodeAuthBadRequest},
		{"no basic", "", `{"account":"admin@corp","clientType":72}`, 401, CodeAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "POST", s.URL+"/v1/usg/acs/auth/account", tt.body, "Authorization", tt.authz)
			if tt.status != 200 {
				e := wantError(t, r, tt.status, tt.code)
				if strings.Contains(e.ErrorMsg, "s3cret") {
					t.Errorf("error_msg reveals the password: %q", e.ErrorMsg)
				}
				return
			}
			var doc struct {
				AccessToken string `json:"accessToken"`
				User        struct {
					UcloginAccount string `json:"ucloginAccount"`
				} `json:"user"`
			}
			if err := json.Unmarshal(r.body, &doc); err != nil || doc.AccessToken == "" {
				t.Fatalf("status %d body %s: %v", r.status, r.body, err)
			}
			if doc.User.UcloginAccount != "admin@corp" {
				t.Errorf("user.ucloginAccount = %q, want admin@corp", doc.User.UcloginAccount)
			}
			d := call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID=x", "", "X-Access-Token", doc.AccessToken)
			wantError(t, d, 400, CodeMeetingNotExist) // authenticated, then not found
		})
	}
}

func TestAccessTokenCheck(t *testing.T) {
	clock := newFakeClock()
	s := Start(t, Config{Now: clock.Now, TokenLifetime: time.Minute})
	tok := login(t, s, "")
	url := s.URL + "/v1/mmc/management/conferences/record/files?confUUID=nope"
	tests := []struct {
		name    string
		advance time.Duration
		hdr     []string
		status  int
		code    string
	}{
		{"valid", 0, []string{"X-Access-Token", tok}, 400, CodeMeetingNotExist},
		{"missing", 0, nil, 401, CodeTokenInvalid},
		{"unknown", 0, []string{"X-Access-Token", "stb" + strings.Repeat("0", 64)}, 401, CodeTokenInvalid},
		{"still valid just before expiry", 59 * time.Second, []string{"X-Access-Token", tok}, 400, CodeMeetingNotExist},
		{"expired", time.Second, []string{"X-Access-Token", tok}, 401, CodeTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Add(tt.advance)
			r := call(t, "GET", url, "", tt.hdr...)
			e := wantError(t, r, tt.status, tt.code)
			if strings.Contains(string(r.body), tok) {
				t.Errorf("error body reveals the token: %s", r.body)
			}
			_ = e
		})
	}
	if got := s.Counters().Unauthorized; got != 3 {
		t.Errorf("Unauthorized = %d, want 3", got)
	}
}

func TestTokenCapEvictsOldest(t *testing.T) {
	s := Start(t, Config{})
	url := s.URL + "/v1/mmc/management/conferences/record/files?confUUID=nope"
	alive := func(tok string) bool {
		r := call(t, "GET", url, "", "X-Access-Token", tok)
		return r.status != 401
	}
	var toks []string
	for range DefaultMaxTokens {
		toks = append(toks, login(t, s, "bob"))
	}
	other := login(t, s, "carol") // another user: own quota
	for i, tok := range toks {
		if !alive(tok) {
			t.Fatalf("token %d of 64 dead before the cap was reached", i)
		}
	}
	if got := s.Counters().TokensEvicted; got != 0 {
		t.Fatalf("TokensEvicted = %d after 64 logins, want 0", got)
	}
	toks = append(toks, login(t, s, "bob")) // the 65th
	tests := []struct {
		name string
		tok  string
		want bool
	}{
		{"oldest invalidated", toks[0], false},
		{"second oldest alive", toks[1], true},
		{"65th alive", toks[64], true},
		{"other user alive", other, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := alive(tt.tok); got != tt.want {
				t.Errorf("alive = %v, want %v", got, tt.want)
			}
		})
	}
	c := s.Counters()
	if c.TokensEvicted != 1 || c.TokensIssued != 66 {
		t.Errorf("TokensEvicted = %d, TokensIssued = %d; want 1, 66", c.TokensEvicted, c.TokensIssued)
	}
}

func TestValidateAndRefresh(t *testing.T) {
	clock := newFakeClock()
	s := Start(t, Config{Now: clock.Now, TokenLifetime: time.Hour})
	tok := login(t, s, "")
	r := call(t, "POST", s.URL+"/v1/usg/acs/token/validate", fmt.Sprintf(`{"token":%q,"needGenNewToken":false}`, tok))
	if r.status != 200 || !strings.Contains(string(r.body), tok) {
		t.Fatalf("validate: status %d body %s", r.status, r.body)
	}
	wantError(t, call(t, "POST", s.URL+"/v1/usg/acs/token/validate", `{"token":"nope"}`), 401, CodeTokenInvalid)

	var doc struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
	}
	r = call(t, "PUT", s.URL+"/v1/usg/acs/token", "", "X-Access-Token", tok)
	if err := json.Unmarshal(r.body, &doc); r.status != 200 || err != nil || doc.AccessToken == "" || doc.AccessToken == tok {
		t.Fatalf("refresh: status %d body %s", r.status, r.body)
	}
	clock.Add(61 * time.Minute) // both access tokens expired; refresh token still good
	r = call(t, "PUT", s.URL+"/v1/usg/acs/token", "", "X-Access-Token", doc.RefreshToken)
	var doc2 struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(r.body, &doc2); r.status != 200 || err != nil || doc2.AccessToken == "" {
		t.Fatalf("refresh with refresh token: status %d body %s", r.status, r.body)
	}
	d := call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID=x", "", "X-Access-Token", doc2.AccessToken)
	wantError(t, d, 400, CodeMeetingNotExist)
	wantError(t, call(t, "PUT", s.URL+"/v1/usg/acs/token", "", "X-Access-Token", tok), 401, CodeTokenInvalid)
}
