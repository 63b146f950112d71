package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// setCode sets a row's errorCode, its message and the hint that goes with
// the code.
func setCode(r *report.Row, c Code, msg string) {
	r.ErrorCode, r.ErrorMessage, r.Hint = string(c), msg, hint(c)
}

// setErr sets a row's errorCode from err (codeOf), its message, and the
// hint for that error: for a local file error, one naming the path.
func setErr(r *report.Row, err error, msg string) {
	c := codeOf(err)
	r.ErrorCode, r.ErrorMessage, r.Hint = string(c), msg, hintFor(c, err)
}

func inputProblemRow(it Item) report.Row {
	r := report.Row{Seq: it.Seq, ConfUUID: it.ConfUUID, Status: it.Problem, FinishedAt: time.Now().UTC()}
	code := CodeInvalidInput
	if it.Problem == report.DuplicateInput {
		code = CodeDuplicateInput
	}
	setCode(&r, code, it.Detail)
	return r
}

// notStartedRow is the row of a conference that never started: a signal or
// a fatal error stopped the run first. It carries only its short code: the
// fatal error's message is in the summary and the log, once, and a million
// not-started rows stay small (no message, no hint of its own, no finish
// time: it never ran).
func notStartedRow(it Item, fatal error) report.Row {
	r := report.Row{Seq: it.Seq, ConfUUID: it.ConfUUID, Status: report.Cancelled, ErrorCode: string(CodeInterrupted)}
	if fatal != nil {
		r.ErrorCode = string(CodeFatal)
	}
	return r
}

// cancelledRow marks a row of a conference stopped part-way. A file stored
// before the stop keeps its key, size and SHA-256, with the code
// "uncommitted": it is in the destination, but the conference is not
// committed (no sidecar); a rerun keeps it and fetches the rest.
func cancelledRow(ctx context.Context, r report.Row) report.Row {
	r.Status = report.Cancelled
	why := "stopped"
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		why = "stopped (" + cause.Error() + ")"
	}
	if r.ObjectURI != "" {
		setCode(&r, CodeUncommitted, why+" after this file was stored but before the conference was committed; a rerun keeps this file and fetches the rest")
	} else {
		setCode(&r, CodeCancelled, why+" before this finished; nothing of it was committed; rerun to archive it")
	}
	r.FinishedAt = time.Now().UTC()
	return r
}

func alreadyArchivedRows(base report.Row, sc archive.Sidecar) []report.Row {
	var rec export.Recording
	if len(sc.Details) > 0 {
		_ = json.Unmarshal(sc.Details, &rec) // best effort: the sidecar is ours
	}
	fillFromRecording(&base, rec)
	base.Status = report.AlreadyArchived
	base.FinishedAt = time.Now().UTC()
	if len(sc.Files) == 0 {
		return []report.Row{base}
	}
	rows := make([]report.Row, 0, len(sc.Files))
	for i, f := range sc.Files {
		r := base
		r.FileIndex, r.FileType, r.FileName = i, f.FileType, f.Name
		r.ObjectURI, r.ObjectKey, r.Bytes, r.SHA256 = f.URI, f.Key, f.Bytes, f.SHA256
		r.VersionID, r.LockMode, r.RetainUntil, r.LegalHold = f.VersionID, f.LockMode, f.RetainUntil, f.LegalHold
		rows = append(rows, r)
	}
	return rows
}

// fillFromRecording copies everything the platform said of the conference
// into a row (fields the answer left out stay unknown, not false or zero).
func fillFromRecording(r *report.Row, rec export.Recording) {
	r.ConfID = rec.ConfID
	r.Subject = rec.Subject
	r.ScheduserName = rec.ScheduserName
	r.StartTime = rec.StartTime
	r.RecordingSecs = rec.RcdTime
	r.Available = rec.AvailableKnown()
	r.IsDecodeFinish = rec.DecodeFinishKnown()
	if rec.Has(export.FieldRecordAuthType) {
		r.RecordAuthType = &rec.RecordAuthType
	}
	if rec.Has(export.FieldRcdSize) {
		r.RcdSize = &rec.RcdSize
	}
	if rec.DecodeEndTime > 0 {
		r.DecodeEndTime = time.UnixMilli(rec.DecodeEndTime).UTC()
	}
	r.PlaybackURL = rec.PlaybackURL()
}

func finish(r report.Row) []report.Row {
	r.FinishedAt = time.Now().UTC()
	return []report.Row{r}
}

// fileRows turns the per-file states into rows (in file order), letting set
// decide each row's status.
func fileRows(base report.Row, states []*fileState, set func(*report.Row, *fileState)) []report.Row {
	rows := make([]report.Row, 0, len(states))
	now := time.Now().UTC()
	for i, st := range states {
		r := base
		r.FileIndex = i
		r.FileType = st.file.FileType
		r.FileName = st.file.Name
		r.PlatformSHA256 = st.file.SHA256
		r.Attempts = st.attempts
		if o := st.obj; o != nil {
			r.ObjectURI, r.ObjectKey, r.Bytes, r.SHA256 = o.URI, o.Key, o.Bytes, o.SHA256
			r.VersionID, r.LockMode, r.RetainUntil, r.LegalHold = o.VersionID, o.LockMode, o.RetainUntil, o.LegalHold
		}
		r.FinishedAt = now
		set(&r, st)
		rows = append(rows, r)
	}
	return rows
}
