package pipeline

import (
	"context"
	"fmt"
	"io"
	"strings"

	"meetarchive/archive"
	"meetarchive/report"
)

// VerifySet is what verify checks: the objects of a manifest (or of a
// sha256sums.txt), grouped by store (one store for --dest, else one per
// root of the objects' URIs), and with --dest the sidecar of every
// archived conference of the manifest.
type VerifySet struct {
	opts   archive.Options
	dest   *verifyGroup
	prefix string // the --dest store's RootURI (URIs under it are its keys)
	groups []*verifyGroup
	byRoot map[string]*verifyGroup
	total  int

	// With --dest and --manifest: the files the manifest says each archived
	// conference has, checked against its sidecar (confs in manifest order).
	confs     []string
	confFiles map[string][]archive.VerifyItem
}

// verifyGroup is the objects of one store.
type verifyGroup struct {
	st    archive.Store
	items []archive.VerifyItem
	uris  []string
	confs []string // each item's confUUID ("" from --sums)
}

// NewVerifySet is an empty set that opens stores with opts; with dest
// (not "") every object must be in that destination.
func NewVerifySet(ctx context.Context, opts archive.Options, dest string) (*VerifySet, error) {
	v := &VerifySet{opts: opts, byRoot: map[string]*verifyGroup{}}
	if dest == "" {
		return v, nil
	}
	st, err := archive.Open(ctx, dest, opts)
	if err != nil {
		return nil, Usagef("verify: --dest %s: %v", dest, err)
	}
	v.dest = &verifyGroup{st: st}
	v.prefix = st.RootURI()
	v.groups = append(v.groups, v.dest)
	return v, nil
}

// Close closes every store the set opened.
func (v *VerifySet) Close() {
	for _, g := range v.groups {
		_ = g.st.Close()
	}
}

// Total is how many objects the set holds.
func (v *VerifySet) Total() int { return v.total }

func (v *VerifySet) add(g *verifyGroup, it archive.VerifyItem, uri, conf string) {
	g.items = append(g.items, it)
	g.uris = append(g.uris, uri)
	g.confs = append(g.confs, conf)
	v.total++
}

// AddManifest adds every archived and already-archived object of a
// manifest and, with --dest, every such conference's sidecar. An object
// outside --dest, or whose store cannot be opened, is a *UsageError; any
// other error is the manifest's.
func (v *VerifySet) AddManifest(ctx context.Context, path string) error {
	return report.ReadManifestStrict(path, func(r report.Row) error {
		if !r.Status.Stored() {
			return nil
		}
		v.addConf(r.ConfUUID)
		if r.ObjectURI == "" {
			return nil
		}
		it := archive.VerifyItem{SHA256: r.SHA256, Bytes: r.Bytes}
		g, key, uri, err := v.groupOfRow(ctx, r)
		if err != nil {
			return err
		}
		it.Key = key
		v.add(g, it, uri, r.ConfUUID)
		if g == v.dest {
			v.confFiles[r.ConfUUID] = append(v.confFiles[r.ConfUUID], it)
		}
		return nil
	})
}

// addConf notes an archived conference whose sidecar --dest must hold.
func (v *VerifySet) addConf(confUUID string) {
	if v.dest == nil {
		return
	}
	if v.confFiles == nil {
		v.confFiles = map[string][]archive.VerifyItem{}
	}
	if _, seen := v.confFiles[confUUID]; !seen {
		v.confs = append(v.confs, confUUID)
		v.confFiles[confUUID] = nil
	}
}

// AddSums adds every line of a sha256sums.txt, relative to --dest (which
// the set must have).
func (v *VerifySet) AddSums(r io.Reader) error {
	return report.ScanSHA256Sums(r, func(s report.FileSum) error {
		v.add(v.dest, archive.VerifyItem{Key: s.Path, SHA256: s.SHA256, Bytes: -1}, v.dest.st.URI(s.Path), "")
		return nil
	})
}

// groupOfRow finds the store of a manifest row's object, its key there and
// the URI that names it: with --dest, the row's objectKey there (a replica
// or a moved archive is checked as the original; a row without objectKey
// by its objectURI under --dest), else the store its objectURI names.
func (v *VerifySet) groupOfRow(ctx context.Context, r report.Row) (*verifyGroup, string, string, error) {
	if v.dest != nil && r.ObjectKey != "" {
		return v.dest, r.ObjectKey, v.dest.st.URI(r.ObjectKey), nil
	}
	g, key, err := v.groupOf(ctx, r.ObjectURI)
	return g, key, r.ObjectURI, err
}

