package main

// attestation.html in headless Chromium (the browser driven as in
// summary_page_test.go): what a person sees, read from the rendered DOM,
// the commands it shows run as shown, and the printed page count.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// attestationView is what the attestation page shows, read from the DOM.
type attestationView struct {
	Title        string   `json:"title"`
	Level        string   `json:"level"`
	Verdict      string   `json:"verdict"`
	Exit         string   `json:"exit"`
	RunID        string   `json:"runId"`
	Operator     string   `json:"operator"`
	Head         string   `json:"head"`
	Key          string   `json:"key"`
	NoLedger     string   `json:"noLedger"`
	Commands     []string `json:"commands"`
	Resources    int      `json:"resources"`
	VerdictShown bool     `json:"verdictShown"`
}

const attestationScript = `(() => {
  const text = id => { const e = document.getElementById(id); return e ? e.innerText.trim() : ''; };
  const cell = id => { const e = document.getElementById(id); return e && e.cells ? e.cells[1].innerText.trim() : ''; };
  const v = document.getElementById('verdict');
  const r = v ? v.getBoundingClientRect() : {top: -1, bottom: 1e9};
  return {
    title: document.title, level: text('verdict-level'), verdict: text('verdict-text'), exit: text('verdict-exit'),
    runId: cell('run-id'), operator: cell('operator'), head: cell('ledger-head'), key: cell('ledger-key'), noLedger: text('no-ledger'),
    commands: [...document.querySelectorAll('code.cmd')].map(c => c.innerText.trim()),
    resources: performance.getEntriesByType('resource').length,
    verdictShown: r.top >= 0 && r.bottom <= window.innerHeight,
  };
})()`

// renderAttestation opens page in a new tab, reads what it shows, saves a
// screenshot to png and prints it to PDF (A4): the PDF's bytes.
func renderAttestation(ctx context.Context, t *testing.T, b *browser, page, png string) (attestationView, []byte) {
	t.Helper()
	tb := b.openTab(ctx, t, "file://"+page, 1100)
	var view attestationView
	tb.eval(attestationScript, &view)
	tb.screenshot(png, 1100)
	var pdf struct{ Data string }
	tb.must(b.call(ctx, tb.s, "Page.printToPDF", map[string]any{"printBackground": true, "paperWidth": 8.27, "paperHeight": 11.69}, &pdf))
	doc, err := base64.StdEncoding.DecodeString(pdf.Data)
	tb.must(err)
	return view, doc
}

// pdfPages is the page count of a PDF as Chromium writes it: the /Count of
// its page tree root (the largest /Count), else its /Type /Page objects.
func pdfPages(t *testing.T, doc []byte) int {
	t.Helper()
	n := 0
	for _, m := range regexp.MustCompile(`/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b`).FindAllSubmatch(doc, -1) {
		c := m[1]
		if len(c) == 0 {
			c = m[2]
		}
		if v, _ := strconv.Atoi(string(c)); v > n {
			n = v
		}
	}
	if n == 0 {
		n = len(regexp.MustCompile(`/Type\s*/Page\b`).FindAll(doc, -1))
	}
	if n == 0 {
		t.Fatalf("no page found in the %d-byte PDF", len(doc))
	}
	return n
}

