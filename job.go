package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// meetingAPI is what the pipeline needs of the Meeting API client.
type meetingAPI interface {
	Details(ctx context.Context, confUUID string) (export.Recording, error)
	Links(ctx context.Context, confUUID string) ([]export.File, error)
	OpenMedia(ctx context.Context, f export.File) (*export.Media, error)
	Delete(ctx context.Context, confUUID string) error
}

// jobOptions are the pipeline's knobs (the flags that shape one run).
type jobOptions struct {
	Concurrency int            // conferences in flight
	Force       bool           // re-archive conferences that are already archived
	DryRun      bool           // details only; planned rows
	DeleteAfter bool           // delete from the platform after verified archive (--delete-after-archive with --confirm-delete)
	LockMode    string         // requested Object Lock mode, to confirm before deleting
	Tool        string         // "meetarchive <version>" for sidecars
	Retry       export.Backoff // whole-file download retries (fresh links each attempt)
	LinkMaxAge  time.Duration  // refresh links older than this before the next file (default 45 min)
	MaxAttempts int
}

// job joins the three packages: conferences in, rows out.
type job struct {
	api      meetingAPI
	store    archive.Store
	keys     *archive.KeyTemplate
	opts     jobOptions
	log      *slog.Logger
	progress progress
	known    map[string]export.Recording // details already fetched by the list API (date-range runs)
}

// runResult is how a run ended, for the exit code.
type runResult struct {
	Interrupted bool
	Fatal       error
}

// run processes items with at most Concurrency conferences in flight and
// hands each conference's rows to emit, all at once. emit is called from
// several goroutines and must be safe for concurrent use.
//
// stop is cancelled on the first signal: no new conference starts. work is
// cancelled when in-flight conferences must stop (grace over, second signal,
// fatal error); their rows come back as cancelled.
func (j *job) run(stop, work context.Context, items []inputItem, emit func([]report.Row)) runResult {
	work, cancelWork := context.WithCancelCause(work)
	defer cancelWork(nil)

	var (
		mu    sync.Mutex
		fatal error
	)
	setFatal := func(err error) {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
		cancelWork(err)
	}
	getFatal := func() error {
		mu.Lock()
		defer mu.Unlock()
		return fatal
	}

	var g errgroup.Group
	g.SetLimit(max(1, j.opts.Concurrency))
	for _, it := range items {
		if it.Problem != "" {
			emit([]report.Row{inputProblemRow(it)})
			continue
		}
		if stop.Err() != nil || work.Err() != nil {
			emit([]report.Row{j.notStartedRow(it, getFatal())})
			continue
		}
		g.Go(func() error {
			if stop.Err() != nil || work.Err() != nil {
				emit([]report.Row{j.notStartedRow(it, getFatal())})
				return nil
			}
			rows, err := j.conference(work, it)
			if err != nil {
				setFatal(err)
			}
			emit(rows)
			return nil
		})
	}
	_ = g.Wait()
	return runResult{Interrupted: stop.Err() != nil, Fatal: getFatal()}
}

func inputProblemRow(it inputItem) report.Row {
	return report.Row{
		Seq:          it.Seq,
		ConfUUID:     it.ConfUUID,
		Status:       report.Status(it.Problem),
		ErrorCode:    it.Problem,
		ErrorMessage: it.Detail,
		FinishedAt:   time.Now().UTC(),
	}
}

func (j *job) notStartedRow(it inputItem, fatal error) report.Row {
	msg := "interrupted before this conference started; rerun to archive it"
	code := "interrupted"
	if fatal != nil {
		code = "fatal"
		msg = "not started: the run stopped on a fatal error: " + fatal.Error()
	}
	return report.Row{Seq: it.Seq, ConfUUID: it.ConfUUID, Status: report.Cancelled,
		ErrorCode: code, ErrorMessage: msg, FinishedAt: time.Now().UTC()}
}