// groupOf finds the store of an object URI and its key there.
func (v *VerifySet) groupOf(ctx context.Context, uri string) (*verifyGroup, string, error) {
	if v.dest != nil {
		if !strings.HasPrefix(uri, v.prefix) {
			return nil, "", Usagef("verify: object %s is not under --dest %s", uri, strings.TrimSuffix(v.prefix, "/"))
		}
		return v.dest, strings.TrimPrefix(uri, v.prefix), nil
	}
	root, key, err := archive.SplitURI(uri)
	if err != nil {
		return nil, "", Usagef("verify: %s: %v", uri, err)
	}
	g := v.byRoot[root]
	if g == nil {
		st, err := archive.OpenURIRoot(ctx, root, v.opts)
		if err != nil {
			return nil, "", Usagef("verify: %s: %v", uri, err)
		}
		g = &verifyGroup{st: st}
		v.groups = append(v.groups, g)
		v.byRoot[root] = g
	}
	return g, key, nil
}

// VerifyHooks are how a verify shows itself; every field may be nil.
type VerifyHooks struct {
	Progress    Progress            // counts the objects read back
	ObjectsDone func()              // the objects are checked; the sidecars come next
	Bad         func(VerifyFinding) // a check that did not pass, as it is found
	Keep        bool                // keep every check in VerifyOutcome.Findings (for --report)
}

// VerifyOutcome is what a verify found.
type VerifyOutcome struct {
	Objects      map[string]int  // objects by status (archive.VerifyOK...)
	Sidecars     map[string]int  // sidecars by status, nil when none were checked
	SidecarTotal int             // sidecars checked
	Bad          int             // checks that did not pass
	Findings     []VerifyFinding // every check, in order, with Keep
}

// Verify streams every object back (archive.Verify, per store), then
// checks the sidecar of every archived conference of the manifest in
// --dest (archive.VerifySidecar). A cancelled ctx stops it where it is.
func (v *VerifySet) Verify(ctx context.Context, h VerifyHooks) VerifyOutcome {
	prog := h.Progress
	if prog == nil {
		prog = NoProgress{}
	}
	out := VerifyOutcome{Objects: map[string]int{}}
	note := func(f VerifyFinding) {
		if h.Keep {
			out.Findings = append(out.Findings, f)
		}
		if f.Status != archive.VerifyOK {
			out.Bad++
			if h.Bad != nil {
				h.Bad(f)
			}
		}
	}
	for _, g := range v.groups {
		for _, it := range g.items {
			prog.Estimate(it.Bytes) // one per object: the display averages over them
		}
	}
	for _, g := range v.groups {
		last := 0
		results := archive.Verify(ctx, g.st, g.items, func(done, _ int) { // never called concurrently
			for ; last < done; last++ {
				prog.ConferenceDone()
			}
		})
		for i, res := range results {
			prog.AddBytes(max(res.GotBytes, 0))
			out.Objects[res.Status]++
			note(finding("object", g.uris[i], g.confs[i], res))
		}
	}
	if h.ObjectsDone != nil {
		h.ObjectsDone()
	}
	if v.dest == nil || v.confs == nil {
		return out
	}
	out.Sidecars, out.SidecarTotal = map[string]int{}, len(v.confs)
	for _, conf := range v.confs {
		if ctx.Err() != nil {
			break
		}
		res := archive.VerifySidecar(ctx, v.dest.st, conf, v.confFiles[conf])
		out.Sidecars[res.Status]++
		note(finding("sidecar", v.dest.st.URI(res.Key), conf, res))
	}
	return out
}

// finding is one check of verify.
func finding(check, uri, conf string, res archive.VerifyResult) VerifyFinding {
	return VerifyFinding{
		Check: check, Status: res.Status, URI: uri, ConfUUID: conf,
		WantBytes: res.Bytes, GotBytes: res.GotBytes, WantSHA256: res.SHA256, GotSHA256: res.GotSHA256, Err: errText(res.Err),
	}
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// WriteCounts writes the outcome's count lines (verify's): the objects
// (total of them) by status, then the sidecars when any were checked.
func (o VerifyOutcome) WriteCounts(w io.Writer, total int) {
	c := o.Objects
	fmt.Fprintf(w, "verified %d objects: %d ok, %d missing, %d mismatched, %d errors\n",
		total, c["ok"], c["missing"], c["mismatch"], c["error"])
	if c := o.Sidecars; c != nil {
		fmt.Fprintf(w, "checked %d sidecars: %d ok, %d missing, %d mismatched, %d errors\n",
			o.SidecarTotal, c["ok"], c["missing"], c["mismatch"], c["error"])
	}
}
