package export

import (
	"errors"
	"testing"
)

func TestFileName(t *testing.T) {
	cases := []struct{ url, want string }{
		{"https://h/videoHD/0_1.mp4?token=abc", "0_1.mp4"},
		{"https://h/download?file=0_2.mp4&token=abc", "0_2.mp4"},
		{"https://h/download?token=x.mp4&name=dir%2F0_3.m4a", "0_3.m4a"},
		{"https://h/get?response-content-disposition=attachment%3B%20filename%3D%22rec.mp4%22", "rec.mp4"},
		{"https://h/download?id=Zm9v", "download"},
		{"https://h/", "file"},
		{"https://h/download?sign=a.b&t=1.2", "download"},
	}
	for _, tc := range cases {
		if got := fileName(tc.url); got != tc.want {
			t.Errorf("fileName(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

func TestFileListKeepsEveryDistinctFile(t *testing.T) {
	sha := func(c byte) string {
		b := make([]byte, 64)
		for i := range b {
			b[i] = c
		}
		return string(b)
	}
	f := func(url, sum string, size int64) File {
		return File{FileType: "Hd", Name: fileName(url), URL: url, SHA256: sum, Size: size}
	}
	cases := []struct {
		name      string
		files     []File
		wantFiles int
		wantErr   error
	}{
		{"same full URL twice (overlapping pages)", []File{f("https://h/a/0_1.mp4", "", -1), f("https://h/a/0_1.mp4", "", -1)}, 1, nil},
		{"query-only differences", []File{f("https://h/d?file=0_0.mp4", "", -1), f("https://h/d?file=0_1.mp4", "", -1), f("https://h/d?file=0_2.mp4", "", -1)}, 3, nil},
		{"one name, two URLs, no hash", []File{f("https://h/a/0_1.mp4?token=1", "", -1), f("https://h/b/0_1.mp4?token=2", "", -1)}, 0, ErrAmbiguousFiles},
		{"one name, two tokens, same hash and size", []File{f("https://h/a/0_1.mp4?token=1", sha('a'), 10), f("https://h/a/0_1.mp4?token=2", sha('a'), 10)}, 1, nil},
		{"one name, different hashes", []File{f("https://h/a/0_1.mp4?token=1", sha('a'), 10), f("https://h/b/0_1.mp4?token=2", sha('b'), 10)}, 0, ErrAmbiguousFiles},
		{"names differing by case are two files", []File{f("https://h/a.mp4", "", -1), f("https://h/A.mp4", "", -1)}, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFileList("downloadurls")
			var err error
			for _, x := range tc.files {
				if _, err = l.add(x); err != nil {
					break
				}
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err == nil && len(l.files) != tc.wantFiles {
				t.Errorf("%d files, want %d", len(l.files), tc.wantFiles)
			}
			if err != nil && ErrorCode(err) != CodeAmbiguousFiles {
				t.Errorf("code %q, want %q", ErrorCode(err), CodeAmbiguousFiles)
			}
		})
	}
}
