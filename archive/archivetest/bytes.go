package archivetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"meetarchive/archive"
)

// The suite's parts for the byte-level methods beyond Put, Stat and Open
// (List, Delete, PutMeta and GetMeta, Lock) and for the capabilities a
// store declares.

// listed runs List(prefix) and returns the keys it gave, sorted, checking
// each Object's URI and, per ModTimes or RoughTimes, its time.
func listed(t *testing.T, st archive.Store, prefix string) map[string]int64 {
	t.Helper()
	caps := st.Capabilities()
	got := map[string]int64{}
	err := st.List(context.Background(), prefix, func(o archive.Object) error {
		if _, dup := got[o.Key]; dup {
			t.Errorf("List(%q) gave %q twice", prefix, o.Key)
		}
		got[o.Key] = o.Bytes
		if o.URI != st.URI(o.Key) {
			t.Errorf("List(%q): %q has URI %q, want %q", prefix, o.Key, o.URI, st.URI(o.Key))
		}
		if times := caps.ModTimes || caps.RoughTimes; times == o.ModTime.IsZero() {
			t.Errorf("List(%q): %q has ModTime %v, with Capabilities.ModTimes %v, RoughTimes %v", prefix, o.Key, o.ModTime, caps.ModTimes, caps.RoughTimes)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}

// testList: List gives every object under a prefix, the reserved area's
// documents and objects written by something else included, and nothing
// else; fn's error stops it; hostile prefixes are refused.
func testList(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	objs := map[string]int64{}
	for i, key := range []string{"list/a/1.mp4", "list/a/2.mp4", "list/b/1.mp4", "list-x/1.mp4", "other/1.mp4"} {
		objs[key] = put(t, st, key, bytes.Repeat([]byte{'l'}, 10+i), confA).Bytes
	}
	f.Write(t, "list/foreign.mp4", []byte("written by another program"))
	objs["list/foreign.mp4"] = int64(len("written by another program"))
	const doc = archive.SidecarDir + "/list.json"
	if _, err := st.PutMeta(ctx, doc, []byte(`{"list":1}`), archive.Meta{}); err != nil {
		t.Fatalf("PutMeta: %v", err)
	}
	objs[doc] = int64(len(`{"list":1}`))
	only := func(keys ...string) map[string]int64 {
		m := map[string]int64{}
		for _, k := range keys {
			m[k] = objs[k]
		}
		return m
	}
	tests := []struct {
		prefix string
		want   map[string]int64
	}{
		{"", objs},
		{"list/", only("list/a/1.mp4", "list/a/2.mp4", "list/b/1.mp4", "list/foreign.mp4")},
		{"list/a", only("list/a/1.mp4", "list/a/2.mp4")},
		{"list", only("list/a/1.mp4", "list/a/2.mp4", "list/b/1.mp4", "list/foreign.mp4", "list-x/1.mp4")},
		{"list/a/2.mp4", only("list/a/2.mp4")},
		{archive.SidecarDir + "/", only(doc)},
		{"nothing/", only()},
	}
	for _, tc := range tests {
		t.Run("prefix "+tc.prefix, func(t *testing.T) {
			if got := listed(t, st, tc.prefix); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("List(%q) = %v, want %v", tc.prefix, got, tc.want)
			}
		})
	}
	stop := errors.New("enough")
	calls := 0
	err := st.List(ctx, "list/", func(archive.Object) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with fn failing: err %v after %d calls, want fn's error after 1", err, calls)
	}
	for _, prefix := range []string{"/", "../", "/etc", "a//", "a/../b", "a\x00", "\xff"} {
		if err := st.List(ctx, prefix, func(archive.Object) error { return nil }); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("List(%q) err = %v, want ErrInvalidKey", prefix, err)
		}
	}
}

// testDelete: Delete removes one object (or document) and nothing else;
// deleting what is not there is no error.
func testDelete(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	put(t, st, "del/keep.mp4", []byte("keep"), confA)
	put(t, st, "del/gone.mp4", []byte("gone"), confA)
	const doc = archive.SidecarDir + "/del.json"
	if _, err := st.PutMeta(ctx, doc, []byte("{}"), archive.Meta{}); err != nil {
		t.Fatalf("PutMeta: %v", err)
	}
	before := list(t, f)
	for _, key := range []string{"del/gone.mp4", doc} {
		if err := st.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%s): %v", key, err)
		}
		if _, err := st.Stat(ctx, key); !errors.Is(err, archive.ErrNotExist) {
			t.Errorf("Stat(%s) after Delete err = %v, want ErrNotExist", key, err)
		}
	}
	after := list(t, f)
	for _, name := range before {
		want := name != f.Area+"del/gone.mp4" && name != f.Area+doc
		if got := slices.Contains(after, name); got != want {
			t.Errorf("after Delete, %q stored: %v, want %v (storage holds %q)", name, got, want, after)
		}
	}
	if got := readKey(t, st, "del/keep.mp4"); string(got) != "keep" {
		t.Errorf("the other object holds %q after Delete, want keep", got)
	}
	for _, key := range []string{"del/gone.mp4", "del/never.mp4", "never/there.mp4"} {
		if err := st.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%s) of nothing: %v, want nil", key, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := st.Delete(cctx, "del/keep.mp4"); err == nil {
		t.Errorf("Delete(cancelled) = nil, want an error")
	}
	if got := readKey(t, st, "del/keep.mp4"); string(got) != "keep" {
		t.Errorf("a cancelled Delete removed the object (it holds %q)", got)
	}
}

