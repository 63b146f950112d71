package pipeline

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"meetarchive/archive"
	"meetarchive/report"
)

// Where a run's custody ledger is kept in the destination (the layout the
// run writes and verify --ledger reads).
const LedgerDir = archive.SidecarDir + "/ledger"

// LedgerKey is the key of run runID's ledger in the destination.
func LedgerKey(runID string) string { return LedgerDir + "/" + runID + ".jsonl" }

// LedgerSignatureKey is the key of its signature (a report.LedgerSignature).
func LedgerSignatureKey(runID string) string { return LedgerDir + "/" + runID + ".sig.json" }

// maxKeyFile bounds what ReadSignKey reads: a PEM Ed25519 key is 119 bytes.
const maxKeyFile = 64 << 10

// ReadSignKey reads the Ed25519 private key (PEM, PKCS #8) that signs a
// run's custody ledger. Its errors say what is wrong with the file without
// naming it (the caller does) and never quote a byte of it.
func ReadSignKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errors.New("no such file")
	case err != nil:
		return nil, osReason(err)
	case !fi.Mode().IsRegular():
		return nil, errors.New("not a regular file")
	case fi.Size() > maxKeyFile:
		return nil, fmt.Errorf("%d bytes: not an Ed25519 key", fi.Size())
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, osReason(err)
	}
	return report.ParsePrivateKey(pem)
}

// osReason is an os error without the path it names (its *fs.PathError's
// cause), or err itself.
func osReason(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}
