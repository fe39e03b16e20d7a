"""Leadership dashboard and the printable weekly list (DESIGN §4, §5). Read-only pages.

Leadership, coordinators and administrators see them; everyone else gets 403. Every
number links to the issue list (or the enterprise list) showing exactly the rows it counts.
"""

import functools
from datetime import date
from itertools import groupby
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from config.db_router import reads_from_replica
from enterprises.forms import bootstrap_widgets
from enterprises.models import District, Sector

from . import figures
from .models import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    Colour,
    Department,
    Issue,
    IssueEvent,
    Status,
    colour_conditions,
    colour_label,
)
from .roles import sees_everything
from .spreadsheet import xlsx_response

PERIOD_CHOICES = [
    ("week", _("This week")),
    ("month", _("This month")),
    ("quarter", _("This quarter")),
    ("year", _("This year")),
    ("custom", _("Custom range")),
]


class DashboardFilterForm(forms.Form):
    """The GET form on top of the dashboard and the weekly list (no POST anywhere)."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    district = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.all(), required=False, empty_label=_("All districts")
    )
    sector = forms.ChoiceField(
        label=_("Sector"), choices=[("", _("All sectors")), *Sector.choices], required=False
    )
    department = forms.ModelChoiceField(
        label=_("Lead department"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
        empty_label=_("All departments"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        selects = ("district", "sector", "department")
        bootstrap_widgets({name: self.fields[name] for name in selects}, size="sm")

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("A custom range needs both dates."))
            if start > end:
                raise forms.ValidationError(_("The range starts after it ends."))
            if (end - start).days > 3660:
                raise forms.ValidationError(_("Choose a range of at most ten years."))
        return data

    def get_period(self, today: date) -> figures.Period:
        data = self.cleaned_data if self.is_valid() else {}
        kind = data.get("period") or "month"
        if kind == "custom":
            return figures.Period(data["start"], data["end"])
        return figures.period_for(kind, today)

    def filters(self) -> figures.Filters:
        data = self.cleaned_data if self.is_valid() else {}
        return figures.Filters(
            district=data["district"].pk if data.get("district") else None,
            sector=data.get("sector") or None,
            department=data["department"].pk if data.get("department") else None,
        )


def _check_access(user) -> None:
    if not sees_everything(user):
        raise PermissionDenied


@functools.lru_cache(maxsize=16)
def _path(name: str, script_prefix: str) -> str:
    # The dashboard links every figure and table cell (~500 links): one reverse() per name.
    return reverse(name)


@functools.lru_cache(maxsize=4096, typed=True)
def _pair(name: str, value) -> str:
    # ~600 links share a few hundred name=value pairs (dates, ids): each encoded once.
    return urlencode({name: value})


def _query(params: dict) -> str:
    """urlencode(params) for one value per name."""
    return "&".join(_pair(name, value) for name, value in params.items())


def issue_list_url(params: dict) -> str:
    return f"{_path('issues:list', get_script_prefix())}?{_query(params)}"


def enterprise_list_url(params: dict) -> str:
    return f"{_path('enterprises:list', get_script_prefix())}?{_query(params)}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{number_format(value * 100, 1)}%"


def _cards(summary: dict, links: dict, coverage: dict) -> list[dict]:
    """The figure cards: value, its link, and the counts behind a rate with their links."""

    def part(text, key):
        return {"text": text, "count": summary[key], "url": issue_list_url(links[key])}

    avg = summary["avg_days"]
    return [
        {
            "key": "coverage",
            "label": _("Visit coverage"),
            "value": percent(coverage["rate"]),
            "url": enterprise_list_url(coverage["params_visited"]),
            "formula": _("Key enterprises with a completed visit in the period / key enterprises"),
            "parts": [
                {
                    "text": _("visited"),
                    "count": coverage["visited"],
                    "url": enterprise_list_url(coverage["params_visited"]),
                },
                {
                    "text": _("key enterprises"),
                    "count": coverage["key"],
                    "url": enterprise_list_url(coverage["params_key"]),
                },
            ],
        },
        {
            "key": "raised",
            "label": _("Issues raised"),
            "value": summary["raised"],
            "url": issue_list_url(links["raised"]),
            "formula": _("Enterprise issues raised in the period"),
            "parts": [],
        },
        {
            "key": "solved_on_site",
            "label": _("Solved on the spot"),
            "value": summary["solved_on_site"],
            "url": issue_list_url(links["solved_on_site"]),
            "formula": _("Raised in the period and settled during the visit"),
            "parts": [],
        },
        {
            "key": "open",
            "label": _("Open now"),
            "value": summary["open"],
            "url": issue_list_url(links["open"]),
            "formula": _("Not closed yet, today"),
            "parts": [],
        },
        {
            "key": "overdue",
            "label": _("Overdue now"),
            "value": summary["overdue"],
            "url": issue_list_url(links["overdue"]),
            "formula": _("Being handled and past the deadline, today"),
            "parts": [],
        },
        {
            "key": "due_soon",
            "label": _("Due soon"),
            "value": summary["due_soon"],
            "url": issue_list_url(links["due_soon"]),
            "formula": _("Deadline within 3 working days, today"),
            "parts": [],
        },
        {
            "key": "response_rate",
            "label": _("Response rate"),
            "value": percent(summary["response_rate"]),
            "url": issue_list_url(links["response_in_time"]),
            "formula": _("Assigned within 2 working days / raised in the period and due for a response"),
            "parts": [
                part(_("in time"), "response_in_time"),
                part(_("due"), "response_due"),
                part(_("not yet due"), "response_pending"),
            ],
        },
        {
            "key": "resolution_rate",
            "label": _("Resolution rate"),
            "value": percent(summary["resolution_rate"]),
            "url": issue_list_url(links["closed_resolved"]),
            "formula": _("Closed as resolved / closed, in the period"),
            "parts": [part(_("resolved"), "closed_resolved"), part(_("closed"), "closed")],
        },
        {
            "key": "on_time_rate",
            "label": _("On-time rate"),
            "value": percent(summary["on_time_rate"]),
            "url": issue_list_url(links["resolved_on_time"]),
            "formula": _("Resolved by the original deadline / resolved, in the period"),
            "parts": [part(_("on time"), "resolved_on_time"), part(_("resolved"), "resolved_judged")],
        },
        *(
            {
                "key": f"{kind}_rate",
                "label": label,
                "value": percent(summary[f"{kind}_rate"]),
                "url": issue_list_url(links[f"{kind}_with"]),
                "formula": _("(satisfied + 0.9 × basically satisfied) / with feedback"),
                "parts": [
                    part(_("satisfied"), f"{kind}_satisfied"),
                    part(_("basically satisfied"), f"{kind}_basically"),
                    part(_("with feedback"), f"{kind}_with"),
                ],
                "extra": _("satisfied only: %(share)s")
                % {"share": percent(summary[f"{kind}_satisfied_share"])},
            }
            for kind, label in (("reply", _("Reply satisfaction")), ("solution", _("Solution satisfaction")))
        ),
        {
            "key": "avg_days",
            "label": _("Average days to resolve"),
            "value": "—" if avg is None else number_format(avg, 1),
            "url": issue_list_url(links["resolved_judged"]),
            "formula": _("From raised to resolved, over issues resolved in the period"),
            "parts": [part(_("resolved"), "resolved_judged")],
        },
    ]


def _with_urls(rows: list[figures.GroupRow]) -> list[figures.GroupRow]:
    for row in rows:
        row.urls = {key: issue_list_url(params) for key, params in row.params.items()}
    return rows


@require_safe
@reads_from_replica
def dashboard(request):
    _check_access(request.user)
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None)
    period = form.get_period(today) if form.is_bound else figures.period_for("month", today)
    filters = form.filters() if form.is_bound else figures.Filters()

    # The "now" counts of the unfiltered dashboard, read once for the summary and tables.
    live = figures.live_counts(period, today) if figures.uses_rollup(filters) else None
    summary = figures.summary(period, filters, today, live)
    links = figures.summary_params(period, filters)
    coverage = figures.visit_coverage(period, filters)
    red = figures.red_list(filters, today)
    league = _with_urls(figures.league_table(period, filters, today, live))
    for row in league:
        row.on_time = percent(row.counts["on_time_rate"])
        row.response = percent(row.counts["response_rate"])
        row.satisfaction = percent(row.counts["solution_rate"])
    breakdowns = [
        (title, column, _with_urls(figures.breakdown(by, period, filters, today, live)))
        for by, title, column in (
            ("category", _("By category"), _("Category")),
            ("district", _("By district"), _("District")),
            ("sector", _("By sector"), _("Sector")),
        )
    ]
    trend = _with_urls(figures.monthly_trend(min(period.end, today), filters))
    colours = [
        ("red", _("Red: overdue"), summary["red"], issue_list_url(links["red"])),
        ("yellow", _("Yellow: behind schedule"), summary["yellow"], issue_list_url(links["yellow"])),
        ("blue", _("Blue: due within 3 working days"), summary["blue"], issue_list_url(links["blue"])),
    ]
    chart_data = {
        "trend": {
            "labels": [row.label for row in trend],
            "raised": [row.counts["raised"] for row in trend],
            "resolved": [row.counts["resolved"] for row in trend],
            "raisedLabel": gettext("Raised"),
            "resolvedLabel": gettext("Resolved"),
        },
        "colours": {
            "labels": [gettext("Red"), gettext("Yellow"), gettext("Blue")],
            "values": [n for _key, _label, n, _url in colours],
        },
        "categories": {
            "labels": [row.label for row in breakdowns[0][2]],
            "raised": [row.counts["raised"] for row in breakdowns[0][2]],
            "open": [row.counts["open"] for row in breakdowns[0][2]],
            "raisedLabel": gettext("Raised in the period"),
            "openLabel": gettext("Open now"),
        },
    }
    context = {
        "form": form,
        "filter_fields": [form["district"], form["sector"], form["department"]],
        "period": period,
        "period_text": f"{date_format(period.start, 'Y-m-d')} – {date_format(period.end, 'Y-m-d')}",
        "today": today,
        "cards": _cards(summary, links, coverage),
        "colours": colours,
        "red_list": red,
        "red_total": summary["red"],
        "red_all_url": issue_list_url(links["red"]),
        "league": league,
        "breakdowns": breakdowns,
        "trend": trend,
        "chart_data": chart_data,
        "official_calendar": figures_calendar_note(period),
    }
    return render(request, "dashboard/index.html", context)


def figures_calendar_note(period: figures.Period) -> bool:
    """False when a year in the period has no official holiday schedule yet (Mon-Fri used)."""
    from . import workdays

    return all(workdays.is_official(year) for year in range(period.start.year, period.end.year + 1))


# -- weekly list ---------------------------------------------------------------------------

# The printed list stays bounded at province scale (DESIGN §5; issue 7): a
# summary per department, then the supervision list (red and yellow issues) with at most
# this many rows per department; a department's whole open list is one filter away.
WEEKLY_ROWS_PER_DEPARTMENT = 30
# A department's full open list, page by page.
WEEKLY_PAGE_SIZE = 50
# The spreadsheet has no per-department cap, but it has this one.
WEEKLY_XLSX_MAX_ROWS = 10_000


def _weekly_base(filters: figures.Filters):
    """Open issues (enterprise and common ones) under the weekly list's filters."""
    qs = Issue.objects.using(figures.database_alias()).open()
    if filters.district:
        qs = qs.filter(enterprise__district_id=filters.district)
    if filters.sector:
        qs = qs.filter(enterprise__sector=filters.sector)
    if filters.department:
        qs = qs.filter(lead_department_id=filters.department)
    return qs


