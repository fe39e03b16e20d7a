"""The rest of an issue's life: objections, co-handling, common issues, milestones,
reopening, owners and concurrent edits. (The main transitions are in test_workflow.py.)"""

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from issues import workdays, workflow
from issues.models import (
    CoDepartment,
    Colour,
    EventKind,
    Issue,
    IssueEvent,
    Milestone,
    Objection,
    Outcome,
    RequestStatus,
    Satisfaction,
    Scope,
    Status,
)

from .factories import IssueFactory, UserFactory, category
from .helpers import kinds


@pytest.fixture
def deadline(today):
    return today + timedelta(days=30)


def assigned_workdays_ago(issue, n):
    """Move the assignment time back n working days (as if it had happened then)."""
    day = workdays.add_workdays(timezone.localdate(), -n)
    Issue.objects.filter(pk=issue.pk).update(
        assigned_at=timezone.make_aware(datetime.combine(day, time(10, 0)))
    )


# -- objections ------------------------------------------------------------------------------


def test_objection_on_the_day_of_assignment_is_accepted(issue_a, staff_a, dept_b):
    objection = workflow.object_to_assignment(
        issue_id=issue_a.pk, by=staff_a, reason="属于税务事项", suggested_department=dept_b
    )
    assert (objection.status, objection.department, objection.suggested_department) == (
        RequestStatus.PENDING,
        issue_a.lead_department,
        dept_b,
    )
    assert kinds(issue_a)[-1] == EventKind.OBJECTION_RAISED


def test_objection_one_working_day_after_assignment_is_still_accepted(issue_a, staff_a):
    assigned_workdays_ago(issue_a, 1)
    workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="不属于本单位职责")
    assert Objection.objects.filter(issue=issue_a, status=RequestStatus.PENDING).count() == 1


def test_objection_after_one_working_day_is_refused(issue_a, staff_a):
    assigned_workdays_ago(issue_a, 2)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="太晚了")
    assert caught.value.code == "too_late"
    assert not Objection.objects.filter(issue=issue_a).exists()
    assert EventKind.OBJECTION_RAISED not in kinds(issue_a)


def test_objection_needs_a_reason_and_only_the_lead_department_may_object(issue_a, staff_a, staff_b):
    with pytest.raises(workflow.WorkflowError):
        workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="  ")
    with pytest.raises(PermissionDenied):
        workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_b, reason="不是我们的")
    workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="不是我们的")
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="再说一次")
    assert caught.value.code == "pending"


def test_objection_only_while_assigned(issue_a, staff_a):
    workflow.start(issue_id=issue_a.pk, by=staff_a)
    with pytest.raises(workflow.WorkflowError):
        workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="已开始办理后不能异议")


def test_upheld_objection_reassigns_to_the_other_department(issue_a, staff_a, staff_b, coordinator, dept_b):
    objection = workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="税务事项")
    with pytest.raises(PermissionDenied):
        workflow.decide_objection(objection_id=objection.pk, by=staff_a, uphold=True, department=dept_b)
    workflow.decide_objection(
        objection_id=objection.pk, by=coordinator, uphold=True, department=dept_b, owner=staff_b, note="同意"
    )
    issue = Issue.objects.get(pk=issue_a.pk)
    assert (issue.lead_department, issue.owner, issue.status) == (dept_b, staff_b, Status.ASSIGNED)
    assert Objection.objects.get(pk=objection.pk).status == RequestStatus.APPROVED
    event = IssueEvent.objects.filter(issue=issue).last()
    assert (event.kind, event.department, event.owner) == (EventKind.OBJECTION_UPHELD, dept_b, staff_b)
    # department A no longer sees it, department B does
    assert not Issue.objects.visible_to(type(staff_a).objects.get(pk=staff_a.pk)).filter(pk=issue.pk).exists()
    assert Issue.objects.visible_to(type(staff_b).objects.get(pk=staff_b.pk)).filter(pk=issue.pk).exists()


