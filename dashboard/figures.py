"""The leadership dashboard's figures (DESIGN §5), each defined once, here.

Two kinds of figure:

- **Period figures** count what HAPPENED in a period, from the issues' history: the events
  (`IssueEvent`) and the enterprise's feedback rounds (`FeedbackRound`), append-only rows
  whose typed columns record what a figure needs at the moment it happened (the day it
  counts on, whether it was in time, where it counts). A later reopen or edit writes new
  rows and changes no old one, so the report of a closed period never changes.
  Each is a `Tally` below: its history rows whose columns equal `match`, on its `date`.
  The card's number, its drill-down list (`Tally.rows`, the facts page) and the daily
  counts (`dashboard.rollup`, read when the dashboard is filtered by at most one
  dimension) all derive from that one definition.
- **Now figures** read the current state of the issues (`now_counts`): open, overdue
  (red), due soon, the colours and the red list, with `issues.models.colour_conditions`
  as the one definition of the colours. Their drill-down is the issue list.

Conventions that hold for every figure:

- Asia/Shanghai dates; a period is [start, end], both included.
- Enterprise issues only: a common issue (共性问题) is counted through the enterprise issues
  linked to it, which follow it when it is resolved.
- Filters: district and sector of the enterprise, and the lead department. Period figures
  use those AT THE TIME of each fact (the history rows' snapshot); now figures the current
  ones (as the issue list does).
- Facts with no department (raised, solved on the spot, triage) are not department figures:
  under a department filter their cards say so instead of showing a number.
- A rate is `Rate`: numerator, denominator and the percentage rounded half-up to one
  decimal; with no denominator it shows "—", never 0 % and never an error.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum

from issues.models import (
    Channel,
    EventKind,
    FeedbackRound,
    Issue,
    IssueEvent,
    Satisfaction,
    Scope,
    colour_conditions,
    now_conditions,
)

# Weight of "basically satisfied" in a satisfaction rate, as the 12345 hotline computes it.
BASICALLY_WEIGHT = Decimal("0.9")
# A league-table row is ranked only from this many in its denominator.
LEAGUE_MINIMUM = 5
RED_LIST_LENGTH = 20


def database_alias() -> str:
    """Dashboards read from the replica when one is configured (DESIGN §7)."""
    return "replica" if "replica" in settings.DATABASES else "default"


# -- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_for(kind: str, today: date) -> Period:
    """The week (Monday-Sunday), month, quarter or year containing `today`; "year" is 1
    January to today (本年), "12months" the 12 calendar months ending with this one (近12个月)."""
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6))
    if kind == "quarter":
        first = 3 * ((today.month - 1) // 3) + 1
        return Period(date(today.year, first, 1), month_end(today.year, first + 2))
    if kind == "year":
        return Period(date(today.year, 1, 1), today)
    if kind == "12months":
        year, month = (
            (today.year, today.month - 11) if today.month == 12 else (today.year - 1, today.month + 1)
        )
        return Period(date(year, month, 1), month_end(today.year, today.month))
    return Period(date(today.year, today.month, 1), month_end(today.year, today.month))


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


# -- filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters (all optional): district id, sector value, lead department id.
    `category` narrows a breakdown row's drill-down."""

    district: int | None = None
    sector: str | None = None
    department: int | None = None
    category: int | None = None

    # filter name → (history snapshot column, current issue column)
    COLUMNS = {
        "district": ("district_id", "enterprise__district_id"),
        "sector": ("sector", "enterprise__sector"),
        "department": ("lead_department_id", "lead_department_id"),
        "category": ("category_id", "category_id"),
    }

    def items(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.COLUMNS if getattr(self, name)}

    def history_q(self) -> Q:
        """History rows counted under these filters (where they counted at the time)."""
        return Q(**{self.COLUMNS[name][0]: value for name, value in self.items().items()})

    def issues_q(self) -> Q:
        """Issues counted under these filters now (as the issue list filters them)."""
        return Q(**{self.COLUMNS[name][1]: value for name, value in self.items().items()})

    def params(self) -> dict[str, Any]:
        """The same filters as GET parameters of the issue list and the facts page."""
        return self.items()

    def with_(self, **changes) -> Filters:
        return Filters(**{**self.items(), **changes})


