"""The leadership dashboard's figures (DESIGN §5), each defined once, here.

Every figure is computed in the database (conditional aggregation, grouped queries), in a
fixed number of SQL queries whatever the number of issues, and carries the issue-list (or
enterprise-list) query parameters that show exactly the rows it counts. The row conditions
(`q_*` functions below) are shared with `issues.figure_filters.FigureFilters`, so a figure
and its drill-down list cannot drift apart.

Conventions that hold for every figure:

- Time zone Asia/Shanghai. A period is [start, end], both dates included. A timestamp
  (assigned_at, resolved_at, closed_at) falls in the period when its local date does:
  2026-03-31 23:59:59+08:00 is March, 2026-04-01 00:00:01+08:00 is April.
- Enterprise issues only (scope = individual). A common issue (共性问题) is the policy-level
  container that many enterprise issues link to; each linked enterprise issue is counted
  on its own, so counting the common issue as well would count the same problem twice. The
  weekly list, which is a work list rather than a statistic, does show common issues.
- Filters: district and sector are the enterprise's; department is the lead department
  (主办). The coverage figure is about enterprises and ignores the department filter.
- A rate is None (shown as "—") when its denominator is 0, never a division by zero.
- "Now" figures (open, overdue, due soon, colours) ignore the period: they describe today.

Two ways to the same numbers. With a district, sector or department filter the figures
are counted over the (filtered, smaller) issue table as written below. Without one (the
leadership default, a whole city) the period counts are summed from the per-day rollup
`IssueDayFigure` (`issues.figure_rollup`: kept exact by database triggers in the same
transaction as every write), and only what depends on today (open, overdue, due soon,
colours, a response not yet due) is counted live over the open issues. Both give the
same numbers; tests/test_figure_rollup.py compares them after random workflow histories.
"""

from __future__ import annotations

