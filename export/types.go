package export

import (
	"encoding/json"
	"strings"
	"time"

	"meetarchive/redact"
)

// Recording is one recording detail (detail API and each element of the list API's data).
//
// A field the answer did not carry (or carried as null) is unknown, not zero:
// Missing says which, Has asks. A Recording that Client.Details or
// Client.List hands out always has confUUID (normalised, see
// NormalizeConfUUID), available and isDecodeFinish; the others may be
// missing. JSON encoding leaves missing fields out, so a sidecar does not
// claim, say, recordAuthType 0 ("anyone with the link") when the platform
// never said.
type Recording struct {
	ConfUUID       string   `json:"confUUID"`
	ConfID         string   `json:"confID"`
	URL            []string `json:"url"`     // playback pages; carry credentials (token=, auth_key=, ...): reduce before showing (PlaybackURL, Redacted)
	RcdTime        int      `json:"rcdTime"` // seconds
	RcdSize        int      `json:"rcdSize"` // MB
	Subject        string   `json:"subject"`
	ScheduserName  string   `json:"scheduserName"`
	StartTime      string   `json:"startTime"` // "2019-12-19 02:07"
	IsDecodeFinish bool     `json:"isDecodeFinish"`
	DecodeEndTime  int64    `json:"decodeEndTime"` // epoch ms
	Available      bool     `json:"available"`
	RecordAuthType int      `json:"recordAuthType"`

	// Missing holds the fields the answer did not carry; the zero value
	// (a Recording built in Go) has every field.
	Missing Field `json:"-"`
}

// Field names fields of Recording, as a set of bits (Recording.Missing).
type Field uint16

// The fields of Recording.
const (
	FieldConfUUID Field = 1 << iota
	FieldConfID
	FieldURL
	FieldRcdTime
	FieldRcdSize
	FieldSubject
	FieldScheduserName
	FieldStartTime
	FieldIsDecodeFinish
	FieldDecodeEndTime
	FieldAvailable
	FieldRecordAuthType
)

var fieldNames = [...]string{"confUUID", "confID", "url", "rcdTime", "rcdSize", "subject",
	"scheduserName", "startTime", "isDecodeFinish", "decodeEndTime", "available", "recordAuthType"}

// String is the field's JSON name ("isDecodeFinish"); a set reads "a,b".
func (f Field) String() string {
	var names []string
	for i, n := range fieldNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// Has reports whether the answer carried every field of f.
func (r Recording) Has(f Field) bool { return r.Missing&f == 0 }

// AvailableKnown is available, or nil when the answer did not say.
func (r Recording) AvailableKnown() *bool { return knownBool(r.Available, r.Has(FieldAvailable)) }

// DecodeFinishKnown is isDecodeFinish, or nil when the answer did not say.
func (r Recording) DecodeFinishKnown() *bool {
	return knownBool(r.IsDecodeFinish, r.Has(FieldIsDecodeFinish))
}

func knownBool(v, ok bool) *bool {
	if !ok {
		return nil
	}
	return &v
}

// PlaybackURL is the playback page link(s), each reduced to scheme, host
// and path (redact.PageURL: no query, fragment or user information; a
// token-like path segment other than the conference's UUID replaced),
// separated by a space; "" when there is none.
func (r Recording) PlaybackURL() string {
	urls := make([]string, 0, len(r.URL))
	for _, u := range r.URL {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, redact.PageURL(u, r.ConfUUID))
		}
	}
	return strings.Join(urls, " ")
}

// recordingWire is Recording on the wire: nil is a missing (or null) field.
type recordingWire struct {
	ConfUUID       *string   `json:"confUUID,omitempty"`
	ConfID         *string   `json:"confID,omitempty"`
	URL            *[]string `json:"url,omitempty"`
	RcdTime        *int      `json:"rcdTime,omitempty"`
	RcdSize        *int      `json:"rcdSize,omitempty"`
	Subject        *string   `json:"subject,omitempty"`
	ScheduserName  *string   `json:"scheduserName,omitempty"`
	StartTime      *string   `json:"startTime,omitempty"`
	IsDecodeFinish *bool     `json:"isDecodeFinish,omitempty"`
	DecodeEndTime  *int64    `json:"decodeEndTime,omitempty"`
	Available      *bool     `json:"available,omitempty"`
	RecordAuthType *int      `json:"recordAuthType,omitempty"`
}

