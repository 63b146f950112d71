package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// Files added later. An archived conference is skipped (already-archived)
// unless something says the platform may list more, or other, files for it
// now; then its file list is asked for again (a links call) and compared
// with its commit mark:
//
//   - the details the list API gave for free (a date range or --since-last)
//     differ from those kept in the sidecar in a field that tells of files
//     (rcdSize, rcdTime, decodeEndTime, isDecodeFinish, available);
//   - Options.Recheck is set (--recheck, and every --since-last run: in
//     practice the conferences of its overlap, which the last run archived).
//
// Files the sidecar lists keep their objects (not downloaded again: the
// "already archived" check has just re-read them) and their rows say
// already-archived; files it does not list are archived and their rows say
// updated; the sidecar is then rewritten to list all of them (earlier
// entries unchanged, an entry in Updates). A file whose type and name the
// sidecar lists but whose size or SHA-256 (record info gives both;
// downloadurls neither, so there a file of a known name is taken as the one
// archived) is not the archived one is stored at a key of its own
// (revisionKey: "0_0.v2.mp4" beside "0_0.mp4"); the earlier object stays.
// An archived object is never written over.

// recheckFields are the details that tell of a recording's files.
var recheckFields = []struct {
	field export.Field
	value func(export.Recording) string
}{
	{export.FieldRcdSize, func(r export.Recording) string { return strconv.Itoa(r.RcdSize) + " MB" }},
	{export.FieldRcdTime, func(r export.Recording) string { return strconv.Itoa(r.RcdTime) + " s" }},
	{export.FieldDecodeEndTime, func(r export.Recording) string {
		return time.UnixMilli(r.DecodeEndTime).UTC().Format(time.RFC3339)
	}},
	{export.FieldIsDecodeFinish, func(r export.Recording) string { return strconv.FormatBool(r.IsDecodeFinish) }},
	{export.FieldAvailable, func(r export.Recording) string { return strconv.FormatBool(r.Available) }},
}

// DetailsChanged compares the details a sidecar kept with the platform's
// answer now, in the fields that tell of files (where both carry them):
// "" when equal, else what changed ("rcdSize 3 MB → 5 MB").
func DetailsChanged(kept json.RawMessage, now export.Recording) string {
	var was export.Recording
	if len(kept) == 0 || json.Unmarshal(kept, &was) != nil {
		return ""
	}
	var diffs []string
	for _, f := range recheckFields {
		if !was.Has(f.field) || !now.Has(f.field) {
			continue
		}
		if a, b := f.value(was), f.value(now); a != b {
			diffs = append(diffs, f.field.String()+" "+a+" → "+b)
		}
	}
	return strings.Join(diffs, ", ")
}

// recheckReason says why an archived conference's files are asked for
// again; "" when they are not.
func (j *Job) recheckReason(it Item, sc archive.Sidecar) string {
	if rec, ok := j.Known[it.ConfUUID]; ok {
		if diff := DetailsChanged(sc.Details, rec); diff != "" {
			return "the platform's details changed since it was archived: " + diff
		}
	}
	return j.Options.Recheck
}

// priorFiles are a re-checked conference's committed files.
type priorFiles struct {
	sc    archive.Sidecar
	byID  map[string]archive.SidecarFile // the latest entry of each file type and name
	keys  []string                       // every key listed, and every key given out since
	taken map[string]bool                // the same, folded
	used  map[string]bool                // keys of entries a kept file stands for
}

func newPriorFiles(sc archive.Sidecar) *priorFiles {
	p := &priorFiles{sc: sc, byID: map[string]archive.SidecarFile{}, taken: map[string]bool{}, used: map[string]bool{}}
	for _, f := range sc.Files {
		p.byID[f.FileType+"/"+f.Name] = f
		p.take(f.Key)
	}
	return p
}

func (p *priorFiles) take(key string) {
	p.keys = append(p.keys, key)
	p.taken[strings.ToLower(key)] = true
}

// collides reports whether key would be one of the listed objects (or a
// folder of one, or one of its folders: archive.KeyCollision).
func (p *priorFiles) collides(key string) bool {
	_, j, ok := archive.KeyCollision(append(p.keys[:len(p.keys):len(p.keys)], key))
	return ok && j == len(p.keys)
}

