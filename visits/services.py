"""Writes on visits: each one all-or-nothing, in one transaction.

`create_visit` saves a visit with the issues raised on it (each through
`issues.workflow.raise_issue`, so a problem settled on the spot is closed with its
resolution and logged); `update_visit` edits one, refusing a stale version.
"""

import uuid
from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from issues import workflow
from issues.models import Source
from issues.permissions import can_raise_issues
from issues.roles import is_coordinator

from .models import Visit, VisitStatus


class IssueRowError(Exception):
    """Issue number `index` (0-based, in the order given) was refused by the workflow."""

    def __init__(self, index: int, error: ValidationError):
        super().__init__(str(error))
        self.index, self.error = index, error


class StaleVisitError(ValidationError):
    """The visit changed since the user loaded the edit page; nothing was saved."""


def can_edit(user, visit: Visit) -> bool:
    """The official who logged a visit edits it; coordinators edit any. Leadership never."""
    if is_coordinator(user):
        return True
    return visit.created_by_id == getattr(user, "pk", None) and can_raise_issues(user)


def _raise_issues(visit: Visit, by, issues: Iterable[dict]) -> list:
    raised = []
    for index, row in enumerate(issues):
        try:
            raised.append(
                workflow.raise_issue(
                    by=by,
                    enterprise=visit.enterprise,
                    title=row["title"],
                    description=row.get("description") or "",
                    category=row["category"],
                    source=Source.VISIT,
                    visit=visit,
                    raised_on=visit.visited_on,
                    solved_on_site=bool(row.get("solved_on_site")),
                    resolution=(row.get("resolution") or "") if row.get("solved_on_site") else "",
                )
            )
        except ValidationError as error:
            raise IssueRowError(index, error) from error
    return raised


def create_visit(
    *,
    by,
    enterprise,
    visited_on: date,
    status: str,
    lead_officials: Iterable,
    accompanying_departments: Iterable = (),
    topics: Iterable[str] = (),
    policies_explained: str = "",
    summary: str = "",
    issues: Iterable[dict] = (),
    submission_token: uuid.UUID | None = None,
) -> tuple[Visit, bool]:
    """Save a visit and the issues raised on it, all or nothing.

    Returns (visit, created). A `submission_token` already used (a double click, a
    refresh, or two requests racing) returns the visit it created, with created=False.
    """
    if not can_raise_issues(by):
        raise PermissionDenied(_("You may not record visits."))
    issues = list(issues)
    if issues and status != VisitStatus.COMPLETED:
        raise ValidationError(_("Issues can be recorded only on a completed visit."))
    if submission_token:
        existing = Visit.objects.filter(submission_token=submission_token).first()
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            visit = Visit(
                enterprise=enterprise,
                visited_on=visited_on,
                status=status,
                topics=list(topics),
                policies_explained=policies_explained,
                summary=summary,
                created_by=by,
                submission_token=submission_token,
            )
            visit.full_clean(exclude=["enterprise", "created_by", "submission_token"])
            visit.save()
            visit.lead_officials.set(lead_officials)
            visit.accompanying_departments.set(accompanying_departments)
            _raise_issues(visit, by, issues)
    except IntegrityError:
        # Two posts of one form raced past the check above: the other one won.
        existing = submission_token and Visit.objects.filter(submission_token=submission_token).first()
        if not existing:
            raise
        return existing, False
    return visit, True


@transaction.atomic
def update_visit(
    *,
    visit_id: int,
    by,
    expected_version: int | None,
    enterprise,
    visited_on: date,
    status: str,
    lead_officials: Iterable,
    accompanying_departments: Iterable = (),
    topics: Iterable[str] = (),
    policies_explained: str = "",
    summary: str = "",
    issues: Iterable[dict] = (),
) -> Visit:
    """Edit a visit (and record issues raised on it, if it took place), refusing stale edits."""
    visit = Visit.objects.select_for_update().get(pk=visit_id)
    if not can_edit(by, visit):
        raise PermissionDenied(_("Only the official who logged this visit, or a coordinator, may edit it."))
    if expected_version is not None and visit.version != expected_version:
        raise StaleVisitError(
            _(
                "Someone else changed this visit while you were editing it. Nothing was saved: "
                "the page now shows their version; make your change again."
            ),
            code="conflict",
        )
    issues = list(issues)
    if issues and status != VisitStatus.COMPLETED:
        raise ValidationError(_("Issues can be recorded only on a completed visit."))
    if visit.enterprise_id != enterprise.pk and visit.issues.exists():
        raise ValidationError(
            {"enterprise": _("Issues were raised on this visit: its enterprise can no longer change.")}
        )
    visit.enterprise, visit.visited_on, visit.status = enterprise, visited_on, status
    visit.topics, visit.policies_explained, visit.summary = list(topics), policies_explained, summary
    visit.version += 1
    visit.full_clean(exclude=["enterprise", "created_by", "submission_token"])
    visit.save(
        update_fields=[
            "enterprise",
            "visited_on",
            "status",
            "topics",
            "policies_explained",
            "summary",
            "version",
            "updated_at",
        ]
    )
    visit.lead_officials.set(lead_officials)
    visit.accompanying_departments.set(accompanying_departments)
    _raise_issues(visit, by, issues)
    return visit