def _supervised(today: date) -> Q:
    """Red (overdue) or yellow (behind schedule): the supervision list (督办清单)."""
    colours = colour_conditions(today)
    return colours[Colour.RED] | colours[Colour.YELLOW]


def _latest_note(qs):
    latest = IssueEvent.objects.filter(issue=OuterRef("pk")).exclude(note="").order_by("-at", "-id")
    return qs.annotate(
        latest_note=Subquery(latest.values("note")[:1]),
        latest_note_at=Subquery(latest.values("at")[:1]),
    )


WEEKLY_ORDER = (F("lead_department__name").asc(nulls_first=True), F("deadline").asc(nulls_last=True), "id")


def _list_url(params: dict) -> str:
    return f"{_path('issues:list', get_script_prefix())}?{urlencode(params, doseq=True)}"


def weekly_summary(filters: figures.Filters, today: date) -> list[dict]:
    """Open, red, yellow and blue issues per lead department (unassigned first), in ONE
    grouped query; every count links to the issue list showing those rows."""
    colours = colour_conditions(today)
    rows = (
        _weekly_base(filters)
        .order_by()
        .values("lead_department", "lead_department__name")
        .annotate(
            open=Count("id"),
            red=Count("id", filter=colours[Colour.RED]),
            yellow=Count("id", filter=colours[Colour.YELLOW]),
            blue=Count("id", filter=colours[Colour.BLUE]),
        )
        .order_by(F("lead_department__name").asc(nulls_first=True))
    )
    common = {}
    if filters.district:
        common["district"] = filters.district
    if filters.sector:
        common["sector"] = filters.sector
    summary = []
    for row in rows:
        dept = row["lead_department"]
        # Open and unassigned means new (a department is assigned with the first step).
        where = {**common, "department": dept} if dept else {**common, "status": Status.NEW}
        row["name"] = row["lead_department__name"]
        row["supervised"] = row["red"] + row["yellow"]
        row["urls"] = {
            "open": _list_url({**where, "status": list(OPEN_STATUSES)} if dept else where),
            "red": _list_url({**where, "colour": Colour.RED}) if dept else "",
            "yellow": _list_url({**where, "colour": Colour.YELLOW}) if dept else "",
            "blue": _list_url({**where, "colour": Colour.BLUE}) if dept else "",
            "supervised": _list_url({**where, "status": list(ACTIVE_STATUSES), "ordering": "colour"})
            if dept
            else "",
        }
        summary.append(row)
    return summary


