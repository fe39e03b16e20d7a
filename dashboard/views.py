"""Leadership dashboard, its facts pages, the report download and the printable weekly list
(DESIGN §4, §5). Read-only pages.

Leadership, coordinators and administrators see the whole city; department staff see their
own department's figures and rank (the filter is fixed to it). Every number links to the
rows it counts: a period figure to its history rows (the facts page), a now figure to the
issue list.
"""

from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Max, Min, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from config.db_router import reads_from_replica
from enterprises.models import District, Sector
from issues import spreadsheet, workdays
from issues.models import Category, Colour, Department, FeedbackRound, Issue, IssueEvent, colour_conditions
from issues.permissions import department_ids
from issues.roles import Role, has_role, sees_everything

from . import figures
from .forms import DashboardFilterForm, labelled

# -- access ---------------------------------------------------------------------------------------


def dashboard_scope(request) -> tuple[DashboardFilterForm, figures.Filters]:
    """The filter form and the filters a user may see: the whole city for leadership and
    coordinators; department staff only their own department (the first, if several)."""
    user = request.user
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters()
    if sees_everything(user):
        return form, filters
    depts = sorted(department_ids(user))
    if has_role(user, Role.DEPARTMENT) and depts:
        own = filters.department if filters.department in depts else depts[0]
        return form, filters.with_(department=own)
    raise PermissionDenied


# -- links ----------------------------------------------------------------------------------------


def _url(name: str, params: dict) -> str:
    return f"{reverse(name)}?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"


def facts_url(figure: str, period: figures.Period, filters: figures.Filters) -> str:
    return _url(
        "dashboard:facts",
        {"figure": figure, "period": "custom", "start": period.start, "end": period.end, **filters.params()},
    )


def issues_url(filters: figures.Filters, **params) -> str:
    return _url("issues:list", {"scope": "individual", **filters.params(), **params})


NOW_LINKS = {
    "open": {},  # the list's default: open issues
    "overdue": {"colour": Colour.RED},
    "due_soon": {"due_soon": "1"},
    "yellow": {"colour": Colour.YELLOW},
    "blue": {"colour": Colour.BLUE},
    "untriaged": {"untriaged": "1"},
}


# -- the dashboard ------------------------------------------------------------------------------


