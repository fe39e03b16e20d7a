"""The dashboard, its facts pages, the report and the weekly list: who sees them, bounded
queries, and every number linking to exactly the rows it counts."""

import io
import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dashboard import figures
from issues import workflow
from issues.models import Category, Channel, Issue, OfficialDay, Outcome, Satisfaction, Source, Status

from .factories import DepartmentFactory, DistrictFactory, EnterpriseFactory, UserFactory, category
from .helpers import travel

TODAY = timezone.localdate()
DAY = timedelta(days=1)


def raise_issue(by, enterprise, title="问题", **kwargs):
    return workflow.raise_issue(
        by=by, enterprise=enterprise, title=title, category=category(), source=Source.OTHER, **kwargs
    )


def story(coordinator, departments, n: int, start: date) -> list[Issue]:
    """n issues through the workflow from `start` on: each assigned, about half resolved and
    answered, some sent back, some closed; the last ones left new."""
    enterprise = EnterpriseFactory()
    made = []
    for i in range(n):
        day = start + timedelta(days=i % 20)
        dept = departments[i % len(departments)]
        with travel(day):
            issue = raise_issue(coordinator, enterprise, f"问题{i}", raised_on=day)
        made.append(issue)
        if i >= n - 2:
            continue
        with travel(day + DAY):
            workflow.assign(
                issue_id=issue.pk, by=coordinator, department=dept, deadline=day + timedelta(days=10 + i % 5)
            )
        if i % 2:
            continue
        with travel(day + timedelta(days=5 + i % 9)):
            workflow.resolve(issue_id=issue.pk, by=coordinator, resolution="已解决")
        with travel(day + timedelta(days=15)):
            workflow.record_round(
                issue_id=issue.pk,
                by=coordinator,
                contacted_on=day + timedelta(days=15),
                channel=Channel.PHONE if i % 3 else Channel.ONLINE,
                reply_satisfaction=Satisfaction.values[i % 3],
                solution_satisfaction=Satisfaction.UNSATISFIED if i % 8 == 0 else Satisfaction.SATISFIED,
                comment="仍未解决" if i % 8 == 0 else "",
                close=True,
            )
    return made


@pytest.fixture
def city(coordinator, dept_a, dept_b):
    return story(coordinator, [dept_a, dept_b], 24, TODAY - timedelta(days=40))


# -- access ---------------------------------------------------------------------------------------

