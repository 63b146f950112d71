// Package report writes meetarchive's audit manifest: the spreadsheet an
// auditor opens (manifest.xlsx, with summary.html beside it), the CSV files
// machines read (manifest.csv, failures.csv), the fixity list standard
// tools check (sha256sums.txt) and the run's figures for scripts
// (summary.json).
//
// The main types: [Writer] ([NewWriter], after [LockDir]) takes a run's plan
// and its rows as work finishes and writes the report files on Close,
// through a journal that survives a killed process ([Rebuild]); [Row] is
// one manifest row and [Status] its status ([Statuses], [ExitCode]);
// [Summary] holds the run's figures and its [Verdict] ([Judge]); [Merge]
// combines the reports of shards and [ReadManifest] reads a manifest back.
// What each file holds is in the README's Outputs section; the contract in
// detail is in the comment that follows this package clause.
package report

// The report's contract in detail.
//
// # Life of a report
//
// A run locks its output directory ([LockDir]), then creates a [Writer] with
// [NewWriter]. Before the first conference starts it writes its plan
// ([Writer.Plan]: every input item, in input order) to the journal. One
// goroutine calls [Writer.Add] for every row as work finishes, in
// completion order. Each row is redacted (see [meetarchive/redact.String]) and cleaned (see
// [CleanText]) and appended to the journal, journal.jsonl, as one JSON line
// written with a single write call, so a killed process leaves at most a
// torn last line. The journal is not fsynced per row: it protects against a
// killed process, not against a power cut (it is fsynced on Close). A fatal
// error's message goes to the journal once ([Writer.SetFatal]) and from
// there to Summary.Fatal.
//
// [Writer.Close] writes the report files (see [Paths]) in input order (rows sorted by
// Seq, then FileIndex, then completion order). It keeps only a 16-byte index
// entry per row in memory and reads the rows back from the journal, so memory
// does not grow meaningfully with the number of rows. Each report file is
// written to a temporary name in the same directory, fsynced and renamed into
// place (summary.json last), so a half-written file never looks complete.
// Once they all are in place, Close removes the journal (the report files
// hold all it held; [Writer.KeepJournal] keeps it): a journal in a report
// directory means a run that did not finish its report, and
// [Rebuild] turns it into one. If Close fails, the journal stays.
//
// The journal's plan records are compact ({"p":[seq,line,"confUUID"]}, a
// few dozen bytes per input line); its rows are JSON objects that leave
// out empty fields.
//
// [Rebuild] writes the same files from the journal of a run that never
// reached Close (killed, crashed). [Merge] combines the reports of several
// shards. [ReadManifest] reads manifest.csv back into rows.
//
// Every planned item is accounted for: Close and Rebuild write a planned
// item that has no row as cancelled (errorCode "interrupted" after a kill,
// "no-result" if a run closed without reporting it) with a hint to rerun,
// so it is in failures.csv. The plan costs one bit per item in memory.
//
// # Statuses and exit codes
//
// [Statuses] is the one list of statuses. [Status.Retry] says which go to
// failures.csv (failed, cancelled, pending-transcode); [Status.Failure]
// which make the exit code 1 (failed, cancelled, invalid-input, not-found);
// [ExitCode] turns counts into the exit code; ExitOK ... ExitInterrupted are
// the one definition of the codes. not-found means the platform does not
// know the conference (a rerun cannot fix it); unavailable means it has the
// recording and says it cannot be downloaded.
//
// # Uncommitted objects
//
// A conference that stops part-way may have stored objects it never
// committed (no sidecar). Each such object has a row with its objectURI,
// bytes and sha256, status failed or cancelled and errorCode "uncommitted"
// ("stored, conference not committed"): the manifest says what is in the
// destination. Those bytes are not in Summary.BytesArchived (only archived
// and updated rows are) and sha256sums.txt does not list them (only
// archived, already-archived and updated rows).
//
// # Locking and file modes
//
// [LockDir] takes an exclusive lock (flock) on a report directory, held by
// the file .meetarchive.lock, which names the holder's PID and start time;
// a second holder gets a *[LockedError] ([ErrLocked]). A run locks its
// output directory before NewWriter and unlocks after Close; the report
// and merge commands lock the directory they write before Rebuild and
// Merge. NewWriter, Rebuild and Merge lock it themselves when this process
// does not hold its lock. Merge refuses an output directory that is one of
// its inputs ([ErrOutIsInput]).
//
// Directories are created with mode 0777, report files and the journal with
// 0666, both masked by the umask: nothing is chmod-ed, so umask 077 keeps
// every file private to its owner.
//
// # Counting
//
// Summary.Counts counts conferences (input items), not files: every distinct
// Seq is one conference, counted once under the most severe status among its
// rows (failed > cancelled > not-found > invalid-input > pending-transcode >
// duplicate-input > unavailable > no-files > planned > updated > archived >
// already-archived: every status that makes the exit code 1 outranks every
// one that does not). The counts therefore add up to Summary.Conferences.
// Summary.Files counts rows that name a file (fileType or fileName set; not
// duplicate-input rows, not evidence rows: see [FileTypeEvidence]); Summary.BytesArchived sums the Bytes of rows with
// status archived or updated (bytes moved by this run: rows that were
// already archived by an earlier run are not counted again).
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
//	playbackURL, objectKey, hint
//
// The last seven carry the recording details answer as the platform gave
// it: recordAuthType (0 anyone with the link, 1 enterprise users, 2
// participants only), isDecodeFinish, available, decodeEndTimeUTC (the
// estimated end of transcoding), rcdSize (MB, the API's unit), playbackURL
// (the playback page links, space-separated, as the caller reduced them:
// meetarchive keeps scheme, host and path only);
// an empty cell means the answer did not carry the field (unknown, not
// false). objectKey is the stored object's key relative to the destination
// root: the path sha256sums.txt names. hint is what the caller advised
// for the row (Row.Hint), as given.
//
// The CSV files are UTF-8 without BOM, quoted by encoding/csv (RFC 4180) with
// LF line ends (with CRLF, encoding/csv would drop CRs inside fields).
// Times are RFC 3339 UTC to the second ("" when unset); startTime is the
// API's text as given ("2019-12-19 02:07", the platform's wall clock, no
// zone); numbers are decimal; booleans are "true"/"false". A zero that
// says nothing is an empty cell: recordingSecs (unknown), attempts (not
// attempted) and estimatedBytes (not a dry run) when 0, and on a row that
// names no file (no fileType, fileName or objectURI: a conference-level
// row) fileIndex and bytes when 0 and legalHold and deleted when false.
// ReadManifest reads an empty cell back as 0 or false. The workbook leaves
// the same cells empty (no cell at all).
//
// failures.csv has one row per conference a rerun should retry (a row of
// it has status failed, cancelled or pending-transcode: Status.Retry), each
// confUUID once, with the columns confUUID, confID, subject, status,
// errorCode, errorMessage, attempts, hint: a valid
// --input. Its attempts is empty when 0, as in manifest.csv. not-found and invalid-input conferences are not in it: a rerun
// of the same line cannot fix them.
//
// manifest.xlsx has the sheets Summary, Recordings (the manifest columns)
// and Failures (one row per manifest row a rerun should
// retry or that makes the exit code 1: failed, cancelled,
// pending-transcode, not-found, invalid-input; columns seq, confUUID,
// confID, subject, status, fileType, fileName, attempts, errorCode,
// errorMessage, hint, finishedAt), and Completeness when the run
// reconciled its window (see [Completeness]). The hint of failures.csv and of the
// Failures sheet is Row.Hint, set by the caller, who knows what an error
// code means; report knows no API codes and, when Row.Hint is empty, gives
// a hint from the status alone (see [Hint]). Header rows are bold
// and frozen, Recordings and Failures have an autofilter, times are Excel
// date-times (UTC; startTime as the platform's wall clock), sizes and
// durations numbers, booleans booleans. A cell holds at most 32,767
// characters (Excel's limit: longer text is cut in the spreadsheet only);
// characters XML cannot carry become U+FFFD there. Every sheet declares its
// used range (<dimension ref>) exactly, so readers that trust it (streaming
// readers) see every row. Past Excel's 1,048,576 rows a sheet continues in
// "Recordings (2)", "Recordings (3)", ... (Failures likewise), each with
// the header; the CSV files have no such limit.
//
// The Summary sheet has the run's verdict (see below) across row 1 (A1,
// merged to K1, filled in its level's colour), its header in row 2, and
// from row 3 the run's fields in columns A:B (field, value; options typed:
// numbers as numbers, "true"/"false" as booleans, the rest as text;
// including how many Recordings and Failures sheets there are and the
// number of lines of sha256sums.txt), and beside them three tables of plain
// numbers with a chart drawn from each: conferences by status (D:E, bar),
// bytes archived per recording day, the platform's wall-clock date of
// startTime (G:H, column; per month past 400 days), and failed rows by
// errorCode (J:K, bar; the 25 most frequent, then "(other codes)"); a table
// with nothing to show has one row "(none)" with 0. The charts read those
// cells; a reader without charts still sees the numbers.
//
// The workbook's properties name the tool ("meetarchive <version>", as
// creator and application), the run (title, subject, identifier), its
// start and end (created, modified) and its verdict (description).
//
// summary.html is verdict first (see [SummaryHTML]): the verdict's banner,
// the conferences that need action or wait on the platform (the first 200
// of each, with code and hint), the same charts (inline SVG with a title
// and description each, no script, no external asset, all text
// HTML-escaped) and the Summary's fields.
//
// # Verdict
//
// [Judge] turns a run's counts, exit code and fatal error ([Findings]) into
// its [Verdict]: a level (green: every conference archived or accounted
// for; amber: nothing failed but some wait on the platform; red: some
// conference failed, is not-found, invalid-input or cancelled, or the run
// stopped) and one sentence saying what happened and what to do. It is
// Summary.Verdict, summary.json's "verdict", the Summary sheet's first row
// and summary.html's banner.
//
// sha256sums.txt lists every object the run stored or found already
// archived (Status.Stored), as GNU sha256sum writes it ("<sha256>  <objectKey>", sorted by
// path, one line per path), with paths relative to the destination root:
// "sha256sum -c" run from the root checks them (see [SHA256Sums],
// [ScanSHA256Sums]).
//
// summary.json is the Summary as JSON: field names as in its struct tags,
// counts keyed by status string with every known status present, and the
// verdict as {"level": "green"|"amber"|"red", "text": "..."}.
//
// # Safety
//
// Every text field of every row, and of RunInfo, is passed through [meetarchive/redact.String]
// before it reaches the journal or any report file, and then through
// [CleanText]: control characters are escaped visibly (\x00, \x1b, \u202e;
// subject, errorMessage and hint keep LF and TAB) and a field longer than
// its limit (200 bytes for identifiers such as confUUID, 1,000 for subject
// and file name, 2,000 for errorMessage and objectURI) is cut, ending with
// its original length ("… (60000000 bytes)"). Secrets are scrubbed before
// the cut, so a cut never keeps the start of one. In CSV files every text
// cell that begins with '=', '+', '-', '@', TAB or CR is prefixed with a
// single quote (OWASP's advice against CSV injection; see [Neutralize]). In
// manifest.xlsx text is always written as a plain string cell (inline in
// Recordings and Failures, shared in Summary), never as a formula, and is
// not prefixed.

