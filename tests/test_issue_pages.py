"""The issue list, its exports, the issue page and the issue action endpoint, per role.

Every action goes through the page's POST endpoint; the tests check what is stored and the
event written, and every forbidden case from both sides (Zulip-style).
"""

import csv
import html
import io
import re
from datetime import date, timedelta
from urllib.parse import urljoin

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from issues import workflow
from issues.models import (
    AccessKind,
    AccessLog,
    Channel,
    CoDepartment,
    EventKind,
    ExtensionRequest,
    Issue,
    IssueEvent,
    Milestone,
    Objection,
    Outcome,
    Priority,
    RequestStatus,
    Satisfaction,
    Scope,
    Source,
    Status,
)
from issues.views import PAGE_SIZE

from .factories import EnterpriseFactory, IssueFactory, SurveyResponseFactory, UserFactory, category
from .helpers import assign, kinds, login, raise_issue

TODAY = timezone.localdate


@pytest.fixture
def issue_a(official, coordinator, dept_a, staff_a):
    return assign(raise_issue(official, title="能评审批迟迟未办"), coordinator, dept_a, staff_a)


@pytest.fixture
def issue_b(official, coordinator, dept_b, staff_b):
    return assign(raise_issue(official, title="电子税务局功能不足"), coordinator, dept_b, staff_b)