def test_upholding_without_a_new_department_changes_nothing(issue_a, staff_a, coordinator, dept_a):
    objection = workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="税务事项")
    with pytest.raises(workflow.WorkflowError):
        workflow.decide_objection(objection_id=objection.pk, by=coordinator, uphold=True, department=None)
    with pytest.raises(workflow.WorkflowError):
        workflow.decide_objection(objection_id=objection.pk, by=coordinator, uphold=True, department=dept_a)
    assert Objection.objects.get(pk=objection.pk).status == RequestStatus.PENDING
    assert Issue.objects.get(pk=issue_a.pk).lead_department == dept_a


def test_rejected_objection_keeps_the_assignment(issue_a, staff_a, coordinator, dept_a):
    objection = workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="税务事项")
    workflow.decide_objection(objection_id=objection.pk, by=coordinator, uphold=False, note="仍由贵单位牵头")
    issue = Issue.objects.get(pk=issue_a.pk)
    assert (issue.lead_department, issue.owner) == (dept_a, staff_a)
    assert Objection.objects.get(pk=objection.pk).status == RequestStatus.REFUSED
    assert kinds(issue)[-1] == EventKind.OBJECTION_REJECTED
    with pytest.raises(workflow.WorkflowError):
        workflow.decide_objection(objection_id=objection.pk, by=coordinator, uphold=False)


# -- co-handling departments ---------------------------------------------------------------------


def test_co_department_is_added_and_reports_in(issue_a, coordinator, staff_b, dept_b, today):
    co = workflow.add_co_department(
        issue_id=issue_a.pk, by=coordinator, department=dept_b, report_by=today + timedelta(days=5)
    )
    assert (co.department, co.reported_on) == (dept_b, None)
    staff_b = type(staff_b).objects.get(pk=staff_b.pk)
    assert Issue.objects.visible_to(staff_b).filter(pk=issue_a.pk).exists()
    with pytest.raises(PermissionDenied):
        workflow.resolve(issue_id=issue_a.pk, by=staff_b, resolution="协办单位不能办结")
    workflow.co_report_in(issue_id=issue_a.pk, by=staff_b, report="已完成税务核查")
    co.refresh_from_db()
    assert (co.reported_on, co.report) == (today, "已完成税务核查")
    event = IssueEvent.objects.filter(issue=issue_a).last()
    assert (event.kind, event.department, event.note) == (EventKind.CO_REPORTED, dept_b, "已完成税务核查")
    assert Issue.objects.get(pk=issue_a.pk).last_progress_on == today
    with pytest.raises(workflow.WorkflowError):
        workflow.co_report_in(issue_id=issue_a.pk, by=staff_b, report="再报一次")


def test_co_department_rules(issue_a, coordinator, staff_a, dept_a, dept_b, today):
    with pytest.raises(workflow.WorkflowError):
        workflow.add_co_department(issue_id=issue_a.pk, by=coordinator, department=dept_a, report_by=today)
    with pytest.raises(PermissionDenied):
        workflow.add_co_department(issue_id=issue_a.pk, by=staff_a, department=dept_b, report_by=today)
    workflow.add_co_department(issue_id=issue_a.pk, by=coordinator, department=dept_b, report_by=today)
    with pytest.raises(workflow.WorkflowError):
        workflow.add_co_department(issue_id=issue_a.pk, by=coordinator, department=dept_b, report_by=today)
    assert CoDepartment.objects.filter(issue=issue_a).count() == 1
    # the lead department is not a co-handler: it cannot report in as one
    with pytest.raises(PermissionDenied):
        workflow.co_report_in(issue_id=issue_a.pk, by=staff_a, report="x")


# -- common issues --------------------------------------------------------------------------------


@pytest.fixture
def common(coordinator):
    return workflow.create_common_issue(
        by=coordinator, title="用电增容报装周期长", category=category("energy")
    )


