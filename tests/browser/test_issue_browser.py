"""An issue's working life on a phone: department staff posts progress and reports it
resolved; a coordinator records the enterprise's feedback and closes it. Real Chromium,
390 px wide, Chinese by default. Screenshots go to test-artifacts/ for people to look at.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from issues import workflow
from issues.models import EventKind, Issue, IssueEvent, Status
from tests.factories import EnterpriseFactory, VisitFactory, category
from tests.helpers import raise_issue


@pytest.fixture
def assigned_issue(dept_a, staff_a, coordinator, official):
    enterprise = EnterpriseFactory(name="天津示例汽车零部件有限公司")
    visit = VisitFactory(enterprise=enterprise, created_by=official)
    issue = workflow.raise_issue(
        by=official,
        enterprise=enterprise,
        title="扩建项目能评审批进度慢",
        description="企业反映扩建项目节能审查已提交两个月，希望加快办理。",
        category=category(),
        source="visit",
        visit=visit,
    )
    for n in range(3):  # a few more rows, so the list screenshot shows a real list
        other = workflow.raise_issue(
            by=official,
            enterprise=enterprise,
            title=f"用工招聘需求第{n + 1}项",
            category=category(),
            source="visit",
            visit=visit,
        )
        workflow.assign(
            issue_id=other.pk,
            by=coordinator,
            department=dept_a,
            deadline=timezone.localdate() + timedelta(days=2 + 20 * n),
        )
    return workflow.assign(
        issue_id=issue.pk,
        by=coordinator,
        department=dept_a,
        owner=staff_a,
        deadline=timezone.localdate() + timedelta(days=20),
    )


def open_panel(page, action):
    panel = page.locator(f"#action-{action}")
    panel.locator("summary").click()
    return panel


@pytest.mark.django_db(transaction=True)
def test_staff_resolves_and_coordinator_closes_on_a_phone(
    page, live_server, login, screenshot, no_dialogs, assigned_issue, staff_a, official
):
    issue_url = f"{live_server.url}/issues/{assigned_issue.pk}/"

    # Department staff: from My work to the issue, progress, then resolved.
    login("staff_a")
    assert page.locator("#my-issues").get_by_text("扩建项目能评审批进度慢").is_visible()
    screenshot("issue-my-work-staff")
    page.locator("#my-issues").get_by_text("扩建项目能评审批进度慢").click()
    page.wait_for_url(issue_url)
    assert page.locator("#action-assign").count() == 0  # not a department's step
    panel = open_panel(page, "progress")
    panel.locator("textarea[name=note]").fill("已与企业对接，材料已补齐，进入专家评审。")
    screenshot("issue-page-staff-actions")
    panel.locator("button[type=submit]").click()
    page.wait_for_url(issue_url)
    assert page.locator(".alert-success").count() == 1
    assert page.locator("#timeline").get_by_text("已与企业对接，材料已补齐，进入专家评审。").is_visible()

    panel = open_panel(page, "resolve")
    panel.locator("textarea[name=resolution]").fill("节能审查意见已于本周出具，企业已领取。")
    panel.locator("button[type=submit]").click()
    page.wait_for_url(issue_url)
    assert page.locator(".badge.status-resolved").first.is_visible()
    screenshot("issue-page-staff-resolved")

    page.goto(f"{live_server.url}/issues/")
    assert page.get_by_text("扩建项目能评审批进度慢").first.is_visible()
    # One markup: on a phone the table's rows are cards, without the column headings, and
    # a tap anywhere on the card (here: on the enterprise's name) opens the issue.
    assert not page.locator("table.issue-table thead").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("issue-list-phone")
    row = page.locator("table.issue-table tbody tr", has_text="扩建项目能评审批进度慢")
    # force: the card's link lies over the cell, as it should; the click lands on the link.
    row.locator("td.cell-meta").first.click(force=True)
    page.wait_for_url(issue_url)
    page.go_back()

    # Coordinator: records the feedback and closes it.
    page.context.clear_cookies()
    login("coordinator")
    assert page.locator("#new-issues").is_visible()  # the triage queue on My work
    screenshot("issue-my-work-coordinator")
    # On the phone list, a card shows no dashes for what an issue has not got yet
    # (department, owner, deadline).
    untriaged = raise_issue(official, title="待分派的新问题")
    page.goto(f"{live_server.url}/issues/")
    card = page.locator("table.issue-table tbody tr", has_text=untriaged.title)
    assert card.is_visible() and "—" not in card.inner_text()
    page.goto(issue_url)
    panel = open_panel(page, "feedback")
    screenshot("issue-page-coordinator-feedback")
    panel.locator("input[name=contacted_on]").fill(timezone.localdate().isoformat())
    panel.locator("input[name=reply_satisfaction][value=satisfied]").check()
    panel.locator("input[name=solution_satisfaction][value=basically]").check()
    panel.locator("textarea[name=comment]").fill("电话回访，企业表示认可。")
    panel.locator("input[name=close]").check()
    panel.locator("button[type=submit]").click()
    page.wait_for_url(issue_url)
    assert page.locator(".badge.status-closed").first.is_visible()

    # The timeline shows every step, in order.
    events = page.locator("#timeline .timeline-event")
    assert events.count() == 6
    timeline = page.locator("#timeline").inner_text()
    for text in (
        "已与企业对接，材料已补齐，进入专家评审。",
        "节能审查意见已于本周出具，企业已领取。",
        "电话回访，企业表示认可。",
    ):
        assert text in timeline
    assert page.locator("#actions-heading").count() == 1  # the coordinator may still reopen
    # No horizontal scrolling on a 390 px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("issue-page-closed-coordinator")

    # The same list on a desktop: a table instead of cards.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/issues/")
    assert page.locator("table.issue-table").is_visible()
    screenshot("issue-list-desktop")

    stored = Issue.objects.get(pk=assigned_issue.pk)
    assert stored.status == Status.CLOSED
    assert list(IssueEvent.objects.filter(issue=stored).values_list("kind", flat=True)) == [
        EventKind.RAISED,
        EventKind.ASSIGNED,
        EventKind.STARTED,
        EventKind.RESOLVED,
        EventKind.FEEDBACK,
        EventKind.CONFIRMED,
    ]
