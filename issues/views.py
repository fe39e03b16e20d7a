"""Browser pages for issues: "My work", the issue list and its exports, the issue page and
the one POST endpoint through which every issue action goes (to `issues.workflow`).

Access: every page reads through `Issue.objects.visible_to(user)` (an issue the user may not
see is a 404); every action is checked with `permissions.can` (403) before the workflow
checks it again under a row lock.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, F, Prefetch, Q, Value, When, Window
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from enterprises.models import Enterprise
from visits.models import Visit, VisitStatus

from . import counting, spreadsheet, workflow
from .filters import ListFilters, in_part_order, issue_filter
from .forms import ACTION_FORMS, ITEM_ACTIONS, PANEL_ORDER
from .models import (
    ACTIVE_STATUSES,
    CoDepartment,
    Colour,
    ExtensionRequest,
    Issue,
    IssueEvent,
    Objection,
    RequestStatus,
    Status,
    colour_conditions,
    colour_label,
)
from .permissions import Action, can, can_view, department_ids
from .roles import Role, is_coordinator, roles_of, sees_everything

PAGE_SIZE = 50
MY_WORK_LIMIT = 50
MY_VISITS_LIMIT = 20
QUEUE_LIMIT = 30
CHOICE_FILTERS = ("department", "colour", "category", "district", "source", "scope", "sector", "priority")
DATE_FILTERS = ("deadline_after", "deadline_before", "raised_after", "raised_before")


def _count_conditions(today) -> dict[str, Q]:
    """The supervision figures besides "open" (the QuerySet definitions of the colours)."""
    colours = colour_conditions(today)
    return {
        "overdue": colours[Colour.RED],
        "due_soon": colours["due_soon"],
        "behind": colours[Colour.YELLOW],
        "new": Q(status=Status.NEW),
    }


def _supervision_counts(queryset, today) -> dict:
    """Open, overdue, due soon, behind schedule and new, for the whole city: independent
    COUNT subqueries in one query, each planned on its own index (index-only scans, no pass
    over the rows)."""
    conditions = _count_conditions(today)
    return counting.counts(open=queryset, **{k: queryset.filter(q) for k, q in conditions.items()})


def _my_issues_condition(user) -> Q:
    depts = department_ids(user)
    condition = Q(owner=user)
    if depts:
        condition |= Q(lead_department__in=depts) | Q(
            pk__in_subquery=CoDepartment.objects.filter(department__in=depts).values("issue_id")
        )
    if Role.OFFICIAL in roles_of(user):
        condition |= Q(raised_by=user)
    return condition


def _most_urgent(mine, today) -> tuple[dict, list[Issue]]:
    """The counts of `mine` (open, overdue, due soon, behind schedule, new) and its first
    MY_WORK_LIMIT issues by supervision colour, as everywhere (red > yellow > blue):
    overdue, then behind schedule, then due soon (each by deadline), then the rest.

    ONE pass over the user's open issues gives both: the counts are window aggregates over
    all of them, the top ids their first rows by rank (a person's or a department's open
    issues are at most a few thousand rows, sorted in memory). Then those rows with their
    names. Counting and ranking in two queries read the same rows twice (busiest owner:
    ~2 ms each)."""
    colours = colour_conditions(today)
    rank = Case(
        When(colours[Colour.RED], then=Value(0)),
        When(colours[Colour.YELLOW], then=Value(1)),
        When(colours[Colour.BLUE], then=Value(2)),
        default=Value(3),
    )
    order = ("rank", F("deadline").asc(nulls_last=True), "-raised_on", "-id")
    figures = {"open": Window(Count("pk"))}
    figures.update({k: Window(Count("pk", filter=q)) for k, q in _count_conditions(today).items()})
    top = list(
        mine.alias(rank=rank).annotate(**figures).order_by(*order).values_list("pk", *figures)[:MY_WORK_LIMIT]
    )
    counts = dict(zip(figures, top[0][1:], strict=True)) if top else dict.fromkeys(figures, 0)
    ids = [row[0] for row in top]
    rows = {issue.pk: issue for issue in list_rows(today).filter(pk__in=ids)} if ids else {}
    return counts, [rows[pk] for pk in ids if pk in rows]


@require_GET
def my_work(request):
    user, today = request.user, timezone.localdate()
    depts = department_ids(user)

    visit_ids = Visit.lead_officials.through.objects.filter(official__user=user).values("visit_id")
    visits = (
        Visit.objects.filter(status=VisitStatus.PLANNED)
        .filter(Q(created_by=user) | Q(pk__in_subquery=visit_ids))
        .select_related("enterprise")
        .prefetch_related("lead_officials")
        .annotate(is_past=Case(When(visited_on__lt=today, then=Value(1)), default=Value(0)))
        .order_by("is_past", "visited_on", "id")[:MY_VISITS_LIMIT]
    )

    mine = Issue.objects.visible_to(user).open().filter(_my_issues_condition(user))
    counts, issues = _most_urgent(mine, today)
    co_reports = []
    if depts:
        co_reports = list(
            CoDepartment.objects.filter(
                department__in=depts, reported_on__isnull=True, issue__status__in=ACTIVE_STATUSES
            )
            .select_related("issue", "department")
            .order_by("report_by", "id")[:QUEUE_LIMIT]
        )
    context = {
        "today": today,
        "visits": visits,
        "issues": issues,
        "counts": counts,
        "co_reports": co_reports,
        "has_departments": bool(depts),
    }
    if is_coordinator(user):
        waiting = Issue.objects.filter(status=Status.NEW)
        by_respond_by = (F("respond_by").asc(nulls_last=True), "id")
        objections = list(
            Objection.objects.filter(status=RequestStatus.PENDING)
            .select_related("issue", "department", "suggested_department", "raised_by")
            .order_by("raised_at")[:QUEUE_LIMIT]
        )
        context.update(
            # The 30 ids from the issue table alone, then those rows with their names.
            new_issues=Issue.objects.filter(
                pk__in=waiting.order_by(*by_respond_by).values("pk")[:QUEUE_LIMIT]
            )
            .select_related("enterprise", "category")
            .order_by(*by_respond_by),
            extension_requests=ExtensionRequest.objects.filter(status=RequestStatus.PENDING)
            .select_related("issue", "issue__lead_department", "requested_by")
            .order_by("requested_at")[:QUEUE_LIMIT],
            objections=objections,
            objection_count=len(objections),
        )
    if sees_everything(user):
        context["city_counts"] = _supervision_counts(Issue.objects.open(), today)
    # Coordinators and leaders without issues of their own start from the city's figures.
    context["show_my_counts"] = bool(depts or counts["open"] or "city_counts" not in context)
    return render(request, "issues/my_work.html", context)


# -- list and export ---------------------------------------------------------------------------

LIST_RELATED = ("enterprise", "enterprise__district", "lead_department", "owner", "category")
# What a list row or card shows (templates/jinja2/issues/_issue_rows.html, _issue_cards.html),
# and only that: no descriptions (they can be long), no enterprise notes. A column a template
# reads that is not here costs a query per row, which the query-count tests catch.
ROW_COLUMNS = (
    "title",
    "status",
    "priority",
    "deadline",
    "original_deadline",
    "enterprise__name",
    "lead_department__name",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


# What an issue item on the enterprise and visit pages shows
# (templates/jinja2/enterprises/_issue_items.html), and only that.
ITEM_COLUMNS = (
    "title",
    "status",
    "deadline",
    "original_deadline",
    "solved_on_site",
    "resolution",
    "category__name",
    "lead_department__name",
)


def issue_items(queryset):
    """`queryset` as the enterprise and visit pages list it: colour, category and lead
    department, and the few columns of `ITEM_COLUMNS`."""
    return queryset.with_colour().select_related("category", "lead_department").only(*ITEM_COLUMNS)


def list_rows(today):
    """Issues as the lists show them: colour, and the few columns of `ROW_COLUMNS`."""
    related = ("enterprise", "lead_department", "owner")
    return Issue.objects.with_colour(today).select_related(*related).only(*ROW_COLUMNS)


class PartedRows:
    """The issue list's rows for the paginator, read in two steps.

    The list's order is a few consecutive parts (`ListFilters.parts`), each ordered on plain
    columns of the issue table, so each can be read from an index. A filtered list: one
    query counts the filtered rows and each part (independent scalar subqueries, each
    planned on its own index). The list of every issue: the total from the rollup, and a
    part is counted only when a page reaches it and only as far as the page reaches (the
    first page: the first 50 overdue issues, not the 22,000 open ones four times over). A
    page is then ONE query: its ids are the exact slices of the parts it overlaps
    (LIMIT/OFFSET on ids alone: no join, no computed sort over all rows), and the outer
    query loads those ≤ 50 rows with their colour and related names, in part order.
    """

    def __init__(self, issue_filter: ListFilters, today):
        self.filter, self.today = issue_filter, today
        self.parts = issue_filter.parts(today)
        self._total = None
        self._sizes = None  # each part's but the last's, exactly (filtered lists)

    def _part_qs(self, n):
        return self.filter.ordered_qs(*self.parts[n])

    def count(self) -> int:
        if self._total is None:
            if counting.counts_every_issue(self.filter.qs):  # a user who sees every issue, no filter
                self._total = counting.issue_total(self.filter.qs.db)
            else:
                parts = {f"part{n}": counting.counted(self._part_qs(n)) for n in range(len(self.parts) - 1)}
                counts = counting.scalars(all=counting.counted(self.filter.qs), **parts)
                self._total = counts.pop("all")
                self._sizes = list(counts.values())
        return self._total

    def _part_size(self, n: int, reach: int) -> int:
        """Part n's size, exact when below `reach` (from the part's start to the end of the
        page being read): a part of `reach` rows or more ends the page anyway."""
        if self._sizes is not None:
            return self._sizes[n]
        return self._part_qs(n).order_by()[:reach].count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("PartedRows supports plain slices only")
        offset = max(key.start or 0, 0)
        limit = (self.count() if key.stop is None else key.stop) - offset
        slices, used, before = [], [], 0
        for n in range(len(self.parts)):
            if limit <= 0:
                break
            last = n == len(self.parts) - 1
            # Every part before the last that the loop passes is smaller than its reach, so
            # exactly counted: the last part is the rest.
            size = self.count() - before if last else self._part_size(n, offset + limit)
            before += size
            if offset >= size:
                offset -= size
                continue
            take = min(limit, size - offset)
            slices.append(self._part_qs(n).values("pk")[offset : offset + take])
            used.append(self.parts[n])
            limit -= take
            offset = 0
        if not slices:
            return []
        # A page inside one part (the usual case) is one subquery; a page across parts
        # reads each part's few ids (at most one query per part, 5 parts).
        ids = slices[0] if len(slices) == 1 else [row["pk"] for part in slices for row in part]
        return list(in_part_order(list_rows(self.today).filter(pk__in=ids), used))  # usually one part


def _issue_filter(request) -> ListFilters:
    return issue_filter(request.GET, queryset=Issue.objects.visible_to(request.user))


@require_GET
def issue_list(request):
    today = timezone.localdate()
    issue_filter = _issue_filter(request)
    rows = PartedRows(issue_filter, today)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    enterprise = None
    enterprise_id = issue_filter.form.cleaned_data.get("enterprise")  # validated by .qs
    if enterprise_id:
        enterprise = Enterprise.objects.filter(pk=enterprise_id).first()
    active = [
        n for n in (*CHOICE_FILTERS, *DATE_FILTERS, "status", "overdue", "due_soon") if request.GET.get(n)
    ]
    errors = {
        name: errs
        for name, errs in issue_filter.form.errors.items()
        if name not in ("ordering", "enterprise")
    }
    return render(
        request,
        "issues/issue_list.html",
        {
            "filter": issue_filter,
            "form": issue_filter.form,
            "page": page,
            "issues": page.object_list,
            "today": today,
            "enterprise": enterprise,
            "filter_errors": errors,
            "choice_fields": [issue_filter.form[n] for n in CHOICE_FILTERS],
            "date_fields": [issue_filter.form[n] for n in DATE_FILTERS],
            "advanced_open": bool(active),
            "active_filter_count": len(active),
            # Dashboard (FigureFilters) parameters ride along unchanged when the form is used,
            # and are shown, so the user knows why the list is narrower.
            "extra_params": [
                (name, value)
                for name in issue_filter.extra_filter_names
                for value in request.GET.getlist(name)
            ],
            "extra_labels": [
                issue_filter.form[name].label
                for name in issue_filter.extra_filter_names
                if request.GET.get(name)
            ],
        },
    )


def _export_columns():
    """(header, value) pairs; headers in the user's language."""

    def person(user):
        return (user.get_full_name() or user.get_username()) if user else ""

    return [
        (_("ID"), lambda i: i.pk),
        (_("Title"), lambda i: i.title),
        (_("Status"), lambda i: i.get_status_display()),
        (_("Supervision colour"), lambda i: colour_label(i.colour)),
        (_("Enterprise"), lambda i: i.enterprise.name if i.enterprise else ""),
        (_("Credit code"), lambda i: i.enterprise.credit_code if i.enterprise else ""),
        (
            _("District"),
            lambda i: i.enterprise.district.name if i.enterprise and i.enterprise.district else "",
        ),
        (_("Category"), lambda i: i.category.name),
        (_("Source"), lambda i: i.get_source_display()),
        (_("Scope"), lambda i: i.get_scope_display()),
        (_("Priority"), lambda i: i.get_priority_display()),
        (_("Lead department"), lambda i: i.lead_department.name if i.lead_department else ""),
        (_("Owner"), lambda i: person(i.owner)),
        (_("Raised on"), lambda i: i.raised_on),
        (_("Deadline"), lambda i: i.deadline),
        (_("Original deadline"), lambda i: i.original_deadline),
        (_("Days overdue"), lambda i: i.days_overdue()),
        (_("Resolution"), lambda i: i.resolution),
        (_("Outcome"), lambda i: i.get_outcome_display()),
        (_("Description"), lambda i: i.description),
    ]


