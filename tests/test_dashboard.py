"""The dashboard and weekly list pages: who may see them, bounded queries, content, drill-down."""

import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from enterprises.models import Enterprise
from issues import workflow
from issues.models import Issue, Outcome, Satisfaction, Scope, Source, Status

from .factories import DistrictFactory, EnterpriseFactory, category, valid_credit_code


def bulk_issues(n: int, departments, district=None) -> None:
    """n enterprise issues in every state (bulk, for query counting), cycling five states."""
    district = district or DistrictFactory()
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(
            name=f"批量企业{i}",
            credit_code=valid_credit_code(50_000 + i + n * 10),
            sector="industrial",
            district=district,
            is_key=True,
        )
        for i in range(max(1, n // 3))
    )
    today = timezone.localdate()
    now = timezone.now()
    cat = category()
    rows = []
    for i in range(n):
        state = i % 5
        issue = Issue(
            enterprise=enterprises[i % len(enterprises)],
            source=Source.OTHER,
            title=f"批量问题{i}",
            category=cat,
            raised_on=today - timedelta(days=i % 40),
            respond_by=today - timedelta(days=i % 40) + timedelta(days=2),
        )
        if state >= 1:
            issue.status = Status.ASSIGNED
            issue.lead_department = departments[i % len(departments)]
            issue.deadline = issue.original_deadline = today + timedelta(days=(i % 20) - 10)
            issue.assigned_at = now - timedelta(days=i % 30)
            issue.due_soon_from = issue.deadline - timedelta(days=3)
        if state == 2:
            issue.status = Status.IN_PROGRESS
            issue.stalled_from = today - timedelta(days=1)
        if state >= 3:
            issue.status = Status.RESOLVED
            issue.resolution = "已解决"
            issue.resolved_at = now - timedelta(days=i % 25)
            issue.due_soon_from = None
        if state == 4:
            issue.status = Status.CLOSED
            issue.outcome = Outcome.RESOLVED
            issue.closed_at = now - timedelta(days=i % 20)
            issue.contacted_on = today - timedelta(days=i % 20)
            issue.reply_satisfaction = Satisfaction.values[i % 3]
            issue.solution_satisfaction = Satisfaction.values[(i + 1) % 3]
        rows.append(issue)
    Issue.objects.bulk_create(rows)


# -- access ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["dashboard:index", "dashboard:weekly"])
def test_leadership_and_coordinators_see_the_dashboard(name, leader, coordinator, admin_user, as_user):
    for user in (leader, coordinator, admin_user):
        assert as_user(user).get(reverse(name)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["dashboard:index", "dashboard:weekly"])
def test_others_are_refused(name, staff_a, official, as_user):
    for user in (staff_a, official):
        assert as_user(user).get(reverse(name)).status_code == 403
    assert as_user(staff_a).get(reverse(name), {"format": "xlsx"}).status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("dashboard:index"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_dashboard_has_no_post_forms(leader, as_user):
    html = as_user(leader).get(reverse("dashboard:index")).content.decode()
    main = html[html.index("<main") :]
    assert 'method="post"' not in main.lower()


# -- bounded queries ------------------------------------------------------------------------

# Measured: dashboard 18, weekly 6 (session, user, groups, the figures, the two filter
# menus); PostgreSQL adds up to 3 for a session write (savepoint, update, release).
DASHBOARD_QUERIES = 21
WEEKLY_QUERIES = 9


@pytest.mark.django_db
@pytest.mark.parametrize("n", [15, 150])
def test_dashboard_query_count_is_constant(n, leader, dept_a, dept_b, as_user, django_assert_max_num_queries):
    bulk_issues(n, [dept_a, dept_b])
    client = as_user(leader)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("dashboard:index"), {"period": "year"})
    assert response.status_code == 200
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(
            reverse("dashboard:index"),
            {"period": "custom", "start": "2026-01-01", "end": "2026-12-31", "department": dept_a.pk},
        )
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("n", [15, 150])
def test_weekly_query_count_is_constant(n, leader, dept_a, dept_b, as_user, django_assert_max_num_queries):
    bulk_issues(n, [dept_a, dept_b])
    client = as_user(leader)
    with django_assert_max_num_queries(WEEKLY_QUERIES):
        assert client.get(reverse("dashboard:weekly")).status_code == 200
    with django_assert_max_num_queries(WEEKLY_QUERIES):
        assert client.get(reverse("dashboard:weekly"), {"format": "xlsx"}).status_code == 200


# -- the weekly list ------------------------------------------------------------------------


@pytest.fixture
def weekly(coordinator, dept_a, dept_b):
    today = timezone.localdate()
    e = EnterpriseFactory(name="天津港测试物流有限公司")
    late = workflow.raise_issue(
        by=coordinator, enterprise=e, title="码头用地审批", category=category(), source=Source.OTHER
    )
    workflow.assign(issue_id=late.pk, by=coordinator, department=dept_a, deadline=today + timedelta(days=30))
    workflow.post_progress(issue_id=late.pk, by=coordinator, note="已与规划部门会商")
    workflow.post_progress(issue_id=late.pk, by=coordinator, note='=HYPERLINK("http://x") 方案已报审')
    Issue.objects.filter(pk=late.pk).update(deadline=today - timedelta(days=4))
    tax = workflow.raise_issue(
        by=coordinator, enterprise=e, title="出口退税进度", category=category("tax"), source=Source.OTHER
    )
    workflow.assign(issue_id=tax.pk, by=coordinator, department=dept_b, deadline=today + timedelta(days=10))
    new = workflow.raise_issue(
        by=coordinator,
        enterprise=e,
        title="<script>alert(1)</script>招工难",
        category=category(),
        source=Source.OTHER,
    )
    common = workflow.create_common_issue(by=coordinator, title="共性：电力增容", category=category())
    done = workflow.raise_issue(
        by=coordinator,
        enterprise=e,
        title="现场解决的问题",
        category=category(),
        source=Source.OTHER,
        solved_on_site=True,
        resolution="当场答复",
    )
    return {"late": late, "tax": tax, "new": new, "common": common, "done": done}


@pytest.mark.django_db
def test_weekly_list_groups_open_issues_by_department(weekly, leader, as_user, dept_a, dept_b):
    response = as_user(leader).get(reverse("dashboard:weekly"))
    html = response.content.decode()
    groups = response.context["groups"]
    # Unassigned first (the new one and the common one), then 市发展改革委, 市税务局 (by name)
    assert [g["department"] for g in groups] == [None, dept_a, dept_b]
    assert {i.pk for i in groups[0]["issues"]} == {weekly["new"].pk, weekly["common"].pk}
    assert [i.pk for i in groups[1]["issues"]] == [weekly["late"].pk]
    assert groups[1]["overdue"] == 1 and groups[1]["issues"][0].days_late == 4
    # the closed (solved on the spot) issue is not on a list of open issues
    assert "现场解决的问题" not in html
    # latest progress note, escaped
    assert "方案已报审" in html and "已与规划部门会商" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "共性问题" in html or "Common issue" in html or "common" in html.lower()
    assert 'class="weekly-group' in html


@pytest.mark.django_db
def test_weekly_list_xlsx(weekly, leader, as_user):
    response = as_user(leader).get(reverse("dashboard:weekly"), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 4  # header + new, common, late, tax
    late = next(r for r in rows if r[1] == weekly["late"].pk)
    assert late[0] == "市发展改革委" and late[3] == "码头用地审批" and late[6] == 4
    # a note that looks like a formula is stored as text, never a formula
    cell = next(c for c in sheet[rows.index(late) + 1] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s"


@pytest.mark.django_db
def test_weekly_list_filters_by_department(weekly, leader, as_user, dept_b):
    response = as_user(leader).get(reverse("dashboard:weekly"), {"department": dept_b.pk})
    assert [g["department"] for g in response.context["groups"]] == [dept_b]


# -- the dashboard page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_shows_figures_and_tables(weekly, leader, as_user):
    response = as_user(leader).get(reverse("dashboard:index"))
    html = response.content.decode()
    cards = {c["key"]: c for c in response.context["cards"]}
    # raised this month: late, tax, new, done (common not counted) — all raised today
    assert cards["raised"]["value"] == 4
    assert cards["solved_on_site"]["value"] == 1
    assert cards["open"]["value"] == 3  # late, tax, new
    assert cards["overdue"]["value"] == 1
    for table_id in ("league-table", "trend-table", "colour-table", "red-list"):
        assert f'id="{table_id}"' in html
    assert 'id="dashboard-data"' in html and "dashboard.js" in html and "chart.umd.min.js" in html
    assert "<script>" not in html.replace('<script id="dashboard-data" type="application/json">', "")


@pytest.mark.django_db
def test_invalid_custom_range_falls_back_without_error(leader, as_user):
    response = as_user(leader).get(
        reverse("dashboard:index"), {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def _hrefs(html: str, attribute: str) -> dict[str, str]:
    return {
        m.group(2): unescape(m.group(1))
        for m in re.finditer(rf'href="([^"]+)"[^>]*{attribute}="([^"]+)"', html)
    }


@pytest.mark.django_db
def test_every_count_card_links_to_a_list_of_that_many(weekly, leader, as_user):
    client = as_user(leader)
    response = client.get(reverse("dashboard:index"), {"period": "year"})
    html = response.content.decode()
    cards = {c["key"]: c for c in response.context["cards"]}
    links = _hrefs(html, "data-figure-link")
    assert set(links) == set(cards)
    for key in ("raised", "solved_on_site", "open", "overdue", "due_soon"):
        listed = client.get(links[key]).context["page"].paginator.count
        assert listed == cards[key]["value"], key
    # the parts behind each rate, e.g. "resolved 1" → a list of 1
    for card in cards.values():
        for part in card["parts"]:
            if part["url"].startswith(reverse("issues:list")):
                assert client.get(part["url"]).context["page"].paginator.count == part["count"], part
    # colour table cells
    for key, _label, count, url in response.context["colours"]:
        assert client.get(url).context["page"].paginator.count == count, key
    # league table cells
    for row in response.context["league"]:
        for key, url in row.urls.items():
            assert client.get(url).context["page"].paginator.count == row.counts[key], (row.label, key)


@pytest.mark.django_db
def test_common_issues_are_not_counted(weekly, leader, as_user):
    response = as_user(leader).get(reverse("dashboard:index"))
    cards = {c["key"]: c for c in response.context["cards"]}
    assert Issue.objects.filter(scope=Scope.COMMON).open().count() == 1
    assert cards["open"]["value"] == 3