// TestAttestationPageInABrowser: the attestation of a real run, as the
// run wrote it (no ledger yet) and written again with a signed ledger of
// the run's objects, opened in headless Chromium: it shows the verdict
// (summary.json's), the ledger head and key fingerprint (or plainly no
// ledger) and the verification commands; the commands, run as shown (the
// public key's file name filled in), exit 0; printed on A4 it is at most
// two pages; it loads nothing. Screenshots and PDFs are kept in
// $MEETARCHIVE_TEST_ARTEFACTS.
func TestAttestationPageInABrowser(t *testing.T) {
	chromium, err := chromiumPath()
	if err != nil {
		t.Skip(err.Error())
	}
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 4, FilesPerConference: 2, FileSize: 8 << 10, Seed: 81,
		Start: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 81})
	dir := t.TempDir()
	out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "archive")
	env := simEnv(sim)
	env["USER"] = "records-officer"
	if res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", out); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	var sum report.Summary
	if err := json.Unmarshal(fileBytes(t, filepath.Join(out, report.SummaryJSON)), &sum); err != nil {
		t.Fatal(err)
	}

	// The same run with a signed ledger of its objects in the destination.
	priv, pub := keyPair(t, dir, "signer")
	tl := ledgerOfManifest(t, sum.RunID, readManifest(t, out))
	ledgerPath := filepath.Join(dest, filepath.FromSlash(pipeline.LedgerKey(sum.RunID)))
	if err := os.MkdirAll(filepath.Dir(ledgerPath), 0o755); err != nil {
		t.Fatal(err)
	}
	// The ledger the run kept itself is replaced by this one (same run)
	// for the signed page, and put back for the run's own page, whose
	// command checks its head.
	sigPath := filepath.Join(dest, filepath.FromSlash(pipeline.LedgerSignatureKey(sum.RunID)))
	runLedger, err := os.ReadFile(ledgerPath)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	useLedger := func(t *testing.T, signed bool) {
		for _, p := range []string{ledgerPath, sigPath} {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		switch {
		case signed:
			writeFileT(t, ledgerPath, tl.bytes(tl.lines))
			writeFileT(t, sigPath, tl.signature(t, priv))
		case runLedger != nil:
			writeFileT(t, ledgerPath, runLedger)
		}
	}
	key, err := report.ParsePrivateKey(fileBytes(t, priv))
	if err != nil {
		t.Fatal(err)
	}
	withLedger := sum
	withLedger.Ledger = &report.LedgerInfo{URI: ledgerPath, Head: tl.head, Lines: len(tl.lines),
		SignatureURI: filepath.Join(dest, filepath.FromSlash(pipeline.LedgerSignatureKey(sum.RunID))),
		KeySHA256:    report.KeyFingerprint(key.Public().(ed25519.PublicKey))}
	writePage := func(name string, s report.Summary) string {
		p := filepath.Join(dir, name, report.AttestationHTML)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var page bytes.Buffer
		if err := report.WriteAttestation(&page, &s, out); err != nil {
			t.Fatal(err)
		}
		writeFileT(t, p, page.Bytes())
		return p
	}
	signedPage := writePage("signed", withLedger)
	noLedger := sum
	noLedger.Ledger = nil
	noLedgerPage := writePage("none", noLedger)

	art := artefactDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a safety net, not a bound
	defer cancel()
	b := startBrowser(t, chromium)

	tests := []struct {
		name     string
		page     string
		ledger   *report.LedgerInfo
		commands int
	}{
		// The page the run wrote: with the ledger the run kept, if it kept one.
		{name: "attestation-of-the-run", page: filepath.Join(out, report.AttestationHTML), ledger: sum.Ledger, commands: 2 + btoi(sum.Ledger != nil)},
		{name: "attestation-no-ledger", page: noLedgerPage, commands: 2},
		{name: "attestation-signed-ledger", page: signedPage, ledger: withLedger.Ledger, commands: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			useLedger(t, tt.page == signedPage)
			png := filepath.Join(art, tt.name+".png")
			view, pdf := renderAttestation(ctx, t, b, tt.page, png)
			t.Logf("screenshot: %s", png)
			pdfPath := filepath.Join(art, tt.name+".pdf")
			writeFileT(t, pdfPath, pdf)

			if view.Verdict != sum.Verdict.Text || view.Verdict == "" {
				t.Errorf("the page's verdict %q, summary.json's %q", view.Verdict, sum.Verdict.Text)
			}
			if !view.VerdictShown {
				t.Errorf("the verdict is not on the first screen")
			}
			if !strings.Contains(strings.ToLower(view.Level), string(sum.Verdict.Level)) {
				t.Errorf("level %q, want %q in words", view.Level, sum.Verdict.Level)
			}
			// The operator is summary.json's (from $USER once runs record it).
			wantOp := sum.Operator
			if wantOp == "" {
				wantOp = "(none)"
			}
			if view.RunID != sum.RunID || view.Operator != wantOp {
				t.Errorf("run %q operator %q; want %q and %q", view.RunID, view.Operator, sum.RunID, wantOp)
			}
			switch {
			case tt.ledger != nil && (view.Head != tt.ledger.Head || view.Key != tt.ledger.KeySHA256 || view.NoLedger != ""):
				t.Errorf("ledger head %q, key %q, no-ledger %q; want %s and %q", view.Head, view.Key, view.NoLedger, tt.ledger.Head, tt.ledger.KeySHA256)
			case tt.ledger == nil && (view.Head != "" || !strings.HasPrefix(view.NoLedger, "No custody ledger was kept")):
				t.Errorf("ledger head %q, no-ledger %q; want it said plainly that there is none", view.Head, view.NoLedger)
			}
			if len(view.Commands) != tt.commands {
				t.Fatalf("%d commands, want %d: %q", len(view.Commands), tt.commands, view.Commands)
			}
			// Each command as shown, run by a shell with this binary as
			// meetarchive and the public key's file for PUBLIC_KEY.pem.
			for _, c := range view.Commands {
				line := strings.ReplaceAll(c, "PUBLIC_KEY.pem", pub)
				cmd := exec.Command("sh", "-c", line)
				cmd.Env = append(cleanEnv(nil), "PATH="+filepath.Dir(binPath)+":"+os.Getenv("PATH"))
				outb, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("%s: %v\n%s", c, err, outb)
				}
				if strings.Contains(c, "--public-key") && !strings.Contains(string(outb), "signature: verified") {
					t.Errorf("%s: the signature was not verified:\n%s", c, outb)
				}
				if strings.Contains(c, "--ledger") && !strings.Contains(string(outb), "chain intact") {
					t.Errorf("%s: the chain was not found intact:\n%s", c, outb)
				}
			}
			if pages := pdfPages(t, pdf); pages > 2 {
				t.Errorf("printed on A4 it takes %d pages, want at most 2 (%s)", pages, pdfPath)
			} else {
				t.Logf("printed on A4: %d page(s), %s", pages, pdfPath)
			}
			if view.Resources != 0 {
				t.Errorf("the page loaded %d resources", view.Resources)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAttestationCommandsReachTheS3Server: a run that reached its S3
// server with flags (--s3-endpoint, --s3-path-style, --s3-region) shows
// commands that repeat them, so run exactly as printed, with the
// credentials alone in the environment, they check the archive and exit
// 0. A tester found them going to AWS instead.
func TestAttestationCommandsReachTheS3Server(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{Versioning: true})
	ds := meetingtest.GenerateFiles(2, 2, 16<<10, 83)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 83})
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	env := simEnv(sim)
	creds := map[string]string{"AWS_ACCESS_KEY_ID": b.Env.AccessKey, "AWS_SECRET_ACCESS_KEY": b.Env.SecretKey,
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
	for k, v := range creds {
		env[k] = v
	}
	res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", b.URI("arch"), "--out", out,
		"--s3-endpoint", b.Env.Endpoint, "--s3-path-style", "--s3-region", b.Env.Region)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	page := string(fileBytes(t, filepath.Join(out, "attestation.html")))
	var cmds []string
	for _, m := range regexp.MustCompile(`<code class="cmd">([^<]*)</code>`).FindAllStringSubmatch(page, -1) {
		cmds = append(cmds, html.UnescapeString(m[1]))
	}
	if len(cmds) != 3 {
		t.Fatalf("%d commands on the page, want 3 (ledger, sums, manifest): %q", len(cmds), cmds)
	}
	for _, c := range cmds {
		if !strings.Contains(c, "--s3-endpoint "+b.Env.Endpoint) || !strings.Contains(c, "--s3-path-style") {
			t.Errorf("%s: does not say how the run reached its S3 server", c)
		}
		cmd := exec.Command("sh", "-c", c)
		cmd.Env = append(cleanEnv(creds), "PATH="+filepath.Dir(binPath)+":"+os.Getenv("PATH"))
		for i, kv := range cmd.Env { // no endpoint or region but the command's own
			if strings.HasPrefix(kv, "AWS_ENDPOINT_URL") || strings.HasPrefix(kv, "AWS_REGION=") || strings.HasPrefix(kv, "AWS_DEFAULT_REGION=") {
				cmd.Env[i] = "MEETARCHIVE_TEST_UNSET=1"
			}
		}
		if outb, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", c, err, outb)
		}
	}
}
