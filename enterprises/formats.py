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
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.utils.translation import gettext as _
from import_export.formats import base_formats

XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024
XLSX_MAX_ENTRIES = 1000
DEFAULT_MAX_ROWS = 100_000
MAX_COLUMNS = 500  # a survey has 14 columns, the enterprise sheet about 20
MAX_CELLS = 2_000_000  # kept cells (rows × headed columns): ~150 MB at worst
EXCEL_MAX_ROW = 1_048_576
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
    try:
        headers = _header_cells(next(reader, []))
        rows = _data_rows(enumerate(reader, start=2), len(headers))
    except csv.Error as exc:
        raise FileRejected(
            _(
                "Row %(row)s cannot be read: a cell is longer than %(limit)s characters or a "
                "quotation mark is not closed. Check that row in Excel."
            )
            % {"row": reader.line_num, "limit": CSV_CELL_LIMIT}
        ) from exc
    return Table("csv", encoding, headers, rows)


def _header_cells(values) -> list[str]:
    """The header row, stripped; Excel pads it with empty cells when a column was formatted."""
    headers = [cell_text(v).strip() for v in values]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise FileRejected(
            _("The first row has %(count)s columns; a survey has at most %(limit)s. Check the header row.")
            % {"count": len(headers), "limit": MAX_COLUMNS}
        )
    return headers


def _data_rows(numbered_rows, width: int) -> list[tuple[int, list]]:
    """The non-empty data rows, cut to the header's width, counted while they stream in.

    Nothing unbounded is ever kept: each row is cut to the headed columns before it is
    stored, empty rows (Excel's formatted-but-blank ones, and the gaps openpyxl fills in)
    are dropped at once, and the row and cell caps are checked before a row is kept.
    """
    limit, rows = max_rows(), []
    for number, values in numbered_rows:
        if number > EXCEL_MAX_ROW:
            raise FileRejected(_("The file claims rows beyond Excel's last row: save it again from Excel."))
        cells = list(values[:width])
        if not any(cell_text(c).strip() for c in cells):
            continue
        if len(rows) >= limit:
            raise FileRejected(
                _("The file has more than %(limit)s rows. Split it into smaller files.") % {"limit": limit}
            )
        if (len(rows) + 1) * width > MAX_CELLS:
            raise FileRejected(
                _("The file has more than %(limit)s cells. Split it into smaller files.")
                % {"limit": MAX_CELLS}
            )
        rows.append((number, cells))
    return rows


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
    try:
        elements = sum(_checked_elements(archive, entry) for entry in entries)
    except FileRejected:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        raise FileRejected(
            _("The Excel file is damaged or incomplete. Open it in Excel, save it again and retry.")
        ) from exc
    if elements > XLSX_MAX_ELEMENTS:
        raise FileRejected(
            _("The Excel file has more than %(limit)s cells and texts. Split it into smaller files.")
            % {"limit": XLSX_MAX_ELEMENTS}
        )


# openpyxl's time grows with the XML elements it parses, not with the bytes: ~8 µs a cell,
# ~10 µs a shared string, ~20 µs a style record (measured). Counting them first (a regex over
# the inflated stream, ~0.3 s for 50 MB) keeps any workbook under ~7 s and ~150 MB; a survey
# of 50,000 rows × 15 columns still fits (CSV files have no such cost).
XLSX_MAX_ELEMENTS = 750_000  # cells (<c>) of every sheet plus shared strings (<si>)
XLSX_MAX_OTHER_PART = 4 * 1024 * 1024  # styles, workbook, relationships…: plain workbooks use KBs
CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
SHARED_STRING_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")


def _checked_elements(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> int:
    """The cells or shared strings of one part (0 for other parts, whose size is checked)."""
    name = entry.filename
    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
        return _count_tags(archive, entry, CELL_TAG, XLSX_MAX_ELEMENTS)
    if name == "xl/sharedStrings.xml":
        return _count_tags(archive, entry, SHARED_STRING_TAG, XLSX_MAX_ELEMENTS)
    if name.endswith((".xml", ".rels")) and entry.file_size > XLSX_MAX_OTHER_PART:
        raise FileRejected(
            _(
                "The Excel file has a part (%(name)s) far larger than a workbook needs; "
                "save it again as .xlsx."
            )
            % {"name": name}
        )
    return 0


def _count_tags(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, tag: re.Pattern, cap: int) -> int:
    """How many times `tag` opens in the entry, reading it in chunks and stopping past `cap`."""
    overlap, found, tail = 64, 0, b""
    with archive.open(entry) as stream:
        while found <= cap:
            chunk = stream.read(1 << 20)
            data = tail + chunk
            # A tag that starts in the last bytes is counted with the next chunk.
            cut = len(data) if not chunk else max(len(data) - overlap, 0)
            found += sum(1 for _m in tag.finditer(data, 0, cut + overlap) if _m.start() < cut)
            if not chunk:
                break
            tail = data[cut:]
    return found


def read_xlsx(data: bytes) -> Table:
    check_xlsx_zip(data)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise FileRejected(
            _("The Excel file is damaged or incomplete. Open it in Excel, save it again and retry.")
        ) from exc
    try:
        if not workbook.worksheets:
            raise FileRejected(_("The Excel file has no sheet."))
        sheet = workbook.worksheets[0]
        # The sheet's <dimension> is the file's own claim, not a fact: openpyxl pads every
        # row to its width and stops at its last row. A 2 KB file claiming A1:XFD20000 made
        # 20,000 rows of 16,384 cells (2.6 GB). Read the real cells, bounded by the header.
        sheet.reset_dimensions()
        headers = _header_cells(next(sheet.iter_rows(max_row=1, values_only=True), ()))
        width = max(len(headers), 1)
        body = sheet.iter_rows(min_row=2, max_col=width, values_only=True)
        rows = _data_rows(enumerate(body, start=2), width)
    except FileRejected:
        raise
    except Exception as exc:
        raise FileRejected(
            _("The Excel file is damaged or incomplete. Open it in Excel, save it again and retry.")
        ) from exc
    finally:
        workbook.close()
    return Table("xlsx", "", headers, rows)


def read_table(data: bytes) -> Table:
    """Check and read a whole file; raises FileRejected with a message for the user."""
    check_size(len(data))
    kind = detect_kind(data)
    table = read_xlsx(data) if kind == "xlsx" else read_csv(data)
    if not any(table.headers):
        raise FileRejected(_("The first row must hold the column headers, but it is empty."))
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
