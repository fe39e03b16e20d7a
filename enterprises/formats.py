"""Reading spreadsheet files people really send: CSV from Excel in China, and XLSX.

Everything that touches the raw bytes of an uploaded file is here, so the survey import,
the enterprise import (django-import-export) and the management command refuse the same
hostile files with the same messages:

- a size cap (``settings.IMPORT_MAX_BYTES``) checked before anything is parsed;
- the format is told by the content, never by the file name: XLSX is a zip with
  ``xl/workbook.xml``; its entry count and total *declared* uncompressed size are checked
  before openpyxl opens it (``zipfile`` never inflates an entry beyond its declared size,
  so a zip bomb stops at the check); openpyxl parses XML with defusedxml when installed;
- CSV is decoded strictly as UTF-8 (BOM allowed) and then GB18030 — never latin-1 or GBK,
  which "succeed" on anything or lose rare name characters; UTF-16 and binary files
  (NUL bytes, control characters) are refused with a message that says what to do.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.utils.translation import gettext as _
from import_export.formats import base_formats

XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024
XLSX_MAX_ENTRIES = 1000
DEFAULT_MAX_ROWS = 100_000
CSV_CELL_LIMIT = 131072  # the csv module's default field limit; a longer cell is refused

# Control characters that never appear in a text CSV (tab, LF, CR are fine).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FileRejected(ValueError):
    """The file as a whole cannot be read; the message tells the user what to do."""


@dataclass
class Table:
    """The first sheet of a file: header cells (stripped) and data rows with Excel row numbers."""

    kind: str  # "csv" or "xlsx"
    encoding: str  # "utf-8", "utf-8-sig", "gb18030" or "" for XLSX
    headers: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 10 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise FileRejected(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files.")
            % {"size": _mb(size), "limit": _mb(limit)}
        )


def detect_kind(data: bytes) -> str:
    """ "xlsx" or "csv" from the bytes; refuse what is neither, saying what it looks like."""
    if not data or not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileRejected(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            _("This is an old Excel 97-2003 (.xls) file. Open it in Excel and save it as .xlsx or CSV.")
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(data):
        raise FileRejected(
            _(
                "The file is saved as UTF-16 (“Unicode text”). In Excel choose "
                "“Save as” → “CSV UTF-8 (comma delimited)” or “Excel workbook (.xlsx)”."
            )
        )
    if b"\x00" in data:
        raise FileRejected(_("This is not a spreadsheet: upload a CSV or XLSX file."))
    return "csv"


def _looks_like_utf16(data: bytes) -> bool:
    head = data[:200]
    return len(head) >= 4 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4)


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding). Strict UTF-8 first: GB18030 'decodes' UTF-8 bytes into garbage."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if CONTROL_CHARS.search(text):
            raise FileRejected(_("This is not a spreadsheet: upload a CSV or XLSX file."))
        return text, encoding
    if encodings == ("utf-8-sig",):
        raise FileRejected(
            _("The file says it is UTF-8 but contains invalid characters. Save it again as “CSV UTF-8”.")
        )
    raise FileRejected(
        _(
            "The text encoding of the file is not recognised. Save it from Excel as "
            "“CSV UTF-8 (comma delimited)” or as an .xlsx workbook."
        )
    )


def _sniff_dialect(text: str):
    first_line = text.split("\n", 1)[0]
    # Excel in some locales writes semicolons; tabs come from copy-paste "text" exports.
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    return delimiter


def read_csv(data: bytes) -> Table:
    text, encoding = decode_csv_bytes(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_dialect(text))
    limit = max_rows()
    rows: list[tuple[int, list]] = []
    headers: list[str] | None = None
    try:
        for number, record in enumerate(reader, start=1):
            if headers is None:
                headers = [cell.strip() for cell in record]
                continue
            if number - 1 > limit:
                raise FileRejected(
                    _("The file has more than %(limit)s rows. Split it into smaller files.")
                    % {"limit": limit}
                )
            rows.append((number, record))
    except csv.Error as exc:
        raise FileRejected(
            _(
                "Row %(row)s cannot be read: a cell is longer than %(limit)s characters or a "
                "quotation mark is not closed. Check that row in Excel."
            )
            % {"row": reader.line_num, "limit": CSV_CELL_LIMIT}
        ) from exc
    return Table("csv", encoding, headers or [], rows)


def check_xlsx_zip(data: bytes) -> None:
    """Refuse a broken or bomb-like zip before any XML is parsed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRejected(
            _("The Excel file is damaged or incomplete. Open it in Excel, save it again and retry.")
        ) from exc
    if len(entries) > XLSX_MAX_ENTRIES:
        raise FileRejected(
            _("The Excel file has too many parts to be a plain workbook; save it again as .xlsx.")
        )
    total = sum(entry.file_size for entry in entries)
    if total > XLSX_MAX_UNCOMPRESSED:
        raise FileRejected(
            _(
                "The Excel file unpacks to %(size)s MB, more than the %(limit)s MB allowed. "
                "Remove pictures and extra sheets, or split it."
            )
            % {"size": _mb(total), "limit": _mb(XLSX_MAX_UNCOMPRESSED)}
        )
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        raise FileRejected(_("This zip file is not an Excel workbook: upload a CSV or XLSX file."))


