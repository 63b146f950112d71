package meetingtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

// StartTimeLayout is the layout of Conference.StartTime, as the API writes it
// ("2019-12-19 02:07": no seconds, no zone). The simulator reads it as UTC.
const StartTimeLayout = "2006-01-02 15:04"

// File types as the downloadurls API names them.
const (
	FileTypeAux = "Aux" // shared screen
	FileTypeHd  = "Hd"  // camera video
	FileTypeSd  = "Sd"  // camera and share composited
)

// Dataset is everything the simulator knows: the recordings it serves and,
// for the meeting-history APIs, the meetings that ended without one.
type Dataset struct {
	Conferences []Conference `json:"conferences"`
	// Meetings are ended meetings without a recording: the history APIs
	// list them (isHasRecordFile false), the recording APIs do not know
	// them. Older dataset files have none.
	Meetings []Meeting `json:"meetings,omitempty"`
}

// Conference is one recorded meeting. The JSON names are the API's.
type Conference struct {
	ConfUUID       string `json:"confUUID"`
	ConfID         string `json:"confID"`
	Subject        string `json:"subject"`
	ScheduserName  string `json:"scheduserName"`
	StartTime      string `json:"startTime"` // StartTimeLayout, UTC
	RcdTime        int    `json:"rcdTime"`   // seconds
	IsDecodeFinish bool   `json:"isDecodeFinish"`
	Available      bool   `json:"available"`
	DecodeEndTime  int64  `json:"decodeEndTime"` // epoch ms
	RecordAuthType int    `json:"recordAuthType"`
	Files          []File `json:"files"`

	// RcdSize overrides the rcdSize (MB) the API reports; 0 = computed from
	// the files (total bytes / MiB, rounded down, so small recordings say 0).
	RcdSize int `json:"rcdSize,omitempty"`
	// UserID owns the recording for the list API without queryAll=true;
	// "" = the enterprise's default admin (whom an App ID token with an
	// empty userId, or account auth, represents).
	UserID string `json:"userId,omitempty"`
	// PlaybackURLs, when not nil, is the details answer's url[] as given
	// (links of a platform that signs them otherwise, say); nil = one
	// playback page of the simulator, with token=, once the recording is
	// ready.
	PlaybackURLs []string `json:"playbackURLs,omitempty"`

	// HiddenFromList leaves the recording out of the recording list (out
	// of its count too), while every other API knows it and the history
	// says it has recording files: a recording the list skipped.
	HiddenFromList bool `json:"hiddenFromList,omitempty"`
	// History is what the meeting-history APIs say of this meeting; nil =
	// derived from the conference and Config.Seed (see History).
	History *History `json:"history,omitempty"`
}

// Meeting is an ended meeting without a recording (Dataset.Meetings). Its
// JSON names are those of Conference.
type Meeting struct {
	ConfUUID      string   `json:"confUUID"`
	ConfID        string   `json:"confID"`
	Subject       string   `json:"subject"`
	ScheduserName string   `json:"scheduserName"`
	StartTime     string   `json:"startTime"` // StartTimeLayout, UTC
	UserID        string   `json:"userId,omitempty"`
	History       *History `json:"history,omitempty"` // nil = derived
}

// File is one media file of a recording.
type File struct {
	FileType string `json:"fileType"` // Aux|Hd|Sd
	Name     string `json:"name"`     // "0_0.mp4"
	Size     int64  `json:"size"`     // bytes
}

