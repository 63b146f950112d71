package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"meetarchive/console"
	"meetarchive/report"
)

// cmdKeygen writes a new Ed25519 key pair for signing custody ledgers:
// the private key (PKCS #8 PEM, mode 0600) and the public key (PKIX PEM).
// It refuses to replace a file and prints the key's fingerprint, never the
// key.
func cmdKeygen(args []string, e env) error {
	c := newCommand("keygen", "--private-key FILE --public-key FILE",
		"Make an Ed25519 key pair to sign custody ledgers (run --sign-key) and check them (verify --ledger --public-key): "+
			"the private key as PKCS #8 PEM (mode 0600), the public key as PKIX PEM. It never replaces a file, and prints the "+
			"key's fingerprint, never the key. The same with OpenSSL: openssl genpkey -algorithm ed25519 -out FILE; "+
			"openssl pkey -in FILE -pubout -out PUBFILE.", e.stderr)
	var priv, pub string
	c.fs.StringVar(&priv, "private-key", "", "file to write the private key to (PKCS #8 PEM, mode 0600; must not exist); keep it secret")
	c.fs.StringVar(&pub, "public-key", "", "file to write the public key to (PKIX PEM; must not exist); give it to whoever verifies")
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	switch {
	case c.fs.NArg() > 0:
		return usagef("keygen: unexpected argument %q", c.fs.Arg(0))
	case priv == "" || pub == "":
		return usagef("keygen: --private-key and --public-key are required")
	case filepath.Clean(priv) == filepath.Clean(pub):
		return usagef("keygen: --private-key and --public-key are the same file %s", priv)
	}
	for _, f := range []struct{ flag, path string }{{"private-key", priv}, {"public-key", pub}} {
		if _, err := os.Lstat(f.path); err == nil {
			return usagef("keygen: --%s %s exists: keygen never replaces a key (remove it or choose another name)", f.flag, f.path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fileError("keygen", f.flag, f.path, err)
		}
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return &fatalError{Err: fmt.Errorf("keygen: %w", err)}
	}
	privPEM, pubPEM, err := report.MarshalKeyPair(key)
	if err != nil {
		return &fatalError{Err: fmt.Errorf("keygen: %w", err)}
	}
	if err := writeNewFile(priv, privPEM, 0o600); err != nil {
		return fileError("keygen", "private-key", priv, err)
	}
	if err := writeNewFile(pub, pubPEM, 0o644); err != nil {
		_ = os.Remove(priv) // a private key without its public key is of no use
		return fileError("keygen", "public-key", pub, err)
	}
	fp := report.KeyFingerprint(key.Public().(ed25519.PublicKey))
	fmt.Fprintf(e.stdout, "fingerprint %s\nprivate key %s (mode 0600: keep it secret; run --sign-key)\npublic key %s (verify --ledger --public-key)\n",
		fp, console.Text(console.AbsPath(priv)), console.Text(console.AbsPath(pub)))
	return nil
}

// writeNewFile creates path with data, failing if it exists (O_EXCL, so
// that a file made in the meantime is not replaced either), and syncs it.
func writeNewFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}
