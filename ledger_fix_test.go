package main

// Findings of a tester on the custody ledger, its attestation and bag,
// each reproduced on the binary: a signed ledger whose signature was
// deleted, an unsigned ledger whose last line was edited, the commands an
// attestation shows (run as shown), bag --quiet, a key of another
// algorithm, and the destination run-start records.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// runStartOf is the data of a ledger's first line.
func runStartOf(t *testing.T, ledger string) report.LedgerRunStart {
	t.Helper()
	first, _, _ := bytes.Cut(fileBytes(t, ledger), []byte("\n"))
	var l struct {
		Type string                `json:"type"`
		Data report.LedgerRunStart `json:"data"`
	}
	if err := json.Unmarshal(first, &l); err != nil || l.Type != report.EventRunStart {
		t.Fatalf("line 1 of %s: type %q, %v", ledger, l.Type, err)
	}
	return l.Data
}

// editLastLine rewrites the last line of a ledger file with edit.
func editLastLine(t *testing.T, ledger string, edit func([]byte) []byte) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSuffix(fileBytes(t, ledger), []byte("\n")), []byte("\n"))
	last := edit(bytes.Clone(lines[len(lines)-1]))
	if bytes.Equal(last, lines[len(lines)-1]) {
		t.Fatalf("the edit changed nothing in %s", lines[len(lines)-1])
	}
	lines[len(lines)-1] = last
	writeFileT(t, ledger, append(bytes.Join(lines, []byte("\n")), '\n'))
}

// TestSignedLedgerWithoutItsSignature: a run given --sign-key records its
// key's fingerprint in run-start (and its destination as an absolute
// path, though given relative); once the signature is deleted, verify
// --ledger, with or without --public-key, on the destination's ledger or
// the report's copy, finds the signature missing (line 1) and exits 1,
// never saying the run was not given a key.
func TestSignedLedgerWithoutItsSignature(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 8<<10, 91)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 91})
	root := t.TempDir()
	priv, pub := keyPair(t, t.TempDir(), "signer")
	key, err := report.ParsePrivateKey(fileBytes(t, priv))
	if err != nil {
		t.Fatal(err)
	}
	fp := report.KeyFingerprint(key.Public().(ed25519.PublicKey))

	// The run in root, with a relative --dest.
	cmd, _, stderr := binCommand(simEnv(sim), "run", "--input", writeInput(t, root, ds.UUIDs()...), "--dest", "d1", "--out", "rs1", "--sign-key", priv)
	cmd.Dir = root
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	dest, out := filepath.Join(root, "d1"), filepath.Join(root, "rs1")
	var sum report.Summary
	if err := json.Unmarshal(fileBytes(t, filepath.Join(out, report.SummaryJSON)), &sum); err != nil {
		t.Fatal(err)
	}
	ledger := filepath.Join(dest, filepath.FromSlash(pipeline.LedgerKey(sum.RunID)))
	rs := runStartOf(t, ledger)
	if rs.SignKeySHA256 != fp {
		t.Errorf("run-start signKeySha256 %q, want the key's %q", rs.SignKeySHA256, fp)
	}
	if rs.Dest != dest {
		t.Errorf("run-start dest %q, want the absolute %q", rs.Dest, dest)
	}

	// Signed and intact: no key given says whose signature it is.
	res := runBin(t, nil, "verify", "--ledger", sum.RunID, "--dest", dest)
	if res.code != 0 || !strings.Contains(res.stdout, "signature: signed by key "+fp+", NOT CHECKED: give --public-key") {
		t.Fatalf("intact: exit %d, want 0 naming the key %s\n%s%s", res.code, fp, res.stdout, res.stderr)
	}

	if err := os.Remove(filepath.Join(dest, filepath.FromSlash(pipeline.LedgerSignatureKey(sum.RunID)))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		where string // where the finding is
	}{
		{"run id, no key", []string{"--ledger", sum.RunID, "--dest", dest}, ledger + " line 1"},
		{"run id, key given", []string{"--ledger", sum.RunID, "--dest", dest, "--public-key", pub}, ledger + " line 1"},
		{"the report's copy", []string{"--ledger", filepath.Join(out, pipeline.LedgerFile)}, filepath.Join(out, pipeline.LedgerFile) + " line 1"},
		{"the report directory", []string{"--ledger", out}, filepath.Join(out, pipeline.LedgerFile) + " line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runBin(t, nil, append([]string{"verify"}, tt.args...)...)
			if res.code != report.ExitFailures {
				t.Errorf("exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
			}
			want := "signature-missing\t" + tt.where + "\t"
			if !strings.Contains(res.stdout, want) {
				t.Errorf("stdout has no finding %q:\n%s", want, res.stdout)
			}
			if strings.Contains(res.stdout, "signature: none") {
				t.Errorf("stdout says the ledger is unsigned:\n%s", res.stdout)
			}
		})
	}
}

