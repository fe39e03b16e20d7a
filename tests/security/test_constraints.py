"""SECURITY.md 31: the database refuses invalid states, whatever path the write takes.

`.update()` into invalid states and IssueEvent UPDATE/DELETE (ORM and SQL) are proven in
tests/test_workflow.py (test_database_refuses_invalid_states, test_event_log_is_append_only);
this file covers bulk_create, unique codes and PROTECT.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from enterprises.models import Enterprise
from issues.models import Department, Issue, IssueEvent, Status

from ..factories import EnterpriseFactory, IssueFactory, category


def _issue_kwargs(enterprise, visit, raised_by, **extra):
    today = timezone.localdate()
    base = dict(
        enterprise=enterprise,
        visit=visit,
        source="visit",
        title="批量导入",
        category=category(),
        raised_by=raised_by,
        raised_on=today,
    )
    return {**base, **extra}


@pytest.mark.parametrize(
    "invalid",
    [
        {"status": "bogus"},
        {"status": Status.ASSIGNED},  # assigned without department and deadline
        {"status": Status.RESOLVED},  # resolved without a resolution
        {"status": Status.CLOSED},  # closed without outcome
        {"priority": "highest"},
        {"scope": "common"},  # common issue tied to one enterprise
        {"source": "survey"},  # survey issue without a survey response
        {"version": 0},
    ],
)
def test_bulk_create_of_invalid_issues_is_refused(official, invalid):
    template = IssueFactory(raised_by=official, visit__created_by=official)
    before = Issue.objects.count()
    rows = [
        Issue(**_issue_kwargs(template.enterprise, template.visit, official)),
        Issue(**_issue_kwargs(template.enterprise, template.visit, official, **invalid)),
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.bulk_create(rows)
    assert Issue.objects.count() == before  # all or nothing


def test_bulk_create_of_valid_issues_works(official):
    """The other side: the same call with valid rows succeeds (the test can fail)."""
    template = IssueFactory(raised_by=official, visit__created_by=official)
    Issue.objects.bulk_create([Issue(**_issue_kwargs(template.enterprise, template.visit, official))])
    assert Issue.objects.count() == 2


def test_duplicate_credit_code_is_refused(db):
    first = EnterpriseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Enterprise.objects.create(
            name="另一家", credit_code=first.credit_code, sector=first.sector, district=first.district
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Enterprise.objects.bulk_create(
            [
                Enterprise(
                    name="再一家", credit_code=first.credit_code, sector=first.sector, district=first.district
                )
            ]
        )
    assert Enterprise.objects.filter(credit_code=first.credit_code).count() == 1


def test_used_department_cannot_be_deleted(official, coordinator, dept_a):
    issue = IssueFactory(raised_by=official, visit__created_by=official)
    from issues import workflow

    workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=dept_a,
        deadline=timezone.localdate() + timedelta(days=5),
    )
    with pytest.raises(ProtectedError):
        dept_a.delete()
    assert Department.objects.filter(pk=dept_a.pk).exists()


def test_issues_with_history_cannot_be_deleted(official, coordinator):
    from issues import workflow

    issue = IssueFactory(raised_by=official, visit__created_by=official)
    workflow.close(issue_id=issue.pk, by=coordinator, outcome="duplicate", reason="重复")
    with pytest.raises(ProtectedError):
        issue.delete()
    with pytest.raises(ProtectedError):
        issue.enterprise.delete()
    assert IssueEvent.objects.filter(issue=issue).exists()
