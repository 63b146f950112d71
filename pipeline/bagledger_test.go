package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"meetarchive/archive"
	"meetarchive/report"
)

// TestBagLedgerChecks: the checks a ledger and its signature pass as they
// are copied into a bag, against what the run's summary.json states.
func TestBagLedgerChecks(t *testing.T) {
	st, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := newLedgerFixture(t, st, nil)
	join := func(lines [][]byte) []byte { return append(bytes.Join(lines, []byte("\n")), '\n') }
	c, err := report.VerifyLedger(bytes.NewReader(join(f.lines)))
	if err != nil {
		t.Fatal(err)
	}
	run := BagRun{RunID: f.runID, Ledger: report.LedgerInfo{Head: c.Head, Lines: c.Lines}, Summary: "summary.json"}
	forged, forgedHead := rechain(t, f.edited(t, 2, func(m map[string]any) { m["data"].(map[string]any)["bytes"] = 1 }))
	otherRun, otherHead := rechain(t, f.edited(t, 1, func(m map[string]any) { m["data"].(map[string]any)["runId"] = "other" }))
	with := func(head string, lines int) BagRun {
		r := run
		r.Ledger.Head, r.Ledger.Lines = head, lines
		return r
	}
	ledgers := []struct {
		name   string
		run    BagRun
		ledger []byte
		want   string // "" passes
	}{
		{"intact", run, join(f.lines), ""},
		{"intact, head in upper case", with(strings.ToUpper(c.Head), c.Lines), join(f.lines), ""},
		{"intact, summary without lines", with(c.Head, 0), join(f.lines), ""},
		{"a line edited", run, join(f.edited(t, 3, func(m map[string]any) { m["time"] = "2020-01-01T00:00:00Z" })), "chain broken: ledger line 4"},
		{"a line deleted", run, join(append(f.lines[:2:2], f.lines[3:]...)), "chain broken: ledger line 3"},
		{"truncated", run, join(f.lines[:5]), "chain broken"},
		{"rechained: another head", run, join(forged), "ends at head " + forgedHead},
		{"another run's", with(otherHead, c.Lines), join(otherRun), `its run-start names run "other"`},
		{"another line count", with(c.Head, c.Lines+1), join(f.lines), "6 lines; summary.json says its head covers 7"},
		{"empty", run, nil, "chain broken"},
	}
	for _, tt := range ledgers {
		t.Run("ledger/"+tt.name, func(t *testing.T) {
			checkBagErr(t, tt.run.checkLedger(bytes.NewReader(tt.ledger)), tt.want)
		})
	}

	sig := report.SignLedger(newKey(t), f.runID, c.Head, c.Lines)
	edit := func(fn func(s *report.LedgerSignature)) []byte {
		s := sig
		fn(&s)
		b, _ := json.Marshal(s)
		return b
	}
	sigs := []struct {
		name string
		sig  []byte
		want string
	}{
		{"intact", edit(func(*report.LedgerSignature) {}), ""},
		{"another run", edit(func(s *report.LedgerSignature) { s.RunID = "other" }), `it is for run "other"`},
		{"another head", edit(func(s *report.LedgerSignature) { s.Head = forgedHead }), "it signs head " + forgedHead},
		{"another line count", edit(func(s *report.LedgerSignature) { s.Lines++ }), "it signs 7 lines"},
		{"signedBytes of another head", edit(func(s *report.LedgerSignature) {
			s.Message = report.LedgerSignedMessage(s.RunID, forgedHead, s.Lines)
		}), "signedBytes are not"},
		{"not JSON", []byte("nope"), "not a ledger signature"},
		{"too big", bytes.Repeat([]byte(" "), maxSignatureBytes+1), "more than"},
	}
	for _, tt := range sigs {
		t.Run("signature/"+tt.name, func(t *testing.T) {
			checkBagErr(t, run.checkSignature(bytes.NewReader(tt.sig)), tt.want)
		})
	}
}

func checkBagErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("error %v, want none", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("error %v, want one with %q", err, want)
	}
}

// TestLedgerRoot: a ledger's destination root from the URI summary.json
// gives it.
func TestLedgerRoot(t *testing.T) {
	for _, tt := range []struct {
		uri, run, want string
		ok             bool
	}{
		{"s3://b/arch/_meetarchive/ledger/R1.jsonl", "R1", "s3://b/arch/", true},
		{"s3://b/_meetarchive/ledger/R1.jsonl", "R1", "s3://b/", true},
		{"/srv/archive/_meetarchive/ledger/R1.jsonl", "R1", "/srv/archive/", true},
		{"/srv/archive/_meetarchive/ledger/R2.jsonl", "R1", "", false},
		{"archive/_meetarchive/ledger/R1.jsonl", "R1", "", false},
		{"_meetarchive/ledger/R1.jsonl", "R1", "", false},
		{"", "R1", "", false},
	} {
		got, ok := ledgerRoot(tt.uri, tt.run)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ledgerRoot(%q, %q) = %q, %v; want %q, %v", tt.uri, tt.run, got, ok, tt.want, tt.ok)
		}
	}
}

// TestBagLedgerFromTheReportCopy: a run that could not store its ledger in
// the destination (summary.json: a head, no uri, an error) is bagged with
// its report's copy, checked like a stored one; without that copy the bag
// says it is missing. A reviewer found such a run could not be bagged at
// all ("give --dest where it is stored", where it never was).
func TestBagLedgerFromTheReportCopy(t *testing.T) {
	report1 := t.TempDir()
	led := NewRunLedger(report1)
	if err := led.Start(report.LedgerRunStart{RunID: "run-c", Tool: "meetarchive"}); err != nil {
		t.Fatal(err)
	}
	if _, err := led.End(context.Background(), report.LedgerRunEnd{ExitCode: report.ExitOK}, nil, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(report1, report.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := report.VerifyLedger(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		wantErr   error
	}{
		{"the report's copy", report1, nil},
		{"no copy either", t.TempDir(), archive.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := BagRun{RunID: "run-c", Summary: filepath.Join(tc.dir, report.SummaryJSON),
				Ledger: report.LedgerInfo{Head: c.Head, Lines: c.Lines, Error: "ledger: store: no space left on device"}}
			var b BagStores
			objs, problems, err := b.LedgerObjects(context.Background(), []BagRun{run})
			if err != nil || len(problems) > 0 || len(objs) != 1 {
				t.Fatalf("objects %+v, problems %q, err %v; want the ledger alone", objs, problems, err)
			}
			o := objs[0]
			if o.Path != LedgerKey("run-c") || o.URI != filepath.Join(tc.dir, report.LedgerFile) {
				t.Errorf("object at %s from %s; want %s from the report's copy", o.Path, o.URI, LedgerKey("run-c"))
			}
			rc, err := o.Store.Open(context.Background(), o.Key)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Open: %v, want %v", err, tc.wantErr)
			}
			if err == nil {
				defer rc.Close()
				if err := o.Check(rc); err != nil {
					t.Errorf("the copy's check: %v", err)
				}
			}
		})
	}
}