// metaKeysRefused are keys PutMeta, GetMeta and Lock refuse: outside the
// reserved area, or not keys at all.
var metaKeysRefused = []string{"a/b.json", "state.json", archive.SidecarDir, "_MEETARCHIVE/x.json", "_meetarchivex/a.json",
	archive.SidecarDir + "/../x.json", archive.SidecarDir + "//x.json", "/" + archive.SidecarDir + "/x.json", archive.SidecarDir + "/a\nb"}

// testMeta: PutMeta and GetMeta round trip with versions, their
// conditions, their limits and keys.
func testMeta(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	const key = archive.SidecarDir + "/suite/doc.json"
	if _, _, err := st.GetMeta(ctx, key, 1<<10); !errors.Is(err, archive.ErrNotExist) {
		t.Errorf("GetMeta(none yet) err = %v, want ErrNotExist", err)
	}
	if _, err := st.PutMeta(ctx, key, []byte(`{"v":0}`), archive.Meta{IfVersion: "no-such-version"}); !errors.Is(err, archive.ErrConditionFailed) {
		t.Errorf("PutMeta(IfVersion, nothing there) err = %v, want ErrConditionFailed", err)
	}
	v1, err := st.PutMeta(ctx, key, []byte(`{"v":1}`), archive.Meta{IfAbsent: true, Metadata: map[string]string{"ConfUUID": confA}})
	if err != nil || v1 == "" {
		t.Fatalf("PutMeta(IfAbsent, nothing there) = %q, %v; want a version", v1, err)
	}
	getMeta := func(want string, wantVersion string) {
		t.Helper()
		data, v, err := st.GetMeta(ctx, key, 1<<10)
		if err != nil || string(data) != want || v != wantVersion {
			t.Errorf("GetMeta = %q version %q, %v; want %q version %q", data, v, err, want, wantVersion)
		}
	}
	getMeta(`{"v":1}`, v1)
	if got := readKey(t, st, key); string(got) != `{"v":1}` {
		t.Errorf("Open(%s) read %q, want what PutMeta wrote", key, got)
	}
	if obj, err := st.Stat(ctx, key); err != nil || obj.Bytes != 7 || obj.Metadata["confuuid"] != confA {
		t.Errorf("Stat(%s) = %d bytes metadata %q, %v; want 7 bytes owned by %s", key, obj.Bytes, obj.Metadata, err, confA)
	}
	if _, err := st.PutMeta(ctx, key, []byte(`{"v":"lost"}`), archive.Meta{IfAbsent: true}); !errors.Is(err, archive.ErrConditionFailed) {
		t.Errorf("PutMeta(IfAbsent, a document there) err = %v, want ErrConditionFailed", err)
	}
	v2, err := st.PutMeta(ctx, key, []byte(`{"v":2}`), archive.Meta{IfVersion: v1})
	if err != nil || v2 == v1 {
		t.Fatalf("PutMeta(IfVersion current) = %q, %v; want a new version", v2, err)
	}
	if _, err := st.PutMeta(ctx, key, []byte(`{"v":"stale"}`), archive.Meta{IfVersion: v1}); !errors.Is(err, archive.ErrConditionFailed) {
		t.Errorf("PutMeta(IfVersion stale) err = %v, want ErrConditionFailed", err)
	}
	getMeta(`{"v":2}`, v2)
	v3, err := st.PutMeta(ctx, key, []byte(`{"v":3}`), archive.Meta{Record: true})
	if err != nil {
		t.Fatalf("PutMeta(unconditional): %v", err)
	}
	getMeta(`{"v":3}`, v3)
	if _, _, err := st.GetMeta(ctx, key, 6); err == nil || errors.Is(err, archive.ErrNotExist) {
		t.Errorf("GetMeta(limit below its size) err = %v, want an error other than ErrNotExist", err)
	}
	baseline := list(t, f)
	for _, bad := range append(metaKeysRefused, invalidKeys...) {
		if _, err := st.PutMeta(ctx, bad, []byte("{}"), archive.Meta{}); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("PutMeta(%q) err = %v, want ErrInvalidKey", bad, err)
		}
		if _, _, err := st.GetMeta(ctx, bad, 1<<10); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("GetMeta(%q) err = %v, want ErrInvalidKey", bad, err)
		}
	}
	for _, bad := range invalidKeys {
		if err := st.Delete(ctx, bad); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("Delete(%q) err = %v, want ErrInvalidKey", bad, err)
		}
	}
	sameList(t, "after refused keys", list(t, f), baseline)
	if st.Capabilities().ConditionalWrites {
		testRacingConditions(t, st, !f.RacyIfVersion)
	}
}

