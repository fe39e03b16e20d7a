"""Per-day rollup of the dashboard's period figures (`IssueDayFigure`), kept exact.

Why: the leadership dashboard over a year aggregated ~200,000 issue rows per request.
The period figures (raised, responded, assigned, resolved, closed, feedback) only change
when an issue changes, so they are summed per day once, when it changes, and a year is
then ~365 small rows per dimension. What depends on today (open, overdue, due soon,
colours, a response still pending) is still counted live over the small open set.

How it stays exact: database TRIGGERS on issues_issue (insert, update, delete) and on
enterprises_enterprise (district or sector changed) subtract the old row's contributions
and add the new row's, in the same statement and transaction as the write, whoever sends
it (workflow, admin, survey import, bulk seed, a test's queryset `.update()`, raw SQL).
PostgreSQL: statement-level triggers with transition tables (one grouped upsert per
statement, so a 5,000-row bulk insert costs one upsert); SQLite: row-level triggers.

`contributions()` below is the same definition in Python, written independently of the
SQL: `rebuild()` recomputes the table from the issues with it, and `differences()` (used
by `manage.py rebuild_figures --check`, nightly) compares. The figure definitions are
`issues.figures`' docstrings; each counter here is one `Count(filter=...)` there:

    by raised_on:        raised, solved_on_site, responded_in_time, responded_late
    by assigned_at date: assigned
    by resolved_at date: resolved, resolved_judged, resolved_on_time, resolve_days_sum
    by closed_at date:   closed, closed_resolved
    by contacted_on:     contacted, reply_with/satisfied/basically, solution_with/...

Month rows (`IssueMonthFigure`): the same contributions filed by calendar month, written by
the same triggers right after the day rows (each upsert in one sorted order, so concurrent
writers lock alike), so the periods made of whole months (month, quarter, year) read 12
rows a group for a year instead of 365. `differences()` checks them against the stored day
rows.

Dates of timestamps are Asia/Shanghai dates (on SQLite, which has no time zones, UTC+8:
Shanghai has kept that offset since 1991). Enterprise issues only (scope individual).
Dimensions: "all" (key ""), "department" (lead department id; none for an issue without
one), "category" (id), "district" (the enterprise's district id), "sector" (its value).
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection as default_connection
from django.db import transaction
from django.utils import timezone

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TABLE = "issues_issuedayfigure"
MONTH_TABLE = "issues_issuemonthfigure"

# (measure, day it is counted on)
MEASURES: dict[str, str] = {
    "raised": "raised",
    "solved_on_site": "raised",
    "responded_in_time": "raised",
    "responded_late": "raised",
    "assigned": "assigned",
    "resolved": "resolved",
    "resolved_judged": "resolved",
    "resolved_on_time": "resolved",
    "resolve_days_sum": "resolved",
    "closed": "closed",
    "closed_resolved": "closed",
    "contacted": "contacted",
    "reply_with": "contacted",
    "reply_satisfied": "contacted",
    "reply_basically": "contacted",
    "solution_with": "contacted",
    "solution_satisfied": "contacted",
    "solution_basically": "contacted",
}
DIMENSIONS = ("all", "department", "category", "district", "sector")
Rows = dict[tuple[date, str, str], dict[str, int]]  # (day or month, dimension, key): counters
# The issue columns the figures read (plus the enterprise's district and sector).
ISSUE_FIELDS = (
    "scope",
    "raised_on",
    "respond_by",
    "assigned_at",
    "closed_at",
    "resolved_at",
    "original_deadline",
    "solved_on_site",
    "outcome",
    "contacted_on",
    "reply_satisfaction",
    "solution_satisfaction",
    "lead_department_id",
    "category_id",
)


# -- the definition, in Python ------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What `contributions` reads: an issue's figure fields and its enterprise's place."""

    scope: str
    raised_on: date
    respond_by: date | None
    assigned_at: datetime | None
    closed_at: datetime | None
    resolved_at: datetime | None
    original_deadline: date | None
    solved_on_site: bool
    outcome: str
    contacted_on: date | None
    reply_satisfaction: str
    solution_satisfaction: str
    lead_department_id: int | None
    category_id: int | None
    district_id: int | None
    sector: str | None

    @classmethod
    def of(cls, issue) -> Facts:
        """From a saved Issue (reads its enterprise)."""
        enterprise = issue.enterprise
        return cls(
            **{f: getattr(issue, f) for f in ISSUE_FIELDS},
            district_id=enterprise.district_id if enterprise else None,
            sector=enterprise.sector if enterprise else None,
        )


