package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/redact"
	"meetarchive/report"
)

// EvidenceAPI is what the evidence of a conference needs of the Meeting
// API client (*export.Client): the meeting history's answers about it.
// Each is its own API at the gateway, with a quota of its own.
type EvidenceAPI interface {
	HistoryDetail(ctx context.Context, confUUID string) (export.HistoryDetail, error)
	AttendeeRecords(ctx context.Context, confUUID string) (export.Records[export.AttendeeRecord], error)
	ControlRecords(ctx context.Context, confUUID string) (export.Records[export.ControlRecord], error)
}

// An evidence object is one of the platform's own answers about an
// archived conference, stored as a JSON document beside its recordings
// (report.FileTypeEvidence): fileType "evidence", the file name below, and
// an Index of its own, through the key template like a recording (the
// default template gives 2024/01/<confUUID>/evidence_attendees.json).
// Their keys are checked for collisions with the recordings' (and each
// other's) before any of them is stored: a colliding one is left out, the
// recordings never. They are stored with Store.Put (hash, size, lock,
// encryption, version as a recording) after the recordings and before the
// sidecar, which lists them: "already archived", verify and bag cover
// them.
type evidenceKind struct {
	name  string // file name: details.json, ...
	index int    // the key template's {{.Index}}: fixed per kind
	api   string // what the answer is, for the document and messages
}

var (
	evDetails   = evidenceKind{"details.json", 0, "GET /v1/mmc/management/conferences/record/files (recording details, or the recording list's row for it)"}
	evRecordInf = evidenceKind{"recordinfo.json", 1, "POST /v1/mmc/rlm/record/info (record info's files as the run used them: recordType, name, size, SHA-256; no links)"}
	evHistory   = evidenceKind{"history.json", 2, "GET /v1/mmc/management/conferences/history/confDetail (history detail: the meeting and its invited participants)"}
	evAttendees = evidenceKind{"attendees.json", 3, "GET /v1/mmc/management/conferences/history/confAttendeeRecord (who joined, when)"}
	evControls  = evidenceKind{"controls.json", 4, "GET /v1/mmc/management/conferences/history/confCtlRecord (the conference-control log)"}
)

// evidenceDoc is the stored document: the answers as the platform gave
// them, redacted (see redactAnswer), one per page.
type evidenceDoc struct {
	ConfUUID  string         `json:"confUUID"`
	API       string         `json:"api"`
	FetchedAt time.Time      `json:"fetchedAt"`
	Tool      string         `json:"tool,omitempty"`
	Pages     []evidencePage `json:"pages"`
}

type evidencePage struct {
	Offset int             `json:"offset"`
	Answer json.RawMessage `json:"answer"`
}

// evidenceItem is one evidence object of a conference on its way to the
// store: its key (computed before any download), then its bytes or the
// reason it has none.
type evidenceItem struct {
	kind evidenceKind
	key  string
	data []byte
	obj  *archive.Object
	code Code   // why there is no object
	msg  string // and in words

	supersedes string // the key of the object it renews (renewEvidence)
}

func (it *evidenceItem) file() export.File {
	return export.File{FileType: report.FileTypeEvidence, Name: it.kind.name, Index: it.kind.index, Size: -1}
}

// evidenceAPI is where the evidence comes from; nil when the job stores
// none (Options.Evidence off, or an API without the history APIs).
func (j *Job) evidenceAPI() EvidenceAPI {
	if !j.Options.Evidence {
		return nil
	}
	if j.Evidence != nil {
		return j.Evidence
	}
	e, _ := j.API.(EvidenceAPI)
	return e
}

