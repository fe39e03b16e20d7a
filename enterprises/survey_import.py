"""The survey import (DESIGN §6): ONE all-or-nothing pipeline for the admin and the command.

``import_survey_file`` reads the file (``formats.read_table``: size, format by content,
encoding, zip-bomb checks), maps the headers (Chinese or English, any order), parses every
cell as people type it, and collects EVERY error of the file, each with the row number as
Excel shows it (the header is row 1), the column header as written in the file and a
reason a coordinator can act on. If there is any error nothing is written. Otherwise, in
one transaction: enterprises are upserted by credit code, the survey is found or created
by name, each response is created or updated (keeping the raw row), and — if asked —
each stated need becomes an issue through ``issues.workflow.raise_issue``, never twice.

Only the first ``ERRORS_KEPT`` problems are kept with their text, the rest are counted: a
hostile file of 100,000 bad rows has a million problems, and a list of them all took
400 MB and made a page nobody reads past its first screen.

Master data is not rewritten silently: the preview lists every changed field of an
existing enterprise (old → new), and a change to a key enterprise (``Enterprise.is_key``)
is refused — nothing is imported, each changed field is named — unless the import is
told to allow it (the admin's tick, the command's ``--allow-key-changes``).

A need the enterprise already has an OPEN issue for (any source, any survey round: the
same words, whatever the width of the characters, spaces or punctuation) is not raised
again; the preview reports it as "already open as #N".

Lookups are done in bulk (districts, categories, enterprises, responses, already raised
needs) and writes use bulk_create / bulk_update, so 10,000 rows take seconds, not minutes.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from issues import access_log
from issues.models import OPEN_STATUSES, Category, Issue, Source

from .credit_code import normalize, validate_credit_code
from .formats import FileRejected, cell_text, read_table
from .models import District, Enterprise, OperatingStatus, OrderTrend, Sector, Survey, SurveyResponse

Progress = Callable[[str, int, int], None]

TEXT_LIMIT = 10_000  # difficulties and needs; a longer cell is almost surely a paste accident
MAX_WHOLE_NUMBER = 2_147_483_647
LOOKUP_CHUNK = 2000  # ids per IN (...): well under SQLite's 32,766 variables
ERRORS_KEPT = 100  # problems listed by the admin and the command; the rest are counted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Column:
    key: str
    chinese: str
    english: str
    required: bool = False


# The file format of data/README.md. Header texts are part of the format, not UI strings.
COLUMNS = [
    Column("credit_code", "统一社会信用代码", "credit_code", required=True),
    Column("name", "企业名称", "name", required=True),
    Column("district", "所在区", "district", required=True),
    Column("sector", "行业类别", "sector", required=True),
    Column("submitted_on", "填报日期", "submitted_on", required=True),
    Column("operating_status", "生产经营状况", "operating_status"),
    Column("order_trend", "订单情况", "orders_trend"),
    Column("employees", "从业人数", "employees"),
    Column("labour_shortage", "用工缺口", "labour_shortage"),
    Column("difficulties", "主要困难", "difficulties"),
    Column("need_categories", "诉求类别", "need_categories"),
    Column("needs", "具体诉求", "needs"),
    Column("contact_name", "联系人", "contact_name"),
    Column("contact_phone", "联系电话", "contact_phone"),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
TEMPLATE_HEADERS = [c.chinese for c in COLUMNS]


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


HEADER_ALIASES: dict[str, str] = {}
for _column in COLUMNS:
    HEADER_ALIASES[_header_key(_column.chinese)] = _column.key
    HEADER_ALIASES[_header_key(_column.english)] = _column.key
    HEADER_ALIASES[_header_key(_column.key)] = _column.key
HEADER_ALIASES[_header_key("order_trend")] = "order_trend"

SECTOR_LABELS = {
    "规模以上工业": Sector.INDUSTRIAL,
    "限额以上批发和零售业": Sector.WHOLESALE_RETAIL,
    "规模以上服务业": Sector.SERVICES,
    "其他": Sector.OTHER,
}
OPERATING_LABELS = {
    "正常": OperatingStatus.NORMAL,
    "基本正常": OperatingStatus.MOSTLY_NORMAL,
    "部分停产": OperatingStatus.PARTLY_STOPPED,
    "停产": OperatingStatus.STOPPED,
}
ORDER_LABELS = {"增长": OrderTrend.RISING, "持平": OrderTrend.FLAT, "下降": OrderTrend.FALLING}

CATEGORY_SEPARATORS = re.compile(r"[、;；,，]")
NEED_SEPARATORS = re.compile(r"[;；\r\n]+")
DATE_PATTERNS = [
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
]
WHOLE_NUMBER = re.compile(r"^(\d{1,3}(,\d{3})+|\d{1,12})$")


# -- results ---------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int | None  # as Excel shows it; None for the file as a whole
    column: str  # the header as written in the file; "" for a whole row or file
    reason: str

    def __str__(self) -> str:
        where = []
        if self.row:
            where.append(_("row %(row)s") % {"row": self.row})
        if self.column:
            where.append(_("column “%(column)s”") % {"column": self.column})
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


NEW, UPDATE, SKIP = "new", "update", "skip"


@dataclass(frozen=True)
class FieldChange:
    """One field of an existing enterprise the row would change."""

    field: str  # Enterprise field: name, district, sector, employees
    column: str  # the header as written in the file
    old: str  # as shown to people (the district's name, the sector's label)
    new: str
    old_value: str  # as stored (district id, sector code): what a confirmation is bound to
    new_value: str


@dataclass(frozen=True)
class OpenNeed:
    """A need of the file the enterprise already has an open issue for."""

    need: str
    issue_id: int


@dataclass
class PreviewRow:
    row: int
    credit_code: str
    name: str
    enterprise: str  # new / update / skip
    response: str  # new / update / skip
    issues: int  # issues this row would create
    changes: list[FieldChange] = field(default_factory=list)  # of the existing enterprise
    is_key: bool = False  # the existing enterprise is on the key list
    enterprise_name: str = ""  # the name it has now (before a change of name)
    already_open: list[OpenNeed] = field(default_factory=list)

    @property
    def action(self) -> str:
        if NEW in (self.enterprise, self.response):
            return NEW
        if UPDATE in (self.enterprise, self.response) or self.issues:
            return UPDATE
        return SKIP

    @property
    def key_change(self) -> bool:
        return self.is_key and bool(self.changes)


@dataclass
class ImportResult:
    filename: str
    survey_name: str
    dry_run: bool
    kind: str = ""
    encoding: str = ""
    total_rows: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first ERRORS_KEPT, in row order
    error_count: int = 0  # all of them
    preview: list[PreviewRow] = field(default_factory=list)
    enterprises_created: int = 0
    enterprises_updated: int = 0
    enterprises_unchanged: int = 0
    responses_created: int = 0
    responses_updated: int = 0
    responses_unchanged: int = 0
    issues_created: int = 0
    issues_already_open: int = 0  # needs not raised again: the enterprise has them open
    key_changes_refused: bool = False  # the only errors: changes to key enterprises not allowed
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def errors_not_listed(self) -> int:
        return self.error_count - len(self.errors)

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(error)

    @property
    def changed_rows(self) -> list[PreviewRow]:
        return [p for p in self.preview if p.changes]

    @property
    def key_change_rows(self) -> list[PreviewRow]:
        return [p for p in self.preview if p.key_change]

    @property
    def already_open_rows(self) -> list[PreviewRow]:
        return [p for p in self.preview if p.already_open]

    @property
    def key_changes_digest(self) -> str:
        """Names exactly the key-enterprise changes of this plan ("" when there are none): a
        confirmation given for one preview does not cover other changes found at confirm time."""
        changes = sorted(
            (p.credit_code, c.field, c.old_value, c.new_value)
            for p in self.key_change_rows
            for c in p.changes
        )
        if not changes:
            return ""
        return hashlib.sha256(repr(changes).encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        return {
            "enterprises_created": self.enterprises_created,
            "enterprises_updated": self.enterprises_updated,
            "enterprises_unchanged": self.enterprises_unchanged,
            "responses_created": self.responses_created,
            "responses_updated": self.responses_updated,
            "responses_unchanged": self.responses_unchanged,
            "issues_created": self.issues_created,
            "issues_already_open": self.issues_already_open,
        }


# -- parsing cells ---------------------------------------------------------------------------


class CellError(ValueError):
    pass


def _text(value) -> str:
    return cell_text(value).strip()


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        raise CellError(
            _("Excel shows this cell as a number, not a date: format the column as a date, e.g. 2023-01-15.")
        )
    text = unicodedata.normalize("NFKC", _text(value))
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise CellError(_("“%(value)s” is not a real date.") % {"value": text}) from None
    raise CellError(
        _("“%(value)s” is not a date: write it as 2023-01-15, 2023/1/15 or 2023年1月15日.")
        % {"value": text[:50]}
    )


def parse_whole_number(value) -> int | None:
    """Whole numbers with thousands separators; never float(): '1e1000000' must stay cheap."""
    if isinstance(value, bool):
        raise CellError(_("Write a whole number here, e.g. 1200."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("“%(value)s” is not a whole number.") % {"value": cell_text(value)})
        number = int(value)
    else:
        text = unicodedata.normalize("NFKC", _text(value)).replace(" ", "")
        if not text:
            return None
        if not WHOLE_NUMBER.match(text):
            shown = text if len(text) <= 20 else text[:20] + "…"
            if "万" in text or "亿" in text:
                raise CellError(
                    _("“%(value)s” is not a whole number: write it in digits, e.g. 12000 instead of 1.2万.")
                    % {"value": shown}
                )
            raise CellError(
                _("“%(value)s” is not a whole number: write digits only, e.g. 1200 or 1,200.")
                % {"value": shown}
            )
        number = int(text.replace(",", ""))
    if number < 0:
        raise CellError(_("The number cannot be negative."))
    if number > MAX_WHOLE_NUMBER:
        raise CellError(_("The number is too large."))
    return number


def choice_names(choices) -> dict[str, str]:
    """Lower-cased code and label (in the active language, e.g. "normal", "mostly normal")
    → code. Built once per import: each label is a lazy translation, ~10 µs to read."""
    names = {str(label).lower(): code for code, label in choices.choices}
    return names | {code: code for code in choices.values}


def parse_choice(value, labels: dict[str, str], choices, names: dict[str, str] | None = None) -> str:
    text = unicodedata.normalize("NFKC", _text(value))
    if not text:
        return ""
    if text in labels:
        return labels[text]
    names = choice_names(choices) if names is None else names
    lowered = text.lower()
    code = names.get(lowered.replace(" ", "_").replace("-", "_")) or names.get(lowered)
    if code is not None:
        return code
    raise CellError(
        _("“%(value)s” is not allowed here: use one of %(allowed)s.")
        % {"value": text[:50], "allowed": "、".join(labels)}
    )


def split_items(text: str, separators: re.Pattern) -> list[str]:
    return [item.strip() for item in separators.split(text or "") if item.strip()]


# -- the pipeline ----------------------------------------------------------------------------


@dataclass
class ParsedRow:
    row: int
    values: dict
    raw: dict[str, str]
    categories: list  # Category objects, in the file's order
    needs: list[str]


class _Lookups:
    def __init__(self):
        self.districts = {d.name: d for d in District.objects.all()}
        categories = list(Category.objects.all())
        self.categories = {c.name: c for c in categories} | {c.code.lower(): c for c in categories}
        self.category_names = [c.name for c in categories if c.is_active]
        self.other_category = next((c for c in categories if c.code == "other"), None)
        self.choice_names = {
            choices: choice_names(choices) for choices in (Sector, OperatingStatus, OrderTrend)
        }
        self.district_names = {d.pk: d.name for d in self.districts.values()}
        self.sector_labels = {code: str(label) for code, label in Sector.choices}


def _map_headers(headers: list[str], result: ImportResult) -> dict[str, int]:
    """column key → index in the row; records missing, duplicate and blank headers."""
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = HEADER_ALIASES.get(_header_key(header))
        if key is None:
            continue  # an extra column: kept in the raw row, otherwise ignored
        if key in mapping:
            result.add_error(RowError(1, header, _("This column appears twice; delete one of them.")))
            continue
        mapping[key] = index
    missing = [c.chinese for c in COLUMNS if c.required and c.key not in mapping]
    if missing:
        result.add_error(
            RowError(
                1,
                "",
                _(
                    "Required columns are missing: %(columns)s. Download the import template to "
                    "see the expected headers."
                )
                % {"columns": "、".join(missing)},
            )
        )
    return mapping


def _parse_row(
    number: int,
    cells: list,
    headers: list[str],
    mapping: dict[str, int],
    lookups: _Lookups,
    result: ImportResult,
) -> ParsedRow | None:
    before = result.error_count

    def cell(key):
        index = mapping.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def fail(key, reason):
        result.add_error(RowError(number, headers[mapping[key]], reason))

    def required_text(key, max_length):
        text = _text(cell(key))
        if not text:
            fail(key, _("This cell is empty; it is required."))
        elif len(text) > max_length:
            fail(key, _("Too long: at most %(n)s characters.") % {"n": max_length})
        return text

    def optional_text(key, max_length):
        if key not in mapping:
            return ""
        text = _text(cell(key))
        if len(text) > max_length:
            fail(key, _("Too long: at most %(n)s characters.") % {"n": max_length})
        return text

    values: dict = {}
    raw_code = cell("credit_code")
    if isinstance(raw_code, int | float) and not isinstance(raw_code, bool):
        fail(
            "credit_code",
            _(
                "Excel stored this code as a number and may have changed digits: "
                "format the column as Text and type it again."
            ),
        )
        code = ""
    else:
        code = normalize(_text(raw_code))
        if not code:
            fail("credit_code", _("This cell is empty; it is required."))
        else:
            try:
                validate_credit_code(code)
            except ValidationError as exc:
                fail("credit_code", " ".join(exc.messages))
    values["credit_code"] = code
    values["name"] = required_text("name", 200)

    district_name = unicodedata.normalize("NFKC", _text(cell("district")))
    values["district"] = lookups.districts.get(district_name)
    if not district_name:
        fail("district", _("This cell is empty; it is required."))
    elif values["district"] is None:
        fail(
            "district",
            _("Unknown district “%(value)s”: use one of %(allowed)s.")
            % {"value": district_name[:50], "allowed": "、".join(lookups.districts)},
        )

    for key, labels, choices, required in (
        ("sector", SECTOR_LABELS, Sector, True),
        ("operating_status", OPERATING_LABELS, OperatingStatus, False),
        ("order_trend", ORDER_LABELS, OrderTrend, False),
    ):
        if key not in mapping:
            values[key] = ""
            continue
        try:
            values[key] = parse_choice(cell(key), labels, choices, lookups.choice_names[choices])
        except CellError as exc:
            values[key] = ""
            fail(key, str(exc))
        else:
            if required and not values[key]:
                fail(key, _("This cell is empty; it is required."))

    raw_date = cell("submitted_on")
    if raw_date is None or (isinstance(raw_date, str) and not raw_date.strip()):
        fail("submitted_on", _("This cell is empty; it is required."))
    else:
        try:
            values["submitted_on"] = parse_date(raw_date)
        except CellError as exc:
            fail("submitted_on", str(exc))

    for key in ("employees", "labour_shortage"):
        values[key] = None
        if key in mapping:
            try:
                values[key] = parse_whole_number(cell(key))
            except CellError as exc:
                fail(key, str(exc))

    values["difficulties"] = optional_text("difficulties", TEXT_LIMIT)
    values["contact_name"] = optional_text("contact_name", 50)
    values["contact_phone"] = optional_text("contact_phone", 40)

    categories = []
    for name in split_items(
        unicodedata.normalize("NFKC", optional_text("need_categories", 1000)), CATEGORY_SEPARATORS
    ):
        category = lookups.categories.get(name) or lookups.categories.get(name.lower())
        if category is None:
            fail(
                "need_categories",
                _("Unknown need category “%(value)s”: use one of %(allowed)s.")
                % {"value": name[:50], "allowed": "、".join(lookups.category_names)},
            )
        elif category not in categories:
            categories.append(category)
    values["need_categories"] = "、".join(c.name for c in categories)
    if len(values["need_categories"]) > 200:
        fail("need_categories", _("Too many categories listed."))
    needs = split_items(optional_text("needs", TEXT_LIMIT), NEED_SEPARATORS)
    values["needs"] = "\n".join(needs)

    if result.error_count > before:
        return None
    raw = {
        header: cell_text(cells[i]) if i < len(cells) else "" for i, header in enumerate(headers) if header
    }
    return ParsedRow(number, values, raw, categories, needs)


ENTERPRISE_FIELDS = ["name", "district", "sector", "employees"]
RESPONSE_FIELDS = [
    "submitted_on",
    "operating_status",
    "order_trend",
    "employees",
    "labour_shortage",
    "difficulties",
    "needs",
    "need_categories",
    "contact_name",
    "contact_phone",
    "raw_row",
]


def _issue_title(need: str) -> str:
    return need if len(need) <= 200 else need[:199] + "…"


def need_key(text: str) -> str:
    """What makes two needs the same need: their words, whatever the width of the characters
    (NFKC), letter case, spaces, line breaks and punctuation ("用电容量不足，需增容变压器" and
    "用电容量不足, 需增容变压器。" are one need; a title cut at 200 characters with "…" is
    still the need it was cut from)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZC")


