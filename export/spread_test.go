package export_test

import (
	"sync"
	"testing"
	"time"

	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

// LinksSpread against the simulator: downloadurls for the conferences whose
// record info call would wait on a spent quota, record info for the others,
// and each conference keeps the API it had, so that fresh links name the
// same files; without record info, downloadurls for all. (When it chooses
// which is TestSpillSource's.)
func TestLinksSpread(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 40, FilesPerConference: 2, FileSize: 1 << 10, Seed: 31})
	ids := ds.UUIDs()
	tests := []struct {
		name        string
		cfg         meetingtest.Config
		wantSpilled func(n int) bool
	}{
		// Record info on a bucket of 5 calls a second (burst 5),
		// downloadurls on fixed windows of 300 a minute: 8 workers want
		// more than record info's quota.
		{"record info's quota spent: the rest spill to downloadurls", meetingtest.Config{RecordInfo: true, QuotaPerAPI: 300,
			QuotaModels: map[string]string{meetingtest.EndpointRecordInfo: meetingtest.QuotaBucket}},
			func(n int) bool { return n > 0 && n < len(ids) }},
		{"record info not enabled: downloadurls for all", meetingtest.Config{}, func(n int) bool { return n == len(ids) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Dataset, cfg.Seed = ds, 31
			sim := meetingtest.Start(t, cfg)
			c := export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Rate = export.RateAuto; c.Links = export.LinksSpread })
			ctx := testCtx(t, 5*time.Minute) // a safety net
			if err := c.Authenticate(ctx); err != nil {
				t.Fatal(err)
			}
			first := make([][]export.File, len(ids))
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := w; i < len(ids); i += 8 {
						files, err := c.Links(ctx, ids[i])
						if err != nil {
							t.Errorf("Links(%s): %v", ids[i], err)
							return
						}
						first[i] = files
					}
				})
			}
			wg.Wait()
			spilled := 0
			for i, files := range first {
				if len(files) != 2 {
					t.Fatalf("conference %d: %d files, want 2", i, len(files))
				}
				if files[0].SHA256 == "" {
					spilled++
				}
			}
			ctr := sim.Counters()
			t.Logf("%d of %d conferences spilled to downloadurls; record info calls %d, downloadurls %d, 429s %d",
				spilled, len(ids), ctr.RecordInfo, ctr.DownloadURLs, ctr.Throttled)
			if !tt.wantSpilled(spilled) {
				t.Errorf("%d of %d conferences took their links from downloadurls", spilled, len(ids))
			}
			// Fresh links of a few conferences of each kind: the same files.
			for _, i := range []int{0, 1, len(ids) - 2, len(ids) - 1} {
				again, err := c.Links(ctx, ids[i])
				if err != nil {
					t.Fatalf("Links again: %v", err)
				}
				for k := range again {
					if again[k].ID() != first[i][k].ID() || (again[k].SHA256 == "") != (first[i][k].SHA256 == "") {
						t.Errorf("conference %d: fresh links name %s (sha256 %q), first %s (%q): another API", i,
							again[k].ID(), again[k].SHA256, first[i][k].ID(), first[i][k].SHA256)
					}
				}
			}
		})
	}
}
