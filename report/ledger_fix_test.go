package report

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// TestKeyOfAnotherAlgorithm: a PKCS #8 or PKIX key that is not Ed25519 is
// named by its algorithm, never by its Go type.
func TestKeyOfAnotherAlgorithm(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv := func(k any) []byte {
		b, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
	}
	pub := func(k any) []byte {
		b, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: b})
	}
	tests := []struct {
		name  string
		parse func([]byte) error
		pem   []byte
		want  string
	}{
		{"RSA private", func(b []byte) error { _, err := ParsePrivateKey(b); return err }, priv(rk), "an RSA key, not an Ed25519 key"},
		{"ECDSA private", func(b []byte) error { _, err := ParsePrivateKey(b); return err }, priv(ek), "an ECDSA key, not an Ed25519 key"},
		{"RSA public", func(b []byte) error { _, err := ParsePublicKey(b); return err }, pub(&rk.PublicKey), "an RSA key, not an Ed25519 key"},
		{"ECDSA public", func(b []byte) error { _, err := ParsePublicKey(b); return err }, pub(&ek.PublicKey), "an ECDSA key, not an Ed25519 key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.pem)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