// headFinding matches verify --ledger's head-mismatch finding.
var headFinding = regexp.MustCompile(`(?m)^head-mismatch\t(.+)\tthe ledger's head after (\d+) lines is ([0-9a-f]{64}); (.+) records ([0-9a-f]{64}) `)

// TestLedgerHead: an unsigned ledger whose last line (run-end) was edited
// still chains, and verify --ledger --head (the head summary.json and the
// attestation record) finds it, naming the line count and both heads; the
// report's copy, or its directory, is checked against its summary.json
// without --head. A bad --head is a usage error.
func TestLedgerHead(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 8<<10, 92)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 92})
	root := t.TempDir()
	dest, out := filepath.Join(root, "archive"), filepath.Join(root, "report")
	if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, root, ds.UUIDs()...), "--dest", dest, "--out", out); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	var sum report.Summary
	if err := json.Unmarshal(fileBytes(t, filepath.Join(out, report.SummaryJSON)), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Ledger == nil || len(sum.Ledger.Head) != 64 {
		t.Fatalf("summary.json ledger %+v: want a head", sum.Ledger)
	}
	head, lines := sum.Ledger.Head, sum.Ledger.Lines
	ledger := filepath.Join(dest, filepath.FromSlash(pipeline.LedgerKey(sum.RunID)))
	copyOf := filepath.Join(out, pipeline.LedgerFile)
	summaryPath := filepath.Join(out, report.SummaryJSON)

	// Intact, with the head: accepted, and said so.
	for _, args := range [][]string{
		{"--ledger", sum.RunID, "--dest", dest, "--head", head},
		{"--ledger", sum.RunID, "--dest", dest, "--head", strings.ToUpper(head)},
		{"--ledger", copyOf},
		{"--ledger", out, "--dest", dest, "--head", head},
	} {
		if res := runBin(t, nil, append([]string{"verify"}, args...)...); res.code != 0 || !strings.Contains(res.stdout, "head: as ") {
			t.Errorf("verify %q intact: exit %d, want 0 saying the head matches\n%s%s", args, res.code, res.stdout, res.stderr)
		}
	}

	// The run-end line's exit code edited: the chain still holds.
	edit := func(l []byte) []byte { return bytes.Replace(l, []byte(`"exitCode":0`), []byte(`"exitCode":1`), 1) }
	editLastLine(t, ledger, edit)
	editLastLine(t, copyOf, edit)
	if res := runBin(t, nil, "verify", "--ledger", sum.RunID, "--dest", dest); res.code != 0 {
		t.Fatalf("without --head the edited ledger chains (what an unsigned ledger cannot show): exit %d\n%s", res.code, res.stdout)
	}
	tests := []struct {
		name   string
		args   []string
		ledger string // the finding's ledger
		source string // where the head it misses was read
	}{
		{"--head", []string{"--ledger", sum.RunID, "--dest", dest, "--head", head}, ledger, "--head"},
		{"the report's copy", []string{"--ledger", copyOf}, copyOf, summaryPath},
		{"the report directory", []string{"--ledger", out, "--dest", dest}, copyOf, summaryPath},
		{"--quiet", []string{"--ledger", sum.RunID, "--dest", dest, "--head", head, "--quiet"}, ledger, "--head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runBin(t, nil, append([]string{"verify"}, tt.args...)...)
			if res.code != report.ExitFailures {
				t.Errorf("exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
			}
			m := headFinding.FindStringSubmatch(res.stdout)
			if m == nil {
				t.Fatalf("no head-mismatch finding:\n%s", res.stdout)
			}
			if m[1] != tt.ledger || m[2] != strconv.Itoa(lines) || m[3] == head || m[4] != tt.source || m[5] != head {
				t.Errorf("finding: ledger %q, %s lines, head %s, source %q records %s; want %q, %d lines, another head, %q records %s",
					m[1], m[2], m[3], m[4], m[5], tt.ledger, lines, tt.source, head)
			}
		})
	}

	usage := [][]string{
		{"--ledger", sum.RunID, "--dest", dest, "--head", head[:63]},
		{"--ledger", sum.RunID, "--dest", dest, "--head", strings.Repeat("g", 64)},
		{"--ledger", "all", "--dest", dest, "--head", head},
		{"--manifest", filepath.Join(out, report.ManifestCSV), "--head", head},
	}
	for _, args := range usage {
		if res := runBin(t, nil, append([]string{"verify"}, args...)...); res.code != report.ExitUsage || !strings.Contains(res.stderr, "--head") {
			t.Errorf("verify %q: exit %d, want 2 naming --head\n%s", args, res.code, res.stderr)
		}
	}
}

