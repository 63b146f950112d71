package pipeline

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// TestS3LedgerUnderObjectLock: on an Object Lock bucket, the ledger is
// stored under the media's lock (mode and retain-until as the server reads
// them back), verifies, and names every committed object with the version
// id and lock the server holds for it.
func TestS3LedgerUnderObjectLock(t *testing.T) {
	t.Parallel()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
	ctx := context.Background()
	store, err := archive.Open(ctx, b.URI("locked"), archive.Options{LockMode: "GOVERNANCE", RetainDays: 1,
		ClientOptions: []func(*s3.Options){b.Env.ClientOption()}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ds := meetingtest.GenerateFiles(2, 2, 32<<10, 73)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 73, RecordInfo: true})
	j, led := ledgerJob(t, sim, store, Options{Concurrency: 2})
	if err := led.Start(report.LedgerRunStart{RunID: "run-s3", Tool: "meetarchive"}); err != nil {
		t.Fatal(err)
	}
	got := &rowsOf{}
	items := []Item{{Seq: 1, ConfUUID: ds.Conferences[0].ConfUUID}, {Seq: 2, ConfUUID: ds.Conferences[1].ConfUUID}}
	if res := j.Run(ctx, ctx, SliceSource(items).Items(), got); res.Fatal != nil || len(got.rows) != 4 {
		t.Fatalf("rows %+v, result %+v", got.rows, res)
	}
	info, err := led.End(ctx, report.LedgerRunEnd{ExitCode: report.ExitOK}, store, nil)
	if err != nil {
		t.Fatal(err)
	}

	lobj, err := store.Stat(ctx, LedgerKey("run-s3"))
	if err != nil {
		t.Fatal(err)
	}
	if lobj.VersionID == "" || lobj.LockMode != "GOVERNANCE" || lobj.RetainUntil.IsZero() {
		t.Errorf("ledger object: version %q lock %q until %v; want a version under GOVERNANCE", lobj.VersionID, lobj.LockMode, lobj.RetainUntil)
	}
	rc, err := store.Open(ctx, LedgerKey("run-s3"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	check, err := report.VerifyLedger(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("VerifyLedger: %v", err)
	}
	if check.Head != info.Head || !check.Ended || info.URI != b.URI("locked/"+LedgerKey("run-s3")) {
		t.Errorf("check head %s ended %t, info %+v", check.Head, check.Ended, info)
	}
	if len(check.Objects) != 4 {
		t.Fatalf("%d object lines, want 4", len(check.Objects))
	}
	for _, o := range check.Objects {
		st, err := store.Stat(ctx, o.Key)
		switch {
		case err != nil:
			t.Errorf("%s: %v", o.Key, err)
		case o.VersionID == "" || o.VersionID != st.VersionID || o.Bytes != st.Bytes:
			t.Errorf("%s: ledger says version %q, %d bytes; the server holds %q, %d", o.Key, o.VersionID, o.Bytes, st.VersionID, st.Bytes)
		case o.LockMode != "GOVERNANCE" || !o.RetainUntil.Equal(st.RetainUntil):
			t.Errorf("%s: ledger says lock %q until %v; the server says %q until %v", o.Key, o.LockMode, o.RetainUntil, st.LockMode, st.RetainUntil)
		}
	}
}