import calendar
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .figure_rollup import MEASURES
from .models import (
    OPEN_STATUSES,
    Colour,
    Issue,
    IssueDayFigure,
    IssueMonthFigure,
    Outcome,
    Satisfaction,
    Scope,
    Status,
    colour_conditions,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Weight of "basically satisfied" in the satisfaction rate, as the 12345 hotline computes it.
BASICALLY_WEIGHT = 0.9
RED_LIST_LENGTH = 20
TREND_MONTHS = 12


def database_alias() -> str:
    """Dashboards read from the replica when one is configured (DESIGN §7)."""
    return "replica" if "replica" in settings.DATABASES else "default"


# -- periods -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        """The first instant of `start` in Asia/Shanghai."""
        return datetime.combine(self.start, time.min, tzinfo=SHANGHAI)

    @property
    def end_before(self) -> datetime:
        """The first instant after `end` in Asia/Shanghai (the range is half-open)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=SHANGHAI)


def period_for(kind: str, today: date) -> Period:
    """This week (Monday-Sunday), month, quarter or year containing `today`."""
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6))
    if kind == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        last_month = first_month + 2
        return Period(
            date(today.year, first_month, 1),
            date(today.year, last_month, calendar.monthrange(today.year, last_month)[1]),
        )
    if kind == "year":
        return Period(date(today.year, 1, 1), date(today.year, 12, 31))
    return Period(
        date(today.year, today.month, 1),
        date(today.year, today.month, calendar.monthrange(today.year, today.month)[1]),
    )


def month_period(year: int, month: int) -> Period:
    return Period(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


# -- row conditions, shared with FigureFilters --------------------------------------------
# Each takes plain values and returns a Q on Issue (or on a related path given by `p`).


def local_date(field_name: str):
    """The Asia/Shanghai calendar date of a timestamp column, in SQL (SQLite and PostgreSQL)."""
    return TruncDate(field_name, tzinfo=SHANGHAI)


def responded_on():
    """The local date of the first triage decision: the assignment or, for an issue closed
    without ever being assigned (duplicate, not actionable, solved on the spot), its closing.
    """
    return local_date(Coalesce("assigned_at", "closed_at"))


def resolved_on():
    """The local date the issue was reported resolved."""
    return local_date("resolved_at")


def q_individual() -> Q:
    return Q(scope=Scope.INDIVIDUAL)


def q_open() -> Q:
    """Not closed yet: new, assigned, in progress, or resolved awaiting confirmation."""
    return Q(status__in=OPEN_STATUSES)


def q_overdue(today: date) -> Q:
    """Red: being worked on (assigned / in progress) and past its (current) deadline."""
    return colour_conditions(today)[Colour.RED]


def q_due_soon(today: date) -> Q:
    """Due within 3 working days (the stored due_soon_from date), not yet overdue.

    The same rows as `Issue.objects.due_soon()`; it includes issues that are also yellow.
    """
    return colour_conditions(today)["due_soon"]


def q_yellow(today: date) -> Q:
    """Yellow: not overdue, a milestone late or no progress for 10 working days."""
    return colour_conditions(today)[Colour.YELLOW]


def q_blue(today: date) -> Q:
    """Blue: due soon and not yellow (red > yellow > blue, as `with_colour`)."""
    return colour_conditions(today)[Colour.BLUE]


def q_raised_in(period: Period) -> Q:
    return Q(raised_on__gte=period.start, raised_on__lte=period.end)


def q_timestamp_in(field_name: str, period: Period) -> Q:
    """A timestamp whose Asia/Shanghai date is in the period (index-friendly bounds)."""
    return Q(**{f"{field_name}__gte": period.start_at, f"{field_name}__lt": period.end_before})


def q_relevant(period: Period) -> Q:
    """Issues any period figure can count: something happened to them in the period, or
    they are open now. Every counted condition implies this, so adding it changes no
    number; it lets the database read a few indexes instead of every issue ever raised."""
    return (
        q_raised_in(period)
        | q_timestamp_in("assigned_at", period)
        | q_timestamp_in("resolved_at", period)
        | q_timestamp_in("closed_at", period)
        | Q(contacted_on__gte=period.start, contacted_on__lte=period.end)
        | q_open()
    )


def q_responded_in_time() -> Q:
    """Triaged (assigned, or closed unassigned) on or before respond_by."""
    return Q(respond_by__isnull=False) & Q(LessThanOrEqual(responded_on(), F("respond_by")))


def q_response_late(today: date) -> Q:
    """Triaged after respond_by, or still untriaged although respond_by has passed."""
    return Q(respond_by__isnull=False) & (
        Q(GreaterThan(responded_on(), F("respond_by")))
        | Q(assigned_at__isnull=True, closed_at__isnull=True, respond_by__lt=today)
    )


def q_response_pending(today: date) -> Q:
    """Not triaged yet, and respond_by is today or later: too early to judge."""
    return Q(assigned_at__isnull=True, closed_at__isnull=True, respond_by__gte=today)


def q_response_due(today: date) -> Q:
    """The response-rate denominator: in time or late (pending ones excluded)."""
    return q_responded_in_time() | q_response_late(today)


def q_resolved_judged() -> Q:
    """Reported resolved and with a deadline to judge against (not solved on the spot)."""
    return Q(resolved_at__isnull=False, original_deadline__isnull=False)


def q_resolved_on_time() -> Q:
    """Resolved on or before the ORIGINAL deadline (an extension does not make it on time)."""
    return q_resolved_judged() & Q(LessThanOrEqual(resolved_on(), F("original_deadline")))


def q_resolved_late() -> Q:
    return q_resolved_judged() & Q(GreaterThan(resolved_on(), F("original_deadline")))


def q_satisfaction(field_name: str, value: str) -> Q:
    """value: a Satisfaction value, or "any" for every issue with that feedback."""
    if value == "any":
        return ~Q(**{field_name: ""})
    return Q(**{field_name: value})


# -- the dashboard's figures -----------------------------------------------------------------


@dataclass
class Filters:
    """The dashboard's filters: district id, sector value, lead department id (all optional)."""

    district: int | None = None
    sector: str | None = None
    department: int | None = None

    def issue_q(self) -> Q:
        q = q_individual()
        if self.district:
            q &= Q(enterprise__district_id=self.district)
        if self.sector:
            q &= Q(enterprise__sector=self.sector)
        if self.department:
            q &= Q(lead_department_id=self.department)
        return q

    def params(self) -> dict[str, Any]:
        """The issue-list parameters for these filters (always scope=individual)."""
        params: dict[str, Any] = {"scope": Scope.INDIVIDUAL}
        if self.district:
            params["district"] = self.district
        if self.sector:
            params["sector"] = self.sector
        if self.department:
            params["department"] = self.department
        return params


# -- the rollup (no filter) ------------------------------------------------------------------


def uses_rollup(filters: Filters) -> bool:
    """The per-day rollup is kept for the whole city: used when nothing is filtered."""
    return not (filters.district or filters.sector or filters.department)


def q_untriaged() -> Q:
    """Never assigned nor closed. Such an issue is new (the check constraints say so: an
    assigned, resolved or closed one has assigned_at or closed_at), so status=new is implied
    and lets the database read the small open part of the (status, deadline) index."""
    return Q(status=Status.NEW, assigned_at__isnull=True, closed_at__isnull=True)


def q_response_late_untriaged(today: date) -> Q:
    """The part of `q_response_late` that depends on today (the rollup holds the rest)."""
    return q_untriaged() & Q(respond_by__lt=today)


def q_in_days(period: Period) -> Q:
    return Q(day__gte=period.start, day__lte=period.end)


def rollup_rows(period: Period, alias: str):
    """The rollup rows of `period`: its months' rows when it is whole months (a month,
    quarter or year: a year is 12 rows a group instead of 365), else its days' rows. Both
    have the same counters; only the date column differs."""
    if period.start.day == 1 and (period.end + timedelta(days=1)).day == 1:
        return IssueMonthFigure.objects.using(alias).filter(month__gte=period.start, month__lte=period.end)
    return IssueDayFigure.objects.using(alias).filter(q_in_days(period))


def _sum(measure):
    return Coalesce(Sum(measure), 0)


def _relevant_sum():
    """Rollup twin of `q_relevant` minus the open part: anything happened (in the rows read:
    the queries select the period's days)."""
    return _sum(F("raised") + F("assigned") + F("resolved") + F("closed") + F("contacted"))


def _open_issues(alias: str):
    return Issue.objects.using(alias).filter(q_individual(), q_open())


LIVE_GROUPS = {"category": "category", "district": "enterprise__district", "sector": "enterprise__sector"}
LIVE_COUNTS = ("open", "overdue", "due_soon", "yellow", "blue", "late_untriaged", "response_pending")


@dataclass
class Live:
    """The "now" figures of the unfiltered dashboard, from TWO passes over the open
    enterprise issues (one grouped by lead department, one by category × district ×
    sector) instead of one pass per table: the summary sums the first, the league table
    reads it, each breakdown sums the second by its own key."""

    by_department: dict[int | None, dict[str, int]]
    by_group: list[dict[str, Any]]

    def total(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for counts in self.by_department.values():
            for name, n in counts.items():
                total[name] = total.get(name, 0) + n
        return total

    def by(self, dimension: str) -> dict[Any, tuple[int, int]]:
        """{group key as the rollup stores it (text): (open, overdue)} for one breakdown."""
        field_name, found = LIVE_GROUPS[dimension], {}
        for row in self.by_group:
            if row[field_name] is None:
                continue
            key = str(row[field_name])
            open_now, overdue_now = found.get(key, (0, 0))
            found[key] = (open_now + row["open"], overdue_now + row["overdue"])
        return found


def live_counts(period: Period, today: date) -> Live:
    alias = database_alias()
    raised = q_raised_in(period)
    per_department = (
        _open_issues(alias)
        .values("lead_department")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=q_overdue(today)),
            due_soon=Count("pk", filter=q_due_soon(today)),
            yellow=Count("pk", filter=q_yellow(today)),
            blue=Count("pk", filter=q_blue(today)),
            late_untriaged=Count("pk", filter=raised & q_response_late_untriaged(today)),
            response_pending=Count("pk", filter=raised & q_response_pending(today)),
        )
        .order_by()
    )
    per_group = (
        _open_issues(alias)
        .values(*LIVE_GROUPS.values())
        .annotate(open=Count("pk"), overdue=Count("pk", filter=q_overdue(today)))
        .order_by()
    )
    return Live({row.pop("lead_department"): row for row in per_department}, list(per_group))


