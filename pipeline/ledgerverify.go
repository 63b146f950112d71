package pipeline

// verify --ledger: a run's custody ledger re-checked line by line
// (report.VerifyLedger), its signature against a public key, and every
// object it says was committed read back from the destination (the version
// it recorded, where the store keeps versions) and hashed.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"meetarchive/archive"
	"meetarchive/report"
)

// maxSignatureBytes bounds a signature file read back.
const maxSignatureBytes = 64 << 10

// LedgerStore is what verifying a ledger needs of a destination: its
// ledgers and signatures, and the objects the ledgers name. A store that
// also is an archive.VersionReader is read at the versions the ledger
// recorded.
type LedgerStore interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (archive.Object, error)
	GetMeta(ctx context.Context, key string, limit int64) ([]byte, string, error)
	List(ctx context.Context, prefix string, fn func(archive.Object) error) error
	URI(key string) string
}

// LedgerSource is one ledger to verify: where it is read, and where its
// signature is.
type LedgerSource struct {
	// Name is where the ledger is, for people (a URI or a path).
	Name string
	// RunID is the run the ledger must be of ("" when not known: a file).
	RunID string
	// Heads are heads the ledger must end at, each with where it was
	// read (--head, a report's summary.json): a ledger whose head
	// differs fails, so that its last lines cannot be changed unnoticed.
	Heads []HeadClaim
	// SignedBy is the signing key's fingerprint a report records for
	// the ledger (summary.json), with where it was read: with it, a
	// ledger without a signature fails as when its run-start says so.
	SignedBy, SignedBySource string

	open func(ctx context.Context) (io.ReadCloser, error)
	// signature reads the signature of run runID: nil and "" when there
	// is none; where it was looked for.
	signature func(ctx context.Context, runID string) (sig *report.LedgerSignature, where string, err error)
}

// HeadClaim is a head a ledger must end at, and where it was read.
type HeadClaim struct {
	Head   string // 64 lower-case hex digits
	Source string // "--head", or a summary.json's path
}

// HeadCheck is a HeadClaim compared with the ledger's head.
type HeadCheck struct {
	HeadClaim
	OK bool
}

// StoreLedger is run runID's ledger in st, its signature beside it.
func StoreLedger(st LedgerStore, runID string) LedgerSource {
	return LedgerSource{
		Name: st.URI(LedgerKey(runID)), RunID: runID,
		open: func(ctx context.Context) (io.ReadCloser, error) { return st.Open(ctx, LedgerKey(runID)) },
		signature: func(ctx context.Context, _ string) (*report.LedgerSignature, string, error) {
			return storeSignature(ctx, st, runID)
		},
	}
}

// FileLedger is a ledger in a local file (the report directory's copy, or
// one handed over). Its signature is sigPath when given; else the one st
// keeps for the ledger's run (st may be nil); else a file beside it named
// like it with .sig.json for .jsonl.
func FileLedger(file, sigPath string, st LedgerStore) LedgerSource {
	return LedgerSource{
		Name: file,
		open: func(context.Context) (io.ReadCloser, error) { return os.Open(file) },
		signature: func(ctx context.Context, runID string) (*report.LedgerSignature, string, error) {
			if sigPath != "" {
				sig, err := fileSignature(sigPath)
				if errors.Is(err, os.ErrNotExist) {
					return nil, sigPath, fmt.Errorf("signature %s: %w", sigPath, err)
				}
				return sig, sigPath, err
			}
			if st != nil && runID != "" && !strings.ContainsAny(runID, "/\\") {
				sig, where, err := storeSignature(ctx, st, runID)
				if sig != nil || err != nil {
					return sig, where, err
				}
			}
			if strings.HasSuffix(file, ".jsonl") {
				beside := strings.TrimSuffix(file, ".jsonl") + ".sig.json"
				sig, err := fileSignature(beside)
				if errors.Is(err, os.ErrNotExist) {
					return nil, "", nil
				}
				return sig, beside, err
			}
			return nil, "", nil
		},
	}
}

func storeSignature(ctx context.Context, st LedgerStore, runID string) (*report.LedgerSignature, string, error) {
	where := st.URI(LedgerSignatureKey(runID))
	b, _, err := st.GetMeta(ctx, LedgerSignatureKey(runID), maxSignatureBytes)
	if errors.Is(err, archive.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, where, fmt.Errorf("signature %s: %w", where, err)
	}
	sig, err := parseSignature(b)
	if err != nil {
		return nil, where, fmt.Errorf("signature %s: %w", where, err)
	}
	return sig, where, nil
}