def capped_rows(rows, limit: int, seconds: float):
    """At most `limit` rows and at most `seconds` of work, then one row that says the list
    was cut: a download must finish inside the server's 30 s timeout even on a busy
    machine (measured: 10,000 XLSX rows took 2 s alone but 20-30 s under a 20-user load)."""
    started = time.monotonic()
    for n, row in enumerate(rows):
        if n == limit or (n and time.monotonic() - started > seconds):
            yield [
                _("Only the first %(n)s issues are exported: narrow the list with the filters.") % {"n": n}
            ]
            return
        yield row


@require_GET
def issue_export(request):
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        return HttpResponseBadRequest(_("Unknown export format."))
    today = timezone.localdate()
    issue_filter = _issue_filter(request)
    columns = _export_columns()
    header = [str(h) for h, _get in columns]
    issues = (
        issue_filter.ordered_all(today)  # the list's order
        .with_colour(today)
        .select_related(*LIST_RELATED)
        .iterator(chunk_size=2000)
    )
    rows = capped_rows(
        ([get(issue) for _h, get in columns] for issue in issues),
        settings.EXPORT_MAX_ROWS,
        settings.EXPORT_MAX_SECONDS,
    )
    name = pgettext("export file name", "Issue list").replace(" ", "-")
    filename = f"{name}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        return spreadsheet.csv_response(filename, header, rows)
    return spreadsheet.xlsx_response(filename, [(name, header, rows)])


