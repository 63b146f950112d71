package pipeline

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/redact"
	"meetarchive/report"
)

// LedgerFile is the custody ledger's file in the report directory,
// written as the run goes (a killed run leaves what it did); when the run
// ends it is stored at LedgerKey, and signed at LedgerSignatureKey, in the
// destination (ledgerkeys.go).
const LedgerFile = report.LedgerFile

// maxEarlyCalls bounds the API calls kept before the run-start line
// (authentication, a date range's list pages); past it they are counted.
const maxEarlyCalls = 10000

// RunLedger is a run's custody ledger (report.Ledger's hash-chained
// lines) in the report directory: Start writes the run-start line, the
// Custody methods and Observe add a line per fact, End writes run-end and
// stores the ledger (and its signature) in the destination. API calls
// heard before Start are kept and written right after run-start. It is
// safe for concurrent use. A line that cannot be written makes every
// later one fail too; End reports it.
type RunLedger struct {
	runID string
	path  string
	f     *os.File
	l     *report.Ledger

	mu      sync.Mutex
	started bool
	early   []report.LedgerAPICall
	dropped int   // early calls past maxEarlyCalls
	err     error // the first line not written
	ended   bool
	objects int   // object lines
	bytes   int64 // their bytes
}

// NewRunLedger is a run's ledger, to be written to dir/LedgerFile from
// Start on; nothing is created before (a run that ends before its report
// starts keeps no ledger).
func NewRunLedger(dir string) *RunLedger {
	return &RunLedger{path: filepath.Join(dir, LedgerFile)}
}

// create creates the file; a ledger already there (an earlier run's in
// the same --out) is kept as ledger-<its run id>.jsonl.
func (r *RunLedger) create() error {
	if _, err := os.Lstat(r.path); err == nil {
		if err := os.Rename(r.path, filepath.Join(filepath.Dir(r.path), "ledger-"+earlierRunID(r.path)+".jsonl")); err != nil {
			return fmt.Errorf("ledger: keep the earlier %s: %w", r.path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ledger: %w", err)
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	r.f = f
	r.l = report.NewLedger(f) // unbuffered: a killed run's ledger holds every line written before the kill
	return nil
}

// earlierRunID is the run id of the ledger at path, from its run-start
// line, as a file name part; else the file's modification time.
func earlierRunID(path string) string {
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		line, _ := bufio.NewReader(io.LimitReader(f, 1<<20)).ReadBytes('\n')
		var l struct {
			Data struct {
				RunID string `json:"runId"`
			} `json:"data"`
		}
		if json.Unmarshal(line, &l) == nil && l.Data.RunID != "" && archive.SanitizeKey(l.Data.RunID) == l.Data.RunID && !strings.ContainsAny(l.Data.RunID, "/\\") {
			if _, err := os.Lstat(filepath.Join(filepath.Dir(path), "ledger-"+l.Data.RunID+".jsonl")); errors.Is(err, fs.ErrNotExist) {
				return l.Data.RunID
			}
		}
	}
	if fi, err := os.Lstat(path); err == nil {
		return fi.ModTime().UTC().Format("20060102T150405.000000000Z")
	}
	return "earlier"
}

// Path is the ledger's file in the report directory.
func (r *RunLedger) Path() string { return r.path }

// Start creates the file and writes the run-start line (s.RunID is the
// run's id from then on), then the API calls heard before it.
func (r *RunLedger) Start(s report.LedgerRunStart) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.started:
		return errors.New("ledger: started twice")
	case s.RunID == "":
		return errors.New("ledger: run-start without a run id")
	}
	if err := r.create(); err != nil {
		return err
	}
	r.started, r.runID = true, s.RunID
	r.append(report.EventRunStart, s)
	for _, c := range r.early {
		r.append(report.EventAPICall, c)
	}
	if r.dropped > 0 {
		r.append(report.EventAPICall, report.LedgerAPICall{API: "(more)", Error: fmt.Sprintf("%d more calls before the run started were not recorded", r.dropped)})
	}
	r.early = nil
	return r.err
}

// append writes one line; the caller holds r.mu.
func (r *RunLedger) append(typ string, data any) {
	if r.ended {
		return
	}
	if err := r.l.Append(typ, data); err != nil && r.err == nil {
		r.err = err
	}
}

// add writes one line once the run has started.
func (r *RunLedger) add(typ string, data any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.append(typ, data)
}

// Observe records one API exchange: export.Config.Observer.
func (r *RunLedger) Observe(c export.Call) {
	ev := report.LedgerAPICall{API: c.API, ConfUUID: c.ConfUUID, Try: c.Try, Status: c.Status, RequestID: c.RequestID, Error: c.Error}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		if len(r.early) < maxEarlyCalls {
			r.early = append(r.early, ev)
		} else {
			r.dropped++
		}
		return
	}
	r.append(report.EventAPICall, ev)
}

// Link, Object, Commit and Delete: Custody. Object also counts the
// objects and bytes run-end states.
func (r *RunLedger) Link(l report.LedgerLink) { r.add(report.EventLink, l) }
func (r *RunLedger) Object(o report.LedgerObject) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.objects++
	r.bytes += o.Bytes
	r.append(report.EventObject, o)
}
func (r *RunLedger) Commit(c report.LedgerCommit) { r.add(report.EventCommit, c) }
func (r *RunLedger) Delete(d report.LedgerDelete) { r.add(report.EventDelete, d) }

var _ Custody = (*RunLedger)(nil)