# -- period figures: tallies of history -------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """What one period count counts: the rows of `source` whose typed columns equal `match`
    (a value, or a tuple for "one of"), on the day in column `date`; summing column `total`
    instead of counting rows when given."""

    source: type
    date: str
    match: dict[str, Any]
    total: str = ""

    def q(self) -> Q:
        return Q(**{f"{k}__in" if isinstance(v, tuple) else k: v for k, v in self.match.items()})

    def matches(self, row) -> bool:
        """The same condition on one row in memory (the rollup counts a new row with it)."""
        if not isinstance(row, self.source):
            return False
        for name, value in self.match.items():
            found = getattr(row, name)
            if not (found in value if isinstance(value, tuple) else found == value):
                return False
        return getattr(row, self.date) is not None

    def value(self, row) -> int:
        return getattr(row, self.total) if self.total else 1

    def aggregate(self):
        condition = self.q()
        return Sum(self.total, filter=condition) if self.total else Count("pk", filter=condition)

    def rows(self, period: Period, filters: Filters, using: str | None = None) -> QuerySet:
        """The history rows this tally counts: the drill-down of its card."""
        return self.source.objects.using(using or database_alias()).filter(
            self.q(),
            filters.history_q(),
            **{f"{self.date}__gte": period.start, f"{self.date}__lte": period.end},
        )


def _event(**match) -> Tally:
    return Tally(IssueEvent, "day", {"scope": Scope.INDIVIDUAL, **match})


def _round(**match) -> Tally:
    return Tally(FeedbackRound, "contacted_on", match)


RESOLVED, DEPARTMENT_RESOLVED = (
    {"kind": EventKind.RESOLVED},
    {"kind": EventKind.RESOLVED, "on_the_spot": False},
)
CLOSED_RESOLVED = (EventKind.CONFIRMED, EventKind.CLOSED_UNCONFIRMED)
SATISFIED, BASICALLY = Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED
ONLINE = {"channel": Channel.ONLINE}

TALLIES: dict[str, Tally] = {
    # Raised: one RAISED event per enterprise issue, on the day it was raised.
    "raised": _event(kind=EventKind.RAISED),
    # Every resolution (已解决), one per RESOLVED event: on the spot, or by a department.
    "resolved": _event(**RESOLVED),
    "solved_on_spot": _event(**RESOLVED, on_the_spot=True),
    # 部门办结: resolutions reported by departments (a resolution sent back and resolved
    # again counts twice: it was done twice).
    "department_resolved": _event(**DEPARTMENT_RESOLVED),
    "on_time": _event(**DEPARTMENT_RESOLVED, in_time=True),  # by the deadline in force then
    "on_time_original": _event(**DEPARTMENT_RESOLVED, in_time_original=True),
    "resolve_days": Tally(IssueEvent, "day", {"scope": Scope.INDIVIDUAL, **DEPARTMENT_RESOLVED}, "days"),
    # 交办: assigned to a department (the league table's "received").
    "assigned": _event(kind=EventKind.ASSIGNED),
    # Closing: confirmed by the enterprise, closed as an exception, or closed at triage.
    "closed": _event(kind=(*CLOSED_RESOLVED, EventKind.CLOSED)),
    "closed_resolved": _event(kind=CLOSED_RESOLVED),
    "closed_unconfirmed": _event(kind=EventKind.CLOSED_UNCONFIRMED),
    # Triage, counted on the day its 2-working-day window ended (`due_on`): the first
    # assignment, merge into a common issue, or close at triage of each issue.
    "triaged": Tally(IssueEvent, "due_on", {"scope": Scope.INDIVIDUAL, "triage": True}),
    "triaged_in_time": Tally(
        IssueEvent, "due_on", {"scope": Scope.INDIVIDUAL, "triage": True, "in_time": True}
    ),
    # Feedback rounds (回访), on the day the enterprise answered.
    "rounds": _round(),
    "reply_satisfied": _round(reply_satisfaction=SATISFIED),
    "reply_basically": _round(reply_satisfaction=BASICALLY),
    "solution_satisfied": _round(solution_satisfaction=SATISFIED),
    "solution_basically": _round(solution_satisfaction=BASICALLY),
    "sent_back": _round(sent_back=True),
    # The rounds the enterprise answered itself (a feedback link or its account), and the
    # ones staff recorded (phone, on site, other).
    "online_rounds": _round(**ONLINE),
    "staff_rounds": _round(channel=tuple(c for c in Channel.values if c != Channel.ONLINE)),
    "online_reply_satisfied": _round(**ONLINE, reply_satisfaction=SATISFIED),
    "online_reply_basically": _round(**ONLINE, reply_satisfaction=BASICALLY),
    "online_solution_satisfied": _round(**ONLINE, solution_satisfaction=SATISFIED),
    "online_solution_basically": _round(**ONLINE, solution_satisfaction=BASICALLY),
}
# Facts that have no department: raised and settled before any assignment, or triaged by
# coordinators. Their cards do not apply under a department filter.
NOT_DEPARTMENT_FIGURES = frozenset({"raised", "solved_on_spot", "resolved", "triaged", "triaged_in_time"})


def untriaged_late(period: Period, today: date, filters: Filters, using: str | None = None) -> QuerySet:
    """Enterprise issues still untriaged although their triage window ended in the period (by
    yesterday): the part of the response rate that has no history row yet. Once triaged,
    the triage event counts them late on the same day (`due_on`), so the figure stays."""
    last = min(period.end, today - timedelta(days=1))
    return Issue.objects.using(using or database_alias()).filter(
        filters.issues_q(),
        scope=Scope.INDIVIDUAL,
        triaged_at__isnull=True,
        respond_by__gte=period.start,
        respond_by__lte=last,
    )


def response_period(period: Period, today: date) -> Period:
    """The triage windows a period judges: those that ended in it, by yesterday."""
    return Period(period.start, min(period.end, today - timedelta(days=1)))


def tallies(period: Period, filters: Filters, using: str | None = None) -> dict[str, int]:
    """Every tally of the period, from the daily counts when they hold these filters (at
    most one dimension), else from the history rows themselves."""
    from . import rollup

    using = using or database_alias()
    if rollup.holds(filters):
        return rollup.sums(period, filters, using)
    return raw_tallies(period, filters, using)


def raw_tallies(
    period: Period, filters: Filters, using: str | None = None, by: str = "", names=TALLIES
) -> Any:
    """The tallies counted from the history rows: one query per source and date column.
    With `by` (a filter name), {key: tallies} grouped by that snapshot column. `names`: the
    tallies wanted (all by default)."""
    using = using or database_alias()
    found: dict[Any, dict[str, int]] = {}
    for (source, date_column), group in _tally_groups().items():
        chosen = [name for name in group if name in names]
        if not chosen:
            continue
        rows = source.objects.using(using).filter(
            filters.history_q(), **{f"{date_column}__gte": period.start, f"{date_column}__lte": period.end}
        )
        if source is IssueEvent:
            rows = rows.filter(scope=Scope.INDIVIDUAL)
        aggregates = {name: TALLIES[name].aggregate() for name in chosen}
        if by:
            column = Filters.COLUMNS[by][0]
            for row in rows.values(column).annotate(**aggregates).order_by():
                key = row.pop(column)
                if key not in (None, ""):
                    found.setdefault(key, {}).update({k: v or 0 for k, v in row.items()})
        else:
            found.update({k: v or 0 for k, v in rows.aggregate(**aggregates).items()})
    if by:
        return {key: dict.fromkeys(names, 0) | counts for key, counts in found.items()}
    return found


def row_count(name: str, period: Period, filters: Filters, using: str | None = None) -> int | None:
    """How many rows `TALLIES[name].rows(period, filters)` holds, from the daily counts when
    they hold these filters: the card's own number, without counting a year of history rows
    again. None when the rows must be counted (other filters, or a tally that sums)."""
    from . import rollup

    if TALLIES[name].total or not rollup.holds(filters):
        return None
    return rollup.sums(period, filters, using or database_alias(), names=(name,))[name]


def _tally_groups() -> dict[tuple[type, str], list[str]]:
    groups: dict[tuple[type, str], list[str]] = {}
    for name, tally in TALLIES.items():
        groups.setdefault((tally.source, tally.date), []).append(name)
    return groups


# -- rates --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """numerator / denominator as a percentage rounded half-up to one decimal ("—" when the
    denominator is 0). `numerator` may be weighted (satisfaction: satisfied + 0.9 × basically)."""

    numerator: Decimal | int
    denominator: int

    @property
    def percent(self) -> str | None:
        if not self.denominator:
            return None
        value = Decimal(self.numerator) * 100 / Decimal(self.denominator)
        return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    def __str__(self) -> str:
        return "—" if self.percent is None else f"{self.percent}%"

    def as_dict(self) -> dict[str, Any]:
        numerator = self.numerator
        if isinstance(numerator, Decimal):
            numerator = int(numerator) if numerator == numerator.to_integral_value() else str(numerator)
        return {"numerator": numerator, "denominator": self.denominator, "percent": self.percent}


def average(total: int, count: int) -> str | None:
    """total / count rounded half-up to one decimal, or None."""
    if not count:
        return None
    return str((Decimal(total) / Decimal(count)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def satisfaction(satisfied: int, basically: int, rounds: int) -> Rate:
    return Rate(satisfied + BASICALLY_WEIGHT * basically, rounds)


@dataclass
class Report:
    """The period figures of one period under one set of filters, with the rates."""

    period: Period
    filters: Filters
    counts: dict[str, int]
    untriaged_late: int
    coverage: dict[str, int] | None

    @property
    def department_view(self) -> bool:
        return bool(self.filters.department)

    def applies(self, name: str) -> bool:
        return not (self.department_view and name in NOT_DEPARTMENT_FIGURES)

    @property
    def response_due(self) -> int:
        return self.counts["triaged"] + self.untriaged_late

    def rates(self) -> dict[str, Rate]:
        c = self.counts
        return {
            "response_rate": Rate(c["triaged_in_time"], self.response_due),
            "resolution_rate": Rate(c["closed_resolved"], c["closed"]),
            "on_time_rate": Rate(c["on_time"], c["department_resolved"]),
            "on_time_original_rate": Rate(c["on_time_original"], c["department_resolved"]),
            "sent_back_rate": Rate(c["sent_back"], c["department_resolved"]),
            "reply_satisfaction": satisfaction(c["reply_satisfied"], c["reply_basically"], c["rounds"]),
            "solution_satisfaction": satisfaction(
                c["solution_satisfied"], c["solution_basically"], c["rounds"]
            ),
            "reply_satisfied_share": Rate(c["reply_satisfied"], c["rounds"]),
            "solution_satisfied_share": Rate(c["solution_satisfied"], c["rounds"]),
            "online_share": Rate(c["online_rounds"], c["rounds"]),
            "online_solution_satisfaction": satisfaction(
                c["online_solution_satisfied"], c["online_solution_basically"], c["online_rounds"]
            ),
            "staff_solution_satisfaction": satisfaction(
                c["solution_satisfied"] - c["online_solution_satisfied"],
                c["solution_basically"] - c["online_solution_basically"],
                c["rounds"] - c["online_rounds"],
            ),
            "online_reply_satisfaction": satisfaction(
                c["online_reply_satisfied"], c["online_reply_basically"], c["online_rounds"]
            ),
            "staff_reply_satisfaction": satisfaction(
                c["reply_satisfied"] - c["online_reply_satisfied"],
                c["reply_basically"] - c["online_reply_basically"],
                c["rounds"] - c["online_rounds"],
            ),
        }

    @property
    def average_days(self) -> str | None:
        return average(self.counts["resolve_days"], self.counts["department_resolved"])

    def as_json(self) -> dict[str, Any]:
        """The report for `report_figures --json`: counts, and every rate as
        {"numerator", "denominator", "percent"}; figures that do not apply are null."""
        rates = self.rates()
        data: dict[str, Any] = {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "filters": self.filters.params(),
        }
        for name, value in self.counts.items():
            if name != "resolve_days":
                data[name] = value if self.applies(name) else None
        data["solved_on_spot"] = data.pop("solved_on_spot")
        data["untriaged_late"] = self.untriaged_late if self.applies("triaged") else None
        for name, rate in rates.items():
            applies = name != "response_rate" or self.applies("triaged")
            data[name] = rate.as_dict() if applies else None
        data["average_days"] = self.average_days
        data["coverage"] = (
            Rate(self.coverage["visited"], self.coverage["key"]).as_dict() if self.coverage else None
        )
        return data


def report(period: Period, filters: Filters, today: date, using: str | None = None) -> Report:
    """The period figures: the tallies of the period, the triage windows that ended in it
    (by yesterday), and the visit coverage."""
    using = using or database_alias()
    counts = tallies(period, filters, using)
    windows = response_period(period, today)
    if windows.end >= windows.start:
        triage = tallies(windows, filters, using)
        counts["triaged"], counts["triaged_in_time"] = triage["triaged"], triage["triaged_in_time"]
        late = untriaged_late(period, today, filters, using).count()
    else:
        counts["triaged"] = counts["triaged_in_time"] = late = 0
    return Report(period, filters, counts, late, visit_coverage(period, filters, using))


# -- visit coverage -----------------------------------------------------------------------------


def visited_enterprises(period: Period, filters: Filters, using: str | None = None) -> QuerySet:
    """Key enterprises with a completed visit in the period (with a department filter: a
    visit the department took part in)."""
    from visits.models import Visit, VisitStatus

    visits = Visit.objects.filter(
        enterprise=OuterRef("pk"),
        status=VisitStatus.COMPLETED,
        visited_on__gte=period.start,
        visited_on__lte=period.end,
    )
    if filters.department:
        visits = visits.filter(accompanying_departments=filters.department)
    return key_enterprises(filters, using).filter(Exists(visits))


def key_enterprises(filters: Filters, using: str | None = None) -> QuerySet:
    from enterprises.models import Enterprise

    qs = Enterprise.objects.using(using or database_alias()).filter(is_key=True)
    if filters.district:
        qs = qs.filter(district_id=filters.district)
    if filters.sector:
        qs = qs.filter(sector=filters.sector)
    return qs


def visit_coverage(period: Period, filters: Filters, using: str | None = None) -> dict[str, int]:
    return {
        "visited": visited_enterprises(period, filters, using).count(),
        "key": key_enterprises(filters, using).count(),
    }


# -- now figures: the current state ------------------------------------------------------------


def now_counts(filters: Filters, today: date, by: str = "") -> Any:
    """The now figures (`IssueQuerySet.now_counts`) under the filters, as the issue list
    filters them (current attributes); with `by`, per value of that field."""
    return _counted_once(f"by:{by}", filters, today, lambda: _count_now(filters, today, by))


def now_counts_by_each(filters: Filters, today: date, fields: tuple[str, ...]) -> dict[str, dict]:
    """{field: {value: now figures}} for each of several fields, from ONE query grouped by all
    of them (a few hundred groups of open issues) added up per field: one pass over the open
    issues instead of one per field."""

    def count():
        groups = _count_now(filters, today, fields)
        result: dict[str, dict] = {name: {} for name in fields}
        for key, counts in groups.items():
            for name, value in zip(fields, key, strict=True):
                into = result[name].setdefault(value, dict.fromkeys(counts, 0))
                for figure, n in counts.items():
                    into[figure] += n
        return result

    return _counted_once(f"each:{','.join(fields)}", filters, today, count)


def _count_now(filters: Filters, today: date, by: str | tuple[str, ...]) -> Any:
    return Issue.objects.using(database_alias()).filter(filters.issues_q()).now_counts(today, by=by)


def _counted_once(what: str, filters: Filters, today: date, count):
    """`count()`, once per state of the issues rather than on every page (it is a pass over
    every open issue: tens of thousands in a city). Kept in the cache under today's date and
    the newest history row: every workflow step writes one, so a step shows at once, on
    every worker. Changes that write no history (an enterprise moved to another district,
    a new official calendar) show within NOW_FIGURES_CACHE_SECONDS; 0 counts every time."""
    seconds = settings.NOW_FIGURES_CACHE_SECONDS
    if not seconds:
        return count()
    using = database_alias()
    latest = IssueEvent.objects.using(using).aggregate(latest=Max("pk"))["latest"]
    key = f"now-figures:{using}:{today.isoformat()}:{latest}:{what}:{urlencode(filters.params())}"
    return cache.get_or_set(key, count, seconds)


def now_total(groups: dict, today: date) -> dict[str, int]:
    """The now figures of all the groups of one field (`now_counts(by=...)`) added up: every
    open issue is in exactly one group (None included), so this is the total."""
    return {name: sum(figures[name] for figures in groups.values()) for name in now_conditions(today)}


def red_list(filters: Filters, today: date, limit: int = RED_LIST_LENGTH) -> list[Issue]:
    """The supervision list (督办清单): overdue enterprise issues, longest overdue first."""
    qs = (
        Issue.objects.using(database_alias())
        .enterprise_issues()
        .open()
        .filter(filters.issues_q(), colour_conditions(today)["red"])
        .with_colour(today)
        .select_related("enterprise", "lead_department", "owner")
        .order_by("deadline", "respond_by", "id")[:limit]
    )
    rows = list(qs)
    for issue in rows:
        issue.days_late = issue.days_overdue(today)
    return rows


# -- breakdowns and the trend ---------------------------------------------------------------------


@dataclass
class Row:
    """One row of a breakdown: its key, label, the period figures and the now figures."""

    key: Any
    label: str
    report: Report
    now: dict[str, int] = field(default_factory=dict)

    @property
    def ranked(self) -> bool:
        return self.report.counts["department_resolved"] >= LEAGUE_MINIMUM


def breakdown(
    by: str, period: Period, filters: Filters, today: date, names=TALLIES
) -> dict[Any, dict[str, int]]:
    """{key: tallies} of the period grouped by a dimension ("department", "category",
    "district" or "sector"): from the daily counts without other filters, else counted.
    `names`: the tallies the table shows (summing all of them over a year of daily rows
    per department costs several times more)."""
    from . import rollup

    using = database_alias()
    if not filters.items():
        return rollup.sums(period, filters, using, by=by, names=names)
    return raw_tallies(period, filters, using, by=by, names=names)


def trend(period: Period, filters: Filters) -> list[tuple[date, int, int]]:
    """(month, raised, resolved) for each calendar month of the period."""
    months = []
    day = date(period.start.year, period.start.month, 1)
    while day <= period.end:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    from . import rollup

    return rollup.monthly(months, period, filters, database_alias())