// conference archives one conference and returns its rows. The error is
// non-nil only for a fatal condition that must stop the whole run.
func (j *job) conference(ctx context.Context, it inputItem) ([]report.Row, error) {
	log := j.log.With("confUUID", it.ConfUUID)
	base := report.Row{Seq: it.Seq, ConfUUID: it.ConfUUID}
	defer j.progress.conferenceDone()

	if !j.opts.Force && !j.opts.DryRun {
		sc, ok, err := j.store.Archived(ctx, it.ConfUUID)
		switch {
		case ctx.Err() != nil:
			return []report.Row{j.cancelledRow(ctx, base, 0)}, nil
		case err != nil:
			log.Warn("could not check the archive; archiving again", "err", err)
		case ok:
			log.Debug("already archived")
			return alreadyArchivedRows(base, sc), nil
		}
	}

	rec, ok := j.known[strings.ToLower(it.ConfUUID)]
	if !ok {
		var err error
		rec, err = j.api.Details(ctx, it.ConfUUID)
		if err != nil {
			return j.detailsFailed(ctx, log, base, err)
		}
		j.progress.estimate(int64(rec.RcdSize) << 20) // listed ones were estimated up front
	}
	fillFromRecording(&base, rec)

	switch {
	case !rec.IsDecodeFinish:
		base.Status = report.PendingTranscode
		base.ErrorCode = "pending-transcode"
		base.ErrorMessage = "the recording is still being transcoded; rerun later"
		if rec.DecodeEndTime > 0 {
			base.ErrorMessage += " (expected by " + time.UnixMilli(rec.DecodeEndTime).UTC().Format(time.RFC3339) + ")"
		}
		log.Info("pending transcode")
		return finish(base), nil
	case !rec.Available:
		base.Status = report.Unavailable
		base.ErrorCode = "unavailable"
		base.ErrorMessage = "the platform reports the recording as not available"
		log.Info("unavailable")
		return finish(base), nil
	case j.opts.DryRun:
		base.Status = report.Planned
		base.EstimatedBytes = int64(rec.RcdSize) << 20
		if j.opts.DeleteAfter {
			base.ErrorMessage = "would be deleted from the platform after a verified archive"
		}
		return finish(base), nil
	}
	return j.archiveFiles(ctx, log, base, rec)
}

func (j *job) detailsFailed(ctx context.Context, log *slog.Logger, base report.Row, err error) ([]report.Row, error) {
	switch {
	case ctx.Err() != nil:
		return []report.Row{j.cancelledRow(ctx, base, export.Attempts(err))}, nil
	case errors.Is(err, export.ErrAuth):
		base.Status = report.Failed
		base.ErrorCode = "auth"
		base.ErrorMessage = err.Error()
		return finish(base), &fatalError{err: err}
	case errors.Is(err, export.ErrNotFound):
		// The API does not know this conference: reported, not retried.
		base.Status = report.Unavailable
		base.ErrorCode = export.ErrorCode(err)
		base.ErrorMessage = "the Meeting API does not know this conference: " + err.Error()
		base.Attempts = export.Attempts(err)
		log.Warn("conference not found")
		return finish(base), nil
	}
	base.Status = report.Failed
	base.ErrorCode = export.ErrorCode(err)
	base.ErrorMessage = err.Error()
	base.Attempts = export.Attempts(err)
	log.Error("details failed", "err", err, "attempts", base.Attempts)
	return finish(base), nil
}

// fileState tracks one file of a conference across download attempts.
type fileState struct {
	file     export.File
	obj      *archive.Object
	attempts int
	err      error // last error
	final    bool  // err is permanent
	// tokenRetried, integrityRetried: a refused download token, or bytes
	// that failed the integrity check, were already retried once.
	tokenRetried, integrityRetried bool
}

// defaultLinkMaxAge is how old download links may get before the next file
// of a conference asks for fresh ones (they are valid for an hour).
const defaultLinkMaxAge = 45 * time.Minute

// tokenRefused reports whether the media host refused the download token
// (expired or already used): fresh links fix that, another try with the same do not.
func tokenRefused(err error) bool {
	var ae *export.APIError
	return errors.As(err, &ae) && ae.Op == "media" && (ae.StatusCode == 401 || ae.StatusCode == 403)
}

