package archivetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"meetarchive/archive"
)

// Fixture is one store under test and a way around it, for what the Store
// interface cannot do: change or remove an object behind the store's back,
// and list what the storage beneath really holds.
type Fixture struct {
	Store archive.Store
	// Area is where, in List's names, the store keeps everything: "root/" for
	// a DirStore rooted at <parent>/root whose List walks <parent>,
	// "prefix/" for an S3 store on prefix "prefix" whose List covers the
	// whole bucket.
	Area string
	// List names every file (not folder) below the parent directory, or
	// every object in the bucket and every incomplete multipart upload (as
	// "upload:" + its key), in any order.
	List func(t *testing.T) []string
	// Write stores data at key (relative to the store's root or prefix) as
	// another program would, in place of what is there; Remove deletes key.
	Write  func(t *testing.T, key string, data []byte)
	Remove func(t *testing.T, key string)
	// PartSize is the stream size at which the store changes how it writes
	// (an S3 store's multipart part size): Put is tested below, at and above
	// it. 0 means 1 MiB.
	PartSize int64
	// StatKnowsSHA256: Stat reports the SHA-256 of every object Put stored.
	// When false, Stat must report it for an object stored with a platform
	// SHA-256 and may report "" for others (S3 can keep a hash in an object's
	// metadata only when it is known before the upload).
	StatKnowsSHA256 bool
	// RacyIfVersion: the server under test checks PutMeta's IfVersion
	// (If-Match) apart from the write, so two racing writers can both win
	// although the store declares Capabilities.ConditionalWrites (versitygw
	// 1.8 does; its If-None-Match is atomic). The suite then races only
	// IfAbsent.
	RacyIfVersion bool
	// RefusesOtherConference: Put fails with ErrKeyTaken, before reading
	// the stream, over an object another conference stored (DirStore). When
	// false the suite checks that such a Put replaces the object completely.
	RefusesOtherConference bool
}

// Run runs the store suite: one named subtest per part of the Store
// contract, each on a fresh Fixture from open, in parallel (open must allow
// that).
func Run(t *testing.T, open func(t *testing.T) Fixture) {
	t.Helper()
	tests := []struct {
		name string
		test func(t *testing.T, f Fixture)
	}{
		{"put", testPut},
		{"put a record of the reserved area", testPutReserved},
		{"failed put commits nothing", testFailedPut},
		{"key of another conference", testKeyTaken},
		{"hostile keys", testHostileKeys},
		{"preflight", testPreflight},
		{"sidecar round trip", testSidecar},
		{"archived", testArchived},
		{"verify", testVerify},
		{"missing key", testMissing},
		{"list", testList},
		{"delete", testDelete},
		{"meta documents", testMeta},
		{"lock", testLock},
		{"capabilities", testCapabilities},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := open(t)
			if f.PartSize <= 0 {
				f.PartSize = MiB
			}
			tc.test(t, f)
		})
	}
}

// Conference UUIDs the suite stores for.
const (
	confA = "c0ffee00-0000-4000-8000-00000000000a"
	confB = "c0ffee00-0000-4000-8000-00000000000b"
)

// metadata is what the suite asks a store to keep with an object: keys in
// mixed case and with a space, a value with non-ASCII text and a newline.
func metadata(confUUID string) map[string]string {
	return map[string]string{"ConfUUID": confUUID, "confid": "900000001", "fileType": "Hd", "Sub Ject": "Réunion\nhebdo =?x?="}
}

// wantMetadata is metadata(confUUID) as the store must give it back.
func wantMetadata(confUUID string) map[string]string {
	return map[string]string{"confuuid": confUUID, "confid": "900000001", "filetype": "Hd", "sub-ject": "Réunion\nhebdo =?x?="}
}

// known is an Expect for a stream whose size and platform hash are known.
func known(size int64, sum, confUUID string) archive.Expect {
	return archive.Expect{Size: size, PlatformSize: size, PlatformSHA256: sum, Metadata: metadata(confUUID), ContentType: "video/mp4"}
}

// unknown is an Expect with nothing known but the conference.
func unknown(confUUID string) archive.Expect {
	return archive.Expect{Size: archive.Unknown, PlatformSize: archive.Unknown, Metadata: metadata(confUUID)}
}

