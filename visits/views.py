"""Visit pages: list, page, log a visit with its issues, plan a visit, edit a visit."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enterprises.models import Enterprise
from issues import attachments, trail
from issues.file_views import upload_files
from issues.models import Attachment, Issue
from issues.permissions import can_raise_issues

from . import services
from .filters import VisitFilter
from .forms import IssueFormSet, VisitForm, enterprise_label, is_id
from .models import Official, Visit, VisitStatus

PAGE_SIZE = 25
DRAFT_SAVED_KEY = "visits:draft_saved"
ISSUE_PREFIX = "issues"
DATALIST_SIZE = 200


def _require_logger(user) -> None:
    """Officials, coordinators and administrators log visits; everyone else gets 403."""
    if not can_raise_issues(user):
        raise PermissionDenied(_("You may not record visits."))


def _saved(request, visit: Visit):
    """After a save, to the visit's page, which tells the browser that the form at this
    address is saved, so it drops the draft it kept while typing (static/app/session.js).
    The server says so, not the browser: a post that never arrived (idle logout, no network)
    keeps its draft for the next visit to the form."""
    request.session[DRAFT_SAVED_KEY] = request.path
    return redirect(visit)


def _visible_issue_count(user):
    visible = Issue.objects.visible_to(user).filter(visit=OuterRef("pk"))
    counted = visible.order_by().values("visit").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@require_GET
def visit_list(request):
    base = (
        Visit.objects.visible_to(request.user)
        .select_related("enterprise", "enterprise__district")
        .prefetch_related(Prefetch("lead_officials", queryset=Official.objects.order_by("name")))
    )
    filterset = VisitFilter(request.GET, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    today = timezone.localdate()
    queryset, counts = _recent_first(queryset, today)
    queryset = queryset.annotate(issue_count=_visible_issue_count(request.user))
    paginator = Paginator(queryset, PAGE_SIZE)
    paginator.count = counts["total"]  # counted with the planned ones in one query
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    planned_query = query.copy()
    planned_query["visited_after"] = (today + timedelta(days=1)).isoformat()
    enterprise = None
    if filterset.is_valid() and filterset.form.cleaned_data.get("enterprise"):
        enterprise = Enterprise.objects.filter(pk=filterset.form.cleaned_data["enterprise"]).first()
    return render(
        request,
        "visits/visit_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "enterprise": enterprise,
            "may_log_visits": can_raise_issues(request.user),
            "today": today,
            "upcoming_count": counts["upcoming"],
            # Planned visits come after every recent one: a link to them alone when this
            # page does not reach them.
            "upcoming_elsewhere": counts["upcoming"]
            and not any(visit.is_upcoming for visit in page.object_list),
            "upcoming_url": f"?{planned_query.urlencode()}",
        },
    )


def _recent_first(queryset, today):
    """Today's and past visits first (latest first), then the planned ones still to come
    (soonest first): an official looks for the visit just made, not next month's plans.
    Returns the ordered queryset and its counts (total, upcoming) from one query."""
    upcoming = Q(visited_on__gt=today)
    counts = queryset.order_by().aggregate(total=Count("pk"), upcoming=Count("pk", filter=upcoming))
    past_day = Case(When(upcoming, then=None), default=F("visited_on"))
    past_id = Case(When(upcoming, then=None), default=F("id"))
    is_upcoming = Case(When(upcoming, then=Value(True)), default=Value(False), output_field=BooleanField())
    ordered = queryset.annotate(is_upcoming=is_upcoming).order_by(
        "is_upcoming", past_day.desc(nulls_last=True), past_id.desc(nulls_last=True), "visited_on", "id"
    )
    return ordered, counts


@require_GET
def visit_detail(request, pk):
    visit = get_object_or_404(
        Visit.objects.visible_to(request.user)
        .select_related("enterprise", "enterprise__district", "created_by")
        .prefetch_related(
            Prefetch("lead_officials", queryset=Official.objects.order_by("name")),
            "accompanying_departments",
        ),
        pk=pk,
    )
    issues = list(Issue.objects.visible_to(request.user).filter(visit=visit).items().order_by("id"))
    hidden = visit.issues.count() - len(issues)
    may_edit = services.can_edit(request.user, visit)
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "issues": issues,
            "hidden_issue_count": hidden,
            # Set by _saved() when this page follows a save: the browser drops its draft.
            "draft_saved": request.session.pop(DRAFT_SAVED_KEY, None),
            "solved_on_site_count": sum(1 for i in issues if i.solved_on_site),
            "may_edit": may_edit,
            "files": Attachment.objects.filter(visit=visit).select_related("uploaded_by"),
            "upload_form": attachments.UploadForm() if may_edit else None,
            "upload_accept": attachments.ACCEPT,
            "upload_max_mb": attachments.max_bytes() // attachments.MB,
            # Old and new values of each change: coordinators and administrators.
            "trail": (trail.entries(visit) if trail.may_see(request.user) else None),
        },
    )


@require_POST
def visit_add_files(request, pk):
    """Add photos or documents to a visit (its page's files section)."""
    visit = get_object_or_404(Visit.objects.visible_to(request.user), pk=pk)
    if not attachments.may_attach_to_visit(request.user, visit):
        raise PermissionDenied(_("Only the official who logged this visit, or a coordinator, may add files."))
    return upload_files(request, visit, visit=visit)


def _key_enterprises():
    """Without JavaScript the enterprise box suggests the key enterprises (about 50)."""
    return Enterprise.objects.filter(is_key=True).order_by("name").only("name", "credit_code")[:DATALIST_SIZE]


def _initial(request, mode: str) -> dict:
    initial = {"visited_on": timezone.localdate()} if mode == "log" else {}
    enterprise_id = request.GET.get("enterprise", "")
    if is_id(enterprise_id):
        enterprise = Enterprise.objects.visible_to(request.user).filter(pk=enterprise_id).first()
        if enterprise:
            initial["enterprise"] = enterprise_label(enterprise)
    official = Official.objects.filter(user=request.user, is_active=True).first()
    if official:
        initial["lead_officials"] = [official.pk]
    return initial


def _already_saved(request) -> Visit | None:
    """A post of a form whose token already made a visit (double click, refresh, back+resend)."""
    token = request.POST.get("submission_token", "")
    try:
        return Visit.objects.filter(submission_token=token).first() if token else None
    except ValidationError:  # not a UUID
        return None


def _apply_row_error(formset, index: int, error: ValidationError) -> None:
    forms = [f for f in formset.forms if f.has_changed() and not f.cleaned_data.get("DELETE")]
    form = forms[index] if index < len(forms) else None
    if form is None:
        formset._non_form_errors.extend(error.messages)
        return
    try:
        form.add_error(None, error)
    except (ValueError, KeyError):
        form.add_error(None, error.messages)


def _visit_values(form) -> dict:
    data = form.cleaned_data
    return {
        "enterprise": data["enterprise"],
        "visited_on": data["visited_on"],
        "status": form.resulting_status,
        "lead_officials": data["lead_officials"],
        "accompanying_departments": data.get("accompanying_departments") or [],
        "topics": data.get("topics") or [],
        "policies_explained": data.get("policies_explained", ""),
        "summary": data.get("summary", ""),
    }


def _create(request, mode: str):
    _require_logger(request.user)
    with_issues = mode == "log"
    if request.method == "POST":
        existing = _already_saved(request)
        if existing:
            messages.info(request, _("This visit was already saved; here it is."))
            return _saved(request, existing)
        form = VisitForm(request.POST, request.FILES, mode=mode)
        formset = IssueFormSet(request.POST, prefix=ISSUE_PREFIX) if with_issues else None
        if form.is_valid() and (formset is None or formset.is_valid()):
            try:
                # The visit, its issues and its photos: all or nothing.
                with attachments.removed_if_failed(), transaction.atomic():
                    visit, created = services.create_visit(
                        by=request.user,
                        submission_token=form.cleaned_data.get("submission_token"),
                        issues=formset.issues() if formset else (),
                        **_visit_values(form),
                    )
                    if created:
                        _attach_evidence(request.user, visit, form)
            except services.IssueRowError as row_error:
                _apply_row_error(formset, row_error.index, row_error.error)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if created:
                    messages.success(request, _("The visit was saved."))
                else:
                    messages.info(request, _("This visit was already saved; here it is."))
                return _saved(request, visit)
    else:
        form = VisitForm(initial=_initial(request, mode), mode=mode)
        formset = IssueFormSet(prefix=ISSUE_PREFIX) if with_issues else None
    return render(
        request,
        "visits/visit_form.html",
        {
            "form": form,
            "formset": formset,
            "mode": mode,
            "key_enterprises": _key_enterprises(),
        },
    )


def _attach_evidence(user, visit: Visit, form) -> None:
    for checked in form.evidence:
        attachments.attach(by=user, checked=checked, visit=visit)


@require_http_methods(["GET", "POST"])
def visit_create(request):
    """Log a visit that took place, with every issue raised on it, in one save."""
    return _create(request, "log")


@require_http_methods(["GET", "POST"])
def visit_plan(request):
    return _create(request, "plan")


@require_http_methods(["GET", "POST"])
def visit_edit(request, pk):
    visit = get_object_or_404(Visit.objects.visible_to(request.user).select_related("enterprise"), pk=pk)
    if not services.can_edit(request.user, visit):
        raise PermissionDenied(_("Only the official who logged this visit, or a coordinator, may edit it."))
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES, instance=visit, mode="edit")
        formset = IssueFormSet(request.POST, prefix=ISSUE_PREFIX)
        if form.is_valid() and formset.is_valid():
            issues = formset.issues()
            if issues and form.resulting_status != VisitStatus.COMPLETED:
                form.add_error("status", _("Issues can be recorded only on a completed visit."))
            else:
                try:
                    with attachments.removed_if_failed(), transaction.atomic():
                        services.update_visit(
                            visit_id=visit.pk,
                            by=request.user,
                            expected_version=form.cleaned_data.get("version"),
                            issues=issues,
                            **_visit_values(form),
                        )
                        _attach_evidence(request.user, visit, form)
                except services.StaleVisitError as error:
                    messages.error(request, error.messages[0])
                    return HttpResponseRedirect(request.path)
                except services.IssueRowError as row_error:
                    _apply_row_error(formset, row_error.index, row_error.error)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(request, _("The visit was updated."))
                    return _saved(request, visit)
    else:
        form = VisitForm(instance=visit, mode="edit")
        formset = IssueFormSet(prefix=ISSUE_PREFIX)
    return render(
        request,
        "visits/visit_form.html",
        {
            "form": form,
            "formset": formset,
            "mode": "edit",
            "visit": visit,
            "key_enterprises": _key_enterprises(),
        },
    )