def figure_cards(report: figures.Report, link) -> list[dict]:
    """The period cards: value, what it counts, its parts with their links. `link(name)` is
    the drill-down of a tally."""
    rates = report.rates()
    c = report.counts

    def part(text, name, count=None):
        return {"text": text, "count": c[name] if count is None else count, "url": link(name)}

    def card(key, label, value, formula, parts=(), extra="", url=""):
        applies = report.applies(key)
        return {
            "key": key,
            "label": label,
            "value": value if applies else "—",
            "url": (url or (parts[0]["url"] if parts else "")) if applies else "",
            "formula": formula if applies else _("Not a department figure: it has no department."),
            "parts": list(parts) if applies else [],
            "extra": extra if applies else "",
        }

    coverage = figures.Rate(report.coverage["visited"], report.coverage["key"])
    response = rates["response_rate"]
    return [
        card(
            "coverage",
            _("Visit coverage"),
            str(coverage),
            _("Key enterprises with a completed visit in the period / key enterprises")
            if not report.department_view
            else _("Key enterprises visited with this department in the period / key enterprises"),
            [
                {"text": _("visited"), "count": coverage.numerator, "url": link("coverage_visited")},
                {"text": _("key enterprises"), "count": coverage.denominator, "url": link("coverage_key")},
            ],
        ),
        card("raised", _("Issues raised"), c["raised"], _("Enterprise issues raised in the period"),
             [part(_("raised"), "raised")]),
        card("solved_on_spot", _("Solved on the spot"), c["solved_on_spot"],
             _("Settled during the visit, in the period"), [part(_("on the spot"), "solved_on_spot")]),
        card("resolved", _("Resolved (all)"), c["resolved"],
             _("Every resolution in the period: on the spot and by departments"),
             [part(_("on the spot"), "solved_on_spot"), part(_("by departments"), "department_resolved")],
             url=link("resolved")),
        card("department_resolved", _("Resolved by departments"), c["department_resolved"],
             _("Resolutions reported by departments in the period (a resolution sent back and "
               "done again counts again)"),
             [part(_("resolutions"), "department_resolved")]),
        card("triaged", _("Response rate"), str(response),
             _("Issues assigned, merged or closed within 2 working days / issues whose triage window "
               "ended in the period (on-the-spot ones excluded)"),
             [part(_("in time"), "triaged_in_time"),
              {"text": _("due"), "count": response.denominator, "url": link("response_due")}]),
        card("resolution_rate", _("Resolution rate"), str(rates["resolution_rate"]),
             _("Closed as resolved / closed, in the period"),
             [part(_("resolved"), "closed_resolved"), part(_("closed"), "closed")],
             extra=_("of which closed without the enterprise's answer: %(n)s")
             % {"n": c["closed_unconfirmed"]}),
        card("on_time_rate", _("On-time rate"), str(rates["on_time_rate"]),
             _("Department resolutions by the deadline in force / department resolutions"),
             [part(_("on time"), "on_time"), part(_("resolutions"), "department_resolved")],
             extra=_("against the original deadline: %(rate)s") % {"rate": rates["on_time_original_rate"]}),
        card("sent_back_rate", _("Sent-back rate"), str(rates["sent_back_rate"]),
             _("Resolutions sent back by the enterprise's answer / department resolutions, in the period"),
             [part(_("sent back"), "sent_back"), part(_("resolutions"), "department_resolved")]),
        *(
            card(f"{kind}_satisfaction", label, str(rates[f"{kind}_satisfaction"]),
                 _("(satisfied + 0.9 × basically satisfied) / feedback rounds answered in the period"),
                 [part(_("satisfied"), f"{kind}_satisfied"), part(_("basically"), f"{kind}_basically"),
                  part(_("rounds"), "rounds")],
                 extra=_("satisfied only: %(share)s") % {"share": rates[f"{kind}_satisfied_share"]})
            for kind, label in (("reply", _("Reply satisfaction")), ("solution", _("Solution satisfaction")))
        ),
        card("online_rounds", _("Answered by the enterprise itself"), str(rates["online_share"]),
             _("Rounds the enterprise answered online / all rounds; solution satisfaction of each"),
             [part(_("by the enterprise"), "online_rounds"),
              part(_("recorded by staff"), "staff_rounds")],
             extra=_("satisfaction — enterprise: %(own)s; staff: %(staff)s")
             % {"own": rates["online_solution_satisfaction"], "staff": rates["staff_solution_satisfaction"]}),
        card("average_days", _("Average days to resolve"), report.average_days or "—",
             _("From raised to resolved, over the department resolutions of the period"),
             [part(_("resolutions"), "department_resolved")]),
    ]  # fmt: skip


def now_cards(now: dict, filters: figures.Filters, common_open: int) -> list[dict]:
    labels = {
        "open": (_("Open now"), _("Enterprise issues not closed yet, today")),
        "overdue": (
            _("Overdue now"),
            _("Past the deadline, or untriaged past the 2-working-day limit (交办超时)"),
        ),
        "due_soon": (_("Due soon"), _("Deadline within %(n)s working days, today") % {"n": 3}),
        "untriaged": (_("Waiting for triage"), _("New and not yet assigned, merged or closed")),
    }
    cards = [
        {
            "key": key,
            "label": label,
            "value": now[key],
            "formula": formula,
            "url": issues_url(filters, **NOW_LINKS[key]),
        }
        for key, (label, formula) in labels.items()
    ]
    cards[0]["extra"] = _("common (policy-level) issues open: %(n)s") % {"n": common_open}
    return cards


# The tallies the league's rates and columns read (`figures.Report.rates`, _league_row.html).
LEAGUE_TALLIES = (
    "assigned", "department_resolved", "on_time", "sent_back", "resolve_days",
    "rounds", "solution_satisfied", "solution_basically",
)  # fmt: skip


