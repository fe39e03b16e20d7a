"""Enterprise list and enterprise page, plus the small search the visit form uses."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, Prefetch, Q, Subquery, When
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from issues.models import OPEN_STATUSES, Issue, Status
from issues.permissions import can_raise_issues
from visits.models import Official, Visit, VisitStatus

from .filters import EnterpriseFilter
from .models import Enterprise

PAGE_SIZE = 25
LOOKUP_LIMIT = 20


def _count(queryset, field: str = "enterprise"):
    """A correlated COUNT(*) subquery; several of these do not multiply like joined Counts."""
    counted = queryset.order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def annotate_for_list(queryset, user):
    """Visit count, last visit date and open issue count, in the list's one SELECT.

    Visits are COMPLETED ones; open issues are the ones this user may see, so the list
    never reveals more than the issue pages would.
    """
    completed = Visit.objects.filter(enterprise=OuterRef("pk"), status=VisitStatus.COMPLETED)
    open_issues = Issue.objects.visible_to(user).open().filter(enterprise=OuterRef("pk"))
    last_visit = completed.order_by().values("enterprise").annotate(d=Max("visited_on")).values("d")
    return queryset.annotate(
        visit_count=_count(completed),
        last_visited_on=Subquery(last_visit),
        open_issue_count=_count(open_issues),
    )


@require_GET
def enterprise_list(request):
    base = Enterprise.objects.visible_to(request.user).select_related("district")
    filterset = EnterpriseFilter(request.GET, queryset=base)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = Paginator(annotate_for_list(queryset, request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "enterprises/enterprise_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "may_log_visits": can_raise_issues(request.user),
        },
    )


# The enterprise page shows every open issue (an enterprise has a handful) but only the
# latest of its visits and closed issues: the busiest enterprise of a province has hundreds.
RECENT_LIMIT = 20


@require_GET
def enterprise_detail(request, pk):
    visible_issues = Issue.objects.visible_to(request.user)
    closed_issues = visible_issues.filter(enterprise=OuterRef("pk"), status=Status.CLOSED)
    enterprise = get_object_or_404(
        Enterprise.objects.visible_to(request.user)
        .select_related("district", "liaison_leader", "liaison_department")
        .annotate(
            visit_count=_count(Visit.objects.filter(enterprise=OuterRef("pk"))),
            closed_issue_count=_count(closed_issues),
        ),
        pk=pk,
    )
    contacts = list(enterprise.contacts.all())
    survey_response = (
        enterprise.survey_responses.select_related("survey").order_by("-submitted_on", "-id").first()
    )
    # What happened first (latest first), then what is planned (soonest first): planned visits
    # dated in the future must not push today's and last week's visits down.
    planned = Q(status=VisitStatus.PLANNED)
    visits = list(
        enterprise.visits.order_by(
            Case(When(planned, then=1), default=0),
            Case(When(planned, then=F("visited_on"))).asc(),
            "-visited_on",
            "-id",
        ).prefetch_related(Prefetch("lead_officials", queryset=Official.objects.order_by("name")))[
            :RECENT_LIMIT
        ]
    )
    issues = visible_issues.filter(enterprise=enterprise).items()
    open_issues = list(issues.open().order_by(F("deadline").asc(nulls_last=True), "-raised_on", "-id"))
    recent_closed = list(issues.filter(status=Status.CLOSED).order_by("-closed_at", "-id")[:RECENT_LIMIT])
    return render(
        request,
        "enterprises/enterprise_detail.html",
        {
            "enterprise": enterprise,
            "contacts": contacts,
            "survey_response": survey_response,
            "visits": visits,
            "visit_count": enterprise.visit_count,
            "visits_url": f"{reverse('visits:list')}?{urlencode({'enterprise': enterprise.pk})}",
            "open_issues": open_issues,
            "open_issue_count": len(open_issues),
            "closed_issues": recent_closed,
            "closed_issue_count": enterprise.closed_issue_count,
            "closed_issues_url": f"{reverse('issues:list')}?"
            + urlencode({"enterprise": enterprise.pk, "status": Status.CLOSED}),
            "open_issues_url": f"{reverse('issues:list')}?"
            + urlencode({"enterprise": enterprise.pk, "status": list(OPEN_STATUSES)}, doseq=True),
            "recent_limit": RECENT_LIMIT,
            "may_log_visits": can_raise_issues(request.user),
        },
    )


def lookup_label(enterprise) -> str:
    """What the visit form's enterprise box shows and accepts back: name and credit code."""
    return f"{enterprise.name} {enterprise.credit_code}"


@require_GET
def enterprise_lookup(request):
    """Up to 20 enterprises matching `q` by name or credit code, as JSON for the visit form."""
    q = (request.GET.get("q") or "").replace("\x00", "").strip()[:100]  # PostgreSQL refuses NUL
    queryset = Enterprise.objects.visible_to(request.user).order_by("-is_key", "name")
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(credit_code__icontains=q.upper()))
    else:
        queryset = queryset.filter(is_key=True)
    results = [
        {"id": e.pk, "name": e.name, "credit_code": e.credit_code, "label": lookup_label(e)}
        for e in queryset.only("pk", "name", "credit_code")[:LOOKUP_LIMIT]
    ]
    return JsonResponse({"results": results})
