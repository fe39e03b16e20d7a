"""Who sees which issue and may do what: every role, both sides of every boundary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from issues import workflow
from issues.models import Issue
from issues.permissions import (
    CO_DEPARTMENT_ACTIONS,
    LEAD_DEPARTMENT_ACTIONS,
    Action,
    can,
    can_raise_issues,
    visible_issues,
)

from .factories import IssueFactory, UserFactory, VisitFactory

ALL_ACTIONS = set(Action.values)
# Theirs alone: the handling department's, and the enterprise's own "add information".
DEPARTMENT_ONLY = {Action.OBJECT, Action.REQUEST_EXTENSION, Action.CO_REPORT, Action.ADD_INFORMATION}


@pytest.fixture
def cast(db, coordinator, leader, official, staff_a, staff_b, admin_user, dept_a, dept_b):
    """Issues around department A and department B, raised by two different officials.

    - led_a: led by A, owned by staff_a
    - led_b: led by B, nothing to do with A
    - co_a: led by B, co-handled by A
    - owned_by_a: led by B but owned by staff_a (who has since left B)
    - raised: raised by `official` on their own visit (new)
    - on_own_visit: on `official`'s visit, recorded by the coordinator
    - other_official: raised by another official on their visit
    """
    deadline = timezone.localdate() + timedelta(days=20)
    other = UserFactory(username="other_official", role="official")

    def assigned(department, owner=None, raised_by=official):
        issue = IssueFactory(raised_by=raised_by, visit__created_by=raised_by)
        workflow.assign(
            issue_id=issue.pk, by=coordinator, department=department, owner=owner, deadline=deadline
        )
        return Issue.objects.get(pk=issue.pk)

    led_a = assigned(dept_a, staff_a, raised_by=other)
    led_b = assigned(dept_b, staff_b, raised_by=other)
    co_a = assigned(dept_b, raised_by=other)
    workflow.add_co_department(issue_id=co_a.pk, by=coordinator, department=dept_a, report_by=deadline)
    dept_b.members.add(staff_a)
    owned_by_a = assigned(dept_b, staff_a, raised_by=other)
    dept_b.members.remove(staff_a)
    raised = IssueFactory(raised_by=official, visit__created_by=official)
    own_visit = VisitFactory(created_by=official)
    on_own_visit = IssueFactory(enterprise=own_visit.enterprise, visit=own_visit, raised_by=coordinator)
    other_official = IssueFactory(raised_by=other, visit__created_by=other)
    return {
        "led_a": led_a,
        "led_b": led_b,
        "co_a": co_a,
        "owned_by_a": owned_by_a,
        "raised": raised,
        "on_own_visit": on_own_visit,
        "other_official": other_official,
    }


def fresh(user):
    """A user as loaded for a new request: no cached roles or departments."""
    return type(user).objects.get(pk=user.pk)


def visible_names(user, cast):
    ids = set(visible_issues(fresh(user)).values_list("pk", flat=True))
    return {name for name, issue in cast.items() if issue.pk in ids}


# -- visible_issues --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "leader", "admin_user"])
def test_coordinators_leaders_and_administrators_see_every_issue(who, cast, request):
    user = request.getfixturevalue(who)
    assert visible_names(user, cast) == set(cast)
    assert visible_issues(fresh(user)).count() == Issue.objects.count()


def test_department_staff_see_led_co_handled_and_owned_issues_only(cast, staff_a):
    assert visible_names(staff_a, cast) == {"led_a", "co_a", "owned_by_a"}


def test_other_department_sees_its_own_and_not_department_a(cast, staff_b):
    assert visible_names(staff_b, cast) == {"led_b", "co_a", "owned_by_a"}


def test_official_sees_issues_raised_or_from_own_visits(cast, official):
    assert visible_names(official, cast) == {"raised", "on_own_visit"}


def test_inactive_user_sees_nothing_and_may_do_nothing(cast, staff_a, coordinator):
    for user in (staff_a, coordinator):
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert visible_names(user, cast) == set()
        assert not any(can(fresh(user), a, cast["led_a"]) for a in Action.values)


def test_user_without_a_role_sees_nothing_even_in_a_department(cast, dept_a):
    nobody = UserFactory(username="no_role", department=dept_a)
    assert visible_names(nobody, cast) == set()
    assert not can(fresh(nobody), Action.PROGRESS, cast["led_a"])


def test_anonymous_sees_nothing(cast):
    from django.contrib.auth.models import AnonymousUser

    assert visible_issues(AnonymousUser()).count() == 0
    assert not can(AnonymousUser(), Action.VIEW, cast["led_a"])


def test_manager_visible_to_is_the_same_queryset(cast, staff_a):
    assert set(Issue.objects.visible_to(fresh(staff_a))) == set(visible_issues(fresh(staff_a)))


# -- can(user, action, issue) ------------------------------------------------------------------


def allowed(user, issue) -> set[str]:
    user = fresh(user)
    return {a for a in Action.values if can(user, a, issue)}


@pytest.mark.parametrize("who", ["coordinator", "admin_user"])
def test_coordinators_do_everything_except_what_belongs_to_the_handling_department(who, cast, request):
    user = request.getfixturevalue(who)
    for name in ("led_a", "led_b", "co_a", "raised"):
        assert allowed(user, cast[name]) == ALL_ACTIONS - DEPARTMENT_ONLY, name


def test_coordinator_in_the_lead_department_may_also_object_and_ask_for_more_time(cast, coordinator, dept_a):
    dept_a.members.add(coordinator)
    assert allowed(coordinator, cast["led_a"]) == ALL_ACTIONS
    assert allowed(coordinator, cast["led_b"]) == ALL_ACTIONS - DEPARTMENT_ONLY


def test_leader_only_reads(cast, leader):
    for issue in cast.values():
        assert allowed(leader, issue) == {Action.VIEW}


def test_lead_department_staff_on_own_and_other_issues(cast, staff_a, staff_b):
    assert allowed(staff_a, cast["led_a"]) == set(LEAD_DEPARTMENT_ACTIONS)
    assert allowed(staff_a, cast["led_b"]) == set()
    assert allowed(staff_b, cast["led_b"]) == set(LEAD_DEPARTMENT_ACTIONS)
    assert allowed(staff_b, cast["led_a"]) == set()
    # What a department never does, even on its own issue: triage, close, confirm, reopen.
    for action in (
        Action.ASSIGN,
        Action.CLOSE,
        Action.CONFIRM,
        Action.REOPEN,
        Action.CHANGE_DEADLINE,
        Action.CHANGE_OWNER,
        Action.DECIDE_EXTENSION,
        Action.DECIDE_OBJECTION,
        Action.MERGE,
        Action.EDIT,
        Action.FEEDBACK,
        Action.ADD_CO_DEPARTMENT,
    ):
        assert not can(fresh(staff_a), action, cast["led_a"]), action


def test_co_handling_department_may_view_progress_and_report_in_only(cast, staff_a, staff_b):
    assert allowed(staff_a, cast["co_a"]) == set(CO_DEPARTMENT_ACTIONS)
    # the lead department of that issue does the lead's part
    assert allowed(staff_b, cast["co_a"]) == set(LEAD_DEPARTMENT_ACTIONS)


def test_owner_keeps_acting_on_an_issue_owned_after_leaving_its_department(cast, staff_a):
    assert allowed(staff_a, cast["owned_by_a"]) == set(LEAD_DEPARTMENT_ACTIONS)


def test_official_may_only_view_what_they_see(cast, official):
    assert allowed(official, cast["raised"]) == {Action.VIEW}
    assert allowed(official, cast["on_own_visit"]) == {Action.VIEW}
    assert allowed(official, cast["other_official"]) == set()
    assert allowed(official, cast["led_a"]) == set()


def test_view_permission_agrees_with_the_visible_queryset(
    cast, coordinator, leader, official, staff_a, staff_b
):
    for user in (coordinator, leader, official, staff_a, staff_b):
        visible = set(visible_issues(fresh(user)).values_list("pk", flat=True))
        for issue in cast.values():
            assert can(fresh(user), Action.VIEW, issue) == (issue.pk in visible), (user, issue)


def test_who_may_raise_issues(coordinator, leader, official, staff_a, admin_user):
    assert can_raise_issues(fresh(official))
    assert can_raise_issues(fresh(coordinator))
    assert can_raise_issues(fresh(admin_user))
    assert not can_raise_issues(fresh(staff_a))
    assert not can_raise_issues(fresh(leader))


def test_allowed_actions_combine_role_and_status(cast, staff_a, coordinator):
    issue = cast["led_a"]  # assigned
    assert set(workflow.allowed_actions(fresh(staff_a), issue)) == {
        Action.VIEW,
        Action.START,
        Action.PROGRESS,
        Action.RESOLVE,
        Action.REQUEST_EXTENSION,
        Action.OBJECT,
        Action.ADD_MILESTONE,
        Action.COMPLETE_MILESTONE,
    }
    new = cast["raised"]
    coordinator_actions = set(workflow.allowed_actions(fresh(coordinator), new))
    assert {Action.ASSIGN, Action.CLOSE, Action.MERGE} <= coordinator_actions
    assert not coordinator_actions & {Action.RESOLVE, Action.START, Action.CONFIRM, Action.REOPEN}