def league(period, filters, today, now: dict | None = None) -> tuple[list[dict], list[dict]]:
    """The department league: ranked rows (at least LEAGUE_MINIMUM resolutions) and the rest.
    `now`: the now figures by lead department under these filters, when already counted."""
    tallies = figures.breakdown("department", period, filters, today, names=LEAGUE_TALLIES)
    if now is None:
        now = figures.now_counts(filters, today, by="lead_department")
    names = {
        pk: short or name for pk, name, short in Department.objects.values_list("pk", "name", "short_name")
    }
    rows = []
    for pk in set(tallies) | {k for k in now if k}:
        # The rates the league does not show read zeros: they are not counted here.
        counts = dict.fromkeys(figures.TALLIES, 0) | tallies.get(pk, {})
        report = figures.Report(period, filters.with_(department=pk), counts, 0, None)
        rates = report.rates()
        rows.append(
            {
                "department": pk,
                "name": names.get(pk, pk),
                "counts": counts,
                "on_time": rates["on_time_rate"],
                "sent_back": rates["sent_back_rate"],
                "satisfaction": rates["solution_satisfaction"],
                "average_days": report.average_days or "—",
                "open": (now.get(pk) or {}).get("open", 0),
                "overdue": (now.get(pk) or {}).get("overdue", 0),
                "ranked": counts["department_resolved"] >= figures.LEAGUE_MINIMUM,
                "url": _url("dashboard:index", {"period": "custom", "start": period.start,
                                                "end": period.end, "department": pk}),
            }
        )  # fmt: skip
    ranked = sorted(
        (r for r in rows if r["ranked"]),
        key=lambda r: (-float(r["on_time"].percent or 0), -float(r["satisfaction"].percent or 0), r["name"]),
    )
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    return ranked, sorted((r for r in rows if not r["ranked"]), key=lambda r: str(r["name"]))


BREAKDOWNS = (
    ("category", gettext_lazy("By category"), "category"),
    ("district", gettext_lazy("By district"), "enterprise__district"),
    ("sector", gettext_lazy("By sector"), "enterprise__sector"),
)


# The tallies a breakdown table shows.
BREAKDOWN_TALLIES = ("raised", "department_resolved")


def breakdowns(period, filters, today) -> list[dict]:
    labels = {
        "category": dict(Category.objects.values_list("pk", "name")),
        "district": dict(District.objects.values_list("pk", "name")),
        "sector": dict(Sector.choices),
    }
    tables = []
    now_by_field = figures.now_counts_by_each(filters, today, tuple(f for _, _, f in BREAKDOWNS))
    for by, title, issue_field in BREAKDOWNS:
        tallies = figures.breakdown(by, period, filters, today, names=BREAKDOWN_TALLIES)
        now = now_by_field[issue_field]
        rows = []
        for key in sorted(
            set(tallies) | {k for k in now if k is not None}, key=lambda k: str(labels[by].get(k, k))
        ):
            counts = tallies.get(key) or dict.fromkeys(BREAKDOWN_TALLIES, 0)
            narrowed = filters.with_(**{by: key})
            rows.append(
                {
                    "label": labels[by].get(key, key),
                    "raised": counts["raised"],
                    "resolved": counts["department_resolved"],
                    "open": (now.get(key) or {}).get("open", 0),
                    "overdue": (now.get(key) or {}).get("overdue", 0),
                    "urls": {
                        "raised": facts_url("raised", period, narrowed),
                        "resolved": facts_url("department_resolved", period, narrowed),
                        "open": issues_url(narrowed, **NOW_LINKS["open"]),
                        "overdue": issues_url(narrowed, **NOW_LINKS["overdue"]),
                    },
                }
            )
        rows.sort(key=lambda r: -r["raised"])
        tables.append({"key": by, "title": title, "rows": rows})
    return tables


def trend_period(period: figures.Period, today: date) -> figures.Period:
    """The months the trend shows: the period's own when it spans three months or more, else
    this year so far (本年)."""
    if (period.end.year - period.start.year) * 12 + period.end.month - period.start.month >= 2:
        return period
    year = figures.period_for("year", today)
    return figures.Period(year.start, max(year.end, min(period.end, today)))


