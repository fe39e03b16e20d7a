"""Browser pages for issues: "My work", the issue list and its exports, the issue page and
the one POST endpoint through which every issue action goes (to `issues.workflow`).

Access: every page reads through `Issue.objects.visible_to(user)` (an issue the user may not
see is a 404); an action is then the workflow's to allow or refuse: it locks the issue,
checks the user's permission and the version the user saw, all in one transaction.
"""

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, F, Prefetch, Q, Value, When
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.forms import BootstrapFormMixin
from enterprises.models import Enterprise
from visits.models import Visit, VisitStatus

from . import attachments, spreadsheet, workflow
from .feedback_links import qr_svg
from .filters import URGENT_FIRST, IssueFilter
from .forms import ACTION_FORMS, ITEM_ACTIONS, PANEL_ORDER
from .models import (
    ACTIVE_STATUSES,
    CoDepartment,
    ExtensionRequest,
    FeedbackRound,
    Issue,
    IssueEvent,
    NotificationPreference,
    Objection,
    RequestStatus,
)
from .permissions import Action, can, can_view, department_ids, my_issues_condition
from .roles import is_coordinator, sees_everything

# 25 rows a page, as the enterprise and visit lists: a phone screenful or two, and half the
# rendering of 50 (the list's cost is mostly drawing rows).
PAGE_SIZE = 25
MY_WORK_LIMIT = 25
MY_VISITS_LIMIT = 20
QUEUE_LIMIT = 30
CHOICE_FILTERS = ("department", "colour", "category", "district", "source", "scope", "sector", "priority")
DATE_FILTERS = ("deadline_after", "deadline_before", "raised_after", "raised_before")
# The home page's queues open the list with one of these ticked; the form shows it only then.
QUEUE_FILTERS = ("untriaged", "awaiting_answer")


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
        # Upcoming first (soonest first), then past ones still marked planned.
        .annotate(is_past=Case(When(visited_on__lt=today, then=Value(1)), default=Value(0)))
        .order_by("is_past", "visited_on", "id")[:MY_VISITS_LIMIT]
    )
    mine = Issue.objects.visible_to(user).open().filter(my_issues_condition(user))
    issues = list(mine.list_rows(today).order_by(*URGENT_FIRST)[:MY_WORK_LIMIT])
    context = {
        "today": today,
        "visits": visits,
        "issues": issues,
        "counts": mine.now_counts(today),
        "co_reports": [],
        "has_departments": bool(depts),
    }
    if depts:
        context["co_reports"] = list(
            CoDepartment.objects.filter(
                department__in=depts, reported_on__isnull=True, issue__status__in=ACTIVE_STATUSES
            )
            .select_related("issue", "department")
            .order_by("report_by", "id")[:QUEUE_LIMIT]
        )
    if is_coordinator(user):
        context.update(coordinator_queues(today))
    if sees_everything(user):
        context["city_counts"] = Issue.objects.now_counts(today)
        context["common_open"] = Issue.objects.common_open()
    # Coordinators and leaders without issues of their own start from the city's figures.
    context["show_my_counts"] = bool(depts or context["counts"]["open"] or "city_counts" not in context)
    return render(request, "issues/my_work.html", context)


def coordinator_queues(today) -> dict:
    """What waits for a coordinator: untriaged issues (oldest limit first), resolutions
    waiting for the enterprise's answer (oldest first, 待确认), extension requests and
    objections. Each at most QUEUE_LIMIT rows."""
    untriaged = Issue.objects.untriaged()
    awaiting = Issue.objects.awaiting_answer()
    objections = list(
        Objection.objects.filter(status=RequestStatus.PENDING)
        .select_related("issue", "department", "suggested_department", "raised_by")
        .order_by("raised_at")[:QUEUE_LIMIT]
    )
    return {
        "new_issues": untriaged.select_related("enterprise", "category").order_by(
            F("respond_by").asc(nulls_last=True), "id"
        )[:QUEUE_LIMIT],
        "awaiting_answer": awaiting.select_related("enterprise", "lead_department")[:QUEUE_LIMIT],
        "awaiting_count": awaiting.count(),
        "extension_requests": ExtensionRequest.objects.filter(status=RequestStatus.PENDING)
        .select_related("issue", "issue__lead_department", "requested_by")
        .order_by("requested_at")[:QUEUE_LIMIT],
        "objections": objections,
        "objection_count": len(objections),
    }


# -- list and export ---------------------------------------------------------------------------


def _issue_filter(request) -> IssueFilter:
    return IssueFilter(request.GET, queryset=Issue.objects.visible_to(request.user).list_rows())