func put(t *testing.T, st archive.Store, key string, data []byte, confUUID string) archive.Object {
	t.Helper()
	obj, err := st.Put(context.Background(), key, bytes.NewReader(data), known(int64(len(data)), SHA256(data), confUUID))
	if err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	return obj
}

func list(t *testing.T, f Fixture) []string {
	t.Helper()
	got := slices.Clone(f.List(t))
	slices.Sort(got)
	return got
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: storage holds %q, want %q", what, got, want)
	}
}

func readKey(t *testing.T, st archive.Store, key string) []byte {
	t.Helper()
	rc, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return data
}

// testPut: size, SHA-256 and metadata as Put, Stat and Open report them,
// below, at and above the part size; a rerun of the same conference replaces.
func testPut(t *testing.T, f Fixture) {
	ctx := context.Background()
	st, p := f.Store, f.PartSize
	tests := []struct {
		name     string
		size     int64
		platform bool // the platform announced size and SHA-256
	}{
		{"empty", 0, true},
		{"small, nothing known", 1234, false},
		{"below a part", p/2 + 7, true},
		{"exactly a part", p, true},
		{"several parts", 2*p + 3, true},
		{"several parts, nothing known", 2 * p, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(100 + i)
			sum := StreamSHA256(t, seed, tc.size)
			key := "2024/05/" + confA + "/" + strings.ReplaceAll(tc.name, " ", "_") + ".mp4"
			want := unknown(confA)
			if tc.platform {
				want = known(tc.size, sum, confA)
			}
			obj, err := st.Put(ctx, key, NewStream(seed, tc.size), want)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			wantObj := archive.Object{Key: key, URI: st.URI(key), Bytes: tc.size, SHA256: sum, Metadata: wantMetadata(confA)}
			checkObject(t, "Put", obj, wantObj)
			stat, err := st.Stat(ctx, key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if !f.StatKnowsSHA256 && !tc.platform && stat.SHA256 == "" {
				wantObj.SHA256 = "" // S3: a hash known only after the upload is not in the metadata
			}
			checkObject(t, "Stat", stat, wantObj)
			rc, err := st.Open(ctx, key)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got, n := ReadAllSHA256(t, rc); got != sum || n != tc.size {
				t.Errorf("Open read %d bytes sha256 %s, want %d %s", n, got, tc.size, sum)
			}
			if err := archive.VerifyObject(ctx, st, obj); err != nil {
				t.Errorf("VerifyObject(what Put returned): %v", err)
			}
			if got := list(t, f); !slices.Contains(got, f.Area+key) {
				t.Errorf("storage holds %q, want %q among them", got, f.Area+key)
			}
		})
	}
	t.Run("same conference replaces", func(t *testing.T) {
		key := "2024/05/" + confA + "/rerun.mp4"
		put(t, st, key, []byte("first run"), confA)
		second := put(t, st, key, []byte("second run, with --force"), strings.ToUpper(confA))
		if got := readKey(t, st, key); string(got) != "second run, with --force" {
			t.Errorf("after the second Put the object holds %q, want the second run's bytes", got)
		}
		stat, err := st.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if stat.Bytes != second.Bytes || stat.SHA256 != second.SHA256 {
			t.Errorf("Stat = %d bytes %s, want %d %s", stat.Bytes, stat.SHA256, second.Bytes, second.SHA256)
		}
	})
}