// planEvidence gives every evidence object of the conference its key
// (the record info list only when the files came from record info). An
// object whose key the template cannot make, or that would share a key
// with a recording or an earlier evidence object (archive.KeyCollision),
// is not stored: its item says why, and no recording is touched.
func (j *Job) planEvidence(rec export.Recording, states []*fileState) []*evidenceItem {
	keys := make([]string, 0, len(states)+5)
	names := make([]string, 0, len(states)+5)
	for _, st := range states {
		keys, names = append(keys, st.key), append(names, st.file.ID())
	}
	var items []*evidenceItem
	for _, k := range []evidenceKind{evDetails, evRecordInf, evHistory, evAttendees, evControls} {
		if k == evRecordInf && !fromRecordInfo(states) {
			continue
		}
		it := &evidenceItem{kind: k}
		items = append(items, it)
		key, err := j.Keys.Key(keyFields(rec, it.file()))
		if err != nil {
			it.code, it.msg = CodeEvidenceFailed, fmt.Sprintf("key for %s: %v", it.file().ID(), err)
			continue
		}
		if i, _, ok := archive.KeyCollision(append(keys, key)); ok {
			it.code, it.msg = CodeKeyCollision, fmt.Sprintf("%s would share one object key with %s (%q and %q); it is not stored",
				it.file().ID(), names[i], key, keys[i])
			continue
		}
		it.key = key
		keys, names = append(keys, key), append(names, it.file().ID())
	}
	return items
}

// fetchEvidence asks the platform for the conference's evidence (after
// its recordings are stored, before its sidecar) and stores each answer;
// an answer refused or failed leaves its item without an object and with
// a code. Only a cancelled ctx stops it early.
func (j *Job) fetchEvidence(ctx context.Context, log *slog.Logger, rec export.Recording, states []*fileState) []*evidenceItem {
	items := j.planEvidence(rec, states)
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		j.storeEvidence(ctx, log, rec, it, states, time.Now().UTC())
	}
	return items
}

// storeEvidence fetches one evidence object and stores it; an item
// already given a code (its key collides) is only logged. On failure the
// item gets its code and message.
func (j *Job) storeEvidence(ctx context.Context, log *slog.Logger, rec export.Recording, it *evidenceItem, states []*fileState, now time.Time) {
	if it.code != "" {
		log.Warn("evidence not stored", "evidence", it.kind.name, "code", string(it.code), "err", it.msg)
		return
	}
	api := j.evidenceAPI()
	var (
		pages []evidencePage
		err   error
	)
	switch it.kind {
	case evDetails:
		pages, err = onePage(rec.Redacted())
	case evRecordInf:
		pages, err = onePage(recordInfoFiles(states))
	case evHistory:
		if err = j.evidenceGone(it.kind); err == nil {
			var d export.HistoryDetail
			d, err = api.HistoryDetail(ctx, rec.ConfUUID)
			pages = answerPages(d.Listing)
		}
	case evAttendees:
		if err = j.evidenceGone(it.kind); err == nil {
			var r export.Records[export.AttendeeRecord]
			r, err = api.AttendeeRecords(ctx, rec.ConfUUID)
			pages = answerPages(r.Listing)
		}
	case evControls:
		if err = j.evidenceGone(it.kind); err == nil {
			var r export.Records[export.ControlRecord]
			r, err = api.ControlRecords(ctx, rec.ConfUUID)
			pages = answerPages(r.Listing)
		}
	}
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		it.data, err = evidenceBytes(rec.ConfUUID, evidenceDoc{ConfUUID: rec.ConfUUID, API: it.kind.api, FetchedAt: now, Tool: j.Options.Tool, Pages: pages})
	}
	if err == nil {
		err = j.putEvidence(ctx, rec, it)
	}
	if err != nil {
		it.code, it.msg = evidenceGap(it.kind, err)
		if errors.Is(err, export.ErrNotDeployed) {
			j.noteGone(it.kind, err)
		}
		log.Warn("evidence not stored", "evidence", it.kind.name, "code", string(it.code), "err", err)
		return
	}
	log.Debug("evidence stored", "evidence", it.kind.name, "key", it.obj.Key, "bytes", it.obj.Bytes)
}