def test_only_coordinators_create_common_issues(official, staff_a, common):
    assert (common.scope, common.enterprise, common.status) == (Scope.COMMON, None, Status.NEW)
    for user in (official, staff_a):
        with pytest.raises(PermissionDenied):
            workflow.create_common_issue(by=user, title="x", category=category("energy"))


def test_merge_links_issues_to_the_common_issue(common, coordinator, official, issue_a):
    other = IssueFactory(raised_by=official, visit__created_by=official)
    merged = workflow.merge_into_common(
        issue_ids=[issue_a.pk, other.pk], common_issue_id=common.pk, by=coordinator, note="同类问题"
    )
    assert {i.pk for i in merged} == {issue_a.pk, other.pk}
    assert set(common.linked_issues.values_list("pk", flat=True)) == {issue_a.pk, other.pk}
    assert kinds(other) == [EventKind.MERGED]
    assert Issue.objects.get(pk=issue_a.pk).status == Status.ASSIGNED  # merging changes no status


def test_merge_refuses_non_common_targets_and_common_sources(common, coordinator, official, issue_a, staff_a):
    other = IssueFactory(raised_by=official, visit__created_by=official)
    with pytest.raises(workflow.WorkflowError):
        workflow.merge_into_common(issue_ids=[other.pk], common_issue_id=issue_a.pk, by=coordinator)
    second = workflow.create_common_issue(by=coordinator, title="另一个共性问题", category=category("tax"))
    with pytest.raises(workflow.WorkflowError):
        workflow.merge_into_common(issue_ids=[second.pk], common_issue_id=common.pk, by=coordinator)
    with pytest.raises(PermissionDenied):
        workflow.merge_into_common(issue_ids=[issue_a.pk], common_issue_id=common.pk, by=staff_a)
    assert Issue.objects.get(pk=other.pk).common_issue is None


def test_resolving_a_common_issue_resolves_every_linked_issue(
    common, coordinator, official, issue_a, staff_b, dept_b, deadline
):
    unassigned = IssueFactory(raised_by=official, visit__created_by=official)
    closed = IssueFactory(raised_by=official, visit__created_by=official)
    workflow.merge_into_common(
        issue_ids=[issue_a.pk, unassigned.pk, closed.pk], common_issue_id=common.pk, by=coordinator
    )
    workflow.close(issue_id=closed.pk, by=coordinator, outcome=Outcome.DUPLICATE, reason="重复")
    workflow.assign(issue_id=common.pk, by=coordinator, department=dept_b, owner=staff_b, deadline=deadline)
    # The linked issues belong to other departments: their lead may not resolve them all.
    with pytest.raises(PermissionDenied):
        workflow.resolve(
            issue_id=common.pk, by=staff_b, resolution="出台统一压减时限措施", resolve_linked=True
        )
    workflow.resolve(
        issue_id=common.pk, by=coordinator, resolution="出台统一压减时限措施", resolve_linked=True
    )

    for pk in (common.pk, issue_a.pk, unassigned.pk):
        issue = Issue.objects.get(pk=pk)
        assert issue.status == Status.RESOLVED, pk
        assert issue.resolution and issue.resolved_at
    linked = Issue.objects.get(pk=unassigned.pk)
    # a linked issue that was still new is assigned first, so its record stays complete
    assert (linked.lead_department, linked.deadline, linked.original_deadline) == (dept_b, deadline, deadline)
    assert kinds(linked) == [EventKind.MERGED, EventKind.ASSIGNED, EventKind.RESOLVED]
    assert f"#{common.pk}" in IssueEvent.objects.filter(issue=linked).last().note
    # the already assigned one keeps its own department; the closed one is left alone
    assert Issue.objects.get(pk=issue_a.pk).lead_department != dept_b
    assert Issue.objects.get(pk=closed.pk).status == Status.CLOSED