// Validate checks the dataset: non-empty unique confUUIDs, parsable start
// times, known file types, non-empty names unique per file type, sizes >= 0.
func (d Dataset) Validate() error {
	seen := make(map[string]bool, len(d.Conferences))
	for i, c := range d.Conferences {
		if c.ConfUUID == "" {
			return fmt.Errorf("conference %d: empty confUUID", i)
		}
		if seen[c.ConfUUID] {
			return fmt.Errorf("conference %d: duplicate confUUID %s", i, c.ConfUUID)
		}
		seen[c.ConfUUID] = true
		if c.StartTime != "" {
			if _, err := time.Parse(StartTimeLayout, c.StartTime); err != nil {
				return fmt.Errorf("conference %s: startTime %q: want layout %q", c.ConfUUID, c.StartTime, StartTimeLayout)
			}
		}
		if c.RcdTime < 0 || c.RcdSize < 0 {
			return fmt.Errorf("conference %s: negative rcdTime or rcdSize", c.ConfUUID)
		}
		if err := c.History.validate(); err != nil {
			return fmt.Errorf("conference %s: history: %w", c.ConfUUID, err)
		}
		files := make(map[string]bool, len(c.Files))
		for j, f := range c.Files {
			switch f.FileType {
			case FileTypeAux, FileTypeHd, FileTypeSd:
			default:
				return fmt.Errorf("conference %s: file %d: fileType %q: want Aux, Hd or Sd", c.ConfUUID, j, f.FileType)
			}
			if f.Name == "" || strings.ContainsAny(f.Name, "/\x00") {
				return fmt.Errorf("conference %s: file %d: bad name %q", c.ConfUUID, j, f.Name)
			}
			if f.Size < 0 {
				return fmt.Errorf("conference %s: file %d: negative size", c.ConfUUID, j)
			}
			k := f.FileType + "/" + f.Name
			if files[k] {
				return fmt.Errorf("conference %s: duplicate file %s", c.ConfUUID, k)
			}
			files[k] = true
		}
	}
	for i, m := range d.Meetings {
		if m.ConfUUID == "" {
			return fmt.Errorf("meeting %d: empty confUUID", i)
		}
		if seen[m.ConfUUID] {
			return fmt.Errorf("meeting %d: duplicate confUUID %s", i, m.ConfUUID)
		}
		seen[m.ConfUUID] = true
		if _, err := time.Parse(StartTimeLayout, m.StartTime); err != nil {
			return fmt.Errorf("meeting %s: startTime %q: want layout %q", m.ConfUUID, m.StartTime, StartTimeLayout)
		}
		if err := m.History.validate(); err != nil {
			return fmt.Errorf("meeting %s: history: %w", m.ConfUUID, err)
		}
	}
	return nil
}

// LoadDataset reads a dataset from a JSON file ({"conferences":[...]}).
// Unknown fields are an error, so that a misspelt field is not silently lost.
func LoadDataset(path string) (Dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Dataset{}, fmt.Errorf("meetingtest: load dataset: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Dataset
	if err := dec.Decode(&d); err != nil {
		return Dataset{}, fmt.Errorf("meetingtest: load dataset %s: %w", path, err)
	}
	if dec.More() {
		return Dataset{}, fmt.Errorf("meetingtest: load dataset %s: %w", path, errors.New("trailing data after the dataset object"))
	}
	if err := d.Validate(); err != nil {
		return Dataset{}, fmt.Errorf("meetingtest: load dataset %s: %w", path, err)
	}
	return d, nil
}

// WriteFile writes the dataset as indented JSON (the format LoadDataset reads).
func (d Dataset) WriteFile(path string) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("meetingtest: write dataset %s: %w", path, err)
	}
	b = append(b, '\n')
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("meetingtest: write dataset: %w", err)
	}
	return nil
}

// Conference returns the conference with the given UUID.
func (d Dataset) Conference(confUUID string) (Conference, bool) {
	for _, c := range d.Conferences {
		if c.ConfUUID == confUUID {
			return c, true
		}
	}
	return Conference{}, false
}

// UUIDs are the conferences' UUIDs, in the dataset's order.
func (d Dataset) UUIDs() []string {
	out := make([]string, 0, len(d.Conferences))
	for _, c := range d.Conferences {
		out = append(out, c.ConfUUID)
	}
	return out
}

// TotalBytes is the sum of every file's size.
func (d Dataset) TotalBytes() int64 {
	var n int64
	for _, c := range d.Conferences {
		for _, f := range c.Files {
			n += f.Size
		}
	}
	return n
}

// Ready reports whether the API offers the conference's files for download:
// transcoding finished and the recording available.
func (c Conference) Ready() bool { return c.IsDecodeFinish && c.Available }

// clone returns a deep copy (files and history not shared).
func (c Conference) clone() Conference {
	c.Files = append([]File(nil), c.Files...)
	c.History = c.History.clone()
	return c
}

// clone returns a deep copy (history not shared).
func (m Meeting) clone() Meeting {
	m.History = m.History.clone()
	return m
}

