package archive_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"meetarchive/archive"
)

func TestVerifySidecar(t *testing.T) {
	ctx := context.Background()
	st, err := archive.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const conf, other = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	sha := func(c string) string { return strings.Repeat(c, 64) }
	sc := archive.Sidecar{ConfUUID: conf, Files: []archive.SidecarFile{
		{Key: "a/Hd_0.mp4", Bytes: 10, SHA256: sha("a")},
		{Key: "a/Hd_1.mp4", Bytes: 20, SHA256: sha("b")},
	}}
	if err := archive.PutSidecar(ctx, st, sc); err != nil {
		t.Fatal(err)
	}
	if err := archive.PutSidecar(ctx, st, archive.Sidecar{ConfUUID: other}); err != nil {
		t.Fatal(err)
	}
	rows := []archive.VerifyItem{{Key: "a/Hd_0.mp4", Bytes: 10, SHA256: sha("A")}, {Key: "a/Hd_1.mp4", Bytes: 20, SHA256: sha("b")}}
	tests := []struct {
		name   string
		conf   string
		files  []archive.VerifyItem
		status string
		say    string
	}{
		{"matches (hex case ignored)", conf, rows, archive.VerifyOK, ""},
		{"no files, none listed", other, nil, archive.VerifyOK, ""},
		{"no sidecar", "00000000000000000000000000000001", rows, archive.VerifyMissing, "not committed"},
		{"another sha256", conf, []archive.VerifyItem{rows[0], {Key: "a/Hd_1.mp4", Bytes: 20, SHA256: sha("c")}}, archive.VerifyMismatch, "sha256"},
		{"another size", conf, []archive.VerifyItem{{Key: "a/Hd_0.mp4", Bytes: 11, SHA256: sha("a")}, rows[1]}, archive.VerifyMismatch, "11"},
		{"size not known", conf, []archive.VerifyItem{{Key: "a/Hd_0.mp4", Bytes: -1, SHA256: sha("a")}, rows[1]}, archive.VerifyOK, ""},
		{"a key the sidecar lacks", conf, append(rows[:2:2], archive.VerifyItem{Key: "a/Hd_2.mp4", Bytes: 1, SHA256: sha("d")}), archive.VerifyMismatch, `does not list key "a/Hd_2.mp4"`},
		{"a key the manifest lacks", conf, rows[:1], archive.VerifyMismatch, `lists key "a/Hd_1.mp4", not in the manifest`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := archive.VerifySidecar(ctx, st, tc.conf, tc.files)
			if res.Status != tc.status {
				t.Fatalf("status %s (%v), want %s", res.Status, res.Err, tc.status)
			}
			if tc.status == archive.VerifyMismatch && !errors.Is(res.Err, archive.ErrIntegrity) {
				t.Errorf("err %v does not wrap ErrIntegrity", res.Err)
			}
			if tc.say != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.say)) {
				t.Errorf("err %v does not say %q", res.Err, tc.say)
			}
			if want, _ := archive.SidecarKey(tc.conf); res.Key != want {
				t.Errorf("Key %q, want the sidecar's %q", res.Key, want)
			}
		})
	}
}