def _rollup_summary(period: Period, today: date, live: Live | None) -> dict[str, Any]:
    alias = database_alias()
    sums = (
        rollup_rows(period, alias)
        .filter(dimension="all")
        .aggregate(**{m: Coalesce(Sum(m), 0) for m in MEASURES})
    )
    now = dict.fromkeys(LIVE_COUNTS, 0) | (live or live_counts(period, today)).total()
    now["red"] = now["overdue"]
    row = {
        "raised": sums["raised"],
        "solved_on_site": sums["solved_on_site"],
        **{k: now[k] for k in ("open", "overdue", "due_soon", "red", "yellow", "blue")},
        "response_in_time": sums["responded_in_time"],
        "response_due": sums["responded_in_time"] + sums["responded_late"] + now["late_untriaged"],
        "response_pending": now["response_pending"],
        **{
            k: sums[k]
            for k in ("closed", "closed_resolved", "resolved", "resolved_judged", "resolved_on_time")
        },
    }
    for kind in ("reply", "solution"):
        for part in ("with", "satisfied", "basically"):
            row[f"{kind}_{part}"] = sums[f"{kind}_{part}"]
    row["days_sum"] = timedelta(days=sums["resolve_days_sum"])
    return row


def rate(numerator: float | None, denominator: int | None) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return (numerator or 0) / denominator


