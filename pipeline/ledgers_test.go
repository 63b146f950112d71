package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"meetarchive/archive"
	"meetarchive/report"
)

// closingProgress is a Progress that says whether it was closed.
type closingProgress struct {
	NoProgress
	closed *bool
}

func (c closingProgress) Close() { *c.closed = true }

// TestVerifyLedgers: verify --ledger's loop: each ledger's result to the
// hook, its progress closed, --head claimed of it, and the outcome's error.
func TestVerifyLedgers(t *testing.T) {
	tests := []struct {
		name    string
		empty   bool   // no ledger in the destination
		head    string // --head
		tamper  bool   // an object overwritten
		cancel  bool   // a signal while the objects are read
		wantErr string // "" none
		wantIs  error
		results int
	}{
		{name: "intact", results: 1},
		{name: "another head", head: strings.Repeat("AB", 32), wantErr: "verify: 1 of 1 ledgers failed their check (listed above)", wantIs: ErrItemsFailed, results: 1},
		{name: "an object changed", tamper: true, wantErr: "verify: 1 of 1 ledgers failed their check (listed above)", wantIs: ErrItemsFailed, results: 1},
		{name: "no ledger", empty: true, wantErr: "verify: no custody ledger in ", wantIs: ErrItemsFailed},
		{name: "interrupted while its objects are read", cancel: true, wantIs: ErrInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dir := t.TempDir()
			st, err := archive.Open(ctx, dir, archive.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if !tt.empty {
				f := newLedgerFixture(t, st, nil)
				f.root = dir
				if tt.tamper {
					f.overwrite(t, 1)
				}
			}
			var results, objects int
			closed := false
			hooks := VerifyLedgersHooks{
				Objects: func(objs []report.LedgerObject) Progress {
					objects = len(objs)
					if tt.cancel {
						cancel()
					}
					return closingProgress{closed: &closed}
				},
				Result: func(res LedgerResult, objectsRead bool) {
					results++
					if !objectsRead {
						t.Error("objectsRead false with --dest")
					}
				},
			}
			cfg := VerifyLedgersConfig{Query: LedgerQuery{Ledger: "all", Dest: dir}, Head: tt.head}
			err = VerifyLedgers(ctx, cfg, hooks)
			switch {
			case tt.wantErr == "" && tt.wantIs == nil && err != nil:
				t.Fatalf("err %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			case tt.wantIs != nil && !errors.Is(err, tt.wantIs):
				t.Fatalf("err %v, want errors.Is %v", err, tt.wantIs)
			}
			if results != tt.results {
				t.Errorf("%d results, want %d", results, tt.results)
			}
			if (tt.results > 0 || tt.cancel) && (objects != 3 || !closed) {
				t.Errorf("progress of %d objects, closed %v; want 3, closed", objects, closed)
			}
		})
	}
}

// TestLedgersOutcome: broken ledgers exit 1, unread ones alone exit 3.
func TestLedgersOutcome(t *testing.T) {
	var fe *FatalError
	tests := []struct {
		bad, unread int
		want        string
		fatal       bool
	}{
		{0, 0, "", false},
		{1, 0, "verify: 1 of 4 ledgers failed their check (listed above)", false},
		{1, 2, "verify: 1 of 4 ledgers failed their check and 2 could not be read (listed above)", false},
		{0, 2, "verify: 2 of 4 ledgers could not be read (listed above): nothing was found wrong, but they were not checked", true},
	}
	for _, tt := range tests {
		err := ledgersOutcome(4, tt.bad, tt.unread)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%d bad, %d unread: %v, want nil", tt.bad, tt.unread, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want || errors.As(err, &fe) != tt.fatal || errors.Is(err, ErrItemsFailed) == tt.fatal {
			t.Errorf("%d bad, %d unread: %v, want %q (fatal %v)", tt.bad, tt.unread, err, tt.want, tt.fatal)
		}
	}
}
