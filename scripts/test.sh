#!/usr/bin/env bash
# The test suite, as `make test` and .ci/run run it: lint, then every package
# with the race detector against a real S3 server on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...
echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
echo "== go mod tidy"
if ! go mod tidy -diff; then
	echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1
fi

echo "== S3 server (versitygw)"
bash scripts/s3.sh install
if bash scripts/s3.sh status >/dev/null 2>&1; then
	echo "using the S3 server already running (make s3-down stops it)"
else
	bash scripts/s3.sh up
	trap 'bash scripts/s3.sh down' EXIT
fi
eval "$(bash scripts/s3.sh env)"

echo "== Pushgateway (Debian's prometheus-pushgateway, unpacked into .bin/)"
# The metrics tests push to a real one; without it they skip, and say so.
bash scripts/pushgateway.sh install || echo "the Pushgateway could not be installed: its test will skip"

# The race detector needs cgo and so a C compiler; without one the suite
# still runs, without -race, and says so in one line.
race=-race
if ! command -v "${CC:-cc}" >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
	echo "no C compiler found (install gcc for the race detector): running the tests without -race"
	race=""
fi
echo "== openpyxl (Debian's python3-openpyxl: an independent reader of manifest.xlsx)"
if ! /usr/bin/python3 -c "import openpyxl" 2>/dev/null; then
	{ apt-get install -y -qq python3-openpyxl >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq python3-openpyxl >/dev/null 2>&1; }; } ||
		echo "python3-openpyxl could not be installed: the independent-reader test will skip"
fi

echo "== skopeo (Debian's: an independent reader of the image archive make image writes)"
if ! command -v skopeo >/dev/null 2>&1; then
	{ apt-get install -y -qq skopeo >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq skopeo >/dev/null 2>&1; }; } ||
		echo "skopeo could not be installed: the image test will skip"
fi

echo "== bagit.py (Debian's python3-bagit, where the release ships it: a second, independent BagIt validator)"
if ! command -v bagit.py >/dev/null 2>&1; then
	if apt-cache show python3-bagit >/dev/null 2>&1; then
		apt-get install -y -qq python3-bagit >/dev/null 2>&1 || echo "python3-bagit could not be installed: its test will skip"
	else
		echo "this Debian release has no python3-bagit: its test will skip (the validator written from RFC 8493 still runs)"
	fi
fi
echo "== Chromium (Debian's chromium: renders summary.html as a person sees it)"
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
	{ apt-get install -y -qq chromium >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; } ||
		echo "chromium could not be installed (apt-get install chromium failed or needs root): the browser test will skip"
fi
# The browser test keeps its screenshots (good run, all-failed run) here.
export MEETARCHIVE_TEST_ARTEFACTS="${MEETARCHIVE_TEST_ARTEFACTS:-$PWD/test-artefacts}"
echo "browser test screenshots go to $MEETARCHIVE_TEST_ARTEFACTS"

echo "== go test ${race}"
go test ${race} -count=1 -timeout 14m ./...
