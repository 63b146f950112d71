package pipeline

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// Code is a row's errorCode: one of the pipeline's own codes below, or a
// code export gives for an API or network error (the API's error_code such
// as "MMC.111070005", or "http-503", "timeout", "connection", "truncated",
// "bad-response", ...). Every code the pipeline writes is defined here.
type Code string

// The pipeline's own codes.
const (
	CodeInvalidInput     Code = "invalid-input"        // the input line is not a conference UUID
	CodeDuplicateInput   Code = "duplicate-input"      // the input repeats a conference
	CodePendingTranscode Code = "pending-transcode"    // still transcoding on the platform
	CodeUnavailable      Code = "unavailable"          // the platform says it cannot be downloaded
	CodeNotFound         Code = "not-found"            // the platform does not know the conference
	CodeAuth             Code = export.CodeAuth        // credentials refused (fatal)
	CodeFatal            Code = "fatal"                // not started: the run stopped on a fatal error
	CodeInterrupted      Code = report.CodeInterrupted // not started: a signal stopped the run
	CodeCancelled        Code = "cancelled"            // started, stopped before it finished
	CodeUncommitted      Code = "uncommitted"          // stored, but the conference was not committed
	CodeIntegrity        Code = "integrity"            // bytes did not match the platform's size or SHA-256
	CodeStore            Code = "store"                // the destination refused or failed
	CodeKeyCollision     Code = "key-collision"        // two files of the conference map to one key
	CodeKeyTaken         Code = "key-taken"            // the key holds another conference's object
	CodePendingExpired   Code = "pending-expired"      // --since-last: still not archivable after --max-pending-age
	CodeNotDeleted       Code = "not-deleted"          // archived, but the platform copy was not deleted
	// CodeUnverifiableLength: the media host sent a body that ends only with
	// its connection and the platform listed no size or SHA-256 to check it
	// against: nothing could prove it whole, so it is not archived.
	CodeUnverifiableLength Code = "unverifiable-length"
	CodeStalled            Code = export.CodeStalled // the media body stopped moving (--stall-timeout), resumes included
	CodeDiskFull           Code = "disk-full"        // a local file system is full or over quota (ENOSPC, EDQUOT)
	CodeLocalIO            Code = "local-io"         // any other local file error: read-only, permission, I/O error

	// An evidence object (report.FileTypeEvidence) of an archived
	// conference that could not be stored: its row has status
	// unavailable and one of these codes. None fails the recording or
	// changes the exit code.
	CodeEvidenceNotPermitted Code = "evidence-not-permitted" // 403: the account is not an administrator
	CodeEvidenceNotDeployed  Code = "evidence-not-deployed"  // 404 APIG.0101: the deployment lacks the API
	CodeEvidenceNotKept      Code = "evidence-not-kept"      // the meeting history no longer keeps the meeting
	CodeEvidenceFailed       Code = "evidence-failed"        // any other failure (429 or 5xx after retries, network, bad answer, store)
	// CodeFileChanged: an updated row whose file the platform now serves
	// with other bytes (size or SHA-256) than the object archived under the
	// same file type and name: both kept, each at its own key.
	CodeFileChanged Code = "file-changed"
	// CodeRecheckFailed: an archived conference whose file list could not
	// be asked for again (--recheck, changed details, --since-last).
	CodeRecheckFailed Code = "recheck-failed"
)

// codeOf is the errorCode of any error of the pipeline.
func codeOf(err error) Code {
	if errors.Is(err, archive.ErrIntegrity) {
		return CodeIntegrity
	}
	// Before export's codes: a syscall.Errno looks like a net.Error (it
	// has Timeout and Temporary), so a full disk would read "connection".
	if c, _ := LocalIO(err); c != "" {
		return c
	}
	if errors.Is(err, export.ErrAuth) {
		return CodeAuth
	}
	if errors.Is(err, archive.ErrKeyTaken) {
		return CodeKeyTaken
	}
	if errors.Is(err, errUnverifiableLength) {
		return CodeUnverifiableLength
	}
	// export names API, network and cancellation errors; what it cannot name
	// here came from the store.
	if c := export.ErrorCode(err); c != export.CodeOther {
		return Code(c)
	}
	return CodeStore
}

// LocalIO recognises an error of a local file operation (writing to a
// directory destination or to --out): a *fs.PathError or *os.LinkError
// with a system error. It returns its code, disk-full for ENOSPC and
// EDQUOT and local-io for any other (EROFS, EACCES, EPERM, EIO, ...), and
// what to do, naming the directory (a temporary file's directory, since
// the file itself was removed); "" and "" for any other error (a network
// error is never one: those are *net.OpError).
func LocalIO(err error) (Code, string) {
	var (
		pe    *fs.PathError
		le    *os.LinkError
		path  string
		errno syscall.Errno
	)
	switch {
	case errors.As(err, &pe):
		path = pe.Path
	case errors.As(err, &le):
		path = le.New
	default:
		return "", ""
	}
	if !errors.As(err, &errno) {
		return "", ""
	}
	if base := filepath.Base(path); strings.HasPrefix(base, ".meetarchive-") || strings.HasSuffix(base, ".tmp") {
		path = filepath.Dir(path)
	}
	switch errno {
	case syscall.ENOSPC:
		return CodeDiskFull, "no space left on the file system of " + path + ": free space there (or choose another --dest or --out)"
	case syscall.EDQUOT:
		return CodeDiskFull, "disk quota exceeded on " + path + ": free space or raise the quota"
	case syscall.EROFS:
		return CodeLocalIO, path + " is on a read-only file system: remount it read-write or choose another --dest or --out"
	case syscall.EACCES, syscall.EPERM:
		return CodeLocalIO, "permission denied on " + path + ": give this user write access there"
	}
	return CodeLocalIO, "local file error on " + path + " (" + errno.Error() + "): check that disk"
}

