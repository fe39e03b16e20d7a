"""The coordinators' admin of issue 17: people by name, common issues that close the loop,
the owner picker that follows the department, an assign step on the change page, Chinese
names throughout, withdrawn requests that read as withdrawn, and lists that stay cheap."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from issues import workflow
from issues.models import EventKind, Issue, IssueEvent, RequestStatus, Scope, Status
from issues.permissions import Action

from .factories import DepartmentFactory, UserFactory, category
from .helpers import login, raise_issue, travel


def changelist(**query) -> str:
    url = reverse("admin:issues_issue_changelist")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def change_url(issue) -> str:
    return reverse("admin:issues_issue_change", args=[issue.pk])


@pytest.fixture
def samr(db):
    return DepartmentFactory(name="市市场监管委", short_name="市场监管委")


@pytest.fixture
def sun_jing(samr):
    """A department member whose login says nothing about who she is."""
    return UserFactory(username="demo_samr", first_name="孙静", role="department", department=samr)


# -- 5. people by name, not login ----------------------------------------------------------------


def test_admin_shows_people_by_name_and_finds_them_by_name_or_login(
    coordinator_client, coordinator, official, samr, sun_jing, today
):
    issue = raise_issue(official, title="食品经营许可变更")
    workflow.assign(
        issue_id=issue.pk, by=coordinator, department=samr, owner=sun_jing, deadline=today + timedelta(10)
    )
    workflow.request_extension(
        issue_id=issue.pk, by=sun_jing, deadline=today + timedelta(20), reason="等待材料"
    )
    pages = {
        "changelist": changelist(),
        "change page (owner, raised by, timeline)": change_url(issue),
        "timeline list": reverse("admin:issues_issueevent_changelist"),
        "extension list": reverse("admin:issues_extensionrequest_changelist"),
        "extension page": reverse(
            "admin:issues_extensionrequest_change", args=[issue.extension_requests.get().pk]
        ),
    }
    for name, url in pages.items():
        body = coordinator_client.get(url).content.decode()
        assert "孙静" in body, name
        assert "demo_samr" not in body, name
    raised_by = coordinator_client.get(change_url(issue)).content.decode()
    assert official.first_name in raised_by
    for query in ("孙静", "demo_samr"):
        found = coordinator_client.get(changelist(q=query)).content.decode()
        assert "食品经营许可变更" in found, query
        events = coordinator_client.get(reverse("admin:issues_issueevent_changelist") + f"?q={query}")
        assert "食品经营许可变更" in events.content.decode(), query  # the actor, by name or login
    by_login = coordinator_client.get(reverse("admin:issues_extensionrequest_changelist") + "?q=demo_samr")
    assert "食品经营许可变更" in by_login.content.decode()


def test_one_definition_of_a_person():
    from issues import people, spreadsheet, trail  # noqa: F401

    assert not hasattr(spreadsheet, "person")
    user = UserFactory.build(username="demo_commerce", first_name="叶敏")
    assert people.person_name(user) == "叶敏"
    assert people.person_name(UserFactory.build(username="nobody", first_name="")) == "nobody"
    assert people.person_name(None) == ""


# -- 10. the owner picker follows the department; assign from the change page --------------------


def test_owner_picker_lists_names_with_departments_and_narrows_to_the_department(
    coordinator_client, new_issue, samr, sun_jing, dept_a, staff_a, today, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        page = coordinator_client.get(reverse("admin:issues_issue_assign", args=[new_issue.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert re.search(
        rf'<option value="{sun_jing.pk}" data-departments="{samr.pk}">孙静（市场监管委）</option>', body
    )
    assert "(demo_samr)" not in body
    assert "app/assign_form.js" in body  # the picker narrows in the browser too
    # Shown again after an error, with a department chosen: only its members are offered.
    again = coordinator_client.post(
        reverse("admin:issues_issue_assign", args=[new_issue.pk]),
        {"apply": "1", "department": samr.pk, "owner": staff_a.pk, "deadline": ""},
    )
    owners = again.context["form"].fields["owner"].queryset
    assert list(owners) == [sun_jing]
    assert "is not a member of" in again.content.decode()
    new_issue.refresh_from_db()
    assert new_issue.status == Status.NEW


def test_assign_from_the_change_page(coordinator_client, new_issue, samr, sun_jing, today):
    page = coordinator_client.get(change_url(new_issue)).content.decode()
    assign_url = reverse("admin:issues_issue_assign", args=[new_issue.pk])
    assert f'href="{assign_url}"' in page
    deadline = today + timedelta(days=15)
    response = coordinator_client.post(
        assign_url,
        {"apply": "1", "department": samr.pk, "owner": sun_jing.pk, "deadline": deadline.isoformat()},
    )
    assert response.status_code == 302 and response["Location"] == change_url(new_issue)
    new_issue.refresh_from_db()
    assert (new_issue.status, new_issue.lead_department, new_issue.owner) == (Status.ASSIGNED, samr, sun_jing)
    # Assigned now: no assign step on its page, and the address says why.
    assert f'href="{assign_url}"' not in coordinator_client.get(change_url(new_issue)).content.decode()
    refused = coordinator_client.get(assign_url, follow=True)
    assert "Only new issues can be assigned." in refused.content.decode()


def test_assign_from_the_change_page_is_for_coordinators_only(client, new_issue, dept_a, today):
    # A leader let into the admin sees every issue, but triage is for coordinators.
    clerk = UserFactory(username="clerk", role="leader", is_staff=True)
    response = login(client, clerk).post(
        reverse("admin:issues_issue_assign", args=[new_issue.pk]),
        {"apply": "1", "department": dept_a.pk, "deadline": (today + timedelta(9)).isoformat()},
    )
    assert response.status_code == 403
    new_issue.refresh_from_db()
    assert new_issue.status == Status.NEW


# -- 7. common issues close the loop ---------------------------------------------------------------


def test_merged_issues_leave_the_triage_queue_with_a_marker(coordinator_client, official):
    first, second = raise_issue(official, title="用电增容难甲"), raise_issue(official, title="用电增容难乙")
    waiting = raise_issue(official, title="尚未分派的问题")
    coordinator_client.post(
        changelist(),
        {
            "action": "merge_into_common_issue",
            "_selected_action": [first.pk, second.pk],
            "apply": "1",
            "title": "多家企业反映用电增容难",
            "category": category().pk,
        },
    )
    common = Issue.objects.get(scope=Scope.COMMON)
    queue = coordinator_client.get(changelist(triage="waiting")).content.decode()
    assert waiting.title in queue
    assert first.title not in queue and second.title not in queue
    listing = coordinator_client.get(changelist()).content.decode()
    assert listing.count(f"Merged into common issue #{common.pk}") == 2
    page = coordinator_client.get(change_url(first)).content.decode()
    assert f"Merged into common issue #{common.pk}" in page
    assert "2 enterprise issues follow it" in coordinator_client.get(change_url(common)).content.decode()
    # Linking was their triage, judged once, in time.
    triage = IssueEvent.objects.filter(issue__in=[first, second], triage=True)
    assert [(e.kind, e.in_time) for e in triage] == [(EventKind.MERGED, True)] * 2


def test_assigning_the_common_issue_carries_its_linked_issues_and_judges_no_late_triage(
    client, coordinator, official, samr, sun_jing, today
):
    raised = today - timedelta(days=10)
    with travel(raised):
        linked = raise_issue(official, title="关联问题", raised_on=raised)
        common = workflow.create_common_issue(by=coordinator, title="共性问题", category=category())
        workflow.merge_into_common(issue_ids=[linked.pk], common_issue_id=common.pk, by=coordinator)
    linked.refresh_from_db()
    assert linked.status == Status.NEW and linked.respond_by < today  # its triage window is over
    client = login(client, coordinator)
    deadline = today + timedelta(days=20)
    response = client.post(
        reverse("admin:issues_issue_assign", args=[common.pk]),
        {"apply": "1", "department": samr.pk, "owner": sun_jing.pk, "deadline": deadline.isoformat()},
    )
    assert response.status_code == 302
    linked.refresh_from_db()
    assert (linked.status, linked.lead_department, linked.deadline) == (Status.ASSIGNED, samr, deadline)
    assigned = IssueEvent.objects.get(issue=linked, kind=EventKind.ASSIGNED)
    assert assigned.triage is False and assigned.in_time is None  # triaged when merged, in time
    assert IssueEvent.objects.filter(issue=linked, triage=True, in_time=False).count() == 0
    # Never red for a missed triage while it waited for the common issue.
    assert not Issue.objects.with_colour_filter("red").filter(pk=linked.pk).exists()


# -- 16 (part). a common issue is not linked to another one ----------------------------------------


def test_a_common_issue_is_not_offered_link_to_a_common_issue(coordinator_client, coordinator, official):
    common = workflow.create_common_issue(by=coordinator, title="共性问题", category=category())
    individual = raise_issue(official)
    assert not workflow.state_allows(Action.MERGE, common)
    assert workflow.state_allows(Action.MERGE, individual)
    page = coordinator_client.get(common.get_absolute_url()).content.decode()
    assert 'value="merge"' not in page and "Link to a common issue" not in page
    assert "Link to a common issue" in coordinator_client.get(individual.get_absolute_url()).content.decode()
    commons = coordinator_client.get(changelist(scope="common")).content.decode()
    assert 'value="merge_into_common_issue"' not in commons


# -- 12. a withdrawn extension request reads as withdrawn ------------------------------------------


def test_a_withdrawn_extension_request_reads_as_withdrawn(
    coordinator_client, coordinator, official, samr, sun_jing, today, django_assert_max_num_queries
):
    issue = raise_issue(official, title="出口退税办理周期长")
    workflow.assign(
        issue_id=issue.pk, by=coordinator, department=samr, owner=sun_jing, deadline=today + timedelta(9)
    )
    request = workflow.request_extension(
        issue_id=issue.pk, by=sun_jing, deadline=today + timedelta(30), reason="等待企业补充材料"
    )
    workflow.resolve(issue_id=issue.pk, by=sun_jing, resolution="已办结")
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN and request.decided_by == sun_jing
    with django_assert_max_num_queries(12):  # the list reads each request's people in one join
        listing = coordinator_client.get(reverse("admin:issues_extensionrequest_changelist")).content.decode()
    row = listing[listing.index("出口退税办理周期长") :]
    row = row[: row.index("</tr>")]
    assert "Withdrawn" in row and "not decided: the issue was resolved first" in row
    assert "Refused" not in row
    page = coordinator_client.get(reverse("admin:issues_extensionrequest_change", args=[request.pk]))
    body = page.content.decode()
    assert "Withdrawn" in body and "decided by" not in body.lower()
    assert "Refused" not in body
    issue_page = coordinator_client.get(issue.get_absolute_url()).content.decode()
    assert "Withdrawn" in issue_page and "Refused" not in issue_page


def test_decided_requests_say_who_decided(coordinator_client, coordinator, official, samr, sun_jing, today):
    issue = raise_issue(official)
    workflow.assign(
        issue_id=issue.pk, by=coordinator, department=samr, owner=sun_jing, deadline=today + timedelta(9)
    )
    request = workflow.request_extension(
        issue_id=issue.pk, by=sun_jing, deadline=today + timedelta(30), reason="x"
    )
    workflow.decide_extension(request_id=request.pk, by=coordinator, approve=False, note="理由不充分")
    listing = coordinator_client.get(reverse("admin:issues_extensionrequest_changelist")).content.decode()
    assert "Refused" in listing and coordinator.first_name in listing


# -- 11. Chinese throughout; the admin leads a non-staff user somewhere useful ---------------------


@pytest.mark.parametrize("role", ["department", "official", "leader"])
def test_signed_in_without_admin_access_goes_to_the_start_page(client, role, dept_a):
    user = UserFactory(username=f"no-admin-{role}", role=role, department=dept_a)
    response = login(client, user).get("/admin/", follow=True)
    final = response.redirect_chain[-1][0]
    assert not final.startswith(reverse("admin:login"))
    assert final == (reverse("dashboard:index") if role == "leader" else reverse("home"))
    assert "The administration pages are for coordinators and administrators." in response.content.decode()


def test_the_admin_login_page_still_signs_in_a_coordinator(client, coordinator):
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith(reverse("admin:login"))
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": "coordinator", "password": "correct-horse-battery-9", "next": "/admin/"},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_admin_names_apps_roles_and_permissions_in_chinese(client, admin_user):
    client.force_login(admin_user)  # Chinese, the default
    index = client.get(reverse("admin:index")).content.decode()
    for english in ("Axes", "Tasks Database Backend", "Access attempts", "Task Results"):
        assert english not in index, english
    assert "登录保护" in index and "后台任务" in index
    group = Group.objects.get(name="coordinator")
    page = client.get(reverse("admin:auth_group_change", args=[group.pk])).content.decode()
    assert "Can view" not in page and "Can add" not in page
    assert "可查看" in page
    assert "统筹协调" in page  # the group's role, by name
    # The two-box picker's own words, which Django's Chinese catalogue lacks.
    assert '"Choose all %s": "\\u5168\\u9009%s"' in client.get(reverse("admin:jsi18n")).content.decode()
    groups = client.get(reverse("admin:auth_group_changelist")).content.decode()
    assert "统筹协调" in groups
    categories = client.get(reverse("admin:issues_category_changelist")).content.decode()
    assert "审批许可" in categories and ">approvals<" not in categories
