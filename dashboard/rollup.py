"""Daily counts of the period figures (`FigureDay`), kept in step with the history.

Why: a year of a city is some 200,000 history rows; counted per day and dimension it is
365 rows for the whole city, and the dashboard reads those.

How it stays exact: history is append-only, so its counts only grow. `add(rows)` is called
by `issues.history` in the same transaction as it writes the rows, and counts each with
the tallies' own conditions (`Tally.matches`, the in-memory form of the same `match` as
the SQL of `Tally.q`): one additive upsert statement, its rows in one sorted order so that
concurrent writers lock alike. `rebuild()` makes the table again from the history through
the ORM (one GROUP BY per tally group and dimension); `differences()` compares the two
(`manage.py rebuild_figures --check`, nightly).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from django.db import connections, transaction
from django.db.models import Sum
from django.db.models.functions import TruncMonth

from issues.models import IssueEvent, Scope

from .figures import TALLIES, Filters, Period, _tally_groups
from .models import DIMENSIONS, FigureDay

# dimension → the history rows' snapshot column that keys it
KEYS = {
    "department": "lead_department_id",
    "category": "category_id",
    "district": "district_id",
    "sector": "sector",
}
Counts = dict[tuple[date, str, str], Counter]


def _keys(row):
    yield "all", ""
    for dimension, column in KEYS.items():
        value = getattr(row, column)
        if value not in (None, ""):
            yield dimension, str(value)


def contributions(rows) -> Counts:
    """What `rows` add to the daily counts: {(day, dimension, key): Counter(tally: n)}."""
    counts: Counts = defaultdict(Counter)
    for row in rows:
        for name, tally in TALLIES.items():
            if tally.matches(row):
                day = getattr(row, tally.date)
                for dimension, key in _keys(row):
                    counts[(day, dimension, key)][name] += tally.value(row)
    return counts


def add(rows, using: str = "default") -> None:
    """Count new history rows (called by `issues.history` inside its transaction)."""
    counts = contributions(rows)
    if counts:
        _upsert(counts, using)


def _upsert(counts: Counts, using: str) -> None:
    connection = connections[using]
    qn = connection.ops.quote_name
    table = qn(FigureDay._meta.db_table)
    names = sorted({name for counter in counts.values() for name in counter})
    columns = ["day", "dimension", "key", *names]
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params: list[Any] = []
    for (day, dimension, key), counter in sorted(counts.items()):
        params += [connection.ops.adapt_datefield_value(day), dimension, key, *(counter[n] for n in names)]
    sql = (
        f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) VALUES "
        f"{', '.join([row_sql] * len(counts))} "
        f"ON CONFLICT ({qn('dimension')}, {qn('key')}, {qn('day')}) DO UPDATE SET "
        + ", ".join(f"{qn(n)} = {table}.{qn(n)} + excluded.{qn(n)}" for n in names)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# -- reading ------------------------------------------------------------------------------------


def holds(filters: Filters) -> bool:
    """The daily counts are kept per ONE dimension at a time: no filter, or exactly one."""
    return len(filters.items()) <= 1


def _rows(period: Period, filters: Filters, using: str, by: str = ""):
    items = filters.items()
    if by:
        dimension, key = by, None
    elif items:
        ((dimension, value),) = items.items()
        key = str(value)
    else:
        dimension, key = "all", ""
    rows = FigureDay.objects.using(using).filter(
        dimension=dimension, day__gte=period.start, day__lte=period.end
    )
    return rows if key is None else rows.filter(key=key)


def sums(period: Period, filters: Filters, using: str, by: str = "", names=TALLIES) -> Any:
    """The period's tallies under `filters` (at most one dimension); with `by`, {key: tallies}
    for each department / category / district / sector with anything in the period.
    `names`: the tallies wanted (all by default)."""
    aggregates = {name: Sum(name) for name in names}
    rows = _rows(period, filters, using, by)
    if not by:
        return {name: value or 0 for name, value in rows.aggregate(**aggregates).items()}
    grouped = {}
    for row in rows.values("key").annotate(**aggregates).order_by():
        key = row.pop("key")
        grouped[key if by == "sector" else int(key)] = {k: v or 0 for k, v in row.items()}
    return grouped


def monthly(months: list[date], period: Period, filters: Filters, using: str) -> list[dict[str, Any]]:
    """The tallies of each calendar month of `months` (within the period), in one query."""
    names = ("raised", "resolved", "assigned", "department_resolved")
    if holds(filters):
        rows = (
            _rows(period, filters, using)
            .annotate(month=TruncMonth("day"))
            .values("month")
            .annotate(**{n: Sum(n) for n in names})
            .order_by()
        )
    else:
        rows = (
            IssueEvent.objects.using(using)
            .filter(filters.history_q(), scope=Scope.INDIVIDUAL, day__gte=period.start, day__lte=period.end)
            .annotate(month=TruncMonth("day"))
            .values("month")
            .annotate(**{n: TALLIES[n].aggregate() for n in names})
            .order_by()
        )
    found = {row.pop("month"): row for row in rows}
    return [{"month": m, **{n: (found.get(m) or {}).get(n) or 0 for n in names}} for m in months]


# -- rebuilding and checking --------------------------------------------------------------------


def expected(using: str = "default") -> dict[tuple[date, str, str], dict[str, int]]:
    """The daily counts made from the history itself, through the ORM."""
    counts: dict[tuple[date, str, str], dict[str, int]] = defaultdict(dict)
    for (source, date_column), names in _tally_groups().items():
        rows = source.objects.using(using).exclude(**{f"{date_column}__isnull": True})
        if source is IssueEvent:
            rows = rows.filter(scope=Scope.INDIVIDUAL)
        aggregates = {name: TALLIES[name].aggregate() for name in names}
        for dimension in DIMENSIONS:
            column = KEYS.get(dimension)
            group = [date_column, column] if column else [date_column]
            for row in rows.values(*group).annotate(**aggregates).order_by():
                key = "" if column is None else row[column]
                if column is not None and key in (None, ""):
                    continue
                values = {name: row[name] or 0 for name in names}
                if any(values.values()):
                    counts[(row[date_column], dimension, str(key))].update(values)
    return counts


def stored(using: str = "default") -> dict[tuple[date, str, str], dict[str, int]]:
    found = {}
    for row in FigureDay.objects.using(using).values("day", "dimension", "key", *TALLIES):
        key = (row.pop("day"), row.pop("dimension"), row.pop("key"))
        values = {name: n for name, n in row.items() if n}
        if values:
            found[key] = values
    return found


def differences(using: str = "default") -> list[str]:
    """Every daily count that differs from the history (empty when exact)."""
    wanted = {key: {n: v for n, v in values.items() if v} for key, values in expected(using).items()}
    wanted = {key: values for key, values in wanted.items() if values}
    have = stored(using)
    problems = []
    for key in sorted(set(wanted) | set(have)):
        if wanted.get(key, {}) != have.get(key, {}):
            problems.append(
                f"{key[0]} {key[1]} {key[2]}: stored {have.get(key, {})}, history {wanted.get(key, {})}"
            )
    return problems


@transaction.atomic
def rebuild(using: str = "default") -> int:
    """Make the daily counts again from the history; returns the number of rows."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        # Writers wait at their upsert until this commits, then add to what it wrote.
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {connection.ops.quote_name(FigureDay._meta.db_table)} IN EXCLUSIVE MODE"
            )
    counts = expected(using)
    FigureDay.objects.using(using).all().delete()
    FigureDay.objects.using(using).bulk_create(
        [
            FigureDay(day=day, dimension=dimension, key=key, **values)
            for (day, dimension, key), values in counts.items()
        ],
        batch_size=2000,
    )
    return len(counts)


def ensure_built(using: str = "default", **kwargs) -> None:
    """Build the daily counts when there are none but there is history (post_migrate)."""
    from issues.models import FeedbackRound

    if not FigureDay.objects.using(using).exists() and (
        IssueEvent.objects.using(using).exists() or FeedbackRound.objects.using(using).exists()
    ):
        rebuild(using)