def weekly_rows(filters: figures.Filters, today: date, per_department: int = WEEKLY_ROWS_PER_DEPARTMENT):
    """The supervision list: red and yellow issues by lead department, most overdue first,
    at most `per_department` of each department; each with its latest note from the event
    log. Two queries whatever the data size (the ranked ids, then those rows)."""
    ranked = (
        _weekly_base(filters)
        .filter(_supervised(today))
        .annotate(
            rank=Window(
                RowNumber(), partition_by=F("lead_department"), order_by=[F("deadline").asc(), F("id").asc()]
            )
        )
        .filter(rank__lte=per_department)
        .values_list("pk", flat=True)
    )
    return _rows(Issue.objects.using(figures.database_alias()).filter(pk__in=list(ranked)), today)


def _rows(qs, today: date) -> list:
    qs = (
        _latest_note(qs.with_colour(today))
        .select_related("enterprise", "lead_department")
        .only(
            "id",
            "title",
            "status",
            "deadline",
            "stalled_from",
            "due_soon_from",
            "enterprise__id",
            "enterprise__name",
            "lead_department__id",
            "lead_department__name",
        )
        .order_by(*WEEKLY_ORDER)
    )
    rows = list(qs)
    statuses = dict(Status.choices)
    for issue in rows:
        issue.days_late = issue.days_overdue(today)
        issue.colour_label = colour_label(issue.colour)
        issue.url = issue.get_absolute_url()
        issue.status_label = statuses.get(issue.status, issue.status)
        issue.deadline_text = issue.deadline.isoformat() if issue.deadline else "—"
        issue.note_date = (
            timezone.localtime(issue.latest_note_at).date().isoformat() if issue.latest_note_at else ""
        )
        issue.note_text = Truncator(issue.latest_note or "").chars(200)
    return rows


