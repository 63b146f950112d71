package export_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

// resumeDownload fetches one file with OpenMediaAt the way a resuming caller
// does: after a break it continues from the byte it reached; when the link
// is spent (ErrLinkExpired) it asks for fresh links; when the host answers
// 200 to a range it starts over. It returns the bytes read and how many
// times it resumed, started over and refreshed links.
func resumeDownload(ctx context.Context, t *testing.T, c *export.Client, confUUID string, index int, h hash.Hash) (n int64, resumes, restarts, refreshes int) {
	t.Helper()
	fresh := func() export.File {
		files, err := c.Links(ctx, confUUID)
		if err != nil {
			t.Fatalf("Links: %v", err)
		}
		for _, f := range files {
			if f.Index == index {
				return f
			}
		}
		t.Fatalf("Links: no file number %d", index)
		return export.File{}
	}
	f := fresh()
	total := int64(-1)
	for tries := 0; ; tries++ {
		if tries > 20 {
			t.Fatalf("no end after %d tries", tries)
		}
		if total >= 0 {
			f.Size = total // a resumed range must be of the same file
		}
		m, err := c.OpenMediaAt(ctx, f, n)
		if errors.Is(err, export.ErrLinkExpired) {
			refreshes++
			f = fresh()
			continue
		}
		if err != nil {
			t.Fatalf("OpenMediaAt(%d): %v", n, err)
		}
		if m.Offset != n {
			if m.Offset != 0 {
				t.Fatalf("OpenMediaAt(%d): body starts at %d", n, m.Offset)
			}
			restarts++
			h.Reset()
			n = 0
		} else if n > 0 {
			resumes++
		}
		total = m.Total
		got, err := io.Copy(h, m.Body)
		m.Body.Close()
		n += got
		if err == nil {
			return n, resumes, restarts, refreshes
		}
		if !errors.Is(err, export.ErrTruncated) {
			t.Fatalf("read at byte %d: %v", n, err)
		}
	}
}

// TestResumeBrokenStream: a 200 MiB stream broken at random points three
// times is resumed with Range requests and fresh links; the bytes are right
// and the host served the file's size plus less than a small chunk a break.
func TestResumeBrokenStream(t *testing.T) {
	if testing.Short() {
		t.Skip("short: streams 200 MiB")
	}
	const (
		size   = 200 << 20
		breaks = 3
		// A close delivers every byte sent: a resume asks again for at
		// most one write of the simulator's. A reset also loses what the
		// kernels held for the client (loopback buffers are megabytes).
		closeSlack = 256 << 10
		resetSlack = 8 << 20
	)
	seed := rand.Int64()
	t.Logf("seed %d", seed)
	conf := "00000000000000000000000000000004"
	ds := meetingtest.Dataset{Conferences: []meetingtest.Conference{{ConfUUID: conf, StartTime: "2024-01-01 00:00",
		IsDecodeFinish: true, Available: true, Files: []meetingtest.File{{FileType: "Hd", Name: "0_0.mp4", Size: size}}}}}
	tests := []struct {
		name         string
		ignoreRange  bool
		tls          bool   // HTTPS (HTTP/2) with record info links (token in the query, size known)
		kind         string // of the fault; "" = truncate (the host closes the connection)
		size         int64
		wantRestarts int
	}{
		{name: "ranges honoured", size: size},
		{name: "ranges ignored: start over", ignoreRange: true, size: 8 << 20, wantRestarts: breaks},
		{name: "https and record info links", tls: true, size: 16 << 20},
		{name: "connection resets", kind: meetingtest.FaultReset, size: 64 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds.Conferences[0].Files[0].Size = tt.size
			kind := tt.kind
			if kind == "" {
				kind = meetingtest.FaultTruncate
			}
			cfg := meetingtest.Config{Dataset: ds, Seed: seed, IgnoreRange: tt.ignoreRange, RecordInfo: tt.tls,
				Faults: []meetingtest.Fault{{Endpoint: meetingtest.EndpointMedia, Kind: kind, RandomOffset: true, Times: breaks}}}
			var (
				sim *meetingtest.Server
				mod func(*export.Config)
			)
			if tt.tls {
				sim = meetingtest.NewTLSServer(cfg)
				ca := filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sim.Certificate().Raw}), 0o600); err != nil {
					t.Fatal(err)
				}
				mod = func(c *export.Config) { c.CABundle = ca; c.Links = export.LinksRecordInfo }
			} else {
				sim = meetingtest.NewServer(cfg)
			}
			defer sim.Close()
			c := export.NewTestClient(t, sim.URL, appCreds(), mod)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			h := sha256.New()
			start := time.Now()
			n, resumes, restarts, refreshes := resumeDownload(ctx, t, c, conf, 0, h)
			served := sim.MediaBytesServed()
			t.Logf("%d MiB in %v: %d resumes, %d restarts, %d link refreshes, %d bytes served (%d over the size)",
				tt.size>>20, time.Since(start).Round(time.Millisecond), resumes, restarts, refreshes, served, served-tt.size)
			if n != tt.size {
				t.Errorf("read %d bytes, want %d", n, tt.size)
			}
			if got, want := hex.EncodeToString(h.Sum(nil)), sim.FileSHA256(conf, "Hd", "0_0.mp4"); got != want {
				t.Errorf("sha256 %s, want %s", got, want)
			}
			if hits := sim.Counters().FaultHits["media/"+kind]; hits != breaks {
				t.Errorf("breaks = %d, want %d", hits, breaks)
			}
			if restarts != tt.wantRestarts || resumes != breaks-tt.wantRestarts {
				t.Errorf("resumes, restarts = %d, %d; want %d, %d", resumes, restarts, breaks-tt.wantRestarts, tt.wantRestarts)
			}
			if refreshes != breaks {
				t.Errorf("link refreshes = %d, want %d (a used token is refused)", refreshes, breaks)
			}
			slack := int64(closeSlack)
			if kind == meetingtest.FaultReset {
				slack = resetSlack
			}
			if !tt.ignoreRange && (served < tt.size || served >= tt.size+breaks*slack) {
				t.Errorf("served %d bytes, want within [%d, %d)", served, tt.size, tt.size+breaks*slack)
			}
		})
	}
}