def local_day(moment: datetime | None) -> date | None:
    return None if moment is None else timezone.localtime(moment, SHANGHAI).date()


def contributions(facts: Facts) -> Counter:
    """Counter[(day, dimension, key, measure)] = what this issue adds to the rollup."""
    out: Counter = Counter()
    if facts.scope != "individual":
        return out
    per_day: dict[str, tuple[date | None, dict[str, int]]] = {}
    responded = local_day(facts.assigned_at or facts.closed_at)
    judged_in = facts.respond_by is not None and responded is not None
    per_day["raised"] = (
        facts.raised_on,
        {
            "raised": 1,
            "solved_on_site": int(bool(facts.solved_on_site)),
            "responded_in_time": int(judged_in and responded <= facts.respond_by),
            "responded_late": int(judged_in and responded > facts.respond_by),
        },
    )
    per_day["assigned"] = (local_day(facts.assigned_at), {"assigned": 1})
    resolved_on = local_day(facts.resolved_at)
    judged = resolved_on is not None and facts.original_deadline is not None
    per_day["resolved"] = (
        resolved_on,
        {
            "resolved": 1,
            "resolved_judged": int(judged),
            "resolved_on_time": int(judged and resolved_on <= facts.original_deadline),
            "resolve_days_sum": (resolved_on - facts.raised_on).days if judged else 0,
        },
    )
    per_day["closed"] = (
        local_day(facts.closed_at),
        {"closed": 1, "closed_resolved": int(facts.outcome == "resolved")},
    )
    per_day["contacted"] = (
        facts.contacted_on,
        {
            "contacted": 1,
            "reply_with": int(facts.reply_satisfaction != ""),
            "reply_satisfied": int(facts.reply_satisfaction == "satisfied"),
            "reply_basically": int(facts.reply_satisfaction == "basically"),
            "solution_with": int(facts.solution_satisfaction != ""),
            "solution_satisfied": int(facts.solution_satisfaction == "satisfied"),
            "solution_basically": int(facts.solution_satisfaction == "basically"),
        },
    )
    keys = {
        "all": "",
        "department": None if facts.lead_department_id is None else str(facts.lead_department_id),
        "category": None if facts.category_id is None else str(facts.category_id),
        "district": None if facts.district_id is None else str(facts.district_id),
        "sector": facts.sector,
    }
    for day, measures in per_day.values():
        if day is None:
            continue
        for dimension, key in keys.items():
            if key is None:
                continue
            for measure, n in measures.items():
                if n:
                    out[(day, dimension, key, measure)] += n
    return out


def expected_rows(using: str = "default") -> Rows:
    """The whole rollup recomputed from the issues with `contributions` (no SQL sums)."""
    from .models import Issue

    total: Counter = Counter()
    rows = (
        Issue.objects.using(using)
        .filter(scope="individual")
        .values_list(*ISSUE_FIELDS, "enterprise__district_id", "enterprise__sector")
        .order_by()
    )
    for values in rows.iterator(chunk_size=5000):
        total.update(contributions(Facts(*values)))
    table: dict[tuple[date, str, str], dict[str, int]] = {}
    for (day, dimension, key, measure), n in total.items():
        if n:
            table.setdefault((day, dimension, key), dict.fromkeys(MEASURES, 0))[measure] = n
    return table