// testRacingConditions: with Capabilities.ConditionalWrites, of writers
// racing under one condition exactly one wins (IfVersion races too unless
// the server cannot keep that promise).
func testRacingConditions(t *testing.T, st archive.Store, ifVersion bool) {
	ctx := context.Background()
	const key, writers = archive.SidecarDir + "/suite/race.json", 8
	race := func(m archive.Meta) (won []string) {
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := st.PutMeta(ctx, key, []byte{'{', '"', byte('a' + i), '"', ':', '1', '}'}, m)
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, v)
					mu.Unlock()
				case !errors.Is(err, archive.ErrConditionFailed):
					t.Errorf("racing PutMeta: %v, want nil or ErrConditionFailed", err)
				}
			}()
		}
		wg.Wait()
		return won
	}
	won := race(archive.Meta{IfAbsent: true})
	if len(won) != 1 {
		t.Fatalf("%d racing creators (IfAbsent) won, want exactly 1", len(won))
	}
	if !ifVersion {
		return
	}
	if again := race(archive.Meta{IfVersion: won[0]}); len(again) != 1 {
		t.Errorf("%d racing writers (IfVersion) won, want exactly 1", len(again))
	}
}

// testLock: with Capabilities.NativeLock a second Lock is refused with the
// holder's note until the first is unlocked; without it Lock is
// unsupported.
func testLock(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	const key = archive.SidecarDir + "/suite/lock"
	for _, bad := range metaKeysRefused {
		if _, err := st.Lock(ctx, bad, nil); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("Lock(%q) err = %v, want ErrInvalidKey", bad, err)
		}
	}
	if !st.Capabilities().NativeLock {
		if unlock, err := st.Lock(ctx, key, []byte("note")); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Lock without Capabilities.NativeLock err = %v, want errors.ErrUnsupported", err)
			if err == nil {
				_ = unlock()
			}
		}
		return
	}
	note := []byte(`{"holder":"suite run A"}` + "\n")
	unlock, err := st.Lock(ctx, key, note)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	_, err = st.Lock(ctx, key, []byte("B"))
	var le *archive.LockedError
	if !errors.Is(err, archive.ErrLocked) || !errors.As(err, &le) {
		t.Fatalf("second Lock err = %v, want a *LockedError", err)
	}
	if !bytes.Equal(le.Note, note) || le.Where != st.URI(key) {
		t.Errorf("LockedError = %q at %s, want %q at %s", le.Note, le.Where, note, st.URI(key))
	}
	other, err := st.Lock(ctx, key+"-other", nil)
	if err != nil {
		t.Fatalf("Lock of another name: %v", err)
	}
	if err := other(); err != nil {
		t.Errorf("unlock the other: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	again, err := st.Lock(ctx, key, []byte("B"))
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	if err := again(); err != nil {
		t.Errorf("unlock: %v", err)
	}
}

// testCapabilities: what the store declares holds: its times, its mark,
// its versions, its refusal of another conference's key, its RootURI.
func testCapabilities(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	caps := st.Capabilities()
	if caps.KeyOwners != f.RefusesOtherConference {
		t.Errorf("Capabilities.KeyOwners = %v, but the fixture says RefusesOtherConference %v", caps.KeyOwners, f.RefusesOtherConference)
	}
	if caps.UploadSlots < 0 {
		t.Errorf("Capabilities.UploadSlots = %d, want >= 0", caps.UploadSlots)
	}
	for _, key := range []string{"caps/a.mp4", "caps/deeper/b.mp4", archive.SidecarDir + "/x.json"} {
		if got, want := st.RootURI()+key, st.URI(key); got != want {
			t.Errorf("RootURI()+%q = %q, want URI = %q", key, got, want)
		}
	}
	first := put(t, st, "caps/a.mp4", []byte("first"), confA)
	second := put(t, st, "caps/b.mp4", []byte("second"), confA)
	f.Write(t, "caps/foreign.mp4", []byte("foreign"))
	stat := func(key string) archive.Object {
		t.Helper()
		o, err := st.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat(%s): %v", key, err)
		}
		return o
	}
	a, b, foreign := stat(first.Key), stat(second.Key), stat("caps/foreign.mp4")
	switch {
	case caps.ModTimes:
		if a.ModTime.IsZero() || b.ModTime.Before(a.ModTime) {
			t.Errorf("ModTimes: %s at %v, then %s at %v; want non-zero, in order", a.Key, a.ModTime, b.Key, b.ModTime)
		}
	case caps.RoughTimes:
		// Not one clock: only a time, and one near this machine's.
		if now := time.Now(); a.ModTime.IsZero() || a.ModTime.Sub(now).Abs() > time.Hour {
			t.Errorf("RoughTimes: Stat.ModTime of %s = %v, want within an hour of now (%v)", a.Key, a.ModTime, now)
		}
	case !a.ModTime.IsZero():
		t.Errorf("Stat.ModTime = %v without Capabilities.ModTimes or RoughTimes, want zero", a.ModTime)
	}
	if a.Marked != caps.MarksObjects || foreign.Marked {
		t.Errorf("Marked: Put's object %v, a foreign one %v; want %v and false (Capabilities.MarksObjects %v)",
			a.Marked, foreign.Marked, caps.MarksObjects, caps.MarksObjects)
	}
	if !caps.Versions && (first.VersionID != "" || a.VersionID != "") {
		t.Errorf("VersionID %q (Put), %q (Stat) without Capabilities.Versions, want none", first.VersionID, a.VersionID)
	}
	if !caps.ObjectLock && (first.LockMode != "" || first.LegalHold || !first.RetainUntil.IsZero()) {
		t.Errorf("Put reported a lock (%q %v %v) without Capabilities.ObjectLock", first.LockMode, first.LegalHold, first.RetainUntil)
	}
}
