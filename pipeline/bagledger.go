package pipeline

// A bag carries the custody ledger of every run whose head its
// bag-info.txt states, so that the head can be checked from the bag alone:
// the ledger at data/_meetarchive/ledger/<run id>.jsonl (its key in the
// destination), and its signature beside it when the destination holds one.
// Both are payload files, re-checked as they are copied like every object.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"meetarchive/archive"
	"meetarchive/report"
)

// BagRun is a run whose custody ledger head a bag states (a Ledger-Head
// line): its id and what its summary.json says of its ledger.
type BagRun struct {
	RunID   string
	Ledger  report.LedgerInfo
	Summary string // the summary.json it was read from
}

// maxBagLedger caps a ledger read back from a bag to be checked (a run's
// is a few hundred bytes a conference): a bigger one is no ledger the tool
// wrote, and its check would hold too much of it.
const maxBagLedger = 64 << 20

// LedgerObjects are the objects that carry each run's custody ledger into
// a bag: the ledger (LedgerKey) and its signature (LedgerSignatureKey),
// each at its key under data/, read from --dest or else from the
// destination the run's summary says it stored the ledger in (its URI less
// its key). The ledger must be there (else the bag fails, missing): its
// chain must verify and end at the head the summary states, for that run;
// the signature, when there (it must be when the summary records that it
// was stored), must name that run, head and line count. Its Ed25519
// signature is not verified: that needs the signer's public key, which a
// bag is not given. A run whose summary gives no ledger URI (it could not
// store its ledger in the destination) is bagged with its report's copy,
// ledger.jsonl beside its summary.json, checked the same. A run whose
// ledger cannot be located is a problem.
func (b *BagStores) LedgerObjects(ctx context.Context, runs []BagRun) (objs []BagObject, problems []string, err error) {
	for _, run := range runs {
		if run.RunID == "" || strings.ContainsAny(run.RunID, "/\\") || CheckBagPath(LedgerKey(run.RunID)) != nil {
			problems = append(problems, fmt.Sprintf("%s: ledger head %s is stated for run id %q, which names no ledger a bag can hold", run.Summary, run.Ledger.Head, run.RunID))
			continue
		}
		if !isHexSHA256(run.Ledger.Head) {
			problems = append(problems, fmt.Sprintf("run %s: %s states ledger head %q, not a SHA-256", run.RunID, run.Summary, run.Ledger.Head))
			continue
		}
		key, sigKey := LedgerKey(run.RunID), LedgerSignatureKey(run.RunID)
		if run.Ledger.URI == "" {
			// The run could not store its ledger in the destination
			// (summary.json's ledger error): its report's copy is the
			// ledger, checked the same; no signature was stored.
			copyPath := filepath.Join(filepath.Dir(run.Summary), report.LedgerFile)
			objs = append(objs, BagObject{Path: key, Store: fileOpener(copyPath), Key: key, URI: copyPath, Bytes: -1, Check: run.checkLedger})
			continue
		}
		st := BagOpener(b.dest)
		if b.dest == nil {
			root, ok := ledgerRoot(run.Ledger.URI, run.RunID)
			if !ok {
				problems = append(problems, fmt.Sprintf("run %s: %s states ledger head %s but its ledger uri %q is not <destination>/%s: the head cannot be checked without the ledger; give --dest where it is stored",
					run.RunID, run.Summary, run.Ledger.Head, run.Ledger.URI, LedgerKey(run.RunID)))
				continue
			}
			s, err := b.at(ctx, root)
			if err != nil {
				return nil, nil, err
			}
			st = s
		}
		objs = append(objs,
			BagObject{Path: key, Store: st, Key: key, URI: st.URI(key), Bytes: -1, Check: run.checkLedger},
			BagObject{Path: sigKey, Store: st, Key: sigKey, URI: st.URI(sigKey), Bytes: -1, Check: run.checkSignature,
				Optional: run.Ledger.SignatureURI == ""})
	}
	return objs, problems, nil
}

