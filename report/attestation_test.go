package report

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// attestationRows reads the page's table rows by their id: the value cell
// unescaped, as a browser shows it.
func attestationRows(t *testing.T, page string) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`<tr id="([^"]+)"><th scope="row">[^<]*</th><td[^>]*>([^<]*)</td></tr>`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(page, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// attestationCommandsOf reads the page's commands, unescaped.
func attestationCommandsOf(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<code class="cmd">([^<]*)</code>`).FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// TestAttestationHTML: the page states the run, the outcome, the ledger
// (or plainly none) and the commands that re-verify it, every text
// escaped.
func TestAttestationHTML(t *testing.T) {
	head := strings.Repeat("c0ffee", 10) + "abcd"
	signed := &LedgerInfo{URI: "s3://archive/meetings/_meetarchive/ledger/R.jsonl", Head: head, Lines: 42,
		SignatureURI: "s3://archive/meetings/_meetarchive/ledger/R.sig.json", KeySHA256: "SHA256:abcDEF"}
	unsigned := &LedgerInfo{URI: "/srv/a/_meetarchive/ledger/R.jsonl", Head: head, Lines: 7}
	base := func(mod func(s *Summary)) *Summary {
		s := &Summary{RunInfo: testInfo(), Counts: map[Status]int{Archived: 3, Failed: 1}, Conferences: 4, Files: 6, BytesArchived: 123456,
			Verdict: Verdict{Level: LevelRed, Text: "1 of 4 conferences failed: rerun with failures.csv."}, ExitCode: ExitFailures}
		s.RunID, s.Operator, s.Finished = "20261207T044100Z-abc123", "alice", t0.Add(90*60e9)
		mod(s)
		return s
	}
	tests := []struct {
		name     string
		sum      *Summary
		rows     map[string]string // id -> value shown
		noLedger bool
		commands []string
	}{
		{
			name: "signed ledger, S3",
			sum:  base(func(s *Summary) { s.Ledger = signed }),
			rows: map[string]string{"run-id": "20261207T044100Z-abc123", "tool": "meetarchive v1.2.3", "operator": "alice",
				"input": "uuids.csv", "dest": "s3://archive/meetings", "count-archived": "3", "count-failed": "1", "files": "6",
				"ledger-uri": signed.URI, "ledger-head": head, "ledger-lines": "42", "ledger-signature": signed.SignatureURI, "ledger-key": "SHA256:abcDEF"},
			commands: []string{
				"meetarchive verify --ledger 20261207T044100Z-abc123 --dest s3://archive/meetings --head " + head + " --public-key PUBLIC_KEY.pem",
				"meetarchive verify --sums /rep/sha256sums.txt --dest s3://archive/meetings",
				"meetarchive verify --manifest /rep/manifest.csv --dest s3://archive/meetings",
			},
		},
		{
			name: "unsigned ledger, directory with a space and a quote",
			sum: base(func(s *Summary) {
				s.Ledger, s.Dest, s.Input, s.DateRange = unsigned, "/srv/it's here", "", "2026-12-01..2026-12-06"
			}),
			rows: map[string]string{"window": "2026-12-01..2026-12-06", "dest": "/srv/it's here", "ledger-head": head, "ledger-signature": "not signed (the run was given no --sign-key)"},
			commands: []string{
				`meetarchive verify --ledger 20261207T044100Z-abc123 --dest '/srv/it'\''s here' --head ` + head,
				`cd '/srv/it'\''s here' && sha256sum -c /rep/sha256sums.txt`,
				`meetarchive verify --manifest /rep/manifest.csv --dest '/srv/it'\''s here'`,
			},
		},
		{
			name:     "no ledger",
			sum:      base(func(s *Summary) { s.Operator = "" }),
			rows:     map[string]string{"operator": "(none)"},
			noLedger: true,
			commands: []string{
				"meetarchive verify --sums /rep/sha256sums.txt --dest s3://archive/meetings",
				"meetarchive verify --manifest /rep/manifest.csv --dest s3://archive/meetings",
			},
		},
		{
			// reconcile: nothing stored (an empty sha256sums.txt, which
			// sha256sum -c refuses) and no ledger: neither command.
			name: "nothing stored, no ledger",
			sum: base(func(s *Summary) {
				s.Dest, s.Counts, s.Files = "/srv/a", map[Status]int{NotFound: 2}, 0
			}),
			noLedger: true,
			commands: []string{"meetarchive verify --manifest /rep/manifest.csv --dest /srv/a"},
		},
		{
			name: "ledger not stored in the destination: the report's copy",
			sum: base(func(s *Summary) {
				s.Dest, s.Ledger = "/srv/a", &LedgerInfo{Head: head, Lines: 7, Error: "ledger: store: disk full"}
			}),
			rows: map[string]string{"ledger-uri": "not stored in the destination: its copy is ledger.jsonl beside this page",
				"ledger-signature": "not signed (the run was given no --sign-key)", "ledger-error": "ledger: store: disk full"},
			commands: []string{
				"meetarchive verify --ledger /rep/ledger.jsonl --dest /srv/a --head " + head,
				"cd /srv/a && sha256sum -c /rep/sha256sums.txt",
				"meetarchive verify --manifest /rep/manifest.csv --dest /srv/a",
			},
		},
		{
			// --sign-key given, the ledger stored, its signature not: the
			// page never says "not signed", and its command reports the
			// signature missing.
			name: "signature not stored",
			sum: base(func(s *Summary) {
				s.Ledger = &LedgerInfo{URI: signed.URI, Head: head, Lines: 42, KeySHA256: "SHA256:abcDEF", Error: "ledger: signature not stored: AccessDenied"}
			}),
			rows: map[string]string{"ledger-uri": signed.URI, "ledger-key": "SHA256:abcDEF",
				"ledger-signature": "NOT STORED: the run was given --sign-key, but the signature did not reach the destination (see below)",
				"ledger-error":     "ledger: signature not stored: AccessDenied"},
			commands: []string{
				"meetarchive verify --ledger 20261207T044100Z-abc123 --dest s3://archive/meetings --head " + head + " --public-key PUBLIC_KEY.pem",
				"meetarchive verify --sums /rep/sha256sums.txt --dest s3://archive/meetings",
				"meetarchive verify --manifest /rep/manifest.csv --dest s3://archive/meetings",
			},
		},
		{
			// The run reached its S3 server with flags: each command
			// repeats them (a tester ran the commands as printed, and they
			// went to AWS).
			name: "S3 reached by flags",
			sum: base(func(s *Summary) {
				s.Ledger = unsigned
				s.Options = map[string]string{OptionS3Endpoint: "http://127.0.0.1:7070", OptionS3PathStyle: "true", OptionS3Region: "us-east-1", OptionS3Profile: "it's mine"}
			}),
			commands: []string{
				"meetarchive verify --ledger 20261207T044100Z-abc123 --dest s3://archive/meetings --s3-endpoint http://127.0.0.1:7070 --s3-region us-east-1 --s3-profile 'it'\\''s mine' --s3-path-style --head " + head,
				"meetarchive verify --sums /rep/sha256sums.txt --dest s3://archive/meetings --s3-endpoint http://127.0.0.1:7070 --s3-region us-east-1 --s3-profile 'it'\\''s mine' --s3-path-style",
				"meetarchive verify --manifest /rep/manifest.csv --dest s3://archive/meetings --s3-endpoint http://127.0.0.1:7070 --s3-region us-east-1 --s3-profile 'it'\\''s mine' --s3-path-style",
			},
		},
		{
			// A reconcile: no rows, a window the platform was asked about:
			// the page shows what was reconciled, and a reconcile of the
			// same window and filters re-checks it.
			name: "reconcile of a window, every user's, searched",
			sum: base(func(s *Summary) {
				s.Counts, s.Conferences, s.Files, s.BytesArchived = map[Status]int{}, 0, 0, 0
				s.Dest, s.Shard = "/srv/a", ""
				s.Options = map[string]string{OptionAllUsers: "true", OptionSearch: "board's", OptionAPI: "https://api-intl.meeting.huaweicloud.com"}
				s.Completeness = &Completeness{Window: "2026-12-01T00:00:00Z..2026-12-01T23:59:59Z", PlatformChecked: true, Reported: 9, Accounted: 8, Conferences: 10}
			}),
			rows:     map[string]string{"reconciled": "10", "reported": "9", "accounted": "8"},
			noLedger: true,
			// No verify --manifest: a reconcile's manifest has no rows.
			commands: []string{
				`meetarchive reconcile --from 2026-12-01T00:00:00Z --to 2026-12-01T23:59:59Z --api https://api-intl.meeting.huaweicloud.com --all-users --search 'board'\''s' --dest /srv/a --out /rep-reconciled`,
			},
		},
		{
			// A shard's completeness covers its own conferences: a
			// reconcile of the whole window would not re-check it.
			name: "a shard's window: no reconcile command",
			sum: base(func(s *Summary) {
				s.Dest, s.Shard = "/srv/a", "1/2"
				s.Completeness = &Completeness{Window: "2026-12-01T00:00:00Z..2026-12-01T23:59:59Z", PlatformChecked: true, Reported: 3, Accounted: 3, Conferences: 3}
			}),
			noLedger: true,
			commands: []string{
				"cd /srv/a && sha256sum -c /rep/sha256sums.txt",
				"meetarchive verify --manifest /rep/manifest.csv --dest /srv/a",
			},
		},
		{
			// Each shard kept its own ledger: the page lists their heads,
			// never "No custody ledger was kept".
			name: "merged shards with their ledgers",
			sum: base(func(s *Summary) {
				s.MergedFrom = []string{"/r/1", "/r/2"}
				s.ShardLedgers = []ShardLedger{{RunID: "r1", LedgerInfo: *signed}, {RunID: "r2", LedgerInfo: LedgerInfo{Head: head, Lines: 7, Error: "ledger: store: denied"}}}
			}),
			rows: map[string]string{
				"ledger-r1": head + " (42 lines, signed by key SHA256:abcDEF)",
				"ledger-r2": head + " (7 lines, not stored in the destination: its copy is in that shard's report)",
			},
			commands: []string{
				"meetarchive verify --ledger all --dest s3://archive/meetings",
				"meetarchive verify --sums /rep/sha256sums.txt --dest s3://archive/meetings",
				"meetarchive verify --manifest /rep/manifest.csv --dest s3://archive/meetings",
			},
		},
		{
			name:     "merged shards",
			sum:      base(func(s *Summary) { s.MergedFrom = []string{"/r/1", "/r/2"} }),
			noLedger: true,
			commands: []string{
				"meetarchive verify --ledger all --dest s3://archive/meetings",
				"meetarchive verify --sums /rep/sha256sums.txt --dest s3://archive/meetings",
				"meetarchive verify --manifest /rep/manifest.csv --dest s3://archive/meetings",
			},
		},
		{
			name: "hostile text",
			sum: base(func(s *Summary) {
				s.Operator, s.Input = `<script>alert("x")</script>`, `in"put<b>.csv`
				s.Verdict.Text = `<img src=x onerror=alert(1)>`
			}),
			rows:     map[string]string{"operator": `<script>alert("x")</script>`, "input": `in"put<b>.csv`},
			noLedger: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteAttestation(&b, tt.sum, "/rep"); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			got := attestationRows(t, page)
			for id, want := range tt.rows {
				if got[id] != want {
					t.Errorf("row %s = %q, want %q", id, got[id], want)
				}
			}
			if strings.Contains(page, `id="no-ledger"`) != tt.noLedger {
				t.Errorf("the 'no ledger' statement shown: %v, want %v", !tt.noLedger, tt.noLedger)
			}
			if tt.commands != nil {
				if cmds := attestationCommandsOf(page); !slices.Equal(cmds, tt.commands) {
					t.Errorf("commands\n%q\nwant\n%q", cmds, tt.commands)
				}
			}
			for _, raw := range []string{"<script>", "<img", "<b>"} {
				if strings.Contains(page, raw) {
					t.Errorf("the page holds %q unescaped", raw)
				}
			}
			if n := strings.Count(page, "<script"); n != 0 {
				t.Errorf("%d script elements", n)
			}
		})
	}
}