# -- the issue page and its actions ----------------------------------------------------------


def _issue_for_page(user, pk: int) -> Issue:
    queryset = (
        Issue.objects.visible_to(user)
        .with_colour()
        .select_related(
            "enterprise",
            "enterprise__district",
            "category",
            "lead_department",
            "owner",
            "raised_by",
            "visit",
            "survey_response",
            "survey_response__survey",
            "common_issue",
        )
        .prefetch_related(
            Prefetch("co_handlings", queryset=CoDepartment.objects.select_related("department")),
            "milestones",
            Prefetch(
                "extension_requests",
                queryset=ExtensionRequest.objects.select_related("requested_by", "decided_by"),
            ),
            Prefetch(
                "objections",
                queryset=Objection.objects.select_related(
                    "department", "suggested_department", "raised_by", "decided_by"
                ),
            ),
            Prefetch("events", queryset=IssueEvent.objects.select_related("actor", "department", "owner")),
            Prefetch(
                "linked_issues",
                queryset=Issue.objects.visible_to(user)
                .with_colour()
                .select_related("enterprise", "lead_department")
                .order_by("id"),
            ),
        )
    )
    return get_object_or_404(queryset, pk=pk)


def _not_offered_now(user, issue: Issue) -> set[str]:
    """Actions the role and status allow but whose time has passed or is already used:
    not offered as forms (the workflow would refuse them with a message anyway)."""
    today = timezone.localdate()
    hidden = set()
    objection_by = workflow.objection_deadline(issue)
    if (objection_by and today > objection_by) or any(
        o.status == RequestStatus.PENDING for o in issue.objections.all()
    ):
        hidden.add(Action.OBJECT)
    if (issue.deadline and issue.deadline < today) or any(
        r.status == RequestStatus.PENDING for r in issue.extension_requests.all()
    ):
        hidden.add(Action.REQUEST_EXTENSION)
    depts = department_ids(user)
    if not any(c.department_id in depts and c.reported_on is None for c in issue.co_handlings.all()):
        hidden.add(Action.CO_REPORT)
    return hidden