// place gives a file of the list its object (kept) when the sidecar lists
// it with the same size and SHA-256, where the link tells them; any other
// file gets a key no listed object has: its template key, or a revision
// of it (a changed file always: it supersedes the listed one). It does
// nothing on a nil priorFiles (a conference archived for the first time).
func (p *priorFiles) place(st *fileState) {
	if p == nil {
		return
	}
	f := st.file
	sf, listed := p.byID[f.ID()]
	switch {
	case listed && (f.Size < 0 || f.Size == sf.Bytes) && (f.SHA256 == "" || strings.EqualFold(f.SHA256, sf.SHA256)):
		o := archive.Object{Key: sf.Key, URI: sf.URI, Bytes: sf.Bytes, SHA256: sf.SHA256,
			VersionID: sf.VersionID, LockMode: sf.LockMode, RetainUntil: sf.RetainUntil, LegalHold: sf.LegalHold}
		st.key, st.obj, st.kept = sf.Key, &o, true
		p.used[sf.Key] = true
		return
	case listed:
		st.supersedes, st.key = sf.Key, sf.Key
	}
	for n := 2; st.supersedes != "" || p.collides(st.key); n++ {
		base := st.key
		if st.supersedes != "" {
			base = st.supersedes
		}
		if k := revisionKey(base, n); !p.taken[strings.ToLower(k)] && !p.collides(k) {
			st.key = k
			break
		}
	}
	p.take(st.key)
}

// revisionKey is key with ".v<n>" before its extension: "a/0_0.mp4"
// becomes "a/0_0.v2.mp4".
func revisionKey(key string, n int) string {
	dir, file := path.Split(key)
	ext := path.Ext(file)
	return dir + strings.TrimSuffix(file, ext) + ".v" + strconv.Itoa(n) + ext
}

// recheck asks the platform for an archived conference's files again (why
// says why) and archives those its sidecar does not list; see the top of
// this file. Its rows: one already-archived row per object the sidecar
// lists, then one row per new file (updated when committed).
func (j *Job) recheck(ctx context.Context, log *slog.Logger, base report.Row, it Item, sc archive.Sidecar, why string) ([]report.Row, error) {
	log = log.With("recheck", why)
	if j.Options.DryRun {
		return noted(alreadyArchivedRows(base, sc), "archived; a run would ask the platform for its files again ("+why+")"), nil
	}
	rec, ok := j.Known[it.ConfUUID]
	if !ok {
		var err error
		if rec, err = j.API.Details(ctx, it.ConfUUID); err != nil {
			return j.recheckFailed(ctx, log, base, sc, "details", err)
		}
	}
	rec.ConfUUID = it.ConfUUID
	switch {
	case !rec.IsDecodeFinish:
		log.Info("archived, and transcoding again on the platform: re-checked once it is ready")
		return noted(alreadyArchivedRows(base, sc), "archived; the platform is transcoding it again ("+why+"): a later run asks for its files once it is ready"), nil
	case !rec.Available:
		return noted(alreadyArchivedRows(base, sc), "archived; the platform now reports it as not available ("+why+"): its files were not asked for again"), nil
	}
	fillFromRecording(&base, rec)
	prior := newPriorFiles(sc)
	d := &download{job: j, log: log, rec: rec, byID: map[string]*fileState{}, prior: prior}
	linkErr := d.run(ctx)
	var added []*fileState
	for _, st := range d.states {
		if !st.kept {
			added = append(added, st)
		}
	}
	kept := priorRows(base, rec, prior, d.states, j.Options.PartialFiles)
	switch {
	case ctx.Err() != nil:
		return append(kept, addedRows(base, len(kept), added, func(r *report.Row, _ *fileState) { *r = cancelledRow(ctx, *r) })...), nil
	case errors.Is(linkErr, export.ErrAuth) && len(added) > 0:
		return append(kept, addedRows(base, len(kept), added, func(r *report.Row, st *fileState) {
			r.Status = report.Failed
			setCode(r, CodeAuth, linkErr.Error())
		})...), linkErr
	case errors.Is(linkErr, export.ErrAuth):
		return j.recheckFailed(ctx, log, base, sc, "download links", linkErr)
	case errors.Is(linkErr, export.ErrNotFound) && len(d.states) == 0:
		log.Info("archived; the platform no longer knows it")
		return noted(kept, "archived; the platform no longer knows this conference (deleted after it was archived?)"), nil
	case linkErr != nil && len(d.states) == 0:
		return j.recheckFailed(ctx, log, base, sc, "download links", linkErr)
	case d.collision != nil:
		c := d.collision
		return append(kept, addedRows(base, len(kept), added, func(r *report.Row, _ *fileState) {
			r.Status = report.Failed
			setCode(r, CodeKeyCollision, fmt.Sprintf("files %q and %q map to one object key (%q and %q); nothing new of this conference was written",
				c.first.file.ID(), c.second.file.ID(), c.first.key, c.second.key))
		})...), nil
	}
	complete := linkErr == nil
	for _, st := range added {
		complete = complete && st.obj != nil
	}
	if !complete {
		return append(kept, uncommittedRows(base, len(kept), added, linkErr)...), nil
	}
	changed := DetailsChanged(sc.Details, rec)
	if len(added) == 0 && changed == "" {
		log.Debug("re-checked: the platform lists no file the archive lacks")
		return kept, nil
	}
	ev := j.renewEvidence(ctx, log, rec, prior, d.states) // before the commit mark, which lists it
	if failed := j.commitUpdate(ctx, log, base, rec, sc, added, ev, why); failed != nil {
		return append(kept, failed...), nil
	}
	kept = append(kept, renewedEvidenceRows(base, ev)...)
	if len(added) == 0 {
		log.Info("re-checked: no new file; the sidecar now keeps the platform's latest details", "changed", changed)
		return kept, nil
	}
	log.Info("updated: files the platform listed after the conference was archived are archived now", "added", len(added))
	return j.updatedRows(ctx, log, base, sc, rec.ConfUUID, d.states, added, kept, why), nil
}