def test_resolving_a_common_issue_without_the_option_leaves_linked_issues(
    common, coordinator, issue_a, staff_b, dept_b, deadline
):
    workflow.merge_into_common(issue_ids=[issue_a.pk], common_issue_id=common.pk, by=coordinator)
    workflow.assign(issue_id=common.pk, by=coordinator, department=dept_b, owner=staff_b, deadline=deadline)
    workflow.resolve(issue_id=common.pk, by=staff_b, resolution="政策已出台")
    assert Issue.objects.get(pk=issue_a.pk).status == Status.ASSIGNED


# -- milestones -------------------------------------------------------------------------------------


def test_milestones_are_added_and_completed(issue_a, staff_a, staff_b, today):
    milestone = workflow.add_milestone(
        issue_id=issue_a.pk, by=staff_a, title="完成现场踏勘", due_on=today + timedelta(days=5)
    )
    with pytest.raises(PermissionDenied):
        workflow.complete_milestone(milestone_id=milestone.pk, by=staff_b)
    workflow.complete_milestone(milestone_id=milestone.pk, by=staff_a, note="按期完成")
    assert Milestone.objects.get(pk=milestone.pk).done_on == today
    assert kinds(issue_a)[-2:] == [EventKind.MILESTONE_ADDED, EventKind.MILESTONE_DONE]
    with pytest.raises(workflow.WorkflowError):
        workflow.complete_milestone(milestone_id=milestone.pk, by=staff_a)
    with pytest.raises(workflow.WorkflowError):
        workflow.add_milestone(issue_id=issue_a.pk, by=staff_a, title=" ", due_on=today)


def test_a_late_milestone_turns_the_issue_yellow_until_it_is_done(issue_a, staff_a, today):
    milestone = workflow.add_milestone(
        issue_id=issue_a.pk, by=staff_a, title="出具论证意见", due_on=today - timedelta(days=1)
    )
    issue = Issue.objects.get(pk=issue_a.pk)
    assert issue.stalled_from == today
    assert Issue.objects.with_colour(today).get(pk=issue.pk).colour == Colour.YELLOW
    assert Issue.objects.with_colour_filter(Colour.YELLOW, today).filter(pk=issue.pk).exists()
    workflow.complete_milestone(milestone_id=milestone.pk, by=staff_a)
    issue = Issue.objects.get(pk=issue_a.pk)
    assert Issue.objects.with_colour(today).get(pk=issue.pk).colour == Colour.NONE
    assert issue.stalled_from == workdays.add_workdays(today, 10)


# -- reopening ----------------------------------------------------------------------------------------


def closed_resolved(issue_a, staff_a, coordinator, today):
    workflow.resolve(issue_id=issue_a.pk, by=staff_a, resolution="已办结")
    return workflow.confirm(
        issue_id=issue_a.pk,
        by=coordinator,
        contacted_on=today,
        reply_satisfaction=Satisfaction.SATISFIED,
        solution_satisfaction=Satisfaction.SATISFIED,
    )


def test_coordinator_reopens_a_closed_issue(issue_a, staff_a, coordinator, today):
    issue = closed_resolved(issue_a, staff_a, coordinator, today)
    assert (issue.status, issue.outcome) == (Status.CLOSED, Outcome.RESOLVED)
    with pytest.raises(PermissionDenied):
        workflow.reopen(issue_id=issue.pk, by=staff_a, reason="我们想重开")
    with pytest.raises(workflow.WorkflowError):
        workflow.reopen(issue_id=issue.pk, by=coordinator, reason="")
    new_deadline = today + timedelta(days=40)
    issue = workflow.reopen(
        issue_id=issue.pk, by=coordinator, reason="企业再次反映未解决", deadline=new_deadline
    )
    stored = Issue.objects.get(pk=issue.pk)
    assert (stored.status, stored.outcome, stored.closed_at, stored.resolved_at) == (
        Status.IN_PROGRESS,
        "",
        None,
        None,
    )
    assert stored.deadline == new_deadline
    assert stored.original_deadline == today + timedelta(days=30)
    event = IssueEvent.objects.filter(issue=stored).last()
    assert (event.kind, event.status_from, event.status_to, event.deadline_to) == (
        EventKind.REOPENED,
        Status.CLOSED,
        Status.IN_PROGRESS,
        new_deadline,
    )
    # and it can be worked to closure again
    workflow.resolve(issue_id=stored.pk, by=staff_a, resolution="彻底解决")
    assert Issue.objects.get(pk=stored.pk).status == Status.RESOLVED


