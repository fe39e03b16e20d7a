"""The issue life cycle (DESIGN §3): the only place an issue's status changes.

```
new ──assign──▶ assigned ──start──▶ in_progress ──resolve──▶ resolved ──confirm──▶ closed
 │                 └────────resolve─────────────────────────────▲  │
 │                                      ▲──────reopen──────────────┘ (and from closed)
 └──close (duplicate / not actionable, with reason)──▶ closed
```

Every function here: takes keyword arguments, runs in one transaction, locks the issue
row (`select_for_update`; SQLite's IMMEDIATE transactions serialise writers instead),
checks the actor's permission (`permissions.can`) and the current status, refuses a stale
`expected_version`, writes the change and its history (`issues.history`) together, and
bumps `version`. Admin actions, browser pages, the survey import and the demo seed all
call these.

History is never rewritten: a reopen or a sent-back resolution resets the issue's current
state (status, outcome, resolved_at, closed_at) but adds events; the enterprise's answers
are `FeedbackRound` rows of their own. The dashboard's period figures read only history.
"""

from collections.abc import Iterable
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import clock, history, notifications, workdays
from .models import (
    ACTIVE_STATUSES,
    RESPONSE_WORKDAYS,
    UNCONFIRMED_OUTCOMES,
    Channel,
    CoDepartment,
    Department,
    EventKind,
    ExtensionRequest,
    FeedbackRound,
    Issue,
    Milestone,
    NotificationKind,
    Objection,
    Outcome,
    RequestStatus,
    Satisfaction,
    Scope,
    Source,
    Status,
)
from .people import person_name
from .permissions import Action, can, can_raise_issues, department_ids, enterprise_id
from .roles import is_coordinator, is_enterprise_contact

OBJECTION_WORKDAYS = 1  # a department may object to an assignment within 1 working day

# action → (statuses it may start from, status it leads to). Nothing else changes status.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    Action.ASSIGN: (frozenset({Status.NEW}), Status.ASSIGNED),
    Action.START: (frozenset({Status.ASSIGNED}), Status.IN_PROGRESS),
    Action.RESOLVE: (frozenset({Status.ASSIGNED, Status.IN_PROGRESS}), Status.RESOLVED),
    Action.CONFIRM: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.CLOSE_UNCONFIRMED: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REOPEN: (frozenset({Status.RESOLVED, Status.CLOSED}), Status.IN_PROGRESS),
    Action.CLOSE: (frozenset({Status.NEW}), Status.CLOSED),
}
OPEN = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED})
ACTIVE = frozenset(ACTIVE_STATUSES)
# Actions that change no status, and the statuses in which they make sense.
ACTION_STATUSES: dict[str, frozenset[str]] = {
    Action.VIEW: frozenset(Status.values),
    Action.EDIT: OPEN,
    Action.PROGRESS: ACTIVE,
    Action.CHANGE_DEADLINE: ACTIVE,
    Action.CHANGE_OWNER: ACTIVE | {Status.RESOLVED},
    Action.REQUEST_EXTENSION: ACTIVE,
    Action.DECIDE_EXTENSION: ACTIVE,
    Action.OBJECT: frozenset({Status.ASSIGNED}),
    Action.DECIDE_OBJECTION: ACTIVE,
    Action.MERGE: OPEN - {Status.RESOLVED},
    Action.FEEDBACK: frozenset({Status.RESOLVED, Status.CLOSED}),
    Action.REQUEST_FEEDBACK: frozenset({Status.RESOLVED}),
    Action.ADD_MILESTONE: ACTIVE,
    Action.COMPLETE_MILESTONE: ACTIVE,
    Action.ADD_CO_DEPARTMENT: OPEN - {Status.RESOLVED},
    Action.CO_REPORT: ACTIVE,
    Action.ADD_INFORMATION: OPEN,
    **{action: sources for action, (sources, _target) in TRANSITIONS.items()},
}


class WorkflowError(ValidationError):
    """A step the rules forbid; the message says why, in the user's language."""


class ConflictError(WorkflowError):
    """The issue changed since the user loaded it; nothing was saved."""


def state_allows(action: str, issue: Issue) -> bool:
    if action == Action.MERGE and issue.scope == Scope.COMMON:
        return False  # a common issue is not linked to another one (#17)
    return issue.status in ACTION_STATUSES.get(action, frozenset())


def allowed_actions(user, issue: Issue) -> list[str]:
    """The actions to offer `user` on `issue` now: role allows it and status permits it."""
    return [a for a in Action.values if state_allows(a, issue) and can(user, a, issue)]


# -- helpers ---------------------------------------------------------------------------------


_now, _today = clock.now, clock.today


