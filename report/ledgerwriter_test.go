package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSummaryShowsLedger: the ledger SetLedger gives is in summary.json,
// the Summary sheet and summary.html; without one, none of them names a
// ledger.
func TestSummaryShowsLedger(t *testing.T) {
	signed := &LedgerInfo{URI: "s3://b/p/_meetarchive/ledger/run-1.jsonl", Head: strings.Repeat("ab", 32), Lines: 42,
		SignatureURI: "s3://b/p/_meetarchive/ledger/run-1.sig.json", KeySHA256: "SHA256:abcdEFGH"}
	unsigned := &LedgerInfo{URI: "/arch/_meetarchive/ledger/run-2.jsonl", Head: strings.Repeat("cd", 32), Lines: 7}
	tests := []struct {
		name string
		l    *LedgerInfo
		want map[string]string // Summary sheet lines
	}{
		{"signed", signed, map[string]string{"custody ledger": signed.URI, "ledger head (SHA-256)": signed.Head, "ledger lines": "42",
			"ledger signature": signed.SignatureURI, "signing key (SHA-256)": signed.KeySHA256}},
		{"unsigned", unsigned, map[string]string{"custody ledger": unsigned.URI, "ledger head (SHA-256)": unsigned.Head, "ledger lines": "7"}},
		{"signature not stored", &LedgerInfo{URI: signed.URI, Head: signed.Head, Lines: 42, KeySHA256: signed.KeySHA256, Error: "signature not stored: denied"},
			map[string]string{"custody ledger": signed.URI, "ledger head (SHA-256)": signed.Head, "ledger lines": "42",
				"ledger signature": "not stored", "signing key (SHA-256)": signed.KeySHA256, "ledger storing failed": "signature not stored: denied"}},
		{"ledger not stored", &LedgerInfo{Head: unsigned.Head, Lines: 7, Error: "store: no space left on device"},
			map[string]string{"custody ledger": "not stored in the destination (its copy: ledger.jsonl here)", "ledger head (SHA-256)": unsigned.Head,
				"ledger lines": "7", "ledger storing failed": "store: no space left on device"}},
		{"none", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewWriter(dir, testInfo())
			if err != nil {
				t.Fatal(err)
			}
			w.now = func() time.Time { return finished }
			w.SetLedger(tc.l)
			if _, err := w.Close(ExitOK); err != nil {
				t.Fatal(err)
			}

			b, err := os.ReadFile(filepath.Join(dir, SummaryJSON))
			if err != nil {
				t.Fatal(err)
			}
			var sum Summary
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(sum.Ledger), fmt.Sprint(tc.l); got != want {
				t.Errorf("summary.json ledger = %s, want %s", got, want)
			}

			rows, err := openXLSX(t, dir).GetRows(SheetSummary)
			if err != nil {
				t.Fatal(err)
			}
			vals := map[string]string{}
			for _, r := range rows {
				if len(r) >= 2 {
					vals[r[0]] = r[1]
				}
			}
			page, err := os.ReadFile(filepath.Join(dir, SummaryHTML))
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"custody ledger", "ledger head (SHA-256)", "ledger lines", "ledger signature", "signing key (SHA-256)"} {
				want, ok := tc.want[name]
				if got, has := vals[name]; has != ok || got != want {
					t.Errorf("Summary sheet %q = %q (present %t), want %q (present %t)", name, got, has, want, ok)
				}
				row := fmt.Sprintf("<tr><td>%s</td><td>%s</td></tr>", name, want)
				if got := strings.Contains(string(page), row); got != ok {
					t.Errorf("summary.html has %s: %t, want %t", row, got, ok)
				}
			}
		})
	}
}

// TestFinalExitCode: what Close will write, known before it.
func TestFinalExitCode(t *testing.T) {
	tests := []struct {
		name       string
		planned    bool
		incomplete bool // the window has a recording not accounted for
		code       int
		want       int
	}{
		{"ok", false, false, ExitOK, ExitOK},
		{"a planned line without a row", true, false, ExitOK, ExitFailures},
		{"interrupted stays", true, false, ExitInterrupted, ExitInterrupted},
		{"a window not complete", false, true, ExitOK, ExitFailures},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewWriter(dir, testInfo())
			if err != nil {
				t.Fatal(err)
			}
			if tc.planned {
				if err := w.Plan(func(yield func(PlanItem) bool) { yield(PlanItem{Seq: 1, ConfUUID: uuid(1), Line: 2}) }); err != nil {
					t.Fatal(err)
				}
			}
			if tc.incomplete {
				w.SetCompleteness(&Completeness{Lines: []CompletenessLine{{ConfUUID: uuid(2), Fate: FateHistoryOnly}}})
			}
			got := w.FinalExitCode(tc.code)
			sum, err := w.Close(tc.code)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || sum.ExitCode != got {
				t.Errorf("FinalExitCode = %d, Close wrote %d; want %d both", got, sum.ExitCode, tc.want)
			}
		})
	}
}
