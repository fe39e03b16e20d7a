"""The coordinators' admin in Chromium at 1366×768 (#17): the issue list and the extension
list need no sideways scrolling, and the owner picker offers only the members of the
department chosen. Screenshots go to test-artifacts/."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from issues import workflow
from tests.factories import DepartmentFactory, EnterpriseFactory, UserFactory, VisitFactory, category

DESKTOP = {"width": 1366, "height": 768}
# The widths the page and its result table take, and the box the table sits in.
WIDTHS = """() => {
  const table = document.querySelector('#result_list');
  const box = document.querySelector('#changelist .results');
  return {page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth,
          table: table.scrollWidth, box: box.clientWidth};
}"""


@pytest.fixture
def admin_world(coordinator, official, today):
    samr = DepartmentFactory(name="天津市市场监督管理委员会", short_name="市场监管委")
    commerce = DepartmentFactory(name="天津市商务局", short_name="商务局")
    sun = UserFactory(username="demo_samr", first_name="孙静", role="department", department=samr)
    ye = UserFactory(username="demo_commerce", first_name="叶敏", role="department", department=commerce)
    enterprise = EnterpriseFactory(name="天津宁河七里海米业农产品深加工有限责任公司")
    visit = VisitFactory(enterprise=enterprise, created_by=official)
    issues = []
    for n in range(12):
        issue = workflow.raise_issue(
            by=official,
            enterprise=enterprise,
            title=f"出口退税办理周期长、企业资金周转压力大，希望压缩审核时限第{n + 1}项",
            category=category(),
            source="visit",
            visit=visit,
        )
        if n % 2:
            owner, department = (sun, samr) if n % 4 == 1 else (ye, commerce)
            workflow.assign(
                issue_id=issue.pk,
                by=coordinator,
                department=department,
                owner=owner,
                deadline=today + timedelta(9),
            )
            workflow.request_extension(
                issue_id=issue.pk, by=owner, deadline=today + timedelta(30), reason="等待企业补充材料"
            )
        issues.append(issue)
    common = workflow.create_common_issue(by=coordinator, title="多家企业反映用电增容难", category=category())
    workflow.merge_into_common(
        issue_ids=[issues[0].pk, issues[2].pk], common_issue_id=common.pk, by=coordinator
    )
    workflow.resolve(issue_id=issues[1].pk, by=sun, resolution="已办结")  # withdraws its request
    return {"samr": samr, "commerce": commerce, "sun": sun, "ye": ye, "new": issues[4]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "name,path",
    [("issues", "/admin/issues/issue/"), ("extensions", "/admin/issues/extensionrequest/")],
)
def test_admin_lists_fit_1366_px(page, live_server, login, screenshot, admin_world, name, path):
    page.set_viewport_size(DESKTOP)
    login("coordinator")
    page.goto(f"{live_server.url}{path}")
    widths = page.evaluate(WIDTHS)
    screenshot(f"admin-{name}-1366")
    assert widths["page"] <= widths["viewport"], widths
    assert widths["table"] <= widths["box"], widths
    if name == "extensions":
        # The decision column is in view without scrolling, withdrawn read as such.
        decision = page.locator("#result_list td.field-decision").first
        box = decision.bounding_box()
        assert box["x"] + box["width"] <= DESKTOP["width"]
        expect(page.locator("#result_list")).to_contain_text("已撤回")
        expect(page.locator("#result_list")).to_contain_text("未审批：问题已先办结")
    else:
        expect(page.locator("#result_list")).to_contain_text("已并入共性问题")
        expect(page.locator("#result_list")).to_contain_text("孙静")
        expect(page.locator("#result_list")).not_to_contain_text("demo_samr")


@pytest.mark.django_db(transaction=True)
def test_the_owner_picker_follows_the_department(page, live_server, login, screenshot, admin_world, today):
    page.set_viewport_size(DESKTOP)
    login("coordinator")
    issue = admin_world["new"]
    page.goto(f"{live_server.url}/admin/issues/issue/{issue.pk}/change/")
    page.click("a.assign-link")
    owner = page.locator("select[name=owner]")
    page.select_option("select[name=department]", str(admin_world["samr"].pk))
    offered = owner.locator("option:not([disabled])").all_inner_texts()
    assert [o for o in offered if o.strip("-")] == ["孙静（市场监管委）"], offered
    screenshot("admin-assign-1366")
    page.select_option("select[name=owner]", str(admin_world["sun"].pk))
    page.select_option("select[name=department]", str(admin_world["commerce"].pk))
    assert owner.input_value() == ""  # the pick from the other department is dropped
    page.select_option("select[name=owner]", str(admin_world["ye"].pk))
    page.fill("input[name=deadline]", (today + timedelta(days=15)).isoformat())
    page.click("input[type=submit].default")
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/admin/issues/issue/{issue.pk}/change/")
    issue.refresh_from_db()
    assert (issue.lead_department, issue.owner) == (admin_world["commerce"], admin_world["ye"])
    assert timezone.localdate() <= issue.deadline
