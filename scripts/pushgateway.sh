#!/usr/bin/env bash
# pushgateway.sh: a real Prometheus Pushgateway binary for meetarchive's
# metrics tests, taken from Debian's prometheus-pushgateway package (the Go
# module proxy does not serve the Pushgateway's module).
#
#   scripts/pushgateway.sh install   put the binary at .bin/pushgateway (only if missing or not the wanted version)
#   scripts/pushgateway.sh path      print the binary's path (exit 1 if it is not installed)
#   scripts/pushgateway.sh version   print the installed binary's version
#
# The package is downloaded and unpacked, not installed: no service is
# started, nothing outside .bin/ changes. The tests start the binary
# themselves on 127.0.0.1 and stop it; they skip when it is missing.
#
# Knobs (environment): PUSHGATEWAY_DEB_VERSION, a Debian version of the
# package to take (default: the candidate apt offers).
set -euo pipefail

PACKAGE="prometheus-pushgateway"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.bin"
BIN="$BIN_DIR/pushgateway"
WANT="${PUSHGATEWAY_DEB_VERSION:-}"

log() { printf 'pushgateway.sh: %s\n' "$*" >&2; }
die() { printf 'pushgateway.sh: error: %s\n' "$*" >&2; exit 1; }

# installed_version prints the Debian version the binary came from (kept
# beside it), or nothing.
installed_version() {
	[[ -x "$BIN" && -f "$BIN.deb-version" ]] || return 0
	"$BIN" --version >/dev/null 2>&1 || return 0
	cat "$BIN.deb-version"
}

# candidate prints the version apt would download.
candidate() {
	apt-cache policy "$PACKAGE" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

cmd_install() {
	command -v apt-get >/dev/null || die "apt-get is not on PATH (the Pushgateway comes from Debian's $PACKAGE)"
	command -v dpkg-deb >/dev/null || die "dpkg-deb is not on PATH"
	local want have
	want="$WANT"
	if [[ -z "$want" ]]; then
		want="$(candidate)"
		if [[ -z "$want" ]]; then
			log "apt knows no $PACKAGE: running apt-get update"
			apt-get update -qq >&2 || die "apt-get update failed"
			want="$(candidate)"
		fi
		[[ -n "$want" ]] || die "apt offers no $PACKAGE"
	fi
	have="$(installed_version)"
	if [[ "$have" == "$want" ]]; then
		log "pushgateway ($PACKAGE $want) already installed at $BIN"
		return 0
	fi
	log "installing pushgateway from $PACKAGE $want into $BIN_DIR"
	local tmp
	tmp="$(mktemp -d "${TMPDIR:-/tmp}/meetarchive-pushgateway.XXXXXX")"
	# shellcheck disable=SC2064 # expand tmp now: it is local
	trap "rm -rf -- '$tmp'" EXIT
	# apt-get download writes into the working directory. It warns that the
	# _apt user cannot reach a private temp dir (and downloads as root): its
	# output is shown only when it fails.
	if ! (cd "$tmp" && apt-get download -q "$PACKAGE=$want") >"$tmp/apt.log" 2>&1; then
		cat "$tmp/apt.log" >&2
		die "apt-get download $PACKAGE=$want failed"
	fi
	local deb
	deb="$(ls "$tmp"/"$PACKAGE"_*.deb 2>/dev/null | head -n 1)"
	[[ -n "$deb" ]] || die "apt-get download left no .deb in $tmp"
	dpkg-deb -x "$deb" "$tmp/root"
	[[ -x "$tmp/root/usr/bin/$PACKAGE" ]] || die "$deb holds no usr/bin/$PACKAGE"
	"$tmp/root/usr/bin/$PACKAGE" --version >/dev/null 2>&1 || die "the unpacked $PACKAGE does not run"
	mkdir -p "$BIN_DIR"
	install -m 0755 "$tmp/root/usr/bin/$PACKAGE" "$BIN.new"
	mv -f "$BIN.new" "$BIN"
	echo "$want" >"$BIN.deb-version"
	log "installed $("$BIN" --version 2>&1 | head -n 1)"
}

cmd_path() {
	[[ -x "$BIN" ]] || die "not installed: run 'scripts/pushgateway.sh install'"
	echo "$BIN"
}

cmd_version() {
	[[ -x "$BIN" ]] || die "not installed: run 'scripts/pushgateway.sh install'"
	"$BIN" --version 2>&1 | head -n 1
}

# lock serialises installs between concurrent callers.
lock() {
	mkdir -p "$BIN_DIR"
	if command -v flock >/dev/null; then
		exec 9>"$BIN_DIR/.pushgateway.lock"
		flock -w 300 9 || die "another pushgateway.sh holds $BIN_DIR/.pushgateway.lock"
	fi
}

case "${1:-}" in
install) lock && cmd_install ;;
path) cmd_path ;;
version) cmd_version ;;
*)
	echo "usage: $0 install|path|version" >&2
	exit 2
	;;
esac
