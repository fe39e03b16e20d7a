"""The leader opens the dashboard in a real Chromium: the charts draw, on a phone and a desktop."""

from datetime import timedelta

import pytest
from django.utils import timezone

from issues import workflow
from issues.models import Issue, Source
from tests.factories import DepartmentFactory, EnterpriseFactory, UserFactory, category

# Counts the painted (non-transparent) pixels of each chart canvas.
CANVAS_STATE = """() => Array.from(document.querySelectorAll('canvas')).map(c => {
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) painted++; }
  return {id: c.id, width: c.width, height: c.height, painted: painted};
})"""


def _data():
    coordinator = UserFactory(username="coord1", role="coordinator")
    UserFactory(username="leader1", role="leader")
    ndrc = DepartmentFactory(name="市发展改革委")
    tax = DepartmentFactory(name="市税务局")
    today = timezone.localdate()
    for i in range(8):
        enterprise = EnterpriseFactory()
        issue = workflow.raise_issue(
            by=coordinator,
            enterprise=enterprise,
            title=f"企业诉求{i}",
            category=category(["approvals", "tax", "financing"][i % 3]),
            source=Source.OTHER,
        )
        if i % 4 == 0:
            continue
        workflow.assign(
            issue_id=issue.pk,
            by=coordinator,
            department=[ndrc, tax][i % 2],
            deadline=today + timedelta(days=20),
        )
        if i % 4 == 1:
            Issue.objects.filter(pk=issue.pk).update(deadline=today - timedelta(days=i))
        if i % 4 == 3:
            workflow.resolve(issue_id=issue.pk, by=coordinator, resolution="已解决")


@pytest.mark.django_db(transaction=True)
def test_leader_sees_the_charts_drawn(page, live_server, login, screenshot):
    _data()
    login("leader1")
    page.goto(f"{live_server.url}/dashboard/")
    page.locator("#chart-colours").wait_for()
    page.wait_for_timeout(300)
    canvases = page.evaluate(CANVAS_STATE)
    assert {c["id"] for c in canvases} == {"chart-trend", "chart-colours"}
    for canvas in canvases:
        assert canvas["width"] > 100 and canvas["height"] > 100, canvas
        assert canvas["painted"] > 500, canvas  # axes, bars and labels, not a blank canvas
    screenshot("dashboard-phone")
    # The page fits the phone: nothing wider than the viewport but the scrollable tables.
    overflow = page.evaluate(
        """() => Array.from(document.querySelectorAll('main *')).filter(
             el => el.getBoundingClientRect().right > window.innerWidth + 1
               && !el.closest('.table-responsive'))
           .map(el => el.tagName + '.' + el.className + ':' + el.textContent.slice(0, 30))"""
    )
    assert overflow == []
    assert page.locator("#figure-cards .figure-card").count() == 13

    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_timeout(400)  # Chart.js re-measures on resize
    canvases = page.evaluate(CANVAS_STATE)
    assert all(c["painted"] > 500 for c in canvases), canvases
    screenshot("dashboard-desktop")

    page.goto(f"{live_server.url}/dashboard/weekly/")
    # The summary per department, then the supervision list (red and yellow) of at least one.
    assert page.locator(".weekly-group").count() >= 1
    screenshot("weekly-desktop")
    page.emulate_media(media="print")
    assert page.locator("nav").first.is_hidden()
