package archive

import "testing"

func TestCheckDest(t *testing.T) {
	cases := []struct {
		dest string
		ok   bool
	}{
		{"s3://bucket/prefix", true},
		{"S3://bucket", true},
		{"/var/archive", true},
		{"archive", true},
		{"./s3:/bucket", true},
		{"C:/archive", true},
		{"s3:/bucket/prefix", false},
		{"s3:bucket", false},
		{" s3://bucket/p", false},
		{"s3://bucket/p ", false},
		{"gs://bucket/p", false},
		{"https://s3.amazonaws.com/bucket", false},
		{"file:///tmp/archive", false},
		{"s3//bucket", false},
		{"", false},
	}
	for _, tc := range cases {
		if err := CheckDest(tc.dest); (err == nil) != tc.ok {
			t.Errorf("CheckDest(%q) = %v, want ok %v", tc.dest, err, tc.ok)
		}
	}
}