@require_safe
@reads_from_replica
def dashboard(request):
    form, filters = dashboard_scope(request)
    today = timezone.localdate()
    period = form.chosen_period(today)
    report = figures.report(period, filters, today)

    def link(name):
        return facts_url(name, period, filters)

    # The cards' now figures are the league's added up; under a department filter the league
    # (every department) counts apart.
    by_department = figures.now_counts(filters, today, by="lead_department")
    now = figures.now_total(by_department, today)
    league_now = None if filters.department else by_department
    ranked, unranked = league(period, filters.with_(department=None), today, league_now)
    months = trend_period(period, today)
    trend = figures.trend(months, filters)
    for row in trend:
        month = figures.Period(
            row["month"], min(figures.month_end(row["month"].year, row["month"].month), months.end)
        )
        row["label"] = row["month"].strftime("%Y-%m")
        row["urls"] = {name: facts_url(name, month, filters) for name in ("raised", "department_resolved")}
    tables = breakdowns(period, filters, today)
    colours = [
        ("red", _("Red: overdue"), now["overdue"], issues_url(filters, colour="red")),
        ("yellow", _("Yellow: behind schedule"), now["yellow"], issues_url(filters, colour="yellow")),
        (
            "blue",
            _("Blue: due within %(n)s working days") % {"n": 3},
            now["blue"],
            issues_url(filters, colour="blue"),
        ),
    ]
    chart_data = {
        "trend": {
            "labels": [row["label"] for row in trend],
            "raised": [row["raised"] for row in trend],
            "resolved": [row["department_resolved"] for row in trend],
            "raisedLabel": _("Raised"),
            "resolvedLabel": _("Resolved by departments"),
        },
        "colours": {"labels": [_("Red"), _("Yellow"), _("Blue")], "values": [c[2] for c in colours]},
    }
    # The years open deadlines fall in (first to last: the open-issue index answers at once).
    span = Issue.objects.open().aggregate(first=Min("deadline"), last=Max("deadline"))
    open_years = range(span["first"].year, span["last"].year + 1) if span["first"] else ()
    context = {
        "form": form,
        "filter_fields": [form["district"], form["sector"], form["department"]],
        "department_view": report.department_view,
        "department": filters.department and Department.objects.filter(pk=filters.department).first(),
        "heading_filters": form.described(),
        "period": period,
        "today": today,
        "cards": figure_cards(report, link),
        "now_cards": now_cards(now, filters, Issue.objects.filter(filters.issues_q()).common_open()),
        "colours": colours,
        "red_list": figures.red_list(filters, today),
        "now_figures_seconds": settings.NOW_FIGURES_CACHE_SECONDS,
        "red_total": now["overdue"],
        "red_all_url": issues_url(filters, colour="red"),
        "ranked": ranked,
        "unranked": unranked,
        "league_minimum": figures.LEAGUE_MINIMUM,
        "breakdowns": tables,
        "trend": trend,
        "chart_data": chart_data,
        "unknown_years": workdays.unknown_years(
            [period.start.year, period.end.year, *open_years]
        ),
        "report_url": _url("dashboard:report-xlsx", {"period": "custom", "start": period.start,
                                                     "end": period.end, **filters.params()}),
    }  # fmt: skip
    return render(request, "dashboard/index.html", context)


# -- facts: what a period figure counts ---------------------------------------------------------

FACT_PAGE_SIZE = 50


@require_safe
@reads_from_replica
def facts(request):
    """The history rows one period figure counts, exactly as many as the card shows."""
    form, filters = dashboard_scope(request)
    today = timezone.localdate()
    period = form.chosen_period(today)
    name = request.GET.get("figure") or "raised"
    windows = figures.response_period(period, today)
    issues = counted = None
    if name in figures.TALLIES:
        tally = figures.TALLIES[name]
        judged = windows if name in ("triaged", "triaged_in_time") else period
        if judged.end >= judged.start:
            rows, counted = tally.rows(judged, filters), figures.row_count(name, judged, filters)
        else:
            rows = tally.source.objects.none()
    elif name == "response_due":
        tally = figures.TALLIES["triaged"]
        if windows.end >= windows.start:
            rows, counted = tally.rows(windows, filters), figures.row_count("triaged", windows, filters)
        else:
            rows = IssueEvent.objects.none()
        issues = (
            figures.untriaged_late(period, today, filters)
            .select_related("enterprise")
            .order_by("respond_by", "id")
        )
    elif name in ("coverage_visited", "coverage_key"):
        enterprises = (
            figures.visited_enterprises(period, filters)
            if name == "coverage_visited"
            else figures.key_enterprises(filters)
        )
        return render(request, "dashboard/facts.html", {
            "form": form, "period": period, "figure": name, "heading_filters": form.described(),
            "enterprises": enterprises.select_related("district").order_by("name"),
        })  # fmt: skip
    else:
        raise Http404
    related = ("issue", "lead_department")
    rows = rows.select_related(*related, "actor" if rows.model is IssueEvent else "recorded_by")
    rows = rows.order_by(tally.date, "id")
    paginator = Paginator(rows, FACT_PAGE_SIZE)
    if counted is not None:
        # The card's number, from the daily counts of the same definition (kept exact with
        # the history: `rebuild_figures --check`); counting the rows again took 0.5 s for a
        # year at 1,000,000 issues.
        paginator.count = counted
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "form": form,
        "period": period,
        "figure": name,
        "heading_filters": form.described(),
        "page": page,
        "rounds": rows.model is FeedbackRound,
        "date_column": tally.date,
        "issues": issues,
        "page_query": _without_page(request),
    }
    return render(request, "dashboard/facts.html", context)