// putEvidence stores an item's bytes at its key, checked against their
// own size and SHA-256.
func (j *Job) putEvidence(ctx context.Context, rec export.Recording, it *evidenceItem) error {
	sum := sha256.Sum256(it.data)
	n := int64(len(it.data))
	obj, err := j.Store.Put(ctx, it.key, bytes.NewReader(it.data), archive.Expect{
		Size: n, PlatformSize: n, PlatformSHA256: hex.EncodeToString(sum[:]),
		Metadata:    map[string]string{"confuuid": rec.ConfUUID, "confid": rec.ConfID, "filetype": report.FileTypeEvidence},
		ContentType: "application/json",
	})
	if err != nil {
		return fmt.Errorf("store evidence %s: %w", it.kind.name, err)
	}
	it.obj = &obj
	j.custody().Object(objectEvent(rec.ConfUUID, export.File{}, obj, false)) // an object line in the custody ledger
	return nil
}

// evidenceGone is the error of an earlier answer that said this
// deployment lacks the API (404 APIG.0101): once one said so, no
// conference asks again (those already asking when it came still do).
func (j *Job) evidenceGone(k evidenceKind) error {
	if v, ok := j.gone.Load(k.name); ok {
		return v.(error)
	}
	return nil
}

func (j *Job) noteGone(k evidenceKind, err error) { j.gone.LoadOrStore(k.name, err) }

// evidenceGap is the code and message of an evidence object that could
// not be stored.
func evidenceGap(k evidenceKind, err error) (Code, string) {
	what := strings.TrimSuffix(k.name, ".json")
	switch {
	case errors.Is(err, export.ErrNotPermitted):
		return CodeEvidenceNotPermitted, what + ": the platform refused the answer to this account (not an administrator): " + err.Error()
	case errors.Is(err, export.ErrNotDeployed):
		return CodeEvidenceNotDeployed, what + ": this deployment of the platform has no such API: " + err.Error()
	case errors.Is(err, export.ErrNotFound):
		return CodeEvidenceNotKept, what + ": the meeting history does not know this meeting (it keeps meetings six months by default, twelve at most): " + err.Error()
	}
	return CodeEvidenceFailed, what + ": " + err.Error() + " (code " + string(codeOf(err)) + ")"
}

// fromRecordInfo reports whether the files came from record info (they
// carry the platform's SHA-256).
func fromRecordInfo(states []*fileState) bool {
	for _, st := range states {
		if st.file.SHA256 == "" {
			return false
		}
	}
	return len(states) > 0
}

// recordInfoFile is one file of the record info answer as the run used
// it: no link, no token.
type recordInfoFile struct {
	RecordType string `json:"recordType"`
	Name       string `json:"name"`
	Index      int    `json:"index"`
	FileSize   int64  `json:"fileSize"`
	SHA256     string `json:"sha256"`
}

func recordInfoFiles(states []*fileState) []recordInfoFile {
	out := make([]recordInfoFile, 0, len(states))
	for _, st := range states {
		f := st.file
		out = append(out, recordInfoFile{RecordType: f.FileType, Name: f.Name, Index: f.Index, FileSize: f.Size, SHA256: f.SHA256})
	}
	return out
}

func onePage(v any) ([]evidencePage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode evidence: %w", err)
	}
	return []evidencePage{{Answer: b}}, nil
}

// answerPages are the answers of a paged evidence API as received.
func answerPages(l export.Listing) []evidencePage {
	out := make([]evidencePage, 0, len(l.Pages))
	for _, p := range l.Pages {
		out = append(out, evidencePage{Offset: p.Offset, Answer: p.Body})
	}
	return out
}

