"""An independent reader of manifest.xlsx's properties (openpyxl), for the tests.

usage: python3 xlsx_props.py MANIFEST.xlsx

Prints JSON: the core properties openpyxl reads (creator, lastModifiedBy,
title, subject, description, created, modified: ISO 8601 to the second),
the application of docProps/app.xml (read with zipfile: openpyxl does not
keep it), and the Summary sheet's "option NAME" cells as
{"type": Python type name, "value": str(value)}.
"""
import json
import sys
import zipfile
import xml.etree.ElementTree as ET

import openpyxl

path = sys.argv[1]
wb = openpyxl.load_workbook(path)
p = wb.properties


def iso(t):
    return t.replace(microsecond=0).isoformat() if t is not None else ""


with zipfile.ZipFile(path) as z:
    app = ET.fromstring(z.read("docProps/app.xml"))
ns = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
application = app.findtext(ns + "Application") or ""

options = {}
for name, value in wb["Summary"].iter_rows(min_col=1, max_col=2, values_only=True):
    if isinstance(name, str) and name.startswith("option "):
        options[name[len("option "):]] = {"type": type(value).__name__, "value": str(value)}

print(json.dumps({
    "creator": p.creator or "",
    "lastModifiedBy": p.lastModifiedBy or "",
    "title": p.title or "",
    "subject": p.subject or "",
    "description": p.description or "",
    "created": iso(p.created),
    "modified": iso(p.modified),
    "application": application,
    "options": options,
}))