def post(client, issue, action, **data):
    issue.refresh_from_db()
    data.setdefault("version", issue.version)
    return client.post(reverse("issues:action", args=[issue.pk, action]), data)


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# -- the issue page, per role ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "leader", "staff_a", "official"])
def test_issue_page_is_readable_by_every_role_that_sees_it(request, client, issue_a, role):
    response = login(client, request.getfixturevalue(role)).get(issue_a.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert "能评审批迟迟未办" in body
    assert 'id="timeline"' in body
    assert "市发展改革委" in body


def test_issue_page_is_chinese_by_default(client, issue_a, staff_a):
    client.force_login(staff_a)
    response = client.get(issue_a.get_absolute_url())
    assert '<html lang="zh-CN">' in response.content.decode()


def test_other_department_guessing_the_url_gets_404(client, issue_a, staff_b):
    login(client, staff_b)
    assert client.get(issue_a.get_absolute_url()).status_code == 404
    response = post(client, issue_a, "progress", note="越权")
    assert response.status_code == 404
    assert kinds(issue_a) == [EventKind.ASSIGNED]


def test_unrelated_official_gets_404(client, issue_a):
    other = UserFactory(username="official2", role="official")
    assert login(client, other).get(issue_a.get_absolute_url()).status_code == 404


def test_department_staff_sees_only_its_actions(client, issue_a, staff_a):
    body = login(client, staff_a).get(issue_a.get_absolute_url()).content.decode()
    for action in ("progress", "start", "resolve", "add_milestone", "request_extension", "object"):
        assert f'id="action-{action}"' in body, action
    for action in ("assign", "change_deadline", "close", "confirm", "edit", "change_owner"):
        assert f'id="action-{action}"' not in body, action


def test_coordinator_sees_triage_actions_on_a_new_issue(client, official, coordinator):
    issue = raise_issue(official)
    body = login(client, coordinator).get(issue.get_absolute_url()).content.decode()
    for action in ("assign", "close", "edit", "merge", "add_co_department"):
        assert f'id="action-{action}"' in body, action
    assert 'id="action-progress"' not in body  # not started: nothing to report on


def test_leader_sees_no_action_and_cannot_post(client, issue_a, leader):
    login(client, leader)
    body = client.get(issue_a.get_absolute_url()).content.decode()
    assert 'id="action-' not in body
    assert "/progress/" not in body
    for action in ("progress", "assign", "change_deadline", "confirm"):
        assert post(client, issue_a, action, note="x").status_code == 403
    assert kinds(issue_a) == [EventKind.ASSIGNED]


def test_staff_posting_a_coordinator_action_gets_403(client, official, staff_a, dept_a, issue_a):
    login(client, staff_a)
    response = post(client, issue_a, "change_deadline", deadline=TODAY() + timedelta(days=90), reason="x")
    assert response.status_code == 403
    issue_a.refresh_from_db()
    assert issue_a.deadline == TODAY() + timedelta(days=30)


def test_staff_assign_is_403(client, official, staff_a, dept_a, issue_a):
    # A new issue in dept A's reach: staff_a owns an issue, and assign is a coordinator's step.
    login(client, staff_a)
    response = post(client, issue_a, "assign", department=dept_a.pk, deadline=TODAY() + timedelta(days=5))
    assert response.status_code == 403


def test_get_on_action_is_405(client, issue_a, staff_a):
    response = login(client, staff_a).get(reverse("issues:action", args=[issue_a.pk, "progress"]))
    assert response.status_code == 405


def test_unknown_action_is_404(client, issue_a, coordinator):
    assert post(login(client, coordinator), issue_a, "delete").status_code == 404


def test_post_without_csrf_token_is_refused(issue_a, staff_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_a)
    response = client.post(
        reverse("issues:action", args=[issue_a.pk, "progress"]), {"note": "x", "version": issue_a.version}
    )
    assert response.status_code == 403
    assert kinds(issue_a) == [EventKind.ASSIGNED]


# -- every action's happy path through the view ---------------------------------------------


def ok(response):
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def test_assign(client, official, coordinator, dept_a, staff_a):
    issue = raise_issue(official)
    deadline = TODAY() + timedelta(days=20)
    ok(
        post(
            login(client, coordinator),
            issue,
            "assign",
            department=dept_a.pk,
            owner=staff_a.pk,
            deadline=deadline.isoformat(),
            note="请尽快办理",
        )
    )
    issue.refresh_from_db()
    assert (issue.status, issue.lead_department, issue.owner, issue.deadline) == (
        Status.ASSIGNED,
        dept_a,
        staff_a,
        deadline,
    )
    assert kinds(issue)[-1] == EventKind.ASSIGNED


def test_progress_start_and_resolve(client, issue_a, staff_a):
    login(client, staff_a)
    response = ok(post(client, issue_a, "start", note="已对接企业"))
    assert response.url == issue_a.get_absolute_url()
    ok(post(client, issue_a, "progress", note="完成现场勘查"))
    ok(post(client, issue_a, "resolve", resolution="能评审批已办结"))
    issue_a.refresh_from_db()
    assert issue_a.status == Status.RESOLVED
    assert issue_a.resolution == "能评审批已办结"
    assert kinds(issue_a)[-3:] == [EventKind.STARTED, EventKind.PROGRESS, EventKind.RESOLVED]
    page = client.get(issue_a.get_absolute_url()).content.decode()
    assert "完成现场勘查" in page and "能评审批已办结" in page


@pytest.fixture
def resolved_a(issue_a, staff_a):
    workflow.resolve(issue_id=issue_a.pk, by=staff_a, resolution="已办结")
    issue_a.refresh_from_db()
    return issue_a


def answer(**changes) -> dict:
    return {
        "contacted_on": TODAY().isoformat(),
        "channel": Channel.PHONE,
        "contact_name": "王经理",
        "reply_satisfaction": Satisfaction.SATISFIED,
        "solution_satisfaction": Satisfaction.BASICALLY_SATISFIED,
        **changes,
    }


def test_an_accepted_answer_closes_in_one_step(client, resolved_a, coordinator):
    ok(post(login(client, coordinator), resolved_a, "feedback", **answer(close="on")))
    resolved_a.refresh_from_db()
    assert (resolved_a.status, resolved_a.outcome) == (Status.CLOSED, Outcome.RESOLVED)
    feedback = resolved_a.feedback_rounds.get()
    assert (feedback.number, feedback.solution_satisfaction, feedback.contact_name) == (
        1,
        "basically",
        "王经理",
    )
    assert kinds(resolved_a)[-2:] == [EventKind.FEEDBACK, EventKind.CONFIRMED]


def test_record_the_answer_then_confirm_without_repeating_it(client, resolved_a, coordinator):
    login(client, coordinator)
    ok(post(client, resolved_a, "feedback", **answer()))
    resolved_a.refresh_from_db()
    assert resolved_a.status == Status.RESOLVED  # waiting for the coordinator's confirmation
    ok(post(client, resolved_a, "confirm"))
    resolved_a.refresh_from_db()
    assert resolved_a.status == Status.CLOSED
    assert kinds(resolved_a)[-2:] == [EventKind.FEEDBACK, EventKind.CONFIRMED]


def test_confirming_without_the_enterprises_answer_is_refused(client, resolved_a, coordinator):
    response = post(login(client, coordinator), resolved_a, "confirm")
    assert response.status_code == 400
    assert "Record the enterprise&#x27;s answer" in response.content.decode()
    resolved_a.refresh_from_db()
    assert resolved_a.status == Status.RESOLVED


def test_an_unsatisfied_answer_sends_the_issue_back_in_one_step(client, resolved_a, coordinator):
    login(client, coordinator)
    refused = post(client, resolved_a, "feedback", **answer(solution_satisfaction=Satisfaction.UNSATISFIED))
    assert refused.status_code == 400  # the enterprise's words are needed: they are the reason
    assert not resolved_a.feedback_rounds.exists()
    ok(
        post(
            client,
            resolved_a,
            "feedback",
            **answer(solution_satisfaction="unsatisfied", comment="设备仍未通电"),
        )
    )
    resolved_a.refresh_from_db()
    assert resolved_a.status == Status.IN_PROGRESS  # back with its department (重办)
    feedback = resolved_a.feedback_rounds.get()
    assert feedback.sent_back and feedback.comment == "设备仍未通电"
    sent_back = resolved_a.events.get(kind=EventKind.SENT_BACK)
    assert (sent_back.status_from, sent_back.note) == (Status.RESOLVED, "设备仍未通电")
    page = client.get(resolved_a.get_absolute_url()).content.decode()
    assert "设备仍未通电" in page


def test_close_as_duplicate(client, official, coordinator):
    issue = raise_issue(official)
    ok(post(login(client, coordinator), issue, "close", outcome=Outcome.DUPLICATE, reason="与#1重复"))
    issue.refresh_from_db()
    assert (issue.status, issue.outcome, issue.close_reason) == (Status.CLOSED, Outcome.DUPLICATE, "与#1重复")
    assert kinds(issue)[-1] == EventKind.CLOSED


def test_reopen_with_new_deadline(client, resolved_a, coordinator):
    deadline = TODAY() + timedelta(days=45)
    ok(post(login(client, coordinator), resolved_a, "reopen", reason="企业反映未解决", deadline=deadline))
    resolved_a.refresh_from_db()
    assert resolved_a.status == Status.IN_PROGRESS
    assert resolved_a.deadline == deadline
    assert kinds(resolved_a)[-1] == EventKind.REOPENED


def test_change_deadline_keeps_the_original(client, issue_a, coordinator):
    original = issue_a.deadline
    new = TODAY() + timedelta(days=60)
    ok(post(login(client, coordinator), issue_a, "change_deadline", deadline=new, reason="涉及多部门"))
    issue_a.refresh_from_db()
    assert (issue_a.deadline, issue_a.original_deadline) == (new, original)
    event = IssueEvent.objects.filter(issue=issue_a).last()
    assert (event.kind, event.deadline_from, event.deadline_to) == (EventKind.DEADLINE_CHANGED, original, new)
    page = client.get(issue_a.get_absolute_url()).content.decode()
    assert "<del>" + original.isoformat() + "</del>" in page


def test_change_owner(client, issue_a, coordinator, dept_a):
    other = UserFactory(username="staff_a2", role="department", department=dept_a)
    ok(post(login(client, coordinator), issue_a, "change_owner", owner=other.pk, reason="人员调整"))
    issue_a.refresh_from_db()
    assert issue_a.owner == other
    assert kinds(issue_a)[-1] == EventKind.OWNER_CHANGED


def test_change_owner_to_outsider_shows_field_error(client, issue_a, coordinator, staff_b, staff_a):
    response = post(login(client, coordinator), issue_a, "change_owner", owner=staff_b.pk, reason="x")
    assert response.status_code == 400
    issue_a.refresh_from_db()
    assert issue_a.owner == staff_a


def test_extension_request_and_approval(client, issue_a, staff_a, coordinator):
    wanted = TODAY() + timedelta(days=50)
    ok(post(login(client, staff_a), issue_a, "request_extension", deadline=wanted, reason="需等待批复"))
    request = ExtensionRequest.objects.get(issue=issue_a)
    assert request.status == RequestStatus.PENDING
    page = login(client, coordinator).get(issue_a.get_absolute_url()).content.decode()
    assert 'id="extension"' in page
    ok(post(client, issue_a, "decide_extension", request=request.pk, decision="approve"))
    request.refresh_from_db()
    issue_a.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert issue_a.deadline == wanted
    assert kinds(issue_a)[-2:] == [EventKind.EXTENSION_REQUESTED, EventKind.EXTENSION_APPROVED]
    # The request says who asked and who decided, by name.
    staff_a.first_name, coordinator.first_name = "叶敏", "王强"
    staff_a.save(), coordinator.save()
    page = client.get(issue_a.get_absolute_url()).content.decode()
    today = TODAY().isoformat()
    assert f"requested by 叶敏 · {today} · decided by 王强 · {today}" in page
    # A request withdrawn by resolving the issue had no decider: it says when it was withdrawn.
    workflow.request_extension(
        issue_id=issue_a.pk, by=staff_a, deadline=wanted + timedelta(days=9), reason="再延"
    )
    workflow.resolve(issue_id=issue_a.pk, by=staff_a, resolution="已办结")
    page = client.get(issue_a.get_absolute_url()).content.decode()
    assert f"requested by 叶敏 · {today} · withdrawn on {today}" in page
    assert page.count("decided by") == 1


def test_refusing_an_extension_needs_a_note(client, issue_a, staff_a, coordinator):
    workflow.request_extension(
        issue_id=issue_a.pk, by=staff_a, deadline=TODAY() + timedelta(days=50), reason="需等待"
    )
    request = ExtensionRequest.objects.get(issue=issue_a)
    login(client, coordinator)
    assert post(client, issue_a, "decide_extension", request=request.pk, decision="refuse").status_code == 400
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    ok(post(client, issue_a, "decide_extension", request=request.pk, decision="refuse", note="时限充足"))
    request.refresh_from_db()
    assert request.status == RequestStatus.REFUSED
    assert kinds(issue_a)[-1] == EventKind.EXTENSION_REFUSED


def test_objection_upheld_reassigns(client, issue_a, staff_a, coordinator, dept_b):
    ok(post(login(client, staff_a), issue_a, "object", reason="属税务事项", suggested_department=dept_b.pk))
    objection = Objection.objects.get(issue=issue_a)
    ok(
        post(
            login(client, coordinator),
            issue_a,
            "decide_objection",
            objection=objection.pk,
            decision="uphold",
            department=dept_b.pk,
            note="改派税务局",
        )
    )
    objection.refresh_from_db()
    issue_a.refresh_from_db()
    assert objection.status == RequestStatus.APPROVED
    assert issue_a.lead_department == dept_b
    assert kinds(issue_a)[-2:] == [EventKind.OBJECTION_RAISED, EventKind.OBJECTION_UPHELD]


def test_objection_upheld_without_department_rolls_back(client, issue_a, staff_a, coordinator, dept_a):
    workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="不属本单位")
    objection = Objection.objects.get(issue=issue_a)
    response = post(
        login(client, coordinator), issue_a, "decide_objection", objection=objection.pk, decision="uphold"
    )
    assert response.status_code == 400
    objection.refresh_from_db()
    assert objection.status == RequestStatus.PENDING  # the half-made decision was rolled back


