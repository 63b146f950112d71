#!/usr/bin/env bash
# bench.sh: meetarchive's benchmarks, as `make bench` runs them.
#
# Starts the local S3 server (versitygw, via scripts/s3.sh) unless one already
# runs, and stops it afterwards only if it started it; then runs
# bench/TestBenchmarks, which times our components against plain baselines in
# the same run (interleaved rounds, medians) and prints a table of RATIOS
# (ours / baseline; 1.00 = as fast as the baseline), then runs the workloads
# through the whole pipeline against the machine's limit (ours/limit, peak
# RSS, kill-and-rerun bytes) and against a gateway quota (the time against
# the quota's and the 429s of each process, on both gateway models; record
# info alone against --links spread). About 18 minutes on 2 cores, two
# thirds of it quota-bound runs (the quota, not the machine, sets their
# time). The quota rows alone, about 8 minutes:
#
#   MEETARCHIVE_BENCH_ONLY=quota make bench
#
# and a quick run of the rest, about 3 minutes:
#
#   MEETARCHIVE_BENCH_LARGE_MIB=16 MEETARCHIVE_BENCH_FLAT_MIB=1024 MEETARCHIVE_BENCH_ROUNDS=3 \
#   MEETARCHIVE_BENCH_ONLY=dir,s3,report,throughput,flat,resume make bench
#
# Knobs (environment): MEETARCHIVE_BENCH_ROUNDS (5), MEETARCHIVE_BENCH_FILES (16),
# MEETARCHIVE_BENCH_FILE_MIB (16), MEETARCHIVE_BENCH_BIG_MIB (200),
# MEETARCHIVE_BENCH_ROWS (100000), MEETARCHIVE_BENCH_OUT (keep the table in this file),
# MEETARCHIVE_BENCH_ONLY (comma-separated groups: dir,s3,report,throughput,flat,quota,links,resume);
# workloads: MEETARCHIVE_BENCH_WORKLOAD_ROUNDS (3), MEETARCHIVE_BENCH_LARGE_MIB (64),
# MEETARCHIVE_BENCH_SMALL_MIB (16), MEETARCHIVE_BENCH_FLAT_BASE_MIB (256),
# MEETARCHIVE_BENCH_FLAT_MIB (4096), MEETARCHIVE_BENCH_FLAT_ROUNDS (1),
# MEETARCHIVE_BENCH_QUOTA_CONFS (500), MEETARCHIVE_BENCH_QUOTA (1200 calls per window),
# MEETARCHIVE_BENCH_QUOTA_WINDOW_S (60), MEETARCHIVE_BENCH_QUOTA_BURST (20: the bucket's),
# MEETARCHIVE_BENCH_QUOTA_MODELS (fixed,bucket), MEETARCHIVE_BENCH_QUOTA_STAGGER_S (10: the
# 8 shards' starts, first to last), for the quota and links groups;
# experiments: MEETARCHIVE_BENCH_MEMORY_MIB, MEETARCHIVE_BENCH_PART_MIB (the child's
# --memory and --part-size), MEETARCHIVE_BENCH_CHILD_CPUPROFILE (path prefix: a CPU
# profile of each child run). MEETARCHIVE_BENCH_S3_PID is set here from .s3/pid.
set -euo pipefail
cd "$(dirname "$0")/.."

started_s3=0
table_tmp=""
s3_pid=""
cleanup() {
	if [[ -n "$table_tmp" ]]; then rm -f "$table_tmp"; fi
	[[ "$started_s3" == 1 ]] || return 0
	# Stop the server only if this script started it. The versitygw that
	# `s3.sh up` starts inherits s3.sh's lock descriptor (fd 9 on .s3/.lock),
	# so `s3.sh down` would wait for that very lock: end the server we started
	# by its PID first, then let `s3.sh down` clean its state up.
	local pid
	pid="$(cat .s3/pid 2>/dev/null || true)"
	if [[ "$pid" == "$s3_pid" && "$pid" =~ ^[0-9]+$ ]]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	bash scripts/s3.sh down || true
}
trap cleanup EXIT

echo "== S3 server (versitygw)"
if status_line="$(bash scripts/s3.sh status 2>/dev/null)"; then
	# Already up (a developer's `make s3-up`, another run): use it, leave it.
	# No install/up here: both would queue on the lock the server holds.
	echo "using the S3 server already running: $status_line"
else
	bash scripts/s3.sh install
	up_log="$(bash scripts/s3.sh up 2>&1)" || {
		echo "$up_log" >&2
		exit 1
	}
	echo "$up_log" >&2
	if [[ "$up_log" != *"already running"* ]]; then
		started_s3=1
		s3_pid="$(cat .s3/pid)"
	fi
fi
eval "$(bash scripts/s3.sh env)"
# The benchmark reports the S3 server's CPU time beside ours (Linux).
MEETARCHIVE_BENCH_S3_PID="$(cat .s3/pid 2>/dev/null || true)"
export MEETARCHIVE_BENCH_S3_PID

table="${MEETARCHIVE_BENCH_OUT:-}"
if [[ -z "$table" ]]; then
	table_tmp="$(mktemp "${TMPDIR:-/tmp}/meetarchive-bench.XXXXXX")"
	table="$table_tmp"
fi

echo "== go test ./bench/ (MEETARCHIVE_BENCH=1)"
status=0
MEETARCHIVE_BENCH=1 MEETARCHIVE_BENCH_OUT="$table" \
	go test -count=1 -run '^TestBenchmarks$' -v -timeout 30m ./bench/ || status=$?

if [[ -s "$table" ]]; then
	echo
	echo "== results"
	cat "$table"
fi
exit "$status"
