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

# Measured: dashboard 18; weekly 8 (session, user, groups, the summary, the ranked ids,
# the rows, the two filter menus), 10 for one department (+ its count and page of ids),
# XLSX 5; PostgreSQL adds up to 3 for a session write (savepoint, update, release).
DASHBOARD_QUERIES = 21
WEEKLY_QUERIES = 13


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
    with django_assert_max_num_queries(WEEKLY_QUERIES):
        assert (
            client.get(reverse("dashboard:weekly"), {"department": dept_a.pk, "page": 2}).status_code == 200
        )


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


def _summary(response) -> dict:
    return {row["lead_department"]: row for row in response.context["summary"]}


@pytest.mark.django_db
def test_weekly_list_summary_and_supervision_list(weekly, leader, as_user, dept_a, dept_b):
    response = as_user(leader).get(reverse("dashboard:weekly"))
    html = response.content.decode()
    # the summary: every open issue counted, unassigned first, then 市发展改革委, 市税务局 (by name)
    summary = response.context["summary"]
    assert [row["lead_department"] for row in summary] == [None, dept_a.pk, dept_b.pk]
    counts = {r["lead_department"]: (r["open"], r["red"], r["yellow"], r["blue"]) for r in summary}
    assert counts == {None: (2, 0, 0, 0), dept_a.pk: (1, 1, 0, 0), dept_b.pk: (1, 0, 0, 0)}
    assert 'id="weekly-summary"' in html
    # the detailed rows: the supervision list (red and yellow), here the one overdue issue
    groups = response.context["groups"]
    assert [g["department"] for g in groups] == [dept_a]
    assert [i.pk for i in groups[0]["issues"]] == [weekly["late"].pk]
    assert groups[0]["overdue"] == 1 and groups[0]["issues"][0].days_late == 4 and groups[0]["more"] == 0
    assert "码头用地审批" in html and "出口退税进度" not in html
    # the closed (solved on the spot) issue is on no list of open issues
    assert "现场解决的问题" not in html
    # latest progress note, escaped
    assert "方案已报审" in html and "已与规划部门会商" not in html
    assert "=HYPERLINK(&quot;http://x&quot;)" in html
    assert 'class="weekly-group' in html and "app/print.css" in html


@pytest.mark.django_db
def test_weekly_summary_counts_link_to_lists_of_that_many(weekly, leader, as_user, dept_a):
    client = as_user(leader)
    response = client.get(reverse("dashboard:weekly"))
    checked = 0
    for row in response.context["summary"]:
        for key in ("open", "red", "yellow", "blue"):
            url = row["urls"][key]
            if not url:
                continue
            listed = client.get(url)
            assert listed.status_code == 200
            assert listed.context["page"].paginator.count == row[key], (row["name"], key, url)
            assert f'href="{url.replace("&", "&amp;")}"' in response.content.decode() or row[key] == 0
            checked += 1
    assert checked >= 6


