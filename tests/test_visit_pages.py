"""Visit pages: log a visit with its issues (all or nothing), plan, edit, list, page."""

import os
import uuid
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from issues import workflow
from issues.models import Issue, IssueEvent, Outcome, Status
from visits import services
from visits.models import Topic, Visit, VisitStatus

from .factories import (
    DepartmentFactory,
    EnterpriseFactory,
    IssueFactory,
    OfficialFactory,
    UserFactory,
    VisitFactory,
    category,
)

CREATE = reverse("visits:create")
PLAN = reverse("visits:plan")
LIST = reverse("visits:list")
pytestmark = pytest.mark.django_db


def edit_url(visit) -> str:
    return reverse("visits:edit", args=[visit.pk])


def detail_url(visit) -> str:
    return reverse("visits:detail", args=[visit.pk])


def visit_post(target, officials, issues=(), token=None, **overrides) -> dict:
    """The POST body the log-a-visit form sends; `issues` are dicts of row fields."""
    data = {
        "enterprise": f"{target.name} {target.credit_code}",
        "visited_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "lead_officials": [o.pk for o in officials],
        "topics": [Topic.PRODUCTION, Topic.ORDERS],
        "policies_explained": "稳岗返还政策",
        "summary": "企业生产经营总体平稳，订单增长",
        "submission_token": str(token or uuid.uuid4()),
        "issues-TOTAL_FORMS": str(max(3, len(issues))),
        "issues-INITIAL_FORMS": "0",
        "issues-MIN_NUM_FORMS": "0",
        "issues-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(issues):
        for key, value in row.items():
            if value is not False:
                data[f"issues-{i}-{key}"] = "on" if value is True else value
    data.update(overrides)
    return data


@pytest.fixture
def enterprise(db):
    return EnterpriseFactory(name="大众汽车自动变速器（天津）有限公司")


@pytest.fixture
def mayor(db):
    return OfficialFactory(name="王副市长")


def two_issues():
    return [
        {"title": "扩建项目能评审批", "category": str(category("approvals").pk), "description": "需加快能评"},
        {
            "title": "电子税务局操作不便",
            "category": str(category("tax").pk),
            "solved_on_site": True,
            "resolution": "税务局现场开通专属服务通道",
        },
    ]


# -- who may log a visit -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("official", 200), ("coordinator", 200), ("leader", 403), ("staff_a", 403)]
)
@pytest.mark.parametrize("url", [CREATE, PLAN])
def test_create_pages_by_role(request, as_user, role, status, url):
    response = as_user(request.getfixturevalue(role)).get(url)
    assert response.status_code == status


def test_leader_post_is_refused_and_saves_nothing(as_user, leader, enterprise, mayor):
    response = as_user(leader).post(CREATE, visit_post(enterprise, [mayor], two_issues()))
    assert response.status_code == 403
    assert Visit.objects.count() == Issue.objects.count() == 0


def test_staff_post_is_refused(as_user, staff_a, enterprise, mayor):
    assert as_user(staff_a).post(PLAN, visit_post(enterprise, [mayor])).status_code == 403
    assert Visit.objects.count() == 0


def test_form_offers_key_enterprises_and_empty_issue_rows(as_user, official, enterprise):
    EnterpriseFactory(name="非重点企业", is_key=False)
    body = as_user(official).get(CREATE).content.decode()
    assert f'<option value="{enterprise.name} {enterprise.credit_code}">' in body
    assert "非重点企业" not in body  # without JS only key enterprises are suggested
    assert body.count("data-issue-form") == 4  # three rows + the template for "add another"
    assert 'name="submission_token"' in body
    assert 'id="add-issue"' in body


def test_form_preselects_enterprise_and_my_official(as_user, official, enterprise):
    me = OfficialFactory(name="张处长", user=official)
    response = as_user(official).get(CREATE, {"enterprise": enterprise.pk})
    form = response.context["form"]
    assert form["enterprise"].value() == f"{enterprise.name} {enterprise.credit_code}"
    assert form["lead_officials"].value() == [me.pk]


# -- log a visit with its issues ---------------------------------------------------------------


