package meetingtest

import (
	"strings"
	"testing"
)

func TestAdd(t *testing.T) {
	ds := Generate(GenerateConfig{Conferences: 2, Seed: 1})
	s := NewUnstarted(Config{Dataset: Dataset{Conferences: ds.Conferences[:1]}})
	defer s.Close()
	for _, tc := range []struct {
		name    string
		c       Conference
		wantErr string
	}{
		{"new", ds.Conferences[1], ""},
		{"again", ds.Conferences[1], "exists"},
		{"in the dataset", ds.Conferences[0], "exists"},
		{"invalid", Conference{ConfUUID: "x", StartTime: "yesterday"}, "startTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Add(tc.c)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Add: %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
	got, ok := s.Conference(ds.Conferences[1].ConfUUID)
	if !ok || got.Subject != ds.Conferences[1].Subject {
		t.Fatalf("added conference: %+v, %v", got, ok)
	}
	if n := len(s.order); n != 2 {
		t.Errorf("%d conferences listed, want 2", n)
	}
}

func TestAddDerivesHistory(t *testing.T) {
	ds := SampleDataset()
	s := NewUnstarted(Config{Dataset: Dataset{Conferences: ds.Conferences[:3]}, Seed: 3})
	defer s.Close()
	// A later run of the meeting of conference 0 makes both recurring.
	run := ds.Conferences[3]
	run.ConfID = ds.Conferences[0].ConfID
	if err := s.Add(run); err != nil {
		t.Fatal(err)
	}
	m := ds.Meetings[1]
	for _, tc := range []struct {
		name    string
		m       Meeting
		wantErr string
	}{
		{"new", m, ""},
		{"again", m, "exists"},
		{"a conference's UUID", Meeting{ConfUUID: run.ConfUUID, StartTime: m.StartTime}, "exists"},
		{"invalid", Meeting{ConfUUID: "x", StartTime: "today"}, "startTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.AddMeeting(tc.m)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("AddMeeting: %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
	added, _ := s.Conference(run.ConfUUID)
	first, _ := s.Conference(ds.Conferences[0].ConfUUID)
	meeting, ok := s.Meeting(m.ConfUUID)
	if !ok || meeting.History == nil || meeting.History.RecordType != 0 || len(meeting.History.Participants) == 0 {
		t.Errorf("added meeting's history %+v, want derived, without recording", meeting.History)
	}
	if added.History == nil || added.History.ConfType != "CYCLE" || first.History.ConfType != "CYCLE" {
		t.Errorf("runs of one meeting: confType %v and %v, want CYCLE", added.History, first.History)
	}
}
