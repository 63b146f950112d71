package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// conference archives one conference and returns its rows. The error is
// non-nil only for a fatal condition that must stop the whole run.
func (j *Job) conference(ctx context.Context, it Item) ([]report.Row, error) {
	log := j.Log.With("confUUID", it.ConfUUID)
	base := report.Row{Seq: it.Seq, ConfUUID: it.ConfUUID}
	defer j.Progress.ConferenceDone()

	if !j.Options.Force {
		// A read-only check, also in a dry run: its estimate then counts
		// only what a real run would download.
		sc, ok, err := archive.Archived(ctx, j.Store, it.ConfUUID)
		switch {
		case ctx.Err() != nil:
			return []report.Row{cancelledRow(ctx, base)}, nil
		case err != nil:
			log.Warn("could not check the archive; archiving again", "err", err)
		case ok && j.stillHolds(ctx, log, sc):
			if why := j.recheckReason(it, sc); why != "" {
				return recordingsFirst(j.recheck(ctx, log, base, it, sc, why))
			}
			log.Debug("already archived, bytes re-read")
			return recordingsFirst(j.archivedEvidence(ctx, log, base, sc, alreadyArchivedRows(base, sc)), nil)
		case ctx.Err() != nil:
			return []report.Row{cancelledRow(ctx, base)}, nil
		}
	}

	rec, ok := j.Known[it.ConfUUID]
	if !ok {
		var err error
		rec, err = j.API.Details(ctx, it.ConfUUID)
		if err != nil {
			return j.detailsFailed(ctx, log, base, err)
		}
		j.Progress.Estimate(int64(rec.RcdSize) << 20) // listed ones were estimated up front
	}
	// The request names the conference: keys, sidecars and links use the
	// input's UUID, never the answer's spelling of it.
	rec.ConfUUID = it.ConfUUID
	fillFromRecording(&base, rec)

	switch {
	case !rec.IsDecodeFinish:
		base.Status = report.PendingTranscode
		setCode(&base, CodePendingTranscode, "the recording is still being transcoded; rerun later")
		if rec.DecodeEndTime > 0 {
			base.ErrorMessage += " (expected by " + time.UnixMilli(rec.DecodeEndTime).UTC().Format(time.RFC3339) + ")"
		}
		log.Info("pending transcode")
		return finish(base), nil
	case !rec.Available:
		base.Status = report.Unavailable
		setCode(&base, CodeUnavailable, "the platform reports the recording as not available for download")
		log.Info("unavailable")
		return finish(base), nil
	case j.Options.DryRun:
		base.Status = report.Planned
		base.EstimatedBytes = int64(rec.RcdSize) << 20
		if j.Options.DeleteAfter {
			base.ErrorMessage = "would be deleted from the platform after a verified archive"
		}
		return finish(base), nil
	}
	return j.archiveFiles(ctx, log, base, rec)
}

// stillHolds reports whether every object a commit mark lists still
// holds the bytes it lists (archive.Proved); when it does not, the
// conference is archived again (its files re-hashed, and what changed
// downloaded).
func (j *Job) stillHolds(ctx context.Context, log *slog.Logger, sc archive.Sidecar) bool {
	err := archive.Proved(ctx, j.Store, sc)
	if err != nil && ctx.Err() == nil {
		log.Warn("an archived object no longer holds the bytes its commit mark lists; archiving the conference again", "err", err)
	}
	return err == nil
}

func (j *Job) detailsFailed(ctx context.Context, log *slog.Logger, base report.Row, err error) ([]report.Row, error) {
	base.Attempts = export.Attempts(err)
	switch {
	case ctx.Err() != nil:
		return []report.Row{cancelledRow(ctx, base)}, nil
	case errors.Is(err, export.ErrAuth):
		base.Status = report.Failed
		setCode(&base, CodeAuth, err.Error())
		return finish(base), err
	case errors.Is(err, export.ErrNotFound):
		// The platform does not know this conference: reported, not retried.
		base.Status = report.NotFound
		setCode(&base, CodeNotFound, "the Meeting API does not know this conference: "+err.Error())
		log.Warn("conference not found")
		return finish(base), nil
	}
	base.Status = report.Failed
	setErr(&base, err, err.Error())
	log.Error("details failed", "err", err, "attempts", base.Attempts)
	return finish(base), nil
}