import (
	"fmt"
	"path/filepath"
	"time"
)

// Status is a row's outcome.
type Status string

// The row statuses. Statuses lists them; Status.Retry and Status.Failure
// say what each means for failures.csv and the exit code.
const (
	Archived        Status = "archived"
	AlreadyArchived Status = "already-archived"
	// Updated: a file the platform listed after its conference was
	// archived, archived now beside the files kept from before (which keep
	// their already-archived rows); the conference is counted updated.
	Updated          Status = "updated"
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
	return []Status{Archived, AlreadyArchived, Updated, PendingTranscode, Unavailable, NotFound, NoFiles,
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
	case Archived, AlreadyArchived, Updated, PendingTranscode, Unavailable, NoFiles, DuplicateInput, Planned:
		return false
	default:
		return true
	}
}

// Stored reports whether a row with this status says its file is in the
// destination with the row's key, size and SHA-256, committed: archived,
// already-archived and updated. Those rows are in sha256sums.txt.
func (s Status) Stored() bool {
	return s == Archived || s == AlreadyArchived || s == Updated
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
	case Updated:
		return 3
	case Planned:
		return 4
	case NoFiles:
		return 5
	case Unavailable:
		return 6
	case DuplicateInput:
		return 7
	case PendingTranscode:
		return 8
	case InvalidInput:
		return 9
	case NotFound:
		return 10
	case Cancelled:
		return 11
	case Failed:
		return 12
	default:
		return 13
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
	// Hint says in a few words what a person should do about this row. The
	// caller sets it (report knows no API error codes); see [Hint] for what
	// the Failures sheet and failures.csv show when it is empty.
	Hint           string    `json:"hint,omitempty"`
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
	PlaybackURL    string    `json:"playbackURL,omitempty"`     // the playback page links, space-separated, reduced to scheme, host and path
	// ObjectKey is the stored object's key relative to the destination root
	// (the path in sha256sums.txt).
	ObjectKey string `json:"objectKey,omitempty"`
	// StartTimeLocal is StartTime on the wall clock of the run's
	// RunInfo.TimeZone ("" without one); the Writer fills it in.
	StartTimeLocal string `json:"startTimeLocal,omitempty"`
}

