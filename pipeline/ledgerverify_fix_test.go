package pipeline

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"

	"meetarchive/archive"
	"meetarchive/report"
)

// TestVerifyLedgerClaims: what run-start records of the signing key, and
// the signing key and heads a report claims, are held against the ledger:
// a signature deleted from a ledger that says it was signed is missing
// (line 1), one by another key than run-start's is bad, and a head that
// differs from the ledger's fails it.
func TestVerifyLedgerClaims(t *testing.T) {
	ctx := context.Background()
	key, other := newKey(t), newKey(t)
	fp := report.KeyFingerprint(key.Public().(ed25519.PublicKey))
	tests := []struct {
		name     string
		signKey  string // run-start's signKeySha256 ("" none)
		signWith ed25519.PrivateKey
		pub      bool // give the key's public half
		signedBy string
		heads    func(head string) []HeadClaim
		sig      string // the signature state
		where    string // "line1": the ledger's line 1
		heads2   []bool // each head claim's OK
		ok       bool
	}{
		{name: "run-start says signed, signature deleted", signKey: fp, sig: SigMissing, where: "line1"},
		{name: "run-start says signed, signature deleted, key given", signKey: fp, pub: true, sig: SigMissing, where: "line1"},
		{name: "run-start says signed, signed", signKey: fp, signWith: key, sig: SigNotChecked, ok: true},
		{name: "run-start says signed, signed with the key given", signKey: fp, signWith: key, pub: true, sig: SigVerified, ok: true},
		{name: "signed by another key than run-start's", signKey: fp, signWith: other, sig: SigBad},
		{name: "unsigned", sig: SigUnsigned, ok: true},
		{name: "a report says signed, no signature", signedBy: fp, sig: SigMissing},
		{name: "heads: same and other", sig: SigUnsigned,
			heads: func(h string) []HeadClaim {
				return []HeadClaim{{h, "--head"}, {strings.Repeat("0", 64), "summary.json"}}
			},
			heads2: []bool{true, false}},
		{name: "head: same", sig: SigUnsigned, ok: true,
			heads:  func(h string) []HeadClaim { return []HeadClaim{{h, "--head"}} },
			heads2: []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := archive.Open(ctx, t.TempDir(), archive.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			f := newLedgerFixture(t, st, nil)
			lines := f.edited(t, 1, func(m map[string]any) {
				if tt.signKey != "" {
					m["data"].(map[string]any)["signKeySha256"] = tt.signKey
				}
			})
			lines, head := rechain(t, lines)
			f.putLedger(t, lines)
			if tt.signWith != nil {
				f.putSignature(t, report.SignLedger(tt.signWith, f.runID, head, len(lines)))
			}
			src := StoreLedger(st, f.runID)
			src.SignedBy, src.SignedBySource = tt.signedBy, "summary.json"
			if tt.heads != nil {
				src.Heads = tt.heads(head)
			}
			var pub ed25519.PublicKey
			if tt.pub {
				pub = key.Public().(ed25519.PublicKey)
			}
			res := VerifyLedger(ctx, src, st, pub, LedgerHooks{})
			if res.Err != nil {
				t.Fatalf("chain: %v", res.Err)
			}
			if res.Signature.State != tt.sig {
				t.Errorf("signature %s (%v), want %s", res.Signature.State, res.Signature.Err, tt.sig)
			}
			if tt.where == "line1" && res.Signature.Where != src.Name+" line 1" {
				t.Errorf("signature finding at %q, want %q", res.Signature.Where, src.Name+" line 1")
			}
			if res.Check.SignKeySHA256 != tt.signKey {
				t.Errorf("check's signing key %q, want run-start's %q", res.Check.SignKeySHA256, tt.signKey)
			}
			if len(res.Heads) != len(tt.heads2) {
				t.Fatalf("%d head checks, want %d", len(res.Heads), len(tt.heads2))
			}
			for i, h := range res.Heads {
				if h.OK != tt.heads2[i] {
					t.Errorf("head %s from %s: ok %v, want %v (ledger's %s)", h.Head, h.Source, h.OK, tt.heads2[i], head)
				}
			}
			if res.OK() != tt.ok {
				t.Errorf("OK() = %v, want %v", res.OK(), tt.ok)
			}
		})
	}
}

// TestVerifyLedgerHeadOfABrokenChain: a broken chain has no head to
// compare: no head check, and the ledger fails on its break.
func TestVerifyLedgerHeadOfABrokenChain(t *testing.T) {
	ctx := context.Background()
	st, err := archive.Open(ctx, t.TempDir(), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newLedgerFixture(t, st, nil)
	f.putLedger(t, f.lines[:len(f.lines)-1])
	src := StoreLedger(st, f.runID)
	src.Heads = []HeadClaim{{strings.Repeat("a", 64), "--head"}}
	res := VerifyLedger(ctx, src, st, nil, LedgerHooks{})
	if res.Broken() == nil || len(res.Heads) != 0 || res.OK() {
		t.Errorf("broken %v, %d head checks, ok %v; want broken, none, not ok", res.Broken(), len(res.Heads), res.OK())
	}
}
