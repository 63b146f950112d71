package pipeline

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/report"
)

// ledgerFixture is a destination holding three real objects and a run's
// ledger of them (lines: 1 run-start, 2 object a, 3 object b, 4 commit,
// 5 object c, 6 run-end), signed or not.
type ledgerFixture struct {
	st      archive.Store
	root    string // the directory of a DirStore, "" for S3
	bucket  *archivetest.Bucket
	prefix  string // the S3 prefix
	runID   string
	lines   [][]byte // the ledger as written, without newlines
	objects []archive.Object
	key     ed25519.PrivateKey
}

const ledgerTestRun = "20261207T044100Z-abc123"

// objectLines are the ledger lines of the fixture's objects.
var objectLines = []int{2, 3, 5}

func newLedgerFixture(t *testing.T, st archive.Store, key ed25519.PrivateKey) *ledgerFixture {
	t.Helper()
	ctx := context.Background()
	f := &ledgerFixture{st: st, runID: ledgerTestRun, key: key}
	for i, name := range []string{"a", "b", "c"} {
		data := bytes.Repeat([]byte(name), 1000+i*7777)
		obj, err := st.Put(ctx, "rec/"+name+".mp4", bytes.NewReader(data), archive.Expect{Size: int64(len(data)), PlatformSize: archive.Unknown})
		if err != nil {
			t.Fatalf("put %s: %v", name, err)
		}
		f.objects = append(f.objects, obj)
	}
	var buf bytes.Buffer
	l := report.NewLedger(&buf)
	obj := func(o archive.Object) report.LedgerObject {
		return report.LedgerObject{ConfUUID: "conf-1", Key: o.Key, URI: o.URI, Bytes: o.Bytes, SHA256: o.SHA256, VersionID: o.VersionID,
			LockMode: o.LockMode, RetainUntil: o.RetainUntil, LegalHold: o.LegalHold}
	}
	for _, e := range []struct {
		typ  string
		data any
	}{
		{report.EventRunStart, map[string]any{"runId": f.runID, "tool": "meetarchive", "version": "test"}},
		{report.EventObject, obj(f.objects[0])},
		{report.EventObject, obj(f.objects[1])},
		{report.EventCommit, map[string]any{"confUUID": "conf-1"}},
		{report.EventObject, obj(f.objects[2])},
		{report.EventRunEnd, map[string]any{"exitCode": 0}},
	} {
		if err := l.Append(e.typ, e.data); err != nil {
			t.Fatal(err)
		}
	}
	f.lines = bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	f.putLedger(t, f.lines)
	if key != nil {
		f.putSignature(t, report.SignLedger(key, f.runID, l.Head(), l.Lines()))
	}
	return f
}

func (f *ledgerFixture) putLedger(t *testing.T, lines [][]byte) {
	t.Helper()
	data := append(bytes.Join(lines, []byte("\n")), '\n')
	if len(lines) == 0 {
		data = nil
	}
	if _, err := f.st.PutMeta(context.Background(), LedgerKey(f.runID), data, archive.Meta{Record: true}); err != nil {
		t.Fatal(err)
	}
}

func (f *ledgerFixture) putSignature(t *testing.T, sig report.LedgerSignature) {
	t.Helper()
	b, err := json.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.PutMeta(context.Background(), LedgerSignatureKey(f.runID), b, archive.Meta{Record: true}); err != nil {
		t.Fatal(err)
	}
}