// End writes the run-end line and closes the file (a ledger never
// started: nothing, nil). With a store (nil for
// a dry run: it writes nothing to the destination) it then stores the
// ledger at LedgerKey, under the store's lock like the recordings, and,
// with key, its signature at LedgerSignatureKey, and returns where they
// are for the summary (nil without a store; without the URIs when storing
// failed, with the error).
func (r *RunLedger) End(ctx context.Context, e report.LedgerRunEnd, store Store, key ed25519.PrivateKey) (*report.LedgerInfo, error) {
	r.mu.Lock()
	if !r.started || r.ended {
		r.mu.Unlock()
		return nil, nil // never started (nothing written), or ended already
	}
	e.RunID, e.Objects, e.Bytes = r.runID, r.objects, r.bytes
	r.append(report.EventRunEnd, e)
	r.ended = true
	werr := r.err
	r.mu.Unlock()
	if err := r.f.Sync(); err != nil && werr == nil {
		werr = fmt.Errorf("ledger: %w", err)
	}
	if err := r.f.Close(); err != nil && werr == nil {
		werr = fmt.Errorf("ledger: %w", err)
	}
	if werr != nil {
		err := fmt.Errorf("ledger %s: %w", r.path, werr)
		return &report.LedgerInfo{Head: r.l.Head(), Lines: r.l.Lines(), Error: redact.String(err.Error())}, err
	}
	if store == nil {
		return nil, nil
	}
	ctx = context.WithoutCancel(ctx) // a signal ended the run: its ledger is stored all the same
	info := &report.LedgerInfo{Head: r.l.Head(), Lines: r.l.Lines()}
	var sig report.LedgerSignature
	if key != nil {
		sig = report.SignLedger(key, r.runID, info.Head, info.Lines)
		info.KeySHA256 = sig.KeySHA256 // asked for: the summary says so, stored or not
	}
	failed := func(err error) (*report.LedgerInfo, error) {
		info.Error = redact.String(err.Error())
		return info, err
	}
	f, err := os.Open(r.path)
	if err != nil {
		return failed(fmt.Errorf("ledger: %w", err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return failed(fmt.Errorf("ledger: %w", err))
	}
	obj, err := store.Put(ctx, LedgerKey(r.runID), f, archive.Expect{
		Size: fi.Size(), PlatformSize: archive.Unknown, ContentType: "application/x-ndjson", Reserved: true,
	})
	if err != nil {
		return failed(fmt.Errorf("ledger: store: %w", err))
	}
	info.URI = obj.URI
	if key == nil {
		return info, nil
	}
	data, err := json.MarshalIndent(sig, "", "  ")
	if err != nil {
		return failed(fmt.Errorf("ledger: signature: %w", err))
	}
	sk := LedgerSignatureKey(r.runID)
	if _, err := store.PutMeta(ctx, sk, append(data, '\n'), archive.Meta{Record: true}); err != nil {
		return failed(fmt.Errorf("ledger: signature not stored: %w", err))
	}
	info.SignatureURI = store.URI(sk)
	return info, nil
}

// custody is the run's Custody (nil without a ledger).
func (c RunConfig) custody() Custody {
	if c.Ledger == nil {
		return nil
	}
	return c.Ledger
}

// startLedger writes the run-start line once the report has started.
func (r *run) startLedger(info report.RunInfo) error {
	if r.cfg.Ledger == nil {
		return nil
	}
	host, _ := os.Hostname()
	var signKey string
	if r.cfg.SignKey != nil {
		signKey = report.KeyFingerprint(r.cfg.SignKey.Public().(ed25519.PublicKey))
	}
	return r.cfg.Ledger.Start(report.LedgerRunStart{
		RunID: info.RunID, Tool: "meetarchive", Version: info.Version, Commit: r.cfg.Commit, Operator: info.Operator, Host: host,
		Dest: ledgerDest(info.Dest), SignKeySHA256: signKey, Input: info.Input, InputSHA256: info.InputSHA256, DateRange: info.DateRange, Shard: info.Shard, Options: info.Options,
	})
}

// ledgerDest is the destination as run-start records it: a directory's
// absolute path (the ledger may be read far from where the run was
// started), a URI as it was given.
func ledgerDest(dest string) string {
	if dest == "" || archive.IsS3URI(dest) {
		return dest
	}
	if a, err := filepath.Abs(dest); err == nil {
		return a
	}
	return dest
}

// endLedger writes the run-end line with the exit code the process will
// return (what finishReport makes of the same outcome: the report's code,
// or fatal when the journal was not written), stores the ledger in the
// destination (not for a dry run) with its signature, and gives the
// report its head. A ledger that cannot be stored is logged; the summary
// then shows its head without a destination URI.
func (r *run) endLedger(w *report.Writer, res Result) {
	if r.cfg.Ledger == nil {
		return
	}
	counts := w.Counts()
	code := w.FinalExitCode(report.ExitCode(counts, res.Interrupted, res.Fatal != nil))
	if res.WriteErr != nil {
		code = report.ExitFatal
	}
	end := report.LedgerRunEnd{ExitCode: code, ExitStatus: report.ExitCodeName(code), Interrupted: res.Interrupted, Counts: counts}
	if res.Fatal != nil {
		end.Fatal = redact.String(res.Fatal.Error())
	}
	store := r.store
	if r.cfg.Job.DryRun {
		store = nil // a dry run writes nothing to the destination
	}
	info, err := r.cfg.Ledger.End(context.Background(), end, store, r.cfg.SignKey)
	if err != nil {
		r.log.Error("custody ledger not stored in the destination; its copy in --out stands", "err", err, "ledger", r.cfg.Ledger.Path())
	}
	w.SetLedger(info)
}