// TestAttestationCommandsParseInAShell: each command, read by a POSIX
// shell, gives back the very destination and report paths (quoted right).
func TestAttestationCommandsParseInAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, dest := range []string{"/srv/plain", "/srv/it's here", "/srv/$HOME `x` \"y\"", "/srv/a\tb"} {
		t.Run(dest, func(t *testing.T) {
			s := &Summary{RunInfo: RunInfo{RunID: "R-1", Dest: dest}, Ledger: &LedgerInfo{Head: "h"}}
			for _, c := range attestationCommands(s, "/rep dir/x", 1) {
				line := strings.TrimPrefix(c.Cmd, "cd ")
				line = strings.Replace(line, " && ", " ", 1)
				out, err := exec.Command(sh, "-c", `printf '%s\n' `+line).Output()
				if err != nil {
					t.Fatalf("%s: %v", c.Cmd, err)
				}
				args := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
				if !slices.Contains(args, dest) {
					t.Errorf("%s: the shell reads %q, without the destination %q", c.Cmd, args, dest)
				}
				if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "/rep dir/x/") }) && !strings.Contains(c.Cmd, "--ledger") {
					t.Errorf("%s: the shell reads %q, without the report directory", c.Cmd, args)
				}
			}
		})
	}
}

// TestCompletenessOnTheAttestation: summary.json's "completeness", when a
// run reconciled its window, is stated; without it nothing is.
func TestCompletenessOnTheAttestation(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"none", `{"runId":"R"}`, ""},
		{"sentence and figures", `{"completeness":{"window":"2026-12-01..2026-12-06","reported":1200,"accounted":1198,"sentence":"1198 of 1200 recordings accounted for."}}`,
			"1198 of 1200 recordings accounted for. Window: 2026-12-01..2026-12-06."},
		{"figures only", `{"completeness":{"reported":3,"accounted":3}}`, "3 of 3 recordings the platform reports are archived or accounted for."},
		// The verdict's banner states the sentence already: only the window.
		{"said by the verdict", `{"verdict":{"text":"4 of 4 conferences archived. 8 of 8 recordings accounted for."},"completeness":{"window":"2026-12-01..2026-12-06","sentence":"8 of 8 recordings accounted for."}}`,
			"Window: 2026-12-01..2026-12-06."},
		{"said by the verdict, no window", `{"verdict":{"text":"6 of 6 conferences of the input are archived or accounted for; the platform-side check needs a window."},"completeness":{"sentence":"6 of 6 conferences of the input are archived or accounted for; the platform-side check needs a window."}}`,
			""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Summary
			if err := json.Unmarshal([]byte(tt.json), &s); err != nil {
				t.Fatal(err)
			}
			if got := attestationCompleteness(&s); got != tt.want {
				t.Errorf("attestationCompleteness = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAttestationInEveryReport: Writer.Close, Rebuild and Merge each write
// attestation.html beside the other report files, naming the run.
func TestAttestationInEveryReport(t *testing.T) {
	root := t.TempDir()
	closed := filepath.Join(root, "closed")
	writeRun(t, closed, testInfo(), mergeableRows(), ExitFailures)
	rebuilt := filepath.Join(root, "rebuilt")
	killJournal(t, rebuilt, fixtureRows(), "")
	if _, err := Rebuild(rebuilt); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	shard2 := filepath.Join(root, "shard2")
	info2 := testInfo()
	info2.RunID = "run-2"
	writeRun(t, shard2, info2, nil, ExitOK)
	merged := filepath.Join(root, "merged")
	if _, err := Merge(merged, []string{closed, shard2}); err != nil {
		t.Fatalf("Merge: %v", err)
	}
	for _, tt := range []struct{ name, dir, runID string }{
		{"Close", closed, testInfo().RunID},
		{"Rebuild", rebuilt, testInfo().RunID},
		{"Merge", merged, testInfo().RunID + "+run-2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(tt.dir, AttestationHTML))
			if err != nil {
				t.Fatal(err)
			}
			rows := attestationRows(t, string(b))
			if got := rows["run-id"]; got != tt.runID {
				t.Errorf("run-id %q, want %q", got, tt.runID)
			}
			if _, said := rows["rebuilt"]; said != (tt.name == "Rebuild") {
				t.Errorf("says it was rebuilt from a journal: %v, want %v", said, tt.name == "Rebuild")
			}
			if !slices.Contains(Paths(tt.dir), filepath.Join(tt.dir, AttestationHTML)) {
				t.Errorf("Paths does not list it")
			}
		})
	}
}