def _render_issue(request, issue: Issue, bound=None, status: int = 200):
    user = request.user
    actions = workflow.allowed_actions(user, issue)
    bound = bound or {}

    def form_for(action, **kwargs):
        if action in bound:
            return bound[action]
        return ACTION_FORMS[action](issue=issue, user=user, **kwargs)

    offered = set(actions) - _not_offered_now(user, issue)
    panels = [form_for(a) for a in PANEL_ORDER if a in offered and a not in ITEM_ACTIONS]
    shown = {form.action for form in panels} | {Action.DECIDE_EXTENSION, Action.DECIDE_OBJECTION}
    for action, form in bound.items():
        if action not in shown or action not in actions:
            # The step is no longer offered (the issue moved on): say why at the top.
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
    pending_extension = next(
        (r for r in issue.extension_requests.all() if r.status == RequestStatus.PENDING), None
    )
    pending_objection = next((o for o in issue.objections.all() if o.status == RequestStatus.PENDING), None)
    context = {
        "issue": issue,
        # A common issue led by another department: its number, never its title.
        "common_issue_visible": bool(issue.common_issue_id)
        and (sees_everything(user) or can_view(user, issue.common_issue)),
        "today": timezone.localdate(),
        "panels": panels,
        "open_panel": next(iter(bound), None),
        "can_complete_milestone": Action.COMPLETE_MILESTONE in actions,
        "pending_extension": pending_extension,
        "pending_objection": pending_objection,
        "decide_extension_form": (
            form_for(Action.DECIDE_EXTENSION, initial={"request": pending_extension.pk})
            if pending_extension and Action.DECIDE_EXTENSION in actions
            else None
        ),
        "decide_objection_form": (
            form_for(Action.DECIDE_OBJECTION, initial={"objection": pending_objection.pk})
            if pending_objection and Action.DECIDE_OBJECTION in actions
            else None
        ),
        "objection_deadline": workflow.objection_deadline(issue),
    }
    return render(request, "issues/issue_detail.html", context, status=status)


