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
// Besides, the workloads (workloads_test.go) run the whole pipeline
// (pipeline.Job.Run, in a child process of its own so that its peak RSS is
// measured alone) into an S3 store opened with the default options, and
// compare it with the machine's limit measured in the same run: the lower of
// the same files downloaded by 4 plain GETs into io.Discard and as many bytes
// uploaded from memory by 4 aws-sdk-go-v2 transfermanager uploads:
//
//   - 16 conferences x 2 files x 64 MiB and 8 x 2 x 16 MiB: ours/limit and
//     peak RSS, medians of interleaved rounds, and where the two cores go
//     (cpu_test.go: CPU time of our child, of this process, which serves the
//     media, and of the S3 server, whose PID scripts/bench.sh passes in);
//   - one 256 MiB file, then one 4 GiB file: peak RSS of each, and MB/s
//     beside transfermanager uploading the same sizes from memory (the S3
//     server's own speed for one object of that size);
//   - 500 conferences against a simulator enforcing and advertising a quota
//     of 1,200 calls a minute per API, in fixed windows and as a token bucket
//     refilled continuously with a burst of 20, by one process, 4 shards
//     started together and 8 started 0-10 s apart, at the default rate: the
//     time against the quota's and the 429s of each process;
//   - the same conferences with links from record info alone and with
//     --links spread (record info or downloadurls, each with its quota), from
//     an input file and from a date range: the conference rate, and how many
//     files were checked against the platform's SHA-256;
//   - a run killed (SIGKILL) mid-conference, then rerun: the bytes the media
//     host served in the rerun against the bytes still missing.
//
// Everything lives in the test files and runs only with MEETARCHIVE_BENCH=1
// (`make bench`, scripts/bench.sh); `go test ./...` skips it at once.
package bench