// GenerateConfig describes a generated dataset. Zero values take defaults.
type GenerateConfig struct {
	Conferences        int       // number of conferences (0 = none)
	FilesPerConference int       // files per ready conference; 0 = 1
	FileSize           int64     // bytes per file; 0 = 64 KiB
	Pending            int       // conferences still transcoding (isDecodeFinish false)
	Unavailable        int       // conferences with available false
	Seed               int64     // same seed, same dataset
	Start              time.Time // first startTime; zero = 2024-01-02 09:00 UTC

	// NoFiles is how many ready conferences have no files at all.
	NoFiles int
	// CollidingNames is how many ready conferences have files whose names
	// collide (CollidingFiles): the same name in three file types, and a
	// name that differs from another only by a trailing space. They ignore
	// FilesPerConference.
	CollidingNames int
	// Interval between consecutive start times; 0 = 47 minutes.
	Interval time.Duration
	// Meetings is how many ended meetings without a recording
	// (Dataset.Meetings) to add, meeting i starting half an Interval after
	// conference i (after the last conference's time for i beyond them).
	// Every fifth one is another run of a recorded conference's meeting
	// (its confID), as a recurring meeting's runs are. They are drawn from
	// their own stream of the seed: the conferences are the same with or
	// without them.
	Meetings int
}

var (
	genSubjects = []string{
		"Weekly sync", "Design review", "季度评审", "Customer call", "All hands",
		"Sprint planning", "Incident retro", "Kundengespräch", "Budget 2025", "1:1",
	}
	genHostile = []string{
		`=HYPERLINK("http://x")`, "../../etc/passwd", "+cmd|' /C calc'!A0",
		"line1\nline2", "tab\there", `quote "q" and comma, semi;colon`, "@SUM(1+1)",
		"-2+3", "CON", strings.Repeat("long subject ", 30),
	}
	genNames = []string{"Li Wei", "Zhang Min", "Alice Martin", "Bob Okafor", "王芳", "Jean-Luc Picard"}
)

// Generate builds a deterministic dataset: the same config gives the same
// dataset. Conferences start Interval apart from Start (ascending); which ones
// are pending, unavailable, without files or with colliding names is chosen
// by the seed. File i of
// a conference cycles Hd, Sd, Aux with names "0_<i/3>.mp4". Every seventh
// subject is hostile (spreadsheet formulas, path traversal, control chars).
func Generate(g GenerateConfig) Dataset {
	n := max(g.Conferences, 0)
	perConf := g.FilesPerConference
	if perConf <= 0 {
		perConf = 1
	}
	size := g.FileSize
	if size <= 0 {
		size = 64 << 10
	}
	start := g.Start
	if start.IsZero() {
		start = time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)
	}
	start = start.UTC().Truncate(time.Minute)
	interval := g.Interval
	if interval <= 0 {
		interval = 47 * time.Minute
	}
	rng := rand.New(rand.NewPCG(uint64(g.Seed), 0x6d656574696e67)) // "meeting"

	role := make([]byte, n) // 0 ready, 'p' pending, 'u' unavailable, 'n' no files, 'c' colliding names
	perm := rng.Perm(n)
	k := 0
	for _, spec := range []struct {
		count int
		r     byte
	}{{g.Pending, 'p'}, {g.Unavailable, 'u'}, {g.NoFiles, 'n'}, {g.CollidingNames, 'c'}} {
		for c := 0; c < spec.count && k < n; c++ {
			role[perm[k]] = spec.r
			k++
		}
	}

	types := []string{FileTypeHd, FileTypeSd, FileTypeAux}
	d := Dataset{Conferences: make([]Conference, 0, n)}
	for i := range n {
		st := start.Add(time.Duration(i) * interval)
		rcd := 300 + rng.IntN(7200)
		c := Conference{
			ConfUUID:       fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()),
			ConfID:         fmt.Sprintf("9%08d", rng.IntN(100000000)),
			ScheduserName:  genNames[rng.IntN(len(genNames))],
			StartTime:      st.Format(StartTimeLayout),
			RcdTime:        rcd,
			IsDecodeFinish: true,
			Available:      true,
			DecodeEndTime:  st.Add(time.Duration(rcd)*time.Second + 10*time.Minute).UnixMilli(),
			RecordAuthType: rng.IntN(3),
		}
		if i%7 == 3 {
			c.Subject = genHostile[(i/7)%len(genHostile)]
		} else {
			c.Subject = fmt.Sprintf("%s #%d", genSubjects[rng.IntN(len(genSubjects))], i+1)
		}
		switch role[i] {
		case 'p':
			c.IsDecodeFinish = false
			c.DecodeEndTime = st.Add(time.Duration(rcd)*time.Second + 24*time.Hour).UnixMilli()
		case 'u':
			c.Available = false
		}
		switch role[i] {
		case 'n':
			c.Files = []File{}
		case 'c':
			c.Files = CollidingFiles(size)
		default:
			c.Files = make([]File, perConf)
			for j := range perConf {
				c.Files[j] = File{FileType: types[j%3], Name: fmt.Sprintf("0_%d.mp4", j/3), Size: size}
			}
		}
		d.Conferences = append(d.Conferences, c)
	}
	d.Meetings = generateMeetings(g, d.Conferences, start, interval)
	return d
}