def test_log_visit_with_two_issues_one_solved_on_the_spot(as_user, official, enterprise, mayor, dept_a):
    data = visit_post(enterprise, [mayor], two_issues(), accompanying_departments=[dept_a.pk])
    response = as_user(official).post(CREATE, data)
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(visit)
    assert (visit.enterprise, visit.status, visit.created_by) == (enterprise, VisitStatus.COMPLETED, official)
    assert visit.topics == ["production", "orders"]
    assert list(visit.lead_officials.all()) == [mayor]
    assert list(visit.accompanying_departments.all()) == [dept_a]
    open_issue, solved = visit.issues.order_by("id")
    assert (open_issue.status, open_issue.source, open_issue.raised_by) == (Status.NEW, "visit", official)
    assert open_issue.raised_on == visit.visited_on
    assert (solved.status, solved.outcome, solved.solved_on_site) == (Status.CLOSED, Outcome.RESOLVED, True)
    assert solved.resolution == "税务局现场开通专属服务通道"
    # raised, resolved on the spot, closed
    assert IssueEvent.objects.filter(issue=solved).count() == 3
    page = as_user(official).get(response["Location"]).content.decode()
    assert "扩建项目能评审批" in page and "电子税务局操作不便" in page
    assert "status-closed" in page and "status-new" in page


def test_enterprise_found_by_credit_code_or_unique_part_of_name(as_user, official, enterprise, mayor):
    client = as_user(official)
    client.post(CREATE, visit_post(enterprise, [mayor], enterprise=enterprise.credit_code.lower()))
    client.post(CREATE, visit_post(enterprise, [mayor], enterprise="自动变速器"))
    assert Visit.objects.filter(enterprise=enterprise).count() == 2


@pytest.mark.parametrize(
    ("typed", "message"),
    [("没有这家企业", "No enterprise has this name or credit code."), ("天津", "Several enterprises match")],
)
def test_enterprise_not_found_or_ambiguous(as_user, official, enterprise, mayor, settings, typed, message):
    settings.LANGUAGE_CODE = "en"
    EnterpriseFactory(name="天津另一家公司")
    response = as_user(official).post(
        CREATE, visit_post(enterprise, [mayor], enterprise=typed), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["enterprise"])
    assert Visit.objects.count() == 0


def test_one_invalid_issue_row_saves_nothing_and_keeps_every_entry(as_user, official, enterprise, mayor):
    rows = two_issues()
    rows[1]["resolution"] = ""  # solved on the spot, but how?
    data = visit_post(enterprise, [mayor], rows)
    response = as_user(official).post(CREATE, data)
    assert response.status_code == 200
    assert Visit.objects.count() == 0
    assert Issue.objects.count() == 0
    formset = response.context["formset"]
    assert "resolution" in formset.forms[1].errors
    assert not formset.forms[0].errors
    body = response.content.decode()
    # Every entry is still there, and the error sits beside the resolution field.
    for kept in (
        "企业生产经营总体平稳，订单增长",
        "稳岗返还政策",
        "扩建项目能评审批",
        "需加快能评",
        "电子税务局操作不便",
        data["submission_token"],
    ):
        assert kept in body, kept
    resolution_tag = body[body.index('<textarea name="issues-1-resolution"') :]
    resolution_tag = resolution_tag[: resolution_tag.index(">")]
    assert "is-invalid" in resolution_tag
    after = body[body.index('<textarea name="issues-1-resolution"') :]
    assert after.index("invalid-feedback") < after.index("issues-1-DELETE")  # the message is beside it
    solved_tag = body[body.index('name="issues-1-solved_on_site"') :]
    assert "checked" in solved_tag[: solved_tag.index(">")]


def test_issue_row_without_category_is_an_error_beside_it(as_user, official, enterprise, mayor):
    response = as_user(official).post(CREATE, visit_post(enterprise, [mayor], [{"title": "缺类别的问题"}]))
    assert response.status_code == 200
    assert "category" in response.context["formset"].forms[0].errors
    assert Visit.objects.count() == 0


def test_visit_errors_are_shown_and_nothing_saved(as_user, official, enterprise, mayor):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    data = visit_post(enterprise, [mayor], two_issues(), visited_on=tomorrow, summary="", lead_officials=[])
    response = as_user(official).post(CREATE, data)
    errors = response.context["form"].errors
    assert set(errors) >= {"visited_on", "summary", "lead_officials"}
    assert Visit.objects.count() == Issue.objects.count() == 0
    assert "电子税务局操作不便" in response.content.decode()