// uncommittedRows are the rows of a re-checked conference's new files when
// one of them (or the download links, linkErr) failed: the update is not
// committed, and a rerun with --recheck fetches the rest.
func uncommittedRows(base report.Row, from int, added []*fileState, linkErr error) []report.Row {
	return addedRows(base, from, added, func(r *report.Row, st *fileState) {
		r.Status = report.Failed
		switch {
		case st.obj != nil:
			setCode(r, CodeUncommitted, "this file is stored, but another new file of the conference failed, so the update is not committed; a rerun with --recheck (or a date range listing it) keeps this file and fetches the rest")
		case st.err != nil:
			setErr(r, st.err, st.err.Error())
		default:
			setErr(r, linkErr, "download links: "+linkErr.Error())
		}
		r.Hint = strings.TrimSuffix(r.Hint, "rerun with --input failures.csv") + "rerun with --recheck (or a date range listing it)"
	})
}

// updatedRows are a re-checked conference's rows once its update is
// committed: the kept objects' rows, then the added files' (updated),
// after deleting the conference from the platform when --delete-after
// says so (states: every file the platform listed).
func (j *Job) updatedRows(ctx context.Context, log *slog.Logger, base report.Row, sc archive.Sidecar, confUUID string, states, added []*fileState, kept []report.Row, why string) []report.Row {
	deleted, delErr := false, error(nil)
	if j.Options.DeleteAfter {
		deleted, delErr = j.deleteAfterArchive(ctx, log, confUUID, states)
	}
	archivedAt := sc.ArchivedAt.UTC().Format(time.RFC3339)
	kept = noted(kept, "kept: archived on "+archivedAt+", not downloaded again; the conference gained files")
	for i := range kept {
		kept[i].Deleted = deleted
	}
	return append(kept, addedRows(base, len(kept), added, func(r *report.Row, st *fileState) {
		r.Status, r.Deleted = report.Updated, deleted
		if delErr != nil {
			setCode(r, CodeNotDeleted, "archived, but not deleted from the platform: "+delErr.Error())
			return
		}
		r.ErrorMessage = "archived now: the platform lists this file since the conference was archived on " +
			archivedAt + " (" + why + ")"
		if st.supersedes != "" {
			setCode(r, CodeFileChanged, fmt.Sprintf("the platform now serves other bytes for this file than those archived at %s (archived %s): both are kept, these at a key of their own",
				st.supersedes, archivedAt))
		}
	})...)
}

