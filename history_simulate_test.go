package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

// TestSimulateHistoryFlags: `meetarchive simulate` serves the meeting
// history and its reconciliation faults from its flags.
func TestSimulateHistoryFlags(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 4, FilesPerConference: 1, FileSize: 1 << 10, Meetings: 3, Seed: 1,
		Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	hidden := ds.Conferences[1].ConfUUID
	addr := startSimulate(t, "--conferences", "4", "--files-per-conference", "1", "--file-size", "1KiB",
		"--meetings", "3", "--history-retention", "-1s", "--list-count-delta", "2", "--history-count-delta", "-1",
		"--not-deployed", "ctlrecords", "--fault", "list:omit:conf="+hidden, "--sim-app-key", testAppKey, "--app-id", testAppID)
	c, err := export.NewClient(export.Config{BaseURL: "http://" + addr, Credentials: export.Credentials{AppID: testAppID, AppKey: testAppKey}, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	from, to := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)

	var listed []string
	l, err := c.ListPaged(ctx, export.ListQuery{From: from, To: to, AllUsers: true}, func(r export.Recording) error {
		listed = append(listed, r.ConfUUID)
		return nil
	})
	// Three listed (one omitted), the count says two more.
	if err != nil || len(listed) != 3 || l.Count != 5 || l.CountDiff() != -2 || strings.Contains(strings.Join(listed, ","), hidden) {
		t.Errorf("list: %v; %d listed, count %d, diff %d; want 3 without %s, count 5", err, len(listed), l.Count, l.CountDiff(), hidden)
	}
	h, err := c.History(ctx, export.HistoryQuery{From: from, To: to, AllUsers: true})
	if err != nil || len(h.Meetings) != 7 || len(h.Recorded()) != 4 || h.Count != 6 || h.CountDiff() != 1 {
		t.Errorf("history: %v; %d meetings (%d recorded), count %d; want 7 (4), count 6", err, len(h.Meetings), len(h.Recorded()), h.Count)
	}
	if a, err := c.AttendeeRecords(ctx, hidden); err != nil || len(a.Rows) == 0 {
		t.Errorf("attendee records: %v, %d rows; want some", err, len(a.Rows))
	}
	if _, err := c.ControlRecords(ctx, hidden); !errors.Is(err, export.ErrNotDeployed) {
		t.Errorf("control records: %v, want ErrNotDeployed", err)
	}

	res := runBin(t, nil, "simulate", "--addr", "127.0.0.1:0", "--not-deployed", "attendee")
	if res.code != 2 || !strings.Contains(res.stderr, "attendee") {
		t.Errorf("simulate --not-deployed attendee: exit %d, %q; want 2 naming it", res.code, res.stderr)
	}
}
