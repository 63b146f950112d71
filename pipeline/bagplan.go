package pipeline

// What goes in a bag: the conferences of a manifest a selection chooses,
// their archived objects, the objects beside them (sidecars) and their rows.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/report"
)

// BagManifestRows is where a bag holds the manifest rows of its
// conferences, under data/. The reserved sidecar folder holds no object
// key (archive.SidecarDir), so no recording can take its place.
const BagManifestRows = archive.SidecarDir + "/" + report.ManifestCSV

// BagSelection chooses the conferences of a manifest that go in a bag: a
// conference is chosen when one of its rows has a confUUID in UUIDs (nil:
// any) and a startTime (the platform's wall clock, as the manifest gives
// it) within [From, To] (a zero bound: open; To is inclusive as given).
type BagSelection struct {
	UUIDs    map[string]bool // in the platform's form (export.NormalizeConfUUID)
	From, To time.Time
}

// dated reports whether the selection has a date bound.
func (s BagSelection) dated() bool { return !s.From.IsZero() || !s.To.IsZero() }

func (s BagSelection) match(conf string, start string) bool {
	if s.UUIDs != nil && !s.UUIDs[conf] {
		return false
	}
	if !s.dated() {
		return true
	}
	t, ok := parseStartTime(start)
	return ok && (s.From.IsZero() || !t.Before(s.From)) && (s.To.IsZero() || !t.After(s.To))
}

// parseStartTime reads a manifest's startTime ("2019-12-19 02:07", the
// platform's wall clock) as UTC.
func parseStartTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// BagResolver finds a manifest row's object: the store of the destination
// root it was archived under and its key there (which is also its path
// under the bag's data/). An error stops the planning.
type BagResolver func(ctx context.Context, r report.Row) (store BagOpener, key string, err error)

// BagPlan is a bag chosen from a manifest, and what keeps it from being made.
type BagPlan struct {
	Bag
	// Conferences are the chosen conferences, in manifest order.
	Conferences []string
	// Bagged is how many of them have objects in the bag.
	Bagged int
	// NotArchived are chosen conferences with no archived object: the bag
	// holds their rows only.
	NotArchived []string
	// Problems each name a conference or an object the bag cannot hold as
	// the manifest describes it; the bag must not be made while there is one.
	Problems []string
}

// bagConf is one chosen conference while the plan is made.
type bagConf struct {
	uuid  string
	store BagOpener // of its first archived row
	files map[string]report.Row
}

// PlanBag reads the manifest at path and plans the bag of the conferences
// sel chooses: each archived or already-archived row's object at its key
// under data/, checked against the row's sha256 and bytes when copied;
// beside them what bagExtras lists for each conference (its sidecar); and
// the manifest rows of every chosen conference at BagManifestRows, cell for
// cell. With sel.UUIDs, a listed conference the manifest does not have, or
// a chosen one it has nothing archived for, is a problem (it was asked for
// and cannot be given; one the date bounds leave out is not); without, a
// chosen conference with nothing archived is only NotArchived.
// A row that cannot be bagged (no valid sha256, a path a bag cannot hold,
// two rows for one key with different content) is a problem too. The
// caller fills b.Info.
func PlanBag(ctx context.Context, path string, sel BagSelection, resolve BagResolver) (*BagPlan, error) {
	pl := &bagPlanner{sel: sel, resolve: resolve, p: &BagPlan{}, chosen: map[string]*bagConf{},
		objIndex: map[string]int{}, inManifest: map[string]bool{}}
	if err := report.ReadManifest(path, func(r report.Row) error { return pl.row(ctx, r) }); err != nil {
		return nil, err
	}
	pl.absent()
	pl.conferences()
	pl.collisions()
	chosen := pl.chosen
	pl.p.Files = []BagFile{{Path: BagManifestRows, Fill: func(w io.Writer) error {
		return report.FilterManifest(path, w, func(r report.Row) bool { return chosen[confKey(r.ConfUUID)] != nil })
	}}}
	return pl.p, nil
}

// bagPlanner is PlanBag's state while it reads the manifest.
type bagPlanner struct {
	sel        BagSelection
	resolve    BagResolver
	p          *BagPlan
	chosen     map[string]*bagConf
	order      []string        // the chosen conferences, in manifest order
	objIndex   map[string]int  // key -> index in p.Objects
	inManifest map[string]bool // the conferences of sel.UUIDs the manifest has
}

// row takes one manifest row: its conference, if sel chooses it, and its
// object, if it has one archived.
func (pl *bagPlanner) row(ctx context.Context, r report.Row) error {
	conf := confKey(r.ConfUUID)
	if pl.sel.UUIDs[conf] {
		pl.inManifest[conf] = true
	}
	if !pl.sel.match(conf, r.StartTime) {
		return nil
	}
	c := pl.chosen[conf]
	if c == nil {
		c = &bagConf{uuid: conf, files: map[string]report.Row{}}
		pl.chosen[conf] = c
		pl.order = append(pl.order, conf)
	}
	if !r.Status.Stored() {
		return nil
	}
	return pl.object(ctx, c, r)
}

