package redact

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// resetRegistry forgets every registered secret (tests in this package only).
func resetRegistry(t testing.TB) {
	t.Helper()
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.tiers, reg.refs, reg.index, reg.counts, reg.bits = [tiers][]entry{}, nil, nil, nil, nil
}

func TestPatterns(t *testing.T) {
	resetRegistry(t)
	tests := []struct{ name, in, want string }{
		{"query token", "https://h/p/play.html?id=1&token=abc123&x=2", "https://h/p/play.html?id=1&token=REDACTED&x=2"},
		{"first param", "https://h/0_1.mp4?token=abc", "https://h/0_1.mp4?token=REDACTED"},
		{"once token", "https://h/0_1.mp4?onceToken=ab-12&n=1", "https://h/0_1.mp4?onceToken=REDACTED&n=1"},
		{"access_token", "url?access_token=zzz", "url?access_token=REDACTED"},
		{"encoded", "next=%2Fplay%3Ftoken%3Dabc", "next=%2Fplay%3Ftoken%3DREDACTED"},
		{"encoded lower", "next=%2fplay%3ftoken%3dabc", "next=%2fplay%3ftoken%3dREDACTED"},
		{"quoted url in error", `Get "https://h/a.mp4?token=t0k": EOF`, `Get "https://h/a.mp4?token=REDACTED": EOF`},
		{"password param", "password=secret1 user=bob", "password=REDACTED user=bob"},
		{"app_key param", "app_key=k1&appId=a", "app_key=REDACTED&appId=a"},
		{"signature param", "signature=deadbeef,access=YQ==", "signature=REDACTED,access=YQ=="},
		{"s3 presigned", "https://b.s3/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ff00", "https://b.s3/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"},
		{"x-access-token header", "X-Access-Token: cnr1abc.def", "X-Access-Token: REDACTED"},
		{"header value only", "X-Access-Token: abc, then refused", "X-Access-Token: REDACTED, then refused"},
		{"x-api-key header", "X-Api-Key: 12345678\nnext", "X-Api-Key: REDACTED\nnext"},
		{"basic whole credential", "authorization: Basic dXNlcjpwYXNz", "authorization: Basic REDACTED"},
		{"basic then line", "Authorization: Basic YWxpY2U6c2VjcmV0\r\nAccept: */*", "Authorization: Basic REDACTED\r\nAccept: */*"},
		{"hmac whole credential", "Authorization: HMAC-SHA256 signature=ab12,access=QUJD\nnext line", "Authorization: HMAC-SHA256 REDACTED\nnext line"},
		{"proxy authorization", "Proxy-Authorization: Digest username=\"a\", response=\"6629fae4\"\nnext", "Proxy-Authorization: Digest REDACTED\nnext"},
		{"unknown scheme", "Authorization: Custom c2VjcmV0LXZhbHVl", "Authorization: Custom REDACTED"},
		{"bare credential", "media refused Authorization: 9f86d081884c7d65 (401)", "media refused Authorization: REDACTED"},
		{"scheme already replaced", "Authorization: REDACTED YWxpY2U6aHVudGVyMg==", "Authorization: REDACTED"},
		{"authorization param", "authorization=Basic%20YWxpY2U6&x=1", "authorization=REDACTED"},
		{"short word stays", "Budget authorization: Q3", "Budget authorization: Q3"},
		{"cookie", "Cookie: sid=abc123; theme=dark", "Cookie: REDACTED"},
		{"set-cookie", "Set-Cookie: sid=abc123; Path=/\nnext", "Set-Cookie: REDACTED\nnext"},
		{"json", `{"accessToken":"tok-1","validPeriod":3600}`, `{"accessToken":"REDACTED","validPeriod":3600}`},
		{"json spaced", `{"app_key" : "k\"ey"}`, `{"app_key" : "REDACTED"}`},
		{"json authorization", `{"Authorization":"Basic YWxpY2U6"}`, `{"Authorization":"REDACTED"}`},
		{"json escaped", `{"msg":"{\"password\":\"hunter22\"}"}`, `{"msg":"{\"password\":\"REDACTED"}`},
		{"bearer", "sent Bearer eyJhbGciOi.payload.sig now", "sent Bearer REDACTED now"},
		{"userinfo", "https://bob:hunter2@host/x", "https://bob:REDACTED@host/x"},
		{"no secret", "token invalid or expired", "token invalid or expired"},
		{"escaped line end", `Authorization: Basic YWxpY2U6c2VjcmV0\r\nAccept: */*`, `Authorization: Basic REDACTED\r\nAccept: */*`},
		{"escaped quote", `{\"h\":\"Authorization: Bearer abc.def\",\"n\":1}`, `{\"h\":\"Authorization: Bearer REDACTED\",\"n\":1}`},
		{"json-escaped slash kept inside", `Authorization: Basic YWxp\/Y2U6c2Vj\nnext`, `Authorization: Basic REDACTED\nnext`},
		{"escaped cookie", `Set-Cookie: sid=abc123\r\nX-Next: 1`, `Set-Cookie: REDACTED\r\nX-Next: 1`},
		{"subject authorization", "Budget authorization: Q3 review", "Budget authorization: Q3 review"},
		{"subject cookie", "Fortune cookie: tasty", "Fortune cookie: tasty"},
		{"nothing", "Weekly sync: budget = 3 items", "Weekly sync: budget = 3 items"},
		{"key template kept", "{{.Year}}/{{.ConfUUID}}", "{{.Year}}/{{.ConfUUID}}"},
		{"sha not secret", "sha256=abcdef", "sha256=abcdef"},
		{"plain", "export: details 400 MMC.111070005: meeting does not exist", "export: details 400 MMC.111070005: meeting does not exist"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := String(got); again != got {
				t.Errorf("String is not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// secrets of issue-style shapes, one per kind the client handles.
var (
	account     = "alice@example.com"
	password    = "hunter2-Pa$$/word+x"
	appKey      = "AK-7f3e9c1b2a4d6e8f"
	accessToken = "ACCESSTOKEN-SECRET-0123456789abcdef"
	hmacSig     = "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7"
	downloadTok = "dl-tok-5f4dcc3b5aa765d61d8327deb882cf99"
)

// forms of every secret, named for the failure message.
func allForms() map[string]string {
	out := map[string]string{}
	for name, s := range map[string]string{"password": password, "appKey": appKey, "accessToken": accessToken, "hmacSignature": hmacSig, "downloadToken": downloadTok} {
		out[name+"/raw"] = s
		out[name+"/base64"] = base64.StdEncoding.EncodeToString([]byte(s))
		out[name+"/base64url-raw"] = base64.RawURLEncoding.EncodeToString([]byte(s))
		out[name+"/query-escaped"] = url.QueryEscape(s)
		out[name+"/path-escaped"] = url.PathEscape(s)
		b, _ := json.Marshal(s)
		out[name+"/json-escaped"] = strings.Trim(string(b), `"`)
	}
	out["account:password/base64"] = base64.StdEncoding.EncodeToString([]byte(account + ":" + password))
	out["account:password/base64-raw"] = base64.RawStdEncoding.EncodeToString([]byte(account + ":" + password))
	out["account:password/base64url"] = base64.URLEncoding.EncodeToString([]byte(account + ":" + password))
	return out
}

func registerAll() {
	AddCredentialPair(account, password)
	Add(appKey)
	AddSession(accessToken)
	AddSession(hmacSig)
	AddTransient(downloadTok)
}

// TestEveryFormOfEverySecret: each form of each secret, in every context a
// hostile server could put it, does not survive String or Clip.
func TestEveryFormOfEverySecret(t *testing.T) {
	resetRegistry(t)
	registerAll()
	contexts := []struct {
		name string
		make func(form string) string
	}{
		{"alone", func(f string) string { return f }},
		{"free text", func(f string) string { return "login refused for " + f + " (401)" }},
		{"unnamed param", func(f string) string { return "https://h/x?q=" + f + "&n=1" }},
		{"json body", func(f string) string { return `{"error_msg":"echo ` + f + `","x":1}` }},
		{"header", func(f string) string { return "Authorization: Basic " + f + "\r\nAccept: */*" }},
		{"glued", func(f string) string { return "xx" + f + "yy" }},
		{"cut by someone else", func(f string) string { return "echo: " + f[:len(f)*2/3] }},
		{"cut with ellipsis", func(f string) string { return "echo: " + f[:len(f)*2/3] + "... (request 12)" }},
	}
	for name, form := range allForms() {
		for _, c := range contexts {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				in := c.make(form)
				got := String(in)
				if leaks(got, form) {
					t.Errorf("String(%q) = %q: the secret survives", in, got)
				}
				if again := String(got); again != got {
					t.Errorf("not idempotent: %q -> %q", got, again)
				}
			})
		}
		// Across a truncation boundary: the cut falls inside the secret.
		for _, cut := range []int{keyLen, len(form) / 2, len(form) - 1} {
			t.Run(fmt.Sprintf("%s/clip-inside-%d", name, cut), func(t *testing.T) {
				pad := "export: auth 401 USG.000000005: echo of the request "
				in := pad + form + " and more text after it"
				n := len(pad) + cut + len(ellipsis)
				got := Clip(in, n)
				if len(got) > n {
					t.Errorf("Clip(_, %d) gave %d bytes", n, len(got))
				}
				if leaks(got, form) {
					t.Errorf("Clip(%q, %d) = %q: the start of the secret survives", in, n, got)
				}
			})
		}
	}
}

// leaks reports whether out holds form, or its first keyLen bytes.
func leaks(out, form string) bool {
	return strings.Contains(out, form) || strings.Contains(out, form[:keyLen])
}

// TestBothFamiliesNeeded: a secret with no name beside it is caught by the
// registry only; a secret never registered is caught by the patterns only.
func TestBothFamiliesNeeded(t *testing.T) {
	resetRegistry(t)
	registerAll()
	tests := []struct {
		name, in, secret         string
		byPatterns, byRegistered bool
	}{
		{"registered, no name beside it", "login refused: echo " + base64.StdEncoding.EncodeToString([]byte(account+":"+password)), "YWxpY2VA", false, true},
		{"registered access token in free text", "token " + accessToken + " is unknown", accessToken, false, true},
		{"unregistered token by its name", "https://h/x?token=NEVER-REGISTERED-1", "NEVER-REGISTERED-1", true, false},
		{"unregistered basic credential", "Authorization: Basic Ym9iOnNlY3JldC1wdw==", "Ym9iOnNlY3JldC1wdw==", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scrub(tt.in, true, false); strings.Contains(got, tt.secret) == tt.byPatterns {
				t.Errorf("patterns alone: %q; want caught=%v", got, tt.byPatterns)
			}
			if got := scrub(tt.in, false, true); strings.Contains(got, tt.secret) == tt.byRegistered {
				t.Errorf("registry alone: %q; want caught=%v", got, tt.byRegistered)
			}
			if got := String(tt.in); strings.Contains(got, tt.secret) {
				t.Errorf("String: %q keeps %q", got, tt.secret)
			}
		})
	}
}

// TestOldLeak is the leak of the two disagreeing redactors: the scheme word
// replaced, then the base64 of account:password kept.
func TestOldLeak(t *testing.T) {
	resetRegistry(t)
	cred := base64.StdEncoding.EncodeToString([]byte("alice:s3cret-pw"))
	for _, in := range []string{
		"gateway echo: Authorization: Basic " + cred,
		"gateway echo: Authorization: REDACTED " + cred,
		`{"headers":{"Authorization":["Basic ` + cred + `"]}}`,
	} {
		if got := String(in); strings.Contains(got, cred) || strings.Contains(got, cred[:8]) {
			t.Errorf("String(%q) = %q keeps the credential", in, got)
		}
	}
}

func TestRegistryRules(t *testing.T) {
	t.Run("short values are ignored", func(t *testing.T) {
		resetRegistry(t)
		Add("meet")
		AddCredentialPair("bob", "pw12")
		if got := String("meet bob pw12 " + base64.StdEncoding.EncodeToString([]byte("bob:pw12"))); got != "meet bob pw12 Ym9iOnB3MTI=" {
			t.Errorf("got %q, want the text unchanged", got)
		}
	})
	t.Run("marker-like values are not registered as such", func(t *testing.T) {
		resetRegistry(t)
		Add("REDACT")
		Add("DACTEDxyz")
		in := "REDACTED and DACTEDxyz"
		got := String(in)
		if again := String(got); again != got {
			t.Errorf("not idempotent: %q -> %q", got, again)
		}
	})
	t.Run("secret-free text unchanged", func(t *testing.T) {
		resetRegistry(t)
		registerAll()
		for _, in := range []string{"", "0123456789abcdef0123456789abcdef", "2024-03-08 16:45", "archived", "recordings/2024/03/08/x.mp4", strings.Repeat("é", 50)} {
			if got := String(in); got != in {
				t.Errorf("String(%q) = %q, want unchanged", in, got)
			}
		}
	})
	t.Run("transient tokens are bounded", func(t *testing.T) {
		resetRegistry(t)
		Add(appKey)
		tok := func(i int) string { return fmt.Sprintf("download-token-%06d", i) }
		for i := range tierBound[tierTransient] + 10 {
			AddTransient(tok(i))
		}
		if got := String(tok(0)); got != tok(0) {
			t.Errorf("the oldest transient token is still scrubbed: %q", got)
		}
		if got := String(tok(tierBound[tierTransient] + 9)); got != Marker {
			t.Errorf("the newest transient token: got %q, want %q", got, Marker)
		}
		if got := String(appKey); got != Marker {
			t.Errorf("the kept app key: got %q, want %q", got, Marker)
		}
		reg.mu.RLock()
		n := len(reg.tiers[tierTransient])
		reg.mu.RUnlock()
		if n != tierBound[tierTransient] {
			t.Errorf("transient entries = %d, want %d", n, tierBound[tierTransient])
		}
	})
	t.Run("session secrets are bounded and never push out credentials", func(t *testing.T) {
		resetRegistry(t)
		Add(appKey)
		AddCredentialPair(account, password)
		for i := range tierBound[tierSession] + 5 {
			AddSession(fmt.Sprintf("access-token-%06d", i))
		}
		for _, s := range []string{appKey, password, base64.StdEncoding.EncodeToString([]byte(account + ":" + password))} {
			if got := String(s); got != Marker {
				t.Errorf("credential %q: got %q after many session secrets, want %q", s, got, Marker)
			}
		}
		if got := String("access-token-000000"); got == Marker {
			t.Errorf("the oldest access token is still kept past the bound")
		}
		if got := String(fmt.Sprintf("access-token-%06d", tierBound[tierSession]+4)); got != Marker {
			t.Errorf("the newest access token: got %q", got)
		}
	})
	t.Run("credentials are bounded, re-adding refreshes", func(t *testing.T) {
		resetRegistry(t)
		Add(appKey)
		for i := range tierBound[tierCredential] + 5 {
			Add(fmt.Sprintf("credential-%06d", i))
			if i%10 == 0 {
				Add(appKey)
			}
		}
		if got := String(appKey); got != Marker {
			t.Errorf("the refreshed app key: got %q, want %q", got, Marker)
		}
		if got := String("credential-000000"); got == Marker {
			t.Errorf("the oldest credential is still kept past the bound")
		}
	})
}

// TestPreChecksLoseNothing: the cheap tests that skip a pattern never skip a
// match (random texts made of fragments close to every pattern).
func TestPreChecksLoseNothing(t *testing.T) {
	frags := []string{"token", "TOKEN", "onceToken", "access_token", "pass", "word", "password", "pwd", "secret",
		"app", "_key", "key", "api", "-key", "access", "auth", "auth_key", "signature", "sign", "sig", "credential", "authorization", "Authorization",
		"cookie", "Set-Cookie", "bearer", "Bearer", "://", "@", "=", "%3d", "%3D", ":", " ", "\t", "\n", "\r", "\"", "\\", "'",
		"[", "&", ",", ";", "Basic ", "HMAC-SHA256 ", "abcdefgh12", "x", "9", "-", ".", "_", "REDACTED", "user:pw@"}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 100_000 {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		s := b.String()
		with, without := findPatterns(s, nil, true), findPatterns(s, nil, false)
		if fmt.Sprint(with) != fmt.Sprint(without) {
			t.Fatalf("case %d %q: with pre tests %v, without %v", i, s, with, without)
		}
	}
}

func TestClip(t *testing.T) {
	resetRegistry(t)
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 10, "abc"},
		{"exact", "abcdef", 6, "abcdef"},
		{"cut", "abcdefghij", 8, "abcde..."},
		{"rune boundary", "ééééé", 8, "éé..."},
		{"tiny", "abcdef", 2, "ab"},
		{"zero", "abcdef", 0, ""},
		{"scrub then cut", "x token=SECRETSECRETSECRET y", 12, "x token=R..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clip(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if len(got) > max(tt.n, 0) || !utf8.ValidString(got) {
				t.Errorf("Clip(%q, %d) = %q: too long or not UTF-8", tt.in, tt.n, got)
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	resetRegistry(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				tok := fmt.Sprintf("tok-%d-%06d", g, i)
				AddTransient(tok)
				if got := String("refused " + tok); strings.Contains(got, tok) {
					t.Errorf("String kept %q just registered: %q", tok, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkString(b *testing.B) {
	resetRegistry(b)
	registerAll()
	for i := range 40 {
		AddSession(fmt.Sprintf("access-token-%06d-abcdef", i))
	}
	cells := []string{"0123456789abcdef0123456789abcdef", "2024-03-08 16:45", "archived",
		"s3://bucket/recordings/2024/03/08/Weekly sync/0_1.mp4", "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673cb8",
		"export: media 0_1.mp4: 403 MMC.111070004: download token missing, used, expired or for another file (request 1234)"}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cells {
			_ = String(c)
		}
	}
}

// BenchmarkCell: one cell of each kind that has something to look at.
func BenchmarkCell(b *testing.B) {
	for _, c := range []struct{ name, cell string }{
		{"playback URL", "https://meeting.example.com/#/play?confUUID=0000000000000000000000000000abcd&token=REDACTED"},
		{"error message", "export: media 0_1.mp4: 403 MMC.111070004: download token missing, used, expired or for another file (request 1234)"},
	} {
		b.Run(c.name, func(b *testing.B) {
			resetRegistry(b)
			registerAll()
			for b.Loop() {
				_ = String(c.cell)
			}
		})
	}
}

// BenchmarkPlainCell: a manifest cell with nothing to scrub, 45 secrets
// registered (the fast path).
func BenchmarkPlainCell(b *testing.B) {
	resetRegistry(b)
	registerAll()
	for i := range 40 {
		AddSession(fmt.Sprintf("access-token-%06d-abcdef", i))
	}
	cell := "s3://bucket/recordings/2024/03/08/Weekly sync/0_1.mp4"
	b.ReportAllocs()
	for b.Loop() {
		_ = String(cell)
	}
}