// Explain is the errorCode a row failing with err gets, and its hint: what
// a person should do about it.
func Explain(err error) (Code, string) {
	c := codeOf(err)
	return c, hintFor(c, err)
}

// hintFor is the hint of a row that failed with err under code c: for a
// local file error, what to do naming the path; else hint(c).
func hintFor(c Code, err error) string {
	if lc, h := LocalIO(err); lc != "" {
		return h + ", then rerun with --input failures.csv"
	}
	return hint(c)
}

// hint says in a few words what a person should do about a row with this
// code; "" when nothing needs doing. It is the one place that maps codes,
// including the Meeting API's, to advice.
func hint(c Code) string {
	const rerun = "rerun with --input failures.csv"
	s := string(c)
	switch {
	case c == "":
		return ""
	case c == CodePendingTranscode:
		return "still transcoding on the platform: rerun later with --input failures.csv"
	case c == CodeUnavailable:
		return "the platform keeps this recording but will not serve it: ask its administrator"
	case c == CodeNotFound || c == export.CodeMeetingMissing || c == export.CodeConfNotFound:
		return "the platform does not know this conference: check the confUUID"
	case c == CodeInvalidInput:
		return "not a conference UUID: fix the input line"
	case c == CodeDuplicateInput:
		return ""
	case c == CodeInterrupted:
		return report.HintInterrupted
	case c == CodeCancelled || c == CodeUncommitted:
		return "run stopped before this finished: " + rerun
	case c == CodeFatal:
		return "not started: fix the summary's fatal error, then " + rerun
	case c == CodeAuth || strings.HasPrefix(s, "USG."):
		return "authentication refused: check the credentials, then " + rerun
	case c == "http-429" || c == export.CodeThrottled:
		return "throttled by the API gateway: lower --rate, then " + rerun
	case s == export.CodeNoPermission || s == export.CodeNoViewRight || s == "http-403":
		return "no permission: use an administrator account, then " + rerun
	case s == export.CodeDNS:
		return "the host name does not resolve: check --api (or the media host's name) and the DNS, then " + rerun
	case s == export.CodeRefused:
		return "the connection was refused (nothing listens there, or a firewall): check --api and that the service or proxy is up, then " + rerun
	case s == export.CodeTLS:
		return "the server's TLS certificate is not trusted: give its CA with --ca-bundle (media hosts only: --insecure-media-tls), then " + rerun
	case s == export.CodeTimeout:
		return "no answer in time: check the network and proxies (or raise --request-timeout), then " + rerun
	case s == export.CodeConnection:
		return "network problem: check connectivity and proxies, then " + rerun
	case s == export.CodeTruncated:
		return "download cut short: " + rerun
	case c == CodeStalled:
		return "the media host stopped sending (see --stall-timeout, --max-elapsed): check connectivity and proxies, then " + rerun
	case c == CodeUnverifiableLength:
		return "the media host sent no length and the platform gave no size or SHA-256: completeness cannot be proved; use --links recordinfo, then " + rerun
	case c == CodeIntegrity:
		return "stored bytes did not match the platform's size or SHA-256: rerun; if it persists, ask the vendor"
	case c == CodeKeyCollision:
		return "two files map to one object key: add {{.FileType}} or {{.Index}} to --key-template, then " + rerun
	case c == CodePendingExpired:
		return "still not downloadable after --max-pending-age: check it on the platform, then rerun with --input failures.csv"
	case c == CodeKeyTaken:
		return "another conference's file is stored at this key: make --key-template include {{.ConfUUID}}, then " + rerun
	case c == CodeFileChanged:
		return "the platform changed an archived file: both versions are kept; compare them, and ask the platform's administrator why"
	case c == CodeRecheckFailed:
		return "its archived files are intact; rerun with --recheck to ask the platform again whether it lists more files"
	case c == CodeNotDeleted:
		return "archived; delete it from the platform by hand or rerun with --delete-after-archive"
	case s == export.CodeBadResponse || s == export.CodeResponseMismatch:
		return "the platform's answer was malformed or about another conference: rerun; if it persists, report it to the vendor"
	case s == export.CodeAmbiguousFiles:
		return "the platform's links do not tell this conference's files apart, so none was archived: report it to the vendor; --links recordinfo may name them"
	case s == export.CodeTooManyPages:
		return "the platform's link list never ended: rerun later; if it persists, report it to the vendor"
	case s == export.CodeBadRedirect:
		return "the media host redirected where a download token must not go: check proxies, then " + rerun
	case c == CodeStore:
		return "the destination failed: check it, then " + rerun
	case c == CodeDiskFull:
		return "the local disk is full (errorMessage names the path): free space there, then " + rerun
	case c == CodeEvidenceNotPermitted:
		return "the recording is archived; its attendee, control or history records need an administrator account: archive with one to keep them"
	case c == CodeEvidenceNotDeployed:
		return "the recording is archived; this platform deployment has no such API, so this evidence cannot be kept"
	case c == CodeEvidenceNotKept:
		return "the recording is archived; the meeting history keeps meetings six months by default (twelve at most): archive sooner to keep this evidence"
	case c == CodeEvidenceFailed:
		return "the recording is archived without this evidence (errorMessage says why): a rerun of the conference fetches it again"
	case c == CodeLocalIO:
		return "a local file could not be written (errorMessage names the path and why): fix it, then " + rerun
	}
	return rerun + "; if it fails again, see errorMessage"
}