// Keys of RunInfo.Options that code reads back (the attestation's
// commands repeat them; Judge and merge read the window's): each is the
// run's flag of that name.
const (
	OptionS3Endpoint  = "s3Endpoint"  // --s3-endpoint, without a credential
	OptionS3Region    = "s3Region"    // --s3-region
	OptionS3PathStyle = "s3PathStyle" // --s3-path-style ("true")
	OptionS3Profile   = "s3Profile"   // --s3-profile
	OptionAPI         = "api"         // --api, when not the default, without a credential
	OptionSinceLast   = "sinceLast"   // a --since-last run: its overlap, settle and max pending age
	OptionAllUsers    = "allUsers"    // --all-users ("true"): the window's list and history were every user's
	OptionSearch      = "search"      // --search: the window's list and history were filtered by it
)

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
	Operator    string            `json:"operator,omitempty"` // who ran it: --operator, else $USER
	// TimeZone is the zone of the startTimeLocal column (--time-zone, an
	// IANA name); "" is none: summary.json then says "UTC".
	TimeZone string `json:"timeZone,omitempty"`
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
	// Fatal is the message of the error that stopped the run (exit code 3),
	// written here once; the rows it left unstarted carry a short code.
	// "" when no fatal error stopped the run.
	Fatal string `json:"fatal"`

	// Additions to the contract.
	ExitStatus string   `json:"exitStatus"` // ExitCodeName(ExitCode)
	Verdict    Verdict  `json:"verdict"`    // Judge of the counts, exit code and fatal error
	Rows       int      `json:"rows"`       // rows in manifest.csv
	Rebuilt    bool     `json:"rebuilt"`    // written by Rebuild from a journal (or merged from such a report)
	MergedFrom []string `json:"mergedFrom"` // Merge: the shard directories (absolute), in order
	// ShardLedgers are a merged report's shards' custody ledgers (each
	// shard's run id and its summary's ledger); a run's own is Ledger.
	ShardLedgers         []ShardLedger `json:"shardLedgers,omitempty"`
	DuplicateConferences []string      `json:"duplicateConferences"` // Merge: confUUIDs found in more than one shard
	// Warnings are what went wrong after the report was written without
	// changing the exit code (a notification not delivered, a metrics file
	// or push that failed); AddWarningsTo appends them to summary.json and
	// Merge joins the shards'.
	Warnings []string `json:"warnings"`
	// Ledger is the run's custody ledger (see LedgerInfo); nil without one.
	Ledger *LedgerInfo `json:"ledger,omitempty"`
	// Evidence counts the evidence rows (see FileTypeEvidence).
	Evidence EvidenceSummary `json:"evidence"`
	// PlatformTimes is the zone the platform's times are read in:
	// PlatformTimesUTC (see timezone.go).
	PlatformTimes string `json:"platformTimes"`
	// Completeness is the reconciliation of the run's window (see
	// Completeness); nil when the run made none.
	Completeness *Completeness `json:"completeness,omitempty"`
}

