package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

// stateFixture is a store and a way to change its state behind a hold's back.
type stateFixture struct {
	store archive.Store
	// overwrite writes the state's bytes directly (another writer).
	overwrite func(t *testing.T, key string, data []byte)
}

func stateFixtures(t *testing.T) map[string]func(t *testing.T) stateFixture {
	return map[string]func(t *testing.T) stateFixture{
		"dir": func(t *testing.T) stateFixture {
			st, err := archive.NewDirStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return stateFixture{store: st, overwrite: func(t *testing.T, key string, data []byte) {
				if err := os.WriteFile(st.URI(key), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}}
		},
		"s3": func(t *testing.T) stateFixture {
			b := archivetest.NewBucket(t, archivetest.BucketOptions{})
			st := s3Store(t, b, "pre/fix", archive.Options{})
			return stateFixture{store: st, overwrite: s3Overwrite(b, st)}
		},
		"s3 object lock": func(t *testing.T) stateFixture {
			// Versions kept, default retention on every write.
			b := archivetest.NewBucket(t, archivetest.BucketOptions{ObjectLock: true})
			if _, err := b.Client.PutObjectLockConfiguration(context.Background(), &s3.PutObjectLockConfigurationInput{
				Bucket: aws.String(b.Name),
				ObjectLockConfiguration: &types.ObjectLockConfiguration{
					ObjectLockEnabled: types.ObjectLockEnabledEnabled,
					Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{
						Mode: types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1),
					}},
				},
			}); err != nil {
				t.Fatalf("default retention: %v", err)
			}
			st := s3Store(t, b, "", archive.Options{})
			return stateFixture{store: st, overwrite: s3Overwrite(b, st)}
		},
	}
}

func s3Overwrite(b archivetest.Bucket, st *archive.S3Store) func(t *testing.T, key string, data []byte) {
	return func(t *testing.T, key string, data []byte) {
		if _, err := b.Client.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(b.Name), Key: aws.String(st.ObjectKey(key)), Body: bytes.NewReader(data),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStateHold(t *testing.T) {
	ctx := context.Background()
	for name, open := range stateFixtures(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("get put release and hold again", func(t *testing.T) {
				f := open(t)
				h, err := archive.HoldState(ctx, f.store, "since-last", archive.HoldOptions{Holder: "run A"})
				if err != nil {
					t.Fatalf("HoldState: %v", err)
				}
				got, err := h.Get(ctx)
				if err != nil || got != nil {
					t.Fatalf("Get on a new destination: got %q, %v; want nil, nil", got, err)
				}
				for _, want := range []string{`{"n":1}`, `{"n":2}`} {
					if err := h.Put(ctx, []byte(want)); err != nil {
						t.Fatalf("Put %s: %v", want, err)
					}
				}
				if err := h.Release(); err != nil {
					t.Fatalf("Release: %v", err)
				}
				if err := h.Release(); err != nil {
					t.Fatalf("second Release: %v", err)
				}
				got, err = archive.ReadState(ctx, f.store, "since-last")
				if err != nil || string(got) != `{"n":2}` {
					t.Fatalf("ReadState: got %q, %v; want {\"n\":2}", got, err)
				}
				h2, err := archive.HoldState(ctx, f.store, "since-last", archive.HoldOptions{Holder: "run B"})
				if err != nil {
					t.Fatalf("HoldState after release: %v", err)
				}
				defer h2.Release()
				if got, err := h2.Get(ctx); err != nil || string(got) != `{"n":2}` {
					t.Fatalf("Get: got %q, %v", got, err)
				}
			})
			t.Run("second holder refused, naming the first", func(t *testing.T) {
				f := open(t)
				h, err := archive.HoldState(ctx, f.store, "since-last-0-of-2", archive.HoldOptions{Holder: "run A pid 1"})
				if err != nil {
					t.Fatal(err)
				}
				defer h.Release()
				_, err = archive.HoldState(ctx, f.store, "since-last-0-of-2", archive.HoldOptions{Holder: "run B"})
				var he *archive.StateHeldError
				if !errors.Is(err, archive.ErrStateHeld) || !errors.As(err, &he) {
					t.Fatalf("second HoldState: got %v, want ErrStateHeld", err)
				}
				if he.Holder != "run A pid 1" || !strings.Contains(err.Error(), "run A pid 1") {
					t.Errorf("holder %q (%v), want run A pid 1", he.Holder, err)
				}
				// Another shard's state is another hold.
				other, err := archive.HoldState(ctx, f.store, "since-last-1-of-2", archive.HoldOptions{Holder: "run C"})
				if err != nil {
					t.Fatalf("other shard: %v", err)
				}
				other.Release()
			})
			t.Run("put refused when the state changed since get", func(t *testing.T) {
				f := open(t)
				h, err := archive.HoldState(ctx, f.store, "since-last", archive.HoldOptions{Holder: "A"})
				if err != nil {
					t.Fatal(err)
				}
				defer h.Release()
				if _, err := h.Get(ctx); err != nil {
					t.Fatal(err)
				}
				key, _ := archive.StateKey("since-last")
				f.overwrite(t, key, []byte(`{"other":true}`))
				if err := h.Put(ctx, []byte(`{"mine":true}`)); !errors.Is(err, archive.ErrStateConflict) {
					t.Fatalf("Put after another write: got %v, want ErrStateConflict", err)
				}
				if got, _ := archive.ReadState(ctx, f.store, "since-last"); string(got) != `{"other":true}` {
					t.Errorf("state %q, want the other writer's", got)
				}
			})
			t.Run("put before get refused", func(t *testing.T) {
				f := open(t)
				h, err := archive.HoldState(ctx, f.store, "since-last", archive.HoldOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer h.Release()
				if err := h.Put(ctx, []byte("{}")); err == nil {
					t.Fatal("Put without Get succeeded")
				}
			})
		})
	}
}

func TestStateKey(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"since-last", "_meetarchive/state/since-last.json", true},
		{"since-last-3-of-8", "_meetarchive/state/since-last-3-of-8.json", true},
		{"", "", false},
		{"a/b", "", false},
		{".hidden", "", false},
		{"..", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := archive.StateKey(tc.name)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("StateKey(%q) = %q, %v; want %q (ok %v)", tc.name, got, err, tc.want, tc.ok)
			}
		})
	}
}