// attestationCmd is one command of an attestation page.
var attestationCmd = regexp.MustCompile(`<code class="cmd">([^<]*)</code>`)

// runAttestationCommands runs each command the attestation in dir shows,
// as shown, with this binary as meetarchive (and pub for PUBLIC_KEY.pem),
// env in its environment (a reconcile command needs the API's
// credentials): the commands.
func runAttestationCommands(t *testing.T, dir, pub string, env map[string]string) []string {
	t.Helper()
	var cmds []string
	for _, m := range attestationCmd.FindAllStringSubmatch(string(fileBytes(t, filepath.Join(dir, report.AttestationHTML))), -1) {
		c := html.UnescapeString(m[1])
		cmds = append(cmds, c)
		cmd := exec.Command("sh", "-c", strings.ReplaceAll(c, "PUBLIC_KEY.pem", pub))
		cmd.Env = append(cleanEnv(env), "PATH="+filepath.Dir(binPath)+":"+os.Getenv("PATH"))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", c, err, b)
		}
	}
	return cmds
}

// TestAttestationCommandsWork: every command an attestation shows works
// for its report: a run's (its ledger checked against the head the page
// states), and a reconcile's, which stores nothing (no sha256sum -c of an
// empty sha256sums.txt, no verify --manifest of a manifest without rows)
// and keeps no ledger (no verify --ledger), and whose
// completeness verdict is re-checked by a reconcile of the same window and
// filters (a tester found its only command checked 0 objects), here after
// the run archived what the first reconciliation found missing: exit 0.
func TestAttestationCommandsWork(t *testing.T) {
	ds := reconcileDataset(93)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 93, HistoryRetention: -1})
	root := t.TempDir()
	dest := filepath.Join(root, "archive")
	run, rec := filepath.Join(root, "run"), filepath.Join(root, "reconcile")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	// The reconciliation first, of an empty destination: nothing stored.
	if res := runBin(t, simEnv(sim), "reconcile", "--from", "2024-05-01", "--to", "2024-05-01", "--all-users", "--dest", dest, "--out", rec); res.code > report.ExitFailures {
		t.Fatalf("reconcile: exit %d\n%s", res.code, res.stderr)
	}
	if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, root, ds.UUIDs()...), "--dest", dest, "--out", run); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	var sum report.Summary
	if err := json.Unmarshal(fileBytes(t, filepath.Join(run, report.SummaryJSON)), &sum); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		dir          string
		want, absent []string // parts of some command, and of none
	}{
		{"run", run, []string{"verify --ledger " + sum.RunID, "--head " + sum.Ledger.Head, "sha256sum -c", "verify --manifest"}, nil},
		{"reconcile", rec, []string{"reconcile --from 2024-05-01T00:00:00Z --to 2024-05-01T23:59:59Z --api " + strings.TrimSuffix(sim.URL, "/") + " --all-users --dest " + dest + " --out " + rec + "-reconciled"},
			[]string{"sha256sum", "--sums", "--ledger", "verify --manifest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmds := runAttestationCommands(t, tt.dir, "", simEnv(sim))
			all := strings.Join(cmds, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("no command with %q: %q", w, cmds)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(all, a) {
					t.Errorf("a command with %q: %q", a, cmds)
				}
			}
		})
	}
	if sum, err := report.ReadSummary(filepath.Join(rec+"-reconciled", report.SummaryJSON)); err != nil || sum.Completeness == nil || sum.Completeness.Accounted != sum.Completeness.Reported || len(sum.Completeness.Unaccounted) > 0 {
		t.Errorf("the page's reconcile wrote no complete report: %v", err)
	}
	page := string(fileBytes(t, filepath.Join(rec, report.AttestationHTML)))
	if !strings.Contains(page, `id="reconciled"`) || strings.Contains(page, "Conferences in all") || !strings.Contains(page, `<td class="mono">`+dest+`</td>`) {
		t.Errorf("the reconcile's page does not show what it reconciled, or its destination whole")
	}
}