def _chunks(items: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_survey_file(
    *,
    data: bytes,
    filename: str,
    survey_name: str,
    by,
    create_issues: bool,
    dry_run: bool,
    allow_key_changes: bool = False,
    key_changes_seen: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Check, preview and (unless dry_run or any error) import one survey file, all or nothing.

    A change to an existing key enterprise is refused (every changed field is an error,
    nothing is imported) unless `allow_key_changes`; with `key_changes_seen` (the
    ``key_changes_digest`` of the preview the user confirmed) only exactly those changes
    are allowed: a preview confirmed before someone else changed the enterprises does not
    cover what changed since.
    """
    report = progress or (lambda stage, done, total: None)
    result = ImportResult(filename=filename, survey_name=(survey_name or "").strip(), dry_run=dry_run)
    if not result.survey_name:
        result.add_error(
            RowError(None, "", _("Give the survey round a name, e.g. 2023年一季度重点企业问卷."))
        )
        return result
    if len(result.survey_name) > 200:
        result.add_error(RowError(None, "", _("The survey name is too long: at most 200 characters.")))
        return result
    if create_issues and by is None:
        result.add_error(RowError(None, "", _("Creating issues needs the importing user.")))
        return result
    try:
        table = read_table(data)
    except FileRejected as exc:
        result.add_error(RowError(None, "", str(exc)))
        return result
    result.kind, result.encoding, result.total_rows = table.kind, table.encoding, len(table.rows)

    mapping = _map_headers(table.headers, result)
    if not result.ok:
        return result
    columns = {key: table.headers[index] for key, index in mapping.items()}
    lookups = _Lookups()

    parsed: list[ParsedRow] = []
    first_row_of: dict[str, int] = {}
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, start=1):
        row = _parse_row(number, cells, table.headers, mapping, lookups, result)
        index = mapping["credit_code"]
        code = normalize(_text(cells[index])) if index < len(cells) else ""
        if code and code in first_row_of:
            result.add_error(
                RowError(
                    number,
                    table.headers[index],
                    _("The same credit code is already on row %(row)s: each enterprise may appear once.")
                    % {"row": first_row_of[code]},
                )
            )
        elif row is not None:
            parsed.append(row)
        first_row_of.setdefault(code, number)
        if done % 500 == 0 or done == total:
            report("check", done, total)
    if not result.ok:
        # Rows are checked in order, so the kept problems are the file's first ones.
        return result

    # The last report before the transaction: the admin's background job shows "writing"
    # from here on. Reports made inside the transaction are invisible to everyone else until
    # it commits, so the job records none of them.
    report("write", 0, len(parsed))
    try:
        # Planned and written in ONE transaction, the enterprises it touches locked first (in
        # credit-code order: two imports never wait on each other crosswise): an import
        # running at the same moment on the same enterprises waits, then plans from what
        # this one wrote, instead of overwriting it from a stale plan.
        with transaction.atomic():
            plans = _plan(result, parsed, lookups, columns, create_issues, lock=not dry_run)
            if not dry_run:
                allowed = allow_key_changes and (
                    key_changes_seen is None or key_changes_seen == result.key_changes_digest
                )
                if result.key_change_rows and not allowed:
                    _refuse_key_changes(result, seen=key_changes_seen if allow_key_changes else None)
                else:
                    _write(result, plans, by, report)
    except OperationalError as exc:
        # The database could not write: disk full ("database or disk is full" on SQLite, "No
        # space left on device" on PostgreSQL), read-only, gone. The transaction is rolled
        # back: nothing of the file is kept. One message, for the admin page and the command.
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.error("survey import of %s failed in the database: %s", filename, detail)
        message = _(
            "Nothing was imported: the database could not write (%(reason)s). "
            "Free disk space or check the database, then import again."
        )
        result.add_error(RowError(None, "", message % {"reason": detail}))
        result.written = False
    except (IntegrityError, ValidationError) as exc:
        # Someone changed the same rows meanwhile (or a rule in the workflow refused a need):
        # the transaction is rolled back, so nothing of this file is kept.
        if isinstance(exc, ValidationError):
            reason = " ".join(exc.messages)
        else:  # table and key names are for the log, not for the page
            log.warning("survey import refused by the database: %s", exc)
            reason = _("someone changed the same enterprises or responses at the same time")
        result.add_error(
            RowError(None, "", _("Nothing was imported: %(reason)s. Please try again.") % {"reason": reason})
        )
        result.written = False
    return result


def _refuse_key_changes(result: ImportResult, *, seen: str | None) -> None:
    """Nothing is written: one problem per changed field of a key enterprise."""
    result.key_changes_refused = True
    if seen is not None:
        result.add_error(
            RowError(
                None,
                "",
                _(
                    "The changes to key enterprises are not the ones you confirmed: the enterprises "
                    "were changed after the preview. Check the changes below again."
                ),
            )
        )
    for preview in result.key_change_rows:
        for change in preview.changes:
            result.add_error(
                RowError(
                    preview.row,
                    change.column,
                    _(
                        "“%(enterprise)s” is a key enterprise: this would change it from “%(old)s” "
                        "to “%(new)s”, which needs an explicit confirmation."
                    )
                    % {"enterprise": preview.enterprise_name, "old": change.old, "new": change.new},
                )
            )


def _shown(field_name: str, value, lookups: _Lookups) -> str:
    """A stored enterprise value as people read it."""
    if value is None or value == "":
        return "—"
    if field_name == "district_id":
        return lookups.district_names.get(value, str(value))
    if field_name == "sector":
        return lookups.sector_labels.get(value, value)
    return str(value)


def _plan(
    result: ImportResult, parsed: list, lookups, columns: dict[str, str], create_issues: bool, lock: bool
) -> list:
    """What each row would do (also the preview's counts), from the rows that exist now;
    `lock`: lock the existing enterprises the file touches until the transaction ends."""
    # Everything existing that the file touches, in a few queries.
    codes = sorted(row.values["credit_code"] for row in parsed)
    enterprises: dict[str, Enterprise] = {}
    for chunk in _chunks(codes):
        found = Enterprise.objects.filter(credit_code__in=chunk).order_by("credit_code")
        if lock:
            found = found.select_for_update()
        enterprises.update({e.credit_code: e for e in found})
    survey = Survey.objects.filter(name=result.survey_name).first()
    responses: dict[int, SurveyResponse] = {}
    ids = [e.pk for e in enterprises.values()]
    if survey is not None and enterprises:
        for chunk in _chunks(ids):
            for response in SurveyResponse.objects.filter(survey=survey, enterprise_id__in=chunk):
                responses[response.enterprise_id] = response
    # In one query: the needs already raised from these responses (in any status: a need is
    # never raised twice from one answer), and the enterprises' open issues from any source
    # and any round — a need among them is not raised again either (the same answers re-sent
    # under another round name, as UTF-8 after GB18030), but reported with the issue.
    raised: dict[int, set[str]] = {}  # response id → titles
    open_needs: dict[int, dict[str, int]] = {}  # enterprise id → need key → the oldest issue's id
    if create_issues and enterprises:
        for chunk in _chunks(ids):
            condition = Q(enterprise_id__in=chunk, status__in=OPEN_STATUSES)
            if survey is not None:
                condition |= Q(
                    source=Source.SURVEY,
                    survey_response__survey=survey,
                    survey_response__enterprise_id__in=chunk,
                )
            found = (
                Issue.objects.filter(condition)
                .order_by("pk")
                .values_list("pk", "enterprise_id", "title", "status", "source", "survey_response_id")
            )
            for issue_id, enterprise_id, title, status, source, response_id in found:
                if source == Source.SURVEY and response_id is not None:
                    raised.setdefault(response_id, set()).add(title)
                if status in OPEN_STATUSES and enterprise_id is not None:
                    open_needs.setdefault(enterprise_id, {}).setdefault(need_key(title), issue_id)

    # The plan: what each row would do.
    plans = []
    for row in parsed:
        values = row.values
        enterprise = enterprises.get(values["credit_code"])
        changes: list[FieldChange] = []
        if enterprise is None:
            enterprise_action, changed_fields = NEW, []
        else:
            # district_id, not district: comparing the objects would load each one (a query per row).
            wanted = {
                "name": values["name"],
                "district_id": values["district"].pk,
                "sector": values["sector"],
                "employees": values["employees"] if values["employees"] is not None else enterprise.employees,
            }
            for name, new in wanted.items():
                old = getattr(enterprise, name)
                if old != new:
                    key = name.removesuffix("_id")
                    changes.append(
                        FieldChange(
                            field=key,
                            column=columns[key],
                            old=_shown(name, old, lookups),
                            new=_shown(name, new, lookups),
                            old_value="" if old is None else str(old),
                            new_value="" if new is None else str(new),
                        )
                    )
            changed_fields = [c.field for c in changes]
            enterprise_action = UPDATE if changed_fields else SKIP
        response = responses.get(enterprise.pk) if enterprise is not None else None
        answers = {f: values[f] for f in RESPONSE_FIELDS if f != "raw_row"} | {"raw_row": row.raw}
        if response is None:
            response_action = NEW
        else:
            response_action = UPDATE if any(getattr(response, f) != v for f, v in answers.items()) else SKIP
        new_needs, already_open = [], []
        if create_issues:
            seen = set(raised.get(response.pk, set())) if response is not None else set()
            open_here = open_needs.get(enterprise.pk, {}) if enterprise is not None else {}
            seen_keys: set[str] = set()
            for index, need in enumerate(row.needs):
                title = _issue_title(need)
                key = need_key(title)
                if title in seen or key in seen_keys:
                    continue  # raised from this very response already, or twice in the row
                seen_keys.add(key)
                if key in open_here:
                    already_open.append(OpenNeed(title, open_here[key]))
                    continue
                if index < len(row.categories):
                    category = row.categories[index]
                else:
                    category = row.categories[0] if row.categories else lookups.other_category
                new_needs.append((title, need, category))
        plans.append(
            (
                row,
                enterprise,
                enterprise_action,
                changed_fields,
                response,
                response_action,
                answers,
                new_needs,
            )
        )
        result.preview.append(
            PreviewRow(
                row.row,
                values["credit_code"],
                values["name"],
                enterprise_action,
                response_action,
                len(new_needs),
                changes=changes,
                is_key=enterprise is not None and enterprise.is_key,
                enterprise_name=enterprise.name if enterprise is not None else values["name"],
                already_open=already_open,
            )
        )
    for preview in result.preview:
        result.enterprises_created += preview.enterprise == NEW
        result.enterprises_updated += preview.enterprise == UPDATE
        result.enterprises_unchanged += preview.enterprise == SKIP
        result.responses_created += preview.response == NEW
        result.responses_updated += preview.response == UPDATE
        result.responses_unchanged += preview.response == SKIP
        result.issues_created += preview.issues
        result.issues_already_open += len(preview.already_open)
    return plans


@transaction.atomic
def _write(result: ImportResult, plans: list, by, report: Progress) -> None:
    from issues import workflow

    now = timezone.now()
    submitted = [plan[0].values["submitted_on"] for plan in plans]
    survey, _created = Survey.objects.get_or_create(
        name=result.survey_name, defaults={"held_on": min(submitted) if submitted else None}
    )

    new_enterprises, changed_enterprises = [], []
    for row, enterprise, action, changed_fields, *_rest in plans:
        values = row.values
        if action == NEW:
            new_enterprises.append(
                Enterprise(
                    credit_code=values["credit_code"],
                    name=values["name"],
                    district=values["district"],
                    sector=values["sector"],
                    employees=values["employees"],
                )
            )
        elif action == UPDATE:
            for name in changed_fields:
                setattr(enterprise, name, values[name])
            enterprise.updated_at = now
            changed_enterprises.append(enterprise)
    for enterprise in new_enterprises:
        enterprise.full_clean(exclude=["district"], validate_unique=False, validate_constraints=False)
    # With their history rows (issues.trail): a plain bulk write would record no change.
    bulk_create_with_history(new_enterprises, Enterprise, batch_size=500, default_user=by)
    if changed_enterprises:
        bulk_update_with_history(
            changed_enterprises,
            Enterprise,
            [*ENTERPRISE_FIELDS, "updated_at"],
            batch_size=500,
            default_user=by,
        )
    by_code = {e.credit_code: e for e in new_enterprises}
    report("write", len(plans) // 3, len(plans))

    source_file = result.filename[-255:]
    new_responses, changed_responses, issue_plans = [], [], []
    for row, enterprise, _action, _fields, response, response_action, answers, new_needs in plans:
        enterprise = enterprise or by_code[row.values["credit_code"]]
        if response_action == NEW:
            response = SurveyResponse(
                survey=survey,
                enterprise=enterprise,
                source_file=source_file,
                source_row=row.row,
                imported_by=by,
                **answers,
            )
            new_responses.append(response)
        elif response_action == UPDATE:
            for name, value in answers.items():
                setattr(response, name, value)
            response.source_file, response.source_row, response.imported_by = source_file, row.row, by
            changed_responses.append(response)
        if new_needs:
            issue_plans.append((row, enterprise, response, new_needs))
    SurveyResponse.objects.bulk_create(new_responses, batch_size=500)
    if changed_responses:
        SurveyResponse.objects.bulk_update(
            changed_responses, [*RESPONSE_FIELDS, "source_file", "source_row", "imported_by"], batch_size=500
        )
    report("write", 2 * len(plans) // 3, len(plans))

    for done, (row, enterprise, response, new_needs) in enumerate(issue_plans, start=1):
        for title, need, category in new_needs:
            description = _("Need stated in survey “%(survey)s” (%(file)s, row %(row)s): %(need)s") % {
                "survey": survey.name,
                "file": source_file,
                "row": row.row,
                "need": need,
            }
            workflow.raise_issue(
                by=by,
                enterprise=enterprise,
                title=title,
                description=description,
                category=category,
                source=Source.SURVEY,
                survey_response=response,
            )
        if done % 100 == 0:
            report("issues", done, len(issue_plans))
    report("write", len(plans), len(plans))
    result.written = True
    access_log.record_import(by=by, survey_name=survey.name, filename=source_file, rows=len(plans))