@pytest.mark.django_db
def test_weekly_list_escapes_titles(coordinator, leader, as_user, dept_a):
    issue = workflow.raise_issue(
        by=coordinator,
        enterprise=EnterpriseFactory(),
        title="<script>alert(1)</script>招工难",
        category=category(),
        source=Source.OTHER,
    )
    workflow.assign(issue_id=issue.pk, by=coordinator, department=dept_a, deadline=timezone.localdate())
    Issue.objects.filter(pk=issue.pk).update(deadline=timezone.localdate() - timedelta(days=1))
    html = as_user(leader).get(reverse("dashboard:weekly")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;招工难" in html


def overdue_issues(n: int, department, *, overdue: bool = True) -> list[Issue]:
    """n assigned issues of one department, overdue (red) or on track, in bulk."""
    enterprise = EnterpriseFactory()
    today = timezone.localdate()
    cat = category()
    return Issue.objects.bulk_create(
        Issue(
            enterprise=enterprise,
            source=Source.OTHER,
            title=f"{'逾期' if overdue else '正常'}问题{i:03d}",
            category=cat,
            status=Status.ASSIGNED,
            lead_department=department,
            raised_on=today - timedelta(days=60),
            respond_by=today - timedelta(days=58),
            assigned_at=timezone.now() - timedelta(days=50),
            deadline=today + (timedelta(days=-1 - i) if overdue else timedelta(days=20 + i)),
            original_deadline=today + timedelta(days=5),
        )
        for i in range(n)
    )


@pytest.mark.django_db
def test_weekly_list_caps_each_department_and_links_to_the_rest(leader, as_user, dept_a, dept_b):
    late = overdue_issues(35, dept_a)
    overdue_issues(3, dept_b)
    overdue_issues(4, dept_b, overdue=False)
    client = as_user(leader)
    response = client.get(reverse("dashboard:weekly"))
    groups = {g["department"]: g for g in response.context["groups"]}
    # most overdue first, 30 of 35; the other 5 one click away
    assert [i.pk for i in groups[dept_a]["issues"]] == [i.pk for i in reversed(late)][:30]
    assert groups[dept_a]["total"] == 35 and groups[dept_a]["more"] == 5
    assert "问题列表中还有 5 个红色或黄色问题" in response.content.decode()  # Chinese by default
    more = client.get(groups[dept_a]["more_url"])
    assert more.context["page"].paginator.count == 35
    assert len(groups[dept_b]["issues"]) == 3 and groups[dept_b]["more"] == 0
    assert _summary(response)[dept_b.pk]["open"] == 7


@pytest.mark.django_db
def test_weekly_list_department_shows_its_whole_open_list_by_page(leader, as_user, dept_a, dept_b):
    overdue_issues(30, dept_a)
    overdue_issues(30, dept_a, overdue=False)
    overdue_issues(5, dept_b)
    client = as_user(leader)
    first = client.get(reverse("dashboard:weekly"), {"department": dept_a.pk})
    assert [g["department"] for g in first.context["groups"]] == [dept_a]
    assert len(first.context["groups"][0]["issues"]) == 50
    assert first.context["groups"][0]["total"] == 60
    assert first.context["page"].paginator.num_pages == 2
    assert f"department={dept_a.pk}&amp;page=2" in first.content.decode()
    second = client.get(reverse("dashboard:weekly"), {"department": dept_a.pk, "page": 2})
    issues = second.context["groups"][0]["issues"]
    assert len(issues) == 10 and all(i.colour == "" for i in issues)  # the on-track ones, last
    assert [r["lead_department"] for r in second.context["summary"]] == [dept_a.pk]


@pytest.mark.django_db
def test_weekly_list_xlsx(weekly, leader, as_user, dept_b):
    response = as_user(leader).get(reverse("dashboard:weekly"), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 1  # header + the supervision list: the overdue one
    late = rows[1]
    assert late[1] == weekly["late"].pk
    assert (
        late[0] == "市发展改革委"
        and late[3] == "码头用地审批"
        and late[6] == 4
        and late[8].endswith("方案已报审")
    )
    # a note that looks like a formula is stored as text, never a formula
    cell = next(c for c in sheet[2] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s"
    # the summary sheet: one row per department, unassigned first
    summary = list(book.worksheets[1].iter_rows(values_only=True))[1:]
    assert [r[1:] for r in summary] == [(2, 0, 0, 0), (1, 1, 0, 0), (1, 0, 0, 0)]
    # one department: its whole open list
    response = as_user(leader).get(reverse("dashboard:weekly"), {"format": "xlsx", "department": dept_b.pk})
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == [weekly["tax"].pk]


@pytest.mark.django_db
def test_weekly_xlsx_is_capped_and_says_so(dept_a):
    from issues import figures
    from issues.dashboard_views import weekly_summary, weekly_xlsx

    overdue_issues(5, dept_a)
    today = timezone.localdate()
    filters = figures.Filters()
    response = weekly_xlsx(filters, today, weekly_summary(filters, today), limit=3)
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 3 + 1
    assert "仅列出前 3 行" in rows[-1][0]
    response = weekly_xlsx(filters, today, weekly_summary(filters, today), limit=5)
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 5


@pytest.mark.django_db
def test_weekly_list_filters_by_department(weekly, leader, as_user, dept_b):
    response = as_user(leader).get(reverse("dashboard:weekly"), {"department": dept_b.pk})
    assert [g["department"] for g in response.context["groups"]] == [dept_b]
    assert [i.pk for i in response.context["groups"][0]["issues"]] == [weekly["tax"].pk]


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


def _linked_numbers(html: str, table: str) -> list[tuple[str, int]]:
    """(href, number shown) for every link that shows a bare number in one table's body."""
    body = re.search(rf"<table[^>]*{table}.*?<tbody>(.*?)</tbody>", html, re.S)
    assert body, table
    return [
        (unescape(href), int(text)) for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(\d+)</a>', body[1])
    ]


@pytest.mark.django_db
def test_league_and_breakdown_cells_as_drawn_link_to_lists_of_that_many(weekly, leader, as_user):
    # The rows are Jinja2 partials: read the numbers and links from the page itself.
    client = as_user(leader)
    html = client.get(reverse("dashboard:index"), {"period": "year"}).content.decode()
    cells = _linked_numbers(html, 'id="league-table"')
    for n in range(1, 4):
        cells += _linked_numbers(html, f'data-breakdown="{n}"')
    assert len(cells) >= 20 and any(number for _href, number in cells)
    for href, number in cells:
        assert client.get(href).context["page"].paginator.count == number, href
    red = re.search(r'id="red-list".*?<tbody>(.*?)</tbody>', html, re.S)[1]
    assert f'href="{weekly["late"].get_absolute_url()}"' in red


@pytest.mark.django_db
def test_common_issues_are_not_counted(weekly, leader, as_user):
    response = as_user(leader).get(reverse("dashboard:index"))
    cards = {c["key"]: c for c in response.context["cards"]}
    assert Issue.objects.filter(scope=Scope.COMMON).open().count() == 1
    assert cards["open"]["value"] == 3
