package report

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// slowRedact is Redact without the ASCII fast path: every pattern applied
// as a regular expression.
func slowRedact(s string) string {
	if !strings.ContainsAny(s, "=:%") && !containsFold(s, "bearer") {
		return s
	}
	s = reJSONSecret.ReplaceAllString(s, `${1}`+Redacted+`"`)
	s = reTokenHeader.ReplaceAllString(s, `${1}`+Redacted)
	s = reAuthHeader.ReplaceAllString(s, `${1}`+Redacted)
	s = reCookieHeader.ReplaceAllString(s, `${1}`+Redacted)
	s = reParamSecret.ReplaceAllString(s, `${1}${2}`+Redacted)
	s = reBearer.ReplaceAllString(s, `${1} `+Redacted)
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		s = reUserinfo.ReplaceAllString(s, `${1}`+Redacted+`@`)
	}
	return s
}

// redactFragments build strings that come close to every pattern.
var redactFragments = []string{
	"token", "TOKEN", "Token", "access_token", "accessToken", "pass", "word", "password", "passwd",
	"secret", "app", "_key", "key", "appkey", "api_key", "ApiKey", "access", "signature",
	"X-Amz-Signature", "credential", "=", "=", "%3d", "%3D", "%3", "&", " ", "\t", "\n", "\r", "\f",
	"\"", "'", "<", ">", "#", ";", ",", ":", "/", "?", "a", "B", "9", "_", ".", "-", "x",
	"Authorization: ", "Bearer ", "bearer", "Cookie: ", "X-Access-Token: ", "https://", "user:pw@",
	`"accessToken":"`, "abcdefgh12345", "REDACTED", "@",
}

func TestRedactFastPathMatchesRegexps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	for i := range n {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(redactFragments[rng.IntN(len(redactFragments))])
		}
		s := b.String()
		if got, want := redactParamsASCII(s), reParamSecret.ReplaceAllString(s, `${1}${2}`+Redacted); got != want {
			t.Fatalf("case %d: redactParamsASCII(%q) = %q, want %q", i, s, got, want)
		}
		if got, want := Redact(s), slowRedact(s); got != want {
			t.Fatalf("case %d: Redact(%q) = %q, want %q", i, s, got, want)
		}
	}
}

func TestRedactParamsExamples(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://h/play?id=1&token=abc#x", "https://h/play?id=1&token=REDACTED#x"},
		{"a?X-Amz-Signature=ff&X-Amz-Credential=AK%2F1", "a?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED"},
		{"token=abc=password=x", "token=REDACTED"},
		{"tokenid=1&token=", "tokenid=1&token="},
		{"download_token%3Dsecret%26x", "download_token%3DREDACTED"},
		{"no secrets here", "no secrets here"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redactParamsASCII(tt.in); got != tt.want {
				t.Errorf("redactParamsASCII(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func BenchmarkRedactPlaybackURL(b *testing.B) {
	u := "https://meeting.example.com/#/play?confUUID=0000000000000000000000000000abcd&token=REDACTED"
	for b.Loop() {
		_ = Redact(u)
	}
}
