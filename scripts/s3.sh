#!/usr/bin/env bash
# s3.sh: a real S3-compatible server (versitygw) on 127.0.0.1 for meetarchive's
# tests and benchmarks.
#
#   scripts/s3.sh install   install versitygw into .bin/ (only if missing or not the pinned version)
#   scripts/s3.sh up        install if needed, start on 127.0.0.1 with a temporary data dir, wait for health
#   scripts/s3.sh down      stop the server started by `up` (by PID) and remove its data
#   scripts/s3.sh env       print `export MEETARCHIVE_TEST_S3_...=...` lines for the running server
#   scripts/s3.sh status    say whether it runs, and where
#
# State lives in .s3/ at the repository root (it ignores itself in git):
#   .s3/pid  .s3/endpoint  .s3/env  .s3/datadir  .s3/versitygw.log
#
# Knobs (environment): MEETARCHIVE_S3_PORT (default: 7070, or the next free port),
# VERSITYGW_VERSION (default v1.8.0). Every subcommand is idempotent.
set -euo pipefail

VERSION="${VERSITYGW_VERSION:-v1.8.0}"
MODULE="github.com/versity/versitygw"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.bin"
BIN="$BIN_DIR/versitygw"
STATE="$ROOT/.s3"
ACCESS_KEY="meetarchive-test"

log() { printf 's3.sh: %s\n' "$*" >&2; }
die() { printf 's3.sh: error: %s\n' "$*" >&2; exit 1; }

installed_version() {
	# Prints the module version the binary was built from, or nothing.
	[[ -x "$BIN" ]] || return 0
	{ go version -m "$BIN" 2>/dev/null || true; } | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

cmd_install() {
	command -v go >/dev/null || die "go is not on PATH (needed to install versitygw)"
	local have
	have="$(installed_version)"
	if [[ "$have" == "$VERSION" ]]; then
		log "versitygw $VERSION already installed at $BIN"
		return 0
	fi
	if [[ -n "$have" ]]; then
		log "versitygw $have found at $BIN, want $VERSION: reinstalling"
	elif [[ -e "$BIN" ]]; then
		log "$BIN is not a build of $MODULE: replacing it with $VERSION"
	else
		log "installing versitygw $VERSION into $BIN_DIR (first time only, about 2 minutes)"
	fi
	mkdir -p "$BIN_DIR"
	rm -f "$BIN" # go install refuses to overwrite a file that is not a Go binary
	GOBIN="$BIN_DIR" GOFLAGS= go install "$MODULE/cmd/versitygw@$VERSION"
	have="$(installed_version)"
	[[ "$have" == "$VERSION" ]] || die "installed versitygw reports version '${have:-unknown}', want $VERSION"
	log "installed versitygw $VERSION"
}

# running: true when .s3/pid names a live versitygw process.
running() {
	[[ -f "$STATE/pid" ]] || return 1
	local pid
	pid="$(cat "$STATE/pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r "/proc/$pid/stat" ]]; then
		# A killed process that nobody reaped yet (state Z) is not running.
		local state
		state="$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)"
		[[ "$state" != Z ]] || return 1
		# Make sure the PID was not recycled by something else.
		[[ "$(cat "/proc/$pid/comm")" == versitygw* ]] || return 1
	fi
}

# healthy http://127.0.0.1:PORT: GET /health answers 2xx within 2 s. Plain
# bash (/dev/tcp) and coreutils' timeout: no curl needed.
healthy() {
	local hostport="${1#http://}"
	hostport="${hostport%%/*}"
	local status
	status="$(timeout 2 bash -c '
		exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
		printf "GET /health HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$1" >&3
		IFS= read -r line <&3 && printf "%s" "$line"' _ "$hostport" 2>/dev/null)" || return 1
	[[ "$status" =~ ^HTTP/1\.[01]\ 2[0-9][0-9] ]]
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
	if [[ -n "${MEETARCHIVE_S3_PORT:-}" ]]; then
		port_free "$MEETARCHIVE_S3_PORT" || die "port 127.0.0.1:$MEETARCHIVE_S3_PORT (MEETARCHIVE_S3_PORT) is in use"
		echo "$MEETARCHIVE_S3_PORT"
		return
	fi
	local p
	for p in $(seq 7070 7170); do
		if port_free "$p"; then
			echo "$p"
			return
		fi
	done
	die "no free port in 127.0.0.1:7070-7170; set MEETARCHIVE_S3_PORT"
}

