package archive

import (
	"crypto/sha256"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"testing"
)

// BenchmarkPartChecksum measures what each S3 checksum the server can verify
// costs the client per byte of a part (the choice is documented at
// partChecksumAlgorithm). Run: go test -run '^$' -bench PartChecksum ./archive/
func BenchmarkPartChecksum(b *testing.B) {
	part := make([]byte, 8<<20)
	for i := range part {
		part[i] = byte(i*7 + i>>9)
	}
	for _, tc := range []struct {
		name string
		new  func() hash.Hash
	}{
		{"SHA256", sha256.New},
		{"CRC32C", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
		{"CRC32", func() hash.Hash { return crc32.NewIEEE() }},
		{"CRC64NVME", func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c_9329_ac4b_c9b5)) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := tc.new()
			b.SetBytes(int64(len(part)))
			for b.Loop() {
				h.Reset()
				h.Write(part)
				h.Sum(nil)
			}
		})
	}
}
