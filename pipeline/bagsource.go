package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/report"
)

// BagStores finds the store of each manifest row's object: --dest, or the
// destination root each objectURI was archived under (the URI less its
// objectKey), each opened once. Resolve is a BagResolver.
type BagStores struct {
	opts       archive.Options
	dest       archive.Store
	destPrefix string
	byRoot     map[string]archive.Store
}

func (b *BagStores) Resolve(ctx context.Context, r report.Row) (BagOpener, string, error) {
	if b.dest != nil {
		if r.ObjectKey != "" {
			return b.dest, r.ObjectKey, nil
		}
		key, ok := strings.CutPrefix(r.ObjectURI, b.destPrefix)
		if !ok {
			return nil, "", Usagef("bag: object %s is not under --dest %s and its manifest row has no objectKey", r.ObjectURI, strings.TrimSuffix(b.destPrefix, "/"))
		}
		return b.dest, key, nil
	}
	if r.ObjectKey == "" {
		return nil, "", Usagef("bag: %s: the manifest has no objectKey for it, so its destination is unknown: give --dest", r.ObjectURI)
	}
	root, ok := strings.CutSuffix(r.ObjectURI, r.ObjectKey)
	if !ok || !(strings.HasSuffix(root, "/") || strings.HasSuffix(root, string(filepath.Separator))) ||
		!(archive.IsS3URI(root) || filepath.IsAbs(root)) {
		return nil, "", Usagef("bag: objectURI %s does not end with its objectKey %s: give --dest", r.ObjectURI, r.ObjectKey)
	}
	st, err := b.at(ctx, root)
	if err != nil {
		return nil, "", err
	}
	return st, r.ObjectKey, nil
}

// at is the store of the destination root, opened once.
func (b *BagStores) at(ctx context.Context, root string) (archive.Store, error) {
	st := b.byRoot[root]
	if st == nil {
		var err error
		if st, err = archive.Open(ctx, root, b.opts); err != nil {
			return nil, Usagef("bag: %s: %v", root, err)
		}
		b.byRoot[root] = st
	}
	return st, nil
}

// Close closes every store opened.
func (b *BagStores) Close() {
	if b.dest != nil {
		_ = b.dest.Close()
	}
	for _, st := range b.byRoot {
		_ = st.Close()
	}
}

// NewBagStores opens stores with opts; with dest (not "") every object is
// read from that destination.
func NewBagStores(ctx context.Context, opts archive.Options, dest string) (*BagStores, error) {
	b := &BagStores{opts: opts, byRoot: map[string]archive.Store{}}
	if dest == "" {
		return b, nil
	}
	st, err := archive.Open(ctx, dest, opts)
	if err != nil {
		return nil, Usagef("bag: --dest %s: %v", dest, err)
	}
	b.dest, b.destPrefix = st, st.RootURI()
	return b, nil
}

// NewBagInfo is what bag-info.txt says of the origin of a bag: the
// organization and the software agent given, the run ids and the custody
// ledger heads of the runs (BagRuns).
func NewBagInfo(organization, agent string, ids []string, runs []BagRun) BagInfo {
	info := BagInfo{
		SourceOrganization:  organization,
		BaggingDate:         time.Now(),
		SoftwareAgent:       agent,
		ExternalIdentifiers: ids,
		Description: "Meeting recordings archived by meetarchive, under data/ at their keys in the archive; " +
			"each conference's commit record at data/" + archive.SidecarDir + "/<confUUID>.json; " +
			"their manifest rows in data/" + BagManifestRows,
	}
	for _, r := range runs {
		if !slices.Contains(info.LedgerHeads, r.Ledger.Head) {
			info.LedgerHeads = append(info.LedgerHeads, r.Ledger.Head)
		}
	}
	if len(runs) > 0 {
		info.Description += "; each Ledger-Head's custody ledger at data/" + LedgerKey("<run id>") +
			" (its signature at data/" + LedgerSignatureKey("<run id>") + " when the run signed it)"
	}
	return info
}

// BagRuns reads the summary.json beside the manifest at path: the run ids
// of the bag (bag-info.txt's External-Identifier: the run's, or a merged
// report's shards'), and the runs of them whose summary states a custody
// ledger head (the run's, or each merged shard's from its own
// summary.json), each once. A summary that cannot be read is logged: the
// bag then names no run and carries no ledger.
func BagRuns(manifest string, log *slog.Logger) (ids []string, runs []BagRun) {
	sumPath := filepath.Join(filepath.Dir(manifest), report.SummaryJSON)
	sum, err := report.ReadSummary(sumPath)
	if err != nil {
		log.Warn("bag: no run id for External-Identifier: the manifest has no readable summary.json beside it", "err", err)
		return nil, nil
	}
	for _, id := range strings.Split(sum.RunID, "+") { // merged reports join their shards' ids with "+"
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add := func(runID string, l *report.LedgerInfo, from string) {
		if l == nil || l.Head == "" || slices.ContainsFunc(runs, func(r BagRun) bool { return r.RunID == runID }) {
			return
		}
		runs = append(runs, BagRun{RunID: runID, Ledger: *l, Summary: from})
	}
	add(sum.RunID, sum.Ledger, sumPath)
	for _, d := range sum.MergedFrom {
		p := filepath.Join(d, report.SummaryJSON)
		if !filepath.IsAbs(d) { // merged before shards were recorded absolute: beside the merged report
			if _, err := os.Stat(p); err != nil {
				p = filepath.Join(filepath.Dir(filepath.Dir(sumPath)), d, report.SummaryJSON)
			}
		}
		s, err := report.ReadSummary(p)
		if err != nil {
			log.Warn("bag: a merged shard's summary.json is not readable: its ledger is checked against the head the merged report states", "shard", d, "err", err)
			continue
		}
		add(s.RunID, s.Ledger, p)
	}
	// The shards' ledgers as the merged report states them (for a shard
	// whose own summary could not be read).
	for _, sl := range sum.ShardLedgers {
		add(sl.RunID, &sl.LedgerInfo, sumPath)
	}
	return ids, runs
}

// ReadUUIDs reads a list of conference UUIDs as run reads --input: a
// conference UUID a line (a header, blank lines and other columns
// allowed). An invalid line is an error naming it (the first five); a
// repeated one is harmless; none at all is an error.
func ReadUUIDs(r io.Reader) (map[string]bool, error) {
	in := NewInputReader(r)
	set := map[string]bool{}
	var bad []string
	for {
		it, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch it.Problem {
		case report.InvalidInput:
			bad = append(bad, it.Detail)
		case report.DuplicateInput:
		default:
			set[it.ConfUUID] = true
		}
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
		}
		return nil, errors.New(strings.Join(bad, "; "))
	}
	if len(set) == 0 {
		return nil, errors.New("no conference UUID in it")
	}
	return set, nil
}
