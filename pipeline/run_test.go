package pipeline

import "testing"

// TestCheckApart: the nesting check of --out and --dest, in process: an
// s3:// destination is never a local directory.
func TestCheckApart(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, out, dest string
		refused         bool
	}{
		{"s3 dest", dir + "/r", "s3://bucket/" + dir + "/r", false},
		{"S3 dest upper case", dir, "S3://bucket", false},
		{"siblings", dir + "/a", dir + "/b", false},
		{"common prefix", dir + "/a", dir + "/ab", false},
		{"same", dir + "/a", dir + "/a/", true},
		{"out below", dir + "/a/b/c", dir + "/a", true},
		{"dest below", dir, dir + "/x", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckApart(tc.out, tc.dest); (err != nil) != tc.refused {
				t.Errorf("CheckApart(%s, %s) = %v, want refused %v", tc.out, tc.dest, err, tc.refused)
			}
		})
	}
}