def read_xlsx(data: bytes) -> Table:
    check_xlsx_zip(data)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise FileRejected(
            _("The Excel file is damaged or incomplete. Open it in Excel, save it again and retry.")
        ) from exc
    limit = max_rows()
    try:
        if not workbook.worksheets:
            raise FileRejected(_("The Excel file has no sheet."))
        sheet = workbook.worksheets[0]
        headers: list[str] | None = None
        rows: list[tuple[int, list]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if headers is None:
                headers = [cell_text(v).strip() for v in values]
                # Excel pads the header row with empty cells when a column was formatted.
                while headers and not headers[-1]:
                    headers.pop()
                continue
            if number - 1 > limit:
                raise FileRejected(
                    _("The file has more than %(limit)s rows. Split it into smaller files.")
                    % {"limit": limit}
                )
            rows.append((number, list(values)))
    except FileRejected:
        raise
    except Exception as exc:
        raise FileRejected(
            _("The Excel file is damaged or incomplete. Open it in Excel, save it again and retry.")
        ) from exc
    finally:
        workbook.close()
    return Table("xlsx", "", headers or [], rows)


def read_table(data: bytes) -> Table:
    """Check and read a whole file; raises FileRejected with a message for the user."""
    check_size(len(data))
    kind = detect_kind(data)
    table = read_xlsx(data) if kind == "xlsx" else read_csv(data)
    if not any(table.headers):
        raise FileRejected(_("The first row must hold the column headers, but it is empty."))
    # Trailing empty rows are common in Excel; they are not data.
    table.rows = [(n, cells) for n, cells in table.rows if any(cell_text(c).strip() for c in cells)]
    if not table.rows:
        raise FileRejected(_("The file has a header row but no data rows."))
    return table


def cell_text(value) -> str:
    """A cell as the user sees it: XLSX dates as 2023-01-15, whole numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# -- django-import-export formats (the enterprise import in the admin) --------------------------


def _dataset(table: Table):
    import tablib

    dataset = tablib.Dataset(headers=table.headers)
    width = len(table.headers)
    for _number, cells in table.rows:
        cells = [cell_text(c) for c in cells][:width]
        dataset.append(cells + [""] * (width - len(cells)))
    return dataset


class ChineseCSV(base_formats.CSV):
    """CSV from Excel in China: decodes the bytes itself (UTF-8, BOM, GB18030)."""

    def get_title(self):
        return "csv"

    def get_read_mode(self):
        return "rb"  # the admin's temp file is read back as bytes

    def is_binary(self):
        return True  # so the admin passes no encoding

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        return _dataset(read_table(in_stream))


class SafeXLSX(base_formats.XLSX):
    """XLSX read through the same size and zip-bomb checks as the survey import."""

    def create_dataset(self, in_stream, **kwargs):
        return _dataset(read_table(in_stream))


class BomCSV(base_formats.CSV):
    """Export CSV with a UTF-8 BOM, so Excel on Chinese Windows opens it without garbling."""

    def export_data(self, dataset, **kwargs):
        return "\ufeff" + super().export_data(dataset, **kwargs)