// testPutReserved: with Expect.Reserved, Put streams a record (a custody
// ledger) into the reserved area, checked like a recording; such a key is
// refused without it, and a key outside the area with it.
func testPutReserved(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	const key = archive.SidecarDir + "/ledger/run-1.jsonl"
	data := []byte("{\"seq\":1}\n{\"seq\":2}\n")
	want := archive.Expect{Size: int64(len(data)), PlatformSize: archive.Unknown, ContentType: "application/x-ndjson", Reserved: true}
	obj, err := st.Put(ctx, key, bytes.NewReader(data), want)
	if err != nil {
		t.Fatalf("Put(%s, Reserved): %v", key, err)
	}
	checkObject(t, "Put", obj, archive.Object{Key: key, URI: st.URI(key), Bytes: int64(len(data)), SHA256: SHA256(data)})
	if got := readKey(t, st, key); !bytes.Equal(got, data) {
		t.Errorf("Open(%s) = %q, want %q", key, got, data)
	}
	stat, err := st.Stat(ctx, key)
	if err != nil || stat.Bytes != int64(len(data)) {
		t.Errorf("Stat = %d bytes, %v; want %d", stat.Bytes, err, len(data))
	}
	if got := list(t, f); !slices.Contains(got, f.Area+key) {
		t.Errorf("storage holds %q, want %q among them", got, f.Area+key)
	}

	short := want
	short.Size = int64(len(data)) + 1
	if _, err := st.Put(ctx, archive.SidecarDir+"/ledger/short.jsonl", bytes.NewReader(data), short); !errors.Is(err, archive.ErrIntegrity) {
		t.Errorf("Put(Reserved, a stream shorter than its size) = %v, want ErrIntegrity", err)
	}
	if _, err := st.Put(ctx, "ledger/run-1.jsonl", bytes.NewReader(data), want); !errors.Is(err, archive.ErrInvalidKey) {
		t.Errorf("Put(Reserved) outside the reserved area = %v, want ErrInvalidKey", err)
	}
	plain := want
	plain.Reserved = false
	if _, err := st.Put(ctx, archive.SidecarDir+"/ledger/run-2.jsonl", bytes.NewReader(data), plain); !errors.Is(err, archive.ErrInvalidKey) {
		t.Errorf("Put without Reserved in the reserved area = %v, want ErrInvalidKey", err)
	}
	for _, k := range []string{archive.SidecarDir + "/ledger/short.jsonl", archive.SidecarDir + "/ledger/run-2.jsonl", "ledger/run-1.jsonl"} {
		if got := list(t, f); slices.Contains(got, f.Area+k) {
			t.Errorf("a refused Put left %q behind", k)
		}
	}
}

// checkObject compares what Put or Stat reported with want, in the fields
// both stores fill.
func checkObject(t *testing.T, what string, got, want archive.Object) {
	t.Helper()
	if got.Key != want.Key || got.URI != want.URI || got.Bytes != want.Bytes || got.SHA256 != want.SHA256 {
		t.Errorf("%s = key %q uri %q, %d bytes, sha256 %q; want %q %q, %d, %q", what, got.Key, got.URI, got.Bytes, got.SHA256,
			want.Key, want.URI, want.Bytes, want.SHA256)
	}
	if !reflect.DeepEqual(got.Metadata, want.Metadata) {
		t.Errorf("%s metadata = %q, want %q", what, got.Metadata, want.Metadata)
	}
}

