// Package report writes meetarchive's audit manifest: the spreadsheet an
// auditor opens (manifest.xlsx), the CSV files machines read (manifest.csv,
// failures.csv) and the run's figures for scripts (summary.json).
//
// # Life of a report
//
// A run creates a [Writer] with [NewWriter]. One goroutine calls [Writer.Add]
// for every row as work finishes, in completion order. Each row is redacted
// (see [Redact]) and appended to the journal, journal.jsonl, as one JSON line
// written with a single write call, so a killed process leaves at most a torn
// last line. The journal is not fsynced per row: it protects against a killed
// process, not against a power cut (it is fsynced on Close).
//
// [Writer.Close] writes the four report files in input order (rows sorted by
// Seq, then FileIndex, then completion order). It keeps only a 24-byte index
// entry per row in memory and reads the rows back from the journal, so memory
// does not grow meaningfully with the number of rows. Each report file is
// written to a temporary name in the same directory, fsynced and renamed into
// place (summary.json last), so a half-written file never looks complete.
//
// [Rebuild] writes the same four files from the journal of a run that never
// reached Close (killed, crashed). [Merge] combines the reports of several
// shards. [ReadManifest] reads manifest.csv back into rows.
//
// # Counting
//
// Summary.Counts counts conferences (input items), not files: every distinct
// Seq is one conference, counted once under the most severe status among its
// rows (failed > cancelled > pending-transcode > invalid-input >
// duplicate-input > unavailable > no-files > planned > archived >
// already-archived). The counts therefore add up to Summary.Conferences.
// Summary.Files counts rows that name a file (fileType or fileName set; not
// duplicate-input rows); Summary.BytesArchived sums the Bytes of rows with
// status archived (bytes moved by this run: rows that were already archived
// by an earlier run are not counted again).
//
// # Files
//
// manifest.csv has one row per manifest row with these columns, in this
// order (ManifestColumns; the Recordings sheet has the same):
//
//	seq, confUUID, confID, subject, scheduserName, startTime, recordingSecs,
//	status, fileIndex, fileType, fileName, objectURI, bytes, sha256,
//	platformSha256, versionId, lockMode, retainUntil, legalHold, deleted,
//	attempts, errorCode, errorMessage, estimatedBytes, finishedAt,
//	recordAuthType, isDecodeFinish, available, decodeEndTimeUTC, rcdSize,
//	playbackURL, objectKey
//
// The last seven carry the recording details answer as the platform gave
// it: recordAuthType (0 anyone with the link, 1 enterprise users, 2
// participants only), isDecodeFinish, available, decodeEndTimeUTC (the
// estimated end of transcoding), rcdSize (MB, the API's unit), playbackURL
// (the playback page links, space-separated, with their token redacted);
// an empty cell means the answer did not carry the field (unknown, not
// false). objectKey is the stored object's key relative to the destination
// root: the path sha256sums.txt names.
//
// The CSV files are UTF-8 without BOM, quoted by encoding/csv (RFC 4180) with
// LF line ends (with CRLF, encoding/csv would drop CRs inside fields).
// Times are RFC 3339 UTC to the second ("" when unset); startTime is the
// API's text as given ("2019-12-19 02:07", the platform's wall clock, no
// zone); numbers are decimal; booleans are "true"/"false".
//
// failures.csv has one row per conference a rerun should retry (a row of
// it has status failed, cancelled or pending-transcode), each confUUID once,
// with the columns confUUID, confID, subject, status, errorCode,
// errorMessage, attempts, hint (FailuresColumns): a valid --input.
//
// manifest.xlsx has the sheets Summary (field, value), Recordings (the
// manifest columns) and Failures (one row per manifest row a rerun should
// retry: seq, confUUID, confID, subject, status, fileType, fileName,
// attempts, errorCode, errorMessage, hint, finishedAt). Header rows are bold
// and frozen, Recordings and Failures have an autofilter, times are Excel
// date-times (UTC; startTime as the platform's wall clock), sizes and
// durations numbers, booleans booleans. A cell holds at most 32,767
// characters (Excel's limit: longer text is cut in the spreadsheet only);
// characters XML cannot carry become U+FFFD there.
//
// summary.json is the Summary as JSON: field names as in its struct tags,
// counts keyed by status string with every known status present.
//
// # Safety
//
// Every text field of every row, and of RunInfo, is passed through [Redact]
// before it reaches the journal or any report file. In CSV files every text
// cell that begins with '=', '+', '-', '@', TAB or CR is prefixed with a
// single quote (OWASP's advice against CSV injection; see [Neutralize]). In
// manifest.xlsx text is always written as a plain (inline) string cell, never
// as a formula, and is not prefixed.
package report

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Status is a row's outcome.
type Status string

// The row statuses (DESIGN.md).
const (
	Archived         Status = "archived"
	AlreadyArchived  Status = "already-archived"
	PendingTranscode Status = "pending-transcode"
	Unavailable      Status = "unavailable"
	NotFound         Status = "not-found" // the platform does not know the conference
	NoFiles          Status = "no-files"
	Failed           Status = "failed"
	InvalidInput     Status = "invalid-input"
	DuplicateInput   Status = "duplicate-input"
	Cancelled        Status = "cancelled"
	Planned          Status = "planned"
)

