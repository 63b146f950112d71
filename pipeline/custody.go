package pipeline

import (
	"context"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/redact"
	"meetarchive/report"
)

// Custody hears the facts of a conference that the run's custody ledger
// records: download links issued and used, objects committed, commit
// marks, deletions from the platform. Its methods are called from the
// conferences' goroutines: they must be safe for concurrent use, and
// never fail the conference (a ledger that cannot be written is the
// ledger's concern). Job.Custody nil records nothing. *RunLedger is the
// one implementation; the API calls reach it through export.Config.Observer.
type Custody interface {
	Link(report.LedgerLink)
	Object(report.LedgerObject)
	Commit(report.LedgerCommit)
	Delete(report.LedgerDelete)
}

// noCustody records nothing.
type noCustody struct{}

func (noCustody) Link(report.LedgerLink)     {}
func (noCustody) Object(report.LedgerObject) {}
func (noCustody) Commit(report.LedgerCommit) {}
func (noCustody) Delete(report.LedgerDelete) {}

// custody is the job's Custody, or one that records nothing.
func (j *Job) custody() Custody {
	if j.Custody == nil {
		return noCustody{}
	}
	return j.Custody
}

// links asks for fresh download links of the conference and records each
// link issued.
func (d *download) links(ctx context.Context) ([]export.File, error) {
	links, err := d.job.API.Links(ctx, d.rec.ConfUUID)
	if err != nil {
		return nil, err
	}
	c := d.job.custody()
	for _, f := range links {
		l := linkEvent(d.rec.ConfUUID, report.LinkIssued, f)
		if f.Size >= 0 {
			l.Size = f.Size
		}
		l.PlatformSHA256 = f.SHA256
		c.Link(l)
	}
	return links, nil
}

// openMedia starts the download of f at offset and records the link used.
func (d *download) openMedia(ctx context.Context, f export.File, offset int64) (*export.Media, error) {
	l := linkEvent(d.rec.ConfUUID, report.LinkUsed, f)
	l.Offset = offset
	d.job.custody().Link(l)
	return d.job.API.OpenMediaAt(ctx, f, offset)
}

// linkEvent names a link by its scheme, host and path only: the query (a
// signature, a token) and token-like path segments never reach the ledger.
func linkEvent(confUUID, use string, f export.File) report.LedgerLink {
	return report.LedgerLink{ConfUUID: confUUID, Use: use, FileType: f.FileType, File: f.Name, URL: redact.PageURL(f.URL, confUUID)}
}

// objectEvent is an "object" line: the object as the store read it back.
func objectEvent(confUUID string, f export.File, o archive.Object, reused bool) report.LedgerObject {
	return report.LedgerObject{
		ConfUUID: confUUID, Key: o.Key, URI: o.URI, Bytes: o.Bytes, SHA256: o.SHA256, PlatformSHA256: f.SHA256,
		VersionID: o.VersionID, LockMode: o.LockMode, RetainUntil: o.RetainUntil, LegalHold: o.LegalHold, Reused: reused,
	}
}

// putSidecar writes the conference's commit mark and records it.
func (j *Job) putSidecar(ctx context.Context, sc archive.Sidecar) error {
	if err := archive.PutSidecar(ctx, j.Store, sc); err != nil {
		return err
	}
	key, _ := archive.SidecarKey(sc.ConfUUID) // PutSidecar checked it
	j.custody().Commit(report.LedgerCommit{ConfUUID: sc.ConfUUID, Key: key, URI: j.Store.URI(key), Files: len(sc.Files)})
	return nil
}

// deleteRecording deletes the recording from the platform and records
// the platform's answer.
func (j *Job) deleteRecording(ctx context.Context, confUUID string) error {
	err := j.API.Delete(ctx, confUUID)
	ev := report.LedgerDelete{ConfUUID: confUUID, Confirmed: err == nil}
	if err != nil {
		ev.Error = err.Error()
	}
	j.custody().Delete(ev)
	return err
}
