package report

// The data of each ledger event type (see Ledger). EventObject's is
// LedgerObject. Every field is about the run or the platform and holds no
// secret: no token, no download URL's query, no key.

// LedgerRunStart is the first line: who ran what, where, with which options.
type LedgerRunStart struct {
	RunID       string            `json:"runId"`
	Tool        string            `json:"tool"` // "meetarchive"
	Version     string            `json:"version"`
	Commit      string            `json:"commit,omitempty"` // the VCS revision the binary was built from
	Operator    string            `json:"operator"`         // --operator, else $USER
	Host        string            `json:"host"`
	Dest        string            `json:"dest"` // the destination's root URI; a directory's absolute path
	Input       string            `json:"input,omitempty"`
	InputSHA256 string            `json:"inputSha256,omitempty"`
	DateRange   string            `json:"dateRange,omitempty"`
	Shard       string            `json:"shard,omitempty"`
	Options     map[string]string `json:"options"` // as the summary lists them (redacted)
	// SignKeySHA256 is the fingerprint (KeyFingerprint) of the key the
	// run signs its ledger with when it ends; "" when it signs none. A
	// ledger that says so and has no signature fails verify.
	SignKeySHA256 string `json:"signKeySha256,omitempty"`
}

// LedgerAPICall is one exchange with the Meeting API (every try).
type LedgerAPICall struct {
	API       string `json:"api"` // details, downloadurls, recordinfo, list, delete, history, ...
	ConfUUID  string `json:"confUUID,omitempty"`
	Try       int    `json:"try"`
	Status    int    `json:"status"` // HTTP status; 0: no answer
	RequestID string `json:"requestId,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Link uses.
const (
	LinkIssued = "issued" // the platform gave a download link for the file
	LinkUsed   = "used"   // a download was started with it (Offset > 0: a resume)
)

// LedgerLink is a download link issued or used: where it points (scheme,
// host and path only: the query and any token-like path segment are
// never written).
type LedgerLink struct {
	ConfUUID       string `json:"confUUID"`
	Use            string `json:"use"` // LinkIssued or LinkUsed
	FileType       string `json:"fileType"`
	File           string `json:"file"`
	URL            string `json:"url"`
	Offset         int64  `json:"offset,omitempty"` // used: the byte the download started at
	Size           int64  `json:"size,omitempty"`   // issued: the platform's size, when it gave one
	PlatformSHA256 string `json:"platformSha256,omitempty"`
}

// LedgerCommit is a conference's commit mark (its sidecar) written.
type LedgerCommit struct {
	ConfUUID  string `json:"confUUID"`
	Key       string `json:"key"`
	URI       string `json:"uri"`
	Files     int    `json:"files"`
	VersionID string `json:"versionId,omitempty"`
}

// LedgerDelete is a recording deleted from the platform after a verified
// archive, or a deletion that was refused or failed: Confirmed is true only
// when the platform answered that it deleted it.
type LedgerDelete struct {
	ConfUUID  string `json:"confUUID"`
	Confirmed bool   `json:"confirmed"`
	Error     string `json:"error,omitempty"`
}

// LedgerRunEnd is the last line: how the run ended.
type LedgerRunEnd struct {
	RunID       string         `json:"runId"`
	ExitCode    int            `json:"exitCode"` // the exit code the process returns
	ExitStatus  string         `json:"exitStatus"`
	Interrupted bool           `json:"interrupted,omitempty"`
	Fatal       string         `json:"fatal,omitempty"`
	Counts      map[Status]int `json:"counts"` // conferences by status
	Objects     int            `json:"objects"`
	Bytes       int64          `json:"bytes"`
}
