package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"meetarchive/archive"
	"meetarchive/report"
)

// A ledger file named by its path in a destination's ledger folder must be
// the ledger of the run its name says: another run's intact ledger copied
// over it is caught at line 1, as `verify --ledger RUN --dest` catches it.
func TestLedgerFileInTheDestinationIsItsRuns(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	st, err := archive.Open(ctx, root, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newLedgerFixture(t, st, newKey(t))
	pub := fixtureKey(t, f)
	dir := filepath.Join(root, filepath.FromSlash(LedgerDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := append(bytes.Join(f.lines, []byte("\n")), '\n')
	for _, tc := range []struct {
		name, runID string
		wantBreak   bool
	}{
		{"its own run's", f.runID, false},
		{"another run's, copied over", "20991231T000000Z-000000", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.runID+".jsonl")
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
			tg, err := ResolveLedgers(ctx, LedgerQuery{Ledger: path}, archive.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Store.Close()
			res := VerifyLedger(ctx, tg.Sources[0], tg.Store, pub, LedgerHooks{})
			var lb *report.LedgerBreak
			gotBreak := errors.As(res.Err, &lb) && lb.Line == 1
			if gotBreak != tc.wantBreak {
				t.Errorf("err = %v; want a break at line 1: %v", res.Err, tc.wantBreak)
			}
		})
	}
}