def stored_rows(using: str = "default") -> Rows:
    from .models import IssueDayFigure

    return _nonzero(IssueDayFigure.objects.using(using).values_list("day", "dimension", "key", *MEASURES))


def stored_months(using: str = "default") -> Rows:
    from .models import IssueMonthFigure

    return _nonzero(IssueMonthFigure.objects.using(using).values_list("month", "dimension", "key", *MEASURES))


def months_of(days: Rows) -> Rows:
    """Day rows summed per (first day of the month, dimension, key), all-zero sums left out."""
    months: Rows = {}
    for (day, dimension, key), counts in days.items():
        month = months.setdefault((day.replace(day=1), dimension, key), dict.fromkeys(MEASURES, 0))
        for measure, n in counts.items():
            month[measure] += n
    return {where: counts for where, counts in months.items() if any(counts.values())}


def _nonzero(rows) -> Rows:
    table = {}
    for when, dimension, key, *values in rows.iterator():
        if any(values):  # an all-zero row counts nothing
            table[(when, dimension, key)] = dict(zip(MEASURES, values, strict=True))
    return table


def _lock_issues(using: str) -> None:
    """No issue or enterprise changes while the rollup is compared or rebuilt (PostgreSQL)."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute("LOCK TABLE issues_issue, enterprises_enterprise IN SHARE MODE")


def differences(using: str = "default") -> list[str]:
    """Human-readable differences between the stored rollup and a recomputation: the day
    rows against the issues, the month rows against the stored day rows."""
    with transaction.atomic(using=using):
        _lock_issues(using)
        expected, stored = expected_rows(using), stored_rows(using)
        months = stored_months(using)
    return _changes(expected, stored, "") + _changes(months_of(stored), months, "month ")


def _changes(expected: dict, stored: dict, label: str) -> list[str]:
    out = []
    zero = dict.fromkeys(MEASURES, 0)
    for where in sorted(set(expected) | set(stored), key=lambda k: (k[1], k[2], k[0])):
        want, have = expected.get(where, zero), stored.get(where, zero)
        if want != have:
            changed = ", ".join(
                f"{m} stored {have[m]} expected {want[m]}" for m in MEASURES if have[m] != want[m]
            )
            out.append(f"{label}{where[0]} {where[1]} {where[2]!r}: {changed}")
    return out


def rebuild(using: str = "default") -> int:
    """Replace the whole rollup, day and month rows, with a recomputation from the issues.
    Returns the number of day rows."""
    from .models import IssueDayFigure, IssueMonthFigure

    with transaction.atomic(using=using):
        _lock_issues(using)
        expected = expected_rows(using)
        for model, rows, column in (
            (IssueDayFigure, expected, "day"),
            (IssueMonthFigure, months_of(expected), "month"),
        ):
            model.objects.using(using).all().delete()
            model.objects.using(using).bulk_create(
                (
                    model(**{column: when}, dimension=dimension, key=key, **counts)
                    for (when, dimension, key), counts in rows.items()
                ),
                batch_size=2000,
            )
    return len(expected)


# -- the same definition in SQL, for the triggers ------------------------------------------

COLUMNS = list(MEASURES)


def _sql(vendor: str) -> dict[str, str]:
    if vendor == "postgresql":
        return {
            "local": "(({x}) AT TIME ZONE 'Asia/Shanghai')::date",
            "days": "(({a}) - ({b}))",
            "text": "CAST({x} AS TEXT)",
            "month": "CAST(date_trunc('month', {x}) AS date)",
        }
    return {
        "local": "date({x}, '+8 hours')",
        "days": "CAST(julianday({a}) - julianday({b}) AS INTEGER)",
        "text": "CAST({x} AS TEXT)",
        "month": "date({x}, 'start of month')",
    }


def _case(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _day_groups(vendor: str) -> list[tuple[str, dict[str, str]]]:
    """(day expression, measure expressions) over a row aliased r."""
    s = _sql(vendor)

    def local(x):
        return s["local"].format(x=x)

    responded = local("COALESCE(r.assigned_at, r.closed_at)")
    resolved_on = local("r.resolved_at")
    judged = "r.resolved_at IS NOT NULL AND r.original_deadline IS NOT NULL"
    judged_in = f"r.respond_by IS NOT NULL AND {responded} IS NOT NULL"
    return [
        (
            "r.raised_on",
            {
                "raised": "1",
                "solved_on_site": _case("r.solved_on_site"),
                "responded_in_time": _case(f"{judged_in} AND {responded} <= r.respond_by"),
                "responded_late": _case(f"{judged_in} AND {responded} > r.respond_by"),
            },
        ),
        (local("r.assigned_at"), {"assigned": "1"}),
        (
            resolved_on,
            {
                "resolved": "1",
                "resolved_judged": _case(judged),
                "resolved_on_time": _case(f"{judged} AND {resolved_on} <= r.original_deadline"),
                "resolve_days_sum": f"CASE WHEN {judged} THEN "
                + s["days"].format(a=resolved_on, b="r.raised_on")
                + " ELSE 0 END",
            },
        ),
        (local("r.closed_at"), {"closed": "1", "closed_resolved": _case("r.outcome = 'resolved'")}),
        (
            "r.contacted_on",
            {
                "contacted": "1",
                "reply_with": _case("r.reply_satisfaction <> ''"),
                "reply_satisfied": _case("r.reply_satisfaction = 'satisfied'"),
                "reply_basically": _case("r.reply_satisfaction = 'basically'"),
                "solution_with": _case("r.solution_satisfaction <> ''"),
                "solution_satisfied": _case("r.solution_satisfaction = 'satisfied'"),
                "solution_basically": _case("r.solution_satisfaction = 'basically'"),
            },
        ),
    ]


def upsert_sql(vendor: str, rows: str, grain: str = "day") -> str:
    """One grouped upsert adding the contributions of `rows` (a SELECT giving the columns of
    `row_select` with a `sign` of +1 or -1) to the day rows, or with `grain="month"` to the
    month rows. Groups whose net change is zero write nothing."""
    s = _sql(vendor)
    table, column = (TABLE, "day") if grain == "day" else (MONTH_TABLE, "month")
    selects = []
    for day, measures in _day_groups(vendor):
        when = day if grain == "day" else s["month"].format(x=day)
        cols = ", ".join(
            f"({measures[m]}) * r.sign AS {m}" if m in measures else f"0 AS {m}" for m in COLUMNS
        )
        selects.append(
            f"SELECT {when} AS day, r.lead_department_id, r.category_id, r.district_id, r.sector, {cols} "
            f"FROM ({rows}) r WHERE r.scope = 'individual'"
        )
    key = (
        "CASE dm.dimension WHEN 'all' THEN '' "
        f"WHEN 'department' THEN {s['text'].format(x='g.lead_department_id')} "
        f"WHEN 'category' THEN {s['text'].format(x='g.category_id')} "
        f"WHEN 'district' THEN {s['text'].format(x='g.district_id')} "
        "ELSE g.sector END"
    )
    dims = " UNION ALL ".join(f"SELECT '{d}' AS dimension" for d in DIMENSIONS)
    sums = ", ".join(f"SUM(g.{m})" for m in COLUMNS)
    nonzero = " OR ".join(f"SUM(g.{m}) <> 0" for m in COLUMNS)
    updates = ", ".join(f"{m} = {table}.{m} + EXCLUDED.{m}" for m in COLUMNS)
    return (
        f'INSERT INTO {table} ("{column}", "dimension", "key", {", ".join(COLUMNS)}) '
        f"SELECT g.day, dm.dimension, {key}, {sums} "
        f"FROM ({' UNION ALL '.join(selects)}) g CROSS JOIN ({dims}) dm "
        f"WHERE g.day IS NOT NULL AND ({key}) IS NOT NULL "
        f"GROUP BY g.day, dm.dimension, {key} HAVING {nonzero} "
        # One order for every writer: concurrent transactions lock shared rows alike.
        "ORDER BY 2, 3, 1 "
        f'ON CONFLICT ("dimension", "key", "{column}") DO UPDATE SET {updates}'
    )


def rollup_sql(vendor: str, rows: str, months: bool) -> str:
    """The trigger body's statements: the day rows, then (`months`) the month rows, each
    upsert in one sorted order, so concurrent writers take their locks alike."""
    statements = [upsert_sql(vendor, rows)]
    if months:
        statements.append(upsert_sql(vendor, rows, grain="month"))
    return "; ".join(statements)


def row_select(prefix: str, district: str, sector: str, sign: int, tail: str) -> str:
    cols = ", ".join(f"{prefix}{f} AS {f}" for f in ISSUE_FIELDS)
    return f"SELECT {cols}, {district} AS district_id, {sector} AS sector, {sign} AS sign {tail}"


def _pg_issue_rows(table: str, sign: int) -> str:
    # Alias "t", not "new"/"old": those name plpgsql's row variables.
    return row_select(
        "t.",
        "e.district_id",
        "e.sector",
        sign,
        f"FROM {table} t JOIN enterprises_enterprise e ON e.id = t.enterprise_id",
    )


def _pg_enterprise_rows() -> str:
    tail = (
        "FROM old_ent oe JOIN new_ent ne ON ne.id = oe.id "
        "JOIN issues_issue i ON i.enterprise_id = ne.id "
        "WHERE oe.district_id <> ne.district_id OR oe.sector <> ne.sector"
    )
    return (
        row_select("i.", "oe.district_id", "oe.sector", -1, tail)
        + " UNION ALL "
        + row_select("i.", "ne.district_id", "ne.sector", 1, tail)
    )


def _sqlite_row(prefix: str, sign: int) -> str:
    p = prefix.rstrip(".")
    return row_select(
        prefix,
        f"(SELECT district_id FROM enterprises_enterprise WHERE id = {p}.enterprise_id)",
        f"(SELECT sector FROM enterprises_enterprise WHERE id = {p}.enterprise_id)",
        sign,
        "",
    )


def install_statements(vendor: str, months: bool = True) -> list[str]:
    """The triggers on issues and enterprises; `months`: writing the month rows too (not
    before migration 0010 made their table)."""
    if vendor == "postgresql":
        bodies = {
            "issue_figures_insert": rollup_sql(vendor, _pg_issue_rows("new_rows", 1), months),
            "issue_figures_update": rollup_sql(
                vendor, _pg_issue_rows("old_rows", -1) + " UNION ALL " + _pg_issue_rows("new_rows", 1), months
            ),
            "issue_figures_delete": rollup_sql(vendor, _pg_issue_rows("old_rows", -1), months),
            "enterprise_figures_update": rollup_sql(vendor, _pg_enterprise_rows(), months),
        }
        statements = []
        for name, body in bodies.items():
            statements.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ "
                f"BEGIN {body}; RETURN NULL; END; $$ LANGUAGE plpgsql"
            )
        statements += [
            "DROP TRIGGER IF EXISTS issue_figures_insert ON issues_issue",
            "CREATE TRIGGER issue_figures_insert AFTER INSERT ON issues_issue "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION issue_figures_insert()",
            "DROP TRIGGER IF EXISTS issue_figures_update ON issues_issue",
            "CREATE TRIGGER issue_figures_update AFTER UPDATE ON issues_issue "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION issue_figures_update()",
            "DROP TRIGGER IF EXISTS issue_figures_delete ON issues_issue",
            "CREATE TRIGGER issue_figures_delete AFTER DELETE ON issues_issue "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION issue_figures_delete()",
            "DROP TRIGGER IF EXISTS enterprise_figures_update ON enterprises_enterprise",
            "CREATE TRIGGER enterprise_figures_update AFTER UPDATE ON enterprises_enterprise "
            "REFERENCING OLD TABLE AS old_ent NEW TABLE AS new_ent FOR EACH STATEMENT "
            "EXECUTE FUNCTION enterprise_figures_update()",
        ]
        return statements
    if vendor == "sqlite":
        ent_tail = "FROM issues_issue i WHERE i.enterprise_id = NEW.id"
        enterprise_rows = (
            row_select("i.", "OLD.district_id", "OLD.sector", -1, ent_tail)
            + " UNION ALL "
            + row_select("i.", "NEW.district_id", "NEW.sector", 1, ent_tail)
        )
        changed = _sqlite_row("OLD.", -1) + " UNION ALL " + _sqlite_row("NEW.", 1)
        return [
            *[f"DROP TRIGGER IF EXISTS {n}" for n in SQLITE_TRIGGERS],
            "CREATE TRIGGER issue_figures_insert AFTER INSERT ON issues_issue FOR EACH ROW "
            f"BEGIN {rollup_sql(vendor, _sqlite_row('NEW.', 1), months)}; END",
            "CREATE TRIGGER issue_figures_update AFTER UPDATE ON issues_issue FOR EACH ROW "
            f"BEGIN {rollup_sql(vendor, changed, months)}; END",
            "CREATE TRIGGER issue_figures_delete AFTER DELETE ON issues_issue FOR EACH ROW "
            f"BEGIN {rollup_sql(vendor, _sqlite_row('OLD.', -1), months)}; END",
            "CREATE TRIGGER enterprise_figures_update AFTER UPDATE OF district_id, sector "
            "ON enterprises_enterprise FOR EACH ROW "
            "WHEN OLD.district_id IS NOT NEW.district_id OR OLD.sector IS NOT NEW.sector "
            f"BEGIN {rollup_sql(vendor, enterprise_rows, months)}; END",
        ]
    return []


SQLITE_TRIGGERS = (
    "issue_figures_insert",
    "issue_figures_update",
    "issue_figures_delete",
    "enterprise_figures_update",
)


def remove_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS issue_figures_insert ON issues_issue",
            "DROP TRIGGER IF EXISTS issue_figures_update ON issues_issue",
            "DROP TRIGGER IF EXISTS issue_figures_delete ON issues_issue",
            "DROP TRIGGER IF EXISTS enterprise_figures_update ON enterprises_enterprise",
            *[f"DROP FUNCTION IF EXISTS {n}()" for n in SQLITE_TRIGGERS],
        ]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {n}" for n in SQLITE_TRIGGERS]
    return []


def install(connection=default_connection, months: bool | None = None) -> None:
    """Every trigger. `months`: whether they write the month rows too; by default, when
    their table exists (migration 0010 made it)."""
    if months is None:
        months = MONTH_TABLE in connection.introspection.table_names()
    with connection.cursor() as cursor:
        for sql in install_statements(connection.vendor, months):
            cursor.execute(sql)


def remove(connection=default_connection) -> None:
    with connection.cursor() as cursor:
        for sql in remove_statements(connection.vendor):
            cursor.execute(sql)


def fill_sql(vendor: str) -> str:
    """Fill an EMPTY rollup from every existing issue in one statement (the migration)."""
    rows = row_select(
        "i.",
        "e.district_id",
        "e.sector",
        1,
        "FROM issues_issue i JOIN enterprises_enterprise e ON e.id = i.enterprise_id",
    )
    return upsert_sql(vendor, rows)


def month_fill_sql(vendor: str) -> str:
    """Fill an EMPTY month table from the day rows in one statement (migration 0010)."""
    month = _sql(vendor)["month"].format(x="d.day")
    return (
        f'INSERT INTO {MONTH_TABLE} ("month", "dimension", "key", {", ".join(COLUMNS)}) '
        f"SELECT {month}, d.dimension, d.key, {', '.join(f'SUM(d.{m})' for m in COLUMNS)} "
        f"FROM {TABLE} d GROUP BY {month}, d.dimension, d.key "
        f"HAVING {' OR '.join(f'SUM(d.{m}) <> 0' for m in COLUMNS)}"
    )