def satisfaction_rate(satisfied: int, basically: int, with_feedback: int) -> float | None:
    """(satisfied + 0.9 × basically satisfied) / issues with that feedback (12345 practice)."""
    return rate(satisfied + BASICALLY_WEIGHT * basically, with_feedback)


def _days(value) -> float | None:
    """An average duration from the database (timedelta, or microseconds on some backends)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    return float(value) / 86400 / 1_000_000


def _d(day: date) -> str:
    return day.isoformat()


def summary(
    period: Period, filters: Filters, today: date | None = None, live: Live | None = None
) -> dict[str, Any]:
    """Every card figure in ONE query (conditional aggregation over enterprise issues).

    - raised: raised_on in the period.
    - solved_on_site: raised in the period and solved on the spot (closed, outcome resolved).
    - open (now): status new / assigned / in progress / resolved (not closed).
    - overdue (now): assigned or in progress with deadline < today (red).
    - due_soon (now): assigned or in progress, due_soon_from ≤ today ≤ deadline.
    - red / yellow / blue (now): the supervision colour, red > yellow > blue.
    - response rate = responded in time / response due, among issues raised in the period.
      Responded = assigned (or, never assigned, closed: duplicate, not actionable, solved on
      the spot) at a local date ≤ respond_by (= raised_on + 2 official working days, stored).
      Due = responded in time, responded late, or not yet responded and respond_by < today.
      An unassigned issue whose respond_by is today or later is pending: in neither part.
    - resolution rate = closed with outcome resolved / closed, closed_at in the period.
    - on-time rate = resolved on or before the ORIGINAL deadline / resolved with a deadline,
      resolved_at in the period (solved-on-the-spot issues have no deadline: not counted).
    - reply / solution satisfaction rate = (satisfied + 0.9 × basically satisfied) / issues
      with that feedback, contacted_on in the period; satisfied share = satisfied / with.
    - average days to resolve = mean of (local date of resolved_at − raised_on) in days over
      the on-time rate's denominator (issues handled by a department, resolved in period).
    """
    today = today or timezone.localdate()
    if uses_rollup(filters):
        row = _rollup_summary(period, today, live)
    else:
        row = _raw_summary(period, filters, today)
    days_sum = row.pop("days_sum")
    row["avg_days"] = _days(days_sum) / row["resolved_judged"] if row["resolved_judged"] else None
    row["response_rate"] = rate(row["response_in_time"], row["response_due"])
    row["resolution_rate"] = rate(row["closed_resolved"], row["closed"])
    row["on_time_rate"] = rate(row["resolved_on_time"], row["resolved_judged"])
    for kind in ("reply", "solution"):
        row[f"{kind}_rate"] = satisfaction_rate(
            row[f"{kind}_satisfied"], row[f"{kind}_basically"], row[f"{kind}_with"]
        )
        row[f"{kind}_satisfied_share"] = rate(row[f"{kind}_satisfied"], row[f"{kind}_with"])
    return row


def _raw_summary(period: Period, filters: Filters, today: date) -> dict[str, Any]:
    """`summary` counted over the issue table, in ONE query. The average days to resolve is
    carried as the sum of days (exact whole days), divided by its count in `summary`."""
    raised = q_raised_in(period)
    resolved_in = q_timestamp_in("resolved_at", period)
    closed_in = q_timestamp_in("closed_at", period)
    contacted = Q(contacted_on__gte=period.start, contacted_on__lte=period.end)
    days_to_resolve = ExpressionWrapper(resolved_on() - F("raised_on"), output_field=DurationField())
    counts = {
        "raised": raised,
        "solved_on_site": raised & Q(solved_on_site=True),
        "open": q_open(),
        "overdue": q_overdue(today),
        "due_soon": q_due_soon(today),
        "red": q_overdue(today),
        "yellow": q_yellow(today),
        "blue": q_blue(today),
        "response_in_time": raised & q_responded_in_time(),
        "response_due": raised & q_response_due(today),
        "response_pending": raised & q_response_pending(today),
        "closed": closed_in,
        "closed_resolved": closed_in & Q(outcome=Outcome.RESOLVED),
        "resolved": resolved_in,
        "resolved_judged": resolved_in & q_resolved_judged(),
        "resolved_on_time": resolved_in & q_resolved_on_time(),
    }
    for kind in ("reply", "solution"):
        name = f"{kind}_satisfaction"
        counts[f"{kind}_with"] = contacted & q_satisfaction(name, "any")
        counts[f"{kind}_satisfied"] = contacted & Q(**{name: Satisfaction.SATISFIED})
        counts[f"{kind}_basically"] = contacted & Q(**{name: Satisfaction.BASICALLY_SATISFIED})
    aggregates = {key: Count("pk", filter=q) for key, q in counts.items()}
    aggregates["days_sum"] = Sum(days_to_resolve, filter=resolved_in & q_resolved_judged())
    qs = Issue.objects.using(database_alias()).filter(filters.issue_q(), q_relevant(period))
    return qs.aggregate(**aggregates)


def summary_params(period: Period, filters: Filters) -> dict[str, dict[str, Any]]:
    """For each count in `summary`, the issue-list parameters that list exactly its rows."""
    base = filters.params()
    raised = {**base, "raised_after": _d(period.start), "raised_before": _d(period.end)}
    resolved = {**base, "resolved_after": _d(period.start), "resolved_before": _d(period.end)}
    closed = {**base, "closed_after": _d(period.start), "closed_before": _d(period.end)}
    contacted = {**base, "contacted_after": _d(period.start), "contacted_before": _d(period.end)}
    params = {
        "raised": raised,
        "solved_on_site": {**raised, "solved_on_site": "1"},
        "open": {**base, "open": "1"},
        "overdue": {**base, "overdue": "1"},
        "due_soon": {**base, "due_soon": "1"},
        "red": {**base, "colour": "red"},
        "yellow": {**base, "colour": "yellow"},
        "blue": {**base, "colour": "blue"},
        "response_in_time": {**raised, "response": "in_time"},
        "response_due": {**raised, "response": "due"},
        "response_pending": {**raised, "response": "pending"},
        "closed": closed,
        "closed_resolved": {**closed, "outcome": Outcome.RESOLVED},
        "resolved": resolved,
        "resolved_judged": {**resolved, "resolved_on_time": "any"},
        "resolved_on_time": {**resolved, "resolved_on_time": "1"},
    }
    for kind in ("reply", "solution"):
        name = f"{kind}_satisfaction"
        params[f"{kind}_with"] = {**contacted, name: "any"}
        params[f"{kind}_satisfied"] = {**contacted, name: Satisfaction.SATISFIED}
        params[f"{kind}_basically"] = {**contacted, name: Satisfaction.BASICALLY_SATISFIED}
    return params


def visit_coverage(period: Period, filters: Filters) -> dict[str, Any]:
    """Visit coverage = key enterprises with ≥ 1 COMPLETED visit dated in the period / key
    enterprises (is_key), in ONE query. District and sector filters apply; department does not.
    """
    from enterprises.models import Enterprise
    from visits.models import Visit, VisitStatus

    visited = Visit.objects.filter(
        enterprise=OuterRef("pk"),
        status=VisitStatus.COMPLETED,
        visited_on__gte=period.start,
        visited_on__lte=period.end,
    )
    qs = Enterprise.objects.using(database_alias()).filter(is_key=True)
    base: dict[str, Any] = {"is_key": "true"}
    if filters.district:
        qs = qs.filter(district_id=filters.district)
        base["district"] = filters.district
    if filters.sector:
        qs = qs.filter(sector=filters.sector)
        base["sector"] = filters.sector
    row = qs.aggregate(key=Count("pk"), visited=Count("pk", filter=Q(Exists(visited))))
    row["rate"] = rate(row["visited"], row["key"])
    row["params_key"] = base
    row["params_visited"] = {
        **base,
        "visited": "yes",
        "visited_after": _d(period.start),
        "visited_before": _d(period.end),
    }
    return row


def red_list(filters: Filters, today: date | None = None, limit: int = RED_LIST_LENGTH) -> list[Issue]:
    """The supervision list (督办清单): overdue enterprise issues, most days overdue first
    (deadline ascending), at most `limit`, in ONE query. days_overdue = today − deadline.
    """
    today = today or timezone.localdate()
    rows = list(
        Issue.objects.using(database_alias())
        .filter(filters.issue_q() & q_overdue(today))
        .select_related("enterprise", "lead_department", "owner")
        .order_by("deadline", "id")[:limit]
    )
    for issue in rows:
        issue.days_late = (today - issue.deadline).days
        issue.colour = "red"
    return rows


@dataclass
class GroupRow:
    key: Any
    label: str
    counts: dict[str, Any] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


def league_table(
    period: Period, filters: Filters, today: date | None = None, live: Live | None = None
) -> list[GroupRow]:
    """Department league table (per lead department), ONE grouped query plus the names:

    - assigned: assigned_at in the period;
    - resolved: resolved_at in the period;
    - on-time rate: resolved on or before the original deadline / resolved with a deadline
      (resolved in the period);
    - response rate: as in `summary`, among issues raised in the period now led by it;
    - solution satisfaction rate: (satisfied + 0.9 × basically) / with feedback, contacted
      in the period;
    - open and overdue (now).
    Ranked by on-time rate, then response rate (None last), then name. Issues with no lead
    department (new ones) are not in the table: they are the coordinator's, not a unit's.
    """
    from .models import Department

    today = today or timezone.localdate()
    raised = q_raised_in(period)
    resolved_in = q_timestamp_in("resolved_at", period)
    contacted = Q(contacted_on__gte=period.start, contacted_on__lte=period.end)
    counts = {
        "assigned": q_timestamp_in("assigned_at", period),
        "resolved": resolved_in,
        "resolved_judged": resolved_in & q_resolved_judged(),
        "resolved_on_time": resolved_in & q_resolved_on_time(),
        "response_in_time": raised & q_responded_in_time(),
        "response_due": raised & q_response_due(today),
        "solution_with": contacted & q_satisfaction("solution_satisfaction", "any"),
        "solution_satisfied": contacted & Q(solution_satisfaction=Satisfaction.SATISFIED),
        "solution_basically": contacted & Q(solution_satisfaction=Satisfaction.BASICALLY_SATISFIED),
        "open": q_open(),
        "overdue": q_overdue(today),
    }
    alias = database_alias()
    departments = Department.objects.using(alias).only("id", "name", "short_name")
    if uses_rollup(filters):
        live = live or live_counts(period, today)
        by_department, departments = _rollup_league(period, alias, departments, live)
    else:
        grouped = (
            Issue.objects.using(alias)
            .filter(filters.issue_q(), q_relevant(period), lead_department__isnull=False)
            .values("lead_department")
            .annotate(**{key: Count("pk", filter=q) for key, q in counts.items()})
            .order_by()
        )
        by_department = {row["lead_department"]: row for row in grouped}
        if filters.department:
            departments = departments.filter(pk=filters.department)
        else:
            departments = departments.filter(Q(is_active=True) | Q(pk__in=list(by_department)))
    base_params = summary_params(period, filters)
    rows = []
    for department in departments:
        found = by_department.get(department.pk, {})
        row = GroupRow(department.pk, department.short_name or department.name)
        row.counts = {key: found.get(key, 0) for key in counts}
        row.counts["on_time_rate"] = rate(row.counts["resolved_on_time"], row.counts["resolved_judged"])
        row.counts["response_rate"] = rate(row.counts["response_in_time"], row.counts["response_due"])
        row.counts["solution_rate"] = satisfaction_rate(
            row.counts["solution_satisfied"], row.counts["solution_basically"], row.counts["solution_with"]
        )
        row.params = {
            key: {**params, "department": department.pk}
            for key, params in base_params.items()
            if key in counts
        }
        row.params["assigned"] = {
            **filters.params(),
            "department": department.pk,
            "assigned_after": _d(period.start),
            "assigned_before": _d(period.end),
        }
        rows.append(row)

    def rank(row: GroupRow):
        on_time, response = row.counts["on_time_rate"], row.counts["response_rate"]
        return (on_time is None, -(on_time or 0), response is None, -(response or 0), row.label)

    return sorted(rows, key=rank)


BREAKDOWN_COUNTS = ("raised", "resolved", "open", "overdue")


def breakdown(
    by: str, period: Period, filters: Filters, today: date | None = None, live: Live | None = None
) -> list[GroupRow]:
    """Enterprise issues grouped by `by` ("category", "district" or "sector"), ONE query:
    raised (raised_on in the period), resolved (resolved_at in the period), open and
    overdue (now). Groups with no issue at all are left out.
    """
    today = today or timezone.localdate()
    group_field, label_field, param = {
        "category": ("category", "category__name", "category"),
        "district": ("enterprise__district", "enterprise__district__name", "district"),
        "sector": ("enterprise__sector", None, "sector"),
    }[by]
    counts = {
        "raised": q_raised_in(period),
        "resolved": q_timestamp_in("resolved_at", period),
        "open": q_open(),
        "overdue": q_overdue(today),
    }
    values = [group_field] + ([label_field] if label_field else [])
    if uses_rollup(filters):
        grouped = _rollup_breakdown(by, period, live or live_counts(period, today))
        label_field = "label" if label_field else None
    else:
        grouped = (
            Issue.objects.using(database_alias())
            .filter(filters.issue_q(), q_relevant(period))
            .values(*values)
            .annotate(**{key: Count("pk", filter=q) for key, q in counts.items()})
            .order_by(*values)
        )
    base_params = summary_params(period, filters)
    if by == "sector":
        from enterprises.models import Sector

        labels = dict(Sector.choices)
    rows = []
    for found in grouped:
        key = found[group_field]
        label = found[label_field] if label_field else labels.get(key, key)
        row = GroupRow(key, str(label), {k: found[k] for k in counts})
        row.params = {k: {**base_params[k], param: key} for k in counts}
        rows.append(row)
    if by == "category":
        rows.sort(key=lambda r: -r.counts["raised"])
    return rows


def monthly_trend(end: date, filters: Filters, months: int = TREND_MONTHS) -> list[GroupRow]:
    """Raised (raised_on) and resolved (resolved_at, Asia/Shanghai month) per month, for the
    `months` calendar months ending with `end`'s month, in TWO grouped queries. Every month
    is listed, zero or not.
    """
    year, month = end.year, end.month
    month_starts = []
    for _i in range(months):
        month_starts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    month_starts.reverse()
    whole = Period(month_starts[0], month_period(end.year, end.month).end)
    alias = database_alias()
    if uses_rollup(filters):
        raised, resolved = _rollup_trend(whole, alias)
    else:
        raised, resolved = _raw_trend(whole, filters, alias)
    base_params = summary_params(whole, filters)
    rows = []
    for start in month_starts:
        p = month_period(start.year, start.month)
        row = GroupRow(start, start.strftime("%Y-%m"))
        row.counts = {"raised": raised.get(start, 0), "resolved": resolved.get(start, 0)}
        row.params = {
            "raised": {**base_params["raised"], "raised_after": _d(p.start), "raised_before": _d(p.end)},
            "resolved": {
                **base_params["resolved"],
                "resolved_after": _d(p.start),
                "resolved_before": _d(p.end),
            },
        }
        rows.append(row)
    return rows


def _raw_trend(whole: Period, filters: Filters, alias: str) -> tuple[dict, dict]:
    base = Issue.objects.using(alias).filter(filters.issue_q())
    raised = {
        row["month"]: row["n"]
        for row in base.filter(q_raised_in(whole))
        .annotate(month=TruncMonth("raised_on"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    }
    resolved = {}
    for row in (
        base.filter(q_timestamp_in("resolved_at", whole))
        .annotate(month=TruncMonth("resolved_at", tzinfo=SHANGHAI))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        month_value = row["month"]
        if isinstance(month_value, datetime):
            month_value = (
                timezone.localtime(month_value, SHANGHAI).date()
                if timezone.is_aware(month_value)
                else month_value.date()
            )
        resolved[month_value] = row["n"]
    return raised, resolved


def _rollup_trend(whole: Period, alias: str) -> tuple[dict, dict]:
    """Raised and resolved per month from the month rows (`whole` is whole months), in ONE
    query."""
    raised, resolved = {}, {}
    for row in (
        IssueMonthFigure.objects.using(alias)
        .filter(dimension="all", month__gte=whole.start, month__lte=whole.end)
        .values_list("month", "raised", "resolved")
    ):
        raised[row[0]], resolved[row[0]] = row[1], row[2]
    return raised, resolved


LEAGUE_SUMS = {
    "assigned": "assigned",
    "resolved": "resolved",
    "resolved_judged": "resolved_judged",
    "resolved_on_time": "resolved_on_time",
    "response_in_time": "responded_in_time",
    "response_late": "responded_late",
    "solution_with": "solution_with",
    "solution_satisfied": "solution_satisfied",
    "solution_basically": "solution_basically",
}


def _rollup_league(period: Period, alias: str, departments, live: Live):
    """The league table's counts from the rollup (ONE grouped query) and the live counts,
    with the departments (ONE query)."""
    sums = {
        int(row["key"]): row
        for row in rollup_rows(period, alias)
        .filter(dimension="department")
        .values("key")
        # relevant first: its F() must name the columns, not the sums of the same name.
        .annotate(relevant=_relevant_sum())
        .annotate(**{name: _sum(m) for name, m in LEAGUE_SUMS.items()})
        .order_by()
    }
    zero = dict.fromkeys([*LEAGUE_SUMS, "relevant"], 0)
    no_live = {"open": 0, "overdue": 0, "late_untriaged": 0}
    by_department, listed = {}, []
    for department in departments.only("id", "name", "short_name", "is_active"):
        found = sums.get(department.pk, zero)
        now = live.by_department.get(department.pk, no_live)
        if found["relevant"] or now["open"]:
            by_department[department.pk] = {
                **found,
                "response_due": found["response_in_time"] + found["response_late"] + now["late_untriaged"],
                "open": now["open"],
                "overdue": now["overdue"],
            }
        if department.is_active or department.pk in by_department:
            listed.append(department)
    return by_department, listed


def _rollup_breakdown(by: str, period: Period, live: Live) -> list[dict[str, Any]]:
    """Rows like the raw breakdown query's: the period's sums per group from the rollup
    (ONE query, the groups with rows in the period), the live open / overdue counts, and
    the labels (ONE small query for categories and districts). Groups with nothing in the
    period and nothing open are left out, as in the raw query."""
    from enterprises.models import District

    from .models import Category

    alias = database_alias()
    sums = {
        row["key"]: row
        for row in rollup_rows(period, alias)
        .filter(dimension=by)
        .values("key")
        # relevant first: its F() must name the columns, not the sums of the same name.
        .annotate(relevant=_relevant_sum())
        .annotate(raised=_sum("raised"), resolved=_sum("resolved"))
        .order_by()
    }
    labels = {}
    if by in ("category", "district"):
        model = Category if by == "category" else District
        labels = {str(pk): name for pk, name in model.objects.using(alias).values_list("pk", "name")}
    now = live.by(by)
    group_field = LIVE_GROUPS[by]
    zero = {"relevant": 0, "raised": 0, "resolved": 0}
    rows = []
    for key in set(sums) | {k for k, (n, _o) in now.items() if n}:
        found_sums = sums.get(key, zero)
        open_now, overdue_now = now.get(key, (0, 0))
        if not (found_sums["relevant"] or open_now):
            continue
        rows.append(
            {
                group_field: key if by == "sector" else int(key),
                "label": labels.get(key),
                "raised": found_sums["raised"],
                "resolved": found_sums["resolved"],
                "open": open_now,
                "overdue": overdue_now,
            }
        )
    rows.sort(key=lambda r: r[group_field])
    return rows


FIGURE_LABELS = {
    "raised": _("Issues raised"),
    "solved_on_site": _("Solved on the spot"),
    "open": _("Open now"),
    "overdue": _("Overdue now"),
    "due_soon": _("Due soon"),
    "response_rate": _("Response rate"),
    "resolution_rate": _("Resolution rate"),
    "on_time_rate": _("On-time rate"),
    "reply_rate": _("Reply satisfaction"),
    "solution_rate": _("Solution satisfaction"),
    "avg_days": _("Average days to resolve"),
}
