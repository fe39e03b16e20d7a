"""Who may see and do what to which issue: one place, used by pages, admin, exports,
dashboard drill-downs, the weekly list and the import.

`visible_issues(user)` is the queryset of issues a user may read; `can(user, action,
issue)` answers whether the user's role and relation to the issue allow an action. The
workflow checks both before it changes anything, so no caller can forget.
"""

from django.db.models import Q, TextChoices
from django.utils.translation import gettext_lazy as _

from .roles import Role, is_coordinator, roles_of, sees_everything


class Action(TextChoices):
    VIEW = "view", _("View")
    EDIT = "edit", _("Edit details")
    ASSIGN = "assign", _("Assign")
    START = "start", _("Start work")
    PROGRESS = "progress", _("Post progress")
    RESOLVE = "resolve", _("Report resolved")
    FEEDBACK = "feedback", _("Record enterprise feedback")
    REQUEST_FEEDBACK = "request_feedback", _("Send the enterprise a feedback link")
    CONFIRM = "confirm", _("Confirm and close")
    CLOSE_UNCONFIRMED = "close_unconfirmed", _("Close without the enterprise's answer")
    CLOSE = "close", _("Close without resolving")
    REOPEN = "reopen", _("Reopen")
    CHANGE_DEADLINE = "change_deadline", _("Change deadline")
    CHANGE_OWNER = "change_owner", _("Change owner")
    REQUEST_EXTENSION = "request_extension", _("Request an extension")
    DECIDE_EXTENSION = "decide_extension", _("Decide on an extension")
    OBJECT = "object", _("Object to the assignment")
    DECIDE_OBJECTION = "decide_objection", _("Decide on an objection")
    MERGE = "merge", _("Link to a common issue")
    ADD_MILESTONE = "add_milestone", _("Add a milestone")
    COMPLETE_MILESTONE = "complete_milestone", _("Complete a milestone")
    ADD_CO_DEPARTMENT = "add_co_department", _("Add a co-handling department")
    CO_REPORT = "co_report", _("Report in as co-handling department")
    ADD_INFORMATION = "add_information", _("Add information")


# What the lead department's staff may do on their own issues.
LEAD_DEPARTMENT_ACTIONS = frozenset(
    {
        Action.VIEW,
        Action.START,
        Action.PROGRESS,
        Action.RESOLVE,
        Action.REQUEST_EXTENSION,
        Action.OBJECT,
        Action.ADD_MILESTONE,
        Action.COMPLETE_MILESTONE,
    }
)
CO_DEPARTMENT_ACTIONS = frozenset({Action.VIEW, Action.PROGRESS, Action.CO_REPORT})
# What an enterprise's own account may do to its enterprise's issues (on its own pages).
ENTERPRISE_ACTIONS = frozenset({Action.FEEDBACK, Action.ADD_INFORMATION})
# Coordinators do everything; these few belong to the handling department (or the
# enterprise) alone.
DEPARTMENT_ONLY_ACTIONS = frozenset(
    {Action.OBJECT, Action.REQUEST_EXTENSION, Action.CO_REPORT, Action.ADD_INFORMATION}
)


def department_ids(user) -> frozenset[int]:
    """The departments a user belongs to; cached on the user object for the request."""
    if not (user and user.is_authenticated):
        return frozenset()
    cached = getattr(user, "_department_ids", None)
    if cached is None:
        cached = frozenset(user.departments.values_list("id", flat=True))
        user._department_ids = cached
    return cached


def visible_issues(user, queryset=None):
    """Exactly the issues `user` may read.

    coordinators, leadership, administrators: all; department staff: issues their
    department leads or co-handles, or that they own; officials: issues they raised or
    that came from visits they logged.
    """
    from .models import CoDepartment, Issue

    qs = Issue.objects.all() if queryset is None else queryset
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if sees_everything(user):
        return qs
    held = roles_of(user)
    condition = Q(pk__in=[])
    if Role.DEPARTMENT in held:
        depts = department_ids(user)
        condition |= Q(owner=user)
        if depts:
            condition |= Q(lead_department__in=depts) | Q(
                pk__in_subquery=CoDepartment.objects.filter(department__in=depts).values("issue_id")
            )
    if Role.OFFICIAL in held:
        condition |= Q(raised_by=user) | Q(visit__in=visits_of(user))
    return qs.filter(condition)


def visits_of(user):
    """The visits an official logged or led (their ids, for a subquery)."""
    from visits.models import Visit

    return Visit.objects.filter(Q(created_by=user) | Q(lead_officials__user=user)).values("pk")


def my_issues_condition(user) -> Q:
    """The issues that are a user's own work ("My work"): owned, led or co-handled by the
    user's department, raised by the user, or from the user's visits."""
    from .models import CoDepartment

    depts = department_ids(user)
    condition = Q(owner=user)
    if depts:
        condition |= Q(lead_department__in=depts) | Q(
            pk__in_subquery=CoDepartment.objects.filter(department__in=depts).values("issue_id")
        )
    if Role.OFFICIAL in roles_of(user):
        condition |= Q(raised_by=user) | Q(visit__in=visits_of(user))
    return condition


def _is_lead_department_member(user, issue) -> bool:
    return issue.owner_id == user.pk or issue.lead_department_id in department_ids(user)


def _is_co_department_member(user, issue) -> bool:
    depts = department_ids(user)
    if not depts:
        return False
    co = getattr(issue, "_prefetched_objects_cache", {}).get("co_handlings")
    if co is not None:
        return any(c.department_id in depts for c in co)
    return issue.co_handlings.filter(department__in=depts).exists()


def can_view(user, issue) -> bool:
    return visible_issues(user).filter(pk=issue.pk).exists()


def can(user, action: str, issue) -> bool:
    """Whether the user's role and relation to `issue` allow `action`.

    This is about *who*; whether the issue's status allows the action is the workflow's
    business (`workflow.state_allows`). Read access follows `visible_issues`.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    if action == Action.VIEW:
        return can_view(user, issue)
    if is_coordinator(user):
        return action not in DEPARTMENT_ONLY_ACTIONS or _is_lead_department_member(user, issue)
    held = roles_of(user)
    if Role.ENTERPRISE in held and action in ENTERPRISE_ACTIONS:
        return issue.scope == "individual" and issue.enterprise_id == enterprise_id(user)
    if Role.DEPARTMENT in held:
        if action in LEAD_DEPARTMENT_ACTIONS and _is_lead_department_member(user, issue):
            return True
        if action in CO_DEPARTMENT_ACTIONS and _is_co_department_member(user, issue):
            return True
    return False


def can_raise_issues(user) -> bool:
    """Officials record what enterprises raise; coordinators record requests and surveys;
    an enterprise's own account raises its own problems (企业吹哨)."""
    return bool(roles_of(user) & {Role.OFFICIAL, Role.COORDINATOR, Role.ADMINISTRATOR, Role.ENTERPRISE})


def enterprise_id(user) -> int | None:
    """The enterprise an enterprise contact's account belongs to (cached on the user)."""
    if not (user and user.is_authenticated):
        return None
    if not hasattr(user, "_enterprise_id"):
        from enterprises.models import EnterpriseAccount

        user._enterprise_id = (
            EnterpriseAccount.objects.filter(user=user).values_list("enterprise_id", flat=True).first()
        )
    return user._enterprise_id


def enterprise_issues(user):
    """The issues an enterprise's own account follows: its enterprise's (none otherwise)."""
    from .models import Issue

    found = enterprise_id(user) if Role.ENTERPRISE in roles_of(user) else None
    return Issue.objects.filter(enterprise_id=found, scope="individual") if found else Issue.objects.none()
