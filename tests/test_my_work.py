""" "My work" (the home page): per role, what each user sees first and the counts on top."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from issues import workflow
from issues.models import CoDepartment, ExtensionRequest, Issue, Objection
from visits.models import VisitStatus

from .factories import OfficialFactory, UserFactory, VisitFactory
from .helpers import assign, login, raise_issue

TODAY = timezone.localdate


def assigned(official, coordinator, dept, owner=None, days=30, **kwargs):
    return assign(raise_issue(official, **kwargs), coordinator, dept, owner, days)


def set_colour(issue, colour):
    today = TODAY()
    if colour == "red":
        Issue.objects.filter(pk=issue.pk).update(deadline=today - timedelta(days=2))
    elif colour == "blue":
        Issue.objects.filter(pk=issue.pk).update(
            deadline=today + timedelta(days=2), due_soon_from=today, stalled_from=None
        )
    elif colour == "yellow":
        Issue.objects.filter(pk=issue.pk).update(stalled_from=today - timedelta(days=1), due_soon_from=None)
    return issue


def home(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


@pytest.fixture
def board(official, coordinator, dept_a, dept_b, staff_a, staff_b):
    """dept A: one issue of each colour plus an on-track one; dept B: one red issue."""
    issues = {
        "rest": assigned(official, coordinator, dept_a, staff_a, days=90, title="按期推进问题"),
        "yellow": set_colour(assigned(official, coordinator, dept_a, days=60, title="滞后问题"), "yellow"),
        "blue": set_colour(assigned(official, coordinator, dept_a, title="临期问题"), "blue"),
        "red": set_colour(assigned(official, coordinator, dept_a, title="逾期问题"), "red"),
        "b_red": set_colour(assigned(official, coordinator, dept_b, staff_b, title="乙单位逾期"), "red"),
        "new": raise_issue(official, title="待分派问题"),
    }
    return issues


@pytest.mark.parametrize("role", ["official", "coordinator", "leader", "staff_a", "staff_b", "admin_user"])
def test_my_work_renders_for_every_role(request, client, board, role):
    response = home(login(client, request.getfixturevalue(role)))
    assert "My work" in response.content.decode()


def test_department_staff_sees_red_yellow_blue_then_the_rest(client, board, staff_a):
    # The supervision colours' own precedence (red > yellow > blue), as in the issue list.
    response = home(login(client, staff_a))
    ids = [i.pk for i in response.context["issues"]]
    assert ids == [board[k].pk for k in ("red", "yellow", "blue", "rest")]
    counts = response.context["counts"]
    assert (counts["open"], counts["overdue"], counts["due_soon"], counts["yellow"]) == (4, 1, 1, 1)
    body = response.content.decode()
    assert "乙单位逾期" not in body and "待分派问题" not in body


def test_counts_are_shown_on_top(client, board, staff_a):
    body = home(login(client, staff_a)).content.decode()
    assert 'id="count-open">4<' in body
    assert 'id="count-overdue">1<' in body
    assert 'id="count-due-soon">1<' in body
    assert 'id="count-behind">1<' in body


def test_other_department_sees_only_its_own(client, board, staff_b):
    response = home(login(client, staff_b))
    assert [i.pk for i in response.context["issues"]] == [board["b_red"].pk]
    assert "逾期问题" not in response.content.decode().replace("乙单位逾期", "")


def test_co_department_report_in_is_waiting(client, board, coordinator, staff_b, dept_b):
    workflow.add_co_department(
        issue_id=board["rest"].pk, by=coordinator, department=dept_b, report_by=TODAY() + timedelta(days=3)
    )
    response = home(login(client, staff_b))
    assert [c.issue_id for c in response.context["co_reports"]] == [board["rest"].pk]
    assert 'id="count-co-reports">1<' in response.content.decode()
    # Once reported in, it is no longer waiting.
    workflow.co_report_in(issue_id=board["rest"].pk, by=staff_b, report="已完成")
    assert CoDepartment.objects.get(issue=board["rest"]).reported_on == TODAY()
    assert home(client).context["co_reports"] == []


def test_coordinator_sees_triage_queues(client, board, coordinator, staff_a):
    workflow.request_extension(
        issue_id=board["rest"].pk, by=staff_a, deadline=TODAY() + timedelta(days=120), reason="需延期"
    )
    workflow.object_to_assignment(issue_id=board["yellow"].pk, by=staff_a, reason="不属本单位")
    Issue.objects.filter(pk=board["new"].pk).update(respond_by=TODAY() - timedelta(days=1))
    response = home(login(client, coordinator))
    assert [i.pk for i in response.context["new_issues"]] == [board["new"].pk]
    assert [r.pk for r in response.context["extension_requests"]] == [ExtensionRequest.objects.get().pk]
    assert [o.pk for o in response.context["objections"]] == [Objection.objects.get().pk]
    body = response.content.decode()
    assert "待分派问题" in body
    assert f'text-danger fw-semibold">assign by {(TODAY() - timedelta(days=1)).isoformat()}<' in body
    # two past their deadline, and the new one past its 2-working-day triage limit (交办超时)
    assert response.context["city_counts"]["overdue"] == 3


def test_department_staff_sees_no_triage_queues(client, board, staff_a):
    response = home(login(client, staff_a))
    assert "new_issues" not in response.context
    assert 'id="new-issues"' not in response.content.decode()


def test_leader_sees_city_counts_and_dashboard_link(client, board, leader):
    response = home(login(client, leader))
    counts = response.context["city_counts"]
    assert (counts["open"], counts["overdue"], counts["untriaged"]) == (6, 2, 1)
    body = response.content.decode()
    assert reverse("dashboard:index") in body
    assert 'id="new-issues"' not in body


def test_official_sees_planned_visits_upcoming_first(client, official):
    me = OfficialFactory(user=official)
    someone = UserFactory(username="official9", role="official")
    today = TODAY()
    later = VisitFactory(
        created_by=someone,
        lead_officials=[me],
        status=VisitStatus.PLANNED,
        visited_on=today + timedelta(days=9),
    )
    soon = VisitFactory(created_by=official, status=VisitStatus.PLANNED, visited_on=today + timedelta(days=1))
    past = VisitFactory(created_by=official, status=VisitStatus.PLANNED, visited_on=today - timedelta(days=3))
    VisitFactory(created_by=official, status=VisitStatus.COMPLETED)
    VisitFactory(created_by=someone, status=VisitStatus.PLANNED)  # not mine
    response = home(login(client, official))
    assert [v.pk for v in response.context["visits"]] == [soon.pk, later.pk, past.pk]


def test_official_sees_issues_they_raised(client, official, board):
    response = home(login(client, official))
    assert board["new"].pk in [i.pk for i in response.context["issues"]]


def test_closed_issues_are_not_on_my_work(client, official, coordinator, dept_a, staff_a):
    issue = assigned(official, coordinator, dept_a, staff_a)
    workflow.resolve(issue_id=issue.pk, by=staff_a, resolution="已解决")
    workflow.confirm(
        issue_id=issue.pk,
        by=coordinator,
        contacted_on=TODAY(),
        reply_satisfaction="satisfied",
        solution_satisfaction="satisfied",
    )
    assert home(login(client, staff_a)).context["counts"]["open"] == 0


@pytest.mark.parametrize("n", [10, 120])
@pytest.mark.parametrize("role", ["official", "coordinator", "leader", "staff_a"])
def test_my_work_queries_are_bounded(
    request, client, django_assert_max_num_queries, official, coordinator, dept_a, dept_b, staff_a, n, role
):
    me = OfficialFactory(user=official)
    for i in range(n):
        issue = assigned(official, coordinator, dept_a, staff_a if i % 2 else None)
        if i % 4 == 0:
            set_colour(issue, ("red", "blue", "yellow", "rest")[i % 3])
        if i % 5 == 0:
            workflow.add_co_department(
                issue_id=issue.pk, by=coordinator, department=dept_b, report_by=TODAY()
            )
        if i % 7 == 0:
            raise_issue(official)
    for i in range(min(n, 25)):
        VisitFactory(
            created_by=official,
            status=VisitStatus.PLANNED,
            lead_officials=[me],
            visited_on=TODAY() + timedelta(days=i),
        )
    login(client, request.getfixturevalue(role))
    with django_assert_max_num_queries(MY_WORK_QUERIES) as queries:
        home(client)
    print(f"QUERIES my_work {role} n={n}: {len(queries)}")


MY_WORK_QUERIES = 17  # a coordinator's: + the count of resolutions waiting for an answer


def test_waiting_for_triage_opens_exactly_the_issues_it_counts(client, board, official, coordinator, leader):
    # An issue merged into a common one is triaged though still new: neither counted nor listed.
    common = workflow.create_common_issue(by=coordinator, title="共性问题", category=board["new"].category)
    merged = raise_issue(official, title="已并入问题")
    workflow.merge_into_common(issue_ids=[merged.pk], common_issue_id=common.pk, by=coordinator)
    response = home(login(client, leader))
    assert response.context["city_counts"]["untriaged"] == 1
    link = "/issues/?untriaged=1&amp;scope=individual"
    assert f'href="{link}"><div class="fs-4 fw-bold" id="city-new">1<' in response.content.decode()
    listed = client.get(link.replace("&amp;", "&")).context["page"].object_list
    assert [issue.pk for issue in listed] == [board["new"].pk]
    # The list says what it holds, and the box keeps it when the filters change.
    body = client.get(link.replace("&amp;", "&")).content.decode()
    assert 'name="untriaged" class="form-check-input" id="id_untriaged" checked' in body
