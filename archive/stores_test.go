package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"meetarchive/archive"
)

// Tests shared by both stores. overwrite and del change the store behind its back.

func putBytes(t *testing.T, st archive.Store, key string, data []byte) archive.Object {
	t.Helper()
	obj, err := st.Put(context.Background(), key, bytes.NewReader(data), known(int64(len(data)), sha256Hex(data)))
	if err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	return obj
}

// archiveConference stores two files and the sidecar of conference uuid.
func archiveConference(t *testing.T, st archive.Store, uuid string) archive.Sidecar {
	t.Helper()
	sc := archive.Sidecar{ConfUUID: uuid, Tool: "meetarchive test", Details: json.RawMessage(`{"confUUID":"` + uuid + `","subject":"Weekly"}`)}
	for i, ft := range []string{"Hd", "Aux"} {
		data := bytes.Repeat([]byte(fmt.Sprintf("%s-%s-%d|", uuid, ft, i)), 100+i)
		name := fmt.Sprintf("0_%d.mp4", i)
		obj := putBytes(t, st, "2024/05/"+uuid+"/"+ft+"_"+name, data)
		sc.Files = append(sc.Files, archive.SidecarFileFrom(ft, name, obj))
	}
	sc.ArchivedAt = time.Now().UTC().Truncate(time.Millisecond)
	if err := st.PutSidecar(context.Background(), sc); err != nil {
		t.Fatalf("PutSidecar: %v", err)
	}
	return sc
}