// File names in a report directory.
const (
	ManifestCSV  = "manifest.csv"
	FailuresCSV  = "failures.csv"
	ManifestXLSX = "manifest.xlsx"
	SummaryJSON  = "summary.json"
	Journal      = "journal.jsonl"
)

// Paths returns the report files of dir: manifest.xlsx, manifest.csv,
// failures.csv, sha256sums.txt, summary.html, attestation.html and
// summary.json (not the journal).
func Paths(dir string) []string {
	return []string{
		filepath.Join(dir, ManifestXLSX),
		filepath.Join(dir, ManifestCSV),
		filepath.Join(dir, FailuresCSV),
		filepath.Join(dir, SHA256Sums),
		filepath.Join(dir, SummaryHTML),
		filepath.Join(dir, AttestationHTML),
		filepath.Join(dir, SummaryJSON),
	}
}

// Exit codes of the meetarchive command: the one definition (see ExitCode).
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

// ExitCode is the exit code of a run that counted counts (conferences per
// status, as [Writer.Counts] and Summary.Counts give them): 130
// (ExitInterrupted) if it was interrupted, else 3 (ExitFatal) if a fatal
// error stopped it, else 1 (ExitFailures) if any conference is counted
// under a status whose Failure is true, else 0 (ExitOK).
func ExitCode(counts map[Status]int, interrupted, fatal bool) int {
	switch {
	case interrupted:
		return ExitInterrupted
	case fatal:
		return ExitFatal
	}
	for st, n := range counts {
		if n > 0 && st.Failure() {
			return ExitFailures
		}
	}
	return ExitOK
}

// Hint says in a few words what to do about a row: r.Hint when the caller
// set one, else a hint from the status alone for the rows the Failures sheet
// lists (pending-transcode, cancelled, failed, not-found, invalid-input, and
// unknown statuses), else "". It knows no API error codes: the code-specific
// advice is the caller's, in Row.Hint.
func Hint(r Row) string {
	if r.Hint != "" {
		return r.Hint
	}
	switch r.Status {
	case PendingTranscode:
		return "still transcoding on the platform: rerun later with --input failures.csv"
	case Cancelled:
		return "stopped before it finished: rerun"
	case Failed:
		return "rerun with --input failures.csv; if it fails again, see errorMessage"
	case NotFound:
		return "the platform does not know this conference: check the confUUID (a rerun will not help)"
	case InvalidInput:
		return "fix this line of the input; a rerun of it as is will not help"
	}
	if listedInFailures(r.Status) {
		return "unknown status: see errorMessage"
	}
	return ""
}