// archiveFiles stores every file of the conference, then writes the sidecar
// last: the conference's commit mark.
func (j *Job) archiveFiles(ctx context.Context, log *slog.Logger, base report.Row, rec export.Recording) ([]report.Row, error) {
	d := &download{job: j, log: log, rec: rec, byID: map[string]*fileState{}}
	linkErr := d.run(ctx)
	states := d.states
	switch {
	case ctx.Err() != nil && len(states) == 0:
		return []report.Row{cancelledRow(ctx, base)}, nil
	case ctx.Err() != nil:
		return fileRows(base, states, func(r *report.Row, st *fileState) {
			*r = cancelledRow(ctx, *r)
		}), nil
	case errors.Is(linkErr, export.ErrAuth):
		base.Status = report.Failed
		setCode(&base, CodeAuth, linkErr.Error())
		return finish(base), linkErr
	case errors.Is(linkErr, export.ErrNotFound) && len(states) == 0:
		// Deleted between its details and its links.
		base.Status = report.NotFound
		setCode(&base, CodeNotFound, "the Meeting API no longer knows this conference: "+linkErr.Error())
		return finish(base), nil
	case linkErr != nil && len(states) == 0:
		base.Status = report.Failed
		setErr(&base, linkErr, "download links: "+linkErr.Error())
		base.Attempts = export.Attempts(linkErr)
		return finish(base), nil
	case len(states) == 0:
		base.Status = report.NoFiles
		base.ErrorMessage = "the platform lists no downloadable files for this recording"
		log.Info("no files")
		return finish(base), nil
	case d.collision != nil:
		c := d.collision
		return fileRows(base, states, func(r *report.Row, st *fileState) {
			r.Status = report.Failed
			setCode(r, CodeKeyCollision, fmt.Sprintf("files %q and %q map to one object key (%q and %q); nothing of this conference was written",
				c.first.file.ID(), c.second.file.ID(), c.first.key, c.second.key))
		}), nil
	}

	if rows := notCommittedRows(base, states, linkErr); rows != nil {
		return rows, nil
	}

	var evidence []*evidenceItem
	if j.evidenceAPI() != nil {
		// Before the commit mark, which lists what is stored.
		evidence = j.fetchEvidence(ctx, log, rec, states)
		if ctx.Err() != nil {
			rows := fileRows(base, states, func(r *report.Row, st *fileState) { *r = cancelledRow(ctx, *r) })
			return append(rows, storedEvidenceRows(base, evidence, len(states), func(r *report.Row) { *r = cancelledRow(ctx, *r) })...), nil
		}
	}
	if failed := j.commit(ctx, log, base, rec, states, evidence); failed != nil {
		return append(failed, storedEvidenceRows(base, evidence, len(states), func(r *report.Row) {
			r.Status, r.ErrorCode, r.ErrorMessage, r.Hint = failed[0].Status, failed[0].ErrorCode, failed[0].ErrorMessage, failed[0].Hint
		})...), nil
	}
	log.Info("archived", "files", len(states))
	return j.archivedRows(ctx, log, base, rec, states, evidence), nil
}

// notCommittedRows are the rows of a conference none of whose files is
// committed because one of them (or the download links, linkErr) failed;
// nil when every file is stored and the conference can be committed.
func notCommittedRows(base report.Row, states []*fileState, linkErr error) []report.Row {
	complete := linkErr == nil
	for _, st := range states {
		if st.obj == nil {
			complete = false
		}
	}
	if complete {
		return nil
	}
	return fileRows(base, states, func(r *report.Row, st *fileState) {
		r.Status = report.Failed
		switch {
		case st.obj != nil:
			setCode(r, CodeUncommitted, "this file is stored, but another file of the conference failed, so the conference is not committed; a rerun keeps this file and fetches the rest")
		case st.err != nil:
			setErr(r, st.err, st.err.Error())
		default:
			setErr(r, linkErr, "download links: "+linkErr.Error())
		}
	})
}