// testFailedPut: a stream that fails or does not match leaves nothing
// behind: no object, no temporary file, no incomplete upload, and an object
// already at the key untouched.
func testFailedPut(t *testing.T, f Fixture) {
	st, p := f.Store, f.PartSize
	small, large := p/2+3, 2*p+5
	existing := put(t, st, "conf/existing.mp4", []byte("the good archived copy"), confA)
	baseline := list(t, f)

	type source struct {
		r    io.Reader
		want archive.Expect
	}
	tests := []struct {
		name    string
		key     string
		size    int64
		src     func(seed uint64, size int64, sum string, cancel context.CancelFunc) source
		wantErr error
	}{
		{"flipped byte below a part", "", small, func(seed uint64, size int64, sum string, _ context.CancelFunc) source {
			return source{&flipReader{r: NewStream(seed, size), at: size / 2}, known(size, sum, confA)}
		}, archive.ErrIntegrity},
		{"flipped byte in the last of several parts", "", large, func(seed uint64, size int64, sum string, _ context.CancelFunc) source {
			return source{&flipReader{r: NewStream(seed, size), at: size - 10}, known(size, sum, confA)}
		}, archive.ErrIntegrity},
		{"flipped byte over an existing object", existing.Key, small, func(seed uint64, size int64, sum string, _ context.CancelFunc) source {
			return source{&flipReader{r: NewStream(seed, size), at: 0}, known(size, sum, confA)}
		}, archive.ErrIntegrity},
		{"shorter than Content-Length", "", small, func(seed uint64, size int64, sum string, _ context.CancelFunc) source {
			w := unknown(confA)
			w.Size = size + 1
			return source{NewStream(seed, size), w}
		}, archive.ErrIntegrity},
		{"longer than the platform size", "", large, func(seed uint64, size int64, sum string, _ context.CancelFunc) source {
			w := unknown(confA)
			w.PlatformSize = size - 1
			return source{NewStream(seed, size), w}
		}, archive.ErrIntegrity},
		{"platform sha256 of other bytes", "", large, func(seed uint64, size int64, _ string, _ context.CancelFunc) source {
			return source{NewStream(seed, size), known(size, strings.Repeat("ab", 32), confA)}
		}, archive.ErrIntegrity},
		{"platform sha256 not hex", "", small, func(seed uint64, size int64, _ string, _ context.CancelFunc) source {
			return source{NewStream(seed, size), known(size, "not-a-sha256", confA)}
		}, archive.ErrIntegrity},
		{"read error below a part", "", small, func(seed uint64, size int64, sum string, _ context.CancelFunc) source {
			return source{&failReader{r: NewStream(seed, size), n: size / 2}, known(size, sum, confA)}
		}, errSource},
		{"read error after a part", "", large, func(seed uint64, size int64, sum string, _ context.CancelFunc) source {
			return source{&failReader{r: NewStream(seed, size), n: p + p/2}, known(size, sum, confA)}
		}, errSource},
		{"cancelled below a part", "", small, func(seed uint64, size int64, sum string, cancel context.CancelFunc) source {
			return source{&cancelReader{r: NewStream(seed, size), n: size / 2, cancel: cancel}, known(size, sum, confA)}
		}, context.Canceled},
		{"cancelled after a part", "", large, func(seed uint64, size int64, sum string, cancel context.CancelFunc) source {
			return source{&cancelReader{r: NewStream(seed, size), n: p + p/2, cancel: cancel}, known(size, sum, confA)}
		}, context.Canceled},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			seed := uint64(200 + i)
			src := tc.src(seed, tc.size, StreamSHA256(t, seed, tc.size), cancel)
			key := tc.key
			if key == "" {
				key = "conf/" + strings.ReplaceAll(tc.name, " ", "-") + ".mp4"
			}
			obj, err := st.Put(ctx, key, src.r, src.want)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Put err = %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(obj, archive.Object{}) {
				t.Errorf("Put returned %+v with an error, want the zero Object", obj)
			}
			if key == existing.Key {
				if got := readKey(t, st, key); string(got) != "the good archived copy" {
					t.Errorf("existing object after a failed Put holds %q, want it untouched", got)
				}
			} else if _, err := st.Stat(context.Background(), key); !errors.Is(err, archive.ErrNotExist) {
				t.Errorf("Stat after a failed Put err = %v, want ErrNotExist", err)
			}
			sameList(t, "after the failed Put", list(t, f), baseline)
		})
	}
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// testKeyTaken: a Put over another conference's object.
func testKeyTaken(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	const key = "shared/Hd_0_1.mp4"
	put(t, st, key, []byte("conference A's recording"), confA)
	baseline := list(t, f)
	data := []byte("conference B's recording")
	src := &countReader{r: bytes.NewReader(data)}
	obj, err := st.Put(ctx, key, src, known(int64(len(data)), SHA256(data), confB))
	if !f.RefusesOtherConference {
		if err != nil {
			t.Fatalf("Put over another conference's object: %v", err)
		}
		stat, err := st.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if got := readKey(t, st, key); !bytes.Equal(got, data) || stat.Metadata["confuuid"] != confB || stat.SHA256 != obj.SHA256 {
			t.Errorf("after the replacement: %q owned by %q sha256 %s, want %q owned by %s sha256 %s",
				got, stat.Metadata["confuuid"], stat.SHA256, data, confB, obj.SHA256)
		}
		return
	}
	if !errors.Is(err, archive.ErrKeyTaken) {
		t.Fatalf("Put over another conference's object err = %v, want ErrKeyTaken", err)
	}
	if !strings.Contains(err.Error(), confA) || !strings.Contains(err.Error(), confB) {
		t.Errorf("error %q does not name both conferences", err)
	}
	if src.n != 0 {
		t.Errorf("Put read %d bytes of a stream it refused, want 0", src.n)
	}
	if got := readKey(t, st, key); string(got) != "conference A's recording" {
		t.Errorf("object after the refused Put holds %q, want conference A's", got)
	}
	sameList(t, "after the refused Put", list(t, f), baseline)
}

