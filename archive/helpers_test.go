package archive_test

import (
	"context"
	"testing"

	"meetarchive/archive"
	"meetarchive/archive/archivetest"
)

const mib = archivetest.MiB

// Streams and hashes for the store-specific tests.
var (
	newGen      = archivetest.NewStream
	genSHA256   = archivetest.StreamSHA256
	sha256Hex   = archivetest.SHA256
	readAllHash = archivetest.ReadAllSHA256
)

const testConf = "c0ffee00-0000-4000-8000-000000000001"

// known is an Expect for a stream whose size and platform hash are known.
func known(size int64, sum string) archive.Expect {
	return archive.Expect{Size: size, PlatformSize: size, PlatformSHA256: sum,
		Metadata: map[string]string{"confuuid": testConf, "confid": "900000001", "filetype": "Hd"}}
}

// unknown is an Expect with nothing known.
func unknown() archive.Expect {
	return archive.Expect{Size: archive.Unknown, PlatformSize: archive.Unknown}
}

// s3Store opens an S3 store on bucket b (prefix p) with opts, connected to the test server.
func s3Store(t testing.TB, b archivetest.Bucket, prefix string, opts archive.Options) *archive.S3Store {
	t.Helper()
	opts.ClientOptions = append(opts.ClientOptions, b.Env.ClientOption())
	st, err := archive.NewS3Store(context.Background(), b.Name, prefix, opts)
	if err != nil {
		t.Fatalf("NewS3Store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
