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