def test_milestones_add_and_complete(client, issue_a, staff_a):
    login(client, staff_a)
    ok(post(client, issue_a, "add_milestone", title="完成现场踏勘", due_on=TODAY() + timedelta(days=7)))
    milestone = Milestone.objects.get(issue=issue_a)
    ok(post(client, issue_a, "complete_milestone", milestone=milestone.pk))
    milestone.refresh_from_db()
    assert milestone.done_on == TODAY()
    assert kinds(issue_a)[-2:] == [EventKind.MILESTONE_ADDED, EventKind.MILESTONE_DONE]


def test_late_milestone_is_marked(client, issue_a, staff_a):
    Milestone.objects.create(issue=issue_a, title="提交材料", due_on=TODAY() - timedelta(days=2))
    body = login(client, staff_a).get(issue_a.get_absolute_url()).content.decode()
    assert "提交材料" in body
    assert 'class="badge px-2 py-1 colour-red">late<' in body


def test_co_department_added_and_reports_in(client, issue_a, coordinator, staff_b, dept_b):
    report_by = TODAY() + timedelta(days=5)
    ok(
        post(
            login(client, coordinator),
            issue_a,
            "add_co_department",
            department=dept_b.pk,
            report_by=report_by,
        )
    )
    co = CoDepartment.objects.get(issue=issue_a)
    assert co.department == dept_b
    # dept B now co-handles: it sees the issue and may report in, not resolve.
    login(client, staff_b)
    assert client.get(issue_a.get_absolute_url()).status_code == 200
    assert post(client, issue_a, "resolve", resolution="x").status_code == 403
    ok(post(client, issue_a, "co_report", report="税务部分已办结"))
    co.refresh_from_db()
    assert co.reported_on == TODAY()
    assert kinds(issue_a)[-2:] == [EventKind.CO_DEPARTMENT_ADDED, EventKind.CO_REPORTED]


def test_merge_into_common_issue(client, official, coordinator):
    issue = raise_issue(official)
    common = workflow.create_common_issue(by=coordinator, title="多家企业反映用电增容难", category=category())
    ok(post(login(client, coordinator), issue, "merge", common_issue=common.pk))
    issue.refresh_from_db()
    assert issue.common_issue == common
    page = client.get(common.get_absolute_url()).content.decode()
    assert issue.title in page  # the common issue lists its linked issues


def test_edit_details_and_stale_edit_is_refused(client, official, coordinator):
    issue = raise_issue(official, title="原标题")
    login(client, coordinator)
    seen = issue.version
    data = {
        "title": "新标题",
        "description": "更详细",
        "category": category("tax").pk,
        "priority": Priority.HIGH,
    }
    ok(post(client, issue, "edit", version=seen, **data))
    issue.refresh_from_db()
    assert (issue.title, issue.priority) == ("新标题", Priority.HIGH)
    # A second coordinator who loaded the page before that edit:
    response = post(client, issue, "edit", version=seen, **{**data, "title": "覆盖标题"})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.title == "新标题"
    assert any("changed by someone else" in m for m in texts(response))
    assert kinds(issue).count(EventKind.EDITED) == 1