func testSidecarAndArchived(t *testing.T, st archive.Store, overwrite func(key string, data []byte), del func(key string)) {
	ctx := context.Background()
	const base = "c0ffee00-0000-4000-8000-0000000000"

	if _, ok, err := st.Archived(ctx, base+"00"); ok || err != nil {
		t.Errorf("Archived(no sidecar) = %v, %v; want false, nil", ok, err)
	}
	sc := archiveConference(t, st, base+"01")
	got, err := st.GetSidecar(ctx, base+"01")
	if err != nil {
		t.Fatalf("GetSidecar: %v", err)
	}
	if !reflect.DeepEqual(got.Files, sc.Files) || !got.ArchivedAt.Equal(sc.ArchivedAt) || got.ConfUUID != sc.ConfUUID {
		t.Errorf("GetSidecar = %+v\nwant %+v", got, sc)
	}
	if !jsonEqual(got.Details, sc.Details) {
		t.Errorf("GetSidecar details = %s, want %s", got.Details, sc.Details)
	}
	if _, ok, err := st.Archived(ctx, base+"01"); !ok || err != nil {
		t.Errorf("Archived(intact) = %v, %v; want true, nil", ok, err)
	}

	time.Sleep(50 * time.Millisecond) // later than the sidecar, even with a coarse file system clock
	tests := []struct {
		name   string
		uuid   string
		change func(sc archive.Sidecar)
	}{
		{"object deleted", base + "02", func(sc archive.Sidecar) { del(sc.Files[1].Key) }},
		{"object overwritten, same size", base + "03", func(sc archive.Sidecar) {
			overwrite(sc.Files[0].Key, bytes.Repeat([]byte("Z"), int(sc.Files[0].Bytes)))
		}},
		{"object overwritten, other size", base + "04", func(sc archive.Sidecar) { overwrite(sc.Files[0].Key, []byte("short")) }},
		{"sidecar deleted", base + "05", func(sc archive.Sidecar) { del("_meetarchive/" + sc.ConfUUID + ".json") }},
		{"sidecar lists a size that differs", base + "06", func(sc archive.Sidecar) {
			sc.Files[1].Bytes++
			if err := st.PutSidecar(ctx, sc); err != nil {
				t.Fatal(err)
			}
		}},
		{"sidecar lists a sha256 that differs", base + "07", func(sc archive.Sidecar) {
			sc.Files[1].SHA256 = strings.Repeat("0", 64)
			if err := st.PutSidecar(ctx, sc); err != nil {
				t.Fatal(err)
			}
		}},
		{"sidecar of another conference", base + "08", func(sc archive.Sidecar) {
			sc2 := sc
			sc2.ConfUUID = base + "99"
			data, _ := json.Marshal(sc2)
			overwrite("_meetarchive/"+sc.ConfUUID+".json", data)
		}},
		{"sidecar not JSON", base + "09", func(sc archive.Sidecar) { overwrite("_meetarchive/"+sc.ConfUUID+".json", []byte("{not json")) }},
	}
	scs := make([]archive.Sidecar, len(tests))
	for i, tc := range tests {
		scs[i] = archiveConference(t, st, tc.uuid)
	}
	time.Sleep(50 * time.Millisecond)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok, err := st.Archived(ctx, tc.uuid); !ok || err != nil {
				t.Fatalf("before the change: Archived = %v, %v; want true, nil", ok, err)
			}
			tc.change(scs[i])
			if _, ok, err := st.Archived(ctx, tc.uuid); ok || err != nil {
				t.Errorf("Archived = %v, %v; want false, nil", ok, err)
			}
		})
	}
	if _, ok, err := st.Archived(ctx, base+"01"); !ok || err != nil {
		t.Errorf("Archived(intact, later) = %v, %v; want true, nil", ok, err)
	}
	if _, _, err := st.Archived(ctx, "../../etc/passwd"); !errors.Is(err, archive.ErrInvalidKey) {
		t.Errorf("Archived(hostile uuid) err = %v, want ErrInvalidKey", err)
	}
	if err := st.PutSidecar(ctx, archive.Sidecar{ConfUUID: "../x"}); !errors.Is(err, archive.ErrInvalidKey) {
		t.Errorf("PutSidecar(hostile uuid) err = %v, want ErrInvalidKey", err)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func testVerify(t *testing.T, st archive.Store, overwrite func(key string, data []byte), del func(key string)) {
	ctx := context.Background()
	var items []archive.VerifyItem
	for i := range 6 {
		data := bytes.Repeat([]byte{byte('a' + i)}, 1000+i)
		obj := putBytes(t, st, fmt.Sprintf("verify/%d.mp4", i), data)
		items = append(items, archive.VerifyItem{Key: obj.Key, SHA256: obj.SHA256, Bytes: obj.Bytes})
	}
	overwrite(items[1].Key, bytes.Repeat([]byte("Z"), int(items[1].Bytes))) // same size, other bytes
	del(items[2].Key)
	items[3].Bytes++ // manifest says another size
	items[4].SHA256 = ""
	items = append(items, archive.VerifyItem{Key: "verify/never-stored.mp4", SHA256: strings.Repeat("a", 64), Bytes: 1})

	var calls []int
	var mu sync.Mutex
	res := archive.Verify(ctx, st, items, func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if total != len(items) {
			t.Errorf("progress total = %d, want %d", total, len(items))
		}
		calls = append(calls, done)
	})
	want := []string{"ok", "mismatch", "missing", "mismatch", "error", "ok", "missing"}
	if len(res) != len(items) {
		t.Fatalf("Verify returned %d results, want %d", len(res), len(items))
	}
	for i, r := range res {
		if r.Key != items[i].Key {
			t.Errorf("result %d is for %s, want %s (input order)", i, r.Key, items[i].Key)
		}
		if r.Status != want[i] {
			t.Errorf("%s: status %q (err %v), want %q", r.Key, r.Status, r.Err, want[i])
		}
		if (r.Status == "ok") != (r.Err == nil) {
			t.Errorf("%s: status %q with err %v", r.Key, r.Status, r.Err)
		}
	}
	if got := res[1].GotSHA256; got != sha256Hex(bytes.Repeat([]byte("Z"), int(items[1].Bytes))) {
		t.Errorf("mismatch GotSHA256 = %s, want the overwritten content's", got)
	}
	if len(calls) != len(items) || calls[len(calls)-1] != len(items) {
		t.Errorf("progress calls = %v, want 1..%d", calls, len(items))
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, r := range archive.Verify(cctx, st, items[:1], nil) {
		if r.Status != "error" || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("Verify(cancelled) = %q %v, want error context.Canceled", r.Status, r.Err)
		}
	}
}

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
	{"only dots", "."},
	{"spaces", "   "},
	{"reserved area", "_meetarchive"},
}

var rawHostileKeys = []string{
	"", "../../x", "/etc/passwd", "a/../../b", "a/./b", "a//b", "a/", ".", "..",
	`a\..\b`, "a\x00b", "a\nb", "\xff", "_meetarchive/evil.json",
	strings.Repeat("k", 1025), "x/" + strings.Repeat("s", 300),
}

// hostileKey renders a key for a conference whose subject, organiser and file
// name are hostile, and checks it is safe.
func hostileKey(t *testing.T, subject string) string {
	t.Helper()
	tmpl, err := archive.ParseKeyTemplate("{{.Subject}}/{{.ScheduserName}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}")
	if err != nil {
		t.Fatal(err)
	}
	key, err := tmpl.Key(archive.KeyFields{ConfUUID: "c0ffee00-0000-4000-8000-000000000001", Subject: subject,
		ScheduserName: subject, StartTime: subject, FileType: "Hd", FileName: subject + ".mp4"})
	if err != nil {
		t.Fatalf("Key: %v", err)
	}
	assertSafeKey(t, key)
	return key
}

func assertSafeKey(t *testing.T, key string) {
	t.Helper()
	if key == "" || len(key) > 1024 || !utf8.ValidString(key) || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) {
		t.Errorf("unsafe key %q (len %d)", key, len(key))
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
}
