package main

// verify --ledger on the binary: ledgers of a real run's objects (written
// here from its manifest with report.NewLedger and signed with a key from
// keygen), in a directory and in S3, intact and tampered.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// testLedger is a ledger of a run's archived objects: line 1 run-start,
// then one object line per archived file (and a commit line after each
// conference), the last run-end.
type testLedger struct {
	runID   string
	lines   [][]byte
	objects map[int]string // ledger line -> the object's key
	head    string
}

func ledgerOfManifest(t *testing.T, runID string, rows []map[string]string) testLedger {
	t.Helper()
	var buf bytes.Buffer
	l := report.NewLedger(&buf)
	tl := testLedger{runID: runID, objects: map[int]string{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Append(report.EventRunStart, map[string]any{"runId": runID, "tool": "meetarchive"}))
	for _, r := range rows {
		if r["status"] != "archived" {
			continue
		}
		n, err := strconv.ParseInt(r["bytes"], 10, 64)
		must(err)
		must(l.Append(report.EventObject, report.LedgerObject{ConfUUID: r["confUUID"], Key: r["objectKey"], URI: r["objectURI"],
			Bytes: n, SHA256: r["sha256"], VersionID: r["versionId"]}))
		tl.objects[l.Lines()] = r["objectKey"]
		must(l.Append(report.EventCommit, map[string]string{"confUUID": r["confUUID"]}))
	}
	must(l.Append(report.EventRunEnd, map[string]int{"exitCode": 0}))
	tl.lines = bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	tl.head = l.Head()
	if len(tl.objects) == 0 {
		t.Fatal("no archived rows in the manifest")
	}
	return tl
}

func (tl testLedger) bytes(lines [][]byte) []byte {
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

// signature is the signature file of tl, signed with the private key file.
func (tl testLedger) signature(t *testing.T, keyFile string) []byte {
	t.Helper()
	key, err := report.ParsePrivateKey(fileBytes(t, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(report.SignLedger(key, tl.runID, tl.head, len(tl.lines)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyPair makes a key pair with keygen.
func keyPair(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	priv, pub = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if res := runBin(t, nil, "keygen", "--private-key", priv, "--public-key", pub); res.code != 0 {
		t.Fatalf("keygen: exit %d\n%s", res.code, res.stderr)
	}
	return priv, pub
}

// findingLine matches one finding of verify --ledger: status, where, what.
var findingLine = regexp.MustCompile(`(?m)^([a-z-]+)\t(.*) line (\d+)\t(.*)$`)

// TestVerifyLedgerDirectory: verify --ledger on a directory destination
// accepts intact ledgers, signed or not, and reports each tampering with
// its line and exit 1; usage errors exit 2.
func TestVerifyLedgerDirectory(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 1, 16<<10, 71)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 71})
	root := t.TempDir()
	keys := t.TempDir()
	priv, pub := keyPair(t, keys, "signer")
	_, otherPub := keyPair(t, keys, "other")

	// One run, archived once; each case gets a copy of its destination.
	out, archived := filepath.Join(root, "report"), filepath.Join(root, "archive")
	if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, root, ds.UUIDs()...), "--dest", archived, "--out", out); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	rows := readManifest(t, out)
	const runID = "20261207T050000Z-a1b2c3"
	tl := ledgerOfManifest(t, runID, rows)
	firstObj := slices.Min(mapsKeys(tl.objects))

	type setup struct {
		dest   string
		ledger string // the ledger's path in dest
	}
	tests := []struct {
		name    string
		signed  bool
		tamper  func(t *testing.T, s setup)
		args    func(s setup) []string
		exit    int
		stdout  []string // lines (or parts) stdout must hold
		absent  []string // and must not
		finding string   // status of the one finding expected ("" none)
		line    int      // its ledger line
	}{
		{name: "intact, signed, key given", signed: true,
			args:   func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest, "--public-key", pub} },
			stdout: []string{"chain intact", "signature: verified with key SHA256:", fmt.Sprintf("objects: %d read back: %d ok,", len(tl.objects), len(tl.objects))}},
		{name: "intact, signed, no key", signed: true,
			args:   func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest} },
			stdout: []string{"chain intact", "NOT CHECKED: give --public-key"}},
		{name: "intact, quiet", signed: true, args: func(s setup) []string {
			return []string{"--ledger", runID, "--dest", s.dest, "--public-key", pub, "--quiet"}
		},
			absent: []string{"ledger", "signature", "objects"}},
		{name: "tampered, quiet", args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest, "--quiet"} },
			tamper: func(t *testing.T, s setup) { writeFileT(t, s.ledger, tl.bytes(tl.lines[:len(tl.lines)-1])) },
			exit:   1, finding: "broken", line: len(tl.lines) - 1, stdout: []string{"chain BROKEN"}},
		{name: "intact, unsigned", args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest} },
			stdout: []string{"chain intact", "signature: none"}},
		{name: "ledger by its path", signed: true,
			args:   func(s setup) []string { return []string{"--ledger", s.ledger, "--public-key", pub} },
			stdout: []string{"chain intact", "signature: verified"}},
		{name: "a copy of the ledger, objects from --dest", signed: true,
			args: func(s setup) []string {
				cp := filepath.Join(filepath.Dir(s.dest), "ledger.jsonl")
				if err := os.WriteFile(cp, fileBytes(t, s.ledger), 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{"--ledger", cp, "--dest", s.dest, "--public-key", pub}
			},
			stdout: []string{"chain intact", "signature: verified", "ok, 0 missing"}},
		// (With the ledger the run kept itself too, when runs keep one:
		// unsigned, so no --public-key.)
		{name: "all", signed: true, args: func(s setup) []string { return []string{"--ledger", "all", "--dest", s.dest} },
			stdout: []string{"chain intact", "NOT CHECKED"}},
		{name: "edited line", signed: true,
			tamper: func(t *testing.T, s setup) {
				lines := slices.Clone(tl.lines)
				lines[firstObj-1] = bytes.Replace(lines[firstObj-1], []byte(`"bytes":`), []byte(`"bytes":1`), 1)
				writeFileT(t, s.ledger, tl.bytes(lines))
			},
			args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest, "--public-key", pub} },
			exit: 1, finding: "broken", line: firstObj + 1, stdout: []string{fmt.Sprintf("line %d was changed", firstObj), "signature-bad"}},
		{name: "deleted line", args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest} },
			tamper: func(t *testing.T, s setup) {
				writeFileT(t, s.ledger, tl.bytes(slices.Delete(slices.Clone(tl.lines), 1, 2)))
			},
			exit: 1, finding: "broken", line: 2, stdout: []string{"a line was deleted, inserted or moved"}},
		{name: "truncated", args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest} },
			tamper: func(t *testing.T, s setup) { writeFileT(t, s.ledger, tl.bytes(tl.lines[:len(tl.lines)-1])) },
			exit:   1, finding: "broken", line: len(tl.lines) - 1, stdout: []string{"ends without run-end"}},
		{name: "object deleted", args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest} },
			tamper: func(t *testing.T, s setup) {
				if err := os.Remove(filepath.Join(s.dest, tl.objects[firstObj])); err != nil {
					t.Fatal(err)
				}
			},
			exit: 1, finding: "missing", line: firstObj},
		{name: "object altered", args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest} },
			tamper: func(t *testing.T, s setup) {
				p := filepath.Join(s.dest, tl.objects[firstObj])
				b := fileBytes(t, p)
				b[len(b)/2] ^= 1
				writeFileT(t, p, b)
			},
			exit: 1, finding: "mismatch", line: firstObj},
		{name: "wrong key", signed: true, args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest, "--public-key", otherPub} },
			exit: 1, stdout: []string{"signature-bad\t", "not by the key given", "signature: BAD"}},
		{name: "key given, ledger unsigned", args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest, "--public-key", pub} },
			exit: 1, stdout: []string{"signature-missing\t", "no signature"}},
		{name: "no such run", args: func(s setup) []string { return []string{"--ledger", "20990101T000000Z-000000", "--dest", s.dest} },
			exit: 1, stdout: []string{"missing\t", "no such ledger", "chain NOT VERIFIED"}, absent: []string{"signature", "objects:"}},
		{name: "run id without --dest", args: func(setup) []string { return []string{"--ledger", runID} }, exit: 2},
		{name: "with --manifest", args: func(s setup) []string {
			return []string{"--ledger", runID, "--dest", s.dest, "--manifest", filepath.Join(out, report.ManifestCSV)}
		}, exit: 2},
		{name: "public key not a key", args: func(s setup) []string { return []string{"--ledger", runID, "--dest", s.dest, "--public-key", priv} }, exit: 2},
		{name: "ledger file absent", args: func(s setup) []string { return []string{"--ledger", filepath.Join(s.dest, "none.jsonl")} }, exit: 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(root, fmt.Sprintf("case%02d", i), "archive")
			copyTree(t, archived, dest)
			s := setup{dest: dest, ledger: filepath.Join(dest, filepath.FromSlash(pipeline.LedgerKey(runID)))}
			if err := os.MkdirAll(filepath.Dir(s.ledger), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFileT(t, s.ledger, tl.bytes(tl.lines))
			if tt.signed {
				writeFileT(t, filepath.Join(dest, filepath.FromSlash(pipeline.LedgerSignatureKey(runID))), tl.signature(t, priv))
			}
			if tt.tamper != nil {
				tt.tamper(t, s)
			}
			res := runBin(t, nil, append([]string{"verify"}, tt.args(s)...)...)
			if res.code != tt.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.exit, res.stdout, res.stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("stdout does not say %q:\n%s", want, res.stdout)
				}
			}
			for _, not := range tt.absent {
				if strings.Contains(res.stdout, not) {
					t.Errorf("stdout says %q:\n%s", not, res.stdout)
				}
			}
			if tt.finding != "" {
				m := findingLine.FindStringSubmatch(res.stdout)
				if m == nil || m[1] != tt.finding || m[3] != strconv.Itoa(tt.line) {
					t.Errorf("first finding %q, want %s at line %d:\n%s", m, tt.finding, tt.line, res.stdout)
				}
			}
			if tt.exit == 2 && res.stdout != "" {
				t.Errorf("a usage error printed on stdout: %q", res.stdout)
			}
			for _, secret := range pemBodies(fileBytes(t, priv)) {
				if strings.Contains(res.stdout+res.stderr, secret) {
					t.Errorf("the output shows the private key")
				}
			}
		})
	}
}

