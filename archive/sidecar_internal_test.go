package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeSidecar: whatever a sidecar file holds, decoding it either fails
// with errBadSidecar (which Archived takes for "not archived") or gives a
// Sidecar that encodes and decodes back to itself.
func FuzzDecodeSidecar(f *testing.F) {
	good, err := json.Marshal(Sidecar{ConfUUID: "c0ffee00-0000-4000-8000-000000000001", ArchivedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		Tool: "meetarchive", Details: json.RawMessage(`{"subject":"Weekly"}`),
		Files: []SidecarFile{{FileType: "Hd", Name: "0_1.mp4", Key: "k", Bytes: 3, SHA256: strings.Repeat("a", 64)}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(good), "", "{", "null", "[]", `{"files":null}`, `{"files":[null]}`, `{"archivedAt":"yesterday"}`,
		`{"details":}`, `{"confUUID":1}`, "\xff\xfe", strings.Repeat("[", 10000)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := decodeSidecar(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, errBadSidecar) {
				t.Fatalf("decodeSidecar(%q) err = %v, want errBadSidecar", data, err)
			}
			return
		}
		again, err := json.Marshal(sc)
		if err != nil {
			t.Fatalf("decoded %q to %+v, which does not encode: %v", data, sc, err)
		}
		back, err := decodeSidecar(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if !sidecarsEqual(sc, back) {
			t.Fatalf("decode, encode, decode changed the sidecar:\n%+v\n%+v", sc, back)
		}
	})
}

// sidecarsEqual compares sidecars, their details as JSON values.
func sidecarsEqual(a, b Sidecar) bool {
	var da, db any
	_ = json.Unmarshal(a.Details, &da)
	_ = json.Unmarshal(b.Details, &db)
	a.Details, b.Details = nil, nil
	return a.ArchivedAt.Equal(b.ArchivedAt) && reflect.DeepEqual(da, db) &&
		a.ConfUUID == b.ConfUUID && a.Tool == b.Tool && reflect.DeepEqual(a.Files, b.Files)
}

func TestDecodeSidecarTooLarge(t *testing.T) {
	data := append([]byte(`{"tool":"`), bytes.Repeat([]byte("x"), maxSidecarBytes)...)
	data = append(data, `"}`...)
	if _, err := decodeSidecar(bytes.NewReader(data)); !errors.Is(err, errBadSidecar) {
		t.Errorf("decodeSidecar(%d bytes) err = %v, want errBadSidecar", len(data), err)
	}
}