def _lock(issue_id: int, by, action: str, expected_version: int | None = None) -> Issue:
    # The enterprise comes along: history records its district and sector. Only the issue
    # row is locked (`of`), not the enterprise others may be editing.
    issue = Issue.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=issue_id)
    if not can(by, action, issue):
        raise PermissionDenied(_("You may not do this to issue #%(id)s.") % {"id": issue.pk})
    if expected_version is not None and issue.version != expected_version:
        raise ConflictError(
            _(
                "Issue #%(id)s was changed by someone else while you were looking at it. "
                "Reload the page to see the change, then try again."
            )
            % {"id": issue.pk},
            code="conflict",
        )
    if not state_allows(action, issue):
        raise WorkflowError(
            _("Issue #%(id)s is %(status)s: “%(action)s” is not possible now.")
            % {"id": issue.pk, "status": issue.get_status_display(), "action": Action(action).label},
            code="illegal_transition",
        )
    return issue


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def _require(text: str, message: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise WorkflowError({field: message}, code="required")
    return text


def _refresh_supervision(issue: Issue) -> None:
    next_due = (
        issue.milestones.filter(done_on__isnull=True).aggregate(d=Min("due_on"))["d"] if issue.pk else None
    )
    issue.compute_supervision_dates(next_due)


SUPERVISION_FIELDS = ["due_soon_from", "stalled_from", "last_progress_on"]


def _save(issue: Issue, fields: Iterable[str]) -> None:
    # Every caller holds the row lock (`_lock`), so the version read there is the current
    # one: counting up in Python is safe and spares reading the row back.
    issue.version += 1
    issue.save(update_fields=[*set(fields), "version", "updated_at"])


_log = history.record


def _triage(issue: Issue) -> dict:
    """The first triage decision of an issue (assigned, merged, or closed at triage): it is
    judged against the 2-working-day limit once, and `triaged_at` is never reset."""
    if issue.triaged_at is not None or issue.respond_by is None:
        return {}
    issue.triaged_at = _now()
    return {"triage": True, "due_on": issue.respond_by, "in_time": _today() <= issue.respond_by}


def _resolution(issue: Issue) -> dict:
    """A department's resolution, judged once: by the deadline in force and the original one."""
    today = _today()
    return {
        "due_on": issue.deadline,
        "deadline_to": issue.deadline,
        "in_time": today <= issue.deadline,
        "in_time_original": today <= issue.original_deadline,
        "days": (today - issue.raised_on).days,
    }


def _check_owner(department: Department, owner) -> None:
    if owner is not None and not department.members.filter(pk=owner.pk, is_active=True).exists():
        raise WorkflowError(
            {
                "owner": _("%(owner)s is not a member of %(department)s.")
                % {"owner": person_name(owner), "department": department}
            }
        )


def _check_deadline(deadline: date | None, field: str = "deadline") -> date:
    if deadline is None:
        raise WorkflowError({field: _("A deadline is required.")}, code="required")
    if deadline < _today():
        raise WorkflowError({field: _("The deadline cannot be in the past.")}, code="past")
    return deadline


# -- raising ---------------------------------------------------------------------------------


@transaction.atomic
def raise_issue(
    *,
    by,
    enterprise,
    title: str,
    category,
    source: str,
    description: str = "",
    visit=None,
    survey_response=None,
    raised_on: date | None = None,
    priority: str = "normal",
    solved_on_site: bool = False,
    resolution: str = "",
) -> Issue:
    """Record a problem an enterprise raised. Settled during the visit: closed on the spot.
    An enterprise's own account raises its own enterprise's problems only, as requests."""
    if not can_raise_issues(by):
        raise PermissionDenied(_("You may not record issues."))
    if is_enterprise_contact(by) and (
        enterprise is None or enterprise.pk != enterprise_id(by) or source != Source.ENTERPRISE_REQUEST
    ):
        raise PermissionDenied(_("You may raise problems of your own enterprise only."))
    title = _require(title, _("A title is required."), "title")
    raised_on = raised_on or _today()
    issue = Issue(
        enterprise=enterprise,
        title=title,
        description=description,
        category=category,
        source=source,
        visit=visit,
        survey_response=survey_response,
        priority=priority,
        raised_by=by,
        raised_on=raised_on,
    )
    if solved_on_site:
        resolution = _require(resolution, _("Say how the problem was solved on the spot."), "resolution")
        # Settled during the visit: it was resolved and closed that day, even when the
        # visit is logged days later (the figures count it on that day).
        settled_at = _now() if raised_on >= _today() else _noon(raised_on)
        issue.status, issue.outcome, issue.solved_on_site = Status.CLOSED, Outcome.RESOLVED, True
        issue.resolution, issue.resolved_at, issue.closed_at = resolution, settled_at, settled_at
    else:
        # Nothing to triage for an issue settled on the spot: it has no triage window.
        issue.respond_by = workdays.add_workdays(raised_on, RESPONSE_WORKDAYS)
    # Field validation only: the database enforces the check constraints itself, and
    # validating them here would cost one SELECT per constraint per issue (imports).
    issue.full_clean(
        exclude=["category", "enterprise", "visit", "survey_response"], validate_constraints=False
    )
    issue.save()
    _log(issue, EventKind.RAISED, by, note=description[:500], day=raised_on, public=True)
    if source == Source.ENTERPRISE_REQUEST:
        notifications.notify(NotificationKind.ENTERPRISE_REQUEST, issue)
    if solved_on_site:
        _log(issue, EventKind.RESOLVED, by, note=resolution, day=raised_on, on_the_spot=True)
        _log(issue, EventKind.CONFIRMED, by, status_from=Status.NEW, day=raised_on)
    return issue


@transaction.atomic
def create_common_issue(*, by, title: str, category, description: str = "") -> Issue:
    """A problem many enterprises share (共性问题), solved once at the policy level."""
    if not is_coordinator(by):
        raise PermissionDenied(_("Only coordinators create common issues."))
    title = _require(title, _("A title is required."), "title")
    today = _today()
    issue = Issue.objects.create(
        scope=Scope.COMMON,
        enterprise=None,
        source=Source.OTHER,
        title=title,
        description=description,
        category=category,
        raised_by=by,
        raised_on=today,
        respond_by=workdays.add_workdays(today, RESPONSE_WORKDAYS),
    )
    _log(issue, EventKind.RAISED, by, note=description[:500])
    return issue


# -- transitions -----------------------------------------------------------------------------


@transaction.atomic
def assign(
    *,
    issue_id: int,
    by,
    department: Department,
    deadline: date,
    owner=None,
    note: str = "",
    expected_version: int | None = None,
) -> Issue:
    """new → assigned: a lead department (主办), optionally an owner, and a deadline."""
    issue = _lock(issue_id, by, Action.ASSIGN, expected_version)
    if department is None:
        raise WorkflowError({"department": _("A lead department is required.")}, code="required")
    _check_deadline(deadline)
    _check_owner(department, owner)
    _assign(issue, by, department=department, owner=owner, deadline=deadline, note=note)
    if issue.scope == Scope.COMMON:
        # The enterprise issues linked to it follow it (#17): same department and deadline.
        for linked in _lock_linked(issue, [Status.NEW]):
            _assign(linked, by, department=department, owner=None, deadline=deadline, note=_following(issue))
    return issue


def _assign(issue: Issue, by, *, department: Department, owner, deadline: date, note: str) -> None:
    status_from = issue.status
    triage = _triage(issue)
    issue.status = Status.ASSIGNED
    issue.lead_department, issue.owner = department, owner
    issue.deadline = deadline
    issue.original_deadline = issue.original_deadline or deadline
    issue.assigned_at = _now()
    issue.last_progress_on = _today()
    _refresh_supervision(issue)
    _save(
        issue,
        [
            "status",
            "lead_department",
            "owner",
            "deadline",
            "original_deadline",
            "assigned_at",
            "triaged_at",
            *SUPERVISION_FIELDS,
        ],
    )
    _log(
        issue,
        EventKind.ASSIGNED,
        by,
        note=note,
        status_from=status_from,
        department=department,
        owner=owner,
        deadline_to=deadline,
        public=True,
        **triage,
    )
    if not issue.common_issue_id:  # issues following a common one are its department's already
        notifications.notify(NotificationKind.ASSIGNED, issue, objection_by=objection_deadline(issue))


def _lock_linked(common: Issue, statuses) -> list[Issue]:
    """The enterprise issues linked to a common issue, in these statuses, locked (id order)."""
    return list(
        Issue.objects.select_for_update(of=("self",))
        .select_related("enterprise")
        .filter(common_issue=common, status__in=statuses)
        .order_by("id")
    )


def _following(common: Issue) -> str:
    return _("Follows common issue #%(id)s.") % {"id": common.pk}


@transaction.atomic
def start(*, issue_id: int, by, note: str = "", expected_version: int | None = None) -> Issue:
    """assigned → in_progress."""
    issue = _lock(issue_id, by, Action.START, expected_version)
    issue.status = Status.IN_PROGRESS
    issue.last_progress_on = _today()
    _refresh_supervision(issue)
    _save(issue, ["status", *SUPERVISION_FIELDS])
    _log(issue, EventKind.STARTED, by, note=note, status_from=Status.ASSIGNED)
    return issue


@transaction.atomic
def post_progress(
    *, issue_id: int, by, note: str, public: bool = False, expected_version: int | None = None
) -> Issue:
    """A progress note. On an assigned issue it is also the start of work."""
    issue = _lock(issue_id, by, Action.PROGRESS, expected_version)
    note = _require(note, _("Write what progress was made."), "note")
    status_from = issue.status
    # Only the lead department (or a coordinator) starts the work: a co-handling
    # department's note must not take away the lead's one working day to object.
    if can(by, Action.START, issue):
        issue.status = Status.IN_PROGRESS
    issue.last_progress_on = _today()
    _refresh_supervision(issue)
    _save(issue, ["status", *SUPERVISION_FIELDS])
    if status_from != issue.status:
        _log(issue, EventKind.STARTED, by, note=note, status_from=status_from, public=public)
    else:
        _log(issue, EventKind.PROGRESS, by, note=note, public=public)
    return issue


@transaction.atomic
def resolve(
    *,
    issue_id: int,
    by,
    resolution: str,
    resolve_linked: bool = False,
    public: bool = True,
    expected_version: int | None = None,
) -> Issue:
    """assigned / in_progress → resolved, with the resolution text (shown to the enterprise
    unless `public` is off).

    For a common issue, `resolve_linked` resolves every open linked enterprise issue with
    the same resolution (a linked issue not yet assigned is first assigned to the common
    issue's department and deadline, so its record stays complete).
    """
    issue = _lock(issue_id, by, Action.RESOLVE, expected_version)
    resolution = _require(resolution, _("Describe how the issue was resolved."), "resolution")
    if resolve_linked and issue.scope == Scope.COMMON and not is_coordinator(by):
        # The linked issues belong to other departments: only a coordinator moves them.
        raise PermissionDenied(_("Only coordinators resolve the linked enterprise issues."))
    _resolve(issue, by, resolution, public=public)
    if resolve_linked and issue.scope == Scope.COMMON:
        note = _("Resolved with common issue #%(id)s: %(resolution)s") % {
            "id": issue.pk,
            "resolution": resolution,
        }
        for linked in _lock_linked(issue, [Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS]):
            if linked.status == Status.NEW:
                _assign(
                    linked,
                    by,
                    department=issue.lead_department,
                    owner=None,
                    deadline=issue.deadline,
                    note=note,
                )
            _resolve(linked, by, note, public=public)
    return issue


def _resolve(issue: Issue, by, resolution: str, *, public: bool) -> None:
    status_from = issue.status
    facts = _resolution(issue)
    issue.status, issue.resolution, issue.resolved_at = Status.RESOLVED, resolution, _now()
    issue.last_progress_on = _today()
    _refresh_supervision(issue)
    _save(issue, ["status", "resolution", "resolved_at", *SUPERVISION_FIELDS])
    withdrawn = _withdraw_pending_requests(issue, by)
    _log(issue, EventKind.RESOLVED, by, note=resolution, status_from=status_from, public=public, **facts)
    if withdrawn:
        _log(issue, EventKind.PROGRESS, by, note="\n".join(withdrawn))
    if issue.scope == Scope.INDIVIDUAL:
        notifications.notify(NotificationKind.AWAITING_ANSWER, issue)
        if settings.FEEDBACK_LINK_ON_RESOLVE:
            send_feedback_link(issue, by)


def _withdraw_pending_requests(issue: Issue, by) -> list[str]:
    """A resolved issue needs no later deadline and no other department: pending extension
    requests and objections are withdrawn, so no queue keeps them forever."""
    note = _("Withdrawn: the issue was reported resolved.")
    said = []
    for model, label in (
        (ExtensionRequest, _("A pending extension request was withdrawn.")),
        (Objection, _("A pending objection was withdrawn.")),
    ):
        if model.objects.filter(issue=issue, status=RequestStatus.PENDING).update(
            status=RequestStatus.WITHDRAWN, decided_by=by, decided_at=_now(), decision_note=note
        ):
            said.append(str(label))
    return said


# -- the enterprise's answer (回访) and closing ---------------------------------------------------


@transaction.atomic
def record_round(
    *,
    issue_id: int,
    by,
    contacted_on: date,
    channel: str,
    reply_satisfaction: str,
    solution_satisfaction: str,
    comment: str = "",
    contact_name: str = "",
    close: bool = False,
    expected_version: int | None = None,
) -> FeedbackRound:
    """Record one answer of the enterprise about the resolution (a feedback round).

    An unsatisfied solution sends the issue back to its lead department in the same step
    (重办: in progress again, the enterprise's words as the reason); the round stays and
    counts. An accepted solution (satisfied or basically) closes the issue when `close`
    is asked (the enterprise answering online, or staff recording and closing at once).
    `by` is None when the enterprise answers through a feedback link.
    """
    issue = _lock(issue_id, by, Action.FEEDBACK, expected_version) if by else _lock_for_enterprise(issue_id)
    return _record_round(
        issue,
        by,
        contacted_on=contacted_on,
        channel=channel,
        reply_satisfaction=reply_satisfaction,
        solution_satisfaction=solution_satisfaction,
        comment=comment,
        contact_name=contact_name,
        close=close,
    )


def _record_round(
    issue: Issue,
    by,
    *,
    contacted_on,
    channel,
    reply_satisfaction,
    solution_satisfaction,
    comment,
    contact_name,
    close,
) -> FeedbackRound:
    errors = {}
    if contacted_on is None:
        errors["contacted_on"] = _("Give the date the enterprise answered.")
    elif contacted_on > _today():
        errors["contacted_on"] = _("The date cannot be in the future.")
    if channel not in Channel.values:
        errors["channel"] = _("Choose how the enterprise answered.")
    for field, value in (
        ("reply_satisfaction", reply_satisfaction),
        ("solution_satisfaction", solution_satisfaction),
    ):
        if value not in Satisfaction.values:
            errors[field] = _("Choose satisfied, basically satisfied or unsatisfied.")
    comment = (comment or "").strip()
    unsatisfied = solution_satisfaction == Satisfaction.UNSATISFIED
    if unsatisfied and not comment:
        errors["comment"] = _(
            "Write what the enterprise is not satisfied with: it goes back to the department."
        )
    if errors:
        raise WorkflowError(errors, code="feedback")
    department_resolution = bool(issue.lead_department_id)
    feedback = history.add_round(
        issue,
        contacted_on=contacted_on,
        channel=channel,
        recorded_by=by,
        recorded_at=_now(),
        contact_name=contact_name.strip(),
        reply_satisfaction=reply_satisfaction,
        solution_satisfaction=solution_satisfaction,
        comment=comment,
        sent_back=unsatisfied and department_resolution,
    )
    summary = _("Round %(n)s — reply: %(reply)s; solution: %(solution)s") % {
        "n": feedback.number,
        "reply": Satisfaction(reply_satisfaction).label,
        "solution": Satisfaction(solution_satisfaction).label,
    }
    _log(issue, EventKind.FEEDBACK, by, note="\n".join(filter(None, [summary, comment])), public=True)
    notifications.notify(NotificationKind.ANSWER_RECEIVED, issue, round=feedback)
    if unsatisfied:
        _send_back(issue, by, comment)
        notifications.notify(NotificationKind.SENT_BACK, issue, reason=comment)
    elif close and issue.status == Status.RESOLVED:
        _close_resolved(issue, by, EventKind.CONFIRMED, Outcome.RESOLVED, note="")
    else:
        _save(issue, [])
    return feedback


def _lock_for_enterprise(issue_id: int) -> Issue:
    """The lock of `_lock` for an answer given through a feedback link (no user): the link
    itself was the authorisation (`issues.feedback_links`)."""
    issue = Issue.objects.select_for_update(of=("self",)).select_related("enterprise").get(pk=issue_id)
    if not state_allows(Action.FEEDBACK, issue):
        raise WorkflowError(_("This issue is not waiting for your answer."), code="illegal_transition")
    return issue


def _send_back(issue: Issue, by, reason: str) -> None:
    """重办: the enterprise does not accept the solution. Back to the lead department (or, for
    an issue settled on the spot, to triage). History stays; the current state resets."""
    status_from = issue.status
    _back_to_work(issue)
    _log(issue, EventKind.SENT_BACK, by, note=reason, status_from=status_from, public=True)


def _back_to_work(issue: Issue, *changed_fields: str) -> None:
    """Sent back or reopened: to the lead department again (or to triage, if it was settled
    on the spot and never assigned). The current state resets; the history does not."""
    issue.status = Status.IN_PROGRESS if issue.lead_department_id else Status.NEW
    issue.outcome, issue.closed_at, issue.resolved_at, issue.solved_on_site = "", None, None, False
    if issue.status == Status.NEW and issue.respond_by is None:  # settled on the spot before
        issue.respond_by = workdays.add_workdays(_today(), RESPONSE_WORKDAYS)
    issue.last_progress_on = _today()
    _refresh_supervision(issue)
    fields = ["status", "outcome", "closed_at", "resolved_at", "solved_on_site", "respond_by"]
    _save(issue, [*fields, *changed_fields, *SUPERVISION_FIELDS])


@transaction.atomic
def issue_feedback_link(*, issue_id: int, by):
    """A coordinator asks the enterprise for its answer with a link (and its QR code); the
    primary contact with an email gets it by email too. Returns the link."""
    issue = _lock(issue_id, by, Action.REQUEST_FEEDBACK)
    return send_feedback_link(issue, by)


def send_feedback_link(issue: Issue, by):
    from .feedback_links import issue_link

    link = issue_link(issue, by)
    contact = issue.enterprise.contacts.exclude(email="").order_by("-is_primary", "id").first()
    if contact is not None:
        notifications.notify_address(NotificationKind.FEEDBACK_LINK, issue, contact.email, link=link.url())
    return link


def latest_round(issue: Issue) -> FeedbackRound | None:
    return issue.feedback_rounds.order_by("-number").first()


@transaction.atomic
def confirm(
    *,
    issue_id: int,
    by,
    note: str = "",
    contacted_on: date | None = None,
    reply_satisfaction: str = "",
    solution_satisfaction: str = "",
    channel: str = Channel.PHONE,
    comment: str = "",
    expected_version: int | None = None,
) -> Issue:
    """resolved → closed (交账): the enterprise's latest answer accepts the solution.

    With an answer given here, it is recorded first (a feedback round): accepted, the issue
    closes; unsatisfied, it goes back to its department instead, in the same step."""
    issue = _lock(issue_id, by, Action.CONFIRM, expected_version)
    if contacted_on or reply_satisfaction or solution_satisfaction:
        _record_round(
            issue,
            by,
            contacted_on=contacted_on,
            channel=channel,
            reply_satisfaction=reply_satisfaction,
            solution_satisfaction=solution_satisfaction,
            comment=comment or note,
            contact_name="",
            close=True,
        )
        return issue
    latest = latest_round(issue)
    if latest is None or latest.recorded_at < issue.resolved_at:
        raise WorkflowError(
            _("Record the enterprise's answer about this resolution before closing the issue."),
            code="no_feedback",
        )
    _close_resolved(issue, by, EventKind.CONFIRMED, Outcome.RESOLVED, note=note)
    return issue


@transaction.atomic
def close_unconfirmed(
    *, issue_id: int, by, outcome: str, reason: str, expected_version: int | None = None
) -> Issue:
    """resolved → closed without the enterprise's answer: a coordinator's documented
    exception (the enterprise could not be reached after several tries, or has closed
    down). Counted as resolved, and apart, on the dashboard."""
    issue = _lock(issue_id, by, Action.CLOSE_UNCONFIRMED, expected_version)
    if outcome not in UNCONFIRMED_OUTCOMES:
        raise WorkflowError({"outcome": _("Choose why the enterprise cannot answer.")}, code="outcome")
    reason = _require(reason, _("Record the attempts made and why closing is justified."), "reason")
    issue.close_reason = reason
    _close_resolved(
        issue, by, EventKind.CLOSED_UNCONFIRMED, outcome, note=f"{Outcome(outcome).label}: {reason}"
    )
    return issue


def _close_resolved(issue: Issue, by, kind: str, outcome: str, *, note: str) -> None:
    issue.status, issue.outcome, issue.closed_at = Status.CLOSED, outcome, _now()
    _save(issue, ["status", "outcome", "closed_at", "close_reason"])
    _log(issue, kind, by, note=note, status_from=Status.RESOLVED, public=True)


@transaction.atomic
def close(*, issue_id: int, by, outcome: str, reason: str, expected_version: int | None = None) -> Issue:
    """new → closed without resolving: a duplicate, or nothing the government can act on."""
    issue = _lock(issue_id, by, Action.CLOSE, expected_version)
    if outcome not in (Outcome.DUPLICATE, Outcome.NOT_ACTIONABLE):
        raise WorkflowError({"outcome": _("Choose duplicate or not actionable.")}, code="outcome")
    reason = _require(reason, _("Give the reason for closing."), "reason")
    triage = _triage(issue)
    issue.status, issue.outcome, issue.close_reason, issue.closed_at = (
        Status.CLOSED,
        outcome,
        reason,
        _now(),
    )
    _save(issue, ["status", "outcome", "close_reason", "closed_at", "triaged_at"])
    _log(
        issue,
        EventKind.CLOSED,
        by,
        note=f"{Outcome(outcome).label}: {reason}",
        status_from=Status.NEW,
        public=True,
        **triage,
    )
    return issue


@transaction.atomic
def reopen(
    *,
    issue_id: int,
    by,
    reason: str,
    deadline: date | None = None,
    expected_version: int | None = None,
) -> Issue:
    """resolved / closed → in_progress (or new, if it was never assigned), with a reason.

    The current state resets (outcome, resolved and closed times); the history does not:
    what was resolved, closed or answered stays counted in its own period."""
    issue = _lock(issue_id, by, Action.REOPEN, expected_version)
    reason = _require(reason, _("Give the reason for reopening."), "reason")
    status_from, deadline_from = issue.status, issue.deadline
    if deadline is not None:
        _check_deadline(deadline)
        issue.deadline = deadline
        issue.original_deadline = issue.original_deadline or deadline
    _back_to_work(issue, "deadline", "original_deadline")
    _log(
        issue,
        EventKind.REOPENED,
        by,
        note=reason,
        status_from=status_from,
        deadline_from=deadline_from if deadline else None,
        deadline_to=deadline,
        public=True,
    )
    return issue


# -- deadlines, owners, objections -------------------------------------------------------------


def _set_deadline(issue: Issue, new_deadline: date) -> None:
    issue.deadline = new_deadline
    _refresh_supervision(issue)
    _save(issue, ["deadline", *SUPERVISION_FIELDS])


@transaction.atomic
def change_deadline(
    *, issue_id: int, by, deadline: date, reason: str, expected_version: int | None = None
) -> Issue:
    """A coordinator moves the deadline; the original deadline is kept for the on-time rate."""
    issue = _lock(issue_id, by, Action.CHANGE_DEADLINE, expected_version)
    reason = _require(reason, _("A deadline change needs a reason."), "reason")
    _check_deadline(deadline)
    if deadline == issue.deadline:
        raise WorkflowError({"deadline": _("That is already the deadline.")}, code="unchanged")
    old = issue.deadline
    _set_deadline(issue, deadline)
    _log(issue, EventKind.DEADLINE_CHANGED, by, note=reason, deadline_from=old, deadline_to=deadline)
    return issue


@transaction.atomic
def request_extension(
    *, issue_id: int, by, deadline: date, reason: str, expected_version: int | None = None
) -> ExtensionRequest:
    """The department asks for a later deadline, before the current one passes."""
    issue = _lock(issue_id, by, Action.REQUEST_EXTENSION, expected_version)
    reason = _require(reason, _("An extension request needs a reason."), "reason")
    if issue.deadline < _today():
        raise WorkflowError(
            _("The deadline has already passed: an extension must be asked for before it."),
            code="too_late",
        )
    if deadline is None or deadline <= issue.deadline:
        raise WorkflowError(
            {"deadline": _("Ask for a date later than the current deadline.")}, code="not_later"
        )
    if issue.extension_requests.filter(status=RequestStatus.PENDING).exists():
        raise WorkflowError(_("An extension request for this issue is already waiting."), code="pending")
    request = ExtensionRequest.objects.create(
        issue=issue,
        requested_by=by,
        requested_at=_now(),
        current_deadline=issue.deadline,
        requested_deadline=deadline,
        reason=reason,
    )
    _save(issue, [])
    _log(
        issue,
        EventKind.EXTENSION_REQUESTED,
        by,
        note=_("Asks for %(date)s: %(reason)s") % {"date": deadline.isoformat(), "reason": reason},
    )
    return request


@transaction.atomic
def decide_extension(*, request_id: int, by, approve: bool, note: str = "") -> ExtensionRequest:
    """A coordinator approves (the deadline moves) or refuses (it stays)."""
    issue_id = ExtensionRequest.objects.values_list("issue_id", flat=True).get(pk=request_id)
    issue = _lock(issue_id, by, Action.DECIDE_EXTENSION)  # issue first: one lock order
    request = ExtensionRequest.objects.select_for_update().get(pk=request_id)
    if request.status != RequestStatus.PENDING:
        raise WorkflowError(_("This request has already been decided."), code="decided")
    if not approve:
        note = _require(note, _("Say why the extension is refused."), "note")
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_note = by, _now(), note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if approve:
        old = issue.deadline
        _set_deadline(issue, request.requested_deadline)
        _log(
            issue,
            EventKind.EXTENSION_APPROVED,
            by,
            note=note or request.reason,
            deadline_from=old,
            deadline_to=request.requested_deadline,
        )
    else:
        _save(issue, [])
        _log(issue, EventKind.EXTENSION_REFUSED, by, note=note)
    return request


@transaction.atomic
def change_owner(*, issue_id: int, by, owner, reason: str, expected_version: int | None = None) -> Issue:
    issue = _lock(issue_id, by, Action.CHANGE_OWNER, expected_version)
    reason = _require(reason, _("An owner change needs a reason."), "reason")
    _check_owner(issue.lead_department, owner)
    issue.owner = owner
    _save(issue, ["owner"])
    _log(issue, EventKind.OWNER_CHANGED, by, note=reason, owner=owner, department=issue.lead_department)
    return issue


def objection_deadline(issue: Issue) -> date | None:
    """The last day the lead department may object: one working day after the issue was
    assigned to it (after the first assignment, or after an upheld objection moved it)."""
    if issue.assigned_at is None:
        return None
    prefetched = getattr(issue, "_prefetched_objects_cache", {}).get("objections")
    if prefetched is not None:
        upheld = [o.decided_at for o in prefetched if o.status == RequestStatus.APPROVED]
    else:
        upheld = issue.objections.filter(status=RequestStatus.APPROVED).values_list("decided_at", flat=True)
    assigned_at = max(filter(None, [issue.assigned_at, *upheld]))
    return workdays.add_workdays(timezone.localtime(assigned_at).date(), OBJECTION_WORKDAYS)


@transaction.atomic
def object_to_assignment(
    *,
    issue_id: int,
    by,
    reason: str,
    suggested_department: Department | None = None,
    expected_version: int | None = None,
) -> Objection:
    """The lead department says the issue is not theirs, within one working day."""
    issue = _lock(issue_id, by, Action.OBJECT, expected_version)
    reason = _require(reason, _("Say why the issue is not for your department."), "reason")
    if _today() > objection_deadline(issue):
        raise WorkflowError(
            _("Objections must be raised within one working day of the assignment."), code="too_late"
        )
    if issue.objections.filter(status=RequestStatus.PENDING).exists():
        raise WorkflowError(_("An objection to this assignment is already waiting."), code="pending")
    objection = Objection.objects.create(
        issue=issue,
        department=issue.lead_department,
        raised_by=by,
        raised_at=_now(),
        reason=reason,
        suggested_department=suggested_department,
    )
    _save(issue, [])
    _log(issue, EventKind.OBJECTION_RAISED, by, note=reason, department=issue.lead_department)
    return objection


@transaction.atomic
def decide_objection(
    *,
    objection_id: int,
    by,
    uphold: bool,
    note: str = "",
    department: Department | None = None,
    owner=None,
    deadline: date | None = None,
) -> Objection:
    """Uphold (reassign to another department) or reject (the assignment stands)."""
    issue_id = Objection.objects.values_list("issue_id", flat=True).get(pk=objection_id)
    issue = _lock(issue_id, by, Action.DECIDE_OBJECTION)  # issue first: one lock order
    objection = Objection.objects.select_for_update().get(pk=objection_id)
    if objection.status != RequestStatus.PENDING:
        raise WorkflowError(_("This objection has already been decided."), code="decided")
    objection.status = RequestStatus.APPROVED if uphold else RequestStatus.REFUSED
    objection.decided_by, objection.decided_at, objection.decision_note = by, _now(), note
    objection.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if uphold:
        if department is None or department.pk == issue.lead_department_id:
            raise WorkflowError({"department": _("Choose the department to reassign to.")})
        if issue.co_handlings.filter(department=department).exists():
            raise WorkflowError(
                {"department": _("This department co-handles the issue: it cannot also lead it.")}
            )
        _check_owner(department, owner)
        # assigned_at stays the first assignment: the response rate measures that.
        issue.lead_department, issue.owner = department, owner
        fields = ["lead_department", "owner"]
        deadline_from = issue.deadline
        if deadline is not None and deadline != issue.deadline:
            issue.deadline = _check_deadline(deadline)
            _refresh_supervision(issue)
            fields += ["deadline", *SUPERVISION_FIELDS]
        _save(issue, fields)
        _log(
            issue,
            EventKind.OBJECTION_UPHELD,
            by,
            note=note,
            department=department,
            owner=owner,
            deadline_from=deadline_from if deadline else None,
            deadline_to=deadline,
        )
    else:
        _save(issue, [])
        _log(issue, EventKind.OBJECTION_REJECTED, by, note=note, department=issue.lead_department)
    return objection


# -- common issues, co-handling, milestones, edits ---------------------------------------------


@transaction.atomic
def merge_into_common(*, issue_ids: Iterable[int], common_issue_id: int, by, note: str = "") -> list[Issue]:
    """Link enterprise issues to a common issue; they follow it when it is resolved."""
    common = Issue.objects.select_for_update(of=("self",)).get(pk=common_issue_id)
    if common.scope != Scope.COMMON:
        raise WorkflowError(_("Issue #%(id)s is not a common issue.") % {"id": common.pk})
    if common.status not in (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS):
        raise WorkflowError(
            _("Common issue #%(id)s is already resolved or closed: link issues to an open one.")
            % {"id": common.pk}
        )
    merged = []
    for issue_id in sorted(set(issue_ids)):
        issue = _lock(issue_id, by, Action.MERGE)
        if issue.scope != Scope.INDIVIDUAL:
            raise WorkflowError(_("Issue #%(id)s is itself a common issue.") % {"id": issue.pk})
        # Linking is a triage decision: the issue is handled through the common one.
        triage = _triage(issue)
        issue.common_issue = common
        _save(issue, ["common_issue", "triaged_at"])
        # The number only: the common issue may be led by a department the reader cannot see.
        text = note or _("Linked to common issue #%(id)s") % {"id": common.pk}
        _log(issue, EventKind.MERGED, by, note=text, public=True, **triage)
        if issue.status == Status.NEW and common.status != Status.NEW:
            # The common issue is being handled: this one follows it at once.
            _assign(
                issue,
                by,
                department=common.lead_department,
                owner=None,
                deadline=common.deadline,
                note=_following(common),
            )
        merged.append(issue)
    return merged


@transaction.atomic
def add_co_department(
    *, issue_id: int, by, department: Department, report_by: date, expected_version: int | None = None
) -> CoDepartment:
    issue = _lock(issue_id, by, Action.ADD_CO_DEPARTMENT, expected_version)
    if department.pk == issue.lead_department_id:
        raise WorkflowError({"department": _("The lead department cannot also co-handle.")})
    if issue.co_handlings.filter(department=department).exists():
        raise WorkflowError({"department": _("This department already co-handles the issue.")})
    co = CoDepartment.objects.create(issue=issue, department=department, report_by=report_by)
    _save(issue, [])
    _log(
        issue,
        EventKind.CO_DEPARTMENT_ADDED,
        by,
        department=department,
        note=_("Report in by %(date)s") % {"date": report_by.isoformat()},
    )
    return co


@transaction.atomic
def co_report_in(*, issue_id: int, by, report: str) -> CoDepartment:
    """A co-handling department (协办) reports its part to the lead department."""
    issue = _lock(issue_id, by, Action.CO_REPORT)
    report = _require(report, _("Write your department's report."), "report")
    co = (
        issue.co_handlings.select_for_update()
        .filter(department__in=department_ids(by), reported_on__isnull=True)
        .first()
    )
    if co is None:
        raise WorkflowError(_("Your department has already reported in, or does not co-handle this issue."))
    co.reported_on, co.report = _today(), report
    co.save(update_fields=["reported_on", "report"])
    issue.last_progress_on = _today()
    _refresh_supervision(issue)
    _save(issue, SUPERVISION_FIELDS)
    _log(issue, EventKind.CO_REPORTED, by, note=report, department=co.department)
    return co


@transaction.atomic
def add_milestone(*, issue_id: int, by, title: str, due_on: date) -> Milestone:
    issue = _lock(issue_id, by, Action.ADD_MILESTONE)
    title = _require(title, _("A milestone needs a title."), "title")
    if due_on is None:
        raise WorkflowError({"due_on": _("A milestone needs a due date.")})
    milestone = Milestone.objects.create(issue=issue, title=title, due_on=due_on)
    _refresh_supervision(issue)
    _save(issue, SUPERVISION_FIELDS)
    _log(issue, EventKind.MILESTONE_ADDED, by, note=f"{title} ({due_on:%Y-%m-%d})")
    return milestone


@transaction.atomic
def complete_milestone(*, milestone_id: int, by, note: str = "") -> Milestone:
    issue_id = Milestone.objects.values_list("issue_id", flat=True).get(pk=milestone_id)
    issue = _lock(issue_id, by, Action.COMPLETE_MILESTONE)  # issue first: one lock order
    milestone = Milestone.objects.select_for_update().get(pk=milestone_id)
    if milestone.done_on is not None:
        raise WorkflowError(_("This milestone is already done."), code="done")
    milestone.done_on = _today()
    milestone.save(update_fields=["done_on"])
    issue.last_progress_on = _today()
    _refresh_supervision(issue)
    _save(issue, SUPERVISION_FIELDS)
    _log(issue, EventKind.MILESTONE_DONE, by, note=f"{milestone.title}. {note}".strip())
    return milestone


@transaction.atomic
def add_information(*, issue_id: int, by, note: str) -> Issue:
    """The enterprise adds information to one of its open issues (public in the record)."""
    issue = _lock(issue_id, by, Action.ADD_INFORMATION)
    note = _require(note, _("Write the information to add."), "note")
    _save(issue, [])
    _log(issue, EventKind.ENTERPRISE_NOTE, by, note=note, public=True)
    return issue


EDITABLE_FIELDS = ("title", "description", "category", "priority")


@transaction.atomic
def edit_details(*, issue_id: int, by, expected_version: int, **changes) -> Issue:
    """Edit the descriptive fields; refused if someone else changed the issue meanwhile."""
    issue = _lock(issue_id, by, Action.EDIT, expected_version)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise WorkflowError(_("These fields cannot be edited here: %s") % ", ".join(sorted(unknown)))
    changed = [f for f, v in changes.items() if getattr(issue, f) != v]
    if not changed:
        return issue
    for field in changed:
        setattr(issue, field, changes[field])
    issue.full_clean(
        exclude=[
            "enterprise",
            "visit",
            "survey_response",
            "common_issue",
            "lead_department",
            "owner",
            "raised_by",
            "version",
        ],
        validate_constraints=False,
    )
    _save(issue, changed)
    labels = ", ".join(str(Issue._meta.get_field(f).verbose_name) for f in changed)
    _log(issue, EventKind.EDITED, by, note=labels)
    return issue


# -- the official calendar ------------------------------------------------------------------------


def refresh_calendar_dates(batch_size: int = 2000) -> int:
    """Recompute the dates open issues keep from the working-day calendar (the triage limit
    of untriaged issues, and when active ones turn blue or yellow) after the official
    calendar changed. Derived dates only: no history, no version bump. Returns how many
    issues changed."""
    changed = []
    open_issues = (
        Issue.objects.open()
        .annotate(next_milestone_due=Min("milestones__due_on", filter=Q(milestones__done_on__isnull=True)))
        .order_by("id")
    )
    for issue in open_issues.iterator(chunk_size=batch_size):
        before = (issue.respond_by, issue.due_soon_from, issue.stalled_from)
        if issue.triaged_at is None and issue.respond_by is not None:
            issue.respond_by = workdays.add_workdays(_triage_window_start(issue), RESPONSE_WORKDAYS)
        issue.compute_supervision_dates(issue.next_milestone_due)
        if (issue.respond_by, issue.due_soon_from, issue.stalled_from) != before:
            changed.append(issue)
    with transaction.atomic():
        Issue.objects.bulk_update(changed, ["respond_by", *SUPERVISION_FIELDS], batch_size=batch_size)
    return len(changed)


def _triage_window_start(issue: Issue) -> date:
    """The day an untriaged issue's 2-working-day window counts from: when it was raised, or
    when it was sent back to triage (the latest such event)."""
    restarted = (
        issue.events.filter(kind__in=[EventKind.REOPENED, EventKind.SENT_BACK], status_to=Status.NEW)
        .order_by("-at")
        .values_list("day", flat=True)
        .first()
    )
    return restarted or issue.raised_on