// archiveFiles downloads every file of the conference, then writes the
// sidecar last: the conference's commit mark.
func (j *job) archiveFiles(ctx context.Context, log *slog.Logger, base report.Row, rec export.Recording) ([]report.Row, error) {
	states, linkErr := j.downloadFiles(ctx, log, rec)
	switch {
	case ctx.Err() != nil && len(states) == 0:
		return []report.Row{j.cancelledRow(ctx, base, 0)}, nil
	case ctx.Err() != nil:
		return j.fileRows(base, states, func(r *report.Row, st *fileState) {
			*r = j.cancelledRow(ctx, *r, st.attempts)
		}), nil
	case errors.Is(linkErr, export.ErrAuth):
		base.Status, base.ErrorCode, base.ErrorMessage = report.Failed, "auth", linkErr.Error()
		return finish(base), &fatalError{err: linkErr}
	case linkErr != nil && len(states) == 0:
		base.Status = report.Failed
		base.ErrorCode = export.ErrorCode(linkErr)
		base.ErrorMessage = "download links: " + linkErr.Error()
		base.Attempts = export.Attempts(linkErr)
		return finish(base), nil
	case len(states) == 0:
		base.Status = report.NoFiles
		base.ErrorMessage = "the platform lists no downloadable files for this recording"
		log.Info("no files")
		return finish(base), nil
	}

	complete := linkErr == nil
	for _, st := range states {
		if st.obj == nil {
			complete = false
		}
	}
	if !complete {
		return j.fileRows(base, states, func(r *report.Row, st *fileState) {
			r.Status = report.Failed
			switch {
			case st.obj != nil:
				r.ErrorCode = "conference-incomplete"
				r.ErrorMessage = "this file was stored, but another file of the conference failed; the whole conference is redone on rerun"
			case st.err != nil:
				r.ErrorCode, r.ErrorMessage = errorCode(st.err), st.err.Error()
			default:
				r.ErrorCode = export.ErrorCode(linkErr)
				r.ErrorMessage = "download links: " + linkErr.Error()
			}
		}), nil
	}

	sc := archive.Sidecar{ConfUUID: rec.ConfUUID, ArchivedAt: time.Now().UTC(), Tool: j.opts.Tool, Details: redactedDetails(rec)}
	for _, st := range states {
		o := st.obj
		sc.Files = append(sc.Files, archive.SidecarFile{FileType: st.file.FileType, Name: st.file.Name, Key: o.Key, URI: o.URI,
			Bytes: o.Bytes, SHA256: o.SHA256, VersionID: o.VersionID, LockMode: o.LockMode, RetainUntil: o.RetainUntil, LegalHold: o.LegalHold})
	}
	if err := j.store.PutSidecar(ctx, sc); err != nil {
		log.Error("sidecar failed", "err", err)
		return j.fileRows(base, states, func(r *report.Row, st *fileState) {
			if ctx.Err() != nil {
				*r = j.cancelledRow(ctx, *r, st.attempts)
				return
			}
			r.Status, r.ErrorCode = report.Failed, errorCode(err)
			r.ErrorMessage = "files stored but the commit mark (sidecar) could not be written: " + err.Error()
		}), nil
	}
	log.Info("archived", "files", len(states))

	deleted, delErr := false, error(nil)
	if j.opts.DeleteAfter {
		deleted, delErr = j.deleteAfterArchive(ctx, log, rec.ConfUUID, states)
	}
	return j.fileRows(base, states, func(r *report.Row, st *fileState) {
		r.Status = report.Archived
		r.Deleted = deleted
		if delErr != nil {
			r.ErrorCode = "not-deleted"
			r.ErrorMessage = "archived, but not deleted from the platform: " + delErr.Error()
		}
	}), nil
}

