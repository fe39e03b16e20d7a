"""Hostile XLSX files (SECURITY 25; issue 13 finding 1): each is refused, or read as the
little it holds, in under 10 s and 500 MB, through the reader every import uses.

The workbooks are written here, part by part, as an attacker would: a sheet whose
<dimension> claims 16,384 columns (openpyxl padded every row to it: 2.6 GB for a 2 KB
file), a row number past Excel's last row, a header 16,384 columns wide, a sheet of millions
of empty cells, a shared-strings table of millions of entries, a huge styles part. Memory is
measured in a child process (its peak RSS), so one test cannot hide another's.
"""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from enterprises.models import Enterprise, Survey, SurveyResponse

ROOT = Path(__file__).resolve().parent.parent
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}">'
    '<sheets><sheet name="问卷结果" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def workbook_rels(shared_strings: bool) -> str:
    extra = (
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        if shared_strings
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>{extra}'
        "</Relationships>"
    )


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def workbook(dimension: str, rows, *, shared_strings=None, styles=None) -> bytes:
    """A workbook with one sheet: `rows` are <row> elements (strings, streamed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels(shared_strings is not None))
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'<?xml version="1.0"?><worksheet xmlns="{NS}"><dimension ref="{dimension}"/>'.encode()
            )
            sheet.write(b"<sheetData>")
            for row in rows:
                sheet.write(row.encode())
            sheet.write(b"</sheetData></worksheet>")
        for name, parts in (("xl/sharedStrings.xml", shared_strings), ("xl/styles.xml", styles)):
            if parts is not None:
                with archive.open(name, "w") as part:
                    for piece in parts:
                        part.write(piece)
    return buffer.getvalue()


HEADER = '<row r="1">' + cell("A1", "统一社会信用代码") + cell("B1", "企业名称") + "</row>"


def claims_every_column() -> bytes:
    """The finding itself: 2 KB that claims A1:XFD20000; row 20000 is the only data row."""
    return workbook("A1:XFD20000", [HEADER, '<row r="20000">' + cell("A20000", "x") + "</row>"])


def claims_every_column_on_every_row() -> bytes:
    """The same claim with 40,000 real one-cell rows (5 GB and a killed worker before)."""
    rows = (f'<row r="{n}">' + cell(f"A{n}", "x") + "</row>" for n in range(2, 40_001))
    return workbook("A1:XFD40000", [HEADER, *rows])


def row_past_excel() -> bytes:
    return workbook("A1:B2", [HEADER, '<row r="99999999">' + cell("A99999999", "x") + "</row>"])


def header_16384_wide() -> bytes:
    return workbook("A1:XFD2", ['<row r="1">' + cell("A1", "a") + cell("XFD1", "z") + "</row>"])


def million_empty_cells() -> bytes:
    rows = (f'<row r="{n}">' + "<c/>" * 200 + "</row>" for n in range(2, 6_002))
    return workbook("A1:B2", [HEADER, *rows])


def million_shared_strings() -> bytes:
    head = f'<?xml version="1.0"?><sst xmlns="{NS}">'.encode()
    return workbook(
        "A1:B2",
        [HEADER],
        shared_strings=[head, b"<si><t>a</t></si>" * 1_000_000, b"</sst>"],
    )


def huge_styles() -> bytes:
    head = f'<?xml version="1.0"?><styleSheet xmlns="{NS}"><cellXfs>'.encode()
    return workbook(
        "A1:B2",
        [HEADER],
        styles=[head, b'<xf numFmtId="0" fontId="0"/>' * 300_000, b"</cellXfs></styleSheet>"],
    )


# (builder, message or None when the file is read, rows read)
HOSTILE = {
    "claims_every_column": (claims_every_column, None, 1),
    "claims_every_column_on_every_row": (claims_every_column_on_every_row, None, 39_999),
    "row_past_excel": (row_past_excel, "beyond Excel's last row", 0),
    "header_16384_wide": (header_16384_wide, "The first row has 16384 columns", 0),
    "million_empty_cells": (million_empty_cells, "more than 750000 cells and texts", 0),
    "million_shared_strings": (million_shared_strings, "more than 750000 cells and texts", 0),
    "huge_styles": (huge_styles, "a part (xl/styles.xml) far larger than a workbook needs", 0),
}

CHILD = """
import json, os, resource, sys, time
import django
django.setup()
from django.utils import translation
from enterprises.formats import FileRejected, read_table
translation.activate("en")
data = open(sys.argv[1], "rb").read()
started = time.monotonic()
try:
    rows, message = len(read_table(data).rows), None
except FileRejected as exc:
    rows, message = 0, str(exc)
print(json.dumps({"rows": rows, "message": message, "seconds": time.monotonic() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def read_in_child(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_workbook_costs_under_10_seconds_and_500_mb(name, tmp_path):
    build, message, rows = HOSTILE[name]
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(build())
    result = read_in_child(path)
    if message is None:
        assert result["message"] is None and result["rows"] == rows
    else:
        assert message in result["message"]
    assert result["seconds"] < 10
    assert result["peak_mb"] < 500


def test_the_finding_is_a_small_file():
    assert len(claims_every_column()) < 2500


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["claims_every_column", "million_empty_cells", "huge_styles"])
def test_the_import_command_refuses_them_and_keeps_nothing(name, coordinator, tmp_path):
    build, message, _rows = HOSTILE[name]
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(build())
    errors = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_survey", str(path), "--survey", "round", stdout=io.StringIO(), stderr=errors)
    # The 2 KB file is read as what it holds: two columns, so the others are missing.
    assert (message or "Required columns are missing") in errors.getvalue()
    assert (Enterprise.objects.count(), Survey.objects.count(), SurveyResponse.objects.count()) == (0, 0, 0)