// UnmarshalJSON decodes a recording detail, noting missing fields in Missing.
func (r *Recording) UnmarshalJSON(b []byte) error {
	var w recordingWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var rec Recording
	take(&rec.ConfUUID, w.ConfUUID, FieldConfUUID, &rec.Missing)
	take(&rec.ConfID, w.ConfID, FieldConfID, &rec.Missing)
	take(&rec.URL, w.URL, FieldURL, &rec.Missing)
	take(&rec.RcdTime, w.RcdTime, FieldRcdTime, &rec.Missing)
	take(&rec.RcdSize, w.RcdSize, FieldRcdSize, &rec.Missing)
	take(&rec.Subject, w.Subject, FieldSubject, &rec.Missing)
	take(&rec.ScheduserName, w.ScheduserName, FieldScheduserName, &rec.Missing)
	take(&rec.StartTime, w.StartTime, FieldStartTime, &rec.Missing)
	take(&rec.IsDecodeFinish, w.IsDecodeFinish, FieldIsDecodeFinish, &rec.Missing)
	take(&rec.DecodeEndTime, w.DecodeEndTime, FieldDecodeEndTime, &rec.Missing)
	take(&rec.Available, w.Available, FieldAvailable, &rec.Missing)
	take(&rec.RecordAuthType, w.RecordAuthType, FieldRecordAuthType, &rec.Missing)
	*r = rec
	return nil
}

func take[T any](dst *T, src *T, f Field, missing *Field) {
	if src == nil {
		*missing |= f
		return
	}
	*dst = *src
}

// MarshalJSON encodes the recording in the API's shape, leaving out the
// fields in Missing.
func (r Recording) MarshalJSON() ([]byte, error) {
	w := recordingWire{
		ConfUUID: give(r.ConfUUID, r.Has(FieldConfUUID)), ConfID: give(r.ConfID, r.Has(FieldConfID)),
		RcdTime: give(r.RcdTime, r.Has(FieldRcdTime)), RcdSize: give(r.RcdSize, r.Has(FieldRcdSize)),
		Subject: give(r.Subject, r.Has(FieldSubject)), ScheduserName: give(r.ScheduserName, r.Has(FieldScheduserName)),
		StartTime: give(r.StartTime, r.Has(FieldStartTime)), IsDecodeFinish: give(r.IsDecodeFinish, r.Has(FieldIsDecodeFinish)),
		DecodeEndTime: give(r.DecodeEndTime, r.Has(FieldDecodeEndTime)), Available: give(r.Available, r.Has(FieldAvailable)),
		RecordAuthType: give(r.RecordAuthType, r.Has(FieldRecordAuthType)),
	}
	if r.Has(FieldURL) {
		urls := r.URL
		if urls == nil {
			urls = []string{}
		}
		w.URL = &urls
	}
	return json.Marshal(w)
}

func give[T any](v T, ok bool) *T {
	if !ok {
		return nil
	}
	return &v
}

// Redacted returns r with its playback URLs reduced as PlaybackURL reduces
// them (scheme, host and path), fit for a sidecar, a log or a manifest.
func (r Recording) Redacted() Recording {
	if r.URL != nil {
		urls := make([]string, len(r.URL))
		for i, u := range r.URL {
			urls[i] = redact.PageURL(u, r.ConfUUID)
		}
		r.URL = urls
	}
	return r
}

// File is one downloadable media file of a recording, with FRESH single-use link data.
type File struct {
	ConfUUID string
	FileType string // downloadurls: Aux|Hd|Sd ; recordinfo: its recordType (AUDIO, SPEAKER_VIDEO, ...)
	Name     string // base name from the URL path, e.g. "0_1.mp4" (unsanitised: archive sanitises)
	Index    int    // position within the conference's file list (stable order)
	URL      string // media URL (secret-bearing; never print: use String())
	Token    string // one-time token for `Authorization: <token>`; "" when the URL itself carries it
	Size     int64  // platform's fileSize in bytes (record info), -1 if unknown
	SHA256   string // platform's sha256 (record info, lower-case hex), "" if unknown
}

// String names the file as "Hd/0_1.mp4": no URL, no token.
func (f File) String() string { return f.ID() }

// GoString is String, so that %#v reveals no secret either.
func (f File) GoString() string { return "export.File{" + f.ConfUUID + " " + f.ID() + "}" }

// ID is the file's identity across link refreshes: FileType + "/" + Name.
func (f File) ID() string { return f.FileType + "/" + f.Name }

// ListQuery selects recordings by start date.
type ListQuery struct {
	From, To time.Time
	AllUsers bool   // queryAll=true: an administrator sees every user's recordings
	Search   string // searchKey
	PageSize int    // default 100 (the documented maximum is disputed: 100 or 500)
}

// Stats counts what the client has done so far.
type Stats struct {
	Requests  int64 // API requests sent (authentication included, media not)
	Retries   int64 // API requests that were retries of a failed one
	Throttled int64 // answers 429 or APIG.0308
	Auths     int64 // successful authentications (token obtained)
	Media     int64 // media streams opened
}