// object adds an archived row's object to the bag (once per key), or the
// problem that keeps it out.
func (pl *bagPlanner) object(ctx context.Context, c *bagConf, r report.Row) error {
	p := pl.p
	if r.ObjectURI == "" {
		p.Problems = append(p.Problems, fmt.Sprintf("conference %s: row %d (%s) is %s but names no object", c.uuid, r.FileIndex, r.FileName, r.Status))
		return nil
	}
	if !isHexSHA256(r.SHA256) {
		p.Problems = append(p.Problems, fmt.Sprintf("%s: the manifest records no valid sha256 for it (%q)", r.ObjectURI, r.SHA256))
		return nil
	}
	st, key, err := pl.resolve(ctx, r)
	if err != nil {
		return err
	}
	if err := CheckBagPath(key); err != nil {
		p.Problems = append(p.Problems, fmt.Sprintf("%s: %v", r.ObjectURI, err))
		return nil
	}
	if i, dup := pl.objIndex[key]; dup {
		if prev := p.Objects[i]; !strings.EqualFold(prev.SHA256, r.SHA256) || prev.Bytes != r.Bytes {
			p.Problems = append(p.Problems, fmt.Sprintf("%s: two rows for key %s with different content (sha256 %s and %s)", r.ObjectURI, key, prev.SHA256, r.SHA256))
		}
		c.files[key] = r
		return nil // one file in the bag
	}
	if c.store == nil {
		c.store = st
	}
	c.files[key] = r
	pl.objIndex[key] = len(p.Objects)
	// Messages name the object read (a replica's, with --dest), not the
	// manifest's URI.
	p.Objects = append(p.Objects, BagObject{Path: key, Store: st, Key: key, URI: st.URI(key), SHA256: strings.ToLower(r.SHA256), Bytes: r.Bytes})
	return nil
}

// absent adds a problem for each conference of sel.UUIDs the manifest does
// not have, in UUID order.
func (pl *bagPlanner) absent() {
	if pl.sel.UUIDs == nil {
		return
	}
	var absent []string
	for u := range pl.sel.UUIDs {
		if !pl.inManifest[u] {
			absent = append(absent, u)
		}
	}
	slices.Sort(absent)
	for _, u := range absent {
		pl.p.Problems = append(pl.p.Problems, fmt.Sprintf("conference %s: not in the manifest", u))
	}
}

// conferences lists the chosen conferences in the plan, each bagged with
// its extras or not archived.
func (pl *bagPlanner) conferences() {
	p := pl.p
	for _, conf := range pl.order {
		c := pl.chosen[conf]
		p.Conferences = append(p.Conferences, conf)
		if len(c.files) == 0 {
			if pl.sel.UUIDs != nil {
				p.Problems = append(p.Problems, fmt.Sprintf("conference %s: nothing archived in the manifest (see its rows' status)", conf))
			}
			p.NotArchived = append(p.NotArchived, conf)
			continue
		}
		p.Bagged++
		extras, err := bagExtras(c)
		if err != nil {
			p.Problems = append(p.Problems, err.Error())
			continue
		}
		p.Objects = append(p.Objects, extras...)
	}
}

// collisions adds a problem when two of the bag's paths would be one file.
func (pl *bagPlanner) collisions() {
	paths := []string{BagManifestRows}
	for _, o := range pl.p.Objects {
		paths = append(paths, o.Path)
	}
	if i, j, ok := archive.KeyCollision(paths); ok {
		pl.p.Problems = append(pl.p.Problems, fmt.Sprintf("objects %s and %s would be one file in the bag (equal but for case, or one a folder of the other)", paths[i], paths[j]))
	}
}

// confKey is a manifest row's conference in the platform's form (as given
// when it is not a conference UUID: an invalid-input row).
func confKey(s string) string {
	if norm, ok := normalize(s); ok {
		return norm
	}
	return s
}

// bagExtras are the objects a bagged conference carries besides its
// recordings, each at its key under data/. Today: its commit sidecar
// (_meetarchive/<confUUID>.json), which an archived conference has and
// which must agree with the manifest's rows (the archive records no hash of
// it). Objects stored beside the recordings (evidence) join this list.
func bagExtras(c *bagConf) ([]BagObject, error) {
	key, err := archive.SidecarKey(c.uuid)
	if err != nil {
		return nil, fmt.Errorf("conference %s: %w", c.uuid, err)
	}
	uri := key
	if c.store != nil {
		uri = c.store.URI(key)
	}
	return []BagObject{{Path: key, Store: c.store, Key: key, URI: uri, Bytes: -1, Check: c.checkSidecar}}, nil
}

// maxSidecarRead caps a sidecar read back from a bag (they are a few KiB).
const maxSidecarRead = 16 << 20

// checkSidecar: the sidecar names the conference and lists every object
// the manifest has for it, with the same size and SHA-256.
func (c *bagConf) checkSidecar(r io.Reader) error {
	var sc archive.Sidecar
	if err := json.NewDecoder(io.LimitReader(r, maxSidecarRead)).Decode(&sc); err != nil {
		return fmt.Errorf("sidecar: %w", err)
	}
	if confKey(sc.ConfUUID) != c.uuid {
		return fmt.Errorf("sidecar names conference %q, not %s", sc.ConfUUID, c.uuid)
	}
	listed := make(map[string]archive.SidecarFile, len(sc.Files))
	for _, f := range sc.Files {
		listed[f.Key] = f
	}
	keys := make([]string, 0, len(c.files))
	for k := range c.files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		row := c.files[k]
		f, ok := listed[k]
		switch {
		case !ok:
			return fmt.Errorf("sidecar does not list %s, which the manifest says is archived", k)
		case f.Bytes != row.Bytes:
			return fmt.Errorf("sidecar says %s has %d bytes, the manifest %d", k, f.Bytes, row.Bytes)
		case f.SHA256 != "" && !strings.EqualFold(f.SHA256, row.SHA256):
			return fmt.Errorf("sidecar says %s has sha256 %s, the manifest %s", k, f.SHA256, row.SHA256)
		}
	}
	return nil
}