def test_empty_and_removed_rows_are_ignored(as_user, official, enterprise, mayor):
    rows = two_issues()
    rows[0]["DELETE"] = True
    rows[0]["category"] = ""  # an invalid row marked for removal does not block the save
    response = as_user(official).post(CREATE, visit_post(enterprise, [mayor], rows + [{}, {}]))
    assert response.status_code == 302
    assert list(Issue.objects.values_list("title", flat=True)) == ["电子税务局操作不便"]


def test_many_issue_rows(as_user, official, enterprise, mayor):
    rows = [{"title": f"问题{i}", "category": str(category("other").pk)} for i in range(7)]
    assert as_user(official).post(CREATE, visit_post(enterprise, [mayor], rows)).status_code == 302
    assert Issue.objects.count() == 7


# -- double submission -------------------------------------------------------------------------


def test_same_token_twice_makes_one_visit_and_redirects_to_it(as_user, official, enterprise, mayor):
    client = as_user(official)
    data = visit_post(enterprise, [mayor], two_issues())
    first = client.post(CREATE, data, follow=True)
    second = client.post(CREATE, data, follow=True)
    visit = Visit.objects.get()
    assert first.redirect_chain == second.redirect_chain == [(detail_url(visit), 302)]
    assert Issue.objects.count() == 2
    assert [m.level_tag for m in first.context["messages"]] == ["success"]
    assert [m.level_tag for m in second.context["messages"]] == ["info"]  # "already saved"


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (DATABASE_URL): in-memory SQLite cannot run two writers in threads",
)
@pytest.mark.django_db(transaction=True)
def test_same_token_posted_by_two_racing_requests_makes_one_visit():
    """SECURITY #30: the IntegrityError path, when both posts pass the token check at once."""
    import threading

    from django.db import connection
    from django.test import Client

    official = UserFactory(username="racer", role="official")
    target, mayor = EnterpriseFactory(), OfficialFactory()
    data = visit_post(target, [mayor], two_issues())
    start, results = threading.Barrier(2, timeout=20), []

    def post():
        try:
            client = Client()
            client.force_login(official)
            start.wait()
            results.append(client.post(CREATE, data))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    visit = Visit.objects.get()
    assert [r.status_code for r in results] == [302, 302]
    assert {r["Location"] for r in results} == {detail_url(visit)}
    assert Issue.objects.count() == 2


def test_token_of_a_failed_post_can_be_reused(as_user, official, enterprise, mayor):
    client = as_user(official)
    token = uuid.uuid4()
    client.post(CREATE, visit_post(enterprise, [mayor], token=token, summary=""))
    assert Visit.objects.count() == 0
    assert client.post(CREATE, visit_post(enterprise, [mayor], token=token)).status_code == 302
    assert Visit.objects.get().submission_token == token


def test_service_returns_the_existing_visit_for_a_used_token(official, enterprise, mayor):
    token = uuid.uuid4()
    values = dict(
        by=official,
        enterprise=enterprise,
        visited_on=date(2025, 5, 1),
        status=VisitStatus.COMPLETED,
        lead_officials=[mayor],
        summary="x",
    )
    first, created = services.create_visit(submission_token=token, **values)
    again, created_again = services.create_visit(submission_token=token, **values)
    assert (created, created_again, again.pk) == (True, False, first.pk)


# -- plan a visit ------------------------------------------------------------------------------


def test_plan_a_visit(as_user, official, enterprise, mayor, dept_a):
    day = timezone.localdate() + timedelta(days=10)
    data = visit_post(
        enterprise, [mayor], visited_on=day.isoformat(), summary="", accompanying_departments=[dept_a.pk]
    )
    response = as_user(official).post(PLAN, data)
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert (visit.status, visit.visited_on, visit.summary) == (VisitStatus.PLANNED, day, "")


def test_plan_in_the_past_is_refused(as_user, official, enterprise, mayor):
    response = as_user(official).post(PLAN, visit_post(enterprise, [mayor]))
    assert "visited_on" in response.context["form"].errors
    assert Visit.objects.count() == 0


