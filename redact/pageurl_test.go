package redact

import (
	"strings"
	"testing"
)

func TestPageURL(t *testing.T) {
	const conf = "3f6c2a1e9b8d4c7fa0e5d2b1c4a7f9e3"
	tests := []struct {
		name, in, want string
	}{
		{"token query", "https://h/play/x.html?id=1&token=abc", "https://h/play/x.html"},
		{"cdn signature", "https://cdn.example/v/play.html?auth_key=1700000000-0-0-9f8e7d&sign=ab12&t=1700000000", "https://cdn.example/v/play.html"},
		{"fragment route", "https://meeting.example.com/#/play?confUUID=" + conf + "&token=T", "https://meeting.example.com/"},
		{"user and password", "https://bob:hunter2@h/play", "https://h/play"},
		{"user alone", "https://bob@h/play", "https://h/play"},
		{"port kept", "http://127.0.0.1:8080/play/" + conf + "?token=1", "http://127.0.0.1:8080/play/" + conf},
		{"confUUID kept with dashes", "https://h/play/3F6C2A1E-9B8D-4C7F-A0E5-D2B1C4A7F9E3", "https://h/play/3F6C2A1E-9B8D-4C7F-A0E5-D2B1C4A7F9E3"},
		{"hex path token", "https://h/s/0123456789abcdef0123456789abcdef/play.html", "https://h/s/REDACTED/play.html"},
		{"base64 path token", "https://h/p/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig/x", "https://h/p/REDACTED/x"},
		{"matrix parameter", "https://h/play;jsessionid=ABC123/x", "https://h/play/x"},
		{"escaped path kept", "https://h/Quarterly%20review/recording_2024_05_01.html", "https://h/Quarterly%20review/recording_2024_05_01.html"},
		{"words are not tokens", "https://h/recordings/playback-page-for-everyone/index", "https://h/recordings/playback-page-for-everyone/index"},
		{"not absolute", "/play/x?token=abc#frag", "/play/x"},
		{"garbage", "::not a url?sign=1", "::not a url"},
		{"blank around", "  https://h/play?t=1  ", "https://h/play"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PageURL(tc.in, conf)
			if got != tc.want {
				t.Errorf("PageURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := PageURL(got, conf); again != got {
				t.Errorf("not idempotent: %q then %q", got, again)
			}
			for _, secret := range []string{"hunter2", "auth_key", "sign=", "t=", "token", "jsessionid"} {
				if strings.Contains(got, secret) {
					t.Errorf("PageURL(%q) = %q keeps %q", tc.in, got, secret)
				}
			}
		})
	}
}

// TestMoreSecretNames: auth_key= and sign= (CDN URL signing) are redacted
// in any text, as token= is.
func TestMoreSecretNames(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://cdn/x?auth_key=1700-0-0-9f8e&x=1", "https://cdn/x?auth_key=REDACTED&x=1"},
		{"https://cdn/x?sign=ab12cd&t=1", "https://cdn/x?sign=REDACTED&t=1"},
		{`{"authKey":"v1","sign":"v2"}`, `{"authKey":"REDACTED","sign":"REDACTED"}`},
		{"signature=aa", "signature=REDACTED"},
		{"sign here please", "sign here please"},
	}
	for _, tc := range tests {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