def test_two_coordinators_assigning_at_once_second_gets_conflict(
    client, official, coordinator, dept_a, dept_b
):
    issue = raise_issue(official)
    seen = issue.version
    login(client, coordinator)
    deadline = (TODAY() + timedelta(days=9)).isoformat()
    ok(post(client, issue, "assign", version=seen, department=dept_a.pk, deadline=deadline))
    response = post(client, issue, "assign", version=seen, department=dept_b.pk, deadline=deadline)
    assert response.status_code == 302
    assert any("changed by someone else" in m for m in texts(response))
    issue.refresh_from_db()
    assert issue.lead_department == dept_a
    assert kinds(issue).count(EventKind.ASSIGNED) == 1


def test_double_submitted_progress_is_saved_once(client, issue_a, staff_a):
    login(client, staff_a)
    seen = issue_a.version
    ok(post(client, issue_a, "progress", version=seen, note="同一条进展"))
    post(client, issue_a, "progress", version=seen, note="同一条进展")
    assert IssueEvent.objects.filter(issue=issue_a, note="同一条进展").count() == 1


def test_empty_progress_re_renders_with_field_error(client, issue_a, staff_a):
    response = post(login(client, staff_a), issue_a, "progress", note="")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="action-progress" open' in body
    assert "invalid-feedback" in body
    assert kinds(issue_a) == [EventKind.ASSIGNED]


def test_illegal_transition_shows_the_reason(client, official, coordinator):
    issue = raise_issue(official)
    closed = workflow.close(
        issue_id=issue.pk, by=coordinator, outcome=Outcome.NOT_ACTIONABLE, reason="无法办理"
    )
    # The page offers no close form now; a forged post is refused with the workflow's reason.
    response = post(login(client, coordinator), closed, "close", outcome=Outcome.DUPLICATE, reason="x")
    assert response.status_code == 400
    assert "is not possible now" in response.content.decode()