// commitUpdate rewrites the sidecar of a re-checked conference: every
// entry it had, then the added files, the platform's latest details and an
// entry in Updates. It returns the added files' rows when that fails (nil
// when committed).
func (j *Job) commitUpdate(ctx context.Context, log *slog.Logger, base report.Row, rec export.Recording, sc archive.Sidecar, added []*fileState, ev []*evidenceItem, why string) []report.Row {
	up := archive.SidecarUpdate{At: time.Now().UTC(), Tool: j.Options.Tool, Reason: why}
	sc.Files = append([]archive.SidecarFile(nil), sc.Files...)
	for _, st := range added {
		f := archive.SidecarFileFrom(st.file.FileType, st.file.Name, *st.obj)
		f.Supersedes = st.supersedes
		sc.Files = append(sc.Files, f)
		up.Added = append(up.Added, st.key)
	}
	addRenewedEvidence(&sc, &up, ev)
	sc.Details = redactedDetails(rec)
	sc.Updates = append(append([]archive.SidecarUpdate(nil), sc.Updates...), up)
	err := j.putSidecar(ctx, sc) // a commit line in the custody ledger
	if err == nil {
		return nil
	}
	log.Error("sidecar not rewritten", "err", err)
	return append(addedRows(base, len(sc.Files)-len(added), added, func(r *report.Row, _ *fileState) {
		if ctx.Err() != nil {
			*r = cancelledRow(ctx, *r)
			return
		}
		r.Status = report.Failed
		setCode(r, CodeUncommitted, "stored, but the commit mark (sidecar) could not be rewritten to list it: "+err.Error())
	}), uncommittedEvidenceRows(ctx, base, ev, err)...)
}

// recheckFailed is the rows of an archived conference whose files could
// not be asked for again: its objects (already-archived, as proved) and a
// conference row that says the check failed. An authentication failure
// is fatal, as everywhere.
func (j *Job) recheckFailed(ctx context.Context, log *slog.Logger, base report.Row, sc archive.Sidecar, step string, err error) ([]report.Row, error) {
	rows := alreadyArchivedRows(base, sc)
	switch {
	case ctx.Err() != nil:
		return rows, nil
	case errors.Is(err, export.ErrNotFound):
		log.Info("archived; the platform no longer knows it")
		return noted(rows, "archived; the platform no longer knows this conference (deleted after it was archived?)"), nil
	}
	r := base
	r.FileIndex, r.Status, r.FinishedAt = len(rows), report.Failed, time.Now().UTC()
	r.Attempts = export.Attempts(err)
	setCode(&r, CodeRecheckFailed, "archived, but asking the platform whether it lists more files failed ("+step+"): "+err.Error())
	if errors.Is(err, export.ErrAuth) {
		return append(rows, r), err
	}
	log.Error("re-check failed", "step", step, "err", err)
	return append(rows, r), nil
}

// priorRows are the already-archived rows of every object a re-checked
// conference's sidecar lists, with the platform's details now (rec),
// noting those the platform no longer lists (states: the files it listed
// now; not said when partial: --file-types filtered the list) and those a
// changed file supersedes.
func priorRows(base report.Row, rec export.Recording, p *priorFiles, states []*fileState, partial bool) []report.Row {
	rows := alreadyArchivedRows(base, p.sc)
	for i := range rows {
		fillFromRecording(&rows[i], rec)
	}
	superseded := map[string]string{}
	listed := map[string]bool{}
	for _, st := range states {
		listed[st.file.ID()] = true
		if st.supersedes != "" {
			superseded[st.supersedes] = st.key
		}
	}
	for i := range rows {
		r := &rows[i]
		switch {
		case r.ObjectKey == "", r.IsEvidence(): // links never list evidence objects
		case superseded[r.ObjectKey] != "":
			r.ErrorMessage = "kept: the platform now serves other bytes for this file; those are archived at " + superseded[r.ObjectKey]
		case !partial && !p.used[r.ObjectKey] && !listed[r.FileType+"/"+r.FileName]:
			r.ErrorMessage = "kept: the platform no longer lists this file"
		}
	}
	return rows
}

// addedRows are the rows of a re-checked conference's new files, indexed
// after its from (the rows of the objects it had).
func addedRows(base report.Row, from int, added []*fileState, set func(*report.Row, *fileState)) []report.Row {
	rows := fileRows(base, added, set)
	for i := range rows {
		rows[i].FileIndex = from + i
	}
	return rows
}

// noted sets msg on every row that has no message of its own.
func noted(rows []report.Row, msg string) []report.Row {
	for i := range rows {
		if rows[i].ErrorMessage == "" {
			rows[i].ErrorMessage = msg
		}
	}
	return rows
}