// edit changes line n (1-based) with fn on its decoded form.
func (f *ledgerFixture) edited(t *testing.T, n int, fn func(map[string]any)) [][]byte {
	t.Helper()
	lines := slices.Clone(f.lines)
	var m map[string]any
	if err := json.Unmarshal(lines[n-1], &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	lines[n-1] = b
	return lines
}

// rechain recomputes every line's seq and prev, as a forger who knows the
// format would: the chain holds again.
func rechain(t *testing.T, lines [][]byte) ([][]byte, string) {
	t.Helper()
	prev := strings.Repeat("0", 64)
	out := make([][]byte, len(lines))
	for i, line := range lines {
		var l struct {
			Seq  int             `json:"seq"`
			Time time.Time       `json:"time"`
			Prev string          `json:"prev"`
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatal(err)
		}
		l.Seq, l.Prev = i+1, prev
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
		sum := sha256.Sum256(b)
		prev = hex.EncodeToString(sum[:])
	}
	return out, prev
}

// overwrite replaces object i's bytes behind the tool's back: the file
// rewritten in place (directory), a new version put (S3).
func (f *ledgerFixture) overwrite(t *testing.T, i int) {
	t.Helper()
	o := f.objects[i]
	data := bytes.Repeat([]byte("x"), int(o.Bytes))
	if f.root != "" {
		if err := os.WriteFile(filepath.Join(f.root, filepath.FromSlash(o.Key)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := f.bucket.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(f.bucket.Name), Key: aws.String(f.prefix + o.Key), Body: bytes.NewReader(data),
	}); err != nil {
		t.Fatal(err)
	}
}

// deleteVersion removes the very version the ledger recorded (S3).
func (f *ledgerFixture) deleteVersion(t *testing.T, i int) {
	t.Helper()
	o := f.objects[i]
	if _, err := f.bucket.Client.DeleteObject(context.Background(), &s3.DeleteObjectInput{
		Bucket: aws.String(f.bucket.Name), Key: aws.String(f.prefix + o.Key), VersionId: aws.String(o.VersionID),
	}); err != nil {
		t.Fatal(err)
	}
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ledgerCase is one tampering (or none) and what verify --ledger must find.
type ledgerCase struct {
	name   string
	signed bool
	pub    func(t *testing.T, f *ledgerFixture) ed25519.PublicKey // nil: no key given
	tamper func(t *testing.T, f *ledgerFixture)
	ok     bool
	// breakLine is the first broken line (-1: the chain holds), with a
	// part of its reason.
	breakLine       int
	reason          string
	sig             string         // the signature state
	sigErr          string         // part of the signature's finding
	objects         map[int]string // ledger line -> status where not ok
	versioned       map[int]string // the same on a store with versions, where it differs
	detail          map[int]string // ledger line -> part of the finding
	versionedDetail map[int]string // the same on a store with versions, where it differs
}

func fixtureKey(_ *testing.T, f *ledgerFixture) ed25519.PublicKey {
	return f.key.Public().(ed25519.PublicKey)
}

func otherKey(t *testing.T, _ *ledgerFixture) ed25519.PublicKey {
	return newKey(t).Public().(ed25519.PublicKey)
}

var ledgerCases = []ledgerCase{
	{name: "intact unsigned", breakLine: -1, ok: true, sig: SigUnsigned},
	{name: "intact signed, key given", signed: true, pub: fixtureKey, breakLine: -1, ok: true, sig: SigVerified},
	{name: "intact signed, no key given", signed: true, breakLine: -1, ok: true, sig: SigNotChecked},
	{name: "edited object line", signed: true, pub: fixtureKey,
		tamper: func(t *testing.T, f *ledgerFixture) {
			f.putLedger(t, f.edited(t, 3, func(m map[string]any) { m["data"].(map[string]any)["bytes"] = 1 }))
		},
		breakLine: 4, reason: "line 3 was changed", sig: SigBad, sigErr: "chain is broken",
		// The changed line itself parses: its claim is read back, and is false.
		objects: map[int]string{3: archive.VerifyMismatch}, detail: map[int]string{3: "the ledger records 1"}},
	{name: "edited run-start line", tamper: func(t *testing.T, f *ledgerFixture) {
		f.putLedger(t, f.edited(t, 1, func(m map[string]any) { m["data"].(map[string]any)["version"] = "forged" }))
	}, breakLine: 2, reason: "line 1 was changed", sig: SigUnsigned},
	{name: "deleted line", tamper: func(t *testing.T, f *ledgerFixture) {
		f.putLedger(t, slices.Delete(slices.Clone(f.lines), 2, 3))
	}, breakLine: 3, reason: "seq 4 where 3 was expected", sig: SigUnsigned},
	{name: "reordered lines", tamper: func(t *testing.T, f *ledgerFixture) {
		lines := slices.Clone(f.lines)
		lines[1], lines[2] = lines[2], lines[1]
		f.putLedger(t, lines)
	}, breakLine: 2, reason: "seq 3 where 2 was expected", sig: SigUnsigned},
	{name: "truncated after a line", signed: true, pub: fixtureKey, tamper: func(t *testing.T, f *ledgerFixture) {
		f.putLedger(t, f.lines[:5])
	}, breakLine: 5, reason: "ends without run-end", sig: SigBad},
	{name: "truncated within a line", tamper: func(t *testing.T, f *ledgerFixture) {
		lines := slices.Clone(f.lines[:4])
		lines[3] = lines[3][:len(lines[3])/2]
		f.putLedger(t, lines)
	}, breakLine: 4, reason: "not a ledger line", sig: SigUnsigned},
	{name: "emptied", tamper: func(t *testing.T, f *ledgerFixture) { f.putLedger(t, nil) },
		breakLine: 0, reason: "empty", sig: SigUnsigned},
	{name: "re-chained edit, signed", signed: true, pub: fixtureKey, tamper: func(t *testing.T, f *ledgerFixture) {
		lines, _ := rechain(t, f.edited(t, 2, func(m map[string]any) { m["data"].(map[string]any)["confUUID"] = "conf-2" }))
		f.putLedger(t, lines)
	}, breakLine: -1, sig: SigBad, sigErr: "changed after signing"},
	{name: "re-chained edit, signed, no key given", signed: true, tamper: func(t *testing.T, f *ledgerFixture) {
		lines, _ := rechain(t, f.edited(t, 2, func(m map[string]any) { m["data"].(map[string]any)["confUUID"] = "conf-2" }))
		f.putLedger(t, lines)
	}, breakLine: -1, sig: SigBad, sigErr: "changed after signing"},
	{name: "re-chained edit of a hash, unsigned", tamper: func(t *testing.T, f *ledgerFixture) {
		lines, _ := rechain(t, f.edited(t, 5, func(m map[string]any) { m["data"].(map[string]any)["sha256"] = strings.Repeat("ab", 32) }))
		f.putLedger(t, lines)
	}, breakLine: -1, sig: SigUnsigned, objects: map[int]string{5: archive.VerifyMismatch}, detail: map[int]string{5: "the ledger records"}},
	{name: "re-chained, re-signed with another key", signed: true, pub: fixtureKey, tamper: func(t *testing.T, f *ledgerFixture) {
		lines, head := rechain(t, f.edited(t, 2, func(m map[string]any) { m["time"] = "2020-01-01T00:00:00Z" }))
		f.putLedger(t, lines)
		f.putSignature(t, report.SignLedger(newKey(t), f.runID, head, len(lines)))
	}, breakLine: -1, sig: SigBad, sigErr: "not by the key given"},
	{name: "wrong public key", signed: true, pub: otherKey,
		breakLine: -1, sig: SigBad, sigErr: "not by the key given"},
	{name: "signature of another head", signed: true, pub: fixtureKey, tamper: func(t *testing.T, f *ledgerFixture) {
		f.putSignature(t, report.SignLedger(f.key, f.runID, strings.Repeat("1", 64), len(f.lines)))
	}, breakLine: -1, sig: SigBad, sigErr: "it signs head"},
	{name: "signature of another run", signed: true, pub: fixtureKey, tamper: func(t *testing.T, f *ledgerFixture) {
		_, head := rechain(t, f.lines)
		f.putSignature(t, report.SignLedger(f.key, "20200101T000000Z-000000", head, len(f.lines)))
	}, breakLine: -1, sig: SigBad, sigErr: "for run"},
	{name: "key given, no signature", pub: otherKey, breakLine: -1, sig: SigMissing, sigErr: "no signature"},
	{name: "object altered", tamper: func(t *testing.T, f *ledgerFixture) { f.overwrite(t, 1) },
		breakLine: -1, sig: SigUnsigned,
		objects: map[int]string{3: archive.VerifyMismatch}, versioned: map[int]string{3: LedgerReplaced},
		detail: map[int]string{3: "the ledger records"}, versionedDetail: map[int]string{3: "not the recorded"}},
	{name: "object deleted", tamper: func(t *testing.T, f *ledgerFixture) {
		if err := f.st.Delete(context.Background(), f.objects[2].Key); err != nil {
			t.Fatal(err)
		}
	}, breakLine: -1, sig: SigUnsigned, objects: map[int]string{5: archive.VerifyMissing}, detail: map[int]string{5: "deleted"}},
}

// checkLedgerCase verifies f after tc's tampering and compares.
func checkLedgerCase(t *testing.T, tc ledgerCase, f *ledgerFixture, versioned bool) {
	t.Helper()
	if tc.tamper != nil {
		tc.tamper(t, f)
	}
	var pub ed25519.PublicKey
	if tc.pub != nil {
		pub = tc.pub(t, f)
	}
	var prog *ledgerProgress
	hooks := LedgerHooks{Objects: func(objs []report.LedgerObject) Progress {
		prog = &ledgerProgress{announced: len(objs)}
		return prog
	}}
	res := VerifyLedger(context.Background(), StoreLedger(f.st, f.runID), f.st, pub, hooks)
	if prog == nil && res.Broken() == nil {
		t.Errorf("the Objects hook was not called")
	}
	if prog != nil {
		var read int64
		for _, o := range res.Objects {
			read += max(o.GotBytes, 0)
		}
		if prog.announced != len(res.Objects) || prog.done != len(res.Objects) || prog.bytes != read {
			t.Errorf("progress: %d objects announced, %d done, %d bytes; want %d, %d, %d", prog.announced, prog.done, prog.bytes, len(res.Objects), len(res.Objects), read)
		}
	}
	if got := res.OK(); got != tc.ok {
		t.Errorf("OK() = %v, want %v; result %+v", got, tc.ok, res)
	}
	b := res.Broken()
	switch {
	case tc.breakLine < 0 && res.Err != nil:
		t.Errorf("ledger error %v, want the chain to hold", res.Err)
	case tc.breakLine >= 0 && b == nil:
		t.Errorf("ledger error %v, want a break at line %d", res.Err, tc.breakLine)
	case tc.breakLine >= 0 && (b.Line != tc.breakLine || !strings.Contains(b.Reason, tc.reason)):
		t.Errorf("break at line %d (%s), want line %d (%q)", b.Line, b.Reason, tc.breakLine, tc.reason)
	}
	if res.Signature.State != tc.sig {
		t.Errorf("signature %s (%v), want %s", res.Signature.State, res.Signature.Err, tc.sig)
	}
	if tc.sigErr != "" && (res.Signature.Err == nil || !strings.Contains(res.Signature.Err.Error(), tc.sigErr)) {
		t.Errorf("signature finding %v, want it to say %q", res.Signature.Err, tc.sigErr)
	}
	if tc.signed && res.Signature.KeySHA256 == "" && res.Signature.State != SigError {
		t.Errorf("signature names no key")
	}
	// Every object the chain holds up to its break is read back: all
	// three when it holds.
	wantN := len(res.Check.Objects)
	if b == nil {
		wantN = len(objectLines)
	}
	if len(res.Objects) != wantN || len(res.Check.Objects) > len(objectLines) {
		t.Errorf("%d objects read back, %d in the ledger's intact lines; want %d", len(res.Objects), len(res.Check.Objects), wantN)
	}
	for _, o := range res.Objects {
		want := archive.VerifyOK
		if s, ok := tc.objects[o.Line]; ok {
			want = s
		}
		if s, ok := tc.versioned[o.Line]; ok && versioned {
			want = s
		}
		if o.Status != want {
			t.Errorf("object of line %d (%s): %s (%v), want %s", o.Line, o.URI, o.Status, o.Err, want)
		}
		d := tc.detail[o.Line]
		if vd, ok := tc.versionedDetail[o.Line]; ok && versioned {
			d = vd
		}
		if d != "" && (o.Err == nil || !strings.Contains(o.Err.Error(), d)) {
			t.Errorf("object of line %d: finding %v, want it to say %q", o.Line, o.Err, d)
		}
		if b == nil && !slices.Contains(objectLines, o.Line) || b != nil && o.Line > b.Line {
			t.Errorf("object reported at line %d: not an object line of the intact chain (break %v)", o.Line, b)
		}
	}
}

// TestVerifyLedgerDirStore: each tampering of a ledger, its signature or
// its objects in a directory destination is caught with its line.
func TestVerifyLedgerDirStore(t *testing.T) {
	for _, tc := range ledgerCases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			st, err := archive.Open(context.Background(), root, archive.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var key ed25519.PrivateKey
			if tc.signed {
				key = newKey(t)
			}
			f := newLedgerFixture(t, st, key)
			f.root = root
			checkLedgerCase(t, tc, f, false)
		})
	}
}

// TestVerifyLedgerS3: the same in a versioned S3 bucket, where an object
// written over is a new version (replaced, the recorded one still intact)
// and a deleted one leaves a delete marker; plus the recorded version
// itself deleted.
func TestVerifyLedgerS3(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{Versioning: true})
	ctx := context.Background()
	open := func(t *testing.T, prefix string) archive.Store {
		st, err := archive.Open(ctx, b.URI(prefix), archive.Options{ClientOptions: []func(*s3.Options){b.Env.ClientOption()}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	extra := []ledgerCase{
		{name: "recorded version deleted", tamper: func(t *testing.T, f *ledgerFixture) { f.deleteVersion(t, 0) },
			breakLine: -1, sig: SigUnsigned, objects: map[int]string{2: archive.VerifyMissing}, detail: map[int]string{2: "gone too"}},
		{name: "object deleted, version kept", tamper: func(t *testing.T, f *ledgerFixture) {
			if err := f.st.Delete(ctx, f.objects[0].Key); err != nil {
				t.Fatal(err)
			}
		}, breakLine: -1, sig: SigUnsigned, objects: map[int]string{2: archive.VerifyMissing}, detail: map[int]string{2: "still there, intact"}},
		{name: "object replaced, version kept", tamper: func(t *testing.T, f *ledgerFixture) { f.overwrite(t, 2) },
			breakLine: -1, sig: SigUnsigned, objects: map[int]string{5: LedgerReplaced}, detail: map[int]string{5: "still there, intact"}},
	}
	for i, tc := range append(slices.Clone(ledgerCases), extra...) {
		t.Run(tc.name, func(t *testing.T) {
			prefix := fmt.Sprintf("case%02d/", i)
			st := open(t, prefix)
			var key ed25519.PrivateKey
			if tc.signed {
				key = newKey(t)
			}
			f := newLedgerFixture(t, st, key)
			f.bucket, f.prefix = &b, prefix
			for _, o := range f.objects {
				if o.VersionID == "" {
					t.Fatalf("object %s has no version: the bucket keeps none", o.Key)
				}
			}
			checkLedgerCase(t, tc, f, true)
		})
	}
}

// TestVerifyLedgerMissing: a run without a ledger, and a ledger kept under
// another run's name.
func TestVerifyLedgerMissing(t *testing.T) {
	ctx := context.Background()
	st, err := archive.Open(ctx, t.TempDir(), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newLedgerFixture(t, st, nil)

	t.Run("no such run", func(t *testing.T) {
		res := VerifyLedger(ctx, StoreLedger(st, "20990101T000000Z-ffffff"), st, nil, LedgerHooks{})
		if res.OK() || !errors.Is(res.Err, ErrNoLedger) {
			t.Errorf("got OK %v, err %v; want ErrNoLedger", res.OK(), res.Err)
		}
	})
	t.Run("kept under another run's name", func(t *testing.T) {
		other := "20990101T000000Z-eeeeee"
		if _, err := st.PutMeta(ctx, LedgerKey(other), append(bytes.Join(f.lines, []byte("\n")), '\n'), archive.Meta{}); err != nil {
			t.Fatal(err)
		}
		res := VerifyLedger(ctx, StoreLedger(st, other), st, nil, LedgerHooks{})
		if b := res.Broken(); b == nil || b.Line != 1 || !strings.Contains(b.Reason, f.runID) {
			t.Errorf("got %v, want line 1 naming run %s", res.Err, f.runID)
		}
	})
	t.Run("listed", func(t *testing.T) {
		runs, err := LedgerRuns(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{f.runID, "20990101T000000Z-eeeeee"}; !slices.Equal(runs, want) {
			t.Errorf("LedgerRuns = %v, want %v", runs, want)
		}
	})
}

// TestVerifyLedgerFile: a ledger read from a file (the report directory's
// copy), its signature from --signature, from the destination, or beside it.
func TestVerifyLedgerFile(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	st, err := archive.Open(ctx, root, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := newKey(t)
	f := newLedgerFixture(t, st, key)
	pub := fixtureKey(t, f)
	dir := t.TempDir()
	file := filepath.Join(dir, "ledger.jsonl")
	if err := os.WriteFile(file, append(bytes.Join(f.lines, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	sigBytes, _, err := st.GetMeta(ctx, LedgerSignatureKey(f.runID), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	sigFile := filepath.Join(dir, "given.sig.json")
	if err := os.WriteFile(sigFile, sigBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	beside := filepath.Join(dir, "copy.jsonl")
	if err := os.WriteFile(beside, append(bytes.Join(f.lines, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "copy.sig.json"), sigBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		src   LedgerSource
		st    LedgerStore
		sig   string
		where string
	}{
		{"signature from the destination", FileLedger(file, "", st), st, SigVerified, st.URI(LedgerSignatureKey(f.runID))},
		{"signature given", FileLedger(file, sigFile, nil), nil, SigVerified, sigFile},
		{"signature beside it", FileLedger(beside, "", nil), nil, SigVerified, filepath.Join(dir, "copy.sig.json")},
		{"no signature anywhere", FileLedger(file, "", nil), nil, SigMissing, ""},
		{"signature file absent", FileLedger(file, filepath.Join(dir, "none.sig.json"), nil), nil, SigError, filepath.Join(dir, "none.sig.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := VerifyLedger(ctx, tt.src, tt.st, pub, LedgerHooks{})
			if res.Err != nil || res.Signature.State != tt.sig || res.Signature.Where != tt.where {
				t.Errorf("got err %v, signature %s at %q (%v); want no error, %s at %q", res.Err, res.Signature.State, res.Signature.Where, res.Signature.Err, tt.sig, tt.where)
			}
			if tt.st != nil && len(res.Objects) != 3 {
				t.Errorf("%d objects read back, want 3", len(res.Objects))
			}
			if tt.st == nil && len(res.Objects) != 0 {
				t.Errorf("%d objects read back without a store, want 0", len(res.Objects))
			}
		})
	}
}

// TestLedgerOfPath: a ledger's path or URI in a destination names the
// destination and the run.
func TestLedgerOfPath(t *testing.T) {
	tests := []struct {
		in, dest, run string
		ok            bool
	}{
		{"/srv/archive/_meetarchive/ledger/R1.jsonl", "/srv/archive/", "R1", true},
		{"s3://bucket/pre/_meetarchive/ledger/R2.jsonl", "s3://bucket/pre/", "R2", true},
		{"_meetarchive/ledger/R3.jsonl", ".", "R3", true},
		{"/out/ledger.jsonl", "", "", false},
		{"/srv/archive/_meetarchive/ledger/R1.sig.json", "", "", false},
		{"/srv/archive/_meetarchive/ledger/.jsonl", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			dest, run, ok := LedgerOfPath(tt.in)
			if dest != tt.dest || run != tt.run || ok != tt.ok {
				t.Errorf("LedgerOfPath(%q) = %q, %q, %v; want %q, %q, %v", tt.in, dest, run, ok, tt.dest, tt.run, tt.ok)
			}
		})
	}
}

// TestVerifyLedgerObjectLock: in a bucket with Object Lock, the lock each
// object line records is read back from its version: a retention
// shortened (GOVERNANCE, bypassed) or a legal hold lifted is reported at
// its line, a retention lengthened is not.
func TestVerifyLedgerObjectLock(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *ledgerFixture, o archive.Object)
		status string
		detail string
	}{
		{name: "intact", status: archive.VerifyOK},
		{name: "retention lengthened", status: archive.VerifyOK, tamper: func(t *testing.T, f *ledgerFixture, o archive.Object) {
			putRetention(t, f, o, o.RetainUntil.Add(48*time.Hour))
		}},
		{name: "retention shortened", status: LedgerLockChanged, detail: "(shortened)", tamper: func(t *testing.T, f *ledgerFixture, o archive.Object) {
			putRetention(t, f, o, o.RetainUntil.Add(-12*time.Hour))
		}},
		{name: "legal hold lifted", status: LedgerLockChanged, detail: "legal hold lifted", tamper: func(t *testing.T, f *ledgerFixture, o archive.Object) {
			if _, err := f.bucket.Client.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{
				Bucket: aws.String(f.bucket.Name), Key: aws.String(f.prefix + o.Key), VersionId: aws.String(o.VersionID),
				LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOff},
			}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := fmt.Sprintf("lock%02d/", i)
			st, err := archive.Open(ctx, b.URI(prefix), archive.Options{LockMode: "GOVERNANCE", RetainDays: 1, LegalHold: true,
				ClientOptions: []func(*s3.Options){b.Env.ClientOption()}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			f := newLedgerFixture(t, st, nil)
			f.bucket, f.prefix = &b, prefix
			o := f.objects[0]
			if o.LockMode != "GOVERNANCE" || o.RetainUntil.IsZero() || !o.LegalHold {
				t.Fatalf("object stored with lock %q until %v, hold %v: want GOVERNANCE, a date, on", o.LockMode, o.RetainUntil, o.LegalHold)
			}
			if tt.tamper != nil {
				tt.tamper(t, f, o)
			}
			res := VerifyLedger(ctx, StoreLedger(st, f.runID), st, nil, LedgerHooks{})
			if res.Err != nil || len(res.Objects) != 3 {
				t.Fatalf("ledger %v, %d objects; want it intact with 3", res.Err, len(res.Objects))
			}
			for _, got := range res.Objects {
				want := archive.VerifyOK
				if got.Line == objectLines[0] {
					want = tt.status
				}
				if got.Status != want {
					t.Errorf("object of line %d: %s (%v), want %s", got.Line, got.Status, got.Err, want)
				}
				if got.Line == objectLines[0] && tt.detail != "" && (got.Err == nil || !strings.Contains(got.Err.Error(), tt.detail)) {
					t.Errorf("object of line %d: finding %v, want it to say %q", got.Line, got.Err, tt.detail)
				}
			}
		})
	}
}

func putRetention(t *testing.T, f *ledgerFixture, o archive.Object, until time.Time) {
	t.Helper()
	if _, err := f.bucket.Client.PutObjectRetention(context.Background(), &s3.PutObjectRetentionInput{
		Bucket: aws.String(f.bucket.Name), Key: aws.String(f.prefix + o.Key), VersionId: aws.String(o.VersionID),
		BypassGovernanceRetention: aws.Bool(true),
		Retention:                 &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(until)},
	}); err != nil {
		t.Fatal(err)
	}
}

// ledgerProgress counts what VerifyLedger reports.
type ledgerProgress struct {
	announced, done int
	bytes           int64
}

func (c *ledgerProgress) ConferenceDone()  { c.done++ }
func (c *ledgerProgress) AddBytes(n int64) { c.bytes += n }
func (c *ledgerProgress) Estimate(int64)   {}