@require_GET
def issue_detail(request, pk: int):
    return _render_issue(request, _issue_for_page(request.user, pk))


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _conflict(issue_id: int) -> workflow.ConflictError:
    return workflow.ConflictError(
        _(
            "Issue #%(id)s was changed by someone else while you were looking at it. "
            "Reload the page to see the change, then try again."
        )
        % {"id": issue_id},
        code="conflict",
    )


@require_POST
def issue_action(request, pk: int, action: str):
    """Run one workflow action from the issue page (POST only, CSRF-protected)."""
    issue = _issue_for_page(request.user, pk)
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404
    if not can(request.user, action, issue):
        raise PermissionDenied
    form = form_class(request.POST, issue=issue, user=request.user)
    if form.is_valid():
        try:
            with transaction.atomic():
                # The version the user saw, compared under the row lock: two people acting at
                # once cannot both succeed from the same page.
                stored = Issue.objects.select_for_update().values_list("version", flat=True).get(pk=pk)
                if stored != form.cleaned_data["version"]:
                    raise _conflict(pk)
                form.perform()
        except workflow.ConflictError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(issue)
        except ValidationError as error:  # WorkflowError and model validation
            _add_errors(form, error)
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": form.heading})
            return redirect(issue)
    if action == Action.COMPLETE_MILESTONE:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(issue)
    return _render_issue(request, issue, bound={action: form}, status=400)