// generateMeetings makes GenerateConfig.Meetings meetings without a
// recording, from a stream of the seed of their own.
func generateMeetings(g GenerateConfig, confs []Conference, start time.Time, interval time.Duration) []Meeting {
	if g.Meetings <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(g.Seed), 0x686973746f7279)) // "history"
	out := make([]Meeting, 0, g.Meetings)
	for i := range g.Meetings {
		st := start.Add(time.Duration(i)*interval + interval/2)
		m := Meeting{
			ConfUUID:      fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()),
			ConfID:        fmt.Sprintf("8%08d", rng.IntN(100000000)),
			Subject:       fmt.Sprintf("%s (not recorded) #%d", genSubjects[rng.IntN(len(genSubjects))], i+1),
			ScheduserName: genNames[rng.IntN(len(genNames))],
			StartTime:     st.Format(StartTimeLayout),
		}
		if i%5 == 4 && len(confs) > 0 {
			c := confs[rng.IntN(len(confs))]
			m.ConfID, m.Subject, m.ScheduserName, m.UserID = c.ConfID, c.Subject, c.ScheduserName, c.UserID
		}
		out = append(out, m)
	}
	return out
}

// CollidingFiles are files of one conference whose names collide, each of
// size bytes: "0_0.mp4" as Hd, Sd and Aux (what the platform does: one name
// per part, whatever the type), and Hd "0_0.mp4 " (a trailing space), which
// differs from Hd "0_0.mp4" only by what a sanitiser would trim. A key
// template without the file type, or a sanitiser that trims, maps two of
// them to one object key.
func CollidingFiles(size int64) []File {
	return []File{
		{FileType: FileTypeHd, Name: "0_0.mp4", Size: size},
		{FileType: FileTypeSd, Name: "0_0.mp4", Size: size},
		{FileType: FileTypeAux, Name: "0_0.mp4", Size: size},
		{FileType: FileTypeHd, Name: "0_0.mp4 ", Size: size},
	}
}

// SampleUnknownConfUUID is a well-formed confUUID that SampleDataset does not
// hold: the demo feeds it in to show how an unknown meeting is reported.
const SampleUnknownConfUUID = "deadbeef00000000deadbeef00000000"