// TestVerifyLedgerS3: in a versioned bucket, a signed ledger of a real
// run verifies by run id and by its s3:// URI; an object written over is
// reported replaced at its line (its recorded version still intact), and
// --ledger all reports every ledger that records it, and a broken one.
func TestVerifyLedgerS3(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{Versioning: true})
	ds := meetingtest.GenerateFiles(2, 1, 16<<10, 73)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 73})
	dir := t.TempDir()
	priv, pub := keyPair(t, dir, "signer")
	env := s3Env(sim, b)
	dest := b.URI("arch")
	out := filepath.Join(dir, "report")
	if res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", out); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	ctx := context.Background()
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String("arch/" + key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	rows := readManifest(t, out)
	for _, r := range rows {
		if r["status"] == "archived" && r["versionId"] == "" {
			t.Fatalf("row %v has no versionId: the bucket keeps no versions", r)
		}
	}
	const run1, run2 = "20261207T050000Z-000001", "20261207T050100Z-000002"
	tl := ledgerOfManifest(t, run1, rows)
	put(pipeline.LedgerKey(run1), tl.bytes(tl.lines))
	put(pipeline.LedgerSignatureKey(run1), tl.signature(t, priv))
	run := func(args ...string) result {
		t.Helper()
		return runBin(t, env, append([]string{"verify"}, args...)...)
	}

	t.Run("intact by run id", func(t *testing.T) {
		res := run("--ledger", run1, "--dest", dest, "--public-key", pub)
		if res.code != 0 || !strings.Contains(res.stdout, "signature: verified") || !strings.Contains(res.stdout, "chain intact") {
			t.Errorf("exit %d, want 0 and verified\n%s\n%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("intact by URI", func(t *testing.T) {
		res := run("--ledger", dest+"/"+pipeline.LedgerKey(run1), "--public-key", pub)
		if res.code != 0 || !strings.Contains(res.stdout, "signature: verified") {
			t.Errorf("exit %d, want 0 and verified\n%s\n%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("server unreachable: unreadable, exit 3, not missing", func(t *testing.T) {
		down := maps.Clone(env)
		down["AWS_ENDPOINT_URL_S3"] = "http://" + freeAddr(t) // nothing listens there
		down["AWS_MAX_ATTEMPTS"] = "1"
		res := runBin(t, down, "verify", "--ledger", run1, "--dest", dest, "--public-key", pub)
		if res.code != 3 || !regexp.MustCompile(`(?m)^unreadable\t\S*`+run1+`\.jsonl\t`).MatchString(res.stdout) || strings.Contains(res.stdout, "missing\t") {
			t.Errorf("exit %d; want 3 and the ledger unreadable, not missing\n%s\n%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("object written over", func(t *testing.T) {
		first := slices.Min(mapsKeys(tl.objects))
		put(tl.objects[first], []byte("not the recording"))
		res := run("--ledger", run1, "--dest", dest, "--public-key", pub)
		m := findingLine.FindStringSubmatch(res.stdout)
		if res.code != 1 || m == nil || m[1] != pipeline.LedgerReplaced || m[3] != strconv.Itoa(first) || !strings.Contains(m[4], "still there, intact") {
			t.Errorf("exit %d, finding %q; want 1, replaced at line %d with its recorded version intact\n%s", res.code, m, first, res.stdout)
		}
	})
	t.Run("all: a replaced object and a broken ledger", func(t *testing.T) {
		tl2 := ledgerOfManifest(t, run2, rows)
		lines := slices.Clone(tl2.lines)
		lines[0], lines[1] = lines[1], lines[0]
		put(pipeline.LedgerKey(run2), tl2.bytes(lines))
		res := run("--ledger", "all", "--dest", dest)
		// Every ledger there fails: run1 and the run's own (once runs keep
		// one) record the object written over, run2 is broken.
		n := len(regexp.MustCompile(`(?m)^ledger `).FindAllString(res.stdout, -1))
		if want := fmt.Sprintf("%d of %d ledgers failed", n, n); res.code != 1 || n < 2 || !strings.Contains(res.stderr, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", res.code, res.stderr, want)
		}
		if !regexp.MustCompile(`(?m)^broken\t\S*` + run2 + `\.jsonl line 1\t`).MatchString(res.stdout) {
			t.Errorf("stdout does not report %s broken at line 1:\n%s", run2, res.stdout)
		}
	})
}

func mapsKeys(m map[int]string) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

func writeFileT(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies the directory src to dst (regular files and
// directories), keeping the files' extended attributes out: the copy's
// objects are checked by their bytes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunLedgerVerifies: a run, with and without --sign-key, leaves a
// ledger that verify --ledger accepts by run id, by its path in the
// destination and from the report directory's copy, and the head it
// checks is the one summary.json states.
func TestRunLedgerVerifies(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 2, 8<<10, 79)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 79})
	dir := t.TempDir()
	priv, pub := keyPair(t, dir, "signer")
	for _, signed := range []bool{false, true} {
		t.Run(fmt.Sprintf("signed=%v", signed), func(t *testing.T) {
			base := filepath.Join(dir, fmt.Sprintf("signed-%v", signed))
			out, dest := filepath.Join(base, "report"), filepath.Join(base, "archive")
			args := []string{"run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", out}
			if signed {
				args = append(args, "--sign-key", priv)
			}
			if res := runBin(t, simEnv(sim), args...); res.code != 0 {
				t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
			}
			var sum report.Summary
			if err := json.Unmarshal(fileBytes(t, filepath.Join(out, report.SummaryJSON)), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Ledger == nil {
				t.Fatalf("summary.json has no ledger")
			}
			key := []string{}
			wantSig := "signature: none"
			if signed {
				key, wantSig = []string{"--public-key", pub}, "signature: verified"
			}
			for _, v := range [][]string{
				{"--ledger", sum.RunID, "--dest", dest},
				{"--ledger", filepath.Join(dest, filepath.FromSlash(pipeline.LedgerKey(sum.RunID)))},
				{"--ledger", filepath.Join(out, "ledger.jsonl"), "--dest", dest},
			} {
				res := runBin(t, nil, append(append([]string{"verify"}, v...), key...)...)
				wantHead := "head " + sum.Ledger.Head + ": chain intact"
				if res.code != 0 || !strings.Contains(res.stdout, wantHead) || !strings.Contains(res.stdout, wantSig) || !strings.Contains(res.stdout, " 0 missing, 0 mismatched") {
					t.Errorf("verify %q: exit %d, want 0, %q and %q:\n%s%s", v, res.code, wantHead, wantSig, res.stdout, res.stderr)
				}
			}
		})
	}
}
