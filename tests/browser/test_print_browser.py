"""Issue 17, leaders (13, 15): printouts say what they show, charts print at the page's width
above their tables, the weekly list does not spend a page per department, and on a phone the
monthly trend has months as rows. Screenshots (screen, and print emulation) go to
test-artifacts/print-*.png; the PDFs Chromium makes of both pages are counted."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from issues import workflow
from issues.models import Issue, Source
from tests.factories import DepartmentFactory, DistrictFactory, EnterpriseFactory, UserFactory, category

DESKTOP = {"width": 1366, "height": 768}
DEPARTMENTS = ["市发展改革委", "市税务局", "市商务局", "市工业和信息化局", "市人力资源和社会保障局"]


def _ten_open_issues_in_five_departments():
    coordinator = UserFactory(username="coord1", role="coordinator")
    UserFactory(username="leader1", role="leader")
    today = timezone.localdate()
    binhai = DistrictFactory(name="滨海新区")
    departments = [DepartmentFactory(name=name) for name in DEPARTMENTS]
    for i in range(10):
        issue = workflow.raise_issue(
            by=coordinator,
            enterprise=EnterpriseFactory(district=binhai),
            title=f"企业诉求{i}：用电增容审批",
            category=category(["approvals", "tax", "financing"][i % 3]),
            source=Source.OTHER,
        )
        workflow.assign(
            issue_id=issue.pk,
            by=coordinator,
            department=departments[i % 5],
            deadline=today + timedelta(days=20),
        )
        # Overdue, so each department has rows on the supervision list.
        Issue.objects.filter(pk=issue.pk).update(deadline=today - timedelta(days=3 + i))
    return binhai, departments


def pdf_pages(page) -> int:
    pdf = page.pdf(format="A4")
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def no_page_overflow(page) -> list[str]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('main *')).filter(
             el => el.getBoundingClientRect().right > window.innerWidth + 1
               && !el.closest('.table-responsive'))
           .map(el => el.tagName + ':' + el.textContent.slice(0, 30))"""
    )


@pytest.mark.django_db(transaction=True)
def test_dashboard_prints_its_period_and_filters_and_charts_at_page_width(
    page, live_server, login, screenshot
):
    binhai, departments = _ten_open_issues_in_five_departments()
    login("leader1")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/dashboard/?district={binhai.pk}&department={departments[0].pk}")
    page.locator("#chart-trend").wait_for()
    page.wait_for_timeout(300)
    screenshot("print-dashboard-desktop")

    page.emulate_media(media="print")
    page.wait_for_timeout(300)  # Chart.js re-measures its boxes
    heading = page.locator("#period-text")
    expect_text = heading.inner_text()
    start = timezone.localdate().replace(day=1)
    assert start.isoformat() in expect_text
    assert "所在区：滨海新区" in expect_text and "主办单位：市发展改革委" in expect_text
    assert page.locator("#dashboard-filters").is_hidden() and page.locator("nav").first.is_hidden()
    assert page.locator("#figure-definitions").is_hidden()  # a folded widget says nothing on paper
    width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    boxes = page.evaluate(
        """() => ['chart-colours', 'chart-trend'].map(id => {
             const canvas = document.getElementById(id).getBoundingClientRect();
             const section = document.getElementById(id).closest('section, .col-12');
             const table = section.querySelector('table').getBoundingClientRect();
             return {id, width: canvas.width, bottom: canvas.bottom, tableTop: table.top};
           })"""
    )
    for box in boxes:
        assert box["width"] >= 0.95 * width, box  # the page's width, not a column of it
        assert box["bottom"] <= box["tableTop"], box  # above its table, not over it
    screenshot("print-dashboard-print")
    assert pdf_pages(page) <= 5


@pytest.mark.django_db(transaction=True)
def test_weekly_list_prints_on_few_pages_with_its_heading(page, live_server, login, screenshot):
    binhai, _departments = _ten_open_issues_in_five_departments()
    login("leader1")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/dashboard/weekly/?district={binhai.pk}")
    screenshot("print-weekly-desktop")
    page.emulate_media(media="print")
    heading = page.locator("#weekly-heading").inner_text()
    assert "截至" in heading and "所在区：滨海新区" in heading and "未办结问题 10 个" in heading
    assert page.locator(".weekly-group").count() == 5
    screenshot("print-weekly-print")
    # Ten issues in five departments: one or two A4 pages, not one per department.
    assert pdf_pages(page) <= 2


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_months_are_rows_and_nothing_runs_off_the_page(page, live_server, login, screenshot):
    _ten_open_issues_in_five_departments()
    login("leader1")
    page.goto(f"{live_server.url}/dashboard/")
    page.locator("#chart-trend").wait_for()
    months = page.locator("#trend-table tbody tr")
    assert months.count() >= 6  # one row a month (the default period's year so far, or more)
    assert page.locator("#trend-table thead th").count() == 3  # month, raised, resolved
    assert re.fullmatch(r"\d{4}-\d{2}", months.first.locator("th").inner_text().strip())
    assert no_page_overflow(page) == []
    # Names in the supervision list and the league table keep their words on one line (the
    # table scrolls in its box instead).
    name = page.locator("#league-table tbody tr[data-department] th").first
    assert name.evaluate("el => el.getBoundingClientRect().height") < 40
    screenshot("print-dashboard-phone")

    page.goto(f"{live_server.url}/dashboard/weekly/")
    assert no_page_overflow(page) == []
    enterprise = page.locator("#weekly-rows tbody tr:not(.table-secondary) td:nth-child(2)").first
    assert enterprise.evaluate("el => el.getBoundingClientRect().width") >= 140
    screenshot("print-weekly-phone")
