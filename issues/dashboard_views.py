"""Leadership dashboard and the printable weekly list (DESIGN §4, §5). Read-only pages.

Leadership, coordinators and administrators see them; everyone else gets 403. Every
number links to the issue list (or the enterprise list) showing exactly the rows it counts.
"""

from datetime import date
from itertools import groupby
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import F, OuterRef, Subquery
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from config.db_router import reads_from_replica
from enterprises.models import District, Sector

from . import figures
from .models import Department, Issue, IssueEvent
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
        for name in ("district", "sector", "department"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

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


def issue_list_url(params: dict) -> str:
    return f"{reverse('issues:list')}?{urlencode(params)}"


def enterprise_list_url(params: dict) -> str:
    return f"{reverse('enterprises:list')}?{urlencode(params)}"


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
        {
            "key": "reply_rate",
            "label": _("Reply satisfaction"),
            "value": percent(summary["reply_rate"]),
            "url": issue_list_url(links["reply_with"]),
            "formula": _("(satisfied + 0.9 × basically satisfied) / with feedback"),
            "parts": [
                part(_("satisfied"), "reply_satisfied"),
                part(_("basically satisfied"), "reply_basically"),
                part(_("with feedback"), "reply_with"),
            ],
            "extra": _("satisfied only: %(share)s") % {"share": percent(summary["reply_satisfied_share"])},
        },
        {
            "key": "solution_rate",
            "label": _("Solution satisfaction"),
            "value": percent(summary["solution_rate"]),
            "url": issue_list_url(links["solution_with"]),
            "formula": _("(satisfied + 0.9 × basically satisfied) / with feedback"),
            "parts": [
                part(_("satisfied"), "solution_satisfied"),
                part(_("basically satisfied"), "solution_basically"),
                part(_("with feedback"), "solution_with"),
            ],
            "extra": _("satisfied only: %(share)s") % {"share": percent(summary["solution_satisfied_share"])},
        },
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

    summary = figures.summary(period, filters, today)
    links = figures.summary_params(period, filters)
    coverage = figures.visit_coverage(period, filters)
    red = figures.red_list(filters, today)
    league = _with_urls(figures.league_table(period, filters, today))
    for row in league:
        row.on_time = percent(row.counts["on_time_rate"])
        row.response = percent(row.counts["response_rate"])
        row.satisfaction = percent(row.counts["solution_rate"])
    breakdowns = [
        (_("By category"), _("Category"), _with_urls(figures.breakdown("category", period, filters, today))),
        (_("By district"), _("District"), _with_urls(figures.breakdown("district", period, filters, today))),
        (_("By sector"), _("Sector"), _with_urls(figures.breakdown("sector", period, filters, today))),
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
            "raisedLabel": _g("Raised"),
            "resolvedLabel": _g("Resolved"),
        },
        "colours": {
            "labels": [_g("Red"), _g("Yellow"), _g("Blue")],
            "values": [n for _key, _label, n, _url in colours],
        },
        "categories": {
            "labels": [row.label for row in breakdowns[0][2]],
            "raised": [row.counts["raised"] for row in breakdowns[0][2]],
            "open": [row.counts["open"] for row in breakdowns[0][2]],
            "raisedLabel": _g("Raised in the period"),
            "openLabel": _g("Open now"),
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


def weekly_rows(filters: figures.Filters, today: date):
    """Open issues (enterprise and common) by lead department, unassigned first, then by
    deadline; each with its latest note from the event log, in ONE query (subqueries)."""
    latest = IssueEvent.objects.filter(issue=OuterRef("pk")).exclude(note="").order_by("-at", "-id")
    qs = (
        Issue.objects.using(figures.database_alias())
        .open()
        .with_colour(today)
        .select_related("enterprise", "lead_department", "owner", "category")
        .annotate(
            latest_note=Subquery(latest.values("note")[:1]),
            latest_note_at=Subquery(latest.values("at")[:1]),
        )
        .order_by(F("lead_department__name").asc(nulls_first=True), F("deadline").asc(nulls_last=True), "id")
    )
    if filters.district:
        qs = qs.filter(enterprise__district_id=filters.district)
    if filters.sector:
        qs = qs.filter(enterprise__sector=filters.sector)
    if filters.department:
        qs = qs.filter(lead_department_id=filters.department)
    rows = list(qs)
    for issue in rows:
        issue.days_late = issue.days_overdue(today)
        issue.colour_label = _colour_label(issue.colour)
    return rows


@require_safe
@reads_from_replica
def weekly_list(request):
    _check_access(request.user)
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else figures.Filters()
    rows = weekly_rows(filters, today)
    if request.GET.get("format") == "xlsx":
        header = [
            _g("Lead department"),
            _g("No."),
            _g("Enterprise"),
            _g("Title"),
            _g("Status"),
            _g("Deadline"),
            _g("Days overdue"),
            _g("Colour"),
            _g("Latest progress"),
            _g("Progress date"),
        ]
        data = [
            [
                issue.lead_department.name if issue.lead_department else _g("Not yet assigned"),
                issue.pk,
                issue.enterprise.name if issue.enterprise else _g("Common issue"),
                issue.title,
                issue.get_status_display(),
                issue.deadline,
                issue.days_late,
                issue.colour_label,
                issue.latest_note or "",
                timezone.localtime(issue.latest_note_at).date() if issue.latest_note_at else None,
            ]
            for issue in rows
        ]
        filename = _g("weekly-list-%(date)s.xlsx") % {"date": today.isoformat()}
        return xlsx_response(filename, [(_g("Weekly list"), header, data)])
    groups = []
    for department, issues in groupby(rows, key=lambda issue: issue.lead_department):
        issues = list(issues)
        groups.append(
            {
                "department": department,
                "issues": issues,
                "overdue": sum(1 for i in issues if i.colour == "red"),
            }
        )
    query = request.GET.copy()
    query["format"] = "xlsx"
    context = {
        "form": form,
        "filter_fields": [form["district"], form["sector"], form["department"]],
        "groups": groups,
        "total": len(rows),
        "today": today,
        "xlsx_url": f"{request.path}?{query.urlencode()}",
    }
    return render(request, "dashboard/weekly.html", context)


def _colour_label(colour: str) -> str:
    from .models import Colour

    return str(Colour(colour).label) if colour else ""
