"""The issue life cycle: every transition, allowed and forbidden, and the events it writes."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from issues import workflow
from issues.models import EventKind, Issue, IssueEvent, Outcome, Satisfaction, Status

from .factories import category
from .helpers import kinds


def test_full_life_cycle_writes_one_event_per_step(new_issue, coordinator, staff_a, dept_a, today):
    deadline = today + timedelta(days=30)
    workflow.assign(
        issue_id=new_issue.pk, by=coordinator, department=dept_a, owner=staff_a, deadline=deadline
    )
    workflow.start(issue_id=new_issue.pk, by=staff_a, note="已对接企业")
    workflow.post_progress(issue_id=new_issue.pk, by=staff_a, note="完成现场勘查")
    workflow.resolve(issue_id=new_issue.pk, by=staff_a, resolution="能评审批已办结")
    issue = workflow.confirm(
        issue_id=new_issue.pk,
        by=coordinator,
        contacted_on=today,
        reply_satisfaction=Satisfaction.SATISFIED,
        solution_satisfaction=Satisfaction.BASICALLY_SATISFIED,
    )
    assert issue.status == Status.CLOSED
    assert issue.outcome == Outcome.RESOLVED
    assert issue.original_deadline == deadline
    assert kinds(issue) == [
        EventKind.ASSIGNED,
        EventKind.STARTED,
        EventKind.PROGRESS,
        EventKind.RESOLVED,
        EventKind.FEEDBACK,
        EventKind.CONFIRMED,
    ]
    statuses = list(
        IssueEvent.objects.filter(issue=issue).exclude(status_to="").values_list("status_from", "status_to")
    )
    assert statuses == [
        ("new", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    # assign, start, progress, resolve, and the answer recorded and closed in one step
    assert issue.version == 6


@pytest.mark.parametrize(
    "step",
    [
        lambda i, u: workflow.start(issue_id=i.pk, by=u),
        lambda i, u: workflow.resolve(issue_id=i.pk, by=u, resolution="x"),
        lambda i, u: workflow.confirm(issue_id=i.pk, by=u),
        lambda i, u: workflow.reopen(issue_id=i.pk, by=u, reason="x"),
        lambda i, u: workflow.post_progress(issue_id=i.pk, by=u, note="x"),
    ],
)
def test_illegal_transitions_from_new_change_nothing(new_issue, coordinator, step):
    with pytest.raises(workflow.WorkflowError):
        step(new_issue, coordinator)
    new_issue.refresh_from_db()
    assert new_issue.status == Status.NEW
    assert new_issue.version == 1
    assert kinds(new_issue) == []


def test_department_cannot_assign_and_other_department_cannot_act(
    new_issue, coordinator, staff_a, staff_b, dept_a, today
):
    with pytest.raises(PermissionDenied):
        workflow.assign(issue_id=new_issue.pk, by=staff_a, department=dept_a, deadline=today)
    workflow.assign(
        issue_id=new_issue.pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=5)
    )
    with pytest.raises(PermissionDenied):
        workflow.post_progress(issue_id=new_issue.pk, by=staff_b, note="not ours")
    assert kinds(new_issue) == [EventKind.ASSIGNED]


def test_assign_needs_department_and_future_deadline(new_issue, coordinator, dept_a, today):
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(issue_id=new_issue.pk, by=coordinator, department=dept_a, deadline=None)
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(
            issue_id=new_issue.pk, by=coordinator, department=dept_a, deadline=today - timedelta(days=1)
        )
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(issue_id=new_issue.pk, by=coordinator, department=None, deadline=today)


def test_deadline_change_needs_reason_and_keeps_original(new_issue, coordinator, dept_a, today):
    first = today + timedelta(days=10)
    workflow.assign(issue_id=new_issue.pk, by=coordinator, department=dept_a, deadline=first)
    with pytest.raises(workflow.WorkflowError):
        workflow.change_deadline(
            issue_id=new_issue.pk, by=coordinator, deadline=first + timedelta(days=5), reason=" "
        )
    issue = workflow.change_deadline(
        issue_id=new_issue.pk, by=coordinator, deadline=first + timedelta(days=5), reason="需要省级部门会签"
    )
    assert (issue.deadline, issue.original_deadline) == (first + timedelta(days=5), first)
    event = IssueEvent.objects.get(issue=issue, kind=EventKind.DEADLINE_CHANGED)
    assert (event.deadline_from, event.deadline_to, event.note) == (
        first,
        first + timedelta(days=5),
        "需要省级部门会签",
    )


def test_stale_version_is_refused(new_issue, coordinator, dept_a, today):
    loaded_version = new_issue.version
    workflow.assign(
        issue_id=new_issue.pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=3)
    )
    with pytest.raises(workflow.ConflictError):
        workflow.edit_details(
            issue_id=new_issue.pk, by=coordinator, expected_version=loaded_version, title="改标题"
        )
    new_issue.refresh_from_db()
    assert new_issue.title != "改标题"


def test_close_without_resolving_needs_outcome_and_reason(new_issue, coordinator):
    with pytest.raises(workflow.WorkflowError):
        workflow.close(issue_id=new_issue.pk, by=coordinator, outcome=Outcome.DUPLICATE, reason="")
    with pytest.raises(workflow.WorkflowError):
        workflow.close(issue_id=new_issue.pk, by=coordinator, outcome=Outcome.RESOLVED, reason="x")
    issue = workflow.close(
        issue_id=new_issue.pk, by=coordinator, outcome=Outcome.DUPLICATE, reason="与#1重复"
    )
    assert (issue.status, issue.outcome) == (Status.CLOSED, Outcome.DUPLICATE)


def test_unsatisfied_enterprise_reopens_instead_of_closing(new_issue, coordinator, staff_a, dept_a, today):
    workflow.assign(
        issue_id=new_issue.pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=3)
    )
    workflow.resolve(issue_id=new_issue.pk, by=staff_a, resolution="已协调")
    with pytest.raises(workflow.WorkflowError):
        workflow.confirm(
            issue_id=new_issue.pk,
            by=coordinator,
            contacted_on=today,
            reply_satisfaction=Satisfaction.SATISFIED,
            solution_satisfaction=Satisfaction.UNSATISFIED,
        )
    assert Issue.objects.get(pk=new_issue.pk).status == Status.RESOLVED
    issue = workflow.reopen(issue_id=new_issue.pk, by=coordinator, reason="企业对解决结果不满意")
    assert issue.status == Status.IN_PROGRESS
    assert kinds(issue)[-1] == EventKind.REOPENED


def test_solved_on_site_is_closed_resolved(official, db):
    from .factories import VisitFactory

    visit = VisitFactory(created_by=official)
    issue = workflow.raise_issue(
        by=official,
        enterprise=visit.enterprise,
        visit=visit,
        source="visit",
        title="电子税务局事项",
        category=category("tax"),
        solved_on_site=True,
        resolution="现场开通",
    )
    assert (issue.status, issue.outcome, issue.solved_on_site) == (Status.CLOSED, Outcome.RESOLVED, True)
    assert kinds(issue) == [EventKind.RAISED, EventKind.RESOLVED, EventKind.CONFIRMED]
    assert IssueEvent.objects.get(issue=issue, kind=EventKind.RESOLVED).on_the_spot


def test_extension_request_approved_keeps_original(new_issue, coordinator, staff_a, dept_a, today):
    first = today + timedelta(days=3)
    workflow.assign(issue_id=new_issue.pk, by=coordinator, department=dept_a, deadline=first)
    request = workflow.request_extension(
        issue_id=new_issue.pk, by=staff_a, deadline=first + timedelta(days=20), reason="等待省里批复"
    )
    with pytest.raises(PermissionDenied):
        workflow.decide_extension(request_id=request.pk, by=staff_a, approve=True)
    workflow.decide_extension(request_id=request.pk, by=coordinator, approve=True)
    issue = Issue.objects.get(pk=new_issue.pk)
    assert (issue.deadline, issue.original_deadline) == (first + timedelta(days=20), first)
    assert kinds(issue)[-2:] == [EventKind.EXTENSION_REQUESTED, EventKind.EXTENSION_APPROVED]


def test_database_refuses_invalid_states(new_issue):
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=new_issue.pk).update(status=Status.ASSIGNED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=new_issue.pk).update(status="bogus")
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=new_issue.pk).update(status=Status.CLOSED)


def test_event_log_is_append_only(new_issue, coordinator):
    workflow.close(
        issue_id=new_issue.pk, by=coordinator, outcome=Outcome.NOT_ACTIONABLE, reason="不属政府职责"
    )
    event = IssueEvent.objects.get(issue=new_issue)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        IssueEvent.objects.filter(pk=event.pk).update(note="rewritten")
    from django.db import DatabaseError, connection

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE issues_issueevent SET note = 'rewritten' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM issues_issueevent WHERE id = %s", [event.pk])
    assert IssueEvent.objects.get(pk=event.pk).note == event.note