// fileOpener is one local file as a BagOpener (whatever the key): a
// report's copy of its run's ledger.
type fileOpener string

func (f fileOpener) Open(_ context.Context, _ string) (io.ReadCloser, error) {
	r, err := os.Open(string(f))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", string(f), archive.ErrNotExist)
	}
	return r, err
}

func (f fileOpener) URI(string) string { return string(f) }

// ledgerRoot is the destination root of a ledger URI (a path or an s3://
// URI ending with LedgerKey(runID)).
func ledgerRoot(uri, runID string) (string, bool) {
	for _, key := range []string{LedgerKey(runID), filepath.FromSlash(LedgerKey(runID))} {
		root, ok := strings.CutSuffix(uri, key)
		if ok && (strings.HasSuffix(root, "/") || strings.HasSuffix(root, string(filepath.Separator))) &&
			(strings.HasPrefix(root, "s3://") || filepath.IsAbs(root)) {
			return root, true
		}
	}
	return "", false
}

// checkLedger: the ledger's chain verifies (report.VerifyLedger), it is
// this run's and it ends at the head (and line count) the summary states.
func (run BagRun) checkLedger(r io.Reader) error {
	lr := &io.LimitedReader{R: r, N: maxBagLedger + 1}
	c, err := report.VerifyLedger(lr)
	head := strings.ToLower(run.Ledger.Head)
	switch {
	case lr.N <= 0:
		return fmt.Errorf("custody ledger of run %s: more than %d MiB: not a ledger meetarchive wrote", run.RunID, maxBagLedger>>20)
	case err != nil:
		return fmt.Errorf("custody ledger of run %s: chain broken: %w", run.RunID, err)
	case c.RunID != run.RunID:
		return fmt.Errorf("custody ledger of run %s: its run-start names run %q", run.RunID, c.RunID)
	case c.Head != head:
		return fmt.Errorf("custody ledger of run %s: ends at head %s after %d lines; bag-info.txt's Ledger-Head (from %s) is %s",
			run.RunID, c.Head, c.Lines, run.Summary, head)
	case run.Ledger.Lines > 0 && c.Lines != run.Ledger.Lines:
		return fmt.Errorf("custody ledger of run %s: %d lines; %s says its head covers %d", run.RunID, c.Lines, run.Summary, run.Ledger.Lines)
	}
	return nil
}

// checkSignature: the signature names this run, the head the summary
// states and its line count. Its Ed25519 signature is not verified here
// (no public key).
func (run BagRun) checkSignature(r io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(r, maxSignatureBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxSignatureBytes {
		return fmt.Errorf("custody ledger signature of run %s: more than %d bytes", run.RunID, maxSignatureBytes)
	}
	sig, err := parseSignature(b)
	if err != nil {
		return fmt.Errorf("custody ledger signature of run %s: %w", run.RunID, err)
	}
	head := strings.ToLower(run.Ledger.Head)
	switch {
	case sig.RunID != run.RunID:
		return fmt.Errorf("custody ledger signature of run %s: it is for run %q", run.RunID, sig.RunID)
	case sig.Head != head:
		return fmt.Errorf("custody ledger signature of run %s: it signs head %s; bag-info.txt's Ledger-Head (from %s) is %s", run.RunID, sig.Head, run.Summary, head)
	case run.Ledger.Lines > 0 && sig.Lines != run.Ledger.Lines:
		return fmt.Errorf("custody ledger signature of run %s: it signs %d lines; %s says the head covers %d", run.RunID, sig.Lines, run.Summary, run.Ledger.Lines)
	case sig.Message != report.LedgerSignedMessage(sig.RunID, sig.Head, sig.Lines):
		return fmt.Errorf("custody ledger signature of run %s: its signedBytes are not the run, head and lines it names", run.RunID)
	}
	return nil
}
