package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/report"
)

type rowSink struct{ rows []report.Row }

func (s *rowSink) AddAll(rows ...report.Row) error {
	s.rows = append(s.rows, rows...)
	return nil
}

const (
	confA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
	confB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
	confC = "ccccccccccccccccccccccccccccccc3"
	confD = "ddddddddddddddddddddddddddddddd4"
	confE = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee5"
)

func TestWindow(t *testing.T) {
	now := time.Date(2024, 5, 3, 2, 30, 0, 0, time.UTC)
	cfg := SinceLast{Overlap: 2 * time.Hour, Settle: 30 * time.Minute}
	withFrom := cfg
	withFrom.From = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name             string
		prev             State
		found            bool
		cfg              SinceLast
		wantStart, wantE time.Time
		wantErr          error
	}{
		{name: "first run from --from", cfg: withFrom, wantStart: withFrom.From, wantE: now.Add(-30 * time.Minute)},
		{name: "first run without --from", cfg: cfg, wantErr: ErrNoStart},
		{name: "state: windowEnd less the overlap", found: true, cfg: withFrom,
			prev:      State{WindowEnd: time.Date(2024, 5, 2, 2, 0, 0, 0, time.UTC)},
			wantStart: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), wantE: now.Add(-30 * time.Minute)},
		{name: "again within the settle time: empty window at the end", found: true, cfg: cfg,
			prev:      State{WindowEnd: now.Add(3 * time.Hour)},
			wantStart: now.Add(-30 * time.Minute), wantE: now.Add(-30 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, e, err := Window(tc.prev, tc.found, tc.cfg, now)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !s.Equal(tc.wantStart) || !e.Equal(tc.wantE) {
				t.Errorf("window %s..%s, want %s..%s", s, e, tc.wantStart, tc.wantE)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	for _, tc := range []struct {
		name, data, wantErr string
	}{
		{"good", `{"format":1,"windowEnd":"2024-05-02T02:00:00Z","carry":[{"confUUID":"AAAAAAAA-AAAA-AAAA-AAAA-AAAAAAAAAAA1","status":"pending-transcode"}]}`, ""},
		{"not json", `{`, "state:"},
		{"other format", `{"format":2,"windowEnd":"2024-05-02T02:00:00Z"}`, "format 2"},
		{"no window end", `{"format":1}`, "no windowEnd"},
		{"bad uuid", `{"format":1,"windowEnd":"2024-05-02T02:00:00Z","carry":[{"confUUID":"../x"}]}`, "not a conference UUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseState([]byte(tc.data))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := s.Carry[0].ConfUUID; got != confA {
					t.Errorf("carried UUID %q, want the normalised %q", got, confA)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func listedItems(uuids ...string) []Item {
	var items []Item
	for i, u := range uuids {
		items = append(items, Item{Seq: i, Line: i + 1, ConfUUID: u})
	}
	return items
}

func itemUUIDs(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ConfUUID)
	}
	return out
}

// TestIncrementalRuns: two runs on one directory: the carry-over, its
// expiry, the window's advance, and a run that may not advance.
func TestIncrementalRuns(t *testing.T) {
	ctx := context.Background()
	store, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2024, 5, 2, 2, 30, 0, 0, time.UTC)
	cfg := SinceLast{
		From: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Overlap: 2 * time.Hour, Settle: 30 * time.Minute,
		MaxPendingAge: 7 * 24 * time.Hour, Now: func() time.Time { return day1 },
	}

	// Run 1: A archived, B pending, C failed, D not found.
	in, err := StartIncremental(ctx, store, cfg, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Found() {
		t.Fatal("a state was found on a new destination")
	}
	if q := in.Query(); !q.From.Equal(cfg.From) || !q.To.Equal(day1.Add(-30*time.Minute)) {
		t.Fatalf("window %s..%s", q.From, q.To)
	}
	if _, err := StartIncremental(ctx, store, cfg, Shard{}); !errors.Is(err, archive.ErrStateHeld) {
		t.Fatalf("a second run while the first holds the state: got %v, want ErrStateHeld", err)
	}
	items := in.Items(listedItems(confA, confB, confC, confD))
	if got := itemUUIDs(items); strings.Join(got, ",") != strings.Join([]string{confA, confB, confC, confD}, ",") {
		t.Fatalf("items %v", got)
	}
	sink := &rowSink{}
	w := in.Rows(sink)
	_ = w.AddAll(report.Row{Seq: 0, ConfUUID: confA, Status: report.Archived, FileIndex: 0}, report.Row{Seq: 0, ConfUUID: confA, Status: report.Archived, FileIndex: 1})
	_ = w.AddAll(report.Row{Seq: 1, ConfUUID: confB, Status: report.PendingTranscode})
	_ = w.AddAll(report.Row{Seq: 2, ConfUUID: confC, Status: report.Archived, FileIndex: 0}, report.Row{Seq: 2, ConfUUID: confC, Status: report.Failed, ErrorCode: "http-500", FileIndex: 1})
	_ = w.AddAll(report.Row{Seq: 3, ConfUUID: confD, Status: report.NotFound})
	st1, err := in.Finish(ctx, "run-1", true)
	if err != nil {
		t.Fatal(err)
	}
	in.Close()
	wantCarry := []Carried{
		{ConfUUID: confB, Status: report.PendingTranscode, FirstSeen: day1, LastTried: day1},
		{ConfUUID: confC, Status: report.Failed, ErrorCode: "http-500", FirstSeen: day1, LastTried: day1},
	}
	if got, want := carryJSON(t, st1.Carry), carryJSON(t, wantCarry); got != want {
		t.Fatalf("carry after run 1:\n got %s\nwant %s", got, want)
	}
	if !st1.WindowEnd.Equal(day1.Add(-30 * time.Minute)) {
		t.Errorf("windowEnd %s", st1.WindowEnd)
	}

	// Run 2 is interrupted: the state stays as it was.
	cfg.Now = func() time.Time { return day1.Add(24 * time.Hour) }
	in, err = StartIncremental(ctx, store, cfg, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	_ = in.Rows(sink).AddAll(report.Row{ConfUUID: confB, Status: report.Archived})
	if st, err := in.Finish(ctx, "run-2", false); err != nil || st.RunID != "" {
		t.Fatalf("Finish(false) = %+v, %v; want nothing written", st, err)
	}
	in.Close()

	// Run 3, eight days later: the window starts at run 1's end less the
	// overlap; B is asked again and expires, C is archived, E is new and
	// pending, and a row for C in the listing is not duplicated.
	day9 := day1.Add(8 * 24 * time.Hour)
	cfg.Now = func() time.Time { return day9 }
	in, err = StartIncremental(ctx, store, cfg, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	if !in.Found() || in.Previous().RunID != "run-1" {
		t.Fatalf("state read: found %v, written by %q; want run-1's", in.Found(), in.Previous().RunID)
	}
	if q := in.Query(); !q.From.Equal(st1.WindowEnd.Add(-2*time.Hour)) || !q.To.Equal(day9.Add(-30*time.Minute)) {
		t.Fatalf("window %s..%s", q.From, q.To)
	}
	items = in.Items(listedItems(confC, confE))
	if got, want := strings.Join(itemUUIDs(items), ","), strings.Join([]string{confC, confE, confB}, ","); got != want {
		t.Fatalf("items %s, want %s", got, want)
	}
	if items[2].Seq != 2 || items[2].Line != 3 {
		t.Errorf("carried item Seq %d Line %d, want 2 and 3", items[2].Seq, items[2].Line)
	}
	sink = &rowSink{}
	w = in.Rows(sink)
	_ = w.AddAll(report.Row{Seq: 0, ConfUUID: confC, Status: report.Archived})
	_ = w.AddAll(report.Row{Seq: 1, ConfUUID: confE, Status: report.PendingTranscode})
	_ = w.AddAll(report.Row{Seq: 2, ConfUUID: confB, Status: report.PendingTranscode})
	got := sink.rows[2]
	if got.Status != report.Failed || got.ErrorCode != string(CodePendingExpired) || got.Hint == "" ||
		!strings.Contains(got.ErrorMessage, "max-pending-age") {
		t.Errorf("expired row: status %s code %s message %q hint %q; want failed pending-expired", got.Status, got.ErrorCode, got.ErrorMessage, got.Hint)
	}
	if sink.rows[1].Status != report.PendingTranscode {
		t.Errorf("a new pending conference was rewritten: %s", sink.rows[1].Status)
	}
	if in.Expired() != 1 {
		t.Errorf("Expired() = %d, want 1", in.Expired())
	}
	st3, err := in.Finish(ctx, "run-3", true)
	if err != nil {
		t.Fatal(err)
	}
	in.Close()
	wantCarry = []Carried{{ConfUUID: confE, Status: report.PendingTranscode, FirstSeen: day9, LastTried: day9}}
	if got, want := carryJSON(t, st3.Carry), carryJSON(t, wantCarry); got != want {
		t.Fatalf("carry after run 3:\n got %s\nwant %s", got, want)
	}
	b, err := os.ReadFile(filepath.Join(store.Root(), "_meetarchive", "state", "since-last.json"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := ParseState(b)
	if err != nil || onDisk.RunID != "run-3" || !onDisk.WindowEnd.Equal(day9.Add(-30*time.Minute)) {
		t.Errorf("state on disk: %+v, %v", onDisk, err)
	}
}

// TestIncrementalUnreportedCarryKept: a carried conference no row speaks
// of is never dropped.
func TestIncrementalUnreportedCarryKept(t *testing.T) {
	in := &Incremental{
		cfg: SinceLast{}, now: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), found: true,
		prev:     State{WindowEnd: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Carry: []Carried{{ConfUUID: confB, Status: report.Failed}}},
		carried:  map[string]Carried{confB: {ConfUUID: confB, Status: report.Failed}},
		outcomes: map[string]outcome{},
	}
	next := in.NextState("r")
	if len(next.Carry) != 1 || next.Carry[0].ConfUUID != confB {
		t.Errorf("carry %+v, want B kept", next.Carry)
	}
	if !next.WindowEnd.Equal(in.prev.WindowEnd) {
		t.Errorf("windowEnd %s went back before %s", next.WindowEnd, in.prev.WindowEnd)
	}
}

func TestStateName(t *testing.T) {
	for _, tc := range []struct {
		sh   Shard
		want string
	}{{Shard{}, "since-last"}, {Shard{K: 0, N: 1}, "since-last"}, {Shard{K: 2, N: 4}, "since-last-2-of-4"}} {
		if got := StateName(tc.sh); got != tc.want {
			t.Errorf("StateName(%v) = %q, want %q", tc.sh, got, tc.want)
		}
	}
}

func carryJSON(t *testing.T, c []Carried) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
