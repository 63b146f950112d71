package report

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sampleLedger is a ledger of five lines: run-start, two objects, a
// commit and run-end.
func sampleLedger(t *testing.T) ([]byte, *Ledger) {
	t.Helper()
	var buf bytes.Buffer
	l := NewLedger(&buf)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Append(EventRunStart, map[string]any{"runId": "run-1", "tool": "meetarchive test"}))
	must(l.Append(EventObject, LedgerObject{ConfUUID: "c1", Key: "k/1.mp4", Bytes: 10, SHA256: strings.Repeat("a", 64)}))
	must(l.Append(EventObject, LedgerObject{ConfUUID: "c1", Key: "k/2.mp4", Bytes: 20, SHA256: strings.Repeat("b", 64)}))
	must(l.Append(EventCommit, map[string]any{"confUUID": "c1"}))
	must(l.Append(EventRunEnd, map[string]any{"exitCode": 0}))
	return buf.Bytes(), l
}

func TestLedgerChainHolds(t *testing.T) {
	b, l := sampleLedger(t)
	c, err := VerifyLedger(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if c.Lines != 5 || c.Head != l.Head() || c.RunID != "run-1" || !c.Ended || len(c.Objects) != 2 || c.Objects[1].Key != "k/2.mp4" {
		t.Errorf("check = %+v; want 5 lines, head %s, run-1, ended, 2 objects", c, l.Head())
	}
}

// TestLedgerTamperingIsCaught: every edit, deletion, reordering,
// insertion and truncation of lines is reported with the line it breaks.
func TestLedgerTamperingIsCaught(t *testing.T) {
	b, _ := sampleLedger(t)
	lines := strings.SplitAfter(string(b), "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	join := func(ls ...string) string { return strings.Join(ls, "") }
	cases := []struct {
		name     string
		ledger   string
		wantLine int
	}{
		{"a byte of an object line changed", join(lines[0], strings.Replace(lines[1], `"bytes":10`, `"bytes":11`, 1), lines[2], lines[3], lines[4]), 3},
		{"the first line changed", join(strings.Replace(lines[0], "run-1", "run-2", 1), lines[1], lines[2], lines[3], lines[4]), 2},
		{"a line deleted", join(lines[0], lines[2], lines[3], lines[4]), 2},
		{"two lines swapped", join(lines[0], lines[2], lines[1], lines[3], lines[4]), 2},
		{"a line repeated", join(lines[0], lines[1], lines[1], lines[2], lines[3], lines[4]), 3},
		{"truncated before run-end", join(lines[0], lines[1], lines[2]), 3},
		{"the last line dropped", join(lines[0], lines[1], lines[2], lines[3]), 4},
		{"a line after run-end", join(lines[0], lines[1], lines[2], lines[3], lines[4], lines[4]), 6},
		{"garbage line", join(lines[0], "{not json\n", lines[2], lines[3], lines[4]), 2},
		{"the first line removed", join(lines[1], lines[2], lines[3], lines[4]), 1},
		{"empty", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyLedger(strings.NewReader(tc.ledger))
			var br *LedgerBreak
			if !errors.As(err, &br) {
				t.Fatalf("err %v, want a *LedgerBreak", err)
			}
			if br.Line != tc.wantLine {
				t.Errorf("break at line %d (%v), want line %d", br.Line, err, tc.wantLine)
			}
		})
	}
}

func TestLedgerSignature(t *testing.T) {
	b, l := sampleLedger(t)
	c, err := VerifyLedger(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	sig := SignLedger(priv, "run-1", l.Head(), l.Lines())
	if err := sig.Verify(pub, c); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	bad := func(name string, s LedgerSignature, key ed25519.PublicKey, c LedgerCheck) {
		t.Helper()
		if err := s.Verify(key, c); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err %v, want ErrBadSignature", name, err)
		}
	}
	bad("another key", sig, otherPub, c)
	shorter := c
	shorter.Lines, shorter.Head = 4, strings.Repeat("1", 64)
	bad("a truncated ledger", sig, pub, shorter)
	forged := sig
	forged.Head, forged.Lines = shorter.Head, shorter.Lines
	bad("a signature file edited to match", forged, pub, shorter)
	other := c
	other.RunID = "run-2"
	bad("another run", sig, pub, other)
}

// TestLedgerKeysFromOpenSSL: keys written by openssl, as the README
// documents, are read; keys of another kind are refused without quoting them.
func TestLedgerKeysFromOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	key, pubFile := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub.pem")
	for _, args := range [][]string{{"genpkey", "-algorithm", "ed25519", "-out", key}, {"pkey", "-in", key, "-pubout", "-out", pubFile}} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	privPEM, _ := os.ReadFile(key)
	pubPEM, _ := os.ReadFile(pubFile)
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Error("the public key is not the private key's")
	}
	// Round trip through our own encoding.
	p2, q2, err := MarshalKeyPair(priv)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := ParsePrivateKey(p2); err != nil || !k.Equal(priv) {
		t.Errorf("private key round trip: %v", err)
	}
	if k, err := ParsePublicKey(q2); err != nil || !k.Equal(pub) {
		t.Errorf("public key round trip: %v", err)
	}
	rsa := filepath.Join(dir, "rsa.pem")
	if out, err := exec.Command("openssl", "genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", rsa).CombinedOutput(); err != nil {
		t.Fatalf("openssl rsa: %v\n%s", err, out)
	}
	rsaPEM, _ := os.ReadFile(rsa)
	_, err = ParsePrivateKey(rsaPEM)
	if err == nil || strings.Contains(err.Error(), "MII") {
		t.Errorf("an RSA key: err %v, want a refusal that does not quote the key", err)
	}
}