// downloadFiles stores every file of the conference, in the order the
// platform lists them. Download tokens are single-use and live an hour, so
// every attempt starts with fresh links, and links are refreshed before the
// next file once they are linkMaxAge old. It returns the files' states and
// the error of the last Links call, if it failed (Links retries inside the
// client already).
func (j *job) downloadFiles(ctx context.Context, log *slog.Logger, rec export.Recording) ([]*fileState, error) {
	var (
		states []*fileState
		byID   = map[string]*fileState{}
	)
	maxAttempts := max(1, j.opts.MaxAttempts)
	linkMaxAge := j.opts.LinkMaxAge
	if linkMaxAge <= 0 {
		linkMaxAge = defaultLinkMaxAge
	}
	for attempt := 1; ; {
		links, err := j.api.Links(ctx, rec.ConfUUID)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("download links failed", "err", err, "attempt", attempt)
			}
			return states, err
		}
		fetched := time.Now()
		retry, stale, started := false, false, 0
		var lastErr error
		for _, f := range links {
			st := byID[f.ID()]
			if st == nil {
				st = &fileState{}
				byID[f.ID()] = st
				states = append(states, st)
			}
			st.file = f
			if st.obj != nil || st.final {
				continue
			}
			if started > 0 && time.Since(fetched) > linkMaxAge {
				stale = true // fresh links before the next file rather than an expired token
				break
			}
			started++
			st.attempts++
			obj, err := j.fetch(ctx, rec, f)
			switch {
			case err == nil:
				st.obj, st.err = &obj, nil
				log.Info("stored", "file", f.String(), "bytes", obj.Bytes, "key", obj.Key)
			case ctx.Err() != nil:
				return states, nil
			case tokenRefused(err) && !st.tokenRetried:
				// An expired or refused download token: fresh links, once.
				st.tokenRetried, st.err, retry = true, err, true
				log.Warn("download token refused; retrying with fresh links", "file", f.String(), "err", err)
			case errors.Is(err, archive.ErrIntegrity) && !st.integrityRetried && attempt < maxAttempts:
				// Bytes damaged in transit: nothing was committed; one more
				// download decides whether the damage is at the source.
				st.integrityRetried, st.err, retry, lastErr = true, err, true, err
				log.Warn("integrity check failed; downloading once more", "file", f.String(), "err", err)
			case export.ShouldRetry(err) && attempt < maxAttempts:
				st.err, retry, lastErr = err, true, err
				log.Warn("download failed; retrying with fresh links", "file", f.String(), "err", err, "attempt", attempt)
			default:
				st.err, st.final = err, true
				log.Error("file failed", "file", f.String(), "err", err, "attempts", st.attempts)
			}
		}
		switch {
		case stale && !retry:
			continue // the same attempt, with fresh links
		case !retry:
			return states, nil
		case lastErr != nil: // a token refusal alone needs no back-off
			if err := export.Sleep(ctx, j.opts.Retry.Delay(attempt, lastErr)); err != nil {
				return states, nil
			}
			attempt++
		}
	}
}

// fetch downloads one file and streams it into the store.
func (j *job) fetch(ctx context.Context, rec export.Recording, f export.File) (archive.Object, error) {
	key, err := j.keys.Key(keyFields(rec, f))
	if err != nil {
		return archive.Object{}, fmt.Errorf("key for %s: %w", f, err)
	}
	m, err := j.api.OpenMedia(ctx, f)
	if err != nil {
		return archive.Object{}, err
	}
	defer m.Body.Close()
	want := archive.Expect{
		Size:           m.Size,
		PlatformSize:   f.Size,
		PlatformSHA256: f.SHA256,
		Metadata:       map[string]string{"confuuid": rec.ConfUUID, "confid": rec.ConfID, "filetype": f.FileType},
		ContentType:    contentType(f.Name),
	}
	return j.store.Put(ctx, key, &countingReader{r: m.Body, p: j.progress}, want)
}

// deleteAfterArchive deletes the recording from the platform only after
// every stored object was read back and its SHA-256 matched, and, when a lock
// was asked for, the server confirmed the lock.
func (j *job) deleteAfterArchive(ctx context.Context, log *slog.Logger, confUUID string, states []*fileState) (bool, error) {
	for _, st := range states {
		o := st.obj
		if err := readBack(ctx, j.store, *o); err != nil {
			log.Error("not deleting: read-back failed", "file", st.file.String(), "err", err)
			return false, err
		}
		if j.opts.LockMode != "" && (!strings.EqualFold(o.LockMode, j.opts.LockMode) || !o.RetainUntil.After(time.Now())) {
			err := fmt.Errorf("lock not confirmed on %s: server reports mode %q until %s", o.Key, o.LockMode, o.RetainUntil.Format(time.RFC3339))
			log.Error("not deleting", "err", err)
			return false, err
		}
	}
	if err := j.api.Delete(ctx, confUUID); err != nil {
		log.Error("delete from the platform failed", "err", err)
		return false, err
	}
	log.Info("deleted from the platform after verified archive")
	return true, nil
}