// evidenceBytes is the stored form of a document: indented JSON, every
// answer redacted.
func evidenceBytes(confUUID string, doc evidenceDoc) ([]byte, error) {
	for i := range doc.Pages {
		a, err := redactAnswer(doc.Pages[i].Answer, confUUID)
		if err != nil {
			return nil, fmt.Errorf("redact evidence page %d: %w", i, err)
		}
		doc.Pages[i].Answer = a
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // as the platform wrote it: no \u0026 for &
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode evidence: %w", err)
	}
	return b.Bytes(), nil
}

// redactAnswer removes credentials from an answer, whatever its fields:
// personal data (names, numbers, addresses of the people who were there)
// is the evidence and stays; what admits someone does not. A field named
// like a password, a token, a secret or a join link loses its value
// (redact.Marker), as does one ending in "pin"; any other link keeps
// scheme, host and path only
// (redact.PageURL); every other text passes through redact.String.
// Numbers are kept as written; a link's path segment equal to confUUID
// is kept.
func redactAnswer(raw json.RawMessage, confUUID string) (json.RawMessage, error) {
	if len(raw) == 0 {
		return json.RawMessage("null"), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(redactValue("", v, confUUID)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func redactValue(key string, v any, confUUID string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = redactValue(k, e, confUUID)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactValue(key, e, confUUID)
		}
		return x
	case string:
		switch credentialField(key) {
		case fieldSecret:
			if x == "" {
				return x
			}
			return redact.Marker
		case fieldLink:
			if x == "" {
				return x
			}
			return redact.String(redact.PageURL(x, confUUID))
		}
		return redact.String(x)
	}
	return v
}

const (
	fieldPlain = iota
	fieldSecret
	fieldLink
)

// credentialField classifies a field by its name.
func credentialField(key string) int {
	k := strings.ToLower(key)
	has := func(w ...string) bool {
		for _, s := range w {
			if strings.Contains(k, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("password", "passwd", "pwd", "passcode", "token", "ticket", "secret", "credential", "signature", "authorization",
		"cookie", "appkey", "apikey", "accesskey", "privatekey", "sessionkey"),
		strings.HasSuffix(k, "pin"), // hostPin, vmrPin: a number that admits
		has("join", "invite", "guest", "chair", "audience") && has("uri", "url", "link"):
		return fieldSecret
	case has("uri", "url", "link"):
		return fieldLink
	}
	return fieldPlain
}

// evidenceRows are the rows of a committed conference's evidence, after
// its recordings' (base's fields, file indexes from first).
func evidenceRows(base report.Row, items []*evidenceItem, first int) []report.Row {
	rows := make([]report.Row, 0, len(items))
	now := time.Now().UTC()
	for i, it := range items {
		r := base
		r.FileIndex = first + i
		r.FileType, r.FileName = report.FileTypeEvidence, it.kind.name
		r.FinishedAt = now
		if o := it.obj; o != nil {
			r.Status = report.Archived
			r.Attempts = 1
			r.ObjectURI, r.ObjectKey, r.Bytes, r.SHA256 = o.URI, o.Key, o.Bytes, o.SHA256
			r.VersionID, r.LockMode, r.RetainUntil, r.LegalHold = o.VersionID, o.LockMode, o.RetainUntil, o.LegalHold
		} else {
			r.Status = report.Unavailable
			setCode(&r, it.code, it.msg)
		}
		rows = append(rows, r)
	}
	return rows
}

// storedEvidenceRows are the rows of the evidence objects stored for a
// conference that was not committed (set says how it ended): they are in
// the destination, so the manifest names them.
func storedEvidenceRows(base report.Row, items []*evidenceItem, first int, set func(*report.Row)) []report.Row {
	var rows []report.Row
	for _, r := range evidenceRows(base, items, first) {
		if r.ObjectURI != "" {
			set(&r)
			rows = append(rows, r)
		}
	}
	return rows
}

// addEvidence lists the stored evidence objects in a sidecar, after the
// recordings, and the missing ones in its EvidenceGaps.
func addEvidence(sc *archive.Sidecar, items []*evidenceItem) {
	for _, it := range items {
		switch {
		case it.obj != nil:
			sc.Files = append(sc.Files, archive.SidecarFileFrom(report.FileTypeEvidence, it.kind.name, *it.obj))
			delete(sc.EvidenceGaps, it.kind.name)
		case it.code != "":
			if sc.EvidenceGaps == nil {
				sc.EvidenceGaps = map[string]string{}
			}
			sc.EvidenceGaps[it.kind.name] = string(it.code)
		}
	}
}

// kindNamed is the evidence object of that file name.
func kindNamed(name string) (evidenceKind, bool) {
	for _, k := range []evidenceKind{evDetails, evRecordInf, evHistory, evAttendees, evControls} {
		if k.name == name {
			return k, true
		}
	}
	return evidenceKind{}, false
}

// archivedEvidence is what an already archived conference's evidence
// rows add to its rows: each gap its commit recorded, again (so that a
// rerun's report shows it too), and, for those that failed for a reason a
// rerun may not meet again (evidence-failed), a new try: what is stored
// now joins the sidecar, rewritten (not in a dry run, nor with the
// evidence off). rows are the conference's already-archived rows.
func (j *Job) archivedEvidence(ctx context.Context, log *slog.Logger, base report.Row, sc archive.Sidecar, rows []report.Row) []report.Row {
	if len(sc.EvidenceGaps) == 0 {
		return rows
	}
	var rec export.Recording
	_ = json.Unmarshal(sc.Details, &rec) // best effort: the sidecar is ours
	rec.ConfUUID = sc.ConfUUID
	retry := j.evidenceAPI() != nil && !j.Options.DryRun
	keys := make([]string, 0, len(sc.Files))
	for _, f := range sc.Files {
		keys = append(keys, f.Key)
	}
	var items, tried []*evidenceItem
	now := time.Now().UTC()
	for _, name := range slices.Sorted(maps.Keys(sc.EvidenceGaps)) {
		k, ok := kindNamed(name)
		if !ok {
			continue
		}
		it := &evidenceItem{kind: k, code: Code(sc.EvidenceGaps[name])}
		it.msg = name + ": not stored when the conference was archived (" + string(it.code) + ")"
		items = append(items, it)
		if !retry || it.code != CodeEvidenceFailed || k == evRecordInf {
			continue
		}
		key, err := j.Keys.Key(keyFields(rec, it.file()))
		if err != nil {
			continue
		}
		if _, _, clash := archive.KeyCollision(append(keys, key)); clash {
			continue
		}
		it.key, it.code, it.msg = key, "", ""
		j.storeEvidence(ctx, log, rec, it, nil, now)
		tried = append(tried, it)
		if ctx.Err() != nil {
			return rows
		}
	}
	if stored := slices.ContainsFunc(tried, func(it *evidenceItem) bool { return it.obj != nil }); stored {
		addEvidence(&sc, tried) // ArchivedAt stays the conference's: evidence does not re-date it
		if err := j.putSidecar(ctx, sc); err != nil {
			log.Warn("evidence stored, but the commit mark listing it could not be rewritten", "err", err)
			for _, it := range tried {
				if it.obj != nil {
					it.obj, it.code = nil, CodeEvidenceFailed
					it.msg = it.kind.name + ": stored, but the commit mark could not be rewritten to list it: " + err.Error()
				}
			}
		} else {
			log.Info("evidence a rerun fetched again is now archived", "objects", len(tried))
		}
	}
	if len(rows) > 0 {
		base = rows[0]
		base.FileType, base.FileName, base.ObjectURI, base.ObjectKey, base.Bytes, base.SHA256 = "", "", "", "", 0, ""
		base.VersionID, base.LockMode, base.RetainUntil, base.LegalHold = "", "", time.Time{}, false
	}
	return append(rows, evidenceRows(base, items, len(rows))...)
}