# -- edit ------------------------------------------------------------------------------------


def edit_post(visit, **overrides) -> dict:
    data = {
        "enterprise": visit.enterprise.credit_code,
        "visited_on": visit.visited_on.isoformat(),
        "status": visit.status,
        "lead_officials": [o.pk for o in visit.lead_officials.all()],
        "topics": visit.topics,
        "policies_explained": visit.policies_explained,
        "summary": visit.summary,
        "version": str(visit.version),
        "issues-TOTAL_FORMS": "3",
        "issues-INITIAL_FORMS": "0",
        "issues-MIN_NUM_FORMS": "0",
        "issues-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_creator_edits_own_visit(as_user, official):
    visit = VisitFactory(created_by=official)
    client = as_user(official)
    assert client.get(edit_url(visit)).status_code == 200
    response = client.post(edit_url(visit), edit_post(visit, summary="补充：企业计划新增产线"))
    visit.refresh_from_db()
    assert response.status_code == 302
    assert (visit.summary, visit.version) == ("补充：企业计划新增产线", 2)


@pytest.mark.parametrize("role", ["leader", "staff_a"])
def test_others_may_not_edit(request, as_user, official, role):
    visit = VisitFactory(created_by=official, summary="原始记录")
    client = as_user(request.getfixturevalue(role))
    assert client.get(edit_url(visit)).status_code == 403
    assert client.post(edit_url(visit), edit_post(visit, summary="篡改")).status_code == 403
    visit.refresh_from_db()
    assert visit.summary == "原始记录"


def test_another_official_may_not_edit(as_user, official):
    visit = VisitFactory(created_by=official, summary="原始记录")
    other = UserFactory(username="official2", role="official")
    client = as_user(other)
    assert client.get(edit_url(visit)).status_code == 403
    assert client.post(edit_url(visit), edit_post(visit, summary="篡改")).status_code == 403
    visit.refresh_from_db()
    assert visit.summary == "原始记录"
    assert "visits/" + str(visit.pk) + "/edit/" not in client.get(detail_url(visit)).content.decode()


def test_coordinator_edits_any_visit(as_user, coordinator, official):
    visit = VisitFactory(created_by=official)
    response = as_user(coordinator).post(edit_url(visit), edit_post(visit, summary="协调人更正"))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.summary == "协调人更正"


def test_stale_edit_is_refused_with_a_message(as_user, official, coordinator):
    visit = VisitFactory(created_by=official, summary="原始记录")
    stale = edit_post(visit, summary="官员的修改")
    as_user(coordinator).post(edit_url(visit), edit_post(visit, summary="协调人的修改"))
    client = as_user(official)
    response = client.post(edit_url(visit), stale, follow=True)
    visit.refresh_from_db()
    assert visit.summary == "协调人的修改"
    assert visit.version == 2
    assert response.redirect_chain == [(edit_url(visit), 302)]
    assert [m.level_tag for m in response.context["messages"]][-1] == "error"
    assert response.context["form"]["version"].value() == 2  # the page now holds the fresh version


def test_mark_planned_visit_completed_with_issues(as_user, official, mayor):
    visit = VisitFactory(
        created_by=official,
        status=VisitStatus.PLANNED,
        visited_on=timezone.localdate(),
        summary="",
        lead_officials=[mayor],
    )
    client = as_user(official)
    data = edit_post(visit, status=VisitStatus.COMPLETED, summary="走访完成")
    data.update({"issues-0-title": "招工难", "issues-0-category": str(category("labour").pk)})
    response = client.post(edit_url(visit), data)
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert list(visit.issues.values_list("title", flat=True)) == ["招工难"]


def test_completing_needs_a_summary_and_issues_need_completed(as_user, official):
    visit = VisitFactory(
        created_by=official, status=VisitStatus.PLANNED, visited_on=timezone.localdate(), summary=""
    )
    client = as_user(official)
    assert (
        "summary"
        in client.post(edit_url(visit), edit_post(visit, status=VisitStatus.COMPLETED)).context["form"].errors
    )
    data = edit_post(visit)
    data.update({"issues-0-title": "招工难", "issues-0-category": str(category("labour").pk)})
    assert "status" in client.post(edit_url(visit), data).context["form"].errors
    assert Issue.objects.count() == 0


def test_visit_with_issues_stays_completed(as_user, official):
    issue = IssueFactory(visit__created_by=official)
    visit = issue.visit
    response = as_user(official).post(edit_url(visit), edit_post(visit, status=VisitStatus.CANCELLED))
    assert "status" in response.context["form"].errors


# -- visit list --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "may_log"), [("official", True), ("coordinator", True), ("leader", False), ("staff_a", False)]
)
def test_list_for_each_role(request, as_user, role, may_log):
    VisitFactory(enterprise=EnterpriseFactory(name="列表企业"))
    response = as_user(request.getfixturevalue(role)).get(LIST)
    body = response.content.decode()
    assert response.status_code == 200
    assert "列表企业" in body
    assert (CREATE in body) is may_log


