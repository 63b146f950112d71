package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
)

// fileState tracks one file of a conference across download attempts.
type fileState struct {
	file     export.File
	key      string
	obj      *archive.Object // stored (this run or, resumed, an earlier one)
	attempts int
	err      error // last error
	final    bool  // err is permanent
	// linkRetried, integrityRetried: a refused download link, or bytes that
	// failed the integrity check, were already retried once.
	linkRetried, integrityRetried bool
	// troubled is when the file's download first broke or failed: the
	// elapsed budget of its retries and resumes, over all of its attempts,
	// runs from then (healthy transfer time before it never counts).
	troubled time.Time
	// kept: a re-checked conference's file its commit mark lists already
	// (obj is that object: not downloaded again). supersedes: the key of
	// the earlier object of a file the platform now serves other bytes
	// for (see updated.go).
	kept       bool
	supersedes string
}

// collision is two files of one conference that map to one object key.
type collision struct {
	key           string
	first, second *fileState
}

// download is one conference's files on their way to the store.
type download struct {
	job       *Job
	log       *slog.Logger
	rec       export.Recording
	states    []*fileState // in the platform's order
	byID      map[string]*fileState
	collision *collision
	prior     *priorFiles // a re-checked conference's committed files (updated.go); nil otherwise
}

// run stores every file of the conference, in the order the platform lists
// them. Download tokens are single-use and live an hour, so every attempt
// starts with fresh links, and links are refreshed before the next file once
// they are LinkMaxAge old. Whole-file retries follow Options.Retry (its
// attempts and its elapsed budget). It returns the error of the last Links
// call, if it failed (Links retries inside the client already).
func (d *download) run(ctx context.Context) error {
	opts := d.job.Options
	linkMaxAge := opts.LinkMaxAge
	if linkMaxAge <= 0 {
		linkMaxAge = DefaultLinkMaxAge
	}
	for attempt := 1; ; {
		links, err := d.links(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("download links failed", "err", err, "attempt", attempt)
			}
			return err
		}
		fetched := time.Now()
		if err := d.plan(links); err != nil || d.collision != nil {
			return err
		}
		var (
			retry, stale, backoff bool
			started               int
			wait                  time.Duration
		)
		for _, f := range links {
			st := d.byID[f.ID()]
			st.file = f
			if st.obj != nil || st.final {
				continue
			}
			if started > 0 && time.Since(fetched) > linkMaxAge {
				stale = true // fresh links before the next file rather than an expired token
				break
			}
			started++
			if d.reuse(ctx, st) {
				continue
			}
			st.attempts++
			obj, err := d.fetch(ctx, st)
			if err == nil {
				st.obj, st.err = &obj, nil
				d.job.custody().Object(objectEvent(d.rec.ConfUUID, f, obj, false))
				d.log.Info("stored", "file", f.String(), "bytes", obj.Bytes, "key", obj.Key)
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			st.err = err
			st.trouble()
			began := st.troubled
			switch delay, ok := opts.Retry.Next(attempt, time.Since(began), err); {
			case errors.Is(err, export.ErrLinkExpired) && !st.linkRetried:
				// An expired or refused download token: fresh links, once,
				// with no back-off.
				st.linkRetried, retry = true, true
				d.log.Warn("download link refused; retrying with fresh links", "file", f.String(), "err", err)
			case errors.Is(err, errRestart) && d.budgetLeft(attempt, began):
				// The host cannot resume: the whole file again, at once.
				retry, backoff = true, true
				d.log.Warn("media host ignores range requests; downloading the file again", "file", f.String())
			case errors.Is(err, archive.ErrIntegrity) && !st.integrityRetried && d.budgetLeft(attempt, began):
				// Bytes damaged in transit: nothing was committed; one more
				// download decides whether the damage is at the source.
				st.integrityRetried, retry, backoff = true, true, true
				wait = max(wait, opts.Retry.Delay(attempt, err))
				d.log.Warn("integrity check failed; downloading once more", "file", f.String(), "err", err)
			case ok:
				retry, backoff, wait = true, true, max(wait, delay)
				d.log.Warn("download failed; retrying with fresh links", "file", f.String(), "err", err, "attempt", attempt, "in", delay.Round(time.Millisecond).String())
			default:
				st.final = true
				d.log.Error("file failed", "file", f.String(), "err", err, "attempts", st.attempts)
			}
		}
		switch {
		case stale && !retry:
			continue // the same attempt, with fresh links
		case !retry:
			return nil
		}
		if backoff { // a link refusal alone costs no attempt and no wait
			if err := export.Sleep(ctx, wait); err != nil {
				return nil
			}
			attempt++
		}
	}
}

// trouble notes the file's first break or failure.
func (st *fileState) trouble() {
	if st.troubled.IsZero() {
		st.troubled = time.Now()
	}
}

