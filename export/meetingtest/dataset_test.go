package meetingtest

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/sample-dataset.json from SampleDataset")

const sampleFile = "../../testdata/sample-dataset.json"

func TestSampleDatasetFile(t *testing.T) {
	if *update {
		if err := SampleDataset().WriteFile(sampleFile); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LoadDataset(sampleFile)
	if err != nil {
		t.Fatalf("LoadDataset(%s): %v", sampleFile, err)
	}
	if want := SampleDataset(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from SampleDataset() (run go test -run TestSampleDatasetFile -update)", sampleFile)
	}
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestSampleDataset(t *testing.T) {
	d := SampleDataset()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	var ready, pending, unavailable int
	subjects := map[string]bool{}
	types := map[string]bool{}
	for _, c := range d.Conferences {
		subjects[c.Subject] = true
		if !hex32.MatchString(c.ConfUUID) {
			t.Errorf("confUUID %q is not 32 hex", c.ConfUUID)
		}
		switch {
		case !c.IsDecodeFinish:
			pending++
		case !c.Available:
			unavailable++
		default:
			ready++
			if n := len(c.Files); n < 1 || n > 3 {
				t.Errorf("%s: %d files, want 1 to 3", c.ConfUUID, n)
			}
			for _, f := range c.Files {
				types[f.FileType] = true
				if f.Size < 256<<10 || f.Size > 2<<20 {
					t.Errorf("%s %s/%s: %d bytes, want 256 KiB to 2 MiB", c.ConfUUID, f.FileType, f.Name, f.Size)
				}
			}
		}
	}
	if ready != 5 || pending != 1 || unavailable != 1 {
		t.Errorf("ready %d pending %d unavailable %d, want 5 1 1", ready, pending, unavailable)
	}
	for _, s := range []string{`=HYPERLINK("http://x")`, "../../etc"} {
		if !subjects[s] {
			t.Errorf("no subject %q", s)
		}
	}
	if len(types) != 3 {
		t.Errorf("file types %v, want Hd, Sd and Aux", types)
	}
	if _, ok := d.Conference(SampleUnknownConfUUID); ok || !hex32.MatchString(SampleUnknownConfUUID) {
		t.Errorf("SampleUnknownConfUUID must be well-formed and unknown")
	}
}

func TestGenerate(t *testing.T) {
	start := time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC)
	g := GenerateConfig{Conferences: 40, FilesPerConference: 4, FileSize: 1000, Pending: 5, Unavailable: 3, NoFiles: 2, Seed: 17, Start: start}
	d := Generate(g)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, Generate(g)) {
		t.Error("Generate is not deterministic")
	}
	g2 := g
	g2.Seed = 18
	if reflect.DeepEqual(d, Generate(g2)) {
		t.Error("another seed gave the same dataset")
	}
	var pending, unavailable, noFiles int
	for i, c := range d.Conferences {
		if !hex32.MatchString(c.ConfUUID) {
			t.Errorf("conference %d: confUUID %q", i, c.ConfUUID)
		}
		if want := start.Add(time.Duration(i) * 47 * time.Minute).Format(StartTimeLayout); c.StartTime != want {
			t.Errorf("conference %d: startTime %s, want %s", i, c.StartTime, want)
		}
		switch {
		case !c.IsDecodeFinish:
			pending++
		case !c.Available:
			unavailable++
		case len(c.Files) == 0:
			noFiles++
		default:
			if len(c.Files) != 4 || c.Files[3].FileType != "Hd" || c.Files[3].Name != "0_1.mp4" || c.Files[0].Size != 1000 {
				t.Errorf("conference %d files %+v, want 4 of 1000 bytes cycling Hd Sd Aux", i, c.Files)
			}
		}
	}
	if pending != 5 || unavailable != 3 || noFiles != 2 {
		t.Errorf("pending %d unavailable %d no files %d, want 5 3 2", pending, unavailable, noFiles)
	}
	if s := d.Conferences[3].Subject; !strings.ContainsAny(s, "=./+\n\t\"@-") && s != "CON" {
		t.Errorf("conference 3 subject %q: want a hostile one", s)
	}
	if got := Generate(GenerateConfig{Conferences: 2, Pending: 9}); len(got.Conferences) != 2 {
		t.Errorf("counts larger than Conferences: %d conferences", len(got.Conferences))
	}
}

func TestLoadDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, json, want string
	}{
		{"ok", `{"conferences":[{"confUUID":"a","startTime":"2024-01-01 10:00","files":[{"fileType":"Hd","name":"0_0.mp4","size":5}]}]}`, ""},
		{"unknown field", `{"conferences":[{"confUUID":"a","fileSize":3}]}`, "fileSize"},
		{"duplicate", `{"conferences":[{"confUUID":"a"},{"confUUID":"a"}]}`, "duplicate"},
		{"bad type", `{"conferences":[{"confUUID":"a","files":[{"fileType":"HD","name":"x","size":1}]}]}`, "fileType"},
		{"bad start", `{"conferences":[{"confUUID":"a","startTime":"2024-01-01T10:00:00Z"}]}`, "startTime"},
		{"slash in name", `{"conferences":[{"confUUID":"a","files":[{"fileType":"Hd","name":"a/b","size":1}]}]}`, "name"},
		{"trailing", `{"conferences":[]} {}`, "trailing"},
		{"not json", `nope`, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(p, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadDataset(p)
			if tt.want == "" {
				if err != nil {
					t.Errorf("LoadDataset = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadDataset = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := LoadDataset(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("LoadDataset of a missing file: nil error")
	}
}

func TestDatasetWriteRoundTrip(t *testing.T) {
	d := Generate(GenerateConfig{Conferences: 12, FilesPerConference: 2, Pending: 1, Unavailable: 1, Seed: 4})
	p := filepath.Join(t.TempDir(), "d.json")
	if err := d.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	got, err := LoadDataset(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Error("WriteFile then LoadDataset changed the dataset")
	}
}

func TestGenerateCollidingNames(t *testing.T) {
	g := GenerateConfig{Conferences: 12, FilesPerConference: 2, FileSize: 100, Pending: 2, NoFiles: 1, CollidingNames: 3, Seed: 4}
	d := Generate(g)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	without := g
	without.CollidingNames = 0
	plain := Generate(without)
	colliding := 0
	for i, c := range d.Conferences {
		if !reflect.DeepEqual(c.Files, CollidingFiles(100)) {
			if !reflect.DeepEqual(c, plain.Conferences[i]) {
				t.Errorf("conference %d differs from the dataset without CollidingNames", i)
			}
			continue
		}
		colliding++
		if !c.Ready() {
			t.Errorf("conference %d has colliding names but is not ready", i)
		}
	}
	if colliding != 3 {
		t.Errorf("%d conferences with colliding names, want 3", colliding)
	}
	names := map[string]int{}
	for _, f := range CollidingFiles(1) {
		names[strings.TrimSpace(f.Name)]++
	}
	if names["0_0.mp4"] != 4 {
		t.Errorf("CollidingFiles names %v: want four that trim to 0_0.mp4", names)
	}
}

func TestGenerateMeetings(t *testing.T) {
	start := time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC)
	g := GenerateConfig{Conferences: 12, FilesPerConference: 2, Pending: 1, Seed: 21, Start: start, Meetings: 10}
	d := Generate(g)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, Generate(g)) {
		t.Error("Generate with meetings is not deterministic")
	}
	without := g
	without.Meetings = 0
	if plain := Generate(without); !reflect.DeepEqual(plain.Conferences, d.Conferences) || plain.Meetings != nil {
		t.Error("meetings changed the conferences, or appeared without being asked for")
	}
	confIDs := map[string]bool{}
	for _, c := range d.Conferences {
		confIDs[c.ConfID] = true
	}
	if len(d.Meetings) != 10 {
		t.Fatalf("%d meetings, want 10", len(d.Meetings))
	}
	shared := 0
	for i, m := range d.Meetings {
		if !hex32.MatchString(m.ConfUUID) || m.History != nil {
			t.Errorf("meeting %d: confUUID %q, history %v (want derived at serve time)", i, m.ConfUUID, m.History)
		}
		if want := start.Add(time.Duration(i)*47*time.Minute + 47*time.Minute/2).Format(StartTimeLayout); m.StartTime != want {
			t.Errorf("meeting %d: startTime %s, want %s", i, m.StartTime, want)
		}
		if confIDs[m.ConfID] {
			shared++
		}
	}
	if shared != 2 {
		t.Errorf("%d meetings are runs of a recorded meeting, want 2 (every fifth)", shared)
	}
}

func TestLoadDatasetMeetingsAndHistory(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, json, want string
		check            func(t *testing.T, d Dataset)
	}{
		{name: "format without meetings or history", json: `{"conferences":[{"confUUID":"a","startTime":"2024-01-01 10:00"}]}`,
			check: func(t *testing.T, d Dataset) {
				if d.Meetings != nil || d.Conferences[0].History != nil || d.Conferences[0].HiddenFromList {
					t.Errorf("old format: %+v", d)
				}
			}},
		{name: "meetings, a hidden recording and a given history", json: `{"conferences":[{"confUUID":"a","startTime":"2024-01-01 10:00","hiddenFromList":true,
			"history":{"endTime":"2024-01-01 11:00","attendees":[{"displayName":"X","joinTime":1,"leftTime":2}],
			"controls":[{"operateTime":5,"operateCode":"Start recording"}]}}],
			"meetings":[{"confUUID":"b","confID":"1","startTime":"2024-01-02 10:00"}]}`,
			check: func(t *testing.T, d Dataset) {
				c := d.Conferences[0]
				if !c.HiddenFromList || c.History == nil || c.History.EndTime != "2024-01-01 11:00" || len(c.History.Attendees) != 1 ||
					c.History.Controls[0].OperateCode != OperateStartRecording || len(d.Meetings) != 1 || d.Meetings[0].ConfID != "1" {
					t.Errorf("loaded %+v", d)
				}
			}},
		{name: "meeting without start", json: `{"conferences":[],"meetings":[{"confUUID":"b"}]}`, want: "startTime"},
		{name: "meeting and conference share a UUID", json: `{"conferences":[{"confUUID":"a"}],"meetings":[{"confUUID":"a","startTime":"2024-01-02 10:00"}]}`, want: "duplicate"},
		{name: "bad end time", json: `{"conferences":[{"confUUID":"a","history":{"endTime":"noon"}}]}`, want: "endTime"},
		{name: "unknown history field", json: `{"conferences":[{"confUUID":"a","history":{"attendee":[]}}]}`, want: "attendee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(p, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := LoadDataset(p)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("LoadDataset = %v, want an error mentioning %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
			// Round trip.
			q := filepath.Join(dir, "rt.json")
			if err := d.WriteFile(q); err != nil {
				t.Fatal(err)
			}
			if again, err := LoadDataset(q); err != nil || !reflect.DeepEqual(again, d) {
				t.Errorf("round trip: %v, equal %v", err, reflect.DeepEqual(again, d))
			}
		})
	}
}