@pytest.fixture
def visits(official):
    from enterprises.models import District

    hexi = District.objects.get(name="河西区")
    a = VisitFactory(
        enterprise=EnterpriseFactory(name="甲企业"), visited_on=date(2025, 2, 1), created_by=official
    )
    b = VisitFactory(enterprise=EnterpriseFactory(name="乙企业", district=hexi), visited_on=date(2025, 6, 1))
    c = VisitFactory(
        enterprise=EnterpriseFactory(name="丙企业"), visited_on=date(2099, 6, 1), status=VisitStatus.PLANNED
    )
    d = VisitFactory(enterprise=a.enterprise, visited_on=date(2025, 7, 1), status=VisitStatus.CANCELLED)
    c.lead_officials.add(OfficialFactory(user=official))
    return a, b, c, d


def listed(response) -> set[str]:
    return {f"{v.enterprise.name}{v.visited_on:%m%d}" for v in response.context["page"].object_list}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "completed"}, {"甲企业0201", "乙企业0601"}),
        ({"status": "planned"}, {"丙企业0601"}),
        ({"status": "cancelled"}, {"甲企业0701"}),
        ({"visited_after": "2025-05-01"}, {"乙企业0601", "丙企业0601", "甲企业0701"}),
        ({"visited_before": "2025-05-01"}, {"甲企业0201"}),
        ({"visited_after": "2025-05-01", "visited_before": "2025-06-30"}, {"乙企业0601"}),
        ({"q": "乙"}, {"乙企业0601"}),
        ({"mine": "1"}, {"甲企业0201", "丙企业0601"}),  # logged by me, or I lead it
        ({"status": "completed", "mine": "1"}, {"甲企业0201"}),
    ],
)
def test_list_filters(as_user, official, visits, params, expected):
    assert listed(as_user(official).get(LIST, params)) == expected


def test_list_filter_by_enterprise_and_district(as_user, official, visits):
    from enterprises.models import District

    a = visits[0]
    client = as_user(official)
    assert listed(client.get(LIST, {"enterprise": a.enterprise_id})) == {"甲企业0201", "甲企业0701"}
    assert listed(client.get(LIST, {"district": District.objects.get(name="河西区").pk})) == {"乙企业0601"}


def test_list_counts_only_visible_issues(client, official, staff_a):
    visit = VisitFactory(created_by=official)
    IssueFactory(visit=visit, enterprise=visit.enterprise)
    client.force_login(official)
    assert client.get(LIST).context["page"].object_list[0].issue_count == 1
    client.force_login(staff_a)
    assert client.get(LIST).context["page"].object_list[0].issue_count == 0


# -- visit page --------------------------------------------------------------------------------


def test_detail_shows_everything(as_user, coordinator, official, dept_a):
    mayor = OfficialFactory(name="李副市长", title="副市长")
    visit = VisitFactory(
        created_by=official,
        lead_officials=[mayor],
        topics=["rnd", "employment"],
        policies_explained="研发费用加计扣除",
        summary="企业研发投入加大",
    )
    visit.accompanying_departments.add(dept_a)
    IssueFactory(visit=visit, enterprise=visit.enterprise, title="人才公寓申请")
    body = as_user(coordinator).get(detail_url(visit)).content.decode()
    for text in (
        "李副市长",
        "副市长",
        "市发展改革委",
        "研发费用加计扣除",
        "企业研发投入加大",
        "人才公寓申请",
        "status-new",
        visit.enterprise.name,
    ):
        assert text in body, text
    assert "研发" in body  # topic label R&D in Chinese
    assert edit_url(visit) in body  # coordinator may edit