// archivedRows are a committed conference's rows (its files', then its
// evidence objects'), after deleting it from the platform when
// --delete-after says so and its size fits the recording's rcdSize.
func (j *Job) archivedRows(ctx context.Context, log *slog.Logger, base report.Row, rec export.Recording, states []*fileState, evidence []*evidenceItem) []report.Row {
	note := sizeNote(rec, states, j.Options.PartialFiles)
	if note != "" {
		log.Warn("archived, but the size does not fit the recording's rcdSize", "note", note)
	}
	deleted, delErr := false, error(nil)
	switch {
	case j.Options.DeleteAfter && note != "":
		// Bytes that may not be the recording are no reason to delete it.
		delErr = errors.New("the archived size does not fit the recording's rcdSize")
	case j.Options.DeleteAfter:
		deleted, delErr = j.deleteAfterArchive(ctx, log, rec.ConfUUID, states)
	}
	rows := fileRows(base, states, func(r *report.Row, st *fileState) {
		r.Status = report.Archived
		r.Deleted = deleted
		r.ErrorMessage = note
		if delErr != nil {
			setCode(r, CodeNotDeleted, "archived, but not deleted from the platform: "+delErr.Error())
			if note != "" {
				r.ErrorMessage += "; " + note
			}
		}
	})
	return append(rows, evidenceRows(base, evidence, len(states))...)
}

// commit writes the conference's sidecar last, its commit mark, from the
// stored files; when that fails it returns the rows that say so (nil when
// committed).
func (j *Job) commit(ctx context.Context, log *slog.Logger, base report.Row, rec export.Recording, states []*fileState, evidence []*evidenceItem) []report.Row {
	sc := archive.Sidecar{ConfUUID: rec.ConfUUID, ArchivedAt: time.Now().UTC(), Tool: j.Options.Tool, Details: redactedDetails(rec)}
	for _, st := range states {
		sc.Files = append(sc.Files, archive.SidecarFileFrom(st.file.FileType, st.file.Name, *st.obj))
	}
	addEvidence(&sc, evidence) // the evidence objects, after the recordings
	if err := j.putSidecar(ctx, sc); err != nil {
		log.Error("sidecar failed", "err", err)
		return fileRows(base, states, func(r *report.Row, st *fileState) {
			if ctx.Err() != nil {
				*r = cancelledRow(ctx, *r)
				return
			}
			r.Status = report.Failed
			setCode(r, CodeUncommitted, "files stored but the commit mark (sidecar) could not be written: "+err.Error())
			if c, _ := LocalIO(err); c != "" {
				r.Hint = hintFor(c, err)
			}
		})
	}
	return nil
}

// deleteAfterArchive deletes the recording from the platform only after
// every stored object was read back and its SHA-256 matched, and, when a lock
// was asked for, the server confirmed the lock.
func (j *Job) deleteAfterArchive(ctx context.Context, log *slog.Logger, confUUID string, states []*fileState) (bool, error) {
	for _, st := range states {
		o := st.obj
		if err := archive.VerifyObject(ctx, j.Store, *o); err != nil {
			log.Error("not deleting: read-back failed", "file", st.file.String(), "err", err)
			return false, err
		}
		if j.Options.LockMode != "" && (!strings.EqualFold(o.LockMode, j.Options.LockMode) || !o.RetainUntil.After(time.Now())) {
			err := fmt.Errorf("lock not confirmed on %s: server reports mode %q until %s", o.Key, o.LockMode, o.RetainUntil.Format(time.RFC3339))
			log.Error("not deleting", "err", err)
			return false, err
		}
	}
	if err := j.deleteRecording(ctx, confUUID); err != nil {
		log.Error("delete from the platform failed", "err", err)
		return false, err
	}
	log.Info("deleted from the platform after verified archive")
	return true, nil
}

// redactedDetails is the details response as stored in the sidecar: the
// playback links carry token= and are redacted.
func redactedDetails(rec export.Recording) json.RawMessage {
	b, err := json.Marshal(rec.Redacted())
	if err != nil {
		return nil
	}
	return b
}
