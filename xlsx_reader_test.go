package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"meetarchive/report"
)

// TestDemoWorkbookInAnIndependentReader: the demo's manifest.xlsx read by
// openpyxl in read-only mode (it trusts each sheet's declared dimension)
// shows every Recordings column and its rows, and the Summary's three
// charts read their series from Summary cells. Skipped where python3 has
// no openpyxl (scripts/test.sh installs Debian's python3-openpyxl).
func TestDemoWorkbookInAnIndependentReader(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import openpyxl").Run(); err != nil {
		t.Skip("no openpyxl for " + python)
	}
	dir := t.TempDir()
	if res := runBin(t, nil, "demo", "--dir", dir, "--quiet"); res.code != 0 {
		t.Fatalf("demo: exit %d\n%s", res.code, res.stderr)
	}
	args := append([]string{"testdata/check_xlsx.py", filepath.Join(dir, "report", report.ManifestXLSX)}, report.ManifestColumns()...)
	out, err := exec.Command(python, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openpyxl: %v\n%s", err, out)
	}
	t.Logf("openpyxl:\n%s", out)
}