// Statuses returns every known status in display order. It is the one list
// of statuses: summary.json's counts, the Summary sheet and the command
// line's status list all follow it.
func Statuses() []Status {
	return []Status{Archived, AlreadyArchived, PendingTranscode, Unavailable, NotFound, NoFiles,
		Failed, InvalidInput, DuplicateInput, Cancelled, Planned}
}

// Retry reports whether a rerun should retry a row with this status: failed,
// cancelled and pending-transcode rows go to failures.csv. A not-found or
// invalid-input row does not: a rerun of the same line cannot fix it.
func (s Status) Retry() bool {
	return s == Failed || s == Cancelled || s == PendingTranscode
}

// Failure reports whether a conference counted under this status makes the
// run's exit code 1 (ExitFailures): failed, cancelled, invalid-input and
// not-found. A status report does not know is a failure too: an outcome
// nobody can name is not proof of success. The other known statuses
// (archived, already-archived, pending-transcode, unavailable, no-files,
// duplicate-input, planned) are not.
func (s Status) Failure() bool {
	switch s {
	case Archived, AlreadyArchived, PendingTranscode, Unavailable, NoFiles, DuplicateInput, Planned:
		return false
	default:
		return true
	}
}

// listedInFailures reports whether a row with this status is listed in the
// Failures sheet: every row a rerun should retry (Retry) and every row that
// makes the exit code 1 (Failure), so that a person reading the sheet sees
// why the run exited 1.
func listedInFailures(s Status) bool { return s.Retry() || s.Failure() }

// severity orders statuses for counting a conference with rows of different
// statuses: the highest wins. Every status that makes the exit code 1
// (Failure) outranks every one that does not, so the counts alone decide the
// exit code. Unknown statuses rank highest.
func severity(s Status) int {
	switch s {
	case AlreadyArchived:
		return 1
	case Archived:
		return 2
	case Planned:
		return 3
	case NoFiles:
		return 4
	case Unavailable:
		return 5
	case DuplicateInput:
		return 6
	case PendingTranscode:
		return 7
	case InvalidInput:
		return 8
	case NotFound:
		return 9
	case Cancelled:
		return 10
	case Failed:
		return 11
	default:
		return 12
	}
}

// worse returns the status a conference is counted under when it has rows of
// statuses a and b. The empty status loses to anything.
func worse(a, b Status) Status {
	if a == "" {
		return b
	}
	if b == "" || severity(a) >= severity(b) {
		return a
	}
	return b
}

// Row is one line of the manifest: one archived (or failed) file, or one
// conference-level outcome (pending, unavailable, no files, invalid or
// duplicate input, failed before files were known). The JSON names are the
// journal's and equal the CSV column names.
type Row struct {
	Seq            int       `json:"seq"` // input order (0-based); rows sort by (Seq, FileIndex)
	ConfUUID       string    `json:"confUUID"`
	ConfID         string    `json:"confID,omitempty"`
	Subject        string    `json:"subject,omitempty"`
	ScheduserName  string    `json:"scheduserName,omitempty"`
	StartTime      string    `json:"startTime,omitempty"` // as the API gives it ("2019-12-19 02:07"), written as an Excel date-time
	RecordingSecs  int       `json:"recordingSecs,omitempty"`
	Status         Status    `json:"status"`
	FileIndex      int       `json:"fileIndex,omitempty"`
	FileType       string    `json:"fileType,omitempty"`
	FileName       string    `json:"fileName,omitempty"`
	ObjectURI      string    `json:"objectURI,omitempty"`
	Bytes          int64     `json:"bytes,omitempty"`
	SHA256         string    `json:"sha256,omitempty"`
	PlatformSHA256 string    `json:"platformSha256,omitempty"`
	VersionID      string    `json:"versionId,omitempty"`
	LockMode       string    `json:"lockMode,omitempty"`
	RetainUntil    time.Time `json:"retainUntil,omitzero"`
	LegalHold      bool      `json:"legalHold,omitempty"`
	Deleted        bool      `json:"deleted,omitempty"` // recording deleted from the platform after verified archive
	Attempts       int       `json:"attempts,omitempty"`
	ErrorCode      string    `json:"errorCode,omitempty"`
	ErrorMessage   string    `json:"errorMessage,omitempty"`
	EstimatedBytes int64     `json:"estimatedBytes,omitempty"` // dry run: rcdSize*MiB
	FinishedAt     time.Time `json:"finishedAt,omitzero"`

	// The recording details answer, as the platform gave it (see the
	// recordAuthType ... playbackURL columns). A pointer is nil when the
	// answer did not carry the field: unknown, not false or zero.
	RecordAuthType *int      `json:"recordAuthType,omitempty"` // 0 anyone with the link, 1 enterprise users, 2 participants only
	IsDecodeFinish *bool     `json:"isDecodeFinish,omitempty"`
	Available      *bool     `json:"available,omitempty"`
	DecodeEndTime  time.Time `json:"decodeEndTimeUTC,omitzero"` // the API's epoch ms, in UTC; zero when not given
	RcdSize        *int      `json:"rcdSize,omitempty"`         // MB, as the API gives it
	PlaybackURL    string    `json:"playbackURL,omitempty"`     // the playback page links, space-separated, token redacted
	// ObjectKey is the stored object's key relative to the destination root
	// (the path in sha256sums.txt).
	ObjectKey string `json:"objectKey,omitempty"`
}

