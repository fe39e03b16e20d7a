"""Browser pages for issues: "My work", the issue list and its exports, the issue page and
the one POST endpoint through which every issue action goes (to `issues.workflow`).

Access: every page reads through `Issue.objects.visible_to(user)` (an issue the user may not
see is a 404); every action is checked with `permissions.can` (403) before the workflow
checks it again under a row lock.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, Value, When
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from enterprises.models import Enterprise
from visits.models import Visit, VisitStatus

from . import spreadsheet, workflow
from .filters import IssueFilter, with_colour_rank
from .forms import ACTION_FORMS, ITEM_ACTIONS, PANEL_ORDER
from .models import (
    ACTIVE_STATUSES,
    CoDepartment,
    ExtensionRequest,
    Issue,
    IssueEvent,
    Objection,
    RequestStatus,
    Status,
)
from .permissions import Action, can, department_ids
from .roles import Role, is_coordinator, roles_of, sees_everything

PAGE_SIZE = 50
MY_WORK_LIMIT = 50
MY_VISITS_LIMIT = 20
QUEUE_LIMIT = 30
CHOICE_FILTERS = ("department", "colour", "category", "district", "source", "scope", "sector", "priority")
DATE_FILTERS = ("deadline_after", "deadline_before", "raised_after", "raised_before")


def _supervision_counts(queryset, today) -> dict:
    """Open, overdue, due soon and behind schedule in one query (the QuerySet definitions)."""
    active = Q(status__in=ACTIVE_STATUSES)
    not_overdue = Q(deadline__gte=today)
    return queryset.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=active & Q(deadline__lt=today)),
        due_soon=Count("pk", filter=active & not_overdue & Q(due_soon_from__lte=today)),
        behind=Count("pk", filter=active & not_overdue & Q(stalled_from__lte=today)),
        new=Count("pk", filter=Q(status=Status.NEW)),
    )


def _my_issues_condition(user) -> Q:
    depts = department_ids(user)
    condition = Q(owner=user)
    if depts:
        condition |= Q(lead_department__in=depts) | Q(
            pk__in=CoDepartment.objects.filter(department__in=depts).values("issue_id")
        )
    if Role.OFFICIAL in roles_of(user):
        condition |= Q(raised_by=user)
    return condition


@require_GET
def my_work(request):
    user, today = request.user, timezone.localdate()
    depts = department_ids(user)

    visit_ids = Visit.lead_officials.through.objects.filter(official__user=user).values("visit_id")
    visits = (
        Visit.objects.filter(status=VisitStatus.PLANNED)
        .filter(Q(created_by=user) | Q(pk__in=visit_ids))
        .select_related("enterprise")
        .prefetch_related("lead_officials")
        .annotate(is_past=Case(When(visited_on__lt=today, then=Value(1)), default=Value(0)))
        .order_by("is_past", "visited_on", "id")[:MY_VISITS_LIMIT]
    )

    mine = Issue.objects.visible_to(user).open().filter(_my_issues_condition(user))
    counts = _supervision_counts(mine, today)
    active = Q(status__in=ACTIVE_STATUSES)
    # Overdue first, then due soon, then behind schedule, then the rest (by deadline).
    issues = (
        mine.with_colour(today)
        .annotate(
            urgency=Case(
                When(active & Q(deadline__lt=today), then=Value(0)),
                When(active & Q(due_soon_from__lte=today), then=Value(1)),
                When(active & Q(stalled_from__lte=today), then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .select_related("enterprise", "lead_department", "owner")
        .order_by("urgency", F("deadline").asc(nulls_last=True), "-raised_on", "-id")[:MY_WORK_LIMIT]
    )
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
        objections = list(
            Objection.objects.filter(status=RequestStatus.PENDING)
            .select_related("issue", "department", "suggested_department", "raised_by")
            .order_by("raised_at")[:QUEUE_LIMIT]
        )
        context.update(
            new_issues=waiting.select_related("enterprise", "category").order_by(
                F("respond_by").asc(nulls_last=True), "id"
            )[:QUEUE_LIMIT],
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


def _issue_filter(request) -> IssueFilter:
    queryset = with_colour_rank(Issue.objects.visible_to(request.user)).select_related(
        "enterprise", "enterprise__district", "lead_department", "owner", "category"
    )
    return IssueFilter(request.GET, queryset=queryset)


@require_GET
def issue_list(request):
    issue_filter = _issue_filter(request)
    page = Paginator(issue_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
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
        (_("Supervision colour"), lambda i: _colour_label(i.colour)),
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


def _colour_label(colour: str) -> str:
    from .models import Colour

    return str(Colour(colour).label) if colour else ""


@require_GET
def issue_export(request):
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        return HttpResponseBadRequest(_("Unknown export format."))
    issue_filter = _issue_filter(request)
    columns = _export_columns()
    header = [str(h) for h, _get in columns]
    rows = ([get(issue) for _h, get in columns] for issue in issue_filter.qs)
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
