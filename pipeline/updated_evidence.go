package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// The evidence of an updated conference. When a re-check commits an update
// (files added, or the details the sidecar keeps changed), the evidence
// that changed with it is stored anew before the sidecar is rewritten:
// the details (the platform's answer now) and, when the files came from
// record info, record info's file list (every file it lists now). Each is
// compared with the latest object of its name the sidecar lists, and only
// one whose answer differs is stored: at a key of its own, a revision of
// the first object's key (evidence_details.v2.json beside
// evidence_details.json), listed in the sidecar as superseding the latest,
// which stays, like a changed recording. No API call: both answers are in
// hand. The history detail, attendee and control records do not change
// after a meeting ended: they are not asked for again. Only evidence that
// was stored when the conference was archived is renewed (a gap stays a
// gap), and nothing with the evidence off.

// renewedEvidenceLimit bounds the bytes read back of a stored details or
// record info document to compare it with the answer now.
const renewedEvidenceLimit = 16 << 20

// renewEvidence stores anew the evidence of a re-checked conference that
// its update changes (rec: the platform's details now; states: every file
// it lists now) and returns the items it tried: stored (obj), or failed
// (code, msg; the earlier object stays the evidence, and the update is
// committed all the same).
func (j *Job) renewEvidence(ctx context.Context, log *slog.Logger, rec export.Recording, p *priorFiles, states []*fileState) []*evidenceItem {
	if j.evidenceAPI() == nil {
		return nil
	}
	now := time.Now().UTC()
	var items []*evidenceItem
	for _, k := range []evidenceKind{evDetails, evRecordInf} {
		latest, ok := p.byID[report.FileTypeEvidence+"/"+k.name]
		if !ok || (k == evRecordInf && !fromRecordInfo(states)) || ctx.Err() != nil {
			continue
		}
		var answer any = rec.Redacted()
		if k == evRecordInf {
			answer = recordInfoFiles(states)
		}
		pages, err := onePage(answer)
		if err == nil {
			doc := evidenceDoc{ConfUUID: rec.ConfUUID, API: k.api, FetchedAt: now, Tool: j.Options.Tool, Pages: pages}
			var data []byte
			if data, err = evidenceBytes(rec.ConfUUID, doc); err == nil && j.sameEvidence(ctx, log, latest.Key, data) {
				continue
			}
			it := &evidenceItem{kind: k, data: data, supersedes: latest.Key, key: p.revision(p.firstKey(k))}
			items = append(items, it)
			if err == nil {
				err = j.putEvidence(ctx, rec, it)
			}
			if err != nil {
				it.code, it.msg = CodeEvidenceFailed, fmt.Sprintf("%s: not stored anew with the update (%v); %s stays its evidence", k.name, err, latest.Key)
				log.Warn("changed evidence not stored anew", "evidence", k.name, "err", err)
			}
		}
	}
	return items
}

// sameEvidence reports whether the document at key holds the same answers
// as data (a document in its stored form): fetchedAt and tool aside. One
// that cannot be read is not the same.
func (j *Job) sameEvidence(ctx context.Context, log *slog.Logger, key string, data []byte) bool {
	rc, err := j.Store.Open(ctx, key)
	if err != nil {
		log.Warn("evidence not read back to compare; stored anew", "key", key, "err", err)
		return false
	}
	defer rc.Close()
	old, err := io.ReadAll(io.LimitReader(rc, renewedEvidenceLimit))
	if err != nil {
		log.Warn("evidence not read back to compare; stored anew", "key", key, "err", err)
		return false
	}
	var a, b evidenceDoc
	if json.Unmarshal(old, &a) != nil || json.Unmarshal(data, &b) != nil || len(a.Pages) != len(b.Pages) {
		return false
	}
	for i := range a.Pages {
		var x, y bytes.Buffer
		if a.Pages[i].Offset != b.Pages[i].Offset || json.Compact(&x, a.Pages[i].Answer) != nil ||
			json.Compact(&y, b.Pages[i].Answer) != nil || !bytes.Equal(x.Bytes(), y.Bytes()) {
			return false
		}
	}
	return true
}

// firstKey is the key of the first object of evidence kind k the sidecar
// lists (the one its revisions are named after).
func (p *priorFiles) firstKey(k evidenceKind) string {
	for _, f := range p.sc.Files {
		if f.FileType == report.FileTypeEvidence && f.Name == k.name {
			return f.Key
		}
	}
	return ""
}

// revision is the first revision of key (".v2", ".v3", ...: revisionKey)
// that no listed object has, nor any key given out since; it takes it.
func (p *priorFiles) revision(key string) string {
	for n := 2; ; n++ {
		if k := revisionKey(key, n); !p.taken[strings.ToLower(k)] && !p.collides(k) {
			p.take(k)
			return k
		}
	}
}

// addRenewedEvidence lists the evidence stored anew in the rewritten
// sidecar, after the added files, each superseding the object it renews,
// and in the update's added keys.
func addRenewedEvidence(sc *archive.Sidecar, up *archive.SidecarUpdate, items []*evidenceItem) {
	for _, it := range items {
		if it.obj == nil {
			continue
		}
		f := archive.SidecarFileFrom(report.FileTypeEvidence, it.kind.name, *it.obj)
		f.Supersedes = it.supersedes
		sc.Files = append(sc.Files, f)
		up.Added = append(up.Added, it.key)
	}
}

// renewedEvidenceRows are the rows of the evidence an update stored anew
// (archived), or failed to (unavailable, evidence-failed).
func renewedEvidenceRows(base report.Row, items []*evidenceItem) []report.Row {
	rows := evidenceRows(base, items, 0)
	for i, it := range items {
		if it.obj != nil {
			rows[i].ErrorMessage = "stored anew with the update: the platform's answer now differs from the one archived at " +
				it.supersedes + ", which is kept"
		}
	}
	return rows
}

// uncommittedEvidenceRows are the rows of the evidence an update stored
// anew when the sidecar could not be rewritten to list it (err): stored,
// not committed.
func uncommittedEvidenceRows(ctx context.Context, base report.Row, items []*evidenceItem, err error) []report.Row {
	return storedEvidenceRows(base, items, 0, func(r *report.Row) {
		if ctx.Err() != nil {
			*r = cancelledRow(ctx, *r)
			return
		}
		r.Status = report.Failed
		setCode(r, CodeUncommitted, "stored anew, but the commit mark (sidecar) could not be rewritten to list it: "+err.Error())
	})
}

// recordingsFirst orders a conference's rows as the report shows them:
// every row of a recording (and any row about the conference as a whole)
// before its evidence rows, each group in the order given, FileIndex
// numbered anew (the report sorts a conference's rows by it). A sidecar
// rewritten by an update lists its added files after the evidence; the
// rows do not.
func recordingsFirst(rows []report.Row, err error) ([]report.Row, error) {
	out := make([]report.Row, 0, len(rows))
	for _, evidence := range []bool{false, true} {
		for _, r := range rows {
			if r.IsEvidence() == evidence {
				r.FileIndex = len(out)
				out = append(out, r)
			}
		}
	}
	return out, err
}