// budgetLeft reports whether another whole-file attempt fits the retry
// policy's attempts and elapsed budget.
func (d *download) budgetLeft(attempt int, began time.Time) bool {
	r := d.job.Options.Retry
	return (r.MaxAttempts <= 0 || attempt < r.MaxAttempts) && (r.MaxElapsed <= 0 || time.Since(began) < r.MaxElapsed)
}

// plan gives every file of the list its state and its key, the first time
// the file is seen. Two files whose keys the store would treat as one
// (archive.KeyCollision: equal, equal but for case, or one a folder of the
// other) are a collision: the conference fails before anything of it is
// written.
func (d *download) plan(links []export.File) error {
	added := false
	for _, f := range links {
		if d.byID[f.ID()] != nil {
			continue
		}
		key, err := d.job.Keys.Key(keyFields(d.rec, f))
		if err != nil {
			return fmt.Errorf("key for %s: %w", f, err)
		}
		st := &fileState{file: f, key: key}
		d.prior.place(st)
		d.byID[f.ID()] = st
		d.states = append(d.states, st)
		added = true
	}
	if !added || d.collision != nil {
		return nil
	}
	keys := make([]string, len(d.states))
	for i, st := range d.states {
		keys[i] = st.key
	}
	if i, j, ok := archive.KeyCollision(keys); ok {
		d.collision = &collision{key: keys[j], first: d.states[i], second: d.states[j]}
	}
	return nil
}

// reuse reports whether the file's object is already stored whole by an
// earlier, interrupted run of this conference, so that it need not be
// downloaded again: same key, stored by this conference, same size, and
// its bytes, read back and hashed now, equal to the platform's SHA-256
// and to the one recorded when the object was stored, where either is
// known. The object is proved from its bytes, never from what was written
// beside them; the row then carries the hash of the bytes read. (An S3
// object sent in several parts without a platform hash records none: its
// bytes' hash is then the only evidence there is, as it would be for a
// fresh download of the same link.)
func (d *download) reuse(ctx context.Context, st *fileState) bool {
	if d.job.Options.Force {
		return false
	}
	obj, err := d.job.Store.Stat(ctx, st.key)
	if err != nil || (st.file.Size >= 0 && obj.Bytes != st.file.Size) {
		return false
	}
	if owner := obj.Metadata["confuuid"]; !strings.EqualFold(owner, d.rec.ConfUUID) {
		return false // not ours, or not known to be: Put decides, loudly
	}
	sum, n, err := archive.HashObject(ctx, d.job.Store, st.key)
	switch {
	case err != nil:
		return false
	case n != obj.Bytes || (st.file.SHA256 != "" && !strings.EqualFold(sum, st.file.SHA256)) ||
		(obj.SHA256 != "" && !strings.EqualFold(sum, obj.SHA256)):
		d.log.Warn("a stored object's bytes no longer match its SHA-256; downloading it again", "file", st.file.String(), "key", obj.Key)
		return false
	}
	obj.SHA256 = sum
	st.obj, st.err = &obj, nil
	d.job.custody().Object(objectEvent(d.rec.ConfUUID, st.file, obj, true))
	d.log.Info("already stored by an earlier run, bytes re-hashed; not downloaded again", "file", st.file.String(), "key", obj.Key)
	return true
}

// fetch downloads one file and streams it into the store.
func (d *download) fetch(ctx context.Context, st *fileState) (archive.Object, error) {
	f := st.file
	if t := d.job.transfers; t != nil {
		select {
		case t <- struct{}{}:
		case <-ctx.Done():
			return archive.Object{}, ctx.Err()
		}
		defer func() { <-t }()
	}
	m, err := d.openMedia(ctx, f, 0)
	if err != nil {
		return archive.Object{}, err
	}
	body, err := d.newResumingReader(ctx, st, m)
	if err != nil {
		return archive.Object{}, err
	}
	defer body.Close()
	want := archive.Expect{
		Size:           m.Total,
		PlatformSize:   f.Size,
		PlatformSHA256: f.SHA256,
		Metadata:       map[string]string{"confuuid": d.rec.ConfUUID, "confid": d.rec.ConfID, "filetype": f.FileType},
		ContentType:    contentType(f.Name),
	}
	return d.job.Store.Put(ctx, st.key, body, want)
}

func keyFields(rec export.Recording, f export.File) archive.KeyFields {
	// Year, Month and Day come from StartTime inside archive.
	return archive.KeyFields{
		ConfUUID: rec.ConfUUID, ConfID: rec.ConfID, Subject: rec.Subject, ScheduserName: rec.ScheduserName,
		StartTime: rec.StartTime, FileType: f.FileType, FileName: f.Name, Index: f.Index,
	}
}

// contentType is the object's Content-Type, from the file name's extension.
func contentType(name string) string {
	switch strings.ToLower(path.Ext(strings.TrimSpace(name))) {
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
