"""Enterprise list and enterprise page, as each role sees them."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enterprises.models import District, Sector
from issues import workflow
from visits.models import VisitStatus

from .factories import (
    ContactFactory,
    DepartmentFactory,
    EnterpriseFactory,
    IssueFactory,
    OfficialFactory,
    SurveyResponseFactory,
    VisitFactory,
    valid_credit_code,
)

LIST = reverse("enterprises:list")
pytestmark = pytest.mark.django_db


def names(response) -> set[str]:
    return {e.name for e in response.context["page"].object_list}


def detail(enterprise) -> str:
    return reverse("enterprises:detail", args=[enterprise.pk])


# -- list: every role reads it; only those who log visits get the button ------------------


@pytest.mark.parametrize(
    ("role", "may_log"),
    [("official", True), ("coordinator", True), ("leader", False), ("staff_a", False)],
)
def test_list_for_each_role(request, as_user, role, may_log):
    EnterpriseFactory(name="天津甲公司")
    response = as_user(request.getfixturevalue(role)).get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "天津甲公司" in body
    assert (reverse("visits:create") in body) is may_log


def test_list_needs_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_list_shows_visit_count_last_visit_and_open_issues(as_user, coordinator, official):
    enterprise = EnterpriseFactory(name="统计企业")
    VisitFactory(enterprise=enterprise, visited_on=date(2025, 3, 1))
    last = VisitFactory(enterprise=enterprise, visited_on=date(2025, 5, 9))
    VisitFactory(enterprise=enterprise, visited_on=date(2099, 1, 1), status=VisitStatus.PLANNED)
    IssueFactory(enterprise=enterprise, visit=last)
    IssueFactory(enterprise=enterprise, visit=last)
    closed = IssueFactory(enterprise=enterprise, visit=last)
    workflow.close(issue_id=closed.pk, by=coordinator, outcome="duplicate", reason="重复")
    row = as_user(coordinator).get(LIST).context["page"].object_list[0]
    assert (row.visit_count, row.last_visited_on, row.open_issue_count) == (2, date(2025, 5, 9), 2)
    body = as_user(coordinator).get(LIST).content.decode()
    assert "2025-05-09" in body


def test_open_issue_count_only_counts_issues_the_user_may_see(client, official, staff_a):
    enterprise = EnterpriseFactory()
    IssueFactory(enterprise=enterprise, visit__created_by=official)
    IssueFactory(enterprise=enterprise)  # logged by another official
    client.force_login(official)
    assert client.get(LIST).context["page"].object_list[0].open_issue_count == 1
    client.force_login(staff_a)  # nothing assigned to dept A
    assert client.get(LIST).context["page"].object_list[0].open_issue_count == 0


def test_list_is_paginated_by_25(as_user, official):
    EnterpriseFactory.create_batch(30)
    client = as_user(official)
    assert len(client.get(LIST).context["page"].object_list) == 25
    second = client.get(LIST, {"page": 2})
    assert len(second.context["page"].object_list) == 5


# -- filters: each GET parameter of the URL contract ---------------------------------------


@pytest.fixture
def three(db):
    other = District.objects.get(name="和平区")
    a = EnterpriseFactory(
        name="甲钢铁集团", sector=Sector.INDUSTRIAL, is_key=True, credit_code=valid_credit_code(7)
    )
    b = EnterpriseFactory(name="乙商贸公司", sector=Sector.WHOLESALE_RETAIL, is_key=False, district=other)
    c = EnterpriseFactory(name="丙物流公司", sector=Sector.SERVICES, is_key=True)
    VisitFactory(enterprise=a, visited_on=date(2025, 1, 10))
    VisitFactory(enterprise=b, visited_on=date(2025, 6, 10))
    VisitFactory(enterprise=c, visited_on=date(2025, 6, 10), status=VisitStatus.PLANNED)  # not a visit yet
    return a, b, c


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "钢铁"}, {"甲钢铁集团"}),
        ({"q": valid_credit_code(7)[-8:].lower()}, {"甲钢铁集团"}),
        ({"sector": "wholesale_retail"}, {"乙商贸公司"}),
        ({"is_key": "true"}, {"甲钢铁集团", "丙物流公司"}),
        ({"is_key": "false"}, {"乙商贸公司"}),
        ({"visited": "yes"}, {"甲钢铁集团", "乙商贸公司"}),
        ({"visited": "no"}, {"丙物流公司"}),
        ({"visited": "yes", "visited_after": "2025-03-01"}, {"乙商贸公司"}),
        ({"visited": "yes", "visited_before": "2025-03-01"}, {"甲钢铁集团"}),
        ({"visited": "no", "visited_after": "2025-03-01"}, {"甲钢铁集团", "丙物流公司"}),
        ({"visited_after": "2025-01-01", "visited_before": "2025-01-31"}, {"甲钢铁集团"}),
        ({"q": "公司", "is_key": "true", "visited": "no"}, {"丙物流公司"}),
        ({}, {"甲钢铁集团", "乙商贸公司", "丙物流公司"}),
    ],
)
def test_filters(as_user, official, three, params, expected):
    response = as_user(official).get(LIST, params)
    assert response.status_code == 200
    assert names(response) == expected


def test_district_filter(as_user, official, three):
    other = District.objects.get(name="和平区")
    assert names(as_user(official).get(LIST, {"district": other.pk})) == {"乙商贸公司"}


@pytest.mark.parametrize(
    "params", [{"q": "' OR 1=1 --"}, {"q": "%_\\"}, {"district": "abc"}, {"visited_after": "x"}]
)
def test_odd_filter_input_never_fails(as_user, official, three, params):
    response = as_user(official).get(LIST, params)
    assert response.status_code == 200
    assert names(response) == set()


def test_list_escapes_names(as_user, official):
    EnterpriseFactory(name='<script>alert(1)</script>"><img onerror=x>')
    body = as_user(official).get(LIST).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# -- enterprise page -------------------------------------------------------------------------


def test_detail_shows_profile_contacts_survey_visits_and_issues(as_user, coordinator):
    enterprise = EnterpriseFactory(name="中国石化天津分公司", address="滨海新区大港")
    ContactFactory(enterprise=enterprise, name="李经理", phone="022-66668888", is_primary=True)
    SurveyResponseFactory(enterprise=enterprise, difficulties="用电成本高", needs="希望协调电价")
    visit = VisitFactory(enterprise=enterprise, visited_on=date(2025, 4, 2), summary="了解扩建项目进展")
    issue = IssueFactory(enterprise=enterprise, visit=visit, title="能评审批慢")
    deadline = timezone.localdate() + timedelta(days=30)
    workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=DepartmentFactory(name="市工信局"),
        deadline=deadline,
    )
    response = as_user(coordinator).get(detail(enterprise))
    body = response.content.decode()
    assert response.status_code == 200
    for text in (
        "中国石化天津分公司",
        enterprise.credit_code,
        "滨海新区大港",
        "李经理",
        "022-66668888",
        "用电成本高",
        "希望协调电价",
        "2025-04-02",
        "了解扩建项目进展",
        "能评审批慢",
        "市工信局",
        deadline.strftime("%Y-%m-%d"),
        "status-assigned",
        reverse("visits:detail", args=[visit.pk]),
    ):
        assert text in body, text


def test_detail_visits_show_officials_status_and_a_shortened_summary_escaped(as_user, coordinator):
    enterprise = EnterpriseFactory()
    leaders = [OfficialFactory(name="王<b>", title=""), OfficialFactory(name="李明", title="副市长")]
    VisitFactory(
        enterprise=enterprise,
        lead_officials=leaders,
        status=VisitStatus.PLANNED,
        visited_on=date(2026, 5, 6),
        summary="长" * 130 + "<i>",
    )
    body = as_user(coordinator).get(detail(enterprise), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "李明（副市长）、王&lt;b&gt;" in body  # by name, escaped
    visits = body.split('id="visits"')[1].split("</section>")[0]
    assert "<b>" not in visits and "<i>" not in visits
    # at most 120 characters, the ellipsis included (Django's Chinese ellipsis is "...")
    assert "长" * 110 in visits and "长" * 120 not in visits
    assert '<span class="badge text-bg-info">计划中</span>' in body


def test_detail_shows_overdue_colour(as_user, coordinator, dept_a):
    enterprise = EnterpriseFactory()
    issue = IssueFactory(enterprise=enterprise)
    workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=dept_a,
        deadline=timezone.localdate() + timedelta(days=1),
    )
    type(issue).objects.filter(pk=issue.pk).update(deadline=timezone.localdate() - timedelta(days=2))
    body = as_user(coordinator).get(detail(enterprise)).content.decode()
    assert "colour-red" in body


def test_detail_lists_only_issues_the_user_may_see(client, official, staff_a, leader, coordinator, dept_a):
    enterprise = EnterpriseFactory()
    mine = IssueFactory(enterprise=enterprise, visit__created_by=official, title="我记录的问题")
    other = IssueFactory(enterprise=enterprise, title="别人记录的问题")
    workflow.assign(
        issue_id=other.pk,
        by=coordinator,
        department=dept_a,
        deadline=timezone.localdate() + timedelta(days=9),
    )
    seen = {}
    for user in (official, staff_a, leader):
        client.force_login(user)
        body = client.get(detail(enterprise)).content.decode()
        seen[user.username] = {t for t in (mine.title, other.title) if t in body}
    assert seen == {
        "official": {"我记录的问题"},
        "staff_a": {"别人记录的问题"},
        "leader": {"我记录的问题", "别人记录的问题"},
    }


def test_detail_shows_all_open_issues_and_the_latest_visits_and_closed_issues(as_user, coordinator, dept_a):
    """A busy enterprise: every open issue, the latest 20 visits and closed issues, links to all."""
    enterprise = EnterpriseFactory()
    today = timezone.localdate()
    visits = [
        VisitFactory(enterprise=enterprise, visited_on=today - timedelta(days=i), summary=f"走访纪要{i:02d}")
        for i in range(23)
    ]
    closed = []
    for i in range(22):
        issue = IssueFactory(enterprise=enterprise, visit=visits[0], title=f"已办结问题{i:02d}")
        workflow.close(issue_id=issue.pk, by=coordinator, outcome="duplicate", reason="重复")
        closed.append(issue)
    # the oldest closed ones first: closed_at orders the list
    for i, issue in enumerate(closed):
        type(issue).objects.filter(pk=issue.pk).update(closed_at=timezone.now() - timedelta(days=30 - i))
    open_issues = [
        IssueFactory(enterprise=enterprise, visit=visits[0], title=f"待办问题{i:02d}") for i in range(3)
    ]
    workflow.assign(
        issue_id=open_issues[0].pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=9)
    )

    response = as_user(coordinator).get(detail(enterprise))
    body = response.content.decode()
    assert [i.pk for i in response.context["open_issues"]] == [
        open_issues[0].pk,
        open_issues[2].pk,
        open_issues[1].pk,
    ]
    assert all(f"待办问题{i:02d}" in body for i in range(3))
    # visits: the latest 20 (days 0..19), a count of all and a link to all of them
    assert [v.pk for v in response.context["visits"]] == [v.pk for v in visits[:20]]
    assert "走访纪要19" in body and "走访纪要20" not in body
    assert response.context["visit_count"] == 23
    visits_url = f"{reverse('visits:list')}?enterprise={enterprise.pk}"
    assert f'href="{visits_url}"' in body
    # closed issues: the 20 closed most recently (21 down to 2), count and link
    assert [i.pk for i in response.context["closed_issues"]] == [i.pk for i in reversed(closed[2:])]
    assert "已办结问题02" in body and "已办结问题01" not in body
    assert response.context["closed_issue_count"] == 22
    closed_url = f"{reverse('issues:list')}?enterprise={enterprise.pk}&amp;status=closed"
    assert f'href="{closed_url}"' in body
    # the link shows exactly the counted rows
    listed = as_user(coordinator).get(
        reverse("issues:list"), {"enterprise": enterprise.pk, "status": "closed"}
    )
    assert listed.context["page"].paginator.count == 22


def test_detail_without_more_has_no_see_all_links(as_user, coordinator):
    enterprise = EnterpriseFactory()
    VisitFactory(enterprise=enterprise)
    body = as_user(coordinator).get(detail(enterprise)).content.decode()
    assert 'id="all-visits"' not in body and 'id="all-closed-issues"' not in body
    assert "No closed issues you can see." in body or "closed-issues" in body


@pytest.mark.parametrize(
    ("role", "may_log"), [("official", True), ("coordinator", True), ("leader", False), ("staff_a", False)]
)
def test_detail_buttons_by_role(request, as_user, role, may_log):
    enterprise = EnterpriseFactory()
    body = as_user(request.getfixturevalue(role)).get(detail(enterprise)).content.decode()
    assert (reverse("visits:plan") in body) is may_log


def test_detail_404_for_unknown_enterprise(as_user, official):
    assert as_user(official).get(reverse("enterprises:detail", args=[999999])).status_code == 404


def test_pages_refuse_post(as_user, leader):
    enterprise = EnterpriseFactory()
    client = as_user(leader)
    assert client.post(LIST).status_code == 405
    assert client.post(detail(enterprise)).status_code == 405


# -- the search the visit form uses ----------------------------------------------------------


def test_lookup_by_name_and_code(as_user, official):
    a = EnterpriseFactory(name="长城汽车天津分公司")
    EnterpriseFactory(name="今日头条")
    client = as_user(official)
    data = client.get(reverse("enterprises:lookup"), {"q": "长城"}).json()
    assert [r["id"] for r in data["results"]] == [a.pk]
    assert data["results"][0]["label"] == f"长城汽车天津分公司 {a.credit_code}"
    by_code = client.get(reverse("enterprises:lookup"), {"q": a.credit_code.lower()}).json()
    assert [r["id"] for r in by_code["results"]] == [a.pk]


def test_lookup_needs_login(client):
    assert client.get(reverse("enterprises:lookup"), {"q": "x"}).status_code == 302


# -- bounded queries at two data sizes -------------------------------------------------------


def _populate(n: int, official, coordinator, dept_a):
    for i in range(n):
        enterprise = EnterpriseFactory(is_key=i % 2 == 0)
        ContactFactory(enterprise=enterprise)
        visit = VisitFactory(enterprise=enterprise, created_by=official)
        issue = IssueFactory(enterprise=enterprise, visit=visit)
        if i % 3 == 0:
            workflow.assign(
                issue_id=issue.pk,
                by=coordinator,
                department=dept_a,
                deadline=timezone.localdate() + timedelta(days=5),
            )
    return enterprise


LIST_QUERIES = 10  # measured: 9 (10 for department staff: their department ids), at 5 and 60
DETAIL_QUERIES = (
    11  # measured: 10 (11 for department staff), at 5 and 60: open and closed issues are two lists
)


@pytest.mark.parametrize("n", [5, 60])
@pytest.mark.parametrize("role", ["official", "coordinator", "staff_a", "leader"])
def test_query_counts_do_not_grow(
    request, client, django_assert_max_num_queries, official, coordinator, dept_a, n, role
):
    last = _populate(n, official, coordinator, dept_a)
    for _ in range(n // 5):  # the detail page grows too: more visits and issues on one enterprise
        IssueFactory(enterprise=last, visit=VisitFactory(enterprise=last, created_by=official))
    client.force_login(request.getfixturevalue(role))
    with django_assert_max_num_queries(LIST_QUERIES):
        assert client.get(LIST, {"visited": "yes", "q": "天津"}).status_code == 200
    with django_assert_max_num_queries(DETAIL_QUERIES):
        assert client.get(detail(last)).status_code == 200


def test_detail_lists_past_visits_latest_first_then_planned_soonest_first(as_user, coordinator):
    """Planned visits dated in the future do not push today's and last week's visits down."""
    enterprise = EnterpriseFactory()
    today = timezone.localdate()
    dated = {
        "today": (today, VisitStatus.COMPLETED),
        "last week": (today - timedelta(days=7), VisitStatus.COMPLETED),
        "cancelled": (today - timedelta(days=3), VisitStatus.CANCELLED),
        "next month": (today + timedelta(days=30), VisitStatus.PLANNED),
        "tomorrow": (today + timedelta(days=1), VisitStatus.PLANNED),
    }
    made = {
        label: VisitFactory(enterprise=enterprise, visited_on=day, status=status).pk
        for label, (day, status) in dated.items()
    }
    shown = [v.pk for v in as_user(coordinator).get(detail(enterprise)).context["visits"]]
    order = ["today", "cancelled", "last week", "tomorrow", "next month"]
    assert shown == [made[label] for label in order]