// readBack streams an object back and compares its SHA-256 and size.
func readBack(ctx context.Context, st archive.Store, o archive.Object) error {
	rc, err := st.Open(ctx, o.Key)
	if err != nil {
		return fmt.Errorf("read back %s: %w", o.Key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return fmt.Errorf("read back %s: %w", o.Key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != o.SHA256 || n != o.Bytes {
		return fmt.Errorf("read back %s: %w: got %d bytes sha256 %s, stored %d bytes sha256 %s", o.Key, archive.ErrIntegrity, n, got, o.Bytes, o.SHA256)
	}
	return nil
}

// fileRows turns the per-file states into rows (in file order), letting set
// decide each row's status.
func (j *job) fileRows(base report.Row, states []*fileState, set func(*report.Row, *fileState)) []report.Row {
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
			r.ObjectURI, r.Bytes, r.SHA256 = o.URI, o.Bytes, o.SHA256
			r.VersionID, r.LockMode, r.RetainUntil, r.LegalHold = o.VersionID, o.LockMode, o.RetainUntil, o.LegalHold
		}
		r.FinishedAt = now
		set(&r, st)
		rows = append(rows, r)
	}
	return rows
}

func (j *job) cancelledRow(ctx context.Context, r report.Row, attempts int) report.Row {
	r.Status = report.Cancelled
	r.ErrorCode = "cancelled"
	r.ErrorMessage = "stopped before this finished; nothing of it was committed; rerun to archive it"
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		r.ErrorMessage = "stopped (" + cause.Error() + ") before this finished; nothing of it was committed"
	}
	r.Attempts = attempts
	r.ObjectURI, r.Bytes, r.SHA256 = "", 0, ""
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
		r.ObjectURI, r.Bytes, r.SHA256 = f.URI, f.Bytes, f.SHA256
		r.VersionID, r.LockMode, r.RetainUntil, r.LegalHold = f.VersionID, f.LockMode, f.RetainUntil, f.LegalHold
		rows = append(rows, r)
	}
	return rows
}

func fillFromRecording(r *report.Row, rec export.Recording) {
	r.ConfID = rec.ConfID
	r.Subject = rec.Subject
	r.ScheduserName = rec.ScheduserName
	r.StartTime = rec.StartTime
	r.RecordingSecs = rec.RcdTime
}

func finish(r report.Row) []report.Row {
	r.FinishedAt = time.Now().UTC()
	return []report.Row{r}
}

func keyFields(rec export.Recording, f export.File) archive.KeyFields {
	// Year, Month and Day come from StartTime inside archive.
	return archive.KeyFields{
		ConfUUID: rec.ConfUUID, ConfID: rec.ConfID, Subject: rec.Subject, ScheduserName: rec.ScheduserName,
		StartTime: rec.StartTime, FileType: f.FileType, FileName: f.Name, Index: f.Index,
	}
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

// errorCode is the manifest's errorCode for any error of the pipeline.
func errorCode(err error) string {
	if errors.Is(err, archive.ErrIntegrity) {
		return "integrity"
	}
	// The client names API, network and cancellation errors; what it cannot
	// name here came from the store.
	if c := export.ErrorCode(err); c != "error" {
		return c
	}
	return "store"
}

func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".mp4":
		return "video/mp4"
	case ".m4a":
		return "audio/mp4"
	case ".aac":
		return "audio/aac"
	case ".mp3":
		return "audio/mpeg"
	}
	return "application/octet-stream"
}

// countingReader reports bytes to the progress counter as they stream.
type countingReader struct {
	r io.Reader
	p progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.p.addBytes(int64(n))
	}
	return n, err
}