cmd_up() {
	if running; then
		local endpoint
		endpoint="$(cat "$STATE/endpoint")"
		if healthy "$endpoint"; then
			log "versitygw already running at $endpoint (pid $(cat "$STATE/pid"))"
			return 0
		fi
		log "versitygw pid $(cat "$STATE/pid") is running but not healthy: restarting"
		cmd_down
	elif [[ -f "$STATE/pid" ]]; then
		log "removing stale state of a server that is no longer running"
		cleanup_state
	fi
	cmd_install

	mkdir -p "$STATE"
	printf '*\n' >"$STATE/.gitignore"
	local data port endpoint secret pid
	data="$(mktemp -d "${TMPDIR:-/tmp}/meetarchive-s3.XXXXXX")"
	mkdir -p "$data/data" "$data/versions"
	port="$(pick_port)"
	endpoint="http://127.0.0.1:$port"
	secret="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"

	echo "$data" >"$STATE/datadir"
	# The secret only protects a throw-away local test server; keep it private anyway.
	(
		umask 077
		cat >"$STATE/env" <<-EOF
			export MEETARCHIVE_TEST_S3_ENDPOINT=$endpoint
			export MEETARCHIVE_TEST_S3_REGION=us-east-1
			export MEETARCHIVE_TEST_S3_ACCESS_KEY=$ACCESS_KEY
			export MEETARCHIVE_TEST_S3_SECRET_KEY=$secret
		EOF
	)
	# Credentials through the environment, not argv (argv is visible in ps).
	ROOT_ACCESS_KEY_ID="$ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$secret" \
		nohup "$BIN" --port "127.0.0.1:$port" --health /health --quiet \
		posix --versioning-dir "$data/versions" "$data/data" \
		>"$STATE/versitygw.log" 2>&1 </dev/null 9>&- &
	pid=$!
	echo "$pid" >"$STATE/pid"
	echo "$endpoint" >"$STATE/endpoint"

	local i
	for i in $(seq 1 100); do
		if healthy "$endpoint"; then
			log "versitygw $VERSION up at $endpoint (pid $pid, data $data)"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			log "versitygw exited during start-up; its log:"
			tail -n 20 "$STATE/versitygw.log" >&2 || true
			cleanup_state
			die "versitygw did not start"
		fi
		sleep 0.1
	done
	log "versitygw did not answer $endpoint/health within 10s; its log:"
	tail -n 20 "$STATE/versitygw.log" >&2 || true
	cmd_down
	die "versitygw did not become healthy"
}

cleanup_state() {
	local data=""
	[[ -f "$STATE/datadir" ]] && data="$(cat "$STATE/datadir")"
	# Only ever remove a data dir this script created.
	if [[ -n "$data" && "$data" == */meetarchive-s3.* && -d "$data" ]]; then
		rm -rf -- "$data"
	fi
	rm -f "$STATE/pid" "$STATE/endpoint" "$STATE/env" "$STATE/datadir"
}

cmd_down() {
	if ! [[ -f "$STATE/pid" ]]; then
		log "versitygw is not running (no $STATE/pid)"
		cleanup_state
		return 0
	fi
	if running; then
		local pid i
		pid="$(cat "$STATE/pid")"
		kill "$pid" 2>/dev/null || true
		for i in $(seq 1 50); do
			running || break
			sleep 0.1
		done
		if running; then
			log "versitygw pid $pid did not stop on SIGTERM: sending SIGKILL"
			kill -9 "$pid" 2>/dev/null || true
		fi
		log "stopped versitygw (pid $pid)"
	else
		log "versitygw pid $(cat "$STATE/pid") is not running; cleaning up"
	fi
	cleanup_state
}

cmd_env() {
	running && [[ -f "$STATE/env" ]] || die "versitygw is not running: run 'scripts/s3.sh up' (or 'make s3-up') first"
	cat "$STATE/env"
}

cmd_status() {
	if running; then
		local endpoint
		endpoint="$(cat "$STATE/endpoint")"
		if healthy "$endpoint"; then
			echo "running at $endpoint (pid $(cat "$STATE/pid"))"
		else
			echo "running (pid $(cat "$STATE/pid")) but $endpoint/health does not answer"
			return 1
		fi
	else
		echo "not running"
		return 1
	fi
}

# lock serialises up/down/install between concurrent callers (make test in two
# shells, a developer and CI); without flock we simply run unserialised.
lock() {
	mkdir -p "$STATE"
	printf '*\n' >"$STATE/.gitignore"
	if command -v flock >/dev/null; then
		exec 9>"$STATE/.lock"
		flock -w 300 9 || die "another s3.sh holds $STATE/.lock"
	fi
}

case "${1:-}" in
install) lock && cmd_install ;;
up) lock && cmd_up ;;
down) lock && cmd_down ;;
env) cmd_env ;;
status) cmd_status ;;
*)
	echo "usage: $0 install|up|down|env|status" >&2
	exit 2
	;;
esac