def weekly_xlsx_rows(filters: figures.Filters, today: date, limit: int = WEEKLY_XLSX_MAX_ROWS) -> list[dict]:
    """The spreadsheet's rows as dicts (no model instances): the supervision list, or a
    department's whole open list; at most `limit` + 1 (one more tells it was capped)."""
    qs = _weekly_base(filters)
    if not filters.department:
        qs = qs.filter(_supervised(today))
    return list(
        _latest_note(qs.with_colour(today))
        .order_by(*WEEKLY_ORDER)
        .values(
            "id",
            "title",
            "status",
            "deadline",
            "colour",
            "latest_note",
            "latest_note_at",
            "lead_department__name",
            "enterprise__name",
        )[: limit + 1]
    )


def weekly_xlsx(
    filters: figures.Filters, today: date, summary: list[dict], limit: int = WEEKLY_XLSX_MAX_ROWS
):
    statuses = dict(Status.choices)
    rows = weekly_xlsx_rows(filters, today, limit)
    capped = len(rows) > limit
    header = [
        gettext("Lead department"),
        gettext("No."),
        gettext("Enterprise"),
        gettext("Title"),
        gettext("Status"),
        gettext("Deadline"),
        gettext("Days overdue"),
        gettext("Colour"),
        gettext("Latest progress"),
        gettext("Progress date"),
    ]
    data = []
    for row in rows[:limit]:
        late = row["colour"] == Colour.RED and row["deadline"] is not None
        data.append(
            [
                row["lead_department__name"] or gettext("Not yet assigned"),
                row["id"],
                row["enterprise__name"] or gettext("Common issue"),
                row["title"],
                str(statuses.get(row["status"], row["status"])),
                row["deadline"],
                (today - row["deadline"]).days if late else 0,
                colour_label(row["colour"]),
                row["latest_note"] or "",
                timezone.localtime(row["latest_note_at"]).date() if row["latest_note_at"] else None,
            ]
        )
    if capped:
        data.append(
            [
                gettext(
                    "Only the first %(n)s rows are listed: filter by department or district for the rest."
                )
                % {"n": limit}
            ]
        )
    summary_header = [
        gettext("Lead department"),
        gettext("Open"),
        gettext("Red"),
        gettext("Yellow"),
        gettext("Blue"),
    ]
    summary_data = [
        [r["name"] or gettext("Not yet assigned"), r["open"], r["red"], r["yellow"], r["blue"]]
        for r in summary
    ]
    filename = gettext("weekly-list-%(date)s.xlsx") % {"date": today.isoformat()}
    return xlsx_response(
        filename,
        [(gettext("Weekly list"), header, data), (gettext("By department"), summary_header, summary_data)],
    )


