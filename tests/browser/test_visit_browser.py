"""An official on a phone logs a visit with two issues, one solved on the spot."""

import re

import pytest

from issues.models import Issue, Status
from tests.factories import DepartmentFactory, EnterpriseFactory, OfficialFactory, UserFactory, category
from visits.models import Visit


@pytest.mark.django_db(transaction=True)
def test_official_logs_a_visit_with_two_issues_on_a_phone(page, live_server, login, screenshot, no_dialogs):
    UserFactory(username="official1", role="official")
    enterprise = EnterpriseFactory(name="长城汽车股份有限公司天津哈弗分公司")
    EnterpriseFactory(name="今日头条（天津）科技有限公司")
    OfficialFactory(name="王副市长", title="副市长")
    DepartmentFactory(name="市发展改革委")
    approvals, tax = category("approvals"), category("tax")

    login("official1")
    page.goto(f"{live_server.url}/visits/new/")
    assert page.locator("h1").inner_text() == "Log a visit" or page.locator("h1").inner_text() == "记录走访"

    # The enterprise box searches as you type (static/app/visit_form.js → enterprises:lookup).
    with page.expect_response(re.compile(r"/enterprises/lookup/\?q=")):
        page.locator("#id_enterprise").press_sequentially("长城", delay=30)
    assert page.locator("#enterprise-options option").count() == 1
    page.fill("#id_enterprise", f"{enterprise.name} {enterprise.credit_code}")

    page.get_by_label("王副市长（副市长）").check()
    page.get_by_label("市发展改革委").check()
    page.locator("input[name=topics][value=production]").check()
    page.locator("input[name=topics][value=projects]").check()
    page.fill("#id_policies_explained", "制造业增值税留抵退税政策")
    page.fill("#id_summary", "企业生产经营平稳，新车型订单增长，扩建项目推进中。")

    # Resolution boxes are hidden until "solved on the spot" is ticked.
    assert page.locator("#id_issues-1-resolution").is_hidden()
    page.fill("#id_issues-0-title", "扩建项目能评审批")
    page.select_option("#id_issues-0-category", str(approvals.pk))
    page.fill("#id_issues-0-description", "二期扩建项目需加快节能审查")
    page.fill("#id_issues-1-title", "电子税务局业务办理不便")
    page.select_option("#id_issues-1-category", str(tax.pk))
    page.check("#id_issues-1-solved_on_site")
    assert page.locator("#id_issues-1-resolution").is_visible()
    page.fill("#id_issues-1-resolution", "市税务局现场开通绿色通道，当场办结")

    # "Add another issue" clones the formset's empty form.
    page.click("#add-issue")
    assert page.locator("[data-issue-form]:visible").count() == 4
    assert page.locator("#id_issues-TOTAL_FORMS").input_value() == "4"
    screenshot("visit-form-filled")

    page.locator("button[type=submit]", has_text=re.compile("Save visit|保存")).click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    visit = Visit.objects.get()
    assert page.url.endswith(f"/visits/{visit.pk}/")
    body = page.locator("main").inner_text()
    for text in (
        "长城汽车股份有限公司天津哈弗分公司",
        "王副市长",
        "扩建项目能评审批",
        "电子税务局业务办理不便",
        "制造业增值税留抵退税政策",
    ):
        assert text in body, text
    assert page.locator("#issues .badge.status-closed").count() == 1
    assert page.locator("#issues .badge.status-new").count() == 1
    assert sorted(Issue.objects.values_list("status", "solved_on_site")) == [
        (Status.CLOSED, True),
        (Status.NEW, False),
    ]
    assert "市税务局现场开通绿色通道，当场办结" in body  # how it was solved, on the visit page
    screenshot("visit-page")

    # The enterprise page shows the visit in its timeline and both issues.
    page.click(f"h1 a[href='/enterprises/{enterprise.pk}/']")
    assert page.locator("#visits .timeline li").count() == 1
    # The open issue under "issues", the one solved on the spot under "closed issues".
    assert page.locator("#issues .list-group-item").count() == 1
    assert page.locator("#closed-issues .list-group-item").count() == 1
    screenshot("enterprise-page")
    page.goto(f"{live_server.url}/enterprises/?visited=yes")
    assert page.locator("#enterprise-list > li").count() == 1
    screenshot("enterprise-list-visited")