// hostileSubjects are text a conference's subject, organiser or file name
// may carry.
var hostileSubjects = []struct{ name, subject string }{
	{"dot-dot", "../../x"},
	{"dot-dot deep", "a/../../../../../../../../etc/passwd"},
	{"absolute", "/etc/passwd"},
	{"backslashes", `..\..\windows\system32`},
	{"control chars", "a\x00b\x1b[31mred\nline\r\x7ftab\t\u0085"},
	{"bidi override", "invoice\u202Egpj.exe"},
	{"invalid utf8", "\xff\xfe../\xc3"},
	{"2000 chars", strings.Repeat("s", 2000)},
	{"2000 multibyte chars", strings.Repeat("会", 2000)},
	{"unicode", "会议 Besprechung ü 録画"},
	{"only dots", "."},
	{"spaces", "   "},
	{"reserved area", "_meetarchive"},
	{"reserved area upper case", "_MEETARCHIVE"},
}

// invalidKeys are keys every store refuses for Put, Stat and Open.
var invalidKeys = []string{
	"", "../../x", "/etc/passwd", "a/../../b", "a/./b", "a//b", "a/", ".", "..",
	`a\..\b`, "a\x00b", "a\nb", "a\x1bb", "a\u202Eb", "\xff", "\xc3.mp4",
	strings.Repeat("k", 1025), "x/" + strings.Repeat("s", 300), strings.Repeat("会", 342),
}

// reservedKeys are keys in the sidecar area, which Put refuses.
var reservedKeys = []string{"_meetarchive/evil.json", "_meetarchive/" + confA + ".json", "_MEETARCHIVE/x", "_MeetArchive/a/b.mp4"}

// testHostileKeys: hostile text in key fields stays inside the store's area;
// hostile raw keys are refused and write nothing.
func testHostileKeys(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	tmpl, err := archive.ParseKeyTemplate("{{.Subject}}/{{.ScheduserName}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range hostileSubjects {
		t.Run(tc.name, func(t *testing.T) {
			key, err := tmpl.Key(archive.KeyFields{ConfUUID: confA, Subject: tc.subject, ScheduserName: tc.subject,
				StartTime: tc.subject, FileType: "Hd", FileName: tc.subject + ".mp4"})
			if err != nil {
				t.Fatalf("Key: %v", err)
			}
			AssertSafeKey(t, key)
			data := []byte("hostile " + tc.name)
			obj := put(t, st, key, data, confA)
			if obj.URI != st.URI(key) {
				t.Errorf("URI = %q, want %q", obj.URI, st.URI(key))
			}
			if got := readKey(t, st, key); !bytes.Equal(got, data) {
				t.Errorf("read back %q, want %q", got, data)
			}
		})
	}
	baseline := list(t, f)
	for _, key := range invalidKeys {
		if _, err := st.Put(ctx, key, strings.NewReader("pwned"), unknown(confA)); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("Put(%q) err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := st.Stat(ctx, key); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("Stat(%q) err = %v, want ErrInvalidKey", key, err)
		}
		if rc, err := st.Open(ctx, key); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("Open(%q) err = %v, want ErrInvalidKey", key, err)
			if err == nil {
				rc.Close()
			}
		}
	}
	for _, key := range reservedKeys {
		if _, err := st.Put(ctx, key, strings.NewReader("pwned"), unknown(confA)); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("Put(%q) err = %v, want ErrInvalidKey (reserved for sidecars)", key, err)
		}
	}
	sameList(t, "after refused keys", list(t, f), baseline)
	for _, name := range baseline {
		if !strings.HasPrefix(name, f.Area) {
			t.Errorf("%q stored outside the store's area %q", name, f.Area)
		}
	}
}

// AssertSafeKey fails t unless key is one every store accepts and that stays
// below its root or prefix.
func AssertSafeKey(t testing.TB, key string) {
	t.Helper()
	if key == "" || len(key) > archive.MaxKeyBytes || !utf8.ValidString(key) || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) {
		t.Errorf("unsafe key %q (%d bytes)", key, len(key))
	}
	for _, r := range key {
		if unicode.IsControl(r) || r == '\u202E' {
			t.Errorf("key %q has control character %U", key, r)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || len(seg) > 255 {
			t.Errorf("key %q has bad segment %q", key, seg)
		}
	}
	if first, _, _ := strings.Cut(key, "/"); strings.EqualFold(first, archive.SidecarDir) {
		t.Errorf("key %q is in the sidecar area", key)
	}
}

// testPreflight: a usable store passes and leaves nothing behind; a
// cancelled one says so.
func testPreflight(t *testing.T, f Fixture) {
	before := list(t, f)
	if err := f.Store.Preflight(context.Background()); err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	sameList(t, "after Preflight", list(t, f), before)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Store.Preflight(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Preflight(cancelled) err = %v, want context.Canceled", err)
	}
}