PAGES = ["dashboard:index", "dashboard:weekly", "dashboard:report-xlsx"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_leadership_and_coordinators_see_the_city(name, leader, coordinator, admin_user, as_user):
    for user in (leader, coordinator, admin_user):
        assert as_user(user).get(reverse(name)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_an_official_is_refused_and_anonymous_sent_to_login(name, official, client, as_user):
    assert client.get(reverse(name)).status_code == 302
    assert as_user(official).get(reverse(name)).status_code == 403


@pytest.mark.django_db
def test_department_staff_see_their_own_department_and_rank(city, staff_a, dept_a, dept_b, as_user):
    client = as_user(staff_a)
    response = client.get(reverse("dashboard:index"), {"department": dept_b.pk, "period": "quarter"})
    assert response.status_code == 200
    assert response.context["department"] == dept_a  # not B's, whatever the link says
    html = response.content.decode()
    assert dept_a.name in html and 'id="league-table"' in html
    facts = client.get(reverse("dashboard:facts"), {"figure": "department_resolved", "department": dept_b.pk})
    assert all(row.lead_department_id == dept_a.pk for row in facts.context["page"].object_list)


@pytest.mark.django_db
def test_the_dashboard_has_no_post_form(leader, as_user):
    html = as_user(leader).get(reverse("dashboard:index")).content.decode()
    assert 'method="post"' not in html[html.index("<main") :].lower()


# -- bounded queries ------------------------------------------------------------------------------

# Measured: dashboard 29 for the city (session, user, groups; 2 for the period's daily
# counts and its triage windows, the untriaged count, 2 coverage, the now counts, common
# issues, the red list, 3 for the league, 6 for the breakdowns, the trend, the calendar's
# years, 2 filter menus; a session write of 3), 34 under a department filter (breakdowns
# counted from the history: 3 sources each); facts 9; weekly 9.
DASHBOARD_QUERIES = 34
FACTS_QUERIES = 12
WEEKLY_QUERIES = 12


@pytest.mark.django_db
@pytest.mark.parametrize("n", [6, 30])
def test_query_counts_do_not_grow_with_the_data(n, coordinator, leader, dept_a, dept_b, as_user,
                                                django_assert_max_num_queries):  # fmt: skip
    story(coordinator, [dept_a, dept_b], n, TODAY - timedelta(days=60))
    client = as_user(leader)
    pages = [
        (reverse("dashboard:index"), {"period": "year"}, DASHBOARD_QUERIES),
        (reverse("dashboard:index"), {"period": "12months", "department": dept_a.pk}, DASHBOARD_QUERIES),
        (reverse("dashboard:facts"), {"figure": "department_resolved", "period": "year"}, FACTS_QUERIES),
        (reverse("dashboard:facts"), {"figure": "response_due", "period": "year"}, FACTS_QUERIES),
        (reverse("dashboard:weekly"), {}, WEEKLY_QUERIES),
        (reverse("dashboard:weekly"), {"department": dept_a.pk, "page": 2}, WEEKLY_QUERIES),
        (reverse("dashboard:weekly"), {"format": "xlsx"}, WEEKLY_QUERIES),
        (reverse("dashboard:report-xlsx"), {"period": "year"}, DASHBOARD_QUERIES),
    ]
    for url, params, budget in pages:
        with django_assert_max_num_queries(budget):
            assert client.get(url, params).status_code == 200, (url, params)


# -- every number shows what it counts -------------------------------------------------------------


def links(html: str, selector: str) -> list[tuple[str, str]]:
    """(href, number) of the links whose attribute `selector` is present."""
    found = re.findall(rf'<a [^>]*href="([^"]+)"[^>]*{selector}[^>]*>([^<]+)</a>', html)
    return [(unescape(href), text.strip()) for href, text in found]


@pytest.mark.django_db
def test_every_card_links_to_exactly_what_it_counts(city, leader, coordinator, as_user):
    # A new issue merged into a common one is triaged: not "waiting for triage", on no list of it.
    common = workflow.create_common_issue(by=coordinator, title="共性问题", category=Category.objects.first())
    merged = raise_issue(coordinator, EnterpriseFactory(), "已并入问题")
    workflow.merge_into_common(issue_ids=[merged.pk], common_issue_id=common.pk, by=coordinator)
    client = as_user(leader)
    html = client.get(reverse("dashboard:index"), {"period": "12months"}).content.decode()
    checked = 0
    for href, shown in links(html, "data-part="):
        count = re.search(r"(\d+)$", shown)
        if not count:
            continue
        response = client.get(href)
        assert response.status_code == 200, href
        if "/dashboard/facts/" in href:
            page = response.context.get("page")
            if page is not None:  # the count shown (the daily counts) is the rows' own count
                assert page.paginator.count == page.paginator.object_list.count(), href
            listed = page.paginator.count if page is not None else len(response.context["enterprises"])
            if response.context.get("issues") is not None:
                listed += len(response.context["issues"])
        else:
            listed = response.context["page"].paginator.count
        assert listed == int(count.group(1)), (href, shown)
        checked += 1
    assert checked >= 20
    for href, shown in links(html, 'data-figure-link="(?:open|overdue|due_soon|untriaged)"'):
        assert client.get(href).context["page"].paginator.count == int(shown), href


@pytest.mark.django_db
def test_breakdown_and_trend_cells_link_to_exactly_their_count(city, leader, as_user):
    client = as_user(leader)
    response = client.get(reverse("dashboard:index"), {"period": "12months"})
    for table in response.context["breakdowns"]:
        for row in table["rows"]:
            for key in ("raised", "resolved"):
                assert client.get(row["urls"][key]).context["page"].paginator.count == row[key], (
                    table["key"],
                    key,
                )
            for key in ("open", "overdue"):
                assert client.get(row["urls"][key]).context["page"].paginator.count == row[key], (
                    table["key"],
                    key,
                )
    for row in response.context["trend"]:
        assert client.get(row["urls"]["raised"]).context["page"].paginator.count == row["raised"]


@pytest.mark.django_db
def test_this_year_runs_from_january_to_today_with_a_monthly_trend(city, leader, as_user):
    response = as_user(leader).get(reverse("dashboard:index"), {"period": "year"})
    period = response.context["period"]
    assert (period.start, period.end) == (date(TODAY.year, 1, 1), TODAY)
    months = [row["month"] for row in response.context["trend"]]
    assert months[0] == date(TODAY.year, 1, 1) and months[-1] == date(TODAY.year, TODAY.month, 1)
    last12 = as_user(leader).get(reverse("dashboard:index"), {"period": "12months"}).context["trend"]
    assert len(last12) == 12


@pytest.mark.django_db
def test_the_league_ranks_only_departments_with_enough_resolutions(
    coordinator, dept_a, dept_b, leader, as_user
):
    busy, quiet = dept_a, dept_b
    enterprise = EnterpriseFactory()
    start = TODAY - timedelta(days=30)
    for i in range(6):
        department = busy if i < 5 else quiet
        with travel(start):
            issue = raise_issue(coordinator, enterprise, f"问题{i}", raised_on=start)
            workflow.assign(
                issue_id=issue.pk, by=coordinator, department=department, deadline=start + timedelta(days=9)
            )
        with travel(start + timedelta(days=3)):
            workflow.resolve(issue_id=issue.pk, by=coordinator, resolution="已解决")
    response = as_user(leader).get(reverse("dashboard:index"), {"period": "quarter"})
    ranked, unranked = response.context["ranked"], response.context["unranked"]
    assert [(row["department"], row["rank"]) for row in ranked] == [(busy.pk, 1)]
    assert [row["department"] for row in unranked] == [quiet.pk]
    assert str(ranked[0]["on_time"]) == "100.0%" and ranked[0]["on_time"].denominator == 5


@pytest.mark.django_db
def test_under_a_department_filter_cards_without_a_department_say_so(city, leader, dept_a, as_user):
    response = as_user(leader).get(
        reverse("dashboard:index"), {"period": "quarter", "department": dept_a.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    cards = {card["key"]: card for card in response.context["cards"]}
    assert cards["raised"]["value"] == "—" and "Not a department figure" in str(cards["raised"]["formula"])
    assert cards["department_resolved"]["value"] == response.context["cards"][4]["value"]
    assert cards["coverage"]["formula"].startswith("Key enterprises visited with this department")


# -- the calendar ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_year_with_no_known_schedule_is_flagged_until_it_is_entered(coordinator, dept_a, leader, as_user):
    enterprise = EnterpriseFactory()
    issue = raise_issue(coordinator, enterprise)
    year = max(TODAY.year + 1, 2027)
    with travel(TODAY):
        workflow.assign(issue_id=issue.pk, by=coordinator, department=dept_a, deadline=date(year, 1, 4))
    html = as_user(leader).get(reverse("dashboard:index")).content.decode()
    assert 'id="calendar-warning"' in html and str(year) in html
    # Administrators enter the notice: New Year's Day off, the year known.
    OfficialDay.objects.create(day=date(year, 1, 1), kind="holiday", name="元旦")
    html = as_user(leader).get(reverse("dashboard:index")).content.decode()
    assert 'id="calendar-warning"' not in html


@pytest.mark.django_db
def test_entering_a_holiday_recomputes_the_dates_of_open_issues(coordinator, dept_a, admin_user, client):
    enterprise = EnterpriseFactory()
    issue = raise_issue(coordinator, enterprise)
    deadline = date(2027, 1, 6)  # Wednesday; 2027 is unknown to the calendar library
    with travel(TODAY):
        workflow.assign(issue_id=issue.pk, by=coordinator, department=dept_a, deadline=deadline)
    issue.refresh_from_db()
    assert issue.due_soon_from == date(2027, 1, 1)  # Mon-Fri: Tue 5, Mon 4, Fri 1
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:issues_officialday_import"),
        {"lines": "2027-01-01 休 元旦\n2027-01-04 休 元旦调休"},
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.due_soon_from == date(2026, 12, 30)  # Tue 5, (Mon 4, Fri 1 off), Thu 31, Wed 30
    bad = client.post(
        reverse("admin:issues_officialday_import"), {"lines": "2027-13-01 休"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Line 1" in bad.content.decode() and OfficialDay.objects.count() == 2


# -- the report -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_figures_prints_json_with_every_rate_as_three_numbers(city):
    out = io.StringIO()
    start, end = TODAY - timedelta(days=60), TODAY
    call_command("report_figures", "--from", str(start), "--to", str(end), "--json", stdout=out)
    data = json.loads(out.getvalue())
    for key in ("raised", "solved_on_spot", "average_days"):
        assert key in data
    for key in ("response_rate", "resolution_rate", "on_time_rate", "reply_satisfaction",
                "solution_satisfaction", "sent_back_rate", "coverage"):  # fmt: skip
        assert set(data[key]) == {"numerator", "denominator", "percent"}, key
    expected = figures.report(figures.Period(start, end), figures.Filters(), TODAY).as_json()
    assert data == json.loads(json.dumps(expected, ensure_ascii=False, default=str))
    table = io.StringIO()
    call_command("report_figures", "--from", str(start), "--to", str(end), stdout=table)
    assert "Resolution rate" in table.getvalue() or "解决率" in table.getvalue()


@pytest.mark.django_db
def test_the_report_download_holds_the_same_numbers(city, leader, as_user):
    response = as_user(leader).get(reverse("dashboard:report-xlsx"), {"period": "12months"})
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    period = figures.period_for("12months", TODAY)
    report = figures.report(period, figures.Filters(), TODAY).as_json()
    by_label = {row[0]: row for row in rows}
    resolution = next(row for label, row in by_label.items() if label in ("解决率", "Resolution rate"))
    assert (resolution[2], resolution[3]) == (
        report["resolution_rate"]["numerator"],
        report["resolution_rate"]["denominator"],
    )


# -- the weekly list -------------------------------------------------------------------------------


@pytest.fixture
def weekly(coordinator, dept_a, dept_b):
    enterprise = EnterpriseFactory(name="天津港测试物流有限公司")
    with travel(TODAY - timedelta(days=20)):
        late = raise_issue(coordinator, enterprise, "码头用地审批", raised_on=TODAY - timedelta(days=20))
        workflow.assign(
            issue_id=late.pk, by=coordinator, department=dept_a, deadline=TODAY - timedelta(days=4)
        )
        workflow.post_progress(issue_id=late.pk, by=coordinator, note='=HYPERLINK("http://x") 方案已报审')
    tax = raise_issue(coordinator, enterprise, "出口退税进度")
    workflow.assign(issue_id=tax.pk, by=coordinator, department=dept_b, deadline=TODAY + timedelta(days=30))
    with travel(TODAY - timedelta(days=10)):
        untriaged = raise_issue(
            coordinator, enterprise, "<script>alert(1)</script>招工难", raised_on=TODAY - timedelta(days=10)
        )
    common = workflow.create_common_issue(by=coordinator, title="共性：电力增容", category=category())
    return {"late": late, "tax": tax, "untriaged": untriaged, "common": common}


@pytest.mark.django_db
def test_the_weekly_list_counts_by_department_and_lists_the_supervised(
    weekly, leader, dept_a, dept_b, as_user
):
    response = as_user(leader).get(reverse("dashboard:weekly"))
    groups = {group["name"]: group for group in response.context["groups"]}
    assert groups[dept_a.name]["counts"]["open"] == 1 and groups[dept_a.name]["counts"]["overdue"] == 1
    assert groups[dept_b.name]["counts"]["overdue"] == 0
    assert [i.pk for i in groups[dept_a.name]["issues"]] == [weekly["late"].pk]
    # untriaged past its limit: red (交办超时), listed first under "not yet assigned"
    first = response.context["groups"][0]
    assert first["counts"]["overdue"] == 1 and [i.pk for i in first["issues"]] == [weekly["untriaged"].pk]
    assert response.context["totals"]["open"] == 3  # the common issue is counted apart
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.django_db
def test_the_weekly_list_prints_what_it_shows_in_its_heading(weekly, leader, dept_a, as_user):
    html = as_user(leader).get(reverse("dashboard:weekly"), {"department": dept_a.pk}).content.decode()
    heading = re.search(r'id="weekly-heading">(.*?)</span>', html, re.S).group(1)
    assert dept_a.name in heading and TODAY.isoformat() in heading


@pytest.mark.django_db
def test_the_weekly_spreadsheet_is_formula_safe(weekly, leader, as_user):
    response = as_user(leader).get(reverse("dashboard:weekly"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    assert any(str(cell.value).startswith('=HYPERLINK("http://x")') for cell in cells)


@pytest.mark.django_db
def test_the_weekly_list_caps_each_department_and_links_to_the_rest(coordinator, dept_a, leader, as_user):
    enterprise = EnterpriseFactory()
    with travel(TODAY - timedelta(days=40)):
        for i in range(13):
            issue = raise_issue(coordinator, enterprise, f"超期{i}")
            workflow.assign(issue_id=issue.pk, by=coordinator, department=dept_a,
                            deadline=TODAY - timedelta(days=1 + i % 5))  # fmt: skip
    response = as_user(leader).get(reverse("dashboard:weekly"))
    group = next(g for g in response.context["groups"] if g["name"] == dept_a.name)
    assert len(group["issues"]) == 10 and group["more"] == 3
    assert client_count(as_user(leader), group["urls"]["supervised"]) == 13


def client_count(client, url) -> int:
    return client.get(url).context["page"].paginator.count


@pytest.mark.django_db
def test_leaders_land_on_the_dashboard_after_login(client):
    leader = UserFactory(username="boss", role="leader")
    staff = UserFactory(username="worker", role="department", department=DepartmentFactory())
    for user, landing in ((leader, reverse("dashboard:index")), (staff, "/")):
        response = client.post(
            reverse("login"), {"username": user.username, "password": "correct-horse-battery-9"}
        )
        assert response.status_code == 302 and response["Location"] == landing, user
        client.logout()


@pytest.mark.django_db
def test_open_has_one_definition_on_home_dashboard_and_weekly_list(weekly, leader, coordinator, as_user):
    home = as_user(coordinator).get("/").context["city_counts"]["open"]
    dashboard = as_user(leader).get(reverse("dashboard:index")).context["now_cards"][0]["value"]
    weekly_total = as_user(leader).get(reverse("dashboard:weekly")).context["totals"]["open"]
    assert home == dashboard == weekly_total == Issue.objects.enterprise_issues().open().count() == 3
    assert Issue.objects.filter(status=Status.NEW, scope="common").count() == 1


def test_the_now_total_is_the_departments_added_up(city):
    """The cards' now figures are the league's rows added up (unassigned issues included)."""
    by_department = Issue.objects.now_counts(TODAY, by="lead_department")
    assert None in by_department  # the city story leaves two issues new
    total = Issue.objects.now_counts(TODAY)
    assert total["open"] > 0 and total["overdue"] > 0
    assert figures.now_total(by_department, TODAY) == total


def test_the_breakdowns_now_figures_from_one_query_equal_one_query_each(city):
    """The category, district and sector tables' now figures come from one query grouped by
    all three, added up: the same numbers as a query per field."""
    fields = ("category", "enterprise__district", "enterprise__sector")
    one = Issue.objects.open().enterprise_issues().select_related("enterprise").first()
    Issue.objects.filter(pk=one.pk).update(category=Category.objects.exclude(pk=one.category_id).first())
    each = figures.now_counts_by_each(figures.Filters(), TODAY, fields)
    for field in fields:
        assert each[field] == Issue.objects.now_counts(TODAY, by=field), field
    assert len(each["category"]) == 2  # the groups are added up, not one of them taken


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["dashboard:index", "dashboard:weekly"])
def test_the_filter_form_is_drawn_once_per_query(page, leader, as_user):
    from django.core.cache import cache

    client = as_user(leader)
    assert ">市数据局</option>" not in client.get(reverse(page), {"period": "year"}).content.decode()
    DepartmentFactory(name="市数据局")
    assert ">市数据局</option>" not in client.get(reverse(page), {"period": "year"}).content.decode()
    assert ">市数据局</option>" in client.get(reverse(page), {"period": "month"}).content.decode()
    cache.clear()  # FILTER_FORM_CACHE_SECONDS later
    assert ">市数据局</option>" in client.get(reverse(page), {"period": "year"}).content.decode()


@pytest.mark.django_db
def test_now_figures_follow_each_workflow_step_at_once_and_other_changes_within_a_minute(
    coordinator, dept_a, leader, as_user, settings
):
    """The now figures are counted once per state of the issues (NOW_FIGURES_CACHE_SECONDS):
    a workflow step writes history and shows at once; an enterprise moved to another
    district writes none and shows when the cache time is over."""
    from django.core.cache import cache

    assert settings.NOW_FIGURES_CACHE_SECONDS == 60
    enterprise = EnterpriseFactory()
    first = raise_issue(coordinator, enterprise)
    client = as_user(leader)

    def shown(**params) -> tuple[int, int]:
        dashboard = client.get(reverse("dashboard:index"), params).context["now_cards"][0]["value"]
        return dashboard, client.get(reverse("dashboard:weekly"), params).context["totals"]["open"]

    here = {"district": enterprise.district_id}
    assert shown() == shown(**here) == (1, 1)
    raise_issue(coordinator, enterprise, "第二个问题")
    assert shown() == shown(**here) == (2, 2)
    workflow.close(issue_id=first.pk, by=coordinator, outcome=Outcome.DUPLICATE, reason="重复反映")
    assert shown() == shown(**here) == (1, 1)

    enterprise.district = DistrictFactory(name="河西区")
    enterprise.save()
    assert shown(**here) == (1, 1)  # counted a moment ago, no history since
    cache.clear()  # NOW_FIGURES_CACHE_SECONDS later
    assert shown(**here) == (0, 0)
    assert shown(district=enterprise.district_id) == (1, 1)