// TestStateS3Lease: an expired lease is taken over; a holder whose lease
// was taken over cannot write the state.
func TestStateS3Lease(t *testing.T) {
	ctx := context.Background()
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	st := s3Store(t, b, "", archive.Options{})
	leaseKey := st.ObjectKey(archive.StateDir + "/since-last.lease")
	putLease := func(body string) {
		t.Helper()
		if _, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(leaseKey), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("live lease refuses", func(t *testing.T) {
		putLease(`{"holder":"killed run","since":"2026-01-01T00:00:00Z","expires":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`)
		_, err := archive.HoldState(ctx, st, "since-last", archive.HoldOptions{Holder: "B"})
		var he *archive.StateHeldError
		if !errors.As(err, &he) || he.Holder != "killed run" || he.Until.IsZero() {
			t.Fatalf("got %v, want a StateHeldError naming the killed run with its expiry", err)
		}
	})
	t.Run("expired lease taken over", func(t *testing.T) {
		putLease(`{"holder":"killed run","since":"2026-01-01T00:00:00Z","expires":"2026-01-01T00:10:00Z"}`)
		h, err := archive.HoldState(ctx, st, "since-last", archive.HoldOptions{Holder: "B"})
		if err != nil {
			t.Fatalf("HoldState over an expired lease: %v", err)
		}
		if err := h.Release(); err != nil {
			t.Fatal(err)
		}
		out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(leaseKey)})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		var lease struct {
			Holder  string    `json:"holder"`
			Expires time.Time `json:"expires"`
		}
		if err := json.NewDecoder(out.Body).Decode(&lease); err != nil {
			t.Fatal(err)
		}
		if lease.Holder != "B" || lease.Expires.After(time.Now()) {
			t.Errorf("lease after Release: %+v, want B's, expired", lease)
		}
	})
	// The lease's expiry as the bucket holds it.
	expires := func() time.Time {
		t.Helper()
		out, err := b.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(leaseKey)})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		var lease struct {
			Expires time.Time `json:"expires"`
		}
		if err := json.NewDecoder(out.Body).Decode(&lease); err != nil {
			t.Fatal(err)
		}
		return lease.Expires
	}
	t.Run("renewed while held", func(t *testing.T) {
		h, err := archive.HoldState(ctx, st, "since-last", archive.HoldOptions{Holder: "A", LeaseTTL: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Release()
		// Wait for a renewal seen after the lease's first expiry (a
		// busy machine makes that later, not false): only renewal can
		// have kept it; then the lease is A's for most of a TTL.
		first := expires()
		last := first
		for safety := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(safety) {
				t.Fatalf("no renewal of the lease (first expiry %v) seen after it, in 2 minutes", first)
			}
			if e := expires(); e.After(last) {
				last = e
				if time.Now().After(first) {
					break
				}
			}
		}
		if hb, err := archive.HoldState(ctx, st, "since-last", archive.HoldOptions{Holder: "B"}); !errors.Is(err, archive.ErrStateHeld) {
			if err == nil {
				hb.Release()
			}
			t.Fatalf("after the lease's first expiry, renewed: got %v, want ErrStateHeld", err)
		}
		if h.Lost() != nil {
			t.Errorf("the holder lost a lease it renewed: %v", h.Lost())
		}
	})
	t.Run("lost lease cannot write", func(t *testing.T) {
		h, err := archive.HoldState(ctx, st, "since-last", archive.HoldOptions{Holder: "A", LeaseTTL: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Release()
		if _, err := h.Get(ctx); err != nil {
			t.Fatal(err)
		}
		putLease(`{"holder":"thief","since":"2026-01-01T00:00:00Z","expires":"2999-01-01T00:00:00Z"}`)
		// The next renewal finds it taken (however late a busy machine
		// runs it).
		for safety := time.Now().Add(2 * time.Minute); h.Lost() == nil; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(safety) {
				t.Fatal("the holder did not find its lease taken in 2 minutes")
			}
		}
		if err := h.Put(ctx, []byte("{}")); !errors.Is(err, archive.ErrStateConflict) {
			t.Fatalf("Put after the lease was taken: got %v, want ErrStateConflict", err)
		}
	})
}

// TestStateDirLockFile: the lock sits beside the state in the reserved area.
func TestStateDirLockFile(t *testing.T) {
	root := t.TempDir()
	st, err := archive.NewDirStore(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := archive.HoldState(context.Background(), st, "since-last", archive.HoldOptions{Holder: "A"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	lock := filepath.Join(root, "_meetarchive", "state", "since-last.lock")
	b, err := os.ReadFile(lock)
	if err != nil || !strings.Contains(string(b), `"holder":"A"`) {
		t.Fatalf("lock file %s: %q, %v", lock, b, err)
	}
	if got, want := h.URI(), filepath.Join(root, "_meetarchive", "state", "since-last.json"); got != want {
		t.Errorf("URI %s, want %s", got, want)
	}
}

// TestStateDirLockRefusesALink: a symbolic link planted at the state's
// lock file is refused; the file it points to is not truncated.
func TestStateDirLockRefusesALink(t *testing.T) {
	root := t.TempDir()
	st, err := archive.NewDirStore(root)
	if err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "_meetarchive", "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "since-last.lock")); err != nil {
		t.Fatal(err)
	}
	h, err := archive.HoldState(context.Background(), st, "since-last", archive.HoldOptions{Holder: "A"})
	if err == nil {
		h.Release()
		t.Fatal("a lock file that is a symbolic link was accepted")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Errorf("the link's target now holds %q", b)
	}
}

// anyStore hides a store's type: the commit layer must work from the
// interface and the declared capabilities alone.
type anyStore struct{ archive.Store }

// noCaps is a store that declares no capability.
type noCaps struct{ archive.Store }

func (noCaps) Capabilities() archive.Capabilities { return archive.Capabilities{} }

// TestStateOverAnyStore: the state is held over a store whose type the
// commit layer does not know (a lock where it declares NativeLock), and
// refused, with nothing written, on one that can neither lock nor write
// conditionally.
func TestStateOverAnyStore(t *testing.T) {
	ctx := context.Background()
	t.Run("wrapped directory store", func(t *testing.T) {
		dir, err := archive.NewDirStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		st := anyStore{dir}
		h, err := archive.HoldState(ctx, st, "since-last", archive.HoldOptions{Holder: "A"})
		if err != nil {
			t.Fatalf("HoldState over a wrapped store: %v", err)
		}
		defer h.Release()
		if _, err := archive.HoldState(ctx, st, "since-last", archive.HoldOptions{Holder: "B"}); !errors.Is(err, archive.ErrStateHeld) {
			t.Errorf("second HoldState err = %v, want ErrStateHeld", err)
		}
		if _, err := h.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if err := h.Put(ctx, []byte(`{"n":1}`)); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if got, err := archive.ReadState(ctx, st, "since-last"); err != nil || string(got) != `{"n":1}` {
			t.Errorf("ReadState = %q, %v; want {\"n\":1}", got, err)
		}
	})
	t.Run("no lock, no conditional writes", func(t *testing.T) {
		root := t.TempDir()
		dir, err := archive.NewDirStore(root)
		if err != nil {
			t.Fatal(err)
		}
		st := noCaps{dir}
		if h, err := archive.HoldState(ctx, st, "since-last", archive.HoldOptions{Holder: "A"}); err == nil || !strings.Contains(err.Error(), "keeps no state") {
			if h != nil {
				h.Release()
			}
			t.Errorf("HoldState err = %v, want one saying the store keeps no state", err)
		}
		if _, err := archive.ReadState(ctx, st, "since-last"); err == nil || !strings.Contains(err.Error(), "keeps no state") {
			t.Errorf("ReadState err = %v, want one saying the store keeps no state", err)
		}
		if got := files(t, root); len(got) != 0 {
			t.Errorf("a refused hold wrote %q", got)
		}
	})
}
