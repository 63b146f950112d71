package export

import "time"

// Recording is one recording detail (detail API and each element of the list API's data).
type Recording struct {
	ConfUUID       string   `json:"confUUID"`
	ConfID         string   `json:"confID"`
	URL            []string `json:"url"`     // playback pages; carry token=: redact before showing
	RcdTime        int      `json:"rcdTime"` // seconds
	RcdSize        int      `json:"rcdSize"` // MB
	Subject        string   `json:"subject"`
	ScheduserName  string   `json:"scheduserName"`
	StartTime      string   `json:"startTime"` // "2019-12-19 02:07"
	IsDecodeFinish bool     `json:"isDecodeFinish"`
	DecodeEndTime  int64    `json:"decodeEndTime"` // epoch ms
	Available      bool     `json:"available"`
	RecordAuthType int      `json:"recordAuthType"`
}

// Redacted returns r with the token= values of its playback URLs replaced, fit
// for a sidecar, a log or a manifest.
func (r Recording) Redacted() Recording {
	if r.URL != nil {
		urls := make([]string, len(r.URL))
		for i, u := range r.URL {
			urls[i] = Redact(u)
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