def test_detail_hides_issues_the_user_may_not_see_but_counts_them(
    client, official, staff_a, coordinator, dept_a, dept_b
):
    visit = VisitFactory(created_by=official)
    ours = IssueFactory(visit=visit, enterprise=visit.enterprise, title="发改委的问题")
    theirs = IssueFactory(visit=visit, enterprise=visit.enterprise, title="税务局的问题")
    deadline = timezone.localdate() + timedelta(days=20)
    workflow.assign(issue_id=ours.pk, by=coordinator, department=dept_a, deadline=deadline)
    workflow.assign(issue_id=theirs.pk, by=coordinator, department=dept_b, deadline=deadline)
    client.force_login(staff_a)
    response = client.get(detail_url(visit))
    body = response.content.decode()
    assert "发改委的问题" in body and "税务局的问题" not in body
    assert response.context["hidden_issue_count"] == 1
    assert 'id="hidden-issues"' in body
    assert edit_url(visit) not in body
    client.force_login(official)  # the official who logged the visit sees both
    body = client.get(detail_url(visit)).content.decode()
    assert "发改委的问题" in body and "税务局的问题" in body


@pytest.mark.parametrize("role", ["leader", "staff_a", "official"])
def test_detail_is_read_only_and_refuses_post(request, as_user, role):
    visit = VisitFactory()
    client = as_user(request.getfixturevalue(role))
    body = client.get(detail_url(visit)).content.decode()
    assert edit_url(visit) not in body  # not their visit
    assert client.post(detail_url(visit)).status_code == 405


def test_detail_404(as_user, official):
    assert as_user(official).get(reverse("visits:detail", args=[424242])).status_code == 404
    assert as_user(official).get(reverse("visits:edit", args=[424242])).status_code == 404


def test_pages_escape_user_text(as_user, coordinator):
    visit = VisitFactory(summary="<script>alert('x')</script>")
    IssueFactory(visit=visit, enterprise=visit.enterprise, title='"><img src=x onerror=alert(1)>')
    body = as_user(coordinator).get(detail_url(visit)).content.decode()
    assert "<script>alert('x')" not in body and "<img src=x" not in body


# -- bounded queries at two data sizes ---------------------------------------------------------

LIST_QUERIES = 11  # measured: 10 (11 for department staff: their department ids), at 5 and 60
# measured: 8 (9 for department staff), at 5 and 60; then +1 for the files section and, for
# coordinators, +4 for the change trail (its records, two member lists, and one per kind of
# row whose name a change shows: here the officials): issue 13.
DETAIL_QUERIES = 13


@pytest.mark.parametrize("n", [5, 60])
@pytest.mark.parametrize("role", ["official", "coordinator", "staff_a", "leader"])
def test_query_counts_do_not_grow(
    request, client, django_assert_max_num_queries, official, coordinator, dept_a, n, role
):
    officials = [OfficialFactory() for _ in range(3)]
    departments = [dept_a, DepartmentFactory()]
    for i in range(n):
        visit = VisitFactory(created_by=official, lead_officials=officials[: 1 + i % 3])
        visit.accompanying_departments.set(departments)
        IssueFactory(visit=visit, enterprise=visit.enterprise)
    big = VisitFactory(created_by=official, lead_officials=officials)
    for i in range(n // 5):
        issue = IssueFactory(visit=big, enterprise=big.enterprise)
        if i % 2:
            workflow.assign(
                issue_id=issue.pk,
                by=coordinator,
                department=dept_a,
                deadline=timezone.localdate() + timedelta(days=3),
            )
    client.force_login(request.getfixturevalue(role))
    with django_assert_max_num_queries(LIST_QUERIES):
        assert client.get(LIST, {"status": "completed"}).status_code == 200
    with django_assert_max_num_queries(DETAIL_QUERIES):
        assert client.get(detail_url(big)).status_code == 200