// archiveConference stores two files and the sidecar of conference uuid.
func archiveConference(t *testing.T, st archive.Store, uuid string) archive.Sidecar {
	t.Helper()
	sc := archive.Sidecar{ConfUUID: uuid, Tool: "meetarchive test", Details: json.RawMessage(`{"confUUID":"` + uuid + `","subject":"Weekly"}`)}
	for i, ft := range []string{"Hd", "Aux"} {
		data := bytes.Repeat([]byte(fmt.Sprintf("%s-%s-%d|", uuid, ft, i)), 100+i)
		name := fmt.Sprintf("0_%d.mp4", i)
		obj := put(t, st, "2024/05/"+uuid+"/"+ft+"_"+name, data, uuid)
		sc.Files = append(sc.Files, archive.SidecarFileFrom(ft, name, obj))
	}
	sc.ArchivedAt = time.Now().UTC().Truncate(time.Millisecond)
	if err := archive.PutSidecar(context.Background(), st, sc); err != nil {
		t.Fatalf("PutSidecar: %v", err)
	}
	return sc
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// hostileConfUUIDs cannot name a sidecar.
var hostileConfUUIDs = []string{"", "../x", "../../etc/passwd", "a/b", ".hidden", "a\x00b", "a\nb", " padded "}

// testSidecar: what PutSidecar writes GetSidecar reads back, at
// SidecarKey; a second PutSidecar replaces it; hostile UUIDs are refused.
func testSidecar(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	if _, err := archive.GetSidecar(ctx, st, confA); !errors.Is(err, archive.ErrNotExist) {
		t.Errorf("GetSidecar(none yet) err = %v, want ErrNotExist", err)
	}
	sc := archiveConference(t, st, confA)
	for _, round := range []string{"first", "rewritten"} {
		if round == "rewritten" {
			sc.ArchivedAt = sc.ArchivedAt.Add(time.Hour)
			sc.Files = sc.Files[:1]
			if err := archive.PutSidecar(ctx, st, sc); err != nil {
				t.Fatalf("PutSidecar again: %v", err)
			}
		}
		got, err := archive.GetSidecar(ctx, st, confA)
		if err != nil {
			t.Fatalf("%s: GetSidecar: %v", round, err)
		}
		if got.ConfUUID != sc.ConfUUID || got.Tool != sc.Tool || !got.ArchivedAt.Equal(sc.ArchivedAt) || !reflect.DeepEqual(got.Files, sc.Files) {
			t.Errorf("%s: GetSidecar = %+v\nwant %+v", round, got, sc)
		}
		if !jsonEqual(got.Details, sc.Details) {
			t.Errorf("%s: GetSidecar details = %s, want %s", round, got.Details, sc.Details)
		}
	}
	key, err := archive.SidecarKey(confA)
	if err != nil {
		t.Fatalf("SidecarKey: %v", err)
	}
	if stored := list(t, f); !slices.Contains(stored, f.Area+key) {
		t.Errorf("storage holds %q, want the sidecar %q among them", stored, f.Area+key)
	}
	baseline := list(t, f)
	for _, uuid := range hostileConfUUIDs {
		if err := archive.PutSidecar(ctx, st, archive.Sidecar{ConfUUID: uuid}); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("PutSidecar(%q) err = %v, want ErrInvalidKey", uuid, err)
		}
		if _, err := archive.GetSidecar(ctx, st, uuid); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("GetSidecar(%q) err = %v, want ErrInvalidKey", uuid, err)
		}
		if _, _, err := archive.Archived(ctx, st, uuid); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("Archived(%q) err = %v, want ErrInvalidKey", uuid, err)
		}
	}
	sameList(t, "after refused sidecars", list(t, f), baseline)
}

