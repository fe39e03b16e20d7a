"""`seed_scale` at a tiny scale: the rows are consistent, counted and cover every case."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Min

from enterprises.models import Enterprise
from issues import workdays
from issues.models import (
    ACTIVE_STATUSES,
    Colour,
    Department,
    EventKind,
    Issue,
    IssueEvent,
    Milestone,
    Outcome,
    Scope,
    Status,
)
from issues.roles import Role
from issues.workflow import RESPONSE_WORKDAYS
from visits.models import Visit

TODAY = date(2026, 11, 26)
pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command(
        "seed_scale", "--scale", "0.002", "--issues", "600", "--today", TODAY.isoformat(), verbosity=0
    )


def test_counts_match_the_options(seeded):
    assert Issue.objects.count() == 600
    assert Enterprise.objects.count() == 20
    assert Department.objects.count() == 4
    assert Visit.objects.count() == 60
    assert get_user_model().objects.count() == 30
    # Every issue has its "raised" event; on average several more.
    assert IssueEvent.objects.filter(kind=EventKind.RAISED).count() == 600
    assert IssueEvent.objects.count() > 3 * 600


def test_every_status_and_colour_is_present_today(seeded):
    statuses = set(Issue.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    colours = set(Issue.objects.with_colour(TODAY).values_list("colour", flat=True))
    assert colours == {Colour.NONE, Colour.BLUE, Colour.YELLOW, Colour.RED}
    outcomes = set(Issue.objects.filter(status=Status.CLOSED).values_list("outcome", flat=True))
    assert Outcome.RESOLVED in outcomes and outcomes & {Outcome.DUPLICATE, Outcome.NOT_ACTIONABLE}
    assert Issue.objects.filter(scope=Scope.COMMON).exists()
    assert Issue.objects.filter(solved_on_site=True).exists()


def test_rows_satisfy_the_constraints_and_the_workflow_rules(seeded):
    # The database enforced the CheckConstraints on insert; check them again in Python,
    # together with what no constraint can say.
    next_due = dict(
        Milestone.objects.filter(done_on__isnull=True).values_list("issue").annotate(d=Min("due_on"))
    )
    members = set(Department.members.through.objects.values_list("department_id", "user_id"))
    for n, issue in enumerate(Issue.objects.all()):
        if n % 6 == 0:  # each check is a query: a sample is enough on top of the database's own
            issue.validate_constraints()
        if issue.solved_on_site:  # settled during the visit: nothing to triage
            assert issue.respond_by is None
        else:
            assert issue.respond_by == workdays.add_workdays(issue.raised_on, RESPONSE_WORKDAYS)
        expected = Issue(
            status=issue.status, deadline=issue.deadline, last_progress_on=issue.last_progress_on
        )
        expected.compute_supervision_dates(next_due.get(issue.pk))
        assert (issue.due_soon_from, issue.stalled_from) == (expected.due_soon_from, expected.stalled_from)
        if issue.owner_id:
            assert (issue.lead_department_id, issue.owner_id) in members
        assert issue.raised_on <= TODAY
        if issue.status in ACTIVE_STATUSES:
            assert issue.last_progress_on <= TODAY


def test_events_tell_the_story_of_the_status(seeded):
    kinds_by_issue: dict[int, list[str]] = {}
    last_status: dict[int, str] = {}
    for event in IssueEvent.objects.order_by("issue_id", "at", "id"):
        kinds_by_issue.setdefault(event.issue_id, []).append(event.kind)
        if event.status_to:
            last_status[event.issue_id] = event.status_to
    for issue in Issue.objects.all():
        kinds = kinds_by_issue[issue.pk]
        assert kinds[0] == EventKind.RAISED
        # The last status change logged is the issue's status (new issues log none).
        assert last_status.get(issue.pk, Status.NEW) == issue.status
        if issue.status == Status.CLOSED and issue.outcome == Outcome.RESOLVED and not issue.solved_on_site:
            assert (
                kinds.index(EventKind.ASSIGNED)
                < kinds.index(EventKind.RESOLVED)
                < kinds.index(EventKind.CONFIRMED)
            )


def test_roles_and_department_members(seeded):
    User = get_user_model()
    by_role = dict(User.objects.values_list("groups__name").annotate(n=Count("id")))
    assert set(by_role) == set(Role.values)
    staff = User.objects.filter(groups__name=Role.DEPARTMENT)
    assert all(Department.objects.filter(members=u).exists() for u in staff)
    assert all(d.members.exists() for d in Department.objects.all())
    # A few departments own most issues.
    counts = sorted(
        Issue.objects.exclude(lead_department=None).values_list("lead_department").annotate(n=Count("id")),
        key=lambda row: -row[1],
    )
    assert counts[0][1] > counts[-1][1] * 3


def test_refuses_to_seed_over_existing_issues(seeded):
    with pytest.raises(CommandError):
        call_command("seed_scale", "--scale", "0.002", verbosity=0)
    assert Issue.objects.count() == 600


def test_some_issues_have_a_co_handling_department_with_its_events(seeded):
    from issues.models import CoDepartment

    co = list(CoDepartment.objects.select_related("issue"))
    assert 5 <= len(co) <= 100  # about 6 % of the ~500 assigned issues
    assert all(c.department_id != c.issue.lead_department_id for c in co)
    added = set(
        IssueEvent.objects.filter(kind=EventKind.CO_DEPARTMENT_ADDED).values_list("issue_id", "department_id")
    )
    assert added == {(c.issue_id, c.department_id) for c in co}
    reported = [c for c in co if c.reported_on]
    assert reported and all(c.reported_on <= TODAY and c.report for c in reported)
    assert IssueEvent.objects.filter(kind=EventKind.CO_REPORTED).count() == len(reported)


def test_every_event_records_the_facts_the_dashboard_counts(seeded):
    """What `issues.history` writes on every event, also for the stories that end early (new,
    settled on the spot, closed at triage): where it counts, and the first triage."""
    individual = IssueEvent.objects.filter(scope=Scope.INDIVIDUAL)
    assert not individual.filter(category__isnull=True).exists()
    assert not individual.filter(district__isnull=True).exists()
    closed_at_triage = Issue.objects.filter(outcome__in=[Outcome.DUPLICATE, Outcome.NOT_ACTIONABLE])
    assert closed_at_triage.exists() and not closed_at_triage.filter(triaged_at__isnull=True).exists()
    triage = IssueEvent.objects.filter(issue__in=closed_at_triage, kind=EventKind.CLOSED)
    assert triage.count() == closed_at_triage.count() == triage.filter(triage=True).count()
    # Never triaged: only the new ones and those settled on the spot (nothing to triage).
    untriaged = Issue.objects.filter(scope=Scope.INDIVIDUAL, triaged_at__isnull=True)
    assert set(untriaged.exclude(status=Status.NEW).values_list("solved_on_site", flat=True)) == {True}
