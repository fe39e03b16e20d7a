"""What `manage.py seed_demo` loads: a complete, valid demo city whose story covers the whole
life cycle. One seed serves every test of this module (read only) and is rolled back at its end."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from enterprises.credit_code import validate_credit_code
from enterprises.models import District, Enterprise, Sector, Survey
from issues import demo, workflow
from issues.models import (
    Channel,
    Colour,
    Department,
    EventKind,
    ExtensionRequest,
    FeedbackRound,
    Issue,
    IssueEvent,
    Milestone,
    Objection,
    Outcome,
    RequestStatus,
    Satisfaction,
    Scope,
    Source,
    Status,
)
from issues.roles import Role, roles_of
from visits.models import Official, Visit, VisitStatus

PASSWORD = "demo-password-2026"


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """One seed for the read-only tests of this module, rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db):
    return seeded_once


def test_every_status_and_every_colour_exist_today(seeded):
    today = timezone.localdate()
    statuses = set(Issue.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    colours = set(Issue.objects.with_colour(today).values_list("colour", flat=True))
    assert {Colour.RED, Colour.YELLOW, Colour.BLUE, Colour.NONE} <= colours
    assert Issue.objects.overdue(today).exists()
    assert Issue.objects.with_colour_filter(Colour.BLUE, today).exists()
    assert Issue.objects.with_colour_filter(Colour.YELLOW, today).exists()


def test_the_story_covers_every_part_of_the_life_cycle(seeded):
    today = timezone.localdate()
    issues = Issue.objects.all()
    assert issues.filter(solved_on_site=True, status=Status.CLOSED, outcome=Outcome.RESOLVED).count() >= 5
    assert set(issues.exclude(outcome="").values_list("outcome", flat=True)) == set(Outcome.values)
    rounds = FeedbackRound.objects.all()
    assert set(rounds.values_list("solution_satisfaction", flat=True)) == set(Satisfaction.values)
    assert rounds.filter(sent_back=True).exists() and rounds.filter(channel=Channel.ONLINE).exists()
    # a resolution sent back after its issue was closed: the round stays, the issue works on
    assert Issue.objects.filter(events__kind=EventKind.SENT_BACK, events__status_from=Status.CLOSED).exists()
    assert {Source.VISIT, Source.SURVEY, Source.ENTERPRISE_REQUEST} <= set(
        issues.values_list("source", flat=True)
    )
    assert IssueEvent.objects.filter(kind=EventKind.REOPENED).exists()  # a coordinator reopened one
    assert IssueEvent.objects.filter(kind=EventKind.SENT_BACK).count() >= 3  # the enterprise sent back
    assert set(ExtensionRequest.objects.values_list("status", flat=True)) == set(RequestStatus.values)
    assert set(Objection.objects.values_list("status", flat=True)) == set(RequestStatus.values)
    assert Issue.objects.filter(co_handlings__reported_on__isnull=False).exists()
    assert Issue.objects.filter(co_handlings__reported_on__isnull=True).exists()
    assert Milestone.objects.filter(done_on__isnull=False).exists()
    late = Milestone.objects.filter(done_on__isnull=True, due_on__lt=today)
    assert late.exists()
    coloured = dict(Issue.objects.with_colour(today).values_list("pk", "colour"))
    assert all(coloured[m.issue_id] == Colour.YELLOW for m in late)
    # a deadline extended while the original is kept
    assert any(i.deadline_extended for i in issues.filter(extension_requests__status=RequestStatus.APPROVED))
    # common issues, one resolved with all its linked issues
    commons = issues.filter(scope=Scope.COMMON)
    assert commons.count() == 2
    resolved_common = commons.get(status=Status.RESOLVED)
    linked = resolved_common.linked_issues.all()
    assert linked.count() >= 2
    assert all(i.status in (Status.RESOLVED, Status.CLOSED) for i in linked)
    # the linked issues of a common issue being handled follow it: none waits as new, and
    # those that were new take its department and deadline
    working = commons.get(status=Status.IN_PROGRESS)
    assert working.linked_issues.count() == 4
    assert not working.linked_issues.filter(status=Status.NEW).exists()
    assert working.linked_issues.filter(
        lead_department=working.lead_department, deadline=working.deadline
    ).exists()


def test_history_is_replayed_at_real_past_dates(seeded):
    now = timezone.now()
    events = IssueEvent.objects.all()
    assert not events.filter(at__gt=now).exists()
    assert events.filter(at__lt=now - timezone.timedelta(days=90)).exists()
    # overdue issues were assigned before their deadline, as the workflow demands
    for issue in Issue.objects.overdue().exclude(status=Status.NEW):  # new ones: untriaged too long
        assigned = IssueEvent.objects.filter(issue=issue, kind=EventKind.ASSIGNED).first()
        assert timezone.localtime(assigned.at).date() <= issue.original_deadline
    # and the workflow's clock is the real one again
    assert workflow._today() == timezone.localdate()


def test_visits_over_the_last_months_and_the_coming_weeks(seeded):
    today = timezone.localdate()
    visits = Visit.objects.all()
    assert set(visits.values_list("status", flat=True)) == set(VisitStatus.values)
    assert visits.filter(status=VisitStatus.CANCELLED).count() == 1
    assert not visits.filter(status=VisitStatus.PLANNED, visited_on__lt=today).exists()
    assert not visits.filter(status=VisitStatus.COMPLETED, visited_on__gt=today).exists()
    oldest = visits.filter(status=VisitStatus.COMPLETED).order_by("visited_on").first().visited_on
    assert 100 <= (today - oldest).days <= 130
    visited = Enterprise.objects.filter(visits__status=VisitStatus.COMPLETED).distinct().count()
    assert 30 <= visited < 50  # coverage is high but not complete
    assert all(v.lead_officials.exists() for v in visits)
    survey = Survey.objects.get(name=demo.SURVEY_NAME)
    assert survey.responses.count() >= 3


def test_fifty_key_enterprises_with_the_six_real_names_in_binhai(seeded):
    assert Enterprise.objects.key().count() == 50
    binhai = District.objects.get(name="滨海新区")
    for name in demo.REAL_ENTERPRISE_NAMES:
        assert Enterprise.objects.get(name=name).district == binhai, name
    names = set(Enterprise.objects.values_list("name", flat=True))
    for fragment in (
        "大众汽车自动变速器",
        "长城汽车",
        "今日头条",
        "字节跳动",
        "中国石油化工股份有限公司天津分公司",
        "中国石化销售",
    ):
        assert any(fragment in n for n in names), fragment
    assert set(Enterprise.objects.values_list("sector", flat=True)) == {
        Sector.INDUSTRIAL,
        Sector.WHOLESALE_RETAIL,
        Sector.SERVICES,
    }
    assert District.objects.filter(enterprises__isnull=False).distinct().count() == 16
    assert Department.objects.count() == 12


def test_every_credit_code_is_valid_and_unique(seeded):
    codes = list(Enterprise.objects.values_list("credit_code", flat=True))
    assert len(set(codes)) == 50
    for code in codes:
        validate_credit_code(code)
    for enterprise in Enterprise.objects.all():
        enterprise.full_clean()
        assert enterprise.contacts.filter(is_primary=True).count() == 1


def test_demo_users_have_their_roles_and_password(seeded):
    User = get_user_model()
    expected = {
        "official": Role.OFFICIAL,
        "coordinator": Role.COORDINATOR,
        "department": Role.DEPARTMENT,
        "leader": Role.LEADER,
        "admin": Role.ADMINISTRATOR,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert role in roles_of(user), username
        assert user.check_password(PASSWORD), username
        assert user.is_staff == (username in ("coordinator", "admin")), username
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()
    department = User.objects.get(username="department")
    assert list(department.departments.values_list("name", flat=True)) == ["市发展改革委"]
    assert Official.objects.get(user__username="official").name
    # the department login has its own list, with every colour on it
    today = timezone.localdate()
    mine = Issue.objects.visible_to(department).with_colour(today)
    assert {Colour.RED, Colour.YELLOW, Colour.BLUE} <= set(mine.values_list("colour", flat=True))
    led = Issue.objects.exclude(lead_department=None)
    assert led.filter(lead_department__name="市发展改革委").count() >= led.count() // 5
    # the official sees the issues from their visits, not everyone's
    official = User.objects.get(username="official")
    assert 0 < Issue.objects.visible_to(official).count() < Issue.objects.count()
    # the other demo users cannot log in
    assert not any(u.has_usable_password() for u in User.objects.filter(username__startswith="demo_"))


def test_output_lists_accounts_and_counts(seeded):
    for username in ("official", "coordinator", "department", "leader", "admin"):
        assert username in seeded
    assert PASSWORD in seeded
    assert "enterprises     50" in seeded
    assert "colours today   red " in seeded