def _groups(rows: list, summary: list[dict], department_view: bool) -> list[dict]:
    by_department = {r["lead_department"]: r for r in summary}
    groups = []
    for department, issues in groupby(rows, key=lambda issue: issue.lead_department):
        issues = list(issues)
        counts = by_department.get(department.pk if department else None, {})
        total = counts.get("open", len(issues)) if department_view else counts.get("supervised", len(issues))
        groups.append(
            {
                "department": department,
                "issues": issues,
                "overdue": counts.get("red", 0),
                "behind": counts.get("yellow", 0),
                "total": total,
                "more": 0 if department_view else max(0, total - len(issues)),
                "more_url": counts.get("urls", {}).get("supervised", ""),
            }
        )
    return groups


@require_safe
@reads_from_replica
def weekly_list(request):
    _check_access(request.user)
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else figures.Filters()
    summary = weekly_summary(filters, today)
    if request.GET.get("format") == "xlsx":
        return weekly_xlsx(filters, today, summary)
    page = None
    if filters.department:
        # One department: its whole open list, a page at a time.
        ordered = (
            _weekly_base(filters)
            .order_by(F("deadline").asc(nulls_last=True), "id")
            .values_list("pk", flat=True)
        )
        page = Paginator(ordered, WEEKLY_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = _rows(
            Issue.objects.using(figures.database_alias()).filter(pk__in=list(page.object_list)), today
        )
    else:
        rows = weekly_rows(filters, today)
    query = request.GET.copy()
    query.pop("page", None)
    page_query = query.urlencode()
    query["format"] = "xlsx"
    totals = {key: sum(r[key] for r in summary) for key in ("open", "red", "yellow", "blue")}
    context = {
        "form": form,
        "filter_fields": [form["district"], form["sector"], form["department"]],
        "summary": summary,
        "totals": totals,
        "groups": _groups(rows, summary, department_view=bool(filters.department)),
        "department_view": bool(filters.department),
        "page": page,
        "page_query": page_query,
        "shown": len(rows),
        "total": totals["open"],
        "per_department": WEEKLY_ROWS_PER_DEPARTMENT,
        "today": today,
        "xlsx_url": f"{request.path}?{query.urlencode()}",
        "xlsx_max_rows": WEEKLY_XLSX_MAX_ROWS,
    }
    return render(request, "dashboard/weekly.html", context)