def test_reopening_a_never_assigned_duplicate_returns_it_to_new(new_issue, coordinator):
    workflow.close(issue_id=new_issue.pk, by=coordinator, outcome=Outcome.DUPLICATE, reason="误判为重复")
    issue = workflow.reopen(issue_id=new_issue.pk, by=coordinator, reason="并非重复")
    assert (issue.status, issue.outcome) == (Status.NEW, "")


def test_reopening_a_solved_on_site_issue_clears_the_on_site_flag(official, coordinator):
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
    issue = workflow.reopen(issue_id=issue.pk, by=coordinator, reason="企业反映并未开通")
    assert (issue.status, issue.solved_on_site) == (Status.NEW, False)


# -- owners -------------------------------------------------------------------------------------------


def test_change_owner_must_be_a_member_of_the_lead_department(issue_a, coordinator, staff_b, dept_a):
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.change_owner(issue_id=issue_a.pk, by=coordinator, owner=staff_b, reason="换人")
    assert "owner" in caught.value.message_dict
    colleague = UserFactory(username="staff_a2", role="department", department=dept_a)
    with pytest.raises(workflow.WorkflowError):
        workflow.change_owner(issue_id=issue_a.pk, by=coordinator, owner=colleague, reason="")
    workflow.change_owner(issue_id=issue_a.pk, by=coordinator, owner=colleague, reason="原经办人调岗")
    assert Issue.objects.get(pk=issue_a.pk).owner == colleague
    event = IssueEvent.objects.filter(issue=issue_a).last()
    assert (event.kind, event.owner, event.note) == (EventKind.OWNER_CHANGED, colleague, "原经办人调岗")


def test_assign_refuses_an_owner_outside_the_department(new_issue, coordinator, dept_a, staff_b, deadline):
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(
            issue_id=new_issue.pk, by=coordinator, department=dept_a, owner=staff_b, deadline=deadline
        )
    assert Issue.objects.get(pk=new_issue.pk).status == Status.NEW


# -- concurrent changes -----------------------------------------------------------------------------------


def test_two_people_acting_on_the_same_version_one_is_refused(issue_a, staff_a, coordinator, deadline):
    seen_by_both = Issue.objects.get(pk=issue_a.pk).version
    workflow.post_progress(
        issue_id=issue_a.pk, by=staff_a, note="第一人的进展", expected_version=seen_by_both
    )
    events_before = IssueEvent.objects.filter(issue=issue_a).count()
    with pytest.raises(workflow.ConflictError):
        workflow.change_deadline(
            issue_id=issue_a.pk,
            by=coordinator,
            deadline=deadline + timedelta(days=10),
            reason="第二人的修改",
            expected_version=seen_by_both,
        )
    stored = Issue.objects.get(pk=issue_a.pk)
    assert stored.deadline == deadline
    assert stored.version == seen_by_both + 1
    assert IssueEvent.objects.filter(issue=issue_a).count() == events_before
    # reloading gives the current version, and then the change goes through
    workflow.change_deadline(
        issue_id=issue_a.pk,
        by=coordinator,
        deadline=deadline + timedelta(days=10),
        reason="第二人的修改",
        expected_version=stored.version,
    )
    assert Issue.objects.get(pk=issue_a.pk).deadline == deadline + timedelta(days=10)


def test_a_stale_page_cannot_resolve(issue_a, coordinator, staff_a):
    stale = issue_a.version - 1
    with pytest.raises(workflow.ConflictError):
        workflow.resolve(issue_id=issue_a.pk, by=staff_a, resolution="过期页面", expected_version=stale)
    assert Issue.objects.get(pk=issue_a.pk).status == Status.ASSIGNED