// testArchived: true only while the sidecar is there and every object it
// lists is as it says; false after any change behind the store's back.
func testArchived(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	const base = "c0ffee00-0000-4000-8000-0000000000"
	if _, ok, err := archive.Archived(ctx, st, base+"00"); ok || err != nil {
		t.Errorf("Archived(no sidecar) = %v, %v; want false, nil", ok, err)
	}
	putSidecar := func(sc archive.Sidecar) {
		if err := archive.PutSidecar(ctx, st, sc); err != nil {
			t.Fatal(err)
		}
	}
	sidecar := func(sc archive.Sidecar) string { k, _ := archive.SidecarKey(sc.ConfUUID); return k }
	tests := []struct {
		name   string
		change func(sc archive.Sidecar)
	}{
		{"object removed", func(sc archive.Sidecar) { f.Remove(t, sc.Files[1].Key) }},
		{"object changed, same size", func(sc archive.Sidecar) {
			f.Write(t, sc.Files[0].Key, bytes.Repeat([]byte("Z"), int(sc.Files[0].Bytes)))
		}},
		{"object changed, other size", func(sc archive.Sidecar) { f.Write(t, sc.Files[0].Key, []byte("short")) }},
		{"sidecar removed", func(sc archive.Sidecar) { f.Remove(t, sidecar(sc)) }},
		{"sidecar lists another size", func(sc archive.Sidecar) { sc.Files[1].Bytes++; putSidecar(sc) }},
		{"sidecar lists another sha256", func(sc archive.Sidecar) { sc.Files[1].SHA256 = strings.Repeat("0", 64); putSidecar(sc) }},
		{"sidecar lists a missing object", func(sc archive.Sidecar) {
			sc.Files = append(sc.Files, archive.SidecarFile{Key: "never/stored.mp4", Bytes: 1, SHA256: strings.Repeat("1", 64)})
			putSidecar(sc)
		}},
		{"sidecar of another conference", func(sc archive.Sidecar) {
			other := sc
			other.ConfUUID = base + "99"
			data, _ := json.Marshal(other)
			f.Write(t, sidecar(sc), data)
		}},
		{"sidecar not JSON", func(sc archive.Sidecar) { f.Write(t, sidecar(sc), []byte("{not json")) }},
	}
	intact := archiveConference(t, st, base+"01")
	scs := make([]archive.Sidecar, len(tests))
	for i := range tests {
		scs[i] = archiveConference(t, st, fmt.Sprintf("%s%02d", base, 10+i))
	}
	for i, tc := range tests {
		if _, ok, err := archive.Archived(ctx, st, scs[i].ConfUUID); !ok || err != nil {
			t.Fatalf("%s, before the change: Archived = %v, %v; want true, nil", tc.name, ok, err)
		}
	}
	time.Sleep(50 * time.Millisecond) // later than the sidecars, even with a coarse file system clock
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.change(scs[i])
			if _, ok, err := archive.Archived(ctx, st, scs[i].ConfUUID); ok || err != nil {
				t.Errorf("Archived = %v, %v; want false, nil", ok, err)
			}
		})
	}
	got, ok, err := archive.Archived(ctx, st, intact.ConfUUID)
	if !ok || err != nil {
		t.Errorf("Archived(untouched conference) = %v, %v; want true, nil", ok, err)
	}
	if !reflect.DeepEqual(got.Files, intact.Files) {
		t.Errorf("Archived sidecar files = %+v, want %+v", got.Files, intact.Files)
	}
}

