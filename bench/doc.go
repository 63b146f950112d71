// Package bench holds meetarchive's performance benchmarks. They measure the
// components the pipeline joins, the way the pipeline uses them, each against
// a plain baseline timed in the same run, and print the results as ratios
// (ours / baseline): absolute times on a shared, noisy machine mean little.
//
//   - archive to a directory: export.Client Links + OpenMedia into
//     archive.DirStore Put, versus net/http GET + io.Copy into a file + SHA-256
//     (what curl | tee | sha256sum does);
//   - archive to S3: the same into the S3 store opened by archive.Open, versus
//     aws-sdk-go-v2 PutObject streamed from the same GET; plus the heap growth
//     while one 200 MiB file is uploaded;
//   - report: 100,000 rows through report.Writer (journal, XLSX, CSV, summary)
//     versus encoding/csv writing the same rows.
//
// Everything lives in the test files and runs only with MEETARCHIVE_BENCH=1
// (`make bench`, scripts/bench.sh); `go test ./...` skips it at once.
package bench