// TestBagQuiet: bag --quiet prints nothing, on stdout or stderr, when the
// bag is written, even with a conference that has nothing archived (a
// warning without --quiet).
func TestBagQuiet(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 8<<10, 94)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 94})
	root := t.TempDir()
	out := filepath.Join(root, "report")
	unknown := "0badc0de0badc0de0badc0de0badc0de"
	if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, root, append(ds.UUIDs(), unknown)...), "--dest", filepath.Join(root, "archive"), "--out", out); res.code != report.ExitFailures {
		t.Fatalf("run: exit %d, want 1 (one conference not found)\n%s", res.code, res.stderr)
	}
	tests := []struct {
		name  string
		quiet bool
	}{{"quiet", true}, {"not quiet", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bag := filepath.Join(t.TempDir(), "bag")
			args := []string{"bag", "--manifest", filepath.Join(out, report.ManifestCSV), "--out", bag}
			if tt.quiet {
				args = append(args, "--quiet")
			}
			res := runBin(t, nil, args...)
			if res.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", res.code, res.stderr)
			}
			if _, err := os.Stat(filepath.Join(bag, "bagit.txt")); err != nil {
				t.Errorf("no bag written: %v", err)
			}
			printed := res.stdout + res.stderr
			if tt.quiet && printed != "" {
				t.Errorf("--quiet printed:\n%s", printed)
			}
			if !tt.quiet && !strings.Contains(res.stderr, unknown) {
				t.Errorf("without --quiet no warning names %s:\n%s", unknown, res.stderr)
			}
		})
	}
}

// TestSignKeyOfAnotherAlgorithm: an RSA --sign-key is named as one, not
// by its Go type.
func TestSignKeyOfAnotherAlgorithm(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rsa.pem")
	writeFileT(t, path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	ds := meetingtest.SampleDataset()
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds})
	res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, t.TempDir(), ds.UUIDs()...), "--dest", filepath.Join(t.TempDir(), "arch"),
		"--out", filepath.Join(t.TempDir(), "out"), "--sign-key", path)
	if res.code != report.ExitUsage || !strings.Contains(res.stderr, "an RSA key, not an Ed25519 key") || strings.Contains(res.stderr, "*rsa") {
		t.Errorf("exit %d, want 2 saying an RSA key is not an Ed25519 key\n%s", res.code, res.stderr)
	}
}
