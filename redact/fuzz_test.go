package redact

import (
	"strings"
	"testing"
)

// FuzzString: String never panics, is idempotent, and no form of a
// registered secret survives it, wherever the secret is put in the text;
// Clip stays within its bound.
func FuzzString(f *testing.F) {
	f.Add("login refused: ", "hunter2-Pa$$word", uint8(0), " (401)", 300)
	f.Add("Authorization: Basic ", "alice-password", uint8(2), "\r\nAccept: */*", 30)
	f.Add(`{"error_msg":"echo `, "ACCESSTOKEN-SE", uint8(9), `"}`, 20)
	f.Add("https://h/x?token=", "dl-tok-5f4dcc3b5a", uint8(4), "&n=1", 25)
	f.Add("REDACTED", "REDACTEDxx", uint8(1), "...", 8)
	f.Fuzz(func(t *testing.T, before, secret string, which uint8, after string, n int) {
		resetRegistry(t)
		AddCredentialPair("alice@example.com", secret)
		forms := append(Forms(secret), PairForms("alice@example.com", secret)...)
		var forms2 []string
		for _, fm := range forms {
			if !collides(fm) {
				forms2 = append(forms2, fm)
			}
		}
		in := before + after
		if len(forms2) > 0 {
			in = before + forms2[int(which)%len(forms2)] + after
		}
		out := String(in)
		if again := String(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		for _, fm := range forms2 {
			if strings.Contains(out, fm) {
				t.Fatalf("String(%q) = %q keeps the registered form %q", in, out, fm)
			}
		}
		n = n % 512
		c := Clip(in, n)
		if len(c) > max(n, 0) && len(c) > len(out) {
			t.Fatalf("Clip(_, %d) = %d bytes", n, len(c))
		}
		if !strings.HasPrefix(out, strings.TrimSuffix(c, ellipsis)) {
			t.Fatalf("Clip(%q, %d) = %q is not a cut of %q", in, n, c, out)
		}
	})
}