// RunInfo describes a run: the Summary sheet and summary.json carry it.
type RunInfo struct {
	RunID       string            `json:"runId"`
	Version     string            `json:"version"`
	Started     time.Time         `json:"started"`
	Input       string            `json:"input"`
	InputSHA256 string            `json:"inputSha256"`
	DateRange   string            `json:"dateRange"`
	Dest        string            `json:"dest"`
	Options     map[string]string `json:"options"` // key template, lock mode, retention, links source, ...
	Shard       string            `json:"shard"`
}

// Summary is a run's figures: the Summary sheet and summary.json.
// Counts is keyed by status string and always holds every known status.
type Summary struct {
	RunInfo
	Finished              time.Time      `json:"finished"`
	DurationSecs          float64        `json:"durationSecs"`
	Counts                map[Status]int `json:"counts"` // conferences per status
	Conferences           int            `json:"conferences"`
	Files                 int            `json:"files"`
	BytesArchived         int64          `json:"bytesArchived"`
	ThroughputBytesPerSec float64        `json:"throughputBytesPerSec"`
	ExitCode              int            `json:"exitCode"`
	EstimatedBytes        int64          `json:"estimatedBytes"`

	// Additions to the contract.
	ExitStatus           string   `json:"exitStatus"`           // ExitCodeName(ExitCode)
	Rows                 int      `json:"rows"`                 // rows in manifest.csv
	Rebuilt              bool     `json:"rebuilt"`              // written by Rebuild from a journal (or merged from such a report)
	MergedFrom           []string `json:"mergedFrom"`           // Merge: the shard directories, in order
	DuplicateConferences []string `json:"duplicateConferences"` // Merge: confUUIDs found in more than one shard
}

// File names in a report directory.
const (
	ManifestCSV  = "manifest.csv"
	FailuresCSV  = "failures.csv"
	ManifestXLSX = "manifest.xlsx"
	SummaryJSON  = "summary.json"
	Journal      = "journal.jsonl"
	// PrevJournal is where NewWriter moves a journal it finds in its directory
	// (left by an earlier run), replacing an older one.
	PrevJournal = "journal.prev.jsonl"
)

// Paths returns the four report files of dir: manifest.xlsx, manifest.csv,
// failures.csv and summary.json (not the journal).
func Paths(dir string) []string {
	return []string{
		filepath.Join(dir, ManifestXLSX),
		filepath.Join(dir, ManifestCSV),
		filepath.Join(dir, FailuresCSV),
		filepath.Join(dir, SummaryJSON),
	}
}

// Exit codes (DESIGN.md).
const (
	ExitOK          = 0
	ExitFailures    = 1
	ExitUsage       = 2
	ExitFatal       = 3
	ExitInterrupted = 130
)

// ExitCodeName names an exit code for people and scripts: "ok", "failures",
// "usage", "fatal", "interrupted", or "exit-N".
func ExitCodeName(code int) string {
	switch code {
	case ExitOK:
		return "ok"
	case ExitFailures:
		return "failures"
	case ExitUsage:
		return "usage"
	case ExitFatal:
		return "fatal"
	case ExitInterrupted:
		return "interrupted"
	default:
		return fmt.Sprintf("exit-%d", code)
	}
}

// Hint says in a few words what to do about a row a rerun should retry.
// It returns "" for statuses that need nothing.
func Hint(r Row) string {
	switch r.Status {
	case PendingTranscode:
		return "still transcoding on the platform: rerun later with --input failures.csv"
	case Cancelled:
		return "run stopped before this finished: rerun with --input failures.csv"
	case Failed:
	default:
		return ""
	}
	code := r.ErrorCode
	switch {
	case code == "auth" || strings.HasPrefix(code, "USG."):
		return "authentication refused: check the credentials, then rerun with --input failures.csv"
	case code == "http-429" || code == "APIG.0308":
		return "throttled by the API gateway: lower --rate, then rerun with --input failures.csv"
	case code == "MMC.111070002" || code == "MMC.111070010" || code == "http-403":
		return "no permission: use an administrator account, then rerun with --input failures.csv"
	case code == "MMC.111070005" || code == "MMC.111072065":
		return "the platform does not know this conference: check the confUUID"
	case code == "timeout" || code == "connection":
		return "network problem: check connectivity (and --ca-bundle), then rerun with --input failures.csv"
	case code == "truncated":
		return "download cut short: rerun with --input failures.csv"
	case code == "integrity":
		return "stored bytes did not match the platform's size or SHA-256: rerun; if it persists, ask the vendor"
	case code == "merge-duplicate":
		return "conference in more than one shard: compare the shards' rows"
	default:
		return "rerun with --input failures.csv; if it fails again, see errorMessage"
	}
}