def _without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# -- the report as a spreadsheet ----------------------------------------------------------------


@require_safe
@reads_from_replica
def report_xlsx(request):
    """The period figures as a workbook (月报, 季报): the same numbers as the dashboard and
    `manage.py report_figures`, each rate with its numerator and denominator."""
    form, filters = dashboard_scope(request)
    today = timezone.localdate()
    period = form.chosen_period(today)
    report = figures.report(period, filters, today)
    header, rows = report_rows(report)
    filename = _("figures-%(start)s-%(end)s.xlsx") % {"start": period.start, "end": period.end}
    return spreadsheet.xlsx_response(filename, [(_("Figures"), header, rows)])


def report_rows(report: figures.Report) -> tuple[list[str], list[list]]:
    """(header, rows) of a report: one row per figure, value, numerator, denominator."""
    labels = figure_labels()
    rows = [[labelled(_("Period"), f"{report.period.start} – {report.period.end}"), "", "", ""]]
    data = report.as_json()
    for key, label in labels.items():
        value = data.get(key)
        if isinstance(value, dict):
            shown = "—" if value["percent"] is None else f"{value['percent']}%"
            rows.append([str(label), shown, value["numerator"], value["denominator"]])
        else:
            rows.append([str(label), "—" if value is None else value, "", ""])
    return [_("Figure"), _("Value"), _("Numerator"), _("Denominator")], rows


def figure_labels() -> dict:
    """The report's figures in order, with their names (JSON keys of `Report.as_json`)."""
    return {
        "coverage": _("Visit coverage"),
        "raised": _("Issues raised"),
        "solved_on_spot": _("Solved on the spot"),
        "resolved": _("Resolved (all)"),
        "department_resolved": _("Resolved by departments"),
        "response_rate": _("Response rate"),
        "resolution_rate": _("Resolution rate"),
        "closed_unconfirmed": _("Closed without the enterprise's answer"),
        "on_time_rate": _("On-time rate"),
        "on_time_original_rate": _("On-time rate against the original deadline"),
        "sent_back_rate": _("Sent-back rate"),
        "reply_satisfaction": _("Reply satisfaction"),
        "solution_satisfaction": _("Solution satisfaction"),
        "reply_satisfied_share": _("Reply: share satisfied"),
        "solution_satisfied_share": _("Solution: share satisfied"),
        "rounds": _("Feedback rounds"),
        "online_share": _("Rounds answered by the enterprise itself"),
        "online_solution_satisfaction": _("Solution satisfaction, answered by the enterprise"),
        "staff_solution_satisfaction": _("Solution satisfaction, recorded by staff"),
        "average_days": _("Average days to resolve"),
    }


# -- weekly list ---------------------------------------------------------------------------------

# The printed list stays bounded at city scale: a summary per department, then the
# supervision list (red and yellow issues), at most this many rows per department; a
# department's whole open list is one filter away, a page at a time. Ten: what a weekly
# meeting goes through per department (40 departments × 30 rows was a 40-page printout,
# and drawing its 1,200 rows took 0.7 s at city scale).
WEEKLY_ROWS_PER_DEPARTMENT = 10
WEEKLY_PAGE_SIZE = 50
WEEKLY_XLSX_MAX_ROWS = 10_000
# What a row of the supervision list reads (weekly.html, `Issue.days_overdue`).
WEEKLY_ROW_FIELDS = (
    "title", "status", "scope", "deadline", "respond_by", "lead_department", "enterprise__name",
)  # fmt: skip


