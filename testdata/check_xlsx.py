"""An independent reader of manifest.xlsx (openpyxl), for the tests.

usage: python3 check_xlsx.py MANIFEST.xlsx COLUMN...

Checks, with openpyxl's read-only mode (which trusts each sheet's declared
dimension), that Recordings has every COLUMN in its header and as many rows
as its dimension says, and that the Summary sheet holds three charts whose
series read from cells of the Summary sheet. Prints what it found; exits 1
on the first thing that is wrong.
"""
import sys

import openpyxl


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


path, columns = sys.argv[1], sys.argv[2:]
wb = openpyxl.load_workbook(path, read_only=True)
for name in ("Summary", "Recordings", "Failures"):
    if name not in wb.sheetnames:
        fail("no sheet " + name)
rec = wb["Recordings"]
rows = list(rec.iter_rows(values_only=True))
if len(rows) < 2:
    fail("Recordings: %d rows read (dimension %s)" % (len(rows), rec.calculate_dimension()))
header = list(rows[0])
missing = [c for c in columns if c not in header]
if missing:
    fail("Recordings header lacks " + ", ".join(missing))
print("Recordings", rec.calculate_dimension(), len(rows), "rows", len(header), "columns")

charts = openpyxl.load_workbook(path)["Summary"]._charts
if len(charts) != 3:
    fail("Summary has %d charts, want 3" % len(charts))
for c in charts:
    for s in c.series:
        ref = s.val.numRef.f if s.val is not None and s.val.numRef is not None else ""
        if not ref.startswith("Summary!"):
            fail("a %s series reads %r, not cells of the Summary sheet" % (type(c).__name__, ref))
        print(type(c).__name__, ref)