def test_output_is_escaped(client, official, coordinator):
    issue = raise_issue(official, title='<script>alert(1)</script>"><img src=x onerror=alert(2)>')
    body = login(client, coordinator).get(issue.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    listing = client.get(reverse("issues:list")).content.decode()
    assert "<img src=x" not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in listing


# -- the list: filters, ordering, search, pagination ----------------------------------------


def list_ids(client, **params):
    response = client.get(reverse("issues:list"), params)
    assert response.status_code == 200
    return [i.pk for i in response.context["page"].object_list]


def all_list_ids(client, **params):
    """Every page of the list, in order."""
    first = client.get(reverse("issues:list"), params).context["page"]
    ids = [i.pk for i in first.object_list]
    for number in range(2, first.paginator.num_pages + 1):
        ids += list_ids(client, **params, page=number)
    return ids


def test_the_list_shows_open_issues_until_closed_ones_are_asked_for(client, official, coordinator):
    open_one = raise_issue(official, title="仍在办理")
    closed = raise_issue(official, title="早已办结")
    workflow.close(issue_id=closed.pk, by=coordinator, outcome=Outcome.NOT_ACTIONABLE, reason="不属政府职责")
    login(client, coordinator)
    response = client.get(reverse("issues:list"))
    assert [i.pk for i in response.context["page"].object_list] == [open_one.pk]
    body = response.content.decode()
    assert re.search(r'name="status" value="new"[^>]*checked', body)  # the default, shown
    assert not re.search(r'name="status" value="closed"[^>]*checked', body)
    assert set(list_ids(client, status=["closed"])) == {closed.pk}
    assert set(list_ids(client, status=["new", "closed"])) == {open_one.pk, closed.pk}
    # The export follows the list: open ones unless asked.
    export = client.get(reverse("issues:export"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "仍在办理" in export and "早已办结" not in export


@pytest.fixture
def variety(official, coordinator, dept_a, dept_b, staff_a):
    """A spread of issues: one per filter to find."""
    from enterprises.models import District, Sector

    today = TODAY()
    hexi = District.objects.get_or_create(name="河西区")[0]
    shop = EnterpriseFactory(name="河西商贸有限公司", district=hexi, sector=Sector.WHOLESALE_RETAIL)
    plain = raise_issue(official, title="普通新问题")
    tax = raise_issue(official, title="税费问题", category=category("tax"), priority=Priority.URGENT)
    retail = raise_issue(official, title="商贸问题", enterprise=shop, visit__enterprise=shop)
    survey = IssueFactory(
        source=Source.SURVEY,
        visit=None,
        survey_response=SurveyResponseFactory(enterprise=shop),
        enterprise=shop,
        raised_by=official,
        title="问卷问题",
        raised_on=today - timedelta(days=40),
    )
    common = workflow.create_common_issue(by=coordinator, title="共性用地问题", category=category())
    red = assign(raise_issue(official, title="已逾期问题"), coordinator, dept_a, staff_a)
    Issue.objects.filter(pk=red.pk).update(deadline=today - timedelta(days=3))
    blue = assign(raise_issue(official, title="即将到期问题"), coordinator, dept_b, days=2)
    Issue.objects.filter(pk=blue.pk).update(due_soon_from=today - timedelta(days=1), stalled_from=None)
    yellow = assign(raise_issue(official, title="进度滞后问题"), coordinator, dept_a, days=60)
    Issue.objects.filter(pk=yellow.pk).update(stalled_from=today - timedelta(days=1), due_soon_from=None)
    return {
        "plain": plain,
        "tax": tax,
        "retail": retail,
        "survey": survey,
        "common": common,
        "red": red,
        "blue": blue,
        "yellow": yellow,
        "hexi": hexi,
        "shop": shop,
    }


def test_each_filter(client, coordinator, variety, dept_a, dept_b):
    v = variety
    login(client, coordinator)
    ids = lambda **p: set(list_ids(client, **p))  # noqa: E731
    everything = ids()
    assert len(everything) == 8
    assert ids(status=["assigned"]) == {v["red"].pk, v["blue"].pk, v["yellow"].pk}
    assert ids(status=["new", "assigned"]) == everything
    assert ids(department=dept_b.pk) == {v["blue"].pk}
    assert ids(category=category("tax").pk) == {v["tax"].pk}
    assert ids(district=v["hexi"].pk) == {v["retail"].pk, v["survey"].pk}
    assert ids(enterprise=v["shop"].pk) == {v["retail"].pk, v["survey"].pk}
    assert ids(source="survey") == {v["survey"].pk}
    assert ids(scope=Scope.COMMON) == {v["common"].pk}
    assert ids(sector="wholesale_retail") == {v["retail"].pk, v["survey"].pk}
    assert ids(priority=Priority.URGENT) == {v["tax"].pk}
    # red: past its deadline, or (the survey issue, raised 40 days ago) never triaged (交办超时)
    assert ids(colour="red") == ids(overdue="1") == {v["red"].pk, v["survey"].pk}
    assert ids(colour="yellow") == {v["yellow"].pk}
    assert ids(colour="blue") == ids(due_soon="1") == {v["blue"].pk}
    today = TODAY()
    assert ids(deadline_before=(today + timedelta(days=10)).isoformat()) == {v["red"].pk, v["blue"].pk}
    assert ids(deadline_after=(today + timedelta(days=10)).isoformat()) == {v["yellow"].pk}
    assert ids(raised_before=(today - timedelta(days=1)).isoformat()) == {v["survey"].pk}
    assert v["survey"].pk not in ids(raised_after=(today - timedelta(days=1)).isoformat())
    assert ids(q="税费") == {v["tax"].pk}
    assert ids(q="河西商贸") == {v["retail"].pk, v["survey"].pk}
    assert ids(q=v["shop"].credit_code) == {v["retail"].pk, v["survey"].pk}
    # Invalid values are ignored, never a 500.
    assert ids(department="abc", colour="purple", deadline_after="2026-13-45", enterprise="x") == everything


def test_department_filter_on_another_department_gives_no_rows(client, staff_a, variety, dept_b):
    login(client, staff_a)
    assert list_ids(client, department=dept_b.pk) == []
    visible = set(list_ids(client))
    assert visible == {variety["red"].pk, variety["yellow"].pk}  # dept A's issues only
    body = client.get(reverse("issues:list")).content.decode()
    assert "即将到期问题" not in body  # dept B's issue title is not in the page


def test_default_order_is_red_yellow_blue_then_by_deadline(client, coordinator, variety):
    ids = list_ids(login(client, coordinator))
    # the untriaged survey issue is red too; with no deadline it comes after the dated one
    red, survey = variety["red"].pk, variety["survey"].pk
    assert ids[:4] == [red, survey, variety["yellow"].pk, variety["blue"].pk]


def _spread(official, dept, n=70):
    """n issues over every part of the default order: a quarter each red, yellow, blue and
    on track (active), the rest new, resolved or closed; deadlines and raised dates repeat,
    so the tie-breaks count."""
    from django.db.models import F

    today = TODAY()
    made = [raise_issue(official) for _ in range(n)]
    for i, issue in enumerate(made):
        kind = i % 7
        fields = {"raised_on": today - timedelta(days=i % 5)}
        if kind < 4:
            deadline = {0: today - timedelta(days=1 + i % 3), 1: today + timedelta(days=20 + i % 3)}.get(
                kind, today + timedelta(days=2 + i % 2)
            )
            if kind == 3:
                deadline = today + timedelta(days=30 + i % 4)
            fields.update(
                status=Status.ASSIGNED if i % 2 else Status.IN_PROGRESS,
                lead_department=dept,
                deadline=deadline,
                original_deadline=deadline,
                assigned_at=timezone.now(),
                stalled_from=today - timedelta(days=1) if kind == 1 else None,
                due_soon_from=today if kind == 2 else None,
            )
        elif kind == 5:
            fields.update(
                status=Status.RESOLVED,
                lead_department=dept,
                deadline=today - timedelta(days=9),
                original_deadline=today - timedelta(days=9),
                assigned_at=timezone.now(),
                resolution="已办结",
                resolved_at=timezone.now(),
            )
        Issue.objects.filter(pk=issue.pk).update(**fields)
    Issue.objects.filter(pk__in=[i.pk for i in made]).update(version=F("version") + 1)
    return made


def _expected_default_order():
    """Red, yellow, blue, the other open issues, the closed ones; each by deadline (none
    last), then newest first: worked out in Python from the annotated colours."""
    issues = list(Issue.objects.with_colour(TODAY()))
    rank = {"red": 0, "yellow": 1, "blue": 2, "": 3}

    def key(issue):
        deadline = issue.deadline.toordinal() if issue.deadline else 10**7
        return (
            rank[issue.colour],
            issue.status == Status.CLOSED,
            deadline,
            -issue.raised_on.toordinal(),
            -issue.pk,
        )

    return [i.pk for i in sorted(issues, key=key)]


def test_default_order_is_the_same_across_pages_and_in_the_export(client, coordinator, official, dept_a):
    """Red, yellow, blue, on track (each by deadline), then the rest newest first: page by
    page (the second page starts inside a part), with nothing repeated or skipped."""
    _spread(official, dept_a)
    login(client, coordinator)
    expected = _expected_default_order()
    pages = all_list_ids(client)
    assert pages == expected
    exported = [int(r[0]) for r in csv_rows(client.get(reverse("issues:export"), {"format": "csv"}))[1:]]
    assert exported == expected
    colours = [i.colour for i in client.get(reverse("issues:list")).context["page"].object_list]
    first_other = colours.index("") if "" in colours else len(colours)
    assert colours[:first_other] == sorted(colours[:first_other], key=["red", "yellow", "blue"].index)


def test_status_and_colour_filters_keep_the_order(client, coordinator, official, dept_a):
    _spread(official, dept_a)
    login(client, coordinator)
    expected = _expected_default_order()
    active = set(Issue.objects.active().values_list("pk", flat=True))
    assert (
        list_ids(client, status=["assigned", "in_progress"])
        == [pk for pk in expected if pk in active][:PAGE_SIZE]
    )
    others = set(Issue.objects.exclude(pk__in=active).values_list("pk", flat=True))
    assert all_list_ids(client, status=["new", "resolved"]) == [pk for pk in expected if pk in others]
    red = set(Issue.objects.overdue().values_list("pk", flat=True))
    assert all_list_ids(client, colour="red") == [pk for pk in expected if pk in red]


@pytest.mark.parametrize("ordering", ["colour", "-colour", "colour,deadline", "-deadline,colour"])
def test_colour_orderings_page_through_everything(client, coordinator, official, dept_a, ordering):
    _spread(official, dept_a)
    login(client, coordinator)
    ids = all_list_ids(client, ordering=ordering)
    assert sorted(ids) == sorted(Issue.objects.values_list("pk", flat=True))
    colours = dict(Issue.objects.with_colour(TODAY()).values_list("pk", "colour"))
    if ordering.startswith("colour"):
        assert colours[ids[0]] == "red"
    if ordering == "-colour":
        assert colours[ids[-1]] == "red" and colours[ids[0]] == ""


@pytest.mark.parametrize(
    "ordering",
    [
        "deadline",
        "-deadline",
        "raised_on",
        "-raised_on",
        "status",
        "-status",
        "colour",
        "-colour",
        "enterprise",
        "-enterprise",
    ],
)
def test_allowlisted_orderings(client, coordinator, variety, ordering):
    ids = list_ids(login(client, coordinator), ordering=ordering)
    assert sorted(ids) == sorted(i.pk for i in Issue.objects.all())
    if ordering == "deadline":
        assert ids[0] == variety["red"].pk


@pytest.mark.parametrize(
    "ordering", ["owner__password", "-owner__password", "raised_by__password", "pk;drop"]
)
def test_unknown_ordering_is_ignored(client, coordinator, variety, ordering):
    login(client, coordinator)
    assert list_ids(client, ordering=ordering) == list_ids(client)


@pytest.mark.parametrize(
    "q", ["' OR 1=1 --", "%", "_", "\\", "\"'; DROP TABLE issues_issue; --", "x" * 10_000, "a\x00b", "\x00"]
)
def test_hostile_search_never_500(client, coordinator, variety, q):
    response = login(client, coordinator).get(reverse("issues:list"), {"q": q})
    assert response.status_code == 200
    ids = [i.pk for i in response.context["page"].object_list]
    if q in ("%", "_", "\\", "' OR 1=1 --", "x" * 10_000):
        assert ids == []  # matched literally: no title contains them
    if q == "\x00":
        assert len(ids) == Issue.objects.count()  # nothing left to search for
    export = client.get(reverse("issues:export"), {"q": q, "format": "csv"})
    assert export.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"department": "99999999999999999999999"},
        {"enterprise": "99999999999999999999999"},
        {"category": "-1"},
        {"district": "1.5"},
        {"status": ["bogus", "new"]},
        {"page": "-1"},
        {"deadline_after": "0000-00-00"},
        {"raised_before": "9999-99-99"},
        {"ordering": ["deadline", "owner__password"]},
    ],
)
def test_hostile_parameters_never_500(client, coordinator, variety, params):
    login(client, coordinator)
    assert client.get(reverse("issues:list"), params).status_code == 200
    assert client.get(reverse("issues:export"), {**params, "format": "xlsx"}).status_code == 200