def _supervised(today):
    colours = colour_conditions(today)
    return colours[Colour.RED] | colours[Colour.YELLOW]


@require_safe
@reads_from_replica
def weekly_list(request):
    form, filters = dashboard_scope(request)
    today = timezone.localdate()
    base = Issue.objects.using(figures.database_alias()).filter(filters.issues_q()).open()
    summary = figures.now_counts(filters, today, by="lead_department")
    names = dict(Department.objects.values_list("pk", "name"))
    departments = sorted(summary.items(), key=lambda item: (item[0] is not None, names.get(item[0], "")))
    if request.GET.get("format") == "xlsx":
        qs = base if filters.department else base.filter(_supervised(today))
        issues = qs.for_spreadsheet(today).order_by(
            F("lead_department__name").asc(nulls_first=True), "deadline", "id"
        )
        header, rows = spreadsheet.issue_sheet(issues[:WEEKLY_XLSX_MAX_ROWS].iterator(chunk_size=2000))
        filename = _("weekly-list-%(date)s.xlsx") % {"date": today.isoformat()}
        return spreadsheet.xlsx_response(filename, [(_("Weekly list"), header, rows)])
    page = None
    if filters.department:
        ordered = base.for_spreadsheet(today).order_by(F("deadline").asc(nulls_last=True), "id")
        page = Paginator(ordered, WEEKLY_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
    else:
        ranked = (
            base.filter(_supervised(today))
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=F("lead_department"),
                    order_by=[F("deadline").asc(), F("id").asc()],
                )
            )
            .filter(rank__lte=WEEKLY_ROWS_PER_DEPARTMENT)
            .values_list("pk", flat=True)
        )
        # The page shows the enterprise's name, the colour and the latest note: not the whole
        # spreadsheet row (five joined objects per issue, a third of the page's time), and
        # only the columns its rows read (some 400 rows).
        rows = list(
            Issue.objects.filter(pk__in=list(ranked))
            .with_colour(today)
            .select_related("enterprise")
            .only(*WEEKLY_ROW_FIELDS)
            .with_latest_note()
            .order_by(F("lead_department__name").asc(nulls_first=True), "deadline", "id")
        )
    by_department = {}
    for issue in rows:
        by_department.setdefault(issue.lead_department_id, []).append(issue)
    groups = []
    for pk, counts in departments:
        issues = by_department.get(pk, [])
        supervised = counts["overdue"] + counts["yellow"]
        shown_total = counts["open"] if filters.department else supervised
        narrowed = filters.with_(department=pk) if pk else filters
        groups.append(
            {
                "name": names.get(pk) or _("Not yet assigned"),
                "counts": counts,
                "issues": issues,
                "more": max(0, shown_total - len(issues)) if not filters.department else 0,
                "urls": {
                    "open": issues_url(narrowed) if pk else issues_url(filters, status="new"),
                    "red": issues_url(narrowed, colour="red"),
                    "yellow": issues_url(narrowed, colour="yellow"),
                    "blue": issues_url(narrowed, colour="blue"),
                    "supervised": issues_url(narrowed, ordering="colour"),
                },
            }
        )
    totals = {key: sum(c[key] for _pk, c in departments) for key in ("open", "overdue", "yellow", "blue")}
    page_query = _without_page(request)
    query = request.GET.copy()
    query["format"] = "xlsx"
    context = {
        "form": form,
        "filter_fields": [form["district"], form["sector"], form["department"]],
        "heading_filters": form.described()[1:],
        "groups": [g for g in groups if g["issues"] or filters.department or g["counts"]["open"]],
        "totals": totals,
        "department_view": bool(filters.department),
        "page": page,
        "page_query": page_query,
        "per_department": WEEKLY_ROWS_PER_DEPARTMENT,
        "today": today,
        "week_start": today - timedelta(days=today.weekday()),
        "xlsx_url": f"{request.path}?{query.urlencode()}",
        "xlsx_max_rows": WEEKLY_XLSX_MAX_ROWS,
    }
    return render(request, "dashboard/weekly.html", context)