func fileSignature(p string) (*report.LedgerSignature, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSignatureBytes+1))
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", p, err)
	}
	if len(b) > maxSignatureBytes {
		return nil, fmt.Errorf("signature %s: more than %d bytes", p, maxSignatureBytes)
	}
	sig, err := parseSignature(b)
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", p, err)
	}
	return sig, nil
}

func parseSignature(b []byte) (*report.LedgerSignature, error) {
	var sig report.LedgerSignature
	if err := json.Unmarshal(b, &sig); err != nil {
		return nil, fmt.Errorf("not a ledger signature: %w", err)
	}
	return &sig, nil
}

// LedgerRuns lists the run ids of every ledger st keeps, sorted (run ids
// start with the run's start time: oldest first).
func LedgerRuns(ctx context.Context, st LedgerStore) ([]string, error) {
	var runs []string
	err := st.List(ctx, LedgerDir+"/", func(o archive.Object) error {
		name := strings.TrimPrefix(o.Key, LedgerDir+"/")
		if id, ok := strings.CutSuffix(name, ".jsonl"); ok && !strings.Contains(id, "/") {
			runs = append(runs, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list ledgers in %s: %w", st.URI(LedgerDir+"/"), err)
	}
	slices.Sort(runs)
	return runs, nil
}

// Signature states of a verified ledger.
const (
	SigVerified   = "verified"    // the signature verifies with the public key given
	SigNotChecked = "not-checked" // signed, but no public key was given
	SigUnsigned   = "unsigned"    // no signature, none was asked for, and run-start records no signing key
	SigMissing    = "missing"     // run-start records a signing key, or a public key was given, and there is no signature
	SigBad        = "bad"         // the signature does not verify, or is for another ledger
	SigError      = "error"       // the signature could not be read
)

// Statuses of a ledger's object beside archive's Verify* ones.
const (
	// LedgerReplaced: the key holds another version than the one the
	// ledger recorded (the recorded version may still be there: the
	// finding says).
	LedgerReplaced = "replaced"
	// LedgerLockChanged: the recorded version's bytes are intact, but its
	// Object Lock is not what the ledger recorded: another mode, a
	// retention shortened (lengthened is fine), a legal hold lifted.
	LedgerLockChanged = "lock-changed"
)

// LedgerSignatureResult is what was found of a ledger's signature.
type LedgerSignatureResult struct {
	State     string // Sig*; "" when the ledger could not be read
	Where     string // where the signature was read ("" when none)
	KeySHA256 string // the signer's key fingerprint, as the signature names it
	Err       error  // why it is bad, missing or unreadable
}

// LedgerObjectResult is one object the ledger says was committed, read back.
type LedgerObjectResult struct {
	Line   int // the ledger line of its object event
	Object report.LedgerObject
	URI    string // where it was read
	Status string // archive.VerifyOK, VerifyMissing, VerifyMismatch, VerifyError, LedgerReplaced or LedgerLockChanged
	// GotBytes and GotSHA256 are what was read back (GotBytes -1 when
	// nothing was); GotVersion is the key's current version.
	GotBytes   int64
	GotSHA256  string
	GotVersion string
	Err        error
}

// LedgerResult is one ledger verified.
type LedgerResult struct {
	Ledger string             // where it was read
	Check  report.LedgerCheck // what the chain check found (up to a break)
	// Err is why the ledger fails as a record: a *report.LedgerBreak
	// naming the first broken line, or why it could not be read.
	Err       error
	Signature LedgerSignatureResult
	// Heads are the source's head claims compared with the ledger's
	// head (none when the chain is broken: its head is not known).
	Heads   []HeadCheck
	Objects []LedgerObjectResult
}

// OK reports whether the ledger is intact: its chain holds, its signature
// is not bad, missing or unreadable, and every object is there as recorded.
func (r LedgerResult) OK() bool {
	if r.Err != nil {
		return false
	}
	switch r.Signature.State {
	case SigBad, SigMissing, SigError:
		return false
	}
	for _, h := range r.Heads {
		if !h.OK {
			return false
		}
	}
	for _, o := range r.Objects {
		if o.Status != archive.VerifyOK {
			return false
		}
	}
	return true
}

// Broken is the first broken line of the ledger, nil when the chain holds.
func (r LedgerResult) Broken() *report.LedgerBreak {
	var b *report.LedgerBreak
	if errors.As(r.Err, &b) {
		return b
	}
	return nil
}

// Unreadable reports whether the ledger could not be read for a reason
// other than its absence (the destination unreachable, refused, ...): the
// check could not be made, which is not a finding about the ledger.
func (r LedgerResult) Unreadable() bool {
	return r.Err != nil && r.Broken() == nil && !errors.Is(r.Err, ErrNoLedger)
}

// ErrNoLedger: the ledger asked for is not there.
var ErrNoLedger = errors.New("no such ledger")

// LedgerVerifyConcurrency is how many objects VerifyLedger reads at once.
const LedgerVerifyConcurrency = archive.VerifyConcurrency

// LedgerHooks are what VerifyLedger tells as it goes.
type LedgerHooks struct {
	// Objects is called once the chain is read, before the objects are
	// read back, with them; the Progress it returns counts them (each
	// object's bytes, and each object done). nil, or a nil Progress: none.
	Objects func(objects []report.LedgerObject) Progress
}

// VerifyLedger verifies one ledger: its chain line by line, its signature
// (against pub when not nil; without pub a signature is still compared with
// the ledger's head, run and line count, but not checked), and every object
// it records, read back from st (nil: objects are not read) at the version
// it recorded and hashed, LedgerVerifyConcurrency at a time. Objects are
// read also when the chain breaks (those of the lines before the break).
func VerifyLedger(ctx context.Context, src LedgerSource, st LedgerStore, pub ed25519.PublicKey, hooks LedgerHooks) LedgerResult {
	res := LedgerResult{Ledger: src.Name}
	rc, err := src.open(ctx)
	if err != nil {
		if errors.Is(err, archive.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: %s", ErrNoLedger, src.Name)
		} else {
			err = fmt.Errorf("read ledger %s: %w", src.Name, err)
		}
		res.Err = err // the signature is not looked at (State "")
		return res
	}
	res.Check, res.Err = report.VerifyLedger(ctxRead{ctx, rc})
	_ = rc.Close()
	if res.Err == nil && src.RunID != "" && res.Check.RunID != src.RunID {
		res.Err = &report.LedgerBreak{Line: 1, Reason: fmt.Sprintf("run-start names run %q, but the ledger is kept as run %q's", res.Check.RunID, src.RunID)}
	}
	runID := res.Check.RunID
	if runID == "" {
		runID = src.RunID
	}
	res.Signature = checkSignature(ctx, src, runID, res, pub)
	if res.Err == nil {
		for _, h := range src.Heads {
			res.Heads = append(res.Heads, HeadCheck{HeadClaim: h, OK: strings.EqualFold(h.Head, res.Check.Head)})
		}
	}
	if st != nil {
		var prog Progress = NoProgress{}
		if hooks.Objects != nil {
			if p := hooks.Objects(res.Check.Objects); p != nil {
				prog = p
			}
		}
		res.Objects = verifyLedgerObjects(ctx, st, res.Check, prog)
	}
	return res
}

func checkSignature(ctx context.Context, src LedgerSource, runID string, res LedgerResult, pub ed25519.PublicKey) LedgerSignatureResult {
	sig, where, err := src.signature(ctx, runID)
	out := LedgerSignatureResult{Where: where}
	switch {
	case err != nil:
		out.State, out.Err = SigError, err
		return out
	case sig == nil && res.Check.SignKeySHA256 != "":
		// The chain's own first line says the run signed it: a signature
		// deleted must not pass for a run that signed nothing.
		out.State, out.Where = SigMissing, src.Name+" line 1"
		out.KeySHA256 = res.Check.SignKeySHA256
		out.Err = fmt.Errorf("run-start records that the run signed its ledger with key %s, but no signature was found (deleted?)", res.Check.SignKeySHA256)
		return out
	case sig == nil && src.SignedBy != "":
		out.State, out.Where, out.KeySHA256 = SigMissing, src.Name, src.SignedBy
		out.Err = fmt.Errorf("%s records that the run signed its ledger with key %s, but no signature was found (deleted?)", src.SignedBySource, src.SignedBy)
		return out
	case sig == nil && pub != nil:
		out.State, out.Err = SigMissing, fmt.Errorf("a public key was given (%s), but the ledger has no signature", report.KeyFingerprint(pub))
		return out
	case sig == nil:
		out.State = SigUnsigned
		return out
	}
	out.KeySHA256 = sig.KeySHA256
	if k := res.Check.SignKeySHA256; k != "" && res.Err == nil && sig.KeySHA256 != k {
		out.State, out.Err = SigBad, fmt.Errorf("%w: signed by key %s, but run-start records key %s", report.ErrBadSignature, sig.KeySHA256, k)
		return out
	}
	if res.Err != nil {
		out.State, out.Err = SigBad, fmt.Errorf("%w: the ledger's chain is broken, so its head is not the one signed", report.ErrBadSignature)
		return out
	}
	if pub == nil {
		// The key is not known, but a signature for another head, run or
		// line count is evidence of a change all the same.
		c := res.Check
		switch {
		case sig.Head != c.Head || sig.Lines != c.Lines:
			out.State, out.Err = SigBad, fmt.Errorf("%w: it signs head %s of %d lines; the ledger's head is %s after %d lines (lines were added, removed or changed after signing)",
				report.ErrBadSignature, sig.Head, sig.Lines, c.Head, c.Lines)
		case sig.RunID != c.RunID:
			out.State, out.Err = SigBad, fmt.Errorf("%w: it is for run %q, the ledger for run %q", report.ErrBadSignature, sig.RunID, c.RunID)
		default:
			out.State = SigNotChecked
		}
		return out
	}
	if err := sig.Verify(pub, res.Check); err != nil {
		out.State, out.Err = SigBad, err
		return out
	}
	out.State = SigVerified
	return out
}

// verifyLedgerObjects reads back every object of c, in ledger order.
func verifyLedgerObjects(ctx context.Context, st LedgerStore, c report.LedgerCheck, prog Progress) []LedgerObjectResult {
	out := make([]LedgerObjectResult, len(c.Objects))
	next := make(chan int)
	var (
		wg sync.WaitGroup
		mu sync.Mutex // prog is called from one goroutine at a time
	)
	for range min(LedgerVerifyConcurrency, len(c.Objects)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = verifyLedgerObject(ctx, st, c.Objects[i], c.ObjectLines[i])
				mu.Lock()
				prog.AddBytes(max(out[i].GotBytes, 0))
				prog.ConferenceDone()
				mu.Unlock()
			}
		}()
	}
	for i := range c.Objects {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// versionOpener opens one version of every key (archive.Opener).
type versionOpener struct {
	vr      archive.VersionReader
	version string
}

func (v versionOpener) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return v.vr.OpenVersion(ctx, key, v.version)
}

// verifyLedgerObject reads one object back: the key's current object must
// be there (at the recorded version, where one was recorded), and the
// recorded version's bytes must have the recorded size and SHA-256.
func verifyLedgerObject(ctx context.Context, st LedgerStore, o report.LedgerObject, line int) LedgerObjectResult {
	r := LedgerObjectResult{Line: line, Object: o, GotBytes: -1}
	r.URI = st.URI(o.Key)
	if err := ctx.Err(); err != nil {
		r.Status, r.Err = archive.VerifyError, err
		return r
	}
	vr, versioned := st.(archive.VersionReader)
	if o.VersionID != "" && !versioned {
		r.Status, r.Err = archive.VerifyError, fmt.Errorf("the ledger records version %s, and this destination reads no versions", o.VersionID)
		return r
	}
	cur, err := st.Stat(ctx, o.Key)
	switch {
	case errors.Is(err, archive.ErrNotExist):
		r.Status, r.Err = archive.VerifyMissing, errors.New("no object at this key (deleted)")
		if o.VersionID != "" {
			r.Err = fmt.Errorf("no current object at this key (deleted)%s", versionFate(ctx, vr, o))
		}
		return r
	case err != nil:
		r.Status, r.Err = archive.VerifyError, err
		return r
	}
	r.GotVersion = cur.VersionID
	if o.VersionID != "" && cur.VersionID != o.VersionID {
		r.Status = LedgerReplaced
		r.Err = fmt.Errorf("the key's current version is %s, not the recorded %s%s", cur.VersionID, o.VersionID, versionFate(ctx, vr, o))
		return r
	}
	var op archive.Opener = st
	if o.VersionID != "" {
		op = versionOpener{vr, o.VersionID}
	}
	r.GotSHA256, r.GotBytes, err = archive.HashObject(ctx, op, o.Key)
	switch {
	case errors.Is(err, archive.ErrNotExist):
		r.Status, r.Err = archive.VerifyMissing, errors.New("no object at this key (deleted while read)")
	case err != nil:
		r.Status, r.Err = archive.VerifyError, err
	case !strings.EqualFold(r.GotSHA256, o.SHA256):
		r.Status, r.Err = archive.VerifyMismatch, fmt.Errorf("%w: %d bytes with sha256 %s; the ledger records %d bytes with sha256 %s", archive.ErrIntegrity, r.GotBytes, r.GotSHA256, o.Bytes, o.SHA256)
	case r.GotBytes != o.Bytes:
		r.Status, r.Err = archive.VerifyMismatch, fmt.Errorf("%w: %d bytes; the ledger records %d", archive.ErrIntegrity, r.GotBytes, o.Bytes)
	default:
		r.Status = archive.VerifyOK
		if o.VersionID != "" && (o.LockMode != "" || o.LegalHold) {
			r.Status, r.Err = checkLock(ctx, vr, o, cur)
		}
	}
	return r
}

// checkLock compares the recorded version's Object Lock with the ledger's.
// cur is that version as Stat read it (the key's current version): when
// it already shows the recorded lock, nothing more is read; else the
// version's lock is read again (StatVersion, which completes retention
// and legal hold a HEAD may not show) and that decides.
func checkLock(ctx context.Context, vr archive.VersionReader, o report.LedgerObject, cur archive.Object) (string, error) {
	if len(lockChanges(o, cur)) == 0 {
		return archive.VerifyOK, nil
	}
	got, err := vr.StatVersion(ctx, o.Key, o.VersionID)
	if err != nil {
		return archive.VerifyError, fmt.Errorf("read its lock: %w", err)
	}
	if changes := lockChanges(o, got); len(changes) > 0 {
		return LedgerLockChanged, fmt.Errorf("bytes intact, but its Object Lock changed: %s", strings.Join(changes, "; "))
	}
	return archive.VerifyOK, nil
}

// lockChanges says how got's Object Lock differs from the ledger's record.
func lockChanges(o report.LedgerObject, got archive.Object) []string {
	var changes []string
	if o.LockMode != "" && got.LockMode != o.LockMode {
		mode := got.LockMode
		if mode == "" {
			mode = "none (or none readable)"
		}
		changes = append(changes, fmt.Sprintf("retention mode %s, recorded %s", mode, o.LockMode))
	}
	if !o.RetainUntil.IsZero() && got.RetainUntil.Before(o.RetainUntil) {
		changes = append(changes, fmt.Sprintf("retained until %s, recorded %s (shortened)", lockTime(got.RetainUntil), lockTime(o.RetainUntil)))
	}
	if o.LegalHold && !got.LegalHold {
		changes = append(changes, "legal hold lifted (recorded on)")
	}
	return changes
}

func lockTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// versionFate says whether the recorded version of a replaced or deleted
// object is still there and intact.
func versionFate(ctx context.Context, vr archive.VersionReader, o report.LedgerObject) string {
	sum, n, err := archive.HashObject(ctx, versionOpener{vr, o.VersionID}, o.Key)
	switch {
	case errors.Is(err, archive.ErrNotExist):
		return "; the recorded version is gone too"
	case err != nil:
		return fmt.Sprintf("; the recorded version could not be read: %v", err)
	case strings.EqualFold(sum, o.SHA256) && n == o.Bytes:
		return "; the recorded version is still there, intact"
	default:
		return fmt.Sprintf("; the recorded version reads %d bytes with sha256 %s, not as recorded", n, sum)
	}
}

// ctxRead stops reading when ctx is done.
type ctxRead struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxRead) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// LedgerOfPath tells whether p (a local path or an s3:// URI) is a ledger
// kept in a destination, ".../_meetarchive/ledger/<run id>.jsonl": then it
// returns the destination's root (what --dest would be) and the run id.
func LedgerOfPath(p string) (dest, runID string, ok bool) {
	dir, file := path.Split(p)
	runID, isLedger := strings.CutSuffix(file, ".jsonl")
	root, inDest := strings.CutSuffix(dir, LedgerDir+"/")
	if !isLedger || !inDest || runID == "" {
		return "", "", false
	}
	if root == "" {
		root = "."
	}
	return root, runID, true
}