@require_GET
def issue_list(request):
    issue_filter = _issue_filter(request)
    today = timezone.localdate()
    # The order is worked out on the issue table alone (ids only), then the page's rows are
    # read with their names: sorting 20,000 joined rows to show 50 took 3× longer.
    ordered_ids = issue_filter.qs.values_list("pk", flat=True)
    page = Paginator(ordered_ids, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = list(page.object_list)
    rows = Issue.objects.list_rows(today).in_bulk(ids)
    page.object_list = issues = [rows[pk] for pk in ids]
    enterprise = None
    enterprise_id = issue_filter.form.cleaned_data.get("enterprise")  # validated by .qs
    if enterprise_id:
        enterprise = Enterprise.objects.filter(pk=enterprise_id).first()
    active = [
        n
        for n in (*CHOICE_FILTERS, *DATE_FILTERS, *QUEUE_FILTERS, "status", "overdue", "due_soon")
        if request.GET.get(n)
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
            "issues": issues,
            "today": today,
            "enterprise": enterprise,
            "filter_errors": errors,
            "choice_fields": [issue_filter.form[n] for n in CHOICE_FILTERS],
            "date_fields": [issue_filter.form[n] for n in DATE_FILTERS],
            "queue_fields": [issue_filter.form[n] for n in QUEUE_FILTERS],
            "advanced_open": bool(active),
            "active_filter_count": len(active),
        },
    )


class CappedRows:
    """At most `limit` rows and at most `seconds` of work, then one row that says the list
    was cut: a download must finish inside the server's 30 s timeout even on a busy
    machine (measured: 10,000 XLSX rows took 2 s alone but 20-30 s under a 20-user load).
    `cut` tells, once read, whether that note row was written."""

    def __init__(self, rows, limit: int, seconds: float):
        self.rows, self.limit, self.seconds, self.cut = rows, limit, seconds, False

    def __iter__(self):
        started = time.monotonic()
        for n, row in enumerate(self.rows):
            if n == self.limit or (n and time.monotonic() - started > self.seconds):
                self.cut = True
                yield [
                    _("Only the first %(n)s issues are exported: narrow the list with the filters.")
                    % {"n": n}
                ]
                return
            yield row


@require_GET
def issue_export(request):
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        return HttpResponseBadRequest(_("Unknown export format."))
    issues = _issue_filter(request).qs.for_spreadsheet().iterator(chunk_size=2000)  # the list's order
    header, rows = spreadsheet.issue_sheet(issues)
    rows = CappedRows(rows, settings.EXPORT_MAX_ROWS, settings.EXPORT_MAX_SECONDS)
    name = pgettext("export file name", "Issue list").replace(" ", "-")
    filename = f"{name}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        response = spreadsheet.csv_response(filename, header, rows)
    else:
        response = spreadsheet.xlsx_response(filename, [(name, header, rows)])
    response.note_rows = int(rows.cut)  # the access log counts issues, not the note
    return response


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
            Prefetch("feedback_rounds", queryset=FeedbackRound.objects.select_related("recorded_by")),
            Prefetch(
                "linked_issues",
                queryset=Issue.objects.visible_to(user).list_rows().order_by("id"),
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
    rounds = list(issue.feedback_rounds.all())
    if not rounds or (issue.resolved_at and rounds[-1].recorded_at < issue.resolved_at):
        hidden.add(Action.CONFIRM)  # nothing answered about this resolution yet
    return hidden


def _render_issue(request, issue: Issue, bound=None, status: int = 200, issued_link=None):
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
    if issued_link is not None:
        url = request.build_absolute_uri(issued_link.path)
        context.update(issued_link=issued_link, issued_link_url=url, issued_link_qr=qr_svg(url))
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


@require_POST
def issue_action(request, pk: int, action: str):
    """Run one workflow action from the issue page (POST only, CSRF-protected).

    The issue is read once, through the user's visibility (404 otherwise), and the role is
    checked (403); the workflow then locks it and checks the permission, the status and the
    version the user saw, in one transaction. Only a refused form draws the page again."""
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404
    issue = get_object_or_404(Issue.objects.visible_to(request.user), pk=pk)
    if not can(request.user, action, issue):
        raise PermissionDenied  # before the form: a refused user learns nothing from its errors
    form = form_class(request.POST, issue=issue, user=request.user)
    if form.is_valid():
        try:
            # Files posted with the step (issue 13): checked first, stored with its event.
            with attachments.with_step(request, issue=issue, action=action):
                done = form.perform()
        except workflow.ConflictError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(issue)
        except PermissionDenied:
            raise
        except ValidationError as error:  # WorkflowError and model validation
            _add_errors(form, error)
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": form.heading})
            if action == Action.REQUEST_FEEDBACK:  # the link is shown once, now
                return _render_issue(request, _issue_for_page(request.user, pk), issued_link=done)
            return redirect(issue)
    if action == Action.COMPLETE_MILESTONE:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(issue)
    return _render_issue(request, _issue_for_page(request.user, pk), bound={action: form}, status=400)


# -- how a person is told ------------------------------------------------------------------------


class NotificationPreferenceForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["email", "chat"]


@require_http_methods(["GET", "POST"])
def notification_settings(request):
    """Each person chooses how to be told: by email, in the group chat, both or neither."""
    preference = NotificationPreference.objects.filter(user=request.user).first() or NotificationPreference(
        user=request.user
    )
    form = NotificationPreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("notification-settings")
    return render(request, "issues/notification_settings.html", {"form": form})