def test_percent_matches_literally(client, coordinator, official):
    hit = raise_issue(official, title="税率从13%降到9%")
    raise_issue(official, title="无关问题")
    assert list_ids(login(client, coordinator), q="13%") == [hit.pk]


def test_pagination_25_per_page_with_count(client, coordinator, official):
    enterprise = EnterpriseFactory()
    for n in range(PAGE_SIZE + 5):
        IssueFactory(
            enterprise=enterprise, visit__enterprise=enterprise, raised_by=official, title=f"分页{n}"
        )
    login(client, coordinator)
    first = client.get(reverse("issues:list"))
    assert len(first.context["page"].object_list) == PAGE_SIZE == 25
    assert first.context["page"].paginator.count == 30
    second = client.get(reverse("issues:list"), {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert not set(list_ids(client, page=1)) & set(list_ids(client, page=2))
    assert client.get(reverse("issues:list"), {"page": "zzz"}).status_code == 200
    assert client.get(reverse("issues:list"), {"page": "999999999999999999999"}).status_code == 200


def link(response, text: str) -> str:
    """The URL of the link whose text is `text`, as the browser would follow it."""
    found = re.search(r'<a [^>]*href="([^"]*)"[^>]*>' + re.escape(text) + "</a>", response.content.decode())
    assert found, f"no link {text!r}"
    return urljoin(response.request["PATH_INFO"], html.unescape(found[1]))


def test_pagination_and_export_links_work_when_followed(client, coordinator, official):
    # The links keep the filters and change one parameter: a "??page=2" link (a leading "?"
    # before {% querystring %}, which writes its own) went back to page 1, and the XLSX
    # link downloaded a CSV file.
    enterprise = EnterpriseFactory()
    for n in range(PAGE_SIZE + 5):
        IssueFactory(
            enterprise=enterprise, visit__enterprise=enterprise, raised_by=official, title=f"分页{n}"
        )
    IssueFactory(enterprise=enterprise, visit__enterprise=enterprise, raised_by=official, title="别的")
    client.force_login(coordinator)
    first = client.get(reverse("issues:list"), {"q": "分页"})
    next_url = link(first, "下一页")
    second = client.get(next_url)
    assert second.context["page"].number == 2
    assert [i.title for i in second.context["page"].object_list] == [
        i.title for i in client.get(reverse("issues:list"), {"q": "分页", "page": 2}).context["page"]
    ]
    assert len(second.context["page"].object_list) == 5  # the filter kept: 30, not 31
    assert client.get(link(second, "上一页")).context["page"].number == 1
    xlsx = client.get(link(second, "导出 XLSX"))
    assert ".xlsx" in xlsx["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + PAGE_SIZE + 5  # every filtered row, not only page 2
    csv_response = client.get(link(second, "导出 CSV"))
    assert response_rows_count(csv_response) == PAGE_SIZE + 5


def response_rows_count(response) -> int:
    return len(csv_rows(response)) - 1


def test_list_columns(client, coordinator, issue_a):
    Issue.objects.filter(pk=issue_a.pk).update(deadline=TODAY() - timedelta(days=4))
    body = login(client, coordinator).get(reverse("issues:list")).content.decode()
    assert "能评审批迟迟未办" in body
    assert "市发展改革委" in body
    # The days overdue, labelled (the label shows on a phone, where there is no column heading).
    assert 'Days overdue </span><span class="text-danger fw-semibold">4</span>' in body
    assert 'class="badge px-2 py-1 colour-red"' in body


# -- export ---------------------------------------------------------------------------------


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_export_is_exactly_the_filtered_visible_list(client, staff_a, variety):
    login(client, staff_a)
    response = client.get(reverse("issues:export"), {"format": "csv", "colour": "red"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [int(r[0]) for r in rows[1:]] == [variety["red"].pk]
    everything = csv_rows(client.get(reverse("issues:export"), {"format": "csv"}))
    assert sorted(int(r[0]) for r in everything[1:]) == sorted([variety["red"].pk, variety["yellow"].pk])


def test_xlsx_export_matches_and_has_no_formulas(client, coordinator, official):
    evil = raise_issue(official, title='=HYPERLINK("http://evil.example","点我")')
    raise_issue(official, title="+1", description="@SUM(A1)")
    login(client, coordinator)
    response = client.get(reverse("issues:export"), {"format": "xlsx", "q": "HYPERLINK"})
    assert response.status_code == 200
    assert ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "ID"
    assert [r[0] for r in rows[1:]] == [evil.pk]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    csv_body = csv_rows(client.get(reverse("issues:export"), {"format": "csv"}))
    titles = [r[1] for r in csv_body[1:]]
    assert '\'=HYPERLINK("http://evil.example","点我")' in titles
    assert "'+1" in titles


def test_export_filename_and_chinese_headers(client, coordinator, issue_a):
    client.force_login(coordinator)  # default language
    response = client.get(reverse("issues:export"), {"format": "xlsx"})
    today = TODAY().isoformat()
    assert f"-{today}.xlsx" in response["Content-Disposition"]
    assert "filename*=UTF-8''" in response["Content-Disposition"]


def test_unknown_export_format_is_400(client, coordinator):
    assert login(client, coordinator).get(reverse("issues:export"), {"format": "pdf"}).status_code == 400


def test_export_of_another_departments_rows_is_empty(client, staff_b, issue_a):
    rows = csv_rows(login(client, staff_b).get(reverse("issues:export"), {"format": "csv", "q": "能评"}))
    assert rows[1:] == []


# -- query counts at two data sizes -------------------------------------------------------------


def make_issues(n, official, coordinator, dept, owner):
    """n issues over a few enterprises: a third new, the rest assigned (some with events)."""
    enterprises = [EnterpriseFactory() for _ in range(5)]
    made = []
    for i in range(n):
        e = enterprises[i % 5]
        issue = IssueFactory(
            enterprise=e, visit__enterprise=e, raised_by=official, visit__created_by=official
        )
        if i % 3:
            assign(issue, coordinator, dept, owner)
        made.append(issue)
    return made


LIST_QUERIES = 16
DETAIL_QUERIES = 22  # 20, +1 for the files section, +1 for the change history (issue 13)


@pytest.mark.parametrize("n", [10, 120])
@pytest.mark.parametrize("role", ["coordinator", "staff_a"])
def test_list_and_export_queries_are_bounded(
    request, client, django_assert_max_num_queries, official, coordinator, dept_a, staff_a, n, role
):
    make_issues(n, official, coordinator, dept_a, staff_a)
    login(client, request.getfixturevalue(role))
    with django_assert_max_num_queries(LIST_QUERIES) as queries:
        response = client.get(reverse("issues:list"), {"status": ["new", "assigned"], "q": "问题"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == (n if role == "coordinator" else n - (n + 2) // 3)
    print(f"QUERIES list {role} n={n}: {len(queries)}")
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(LIST_QUERIES) as queries:
            assert client.get(reverse("issues:export"), {"format": fmt}).status_code == 200
        print(f"QUERIES export {fmt} {role} n={n}: {len(queries)}")


@pytest.mark.parametrize("n", [10, 120])
@pytest.mark.parametrize("role", ["coordinator", "staff_a", "leader"])
def test_detail_queries_are_bounded(
    request, client, django_assert_max_num_queries, official, coordinator, dept_a, dept_b, staff_a, n, role
):
    """One issue with n events, milestones and a co-department; a common issue with n links."""
    issue = assign(raise_issue(official), coordinator, dept_a, staff_a)
    workflow.add_co_department(issue_id=issue.pk, by=coordinator, department=dept_b, report_by=TODAY())
    for i in range(n):
        workflow.post_progress(issue_id=issue.pk, by=staff_a, note=f"进展{i}")
        if i % 10 == 0:
            workflow.add_milestone(issue_id=issue.pk, by=staff_a, title=f"节点{i}", due_on=TODAY())
    common = workflow.create_common_issue(by=coordinator, title="共性", category=category())
    linked = [raise_issue(official) for _ in range(min(n, 30))]
    workflow.merge_into_common(issue_ids=[i.pk for i in linked], common_issue_id=common.pk, by=coordinator)
    login(client, request.getfixturevalue(role))
    targets = (issue, common) if role != "staff_a" else (issue,)  # dept A does not see the common one
    for target in targets:
        with django_assert_max_num_queries(DETAIL_QUERIES) as queries:
            response = client.get(target.get_absolute_url())
        assert response.status_code == 200
        print(f"QUERIES detail {role} n={n} #{target.pk}: {len(queries)}")


ACTION_QUERIES = 12  # issue 15: a workflow step posted from the issue page


@pytest.mark.parametrize("n", [1, 60])
def test_posting_a_step_costs_a_fixed_few_statements(
    client, issue_a, staff_a, django_assert_max_num_queries, n
):
    """The issue is read once to authorise, the workflow locks it and checks version and
    permission itself; the timeline is never loaded to answer a POST."""
    for i in range(n):
        workflow.post_progress(issue_id=issue_a.pk, by=staff_a, note=f"进展{i}")
    login(client, staff_a)
    assert client.get(issue_a.get_absolute_url()).status_code == 200  # the page the form is on
    issue_a.refresh_from_db()
    url = reverse("issues:action", args=[issue_a.pk, "progress"])
    with django_assert_max_num_queries(ACTION_QUERIES) as queries:
        response = client.post(url, {"note": "完成现场勘查", "version": issue_a.version})
    assert response.status_code == 302
    print(f"QUERIES progress post n={n}: {len(queries)}")
    assert kinds(issue_a)[-1] == EventKind.PROGRESS


def test_huge_issue_id_is_404_not_500(client, coordinator):
    login(client, coordinator)
    assert client.get("/issues/99999999999999999999999/").status_code == 404
    assert client.post("/issues/99999999999999999999999/progress/", {"version": 1}).status_code == 404


@pytest.mark.parametrize(
    "role, expected",
    [
        ("coordinator", {"a", "b", "new"}),
        ("leader", {"a", "b", "new"}),
        ("official", {"a", "b", "new"}),  # raised them all
        ("staff_a", {"a"}),
        ("staff_b", {"b"}),
    ],
)
def test_list_and_export_per_role(request, client, official, issue_a, issue_b, role, expected):
    fresh = raise_issue(official, title="新登记问题")
    names = {"a": issue_a.pk, "b": issue_b.pk, "new": fresh.pk}
    login(client, request.getfixturevalue(role))
    assert set(list_ids(client)) == {names[k] for k in expected}
    rows = csv_rows(client.get(reverse("issues:export"), {"format": "csv"}))
    assert {int(r[0]) for r in rows[1:]} == {names[k] for k in expected}


def test_unrelated_official_sees_an_empty_list(client, issue_a):
    other = UserFactory(username="official3", role="official")
    assert list_ids(login(client, other)) == []


def test_timeline_times_are_shanghai_time(client, issue_a, coordinator):
    from datetime import UTC, datetime

    IssueEvent.objects.create(
        issue=issue_a,
        kind=EventKind.PROGRESS,
        actor=coordinator,
        at=datetime(2026, 1, 1, 16, 30, tzinfo=UTC),
        day=date(2026, 1, 2),
        note="跨日记录",
    )
    body = login(client, coordinator).get(issue_a.get_absolute_url()).content.decode()
    assert "2026-01-02 00:30" in body


def test_objection_and_extension_not_offered_once_used(client, issue_a, staff_a):
    workflow.object_to_assignment(issue_id=issue_a.pk, by=staff_a, reason="不属本单位")
    workflow.request_extension(
        issue_id=issue_a.pk, by=staff_a, deadline=TODAY() + timedelta(days=60), reason="需延期"
    )
    body = login(client, staff_a).get(issue_a.get_absolute_url()).content.decode()
    assert 'id="action-object"' not in body
    assert 'id="action-request_extension"' not in body
    assert 'id="objection"' in body and 'id="extension"' in body  # shown, waiting for a decision
    # A forged second request is refused with the workflow's reason, nothing stored.
    response = post(
        client, issue_a, "request_extension", deadline=TODAY() + timedelta(days=70), reason="再延"
    )
    assert response.status_code == 400
    assert "already waiting" in response.content.decode()
    assert ExtensionRequest.objects.filter(issue=issue_a).count() == 1


def test_common_issue_of_another_department_shows_its_number_not_its_title(
    client, official, coordinator, dept_a, dept_b, staff_a, staff_b
):
    issue = assign(raise_issue(official), coordinator, dept_a, staff_a)
    common = workflow.create_common_issue(by=coordinator, title="机密共性问题标题", category=category())
    workflow.merge_into_common(issue_ids=[issue.pk], common_issue_id=common.pk, by=coordinator)
    assign(common, coordinator, dept_b, staff_b)
    login(client, staff_a)
    body = client.get(reverse("issues:detail", args=[issue.pk])).content.decode()
    assert f"#{common.pk}" in body and "机密共性问题标题" not in body
    login(client, coordinator)
    assert "机密共性问题标题" in client.get(reverse("issues:detail", args=[issue.pk])).content.decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_is_capped_with_a_note(client, settings, official, coordinator, fmt):
    settings.EXPORT_MAX_ROWS = 3
    for _ in range(5):
        raise_issue(official)
    login(client, coordinator)
    response = client.get(reverse("issues:export"), {"format": fmt})
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(response.content)).active.iter_rows()]
    assert len(rows) == 1 + 3 + 1  # header, 3 issues, the note
    assert "3" in rows[-1][0] and rows[-1][1:] in ([], [None] * (len(rows[-1]) - 1))
    # The access log says how many issues left, not counting the note.
    assert AccessLog.objects.filter(kind=AccessKind.EXPORT).latest("id").rows == 3


def test_export_stops_at_its_time_budget_with_a_note(client, settings, official, coordinator):
    settings.EXPORT_MAX_SECONDS = 0  # a very busy server: only the first row fits
    for _ in range(4):
        raise_issue(official)
    login(client, coordinator)
    response = client.get(reverse("issues:export"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 1 + 1  # header, the first issue, the note
    assert "1" in rows[-1][0]


def test_the_filter_form_is_drawn_once_per_query_and_language(client, coordinator, dept_a, settings):
    from django.core.cache import cache

    from .factories import DepartmentFactory

    login(client, coordinator)
    first = client.get(reverse("issues:list"), {"status": "new"}).content.decode()
    assert f">{dept_a.name}</option>" in first
    DepartmentFactory(name="市数据局")
    # The same query, on any of its pages: the menus as drawn a moment ago, without their queries.
    assert ">市数据局</option>" not in client.get(reverse("issues:list"), {"status": "new"}).content.decode()
    page_2 = client.get(reverse("issues:list"), {"status": "new", "page": 2}).content.decode()
    assert f">{dept_a.name}</option>" in page_2 and ">市数据局</option>" not in page_2
    # Another query or another language is drawn afresh, with the boxes of that query ticked.
    other = client.get(reverse("issues:list"), {"status": "closed"}).content.decode()
    assert ">市数据局</option>" in other
    assert 'value="closed" class="form-check-input" id="id_status_4" checked' in other
    client.cookies["django_language"] = "zh-hans"
    assert "全部单位" in client.get(reverse("issues:list"), {"status": "new"}).content.decode()
    cache.clear()  # FILTER_FORM_CACHE_SECONDS later
    client.cookies["django_language"] = "en"
    assert ">市数据局</option>" in client.get(reverse("issues:list"), {"status": "new"}).content.decode()
