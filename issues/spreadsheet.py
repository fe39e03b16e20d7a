"""Spreadsheet downloads that cannot inject formulas (CSV and XLSX), used by every export.

Excel and WPS run a cell that starts with = + - @ (and, after a tab or CR, those too) as a
formula, e.g. =HYPERLINK(...) leaking data. Text cells with such a start get a leading
apostrophe in CSV; XLSX cells are written with an explicit string type, so they are never
formulas. Plain numbers (including negative ones) stay numbers.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone

from .people import person_name

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """A CSV-safe cell: numbers and dates pass, text that would be a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).replace("\0", "")
    if text.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the UTF-8 name for Chinese file names."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """UTF-8 with BOM, so Excel on Chinese Windows opens it without garbling."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(filename)
    return response


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """An XLSX workbook with one sheet per (title, header, rows); strings never formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, TYPE_STRING

    workbook = Workbook(write_only=True)

    def as_text(sheet, value: str):
        # openpyxl would store "=…" as a formula and "#N/A" as an error: force plain text.
        # Only these few need a cell object (openpyxl takes those through an exception).
        if (len(value) > 1 and value.startswith("=")) or value in ERROR_CODES:
            cell = WriteOnlyCell(sheet, value=None)
            cell._value, cell.data_type = value, TYPE_STRING
            return cell
        return value

    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([as_text(sheet, str(h)) for h in header])
        for row in rows:
            values = (_xlsx_value(v) for v in row)
            sheet.append([as_text(sheet, v) if isinstance(v, str) else v for v in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value):
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal | date):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    return str(value).replace("\0", "")


def xlsx_response(filename: str, sheets) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(sheets), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(filename)
    return response


# -- an issue as a spreadsheet row: the list export, the admin export and the weekly list -------


def issue_columns() -> list[tuple[str, object]]:
    """(header, value of an issue) for every issue spreadsheet; headers in the user's
    language. Issues come from `IssueQuerySet.for_spreadsheet` (colour, names, latest note)."""
    from django.utils.translation import gettext as _

    def local_date(moment):
        return timezone.localtime(moment).date() if moment else None

    return [
        (_("ID"), lambda i: i.pk),
        (_("Title"), lambda i: i.title),
        (_("Status"), lambda i: i.get_status_display()),
        (_("Supervision colour"), lambda i: i.colour_label),
        (_("Days overdue"), lambda i: i.days_overdue()),
        (_("Enterprise"), lambda i: i.enterprise.name if i.enterprise else _("Common issue")),
        (_("Credit code"), lambda i: i.enterprise.credit_code if i.enterprise else ""),
        (_("District"), lambda i: i.enterprise.district.name if i.enterprise else ""),
        (_("Category"), lambda i: i.category.name),
        (_("Source"), lambda i: i.get_source_display()),
        (_("Priority"), lambda i: i.get_priority_display()),
        (_("Lead department"), lambda i: i.lead_department.name if i.lead_department else ""),
        (_("Owner"), lambda i: person_name(i.owner)),
        (_("Raised on"), lambda i: i.raised_on),
        (_("Deadline"), lambda i: i.deadline),
        (_("Original deadline"), lambda i: i.original_deadline),
        (_("Latest progress"), lambda i: i.latest_note or ""),
        (_("Progress date"), lambda i: local_date(i.latest_note_at)),
        (_("Resolution"), lambda i: i.resolution),
        (_("Description"), lambda i: i.description),
    ]


def issue_sheet(issues: Iterable) -> tuple[list[str], Iterable[list]]:
    """(header, rows) of issues as `issue_columns` defines them."""
    columns = issue_columns()
    return [str(h) for h, _get in columns], ([get(issue) for _h, get in columns] for issue in issues)