// SampleDataset is the demo's dataset (testdata/sample-dataset.json holds the
// same): five ready conferences with 1 to 3 files of 256 KiB to 2 MiB (file
// types mixed, hostile subjects among them), one still transcoding and one
// unavailable; and two meetings without a recording, one of them an earlier
// run of the recurring "Weekly sync" (the same confID as a recorded one).
// Their history (participants, attendee and control records) is derived
// from the seed.
func SampleDataset() Dataset {
	const kib = 1 << 10
	ms := func(s string, plus time.Duration) int64 {
		t, err := time.Parse(StartTimeLayout, s)
		if err != nil {
			panic(err)
		}
		return t.Add(plus).UnixMilli()
	}
	return Dataset{Conferences: []Conference{
		{
			ConfUUID: "3f6c2a1e9b8d4c7fa0e5d2b1c4a7f9e3", ConfID: "960123451",
			Subject: "Quarterly review Q3 / 季度评审", ScheduserName: "Li Wei",
			StartTime: "2024-03-04 09:30", RcdTime: 3540, IsDecodeFinish: true, Available: true,
			DecodeEndTime: ms("2024-03-04 09:30", 70*time.Minute), RecordAuthType: 1,
			Files: []File{
				{FileType: FileTypeHd, Name: "0_0.mp4", Size: 1024 * kib},
				{FileType: FileTypeSd, Name: "0_0.mp4", Size: 512 * kib},
				{FileType: FileTypeAux, Name: "0_0.mp4", Size: 768 * kib},
			},
		},
		{
			ConfUUID: "a1b2c3d4e5f60718293a4b5c6d7e8f90", ConfID: "960123452",
			Subject: `=HYPERLINK("http://x")`, ScheduserName: "Alice Martin",
			StartTime: "2024-03-05 14:00", RcdTime: 900, IsDecodeFinish: true, Available: true,
			DecodeEndTime: ms("2024-03-05 14:00", 25*time.Minute), RecordAuthType: 0,
			Files: []File{
				{FileType: FileTypeHd, Name: "0_0.mp4", Size: 256 * kib},
			},
		},
		{
			ConfUUID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", ConfID: "960123453",
			Subject: "../../etc", ScheduserName: "Zhang Min",
			StartTime: "2024-03-06 08:15", RcdTime: 7260, IsDecodeFinish: true, Available: true,
			DecodeEndTime: ms("2024-03-06 08:15", 135*time.Minute), RecordAuthType: 2,
			Files: []File{
				{FileType: FileTypeSd, Name: "0_0.mp4", Size: 2048 * kib},
				{FileType: FileTypeSd, Name: "0_1.mp4", Size: 300 * kib},
			},
		},
		{
			ConfUUID: "5d4c3b2a19f8e7d6c5b4a39281706f5e", ConfID: "960123454",
			Subject: `Weekly sync, team "A"; notes`, ScheduserName: "Bob Okafor",
			StartTime: "2024-03-07 10:00", RcdTime: 1800, IsDecodeFinish: true, Available: true,
			DecodeEndTime: ms("2024-03-07 10:00", 40*time.Minute), RecordAuthType: 1,
			Files: []File{
				{FileType: FileTypeAux, Name: "0_0.mp4", Size: 640 * kib},
				{FileType: FileTypeHd, Name: "0_0.mp4", Size: 1536 * kib},
			},
		},
		{
			ConfUUID: "c0ffee00c0ffee11c0ffee22c0ffee33", ConfID: "960123455",
			Subject: "Onboarding: new hires\t(Kundengespräch)", ScheduserName: "王芳",
			StartTime: "2024-03-08 16:45", RcdTime: 5400, IsDecodeFinish: true, Available: true,
			DecodeEndTime: ms("2024-03-08 16:45", 100*time.Minute), RecordAuthType: 0,
			Files: []File{
				{FileType: FileTypeHd, Name: "0_0.mp4", Size: 384 * kib},
				{FileType: FileTypeHd, Name: "0_1.mp4", Size: 1024 * kib},
				{FileType: FileTypeAux, Name: "0_0.mp4", Size: 512 * kib},
			},
		},
		{
			ConfUUID: "7e57ab1e7e57ab1e7e57ab1e7e57ab1e", ConfID: "960123456",
			Subject: "Board meeting (still transcoding)", ScheduserName: "Li Wei",
			StartTime: "2024-03-09 11:00", RcdTime: 2700, IsDecodeFinish: false, Available: true,
			DecodeEndTime: ms("2024-03-09 11:00", 30*time.Hour), RecordAuthType: 1,
			Files: []File{
				{FileType: FileTypeHd, Name: "0_0.mp4", Size: 1024 * kib},
			},
		},
		{
			ConfUUID: "badc0de0badc0de1badc0de2badc0de3", ConfID: "960123457",
			Subject: "Recording withdrawn", ScheduserName: "Alice Martin",
			StartTime: "2024-03-10 13:20", RcdTime: 600, IsDecodeFinish: true, Available: false,
			DecodeEndTime: ms("2024-03-10 13:20", 20*time.Minute), RecordAuthType: 2,
			Files: []File{
				{FileType: FileTypeSd, Name: "0_0.mp4", Size: 256 * kib},
			},
		},
	}, Meetings: []Meeting{
		{
			ConfUUID: "5d4c3b2a19f8e7d6c5b4a39281706f00", ConfID: "960123454",
			Subject: `Weekly sync, team "A"; notes`, ScheduserName: "Bob Okafor",
			StartTime: "2024-02-29 10:00",
		},
		{
			ConfUUID: "e1e2e3e4e5e6e7e8e9eaebecedeeef00", ConfID: "960123460",
			Subject: "Town hall (not recorded)", ScheduserName: "王芳",
			StartTime: "2024-03-06 15:00",
		},
	}}
}
