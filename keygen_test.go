package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"meetarchive/report"
)

// TestKeygen: keygen writes a key pair that signs and verifies a ledger
// head, the private key with mode 0600, prints the public key's
// fingerprint and never a key, and never replaces a file.
func TestKeygen(t *testing.T) {
	t.Run("writes a key pair", func(t *testing.T) {
		dir := t.TempDir()
		priv, pub := filepath.Join(dir, "ledger.key"), filepath.Join(dir, "ledger.pub")
		res := runBin(t, nil, "keygen", "--private-key", priv, "--public-key", pub)
		if res.code != 0 {
			t.Fatalf("keygen: exit %d\n%s", res.code, res.stderr)
		}
		st, err := os.Stat(priv)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("private key mode %o, want 600", mode)
		}
		privPEM, pubPEM := fileBytes(t, priv), fileBytes(t, pub)
		key, err := report.ParsePrivateKey(privPEM)
		if err != nil {
			t.Fatalf("private key: %v", err)
		}
		pk, err := report.ParsePublicKey(pubPEM)
		if err != nil {
			t.Fatalf("public key: %v", err)
		}
		if !pk.Equal(key.Public()) {
			t.Errorf("the public key is not the private key's")
		}
		if want := "fingerprint " + report.KeyFingerprint(pk) + "\n"; !strings.HasPrefix(res.stdout, want) {
			t.Errorf("stdout %q, want it to start with %q", res.stdout, want)
		}
		secrets := append(pemBodies(privPEM), hex.EncodeToString(key.Seed()), base64.StdEncoding.EncodeToString(key.Seed()))
		for _, s := range secrets {
			if strings.Contains(res.stdout+res.stderr, s) {
				t.Errorf("the output shows the private key")
			}
		}
		sig := report.SignLedger(key, "run-1", strings.Repeat("a", 64), 3)
		if err := sig.Verify(pk, report.LedgerCheck{RunID: "run-1", Head: strings.Repeat("a", 64), Lines: 3}); err != nil {
			t.Errorf("a head signed with the private key does not verify with the public key: %v", err)
		}
	})

	t.Run("never replaces a file", func(t *testing.T) {
		for _, which := range []string{"private", "public"} {
			t.Run(which, func(t *testing.T) {
				dir := t.TempDir()
				priv, pub := filepath.Join(dir, "k"), filepath.Join(dir, "k.pub")
				existing := map[string]string{"private": priv, "public": pub}[which]
				if err := os.WriteFile(existing, []byte("keep me\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				res := runBin(t, nil, "keygen", "--private-key", priv, "--public-key", pub)
				if res.code != report.ExitUsage || !strings.Contains(res.stderr, existing+" exists") {
					t.Errorf("exit %d, stderr %q; want 2 naming %s", res.code, res.stderr, existing)
				}
				if got := string(fileBytes(t, existing)); got != "keep me\n" {
					t.Errorf("%s now holds %q", existing, got)
				}
				entries, _ := os.ReadDir(dir)
				if len(entries) != 1 {
					t.Errorf("keygen left %d files in the directory, want only the existing one", len(entries))
				}
			})
		}
	})

	t.Run("usage", func(t *testing.T) {
		dir := t.TempDir()
		for _, args := range [][]string{
			{"keygen"},
			{"keygen", "--private-key", filepath.Join(dir, "k")},
			{"keygen", "--private-key", filepath.Join(dir, "k"), "--public-key", filepath.Join(dir, "k")},
			{"keygen", "--private-key", filepath.Join(dir, "no", "k"), "--public-key", filepath.Join(dir, "k.pub")},
		} {
			if res := runBin(t, nil, args...); res.code != report.ExitUsage {
				t.Errorf("%q: exit %d, want 2\n%s", args, res.code, res.stderr)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("usage errors left %d files", len(entries))
		}
	})

	t.Run("help and README", func(t *testing.T) {
		res := runBin(t, nil, "keygen", "--help")
		readme := string(fileBytes(t, "README.md"))
		for _, f := range []string{"private-key", "public-key"} {
			if !regexp.MustCompile(`(?m)^  --` + f + ` .*\n.*\[\$` + envName(f) + `\]`).MatchString(res.stderr) {
				t.Errorf("keygen --help does not list --%s with $%s:\n%s", f, envName(f), res.stderr)
			}
			if !strings.Contains(readme, "--"+f) {
				t.Errorf("README.md does not document --%s", f)
			}
		}
		if !strings.Contains(readme, "meetarchive keygen") || !strings.Contains(readme, "openssl genpkey -algorithm ed25519") {
			t.Errorf("README.md does not show keygen and its openssl equivalent")
		}
	})
}

// TestKeygenOpenSSL: OpenSSL reads keygen's private key and derives the
// same public key, and an OpenSSL key (the README's command) signs a head
// that verifies with the public key OpenSSL derives from it.
func TestKeygenOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	dir := t.TempDir()
	t.Run("openssl reads keygen's key", func(t *testing.T) {
		priv, pub := filepath.Join(dir, "ours.key"), filepath.Join(dir, "ours.pub")
		if res := runBin(t, nil, "keygen", "--private-key", priv, "--public-key", pub); res.code != 0 {
			t.Fatalf("keygen: exit %d\n%s", res.code, res.stderr)
		}
		out, err := exec.Command(openssl, "pkey", "-in", priv, "-pubout").Output()
		if err != nil {
			t.Fatalf("openssl pkey: %v", err)
		}
		if !bytes.Equal(out, fileBytes(t, pub)) {
			t.Errorf("openssl derives public key\n%s\nkeygen wrote\n%s", out, fileBytes(t, pub))
		}
	})
	t.Run("keygen's verifier reads openssl's key", func(t *testing.T) {
		priv, pub := filepath.Join(dir, "theirs.key"), filepath.Join(dir, "theirs.pub")
		for _, args := range [][]string{
			{"genpkey", "-algorithm", "ed25519", "-out", priv},
			{"pkey", "-in", priv, "-pubout", "-out", pub},
		} {
			if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
				t.Fatalf("openssl %s: %v\n%s", args, err, out)
			}
		}
		key, err := report.ParsePrivateKey(fileBytes(t, priv))
		if err != nil {
			t.Fatalf("openssl's private key: %v", err)
		}
		pk, err := report.ParsePublicKey(fileBytes(t, pub))
		if err != nil {
			t.Fatalf("openssl's public key: %v", err)
		}
		if !pk.Equal(key.Public().(ed25519.PublicKey)) {
			t.Errorf("openssl's public key is not its private key's")
		}
	})
}

func fileBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pemBodies are the lines of a PEM block's base64 body, any of which in
// an output would show the key.
func pemBodies(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}