// testVerify: Verify and VerifyObject read every byte back.
func testVerify(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	var items []archive.VerifyItem
	var objs []archive.Object
	for i := range 6 {
		obj := put(t, st, fmt.Sprintf("verify/%d.mp4", i), bytes.Repeat([]byte{byte('a' + i)}, 1000+i), confA)
		objs = append(objs, obj)
		items = append(items, archive.VerifyItem{Key: obj.Key, SHA256: obj.SHA256, Bytes: obj.Bytes})
	}
	f.Write(t, items[1].Key, bytes.Repeat([]byte("Z"), int(items[1].Bytes))) // same size, other bytes
	f.Remove(t, items[2].Key)
	items[3].Bytes++ // the manifest says another size
	items[4].SHA256 = ""
	items = append(items, archive.VerifyItem{Key: "verify/never-stored.mp4", SHA256: strings.Repeat("a", 64), Bytes: 1})

	var (
		mu    sync.Mutex
		calls []int
	)
	res := archive.Verify(ctx, st, items, func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if total != len(items) {
			t.Errorf("progress total = %d, want %d", total, len(items))
		}
		calls = append(calls, done)
	})
	want := []struct {
		status string
		err    error
	}{
		{archive.VerifyOK, nil}, {archive.VerifyMismatch, archive.ErrIntegrity}, {archive.VerifyMissing, archive.ErrNotExist},
		{archive.VerifyMismatch, archive.ErrIntegrity}, {archive.VerifyError, nil}, {archive.VerifyOK, nil}, {archive.VerifyMissing, archive.ErrNotExist},
	}
	if len(res) != len(items) {
		t.Fatalf("Verify returned %d results, want %d", len(res), len(items))
	}
	for i, r := range res {
		if r.Key != items[i].Key {
			t.Errorf("result %d is for %s, want %s (input order)", i, r.Key, items[i].Key)
		}
		if r.Status != want[i].status {
			t.Errorf("%s: status %q (err %v), want %q", r.Key, r.Status, r.Err, want[i].status)
		}
		if (r.Status == archive.VerifyOK) != (r.Err == nil) {
			t.Errorf("%s: status %q with err %v", r.Key, r.Status, r.Err)
		}
		if want[i].err != nil && !errors.Is(r.Err, want[i].err) {
			t.Errorf("%s: err %v, want %v", r.Key, r.Err, want[i].err)
		}
	}
	if got, want := res[1].GotSHA256, SHA256(bytes.Repeat([]byte("Z"), int(items[1].Bytes))); got != want {
		t.Errorf("mismatch GotSHA256 = %s, want the changed content's %s", got, want)
	}
	if len(calls) != len(items) || calls[len(calls)-1] != len(items) {
		t.Errorf("progress calls = %v, want 1..%d", calls, len(items))
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, r := range archive.Verify(cctx, st, items[:1], nil) {
		if r.Status != archive.VerifyError || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("Verify(cancelled) = %q %v, want error context.Canceled", r.Status, r.Err)
		}
	}
	testVerifyObject(t, st, objs)
}

// testVerifyObject checks VerifyObject on testVerify's objects: objs[1]
// changed, objs[2] removed, objs[0] and objs[5] intact.
func testVerifyObject(t *testing.T, st archive.Store, objs []archive.Object) {
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	longer := objs[5]
	longer.Bytes++
	noSum := objs[0]
	noSum.SHA256 = ""
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		obj     archive.Object
		wantErr error // nil: no error
		anyErr  bool
	}{
		{"intact", ctx, objs[0], nil, false},
		{"changed", ctx, objs[1], archive.ErrIntegrity, true},
		{"removed", ctx, objs[2], archive.ErrNotExist, true},
		{"other size", ctx, longer, archive.ErrIntegrity, true},
		{"no sha256 to compare", ctx, noSum, nil, true},
		{"cancelled", cctx, objs[0], context.Canceled, true},
	} {
		t.Run("VerifyObject "+tc.name, func(t *testing.T) {
			err := archive.VerifyObject(tc.ctx, st, tc.obj)
			switch {
			case !tc.anyErr && err != nil:
				t.Errorf("VerifyObject: %v, want nil", err)
			case tc.anyErr && err == nil:
				t.Errorf("VerifyObject = nil, want an error")
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("VerifyObject err = %v, want %v", err, tc.wantErr)
			case tc.name == "no sha256 to compare" && (errors.Is(err, archive.ErrIntegrity) || errors.Is(err, archive.ErrNotExist)):
				t.Errorf("VerifyObject err = %v, want neither ErrIntegrity nor ErrNotExist (it cannot tell)", err)
			}
		})
	}
}

// testMissing: Stat, Open and GetSidecar of what is not there.
func testMissing(t *testing.T, f Fixture) {
	ctx := context.Background()
	st := f.Store
	put(t, st, "there/file.mp4", []byte("x"), confA)
	for _, key := range []string{"no/such/key.mp4", "there/other.mp4", "there", "there/file.mp4/below"} {
		if obj, err := st.Stat(ctx, key); !errors.Is(err, archive.ErrNotExist) {
			t.Errorf("Stat(%q) = %+v, %v; want ErrNotExist", key, obj, err)
		}
		if rc, err := st.Open(ctx, key); !errors.Is(err, archive.ErrNotExist) {
			t.Errorf("Open(%q) err = %v, want ErrNotExist", key, err)
			if err == nil {
				rc.Close()
			}
		}
	}
	if _, err := archive.GetSidecar(ctx, st, confB); !errors.Is(err, archive.ErrNotExist) {
		t.Errorf("GetSidecar(missing) err = %v, want ErrNotExist", err)
	}
	if _, ok, err := archive.Archived(ctx, st, confB); ok || err != nil {
		t.Errorf("Archived(missing) = %v, %v; want false, nil", ok, err)
	}
}
