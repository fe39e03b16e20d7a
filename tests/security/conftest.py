"""Fixtures for the security tests: a small city with one issue per department.

Department A (市发展改革委) holds `issue_a`, department B (市税务局) holds `issue_b`. The
B side carries markers (title and credit code) that must never reach a dept-A user on an
issue page, export, drill-down or autocomplete.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from issues import workflow

from ..factories import EnterpriseFactory, IssueFactory, UserFactory, VisitFactory, valid_credit_code

PASSWORD = "correct-horse-battery-9"
B_TITLE = "乙部门保密问题BRAVO7731"
A_TITLE = "甲部门问题ALPHA4410"
B_CREDIT_CODE = valid_credit_code(987_654_321)


class World:
    """Named rows the tests and the permission matrix refer to."""


@pytest.fixture
def world(db, dept_a, dept_b, coordinator, leader, official, staff_a, staff_b, admin_user):
    w = World()
    w.dept_a, w.dept_b = dept_a, dept_b
    w.official_b = UserFactory(username="official_b", role="official")
    w.inactive = UserFactory(username="inactive", role="coordinator")
    w.inactive.is_active = False
    w.inactive.save()
    today = timezone.localdate()
    w.enterprise_a = EnterpriseFactory(name="甲企业有限公司")
    w.enterprise_b = EnterpriseFactory(name="乙企业有限公司", credit_code=B_CREDIT_CODE)
    w.visit_a = VisitFactory(enterprise=w.enterprise_a, created_by=official)
    w.visit_b = VisitFactory(enterprise=w.enterprise_b, created_by=w.official_b)
    w.issue_a = IssueFactory(enterprise=w.enterprise_a, visit=w.visit_a, raised_by=official, title=A_TITLE)
    w.issue_b = IssueFactory(
        enterprise=w.enterprise_b, visit=w.visit_b, raised_by=w.official_b, title=B_TITLE
    )
    deadline = today + timedelta(days=20)
    workflow.assign(
        issue_id=w.issue_a.pk, by=coordinator, department=dept_a, owner=staff_a, deadline=deadline
    )
    workflow.assign(
        issue_id=w.issue_b.pk, by=coordinator, department=dept_b, owner=staff_b, deadline=deadline
    )
    w.milestone_b = workflow.add_milestone(
        issue_id=w.issue_b.pk, by=coordinator, title="乙部门里程碑", due_on=deadline
    )
    w.milestone_a = workflow.add_milestone(
        issue_id=w.issue_a.pk, by=coordinator, title="甲部门里程碑", due_on=deadline
    )
    w.issue_a.refresh_from_db()
    w.issue_b.refresh_from_db()
    w.users = {
        "official": official,
        "coordinator": coordinator,
        "department": staff_a,
        "leader": leader,
        "administrator": admin_user,
        "anonymous": None,
        "inactive": w.inactive,
    }
    return w


@pytest.fixture
def client_for():
    """A fresh client per role (force_login: django-axes does not stand in the way)."""

    def make(user, **kwargs):
        client = Client(**kwargs)
        if user is not None:
            client.force_login(user)
        return client

    return make
